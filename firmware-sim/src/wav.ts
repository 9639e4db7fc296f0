/**
 * 16-bit PCM WAV files: what `arecord` writes, what the virtual speaker
 * records (CAMGW_SIM_SPEAKER_FILE, docs/firmware-sim.md) and what tests feed
 * to `aplay`. Only the parts of RIFF/WAVE (Microsoft's 1991 "Multimedia
 * Programming Interface and Data Specifications") these need: a `fmt ` chunk
 * with format 1 (PCM) and 16 bits, a `data` chunk, and the speaker's start
 * time in a LIST/INFO/ICMT comment. Unknown chunks are skipped.
 */

export interface Wav {
  rate: number;
  channels: number;
  /** Interleaved samples. */
  samples: Int16Array;
  /** The speaker's recording: CLOCK_REALTIME µs of its first sample. */
  startRealtimeUs?: number;
}

export function frameCount(w: Wav): number {
  return w.samples.length / w.channels;
}

/** One channel of an interleaved recording. */
export function channel(w: Wav, c: number): Int16Array {
  const out = new Int16Array(frameCount(w));
  for (let i = 0; i < out.length; i++) out[i] = w.samples[i * w.channels + c] ?? 0;
  return out;
}

export function parseWav(buf: Buffer): Wav {
  if (buf.length < 12 || buf.toString("latin1", 0, 4) !== "RIFF") {
    throw new Error("not a WAV file (no RIFF header)");
  }
  if (buf.toString("latin1", 8, 12) !== "WAVE") throw new Error("not a WAV file (no WAVE form)");
  let rate = 0;
  let channels = 0;
  let startRealtimeUs: number | undefined;
  for (let at = 12; at + 8 <= buf.length;) {
    const id = buf.toString("latin1", at, at + 4);
    const declared = buf.readUInt32LE(at + 4);
    const body = at + 8;
    // arecord writes 0x7fffffff as the size of a stream it never finished
    const size = Math.min(declared, buf.length - body);
    if (id === "fmt ") {
      if (buf.readUInt16LE(body) !== 1 || buf.readUInt16LE(body + 14) !== 16) {
        throw new Error("WAV is not 16-bit PCM");
      }
      channels = buf.readUInt16LE(body + 2);
      rate = buf.readUInt32LE(body + 4);
    } else if (id === "LIST" && buf.toString("latin1", body, body + 4) === "INFO") {
      const m = /start_realtime_us=(\d+)/.exec(buf.toString("latin1", body + 4, body + size));
      if (m?.[1] !== undefined) startRealtimeUs = Number(m[1]);
    } else if (id === "data") {
      if (!rate || !channels) throw new Error("WAV data before its fmt chunk");
      const n = Math.floor(size / 2);
      const samples = new Int16Array(n);
      for (let i = 0; i < n; i++) samples[i] = buf.readInt16LE(body + 2 * i);
      return {
        rate,
        channels,
        samples,
        ...(startRealtimeUs === undefined ? {} : { startRealtimeUs }),
      };
    }
    at = body + size + (size & 1);
  }
  throw new Error("WAV has no data chunk");
}

export function encodeWav(w: Pick<Wav, "rate" | "channels" | "samples">): Buffer {
  const data = w.samples.length * 2;
  const b = Buffer.alloc(44 + data);
  b.write("RIFF", 0, "latin1");
  b.writeUInt32LE(36 + data, 4);
  b.write("WAVEfmt ", 8, "latin1");
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(w.channels, 22);
  b.writeUInt32LE(w.rate, 24);
  b.writeUInt32LE(w.rate * 2 * w.channels, 28);
  b.writeUInt16LE(2 * w.channels, 32);
  b.writeUInt16LE(16, 34);
  b.write("data", 36, "latin1");
  b.writeUInt32LE(data, 40);
  for (let i = 0; i < w.samples.length; i++) b.writeInt16LE(w.samples[i] ?? 0, 44 + 2 * i);
  return b;
}
