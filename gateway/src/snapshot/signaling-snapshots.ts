/**
 * Snapshots for signaling (docs/signaling.md, "Snapshots"): the
 * dispatcher's SnapshotHost on top of the snapshot service. A reply must fit
 * one message (MAX_SNAPSHOT_JPEG_BYTES of JPEG), so a picture that is too
 * large is made again at a lower quality, then at half the width, until it
 * fits; the request's width is where it starts (default: the camera's, at
 * most 1280).
 */
import { SignalingError, SnapshotError } from "../errors.js";
import { DEFAULT_STREAM, MAX_SNAPSHOT_JPEG_BYTES } from "../signaling/message-types.js";
import type { SignalingSnapshot, SnapshotHost } from "../signaling/snapshot-host.js";
import type { SnapshotService } from "./snapshot-service.js";

/** Where a request without a width starts: larger would hardly ever fit 48 kB. */
const DEFAULT_MAX_WIDTH = 1280;
/** Qualities tried at each width, best first. */
const QUALITIES = [80, 55, 35] as const;
const MIN_WIDTH = 16;

export function signalingSnapshots(
  service: Pick<SnapshotService, "take" | "sourceWidth">,
  maxBytes: number = MAX_SNAPSHOT_JPEG_BYTES,
): SnapshotHost {
  return {
    async snapshot({ stream, width }): Promise<SignalingSnapshot> {
      if (stream !== DEFAULT_STREAM) {
        throw new SignalingError("unsupported", `no stream named "${stream}"`);
      }
      try {
        let w = width ?? Math.min(service.sourceWidth, DEFAULT_MAX_WIDTH);
        for (;;) {
          for (const quality of QUALITIES) {
            const s = await service.take({ width: w, quality });
            if (s.jpeg.length <= maxBytes) return s;
          }
          if (w <= MIN_WIDTH) break;
          w = Math.max(MIN_WIDTH, Math.floor(w / 2));
        }
        throw new SignalingError("unsupported", `no JPEG of this camera fits ${maxBytes} bytes`);
      } catch (err) {
        throw asSignalingError(err);
      }
    },
  };
}

/** The service's refusals in the spec's codes; a camera that gave nothing is `busy` (retry). */
function asSignalingError(err: unknown): unknown {
  if (!(err instanceof SnapshotError)) return err;
  const code =
    err.code === "bad-request"
      ? "bad-request"
      : err.code === "unsupported"
        ? "unsupported"
        : "busy";
  return new SignalingError(code, err.message, err.context, { cause: err });
}
