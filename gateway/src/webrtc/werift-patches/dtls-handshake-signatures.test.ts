import wrtc from "@roamhq/wrtc";
import {
  CipherContext,
  HashAlgorithm,
  NamedCurveAlgorithm,
  SignatureAlgorithm,
  type RTCPeerConnection,
} from "werift";
import { afterEach, describe, expect, it } from "vitest";
import {
  firstDataChannelMessage,
  loopbackPeer,
  negotiate,
  noStun,
  sendWhenOpen,
  settled,
} from "./testing/peers.js";

/**
 * werift patch 1 (docs/werift-patches.md): werift 0.24.4 checked the peer
 * certificate's fingerprint against the SDP but not the handshake
 * signatures, so anyone who had seen a peer's certificate (DTLS 1.2 sends it
 * in the clear) could present it with a key of their own. The attacker here
 * is an unmodified werift whose certificate is someone else's (its
 * fingerprint is what the signaling declared) and whose private key is its
 * own: its ServerKeyExchange (RFC 8422 section 5.4) or CertificateVerify
 * (RFC 5246 section 7.4.8) signature cannot verify with that certificate.
 */

type KeyKind = "ECDSA P-256" | "RSA 2048";

const SIGNATURE = {
  "ECDSA P-256": SignatureAlgorithm.ecdsa_3,
  "RSA 2048": SignatureAlgorithm.rsa_1,
} as const;

function certificate(
  kind: KeyKind,
): ReturnType<typeof CipherContext.createSelfSignedCertificateWithKey> {
  return CipherContext.createSelfSignedCertificateWithKey(
    { signature: SIGNATURE[kind], hash: HashAlgorithm.sha256_4 },
    NamedCurveAlgorithm.secp256r1_23,
  );
}

const peers: RTCPeerConnection[] = [];
const libwebrtcPeers: { close(): void }[] = [];

afterEach(async () => {
  for (const pc of libwebrtcPeers.splice(0)) pc.close();
  for (const pc of peers.splice(0)) await pc.close();
});

/**
 * The peer under test (the "victim", werift with its own certificate) meets
 * a werift peer presenting `kind`'s certificate with either its own key or
 * another one. The victim takes the DTLS role `victimRole`.
 */
async function handshake(
  kind: KeyKind,
  victimRole: "client" | "server",
  presentedKey: "owned" | "not owned",
): Promise<{ victim: RTCPeerConnection; outcome: "connected" | "failed" }> {
  const [presented, other] = await Promise.all([certificate(kind), certificate(kind)]);
  const peer = loopbackPeer({
    dtls: {
      keys: {
        certPem: presented.certPem,
        keyPem: presentedKey === "owned" ? presented.keyPem : other.keyPem,
        signatureHash: presented.signatureHash,
      },
    },
  });
  const victim = loopbackPeer();
  peers.push(peer, victim);
  sendWhenOpen(peer.createDataChannel("probe"), "hello");
  const received = firstDataChannelMessage(victim);
  const outcome = settled(victim);
  // The peer offers actpass; the victim answers, so a=setup picks its role.
  await negotiate(peer, victim, { answererSetup: victimRole === "client" ? "active" : "passive" });
  const result = await outcome;
  if (result === "connected") expect(await received).toBe("hello");
  return { victim, outcome: result };
}

describe("werift's DTLS handshake", () => {
  for (const kind of ["ECDSA P-256", "RSA 2048"] as const) {
    it(`refuses a DTLS server that presents another's ${kind} certificate without its key`, async () => {
      const { victim, outcome } = await handshake(kind, "client", "not owned");
      expect(outcome).toBe("failed");
      // ICE was fine: the refusal is the DTLS handshake's.
      expect(["connected", "completed"]).toContain(victim.iceConnectionState);
      expect(victim.dtlsTransports.map((t) => t.state)).toEqual(["failed"]);
    });

    it(`refuses a DTLS client that presents another's ${kind} certificate without its key`, async () => {
      const { victim, outcome } = await handshake(kind, "server", "not owned");
      expect(outcome).toBe("failed");
      expect(["connected", "completed"]).toContain(victim.iceConnectionState);
      expect(victim.dtlsTransports.map((t) => t.state)).toEqual(["failed"]);
    });

    it(`still connects to a peer that owns its ${kind} certificate, in both DTLS roles`, async () => {
      expect((await handshake(kind, "client", "owned")).outcome).toBe("connected");
      expect((await handshake(kind, "server", "owned")).outcome).toBe("connected");
    });
  }

  // libwebrtc (what Chromium runs) signs with ECDSA P-256, like werift.
  for (const weriftRole of ["client", "server"] as const) {
    it(`still connects to libwebrtc with werift as the DTLS ${weriftRole}`, async () => {
      const lib = new wrtc.RTCPeerConnection();
      libwebrtcPeers.push(lib);
      const werift = loopbackPeer();
      peers.push(werift);
      const received = firstDataChannelMessage(werift);
      const channel = lib.createDataChannel("probe");
      channel.onopen = () => channel.send("hello from libwebrtc");
      lib.onicecandidate = ({ candidate }) => {
        // Loopback only: libwebrtc also gathers the host's own addresses.
        if (candidate && / 127\.0\.0\.1 /.test(candidate.candidate)) {
          werift.addIceCandidate(candidate.toJSON()).catch(() => undefined);
        }
      };
      const outcome = settled(werift);
      const offer = await lib.createOffer();
      await lib.setLocalDescription(offer);
      await werift.setRemoteDescription({ type: "offer", sdp: offer.sdp ?? "" });
      noStun(werift);
      const answer = await werift.createAnswer();
      const setup = weriftRole === "client" ? "active" : "passive";
      const sdp = answer.sdp.replace(/^a=setup:\w+/gm, `a=setup:${setup}`);
      await werift.setLocalDescription({ type: "answer", sdp });
      await lib.setRemoteDescription({ type: "answer", sdp });
      expect(await outcome).toBe("connected");
      expect(await received).toBe("hello from libwebrtc");
    });
  }
});
