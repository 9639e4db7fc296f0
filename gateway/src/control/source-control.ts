import type { H264Source } from "../media/source.js";
import type { Size, StreamControl } from "./control-services.js";

/**
 * The control channel's handle on the camera's stream: the bitrate (live,
 * through the source's encoder) and the size (through the source's resize:
 * the camera's picture scaled, or the camera reopened for a larger one;
 * either way a key frame). Both change the one stream every viewer shares.
 */
export class SourceControl implements StreamControl {
  private bitrateKbps: number;

  constructor(
    private readonly source: H264Source,
    initialBitrateKbps: number,
  ) {
    this.bitrateKbps = initialBitrateKbps;
  }

  get canResize(): boolean {
    return typeof this.source.resize === "function";
  }

  current(): { width: number; height: number; fps: number; bitrateKbps: number } {
    const { width, height, fps } = this.source.info;
    return { width, height, fps, bitrateKbps: this.bitrateKbps };
  }

  setBitrate(kbps: number): void {
    this.source.setBitrate(kbps);
    this.bitrateKbps = kbps;
  }

  async setSize(size: Size): Promise<void> {
    if (!this.source.resize) throw new Error(`${this.source.name} cannot change its size`);
    await this.source.resize(size);
  }
}
