/**
 * Runs in Chromium, on a test page served from another origin than the
 * gateway (so CORS is exercised): two WHEP players the browser tests drive
 * through `window.whepTest`.
 *
 * - `own`: the WHEP flow written out as the draft describes it (POST the
 *   offer as soon as it exists, one PATCH with the candidates gathered
 *   meanwhile and If-Match, ICE restart by PATCH, DELETE), with timings.
 * - `thirdParty`: whip-whep 1.2.0's WHEPClient (npm, by Medooze: the WHEP
 *   editors' own player), used as its README shows.
 *
 * - `janus`: a viewer of a Janus VideoRoom (janus-viewer.ts), for the
 *   WHIP egress test.
 *
 * Each player shows its video in a <video> and counts presented frames
 * (requestVideoFrameCallback), as the web viewer does.
 */
import { WHEPClient } from "whip-whep/whep.js";
import { viewJanusRoom, type JanusViewer } from "./janus-viewer.js";

interface Player {
  pc: RTCPeerConnection;
  video: HTMLVideoElement;
  frames: number;
  /** performance.now() when the POST went out, and when the first frame was presented. */
  postedAt: number;
  firstFrameAt: number | undefined;
  location: string | undefined;
  etag: string | undefined;
  client: WHEPClient | undefined;
}

