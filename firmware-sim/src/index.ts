/** Public API of the virtual board's harness. */
export { simEnv, defaultLibraryPath, builtLibrary, isSimProfile, SIM_PROFILES } from "./sim-env.js";
export type { SimOptions, SimProfile } from "./sim-env.js";
export { parseFaults, parseDurationMs } from "./faults.js";
export type { Fault, FaultName } from "./faults.js";
export { main, parseExecArgs, execOnBoard } from "./cli.js";
export { startNetLab, NetLab } from "./net/net-lab.js";
export type { NetLabOptions, IceChoice, LabProbeOptions } from "./net/net-lab.js";
export type { NatType, SitePlan } from "./net/plan.js";
export type { LinkStats, DirectionStats } from "./net/link-emulator.js";
export type { TurnInfo } from "./net/coturn.js";
export type { BrokerInfo } from "./net/broker.js";
export { LabAgent } from "./net/agent-client.js";
export { turnRestCredentials } from "./net/turn-credentials.js";
export { NetLabError } from "./net/errors.js";
