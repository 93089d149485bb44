/** CallOptions → the transport's per-request fields (abort, quota priority, a slot taken ahead). */
import type { ApiRequest } from "../http/transport.js";
import type { CallOptions } from "./types.js";

export function callFields(
  o: CallOptions | undefined,
): Pick<ApiRequest, "signal" | "priority" | "slot" | "onQuotaWait" | "onSent"> {
  return {
    signal: o?.signal,
    priority: o?.priority,
    slot: o?.slot,
    onQuotaWait: o?.onQuotaWait,
    onSent: o?.onSent,
  };
}
