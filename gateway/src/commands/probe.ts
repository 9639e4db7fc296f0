import { ConfigError } from "../errors.js";

/** `camgw probe`: a headless viewer (see gateway/src/probe). */
export function probeCommand(_argv: string[]): Promise<number> {
  return Promise.reject(new ConfigError("camgw probe is not available in this build"));
}
