/**
 * The small named set of errors camgw raises. Each carries a stable `code`
 * and the context a person needs to act on it (which device, which key,
 * which session), so logs and replies never say just "failed".
 */
export type ErrorContext = Readonly<Record<string, string | number | boolean | undefined>>;

export class CamgwError extends Error {
  readonly code: string;
  readonly context: ErrorContext;

  constructor(code: string, message: string, context: ErrorContext = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.context = context;
  }
}

/** Invalid configuration, environment variable or command-line flag. */
export class ConfigError extends CamgwError {
  constructor(message: string, context: ErrorContext = {}, options?: ErrorOptions) {
    super("config", message, context, options);
  }
}

/** A camera, encoder or pipe source failed or went away. */
export class SourceError extends CamgwError {
  constructor(message: string, context: ErrorContext = {}, options?: ErrorOptions) {
    super("source", message, context, options);
  }
}

/** A signaling message was refused; `code` is the spec's error code. */
export class SignalingError extends CamgwError {}

/** A viewer session could not be set up or was ended abnormally. */
export class SessionError extends CamgwError {
  constructor(message: string, context: ErrorContext = {}, options?: ErrorOptions) {
    super("session", message, context, options);
  }
}
