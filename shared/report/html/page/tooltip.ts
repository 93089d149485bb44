/** What the timeline's tooltip says about the span under the pointer (lines of text, the first a heading). */
import { ACTION_OUTCOMES, SPAN_KINDS } from "../page-data.js";
import { clockTime, duration } from "./format.js";
import { type Model, type Row, waitReasons } from "./model.js";

/** The span of `row` at `t` (ms after t0), its reason and the action around it; null off any span. */
export function spanLines(model: Model, row: Row, t: number): string[] | null {
  const t0 = model.t0;
  const d = row.device;
  let span = -1;
  for (let i = 0; i + 2 < d.spans.length; i += 3) {
    if (t >= d.spans[i + 1]! && t <= d.spans[i + 2]!) span = i;
  }
  if (span < 0) return null;
  const kind = SPAN_KINDS[d.spans[span]!] ?? "waiting";
  const a = d.spans[span + 1]!;
  const b = d.spans[span + 2]!;
  const lines = [row.label, `${kind}: ${clockTime(t0 + a)} → ${clockTime(t0 + b)} (${duration(b - a)})`];
  lines.push(reasonFor(model, kind, t));
  for (let i = 0; i + 3 < d.actions.length; i += 4) {
    if (t < d.actions[i]! || t > d.actions[i + 1]!) continue;
    const n = d.actions[i + 3]!;
    const outcome = ACTION_OUTCOMES[d.actions[i + 2]!] || "not final";
    lines.push(
      `action ${n}: ${clockTime(t0 + d.actions[i]!)} → ${clockTime(t0 + d.actions[i + 1]!)}, ${outcome}`,
    );
    for (const c of d.commands.filter((c) => c.action === n)) {
      const exit = c.exitCode !== null ? `, exit ${c.exitCode}` : "";
      lines.push(`  step ${c.step} ${c.type} ${c.name ?? ""}: ${c.status}${exit}`);
    }
  }
  return lines;
}

function reasonFor(model: Model, kind: string, t: number): string {
  switch (kind) {
    case "waiting": {
      const why = waitReasons(model, t);
      return why.length
        ? `waiting for its turn: ${why.join("; ")}`
        : "waiting for its turn (next submit slot)";
    }
    case "canary":
      return "held until the canary devices finished";
    case "busy":
      return "another live response session holds the device (ActiveRequestAlreadyExists); retried with back-off";
    case "submitting":
      return "submission on its way to the service";
    case "pending":
      return "accepted, Pending on the device (an offline device stays here until it connects)";
    case "running":
      return "InProgress on the device";
    case "collecting":
      return "final; downloading its results";
    default:
      return kind;
  }
}
