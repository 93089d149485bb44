/**
 * Setup errors at submission → messages that name the fix (mde-api.md §2.3, §3.1, §4.11). The
 * orchestrator puts these on the device (report `error`), front ends print them.
 */
import { ForbiddenError, MdeApiError, MdeLrError, UnauthorizedError } from "../errors.js";
import type { ReportError } from "../report/types.js";

const FIXES: Record<string, string> = {
  DisallowedOperation:
    "the device's device group has no automated remediation level, so live response is refused; in the Defender portal open Settings > Endpoints > Device groups, edit the group and set an automation level (at least 'Semi - require approval for all folders'), then run again",
  DisabledFeature:
    "live response is turned off for this tenant; in the Defender portal open Settings > Endpoints > Advanced features and enable 'Live Response' (and 'Live Response for Servers' for servers; 'Live Response unsigned script execution' if your scripts are unsigned)",
  OsPlatformNotSupported:
    "the device's operating system doesn't support live response through the API (Windows 10 1909+ or 1903/1809/1803/1709 with their KBs, Windows 11, Server 2019/2022, macOS, Linux); update the OS or remove the device from the targets",
  ClientVersionNotSupported:
    "the device's Defender for Endpoint sensor is too old for live response; update the sensor (Microsoft Defender platform/KB updates) and run again",
  ActiveRequestAlreadyExists:
    "another live response is already running on the device; wait for it to finish (options.onActiveSession: wait) or cancel it in the portal",
  ResourceNotFound:
    "the device is unknown to Defender for Endpoint (deleted or merged); check the machine id",
  NotFound: "the device is unknown to Defender for Endpoint (deleted or merged); check the machine id",
};

/** The fix for an MDE error code that means a tenant/device setup problem, or null. */
export function serviceFix(code: string): string | null {
  return FIXES[code] ?? null;
}

const ROLE_FIX =
  "add the missing application permission to the app registration (API permissions > APIs my organization uses > WindowsDefenderATP) and grant admin consent";

/**
 * `{code, message}` for an error met while submitting: the MDE error code, and a message saying
 * what it means and what to change. Messages carry no secrets (they come from already redacted errors).
 */
export function explainServiceError(err: unknown): ReportError {
  if (err instanceof ForbiddenError) {
    const fix = FIXES[err.code];
    if (fix) return { code: err.code, message: `${err.code}: ${fix}` };
    const role = err.requiredRole ?? "Machine.LiveResponse";
    return {
      code: err.code,
      message: `the app is not allowed to do this (403 ${err.code}); it needs the ${role} application permission: ${ROLE_FIX}. A token for the wrong audience also gets 403: the token must be for https://api.securitycenter.microsoft.com`,
    };
  }
  if (err instanceof UnauthorizedError) {
    return {
      code: err.code,
      message: `sign-in was rejected (401 ${err.code}); check the tenant id, client id and secret/certificate, or get a fresh token`,
    };
  }
  if (err instanceof MdeApiError) {
    const fix = FIXES[err.code];
    return { code: err.code, message: fix ? `${err.code}: ${fix}` : err.message };
  }
  if (err instanceof MdeLrError) return { code: err.name, message: err.message };
  if (err instanceof Error) return { code: "Internal", message: err.message };
  return { code: "Internal", message: String(err) };
}
