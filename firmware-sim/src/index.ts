/** Public API of the virtual board's harness. */
export {
  simEnv,
  defaultLibraryPath,
  builtLibrary,
  isSimProfile,
  SIM_PROFILES,
  SIM_AUDIO,
} from "./sim-env.js";
export type { SimOptions, SimProfile, SimAudio } from "./sim-env.js";
export { parseFaults, parseDurationMs } from "./faults.js";
export type { Fault, FaultName } from "./faults.js";
export { main, parseExecArgs, execOnBoard } from "./cli.js";
