/** Decodes an H.264 Annex-B stream with Debian's ffmpeg into luma planes (tests only). */
import { spawnSync } from "node:child_process";

export interface Decoded {
  frames: Uint8Array[];
  stderr: string;
  status: number | null;
}

export function decodeLuma(h264: Buffer, width: number, height: number): Decoded {
  const r = spawnSync(
    "ffmpeg",
    ["-v", "error", "-f", "h264", "-i", "-", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
    { input: h264, maxBuffer: 1 << 30 },
  );
  const size = width * height;
  const frames: Uint8Array[] = [];
  for (let o = 0; o + size <= r.stdout.length; o += size) {
    frames.push(new Uint8Array(r.stdout.buffer, r.stdout.byteOffset + o, size));
  }
  return { frames, stderr: r.stderr.toString(), status: r.status };
}
