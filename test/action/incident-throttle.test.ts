/** The incident comment's cadence: coalesced edits at most every interval, the final write at once. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { GitHubApiError, type GitHubClient } from "../../action/github/client.js";
import type { IncidentView } from "../../action/github/comment-body.js";
import { IncidentComment } from "../../action/github/incident.js";

const RUN = "20261123T064000-1a2b3c4d";
const view = (status: string, done: number): IncidentView => ({
  runId: RUN,
  status,
  runbook: "triage",
  devices: Array.from({ length: 3 }, (_, i) => ({
    machineId: String(i).repeat(40),
    computerDnsName: null,
    status: i < done ? "succeeded" : null,
  })),
  etaSeconds: 60,
  startedAt: null,
  report: null,
  artifactUrl: null,
  artifactNote: null,
  resumeHint: null,
  custody: [],
  reportCustody: null,
  updatedAt: "x",
});

/** Records what would be sent; only the calls IncidentComment makes. */
function recorder(fail: GitHubApiError | null = null) {
  const sent: { op: string; body: string }[] = [];
  const client = {
    owner: "contoso",
    repo: "ir-runbooks",
    createComment: async (_issue: number, body: string) => {
      if (fail) throw fail;
      sent.push({ op: "create", body });
      return { id: 1, url: "u" };
    },
    updateComment: async (id: number, body: string) => {
      sent.push({ op: "update", body });
      return { id, url: "u" };
    },
  } as unknown as GitHubClient;
  return { client, sent };
}

describe("incident comment cadence", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("coalesces updates: at most one edit per interval, with the newest state; the final write goes at once", async () => {
    const { client, sent } = recorder();
    const warnings: string[] = [];
    const c = new IncidentComment({
      client,
      issue: 7,
      labels: false,
      log: { info: () => {}, warning: (m) => warnings.push(m) },
      intervalMs: 30_000,
      now: () => Date.now(),
    });
    await c.write(view("running", 0));
    for (let done = 1; done <= 2; done++) c.update(view("running", done));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sent.map((s) => s.op)).toEqual(["create"]);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(sent.map((s) => s.op)).toEqual(["create", "update"]);
    expect(sent[1]?.body).toContain("2 of 3 device(s) done");
    c.update(view("running", 3));
    await c.settle();
    await c.write(view("succeeded", 3));
    expect(sent.map((s) => s.op)).toEqual(["create", "update", "update"]);
    expect(sent[2]?.body).toContain("succeeded");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sent).toHaveLength(3);
    expect(warnings).toEqual([]);
  });

  it("a 403 without issues: write is said once, then nothing more is attempted", async () => {
    const { client, sent } = recorder(new GitHubApiError(403, "Resource not accessible by integration", "x"));
    const warnings: string[] = [];
    const c = new IncidentComment({
      client,
      issue: 7,
      labels: true,
      log: { info: () => {}, warning: (m) => warnings.push(m) },
    });
    await c.write(view("running", 0));
    c.update(view("running", 1));
    await vi.advanceTimersByTimeAsync(120_000);
    await c.label("running");
    await c.write(view("succeeded", 3));
    expect(sent).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("the token lacks `issues: write`");
  });
});
