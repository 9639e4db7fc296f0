import type { MediaStreamTrack, RTCRtpSender } from "werift";
import type { SentKind } from "../../congestion/sent-packets.js";
import { RTP_HEADER_SIZE } from "../../rtp/packetizer.js";
import type { NegotiatedExtensions } from "../werift/header-extensions.js";
import {
  sendMedia,
  sendOwn,
  type HeaderExtension,
  type SentPacketInfo,
} from "../werift/rtp-send.js";
import type { RtxStream } from "../werift/rtx.js";
import { absCaptureTime, absSendTime, playoutDelay } from "./rtp-extensions.js";

/**
 * Puts one viewer's packets on the wire at the moment its pacer releases
 * them, with the header extensions camgw writes: abs-send-time on every
 * packet, playout-delay on every media packet (when configured),
 * abs-capture-time on a frame's first packet. Repairs leave as RTX (RFC 4588
 * section 4: the repair stream's SSRC, payload type and sequence numbers,
 * the original sequence number (OSN) ahead of the original payload) or, for
 * a viewer without RTX, as the original packet again; probe padding leaves
 * as padding-only packets on the RTX stream.
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                         RTP Header                            |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |            OSN                |                               |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
 *    |                  Original RTP Packet Payload                  |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Every packet that got a transport-wide sequence number is reported to
 * `onSent`, for the bandwidth estimator's send history.
 */

export interface TransmitterSetup {
  readonly track: MediaStreamTrack;
  readonly sender: RTCRtpSender;
  readonly extensions: NegotiatedExtensions;
  readonly rtx: RtxStream | undefined;
  /** playout-delay to ask for (ms); undefined: do not send the extension. */
  readonly playoutDelay: { readonly minMs: number; readonly maxMs: number } | undefined;
}

export interface MediaPacket {
  readonly packet: Buffer;
  /** The sequence number the viewer gets it as (the packet's own unless the viewer switched encodings). */
  readonly sequence: number;
  readonly firstOfFrame: boolean;
  readonly captureTimeUs: number;
}

export interface SentReport {
  readonly kind: SentKind;
  readonly transportSequence: number;
  readonly size: number;
  readonly probeClusterId: number | undefined;
}

/** Most padding one packet carries (RFC 3550 section 5.1: an 8-bit count). */
const MAX_PADDING = 255;

const nowUnixUs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

export class PacketTransmitter {
  private rtxSequence = Math.floor(Math.random() * 0x1_0000);
  private lastTimestamp = 0;
  private playoutDelayValue: Buffer | undefined;

  constructor(
    private readonly setup: TransmitterSetup,
    private readonly onSent: (report: SentReport) => void,
  ) {
    this.setPlayoutDelay(setup.playoutDelay);
  }

  /** The playout-delay the next packets ask for; undefined: none. */
  setPlayoutDelay(delay: { readonly minMs: number; readonly maxMs: number } | undefined): void {
    this.playoutDelayValue = delay ? playoutDelay(delay.minMs, delay.maxMs) : undefined;
  }

  get canPad(): boolean {
    return this.setup.rtx !== undefined;
  }

  get usesRtx(): boolean {
    return this.setup.rtx !== undefined;
  }

  /** Sends a media packet; returns the bytes that went (0: werift could not send). */
  media(media: MediaPacket, probeClusterId: number | undefined): number {
    const ids = this.setup.extensions;
    const extensions: HeaderExtension[] = [];
    if (ids.absSendTime !== undefined)
      extensions.push({ id: ids.absSendTime, payload: absSendTime(nowUnixUs()) });
    if (ids.playoutDelay !== undefined && this.playoutDelayValue) {
      extensions.push({ id: ids.playoutDelay, payload: this.playoutDelayValue });
    }
    if (media.firstOfFrame && ids.absCaptureTime !== undefined) {
      extensions.push({ id: ids.absCaptureTime, payload: absCaptureTime(media.captureTimeUs) });
    }
    const sent = sendMedia(
      this.setup.track,
      this.setup.sender,
      media.packet,
      extensions,
      media.sequence,
    );
    this.lastTimestamp = media.packet.readUInt32BE(4);
    return this.report("media", sent, probeClusterId);
  }

  /**
   * Resends a stream packet (as RTX when negotiated), known to the viewer
   * as `sequence`; returns the bytes that went.
   */
  repair(original: Buffer, sequence: number, probeClusterId: number | undefined): number {
    const timestamp = original.readUInt32BE(4);
    const marker = (original[1] ?? 0) >= 0x80;
    const payload = original.subarray(RTP_HEADER_SIZE);
    const rtx = this.setup.rtx;
    const { sender } = this.setup;
    let sent: SentPacketInfo | undefined;
    if (rtx) {
      const osn = Buffer.alloc(2);
      osn.writeUInt16BE(sequence, 0);
      sent = sendOwn(sender, {
        ssrc: rtx.ssrc,
        payloadType: rtx.payloadType,
        sequenceNumber: this.nextRtxSequence(),
        timestamp,
        marker,
        payload: Buffer.concat([osn, payload]),
        extensions: this.ownExtensions(),
        transportCcId: this.setup.extensions.transportCc,
      });
    } else {
      const payloadType = sender.codec?.payloadType;
      if (payloadType === undefined) return 0;
      sent = sendOwn(sender, {
        ssrc: sender.ssrc,
        payloadType,
        sequenceNumber: sequence,
        timestamp,
        marker,
        payload,
        extensions: this.ownExtensions(),
        transportCcId: this.setup.extensions.transportCc,
      });
    }
    return this.report("retransmission", sent, probeClusterId);
  }

  /** Sends a padding-only packet of about `bytes` on the RTX stream (probes); 0 without RTX. */
  padding(bytes: number, probeClusterId: number): number {
    const rtx = this.setup.rtx;
    if (!rtx) return 0;
    const sent = sendOwn(this.setup.sender, {
      ssrc: rtx.ssrc,
      payloadType: rtx.payloadType,
      sequenceNumber: this.nextRtxSequence(),
      timestamp: this.lastTimestamp,
      marker: false,
      payload: Buffer.alloc(0),
      padding: Math.min(MAX_PADDING, Math.max(1, Math.round(bytes))),
      extensions: this.ownExtensions(),
      transportCcId: this.setup.extensions.transportCc,
    });
    return this.report("padding", sent, probeClusterId);
  }

  private ownExtensions(): HeaderExtension[] {
    const ids = this.setup.extensions;
    const out: HeaderExtension[] = [];
    if (ids.mid !== undefined && ids.midValue)
      out.push({ id: ids.mid, payload: Buffer.from(ids.midValue) });
    if (ids.absSendTime !== undefined)
      out.push({ id: ids.absSendTime, payload: absSendTime(nowUnixUs()) });
    return out;
  }

  private nextRtxSequence(): number {
    const seq = this.rtxSequence;
    this.rtxSequence = (this.rtxSequence + 1) & 0xffff;
    return seq;
  }

  private report(
    kind: SentKind,
    sent: SentPacketInfo | undefined,
    probeClusterId: number | undefined,
  ): number {
    if (!sent) return 0;
    if (sent.transportSequence !== undefined) {
      this.onSent({
        kind,
        transportSequence: sent.transportSequence,
        size: sent.size,
        probeClusterId,
      });
    }
    return sent.size;
  }
}
