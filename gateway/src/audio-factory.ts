import {
  AudioPlayback,
  findMicrophone,
  findSpeaker,
  listAudioDevices,
  type AudioDeviceInfo,
} from "../../native/lib/index.js";
import type { Config } from "./config.js";
import { SourceError } from "./errors.js";
import type { Logger } from "./logger.js";
import { AlsaOpusSource, type OpusSource } from "./media/audio-source.js";
import { AlsaSpeaker, type OpusSink } from "./media/speaker.js";

/**
 * The sound devices config asks for (`audio: off | listen | talk`,
 * docs/config.md "Audio"): the microphone for `listen` and `talk`, the
 * speaker for `talk` only. A device named in config must work, or start-up
 * fails saying why; a device left to be found is a bonus: without one the
 * gateway says so once and serves video alone.
 */
export interface AudioDevices {
  microphone?: OpusSource;
  speaker?: OpusSink;
}

export function createAudio(config: Config, log: Logger): AudioDevices {
  if (config.audio === "off") return {};
  let cards: AudioDeviceInfo[] | undefined;
  const found = (find: (devices: AudioDeviceInfo[]) => AudioDeviceInfo | undefined) => {
    try {
      cards ??= listAudioDevices();
      return find(cards)?.plugName;
    } catch (err) {
      log.warn(`audio: cannot list sound cards: ${(err as Error).message}`);
      return undefined;
    }
  };

  const devices: AudioDevices = {};
  const micNamed = config["audio-device"];
  const mic = micNamed || found(findMicrophone);
  if (!mic) {
    log.warn("audio: no sound card can capture here; viewers get video only");
  } else {
    try {
      devices.microphone = AlsaOpusSource.open({ device: mic });
      log.info(`audio: viewers may listen to ${mic}`);
    } catch (err) {
      if (micNamed) throw deviceError("audio-device", mic, err);
      log.warn(`audio: cannot open the microphone ${mic}: ${(err as Error).message}`);
    }
  }

  if (config.audio !== "talk") return devices;
  const speakerNamed = config["speaker-device"];
  const speaker = speakerNamed || found(findSpeaker);
  if (!speaker) {
    log.warn("audio: no sound card can play here; talk-back is off");
    return devices;
  }
  try {
    // Opened once now so a bad device fails at start-up; it then opens only while someone talks.
    AudioPlayback.open({ device: speaker }).close();
    devices.speaker = new AlsaSpeaker({ device: speaker });
    log.info(`audio: viewers may talk back through ${speaker}`);
  } catch (err) {
    if (speakerNamed) throw deviceError("speaker-device", speaker, err);
    log.warn(`audio: cannot open the speaker ${speaker}: ${(err as Error).message}`);
  }
  return devices;
}

function deviceError(key: string, device: string, err: unknown): SourceError {
  return new SourceError(
    `${key} ${device}: ${(err as Error).message} ('arecord -l' and 'aplay -l' list the sound cards)`,
    { key, device },
    { cause: err },
  );
}
