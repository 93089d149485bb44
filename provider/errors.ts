import { MdeLrError } from "../shared/errors.js";

/**
 * Thrown by create/update when the run was submitted but not every device succeeded. The dynamic-provider
 * host turns an error carrying `id`, `properties` and `reasons` into Pulumi's partial-state result
 * (ErrorResourceInitFailed): the resource is recorded with everything collected so far, the update fails
 * and prints the reasons. `properties` must include `__provider` (the host does not add it) or a later
 * delete cannot load the provider.
 */
export class PartialRunError extends MdeLrError {
  readonly id: string;
  readonly properties: Record<string, unknown>;
  readonly reasons: string[];
  constructor(message: string, id: string, properties: Record<string, unknown>, reasons: string[]) {
    super("service", message);
    this.id = id;
    this.properties = properties;
    this.reasons = reasons;
  }
}
