/**
 * Signaling v1 (docs/signaling.md) in one import: message types, constants
 * and builders, the spec-order checks, and topic helpers. Isomorphic: the
 * gateway, `camgw probe` and the browser viewer all use it, so nothing here
 * imports from node:.
 */
export * from "./message-types.js";
export * from "./parse.js";
export * from "./topics.js";
