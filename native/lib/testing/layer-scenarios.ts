/** Second-encoding (layer) scenarios for the virtual board (run by board.ts in a child process). */
import { writeFileSync } from "node:fs";
import { CameraPipeline } from "../index.js";
import type { EncodedFrame, LayerOptions, PipelineOptions } from "../types.js";
import { recordFrame, type FrameRecord } from "./frame-record.js";

export interface LayerArgs {
  options: PipelineOptions;
  layer: LayerOptions;
  /** Start the layer before the pipeline starts (else after its first frame). */
  beforeStart?: boolean;
  /** Layer frames to collect before the layer is stopped. */
  layerFrames: number;
  /** After this many layer frames: a layer key frame and a new layer bitrate. */
  keyAfter?: number;
  kbpsAfterKey?: number;
  /** Stop and start the pipeline once, midway (the layer must come back). */
  restart?: boolean;
  /** Main frames to collect after the layer stopped. */
  framesAfterStop: number;
  /** Write each layer's access units here: `${out}.0.h264`, `${out}.1.h264`. */
  out: string;
}

export interface LayerResult {
  encoder: string;
  /** Frames per layer while the layer ran. */
  main: FrameRecord[];
  low: FrameRecord[];
  /** Frames after stopLayer(): how many of each layer. */
  afterStop: { main: number; low: number };
  /** Index of the first layer frame after the key frame request; -1 when none. */
  keyRequestedAt: number;
  layerFramesEncoded: number;
  errors: string[];
}

export interface LayerErrorArgs {
  options: PipelineOptions;
  layer: LayerOptions;
}

async function layer(args: LayerArgs): Promise<LayerResult> {
  const p = CameraPipeline.open(args.options);
  const main: FrameRecord[] = [];
  const low: FrameRecord[] = [];
  const data: [Buffer[], Buffer[]] = [[], []];
  const errors: string[] = [];
  const afterStop = { main: 0, low: 0 };
  let encoder = "";
  let stopped = false;
  let restarted = false;
  let keyRequestedAt = -1;
  p.on("error", (e) => errors.push(e.message));
  if (args.beforeStart === true) encoder = p.startLayer(args.layer);
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => {
      fail(new Error(`${low.length} layer and ${main.length} main frames after 20 s`));
    }, 20_000);
    p.on("frame", (f: EncodedFrame) => {
      if (stopped) {
        if (f.layer === 1) afterStop.low++;
        else afterStop.main++;
        if (afterStop.main >= args.framesAfterStop) {
          clearTimeout(timer);
          done();
        }
        return;
      }
      if (f.layer === 1) {
        low.push(recordFrame(f));
        data[1].push(f.data);
      } else {
        main.push(recordFrame(f));
        data[0].push(f.data);
        if (encoder === "") encoder = p.startLayer(args.layer);
        return;
      }
      if (args.keyAfter === low.length) {
        keyRequestedAt = low.length;
        p.requestLayerKeyFrame();
        if (args.kbpsAfterKey !== undefined) p.setLayerBitrate(args.kbpsAfterKey);
      }
      if (args.restart === true && !restarted && low.length === Math.floor(args.layerFrames / 2)) {
        restarted = true;
        p.stop();
        p.start();
      }
      if (low.length >= args.layerFrames) {
        p.stopLayer();
        stopped = true;
      }
    });
    p.start();
  });
  const result: LayerResult = {
    encoder,
    main,
    low,
    afterStop,
    keyRequestedAt,
    layerFramesEncoded: p.stats().layerFramesEncoded,
    errors,
  };
  p.close();
  writeFileSync(`${args.out}.0.h264`, Buffer.concat(data[0]));
  writeFileSync(`${args.out}.1.h264`, Buffer.concat(data[1]));
  return result;
}

function layerError(args: LayerErrorArgs): Promise<unknown> {
  const p = CameraPipeline.open(args.options);
  try {
    p.startLayer(args.layer);
    return Promise.resolve({ thrown: false });
  } catch (e) {
    const err = e as Error & { context?: unknown };
    return Promise.resolve({
      thrown: true,
      name: err.name,
      message: err.message,
      isTypeError: e instanceof TypeError,
    });
  } finally {
    p.close();
  }
}

export const layerScenarios = { layer, layerError };
