/**
 * Every fuzz target, in the order `make fuzz` runs them. Each lives beside
 * the module it fuzzes (<area>/fuzz/*.fuzz.ts); docs/fuzzing.md lists them.
 */
import type { FuzzTarget } from "./fuzz-target.js";
import { signalingDispatcherTarget } from "../signaling/fuzz/dispatcher.fuzz.js";
import { signalingMessagesTarget } from "../signaling/fuzz/messages.fuzz.js";
import { signalingRoundtripTarget } from "../signaling/fuzz/roundtrip.fuzz.js";

export const TARGETS: readonly FuzzTarget<unknown>[] = [
  signalingMessagesTarget,
  signalingRoundtripTarget,
  signalingDispatcherTarget,
];

export function targetNamed(name: string): FuzzTarget<unknown> {
  const target = TARGETS.find((t) => t.name === name);
  if (!target)
    throw new Error(`no fuzz target "${name}" (${TARGETS.map((t) => t.name).join(", ")})`);
  return target;
}
