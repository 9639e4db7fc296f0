/** Types of node-version.js (plain JavaScript so that an old Node can run it). */
export declare const REQUIRED_NODE: string;
export declare function nodeVersionOk(version: string, required?: string): boolean;
export declare function nodeVersionProblem(version: string, execPath?: string): string | null;
