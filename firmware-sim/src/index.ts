/** Public API of the virtual board's harness. */
export {
  simEnv,
  defaultLibraryPath,
  builtLibrary,
  isSimProfile,
  isSimScene,
  SIM_PROFILES,
  SIM_SCENES,
} from "./sim-env.js";
export type { SimOptions, SimProfile, SimScene } from "./sim-env.js";
export { parseFaults, parseDurationMs } from "./faults.js";
export type { Fault, FaultName } from "./faults.js";
export { main, parseExecArgs, execOnBoard } from "./cli.js";
