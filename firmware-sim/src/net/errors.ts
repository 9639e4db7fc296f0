import { CamgwError, type ErrorContext } from "../../../gateway/src/errors.js";

/** The network lab could not be built, changed or taken down (a command failed, not root, ...). */
export class NetLabError extends CamgwError {
  constructor(message: string, context: ErrorContext = {}, options?: ErrorOptions) {
    super("netlab", message, context, options);
  }
}
