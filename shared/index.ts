/** Public API of mde-live-response's core. Keep it small: front ends import from here. */

export type * from "./api/types.js";
export type { Clock } from "./clock.js";
export { ScaledClock, systemClock } from "./clock.js";
export * from "./errors.js";
export type * from "./report/types.js";
export type * from "./run/types.js";
export type * from "./runbook/types.js";
