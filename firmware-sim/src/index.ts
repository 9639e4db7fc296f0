/** Public API of the virtual board's harness. */
export { simEnv, defaultLibraryPath, builtLibrary, isSimProfile, SIM_PROFILES } from "./sim-env.js";
export type { SimOptions, SimProfile } from "./sim-env.js";
export { parseFaults, parseDurationMs } from "./faults.js";
export type { Fault, FaultName } from "./faults.js";
export { main, parseExecArgs, execOnBoard } from "./cli.js";
