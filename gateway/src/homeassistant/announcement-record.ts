/**
 * A note in the state directory that this gateway announced itself to Home
 * Assistant, and where. A start with the feature off removes the entities
 * only when the note says there are some: a gateway that never used Home
 * Assistant publishes nothing under its prefix (a broker whose ACL refuses
 * such a publish by closing the connection would otherwise cut signaling off
 * on every connect).
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { readStateFile, writeStateFile } from "../auth/state-dir.js";

export interface AnnouncementRecord {
  readonly haPrefix: string;
  readonly prefix: string;
  readonly deviceId: string;
}

const FILE = "home-assistant.json";

/** The note, or undefined when there is none (or it is not one: it is only a hint). */
export async function readAnnouncement(dir: string): Promise<AnnouncementRecord | undefined> {
  const text = await readStateFile(dir, FILE);
  if (text === undefined) return undefined;
  try {
    const json = JSON.parse(text) as Partial<Record<keyof AnnouncementRecord, unknown>>;
    const { haPrefix, prefix, deviceId } = json;
    if (
      typeof haPrefix === "string" &&
      typeof prefix === "string" &&
      typeof deviceId === "string"
    ) {
      return { haPrefix, prefix, deviceId };
    }
  } catch {
    // Not JSON: treated as no note.
  }
  return undefined;
}

export async function recordAnnouncement(dir: string, record: AnnouncementRecord): Promise<void> {
  await writeStateFile(dir, FILE, JSON.stringify(record) + "\n");
}

export async function forgetAnnouncement(dir: string): Promise<void> {
  await rm(join(dir, FILE), { force: true });
}

/** Whether the note names the same topics as `now` (the device may publish only its own). */
export function sameTopics(a: AnnouncementRecord, b: AnnouncementRecord): boolean {
  return a.haPrefix === b.haPrefix && a.prefix === b.prefix && a.deviceId === b.deviceId;
}
