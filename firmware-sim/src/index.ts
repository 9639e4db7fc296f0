/** Public API of the virtual board's harness. */
export {
  simEnv,
  defaultLibraryPath,
  builtLibrary,
  isSimProfile,
  isSimScene,
  SIM_PROFILES,
  SIM_SCENES,
  SIM_AUDIO,
} from "./sim-env.js";
export type { SimOptions, SimProfile, SimScene, SimAudio } from "./sim-env.js";
export { parseFaults, parseDurationMs } from "./faults.js";
export type { Fault, FaultName } from "./faults.js";
export { main, parseExecArgs, execOnBoard } from "./cli.js";
export {
  micSample,
  findBursts,
  zeroCrossingsPerSecond,
  offsetFromSecondUs,
  BURST_HZ,
  BURST_MS,
  BURST_AMPLITUDE,
} from "./audio-signal.js";
export type { BurstOptions } from "./audio-signal.js";
export { parseWav, encodeWav, channel, frameCount } from "./wav.js";
export type { Wav } from "./wav.js";
export { startNetLab, NetLab } from "./net/net-lab.js";
export type { NetLabOptions, IceChoice, LabProbeOptions } from "./net/net-lab.js";
export type { NatType, SitePlan } from "./net/plan.js";
export type { LinkStats, DirectionStats } from "./net/link-emulator.js";
export type { TurnInfo } from "./net/coturn.js";
export type { BrokerInfo } from "./net/broker.js";
export { LabAgent } from "./net/agent-client.js";
export { turnRestCredentials } from "./net/turn-credentials.js";
export { NetLabError } from "./net/errors.js";
