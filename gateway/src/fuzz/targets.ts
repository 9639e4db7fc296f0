/**
 * Every fuzz target, in the order `make fuzz` runs them. Each lives beside
 * the module it fuzzes (<area>/fuzz/*.fuzz.ts); docs/fuzzing.md lists them.
 */
import type { FuzzTarget } from "./fuzz-target.js";
import { cliFlagsTarget, configFileTarget } from "./config.fuzz.js";
import { accessUnitSplitterTarget } from "../media/fuzz/access-unit-splitter.fuzz.js";
import { frameStampTarget } from "../media/fuzz/frame-stamp.fuzz.js";
import { h264SpsTarget } from "../probe/fuzz/h264-sps.fuzz.js";
import { signalingDispatcherTarget } from "../signaling/fuzz/dispatcher.fuzz.js";
import { signalingMessagesTarget } from "../signaling/fuzz/messages.fuzz.js";
import { signalingRoundtripTarget } from "../signaling/fuzz/roundtrip.fuzz.js";
import { h264RtpTarget } from "../webrtc/fuzz/h264-rtp.fuzz.js";
import { offerSdpTarget } from "../webrtc/fuzz/offer.fuzz.js";
import { rtcpFeedbackTarget } from "../webrtc/fuzz/rtcp.fuzz.js";

export const TARGETS: readonly FuzzTarget<unknown>[] = [
  signalingMessagesTarget,
  signalingRoundtripTarget,
  signalingDispatcherTarget,
  offerSdpTarget,
  rtcpFeedbackTarget,
  h264RtpTarget,
  accessUnitSplitterTarget,
  h264SpsTarget,
  frameStampTarget,
  configFileTarget,
  cliFlagsTarget,
];

export function targetNamed(name: string): FuzzTarget<unknown> {
  const target = TARGETS.find((t) => t.name === name);
  if (!target) {
    throw new Error(`no fuzz target "${name}" (${TARGETS.map((t) => t.name).join(", ")})`);
  }
  return target;
}
