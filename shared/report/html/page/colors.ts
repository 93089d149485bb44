/** The page's colours by meaning (no DOM here: the tests read them to check what the canvas drew). */
import type { SPAN_KINDS } from "../page-data.js";

export const SPAN_COLORS: Record<(typeof SPAN_KINDS)[number], string> = {
  waiting: "#c5cad3",
  canary: "#b39ddb",
  busy: "#ffab40",
  submitting: "#90caf9",
  pending: "#ffe066",
  running: "#1e88e5",
  collecting: "#43a047",
};
export const OUTCOME_COLORS: Record<string, string> = {
  "": "#9e9e9e",
  Succeeded: "#1b5e20",
  Failed: "#c62828",
  Cancelled: "#616161",
  TimeOut: "#e65100",
};
export const WAIT_COLORS: Record<string, string> = {
  sessionCap: "#7e57c2",
  rateLimit: "#d32f2f",
  quota: "#f57c00",
  deviceBusy: "#ffab40",
};
export const STATUS_COLORS: Record<string, string> = {
  succeeded: "#2e7d32",
  failed: "#c62828",
  timedOut: "#e65100",
  cancelled: "#616161",
  skipped: "#9e9e9e",
  pending: "#f9a825",
  unresolved: "#6d4c41",
};