export interface PlayerState {
  frames: number;
  width: number;
  /** POST sent -> first frame presented, ms. */
  timeToFirstFrameMs: number | undefined;
  connectionState: string;
  location: string | undefined;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const players = new Map<string, Player>();
let nextId = 0;

function newPlayer(): [string, Player] {
  const pc = new RTCPeerConnection();
  pc.addTransceiver("video", { direction: "recvonly" });
  const video = document.createElement("video");
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  document.body.append(video);
  const player: Player = {
    pc,
    video,
    frames: 0,
    postedAt: 0,
    firstFrameAt: undefined,
    location: undefined,
    etag: undefined,
    client: undefined,
  };
  pc.ontrack = (event) => {
    video.srcObject = event.streams[0] ?? new MediaStream([event.track]);
    const onFrame = (): void => {
      player.frames += 1;
      player.firstFrameAt ??= performance.now();
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };
  const id = `p${nextId++}`;
  players.set(id, player);
  return [id, player];
}

function get(id: string): Player {
  const player = players.get(id);
  if (!player) throw new Error(`no player ${id}`);
  return player;
}

function fragment(
  ufrag: string,
  pwd: string,
  mid: string,
  candidates: string[],
  end: boolean,
): string {
  return [
    `a=ice-ufrag:${ufrag}`,
    `a=ice-pwd:${pwd}`,
    "m=video 9 UDP/TLS/RTP/SAVPF 0",
    `a=mid:${mid}`,
    ...candidates.map((c) => `a=${c}`),
    ...(end ? ["a=end-of-candidates"] : []),
    "",
  ].join("\r\n");
}

function credentials(sdp: string): { ufrag: string; pwd: string } {
  return {
    ufrag: /a=ice-ufrag:(\S+)/.exec(sdp)?.[1] ?? "",
    pwd: /a=ice-pwd:(\S+)/.exec(sdp)?.[1] ?? "",
  };
}

/** Gathered candidates of the first m= section, until gathering completes. */
function gathered(pc: RTCPeerConnection): Promise<string[]> {
  const candidates: string[] = [];
  return new Promise((resolve) => {
    const done = (): void => resolve(candidates);
    pc.addEventListener("icecandidate", (event) => {
      if (!event.candidate) done();
      else if (event.candidate.candidate && (event.candidate.sdpMLineIndex ?? 0) === 0) {
        candidates.push(event.candidate.candidate);
      }
    });
    if (pc.iceGatheringState === "complete") done();
  });
}

async function own(url: string, token: string): Promise<string> {
  const [id, player] = newPlayer();
  const { pc } = player;
  const candidates = gathered(pc);
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  player.postedAt = performance.now();
  // Trickle ICE (draft-ietf-wish-whep 4.3.2): POST at once, the candidates follow by PATCH.
  const res = await fetch(url, {
    method: "POST",
    body: offer.sdp,
    headers: { "Content-Type": "application/sdp", Authorization: `Bearer ${token}` },
  });
  if (res.status !== 201) throw new Error(`POST answered ${res.status}: ${await res.text()}`);
  player.location = new URL(res.headers.get("location") ?? "", url).href;
  player.etag = res.headers.get("etag") ?? undefined;
  await pc.setRemoteDescription({ type: "answer", sdp: await res.text() });
  const { ufrag, pwd } = credentials(offer.sdp ?? "");
  const mid = pc.getTransceivers()[0]?.mid ?? "0";
  const patch = await fetch(player.location, {
    method: "PATCH",
    body: fragment(ufrag, pwd, mid, await candidates, true),
    headers: {
      "Content-Type": "application/trickle-ice-sdpfrag",
      Authorization: `Bearer ${token}`,
      ...(player.etag ? { "If-Match": player.etag } : {}),
    },
  });
  if (patch.status !== 204) throw new Error(`PATCH answered ${patch.status}`);
  return id;
}

/** ICE restart by PATCH (draft-ietf-wish-whep 4.3.3) on `own`'s player; resolves with the new ETag. */
async function restartOwn(id: string, token: string): Promise<string> {
  const player = get(id);
  const { pc } = player;
  if (!player.location) throw new Error("not playing");
  pc.restartIce();
  const candidates = gathered(pc);
  const offer = await pc.createOffer({ iceRestart: true });
  await pc.setLocalDescription(offer);
  const { ufrag, pwd } = credentials(offer.sdp ?? "");
  const mid = pc.getTransceivers()[0]?.mid ?? "0";
  const res = await fetch(player.location, {
    method: "PATCH",
    body: fragment(ufrag, pwd, mid, await candidates, true),
    headers: {
      "Content-Type": "application/trickle-ice-sdpfrag",
      Authorization: `Bearer ${token}`,
      "If-Match": "*",
    },
  });
  if (res.status !== 200) throw new Error(`restart PATCH answered ${res.status}`);
  const frag = await res.text();
  const theirs = credentials(frag);
  const lines = frag.split(/\r?\n/).filter((l) => l.startsWith("a=candidate:"));
  const previous = pc.remoteDescription?.sdp ?? "";
  const answer = previous
    .replace(/a=ice-ufrag:\S+/g, `a=ice-ufrag:${theirs.ufrag}`)
    .replace(/a=ice-pwd:\S+/g, `a=ice-pwd:${theirs.pwd}`)
    .split("\r\n")
    .filter((l) => !l.startsWith("a=candidate:") && l !== "a=end-of-candidates")
    .flatMap((l) => (l.startsWith("a=mid:") ? [l, ...lines, "a=end-of-candidates"] : [l]))
    .join("\r\n");
  await pc.setRemoteDescription({ type: "answer", sdp: answer });
  player.etag = res.headers.get("etag") ?? undefined;
  return player.etag ?? "";
}

async function thirdParty(url: string, token: string): Promise<string> {
  const [id, player] = newPlayer();
  const client = new WHEPClient();
  player.client = client;
  player.postedAt = performance.now();
  await client.view(player.pc, url, token);
  return id;
}

async function restartThirdParty(id: string): Promise<void> {
  const client = get(id).client;
  if (!client) throw new Error("not a whip-whep player");
  await (client.restart() as unknown as Promise<void>);
}

function state(id: string): PlayerState {
  const p = get(id);
  return {
    frames: p.frames,
    width: p.video.videoWidth,
    timeToFirstFrameMs: p.firstFrameAt === undefined ? undefined : p.firstFrameAt - p.postedAt,
    connectionState: p.pc.connectionState,
    location: p.location,
  };
}

/**
 * DELETE (the player's own, or whip-whep's stop()); for ours, resolves with
 * the DELETE's status and round trip (the gateway frees the session before
 * it answers).
 */
async function stop(
  id: string,
  token: string,
): Promise<{ status: number; ms: number } | undefined> {
  const p = get(id);
  players.delete(id);
  p.video.remove();
  if (p.client) {
    await p.client.stop();
    return undefined;
  }
  p.pc.close();
  if (!p.location) return undefined;
  const started = performance.now();
  const res = await fetch(p.location, {
    method: "DELETE",
    headers: { Authorization: `Bearer ${token}` },
  });
  return { status: res.status, ms: performance.now() - started };
}

/** A plain request from this page (cross-origin to the gateway): status, readable headers, body. */
async function request(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: string },
): Promise<HttpResult> {
  const res = await fetch(url, init);
  const headers: Record<string, string> = {};
  res.headers.forEach((value, key) => {
    headers[key] = value;
  });
  return { status: res.status, headers, body: await res.text() };
}

/** An offer from this browser, optionally with only one codec (e.g. "video/VP8"). */
async function offerSdp(onlyCodec?: string): Promise<string> {
  const pc = new RTCPeerConnection();
  const transceiver = pc.addTransceiver("video", { direction: "recvonly" });
  if (onlyCodec) {
    const codecs = (RTCRtpReceiver.getCapabilities("video")?.codecs ?? []).filter(
      (c) => c.mimeType === onlyCodec,
    );
    transceiver.setCodecPreferences(codecs);
  }
  const offer = await pc.createOffer();
  pc.close();
  return offer.sdp ?? "";
}

const janusViewers = new Map<string, JanusViewer>();

async function janus(janusUrl: string, room: number): Promise<string> {
  const viewer = await viewJanusRoom(janusUrl, room);
  const id = `j${nextId++}`;
  janusViewers.set(id, viewer);
  return id;
}

function janusState(id: string): { frames: number; width: number; connectionState: string } {
  const v = janusViewers.get(id);
  if (!v) throw new Error(`no Janus viewer ${id}`);
  return { frames: v.frames, width: v.video.videoWidth, connectionState: v.pc.connectionState };
}

function janusClose(id: string): void {
  janusViewers.get(id)?.close();
  janusViewers.delete(id);
}

const api = {
  own,
  restartOwn,
  thirdParty,
  restartThirdParty,
  state,
  stop,
  request,
  offerSdp,
  janus,
  janusState,
  janusClose,
};
export type WhepTestApi = typeof api;

declare global {
  interface Window {
    whepTest: WhepTestApi;
  }
}

window.whepTest = api;
