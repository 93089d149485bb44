/**
 * The GitHub side of one run, glue between the core's run events and the incident issue: the live view
 * of the run, the one comment and its labels, and github-run.json in the run folder. Everything here is
 * best effort: a GitHub failure is a warning, never a failed collection.
 */

import * as core from "@actions/core";
import { entryId } from "../../shared/report/label.js";
import type { RunReport } from "../../shared/report/types.js";
import type { RunEvent } from "../../shared/run/types.js";
import type { UploadOutcome } from "../artifact.js";
import type { GitHubClient } from "./client.js";
import type { DeviceLine, IncidentView } from "./comment-body.js";
import { IncidentComment } from "./incident.js";
import type { GitHubInputs } from "./inputs.js";
import { custodyLines, type RunRecord, writeRunRecord } from "./run-record.js";

export interface SideOptions {
  gh: GitHubInputs;
  client: GitHubClient | null;
  outDir: string;
  record: RunRecord;
  runbookName: string;
  artifactName: string | null;
  /** Devices known before any event (a resumed run: from its report). */
  devices?: DeviceLine[];
  runId?: string | null;
  startedAt?: string | null;
}

const log = { info: (m: string) => core.info(m), warning: (m: string) => core.warning(m) };

/** Test knob for the edit cadence (see incident.ts); never below GitHub's 1 s between mutations. */
function intervalFromEnv(): number | undefined {
  const v = Number(process.env["MDE_LR_COMMENT_EDIT_INTERVAL_MS"]);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

export class GitHubSide {
  readonly incident: IncidentComment | null;
  private readonly view: IncidentView;
  private readonly options: SideOptions;

  constructor(options: SideOptions) {
    this.options = options;
    const issue = options.gh.issue ?? options.record.issue;
    // The earlier comment is reused only on the same issue.
    const knownComment = issue === options.record.issue ? options.record.commentId : null;
    this.options.record.issue = issue;
    const interval = intervalFromEnv();
    this.incident =
      options.client && options.gh.comment && issue !== null
        ? new IncidentComment({
            client: options.client,
            issue,
            labels: options.gh.labels,
            log,
            commentId: knownComment,
            ...(interval ? { intervalMs: interval } : {}),
          })
        : null;
    this.view = {
      runId: options.runId ?? "",
      status: "running",
      runbook: options.runbookName,
      devices: options.devices ?? [],
      etaSeconds: null,
      startedAt: options.startedAt ?? null,
      report: null,
      artifactUrl: null,
      artifactNote: null,
      resumeHint: null,
      custody: custodyLines(options.record, null),
      reportCustody: null,
      updatedAt: new Date().toISOString(),
    };
  }

  setArtifactName(name: string | null): void {
    this.options.artifactName = name;
  }

  private snapshot(): IncidentView {
    return { ...this.view, devices: [...this.view.devices], updatedAt: new Date().toISOString() };
  }

  private saveRecord(): void {
    try {
      this.options.record.commentId = this.incident?.id ?? this.options.record.commentId;
      writeRunRecord(this.options.outDir, this.options.record);
    } catch (error) {
      core.warning(`github-run.json not written: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private created = false;

  /** Devices the view does not list yet (statuses already seen are kept). */
  private addDevices(devices: readonly { machineId: string; computerDnsName: string | null }[]): void {
    const known = new Set(this.view.devices.map((d) => d.machineId));
    for (const d of devices) {
      if (!known.has(d.machineId)) this.view.devices.push({ ...d, status: null });
    }
  }

  /** A resumed run: say so on the issue before anything else happens. */
  async begin(): Promise<void> {
    this.saveRecord();
    if (!this.incident || !this.view.runId) return;
    await this.incident.write(this.snapshot());
    await this.incident.label("running");
    this.saveRecord();
  }

  /** RunContext.onEvent: must not throw, must not block. */
  onEvent = (event: RunEvent): void => {
    try {
      if (event.type === "started") {
        this.view.runId = event.runId;
        this.view.startedAt = new Date().toISOString();
      } else if (event.type === "resolved") {
        // Targets resolve batch by batch while the first devices already run: the comment is created
        // with the first batch and grows with the next ones.
        this.addDevices(event.devices);
        this.view.etaSeconds = event.etaSeconds;
        if (!this.created) {
          this.created = true;
          this.saveRecord();
          if (this.incident) {
            void this.incident
              .write(this.snapshot())
              .then(() => this.incident?.label("running"))
              .then(() => this.saveRecord());
          }
        } else {
          this.incident?.update(this.snapshot());
        }
      } else if (event.type === "planned") {
        this.view.runId = event.runId;
        this.view.etaSeconds = event.etaSeconds ?? null;
        this.addDevices(event.machines ?? []);
        this.saveRecord();
        this.incident?.update(this.snapshot());
      } else if (event.type === "deviceDone") {
        const d = this.view.devices.find((x) => x.machineId === event.machineId);
        if (d) d.status = event.status;
        else
          this.view.devices.push({ machineId: event.machineId, computerDnsName: null, status: event.status });
        this.incident?.update(this.snapshot());
      }
    } catch {
      // onEvent must not throw (RunContext contract).
    }
  };

  /** The final state: table, counts, artifact link, custody; then the state label. */
  async finish(report: RunReport, upload: UploadOutcome | null, artifactNote: string | null): Promise<void> {
    this.view.runId = report.runId;
    this.view.status = report.status;
    this.view.report = report;
    this.view.devices = report.machines.map((m) => ({
      machineId: entryId(m),
      computerDnsName: m.computerDnsName,
      status: m.status,
    }));
    this.view.artifactUrl = upload?.ok ? upload.url : null;
    this.view.artifactNote = artifactNote;
    this.view.reportCustody = report.custody ?? null;
    this.view.custody = custodyLines(this.options.record, this.options.artifactName, Boolean(report.custody));
    this.view.resumeHint =
      report.status === "pending"
        ? `Devices are still queued. A later run with \`resume-from: ${report.runId}\` (or the scheduled harvest) collects them and cancels what times out; queued actions expire after 3 days.`
        : null;
    if (!this.incident) return;
    await this.incident.settle();
    await this.incident.write(this.snapshot());
    await this.incident.label(report.status);
    this.saveRecord();
  }
}
