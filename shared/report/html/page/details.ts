/** One device in full: its error, warnings, every step's output excerpt, errors and files (all as text). */
import { clear, el, fileLink } from "./dom.js";
import { bytes, dateTime, duration } from "./format.js";
import type { Model, Row } from "./model.js";
import { badge, devicePath } from "./table.js";

export function renderDetails(host: HTMLElement, model: Model, row: Row | null): void {
  clear(host);
  if (!row) {
    host.append(el("p", { class: "note" }, "Click a row of the table to see that device's steps in full."));
    return;
  }
  const d = row.device;
  const t0 = model.t0;
  const at = (ms: number | null) => (ms === null ? "—" : dateTime(t0 + ms));
  host.append(
    el("h3", {}, row.label, " ", badge(d.status)),
    el(
      "dl",
      { class: "facts" },
      el("dt", {}, "Machine id"),
      el("dd", { class: "mono" }, d.machineId ?? "— (no device matched)"),
      d.target ? el("dt", {}, "Target") : null,
      d.target ? el("dd", {}, `${d.target.selector} ${d.target.value}`) : null,
      el("dt", {}, "First submission → done"),
      el("dd", {}, `${at(d.startedAt)} → ${at(d.finishedAt)}`),
      el("dt", {}, "Actions"),
      el("dd", { class: "mono" }, d.actionIds.join(", ") || "none"),
      d.folder ? el("dt", {}, "Folder") : null,
      d.folder ? el("dd", {}, fileLink(d.folder)) : null,
    ),
  );
  if (d.error) host.append(el("p", { class: "error" }, `${d.error.code}: ${d.error.message}`));
  for (const w of d.warnings) host.append(el("p", { class: "warning" }, w));
  for (const c of d.commands) {
    const files = [
      c.file ? fileLink(devicePath(d, c.file), `result ${c.file.split("/").pop()}`) : null,
      c.stdoutFile ? fileLink(devicePath(d, c.stdoutFile), "full stdout") : null,
      c.stderrFile ? fileLink(devicePath(d, c.stderrFile), "full stderr") : null,
    ].filter((x): x is HTMLAnchorElement => x !== null);
    const took = c.startedAt !== null && c.finishedAt !== null ? duration(c.finishedAt - c.startedAt) : "";
    host.append(
      el(
        "section",
        { class: "step", "data-step": c.step },
        el("h4", {}, `Step ${c.step}: ${c.type} ${c.name ?? ""} `, badge(c.status)),
        el(
          "p",
          {},
          c.exitCode !== null ? `exit code ${c.exitCode} · ` : "",
          took ? `${took} · ` : "",
          c.bytes !== null ? `${bytes(c.bytes)} · ` : "",
          c.sha256 ? el("span", { class: "mono" }, `sha256 ${c.sha256}`) : "",
        ),
        files.length ? el("p", { class: "links" }, ...files.flatMap((f, i) => (i ? [" · ", f] : [f]))) : null,
        c.stdout
          ? el("pre", { class: "out" }, c.stdout, c.stdoutMore ? "\n… (cut here; see full stdout)" : "")
          : null,
        c.stderr
          ? el("pre", { class: "err" }, c.stderr, c.stderrMore ? "\n… (cut here; see full stderr)" : "")
          : null,
        ...c.errors.map((e) => el("p", { class: "error" }, e)),
      ),
    );
  }
}
