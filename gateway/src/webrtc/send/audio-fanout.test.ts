import { afterEach, describe, expect, it } from "vitest";
import type { PacketizedFrame } from "../../rtp/packetizer.js";
import { OpusClockSource } from "../testing/opus-clock-source.js";
import { waitFor } from "../testing/harness.js";
import { AudioFanout } from "./audio-fanout.js";

/**
 * The microphone's fan-out: what it stamps on the Opus packets it hands to
 * every listener (the real microphone on the virtual board is tested in
 * native/lib/audio-capture.test.ts; its lookahead comes from libopus).
 */

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A fan-out over `source` with one listener that keeps what it is sent. */
function listen(source: OpusClockSource): PacketizedFrame[] {
  const fanout = new AudioFanout({ source });
  closers.push(
    () => fanout.close(),
    () => source.close(),
  );
  const frames: PacketizedFrame[] = [];
  fanout.attach({ send: (frame) => frames.push(frame) });
  return frames;
}

describe("AudioFanout", () => {
  it("stamps each packet with the capture time of the first sample a decoder outputs: its first input sample's minus the encoder's lookahead", async () => {
    // libopus 1.x at 48 kHz: OPUS_GET_LOOKAHEAD is 312 samples (6.5 ms).
    const delayed = new OpusClockSource({ encoderDelayUs: 6500 });
    const plain = new OpusClockSource();
    const fromDelayed = listen(delayed);
    const fromPlain = listen(plain);
    await waitFor(() => fromDelayed.length >= 5 && fromPlain.length >= 5);
    for (const [source, frames, delay] of [
      [delayed, fromDelayed, 6500],
      [plain, fromPlain, 0],
    ] as const) {
      for (const frame of frames) {
        const sent = source.sent.find((f) => f.captureTimeUs - delay === frame.captureTimeUs);
        expect(sent, `a packet captured ${delay} µs after ${frame.captureTimeUs}`).toBeDefined();
      }
      // The RTP clock follows the shifted times: 48 ticks a millisecond (each rounded).
      const steps = frames
        .slice(1)
        .map((f, i) => (f.timestamp - (frames[i]?.timestamp ?? 0)) >>> 0);
      const spans = frames
        .slice(1)
        .map((f, i) => f.captureTimeUs - (frames[i]?.captureTimeUs ?? 0));
      steps.forEach((step, i) =>
        expect(Math.abs(step - ((spans[i] ?? 0) * 48) / 1000)).toBeLessThanOrEqual(1),
      );
    }
  });
});
