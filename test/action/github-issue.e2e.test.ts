/**
 * The incident issue and ChatOps, end to end: the bundled action (dist/) as a process, the real
 * `@actions/github` client against the fake GitHub REST API, the MDE emulator and the artifact fakes.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { machineIdFor } from "../../shared/emulator/index.js";
import type { RunReport } from "../../shared/report/types.js";
import { issueCommentEvent, issuesEvent } from "./harness/github-api.js";
import { GH_TOKEN, GH_TOKEN_READONLY, type GitHubWorld, startGitHubWorld } from "./harness/github-world.js";
import type { FakeRunner, StepResult } from "./harness/runner.js";
import { secretInputs } from "./harness/world.js";
import { readZip } from "./harness/zip.js";

const WS1 = machineIdFor("ws1.contoso.local");
const WS2 = machineIdFor("ws2.contoso.local");
const OFFLINE = machineIdFor("ws3.contoso.local");
const HOSTILE = "done <img src=x onerror=alert(1)> @octocat #1 [click](https://evil.example) **x**";
let world: GitHubWorld;

beforeAll(async () => {
  const device = (name: string, durationMs: number) => ({
    computerDnsName: name,
    osPlatform: "Windows11",
    commandDurationMs: durationMs,
    scripts: {
      "collect.ps1": {
        exitCode: 0,
        stdout: `${HOSTILE} on ${name}`,
        creates: { "C:\\Temp\\e.zip": `E ${name}` },
      },
    },
  });
  world = await startGitHubWorld(
    {
      devices: [
        device("ws1.contoso.local", 200),
        device("ws2.contoso.local", 1_500),
        { ...device("ws3.contoso.local", 200), offline: true },
      ],
      library: [{ fileName: "collect.ps1", content: "Get-Process" }],
      pickupDelayMs: 100,
    },
    { issues: [7, 8, 9], roles: { alice: "maintain", bob: "write", carol: "admin" } },
  );
}, 60_000);

afterAll(async () => {
  await world?.close();
});

const RUNBOOK = [
  "name: triage",
  "targets:",
  `  machineIds: [${WS1}, ${WS2}]`,
  "commands:",
  "  - runScript: collect.ps1",
  "  - getFile: 'C:\\Temp\\e.zip'",
  "options:",
  "  pollInterval: 1",
  "",
].join("\n");

function withRunbook(runner: FakeRunner): string {
  mkdirSync(path.join(runner.workspace, "runbooks"), { recursive: true });
  const file = path.join(runner.workspace, "runbooks", "triage.yml");
  writeFileSync(file, RUNBOOK);
  return file;
}

/** The workspace as actions/checkout leaves it: a git repository at the commit that holds the runbook. */
function committed(workspace: string): string {
  const git = (...args: string[]) =>
    execFileSync("git", args, {
      cwd: workspace,
      encoding: "utf8",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@example.com",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@example.com",
        GIT_CONFIG_GLOBAL: "/dev/null",
        GIT_CONFIG_NOSYSTEM: "1",
      },
    }).trim();
  git("init", "-q", "-b", "main");
  git("add", ".");
  git("commit", "-q", "-m", "runbooks");
  return git("rev-parse", "HEAD");
}

const warnings = (s: StepResult) => s.commands.filter((c) => c.command === "warning").map((c) => c.message);
const submits = () => world.emu.records.filter((r) => r.kind === "submit");
const outsideCode = (html: string) => html.replace(/<code>[^<]*<\/code>/g, "");
const botComments = (issue: number) => world.gh.comments.filter((c) => c.issue === issue && c.type === "Bot");

describe("results on the incident issue", { timeout: 120_000 }, () => {
  it("keeps one comment up to date (plan, progress, final table with custody), labels the state, escapes device text", async () => {
    const runner = world.ghRunner({ event: { name: "issues", payload: issuesEvent(7) } });
    const runbookFile = withRunbook(runner);
    const commit = committed(runner.workspace);
    const main = await runner.run("main", {
      runbook: "runbooks/triage.yml",
      ...secretInputs(world.emu),
      "github-token": GH_TOKEN,
      "issue-labels": "true",
    });
    expect(main.exitCode, main.log + main.stderr).toBe(0);
    const runId = main.outputs["run-id"] ?? "";
    expect(runId).toMatch(/^\d{8}T\d{6}-[0-9a-f]{8}$/);

    // One comment, created at plan time and edited in place: never a flood.
    const mine = botComments(7);
    expect(mine).toHaveLength(1);
    const comment = mine[0];
    if (!comment) throw new Error("no comment");
    expect(main.outputs["issue-comment-url"]).toContain(`#issuecomment-${comment.id}`);
    const creates = world.gh.requests.filter(
      (r) => r.method === "POST" && r.path.endsWith("/issues/7/comments"),
    );
    expect(creates).toHaveLength(1);
    const [first] = comment.history;
    expect(first).toContain(`<!-- mde-lr:run=${runId} -->`);
    expect(first).toContain("0 of 2 device(s) done");
    expect(first).toMatch(/estimated \d+ (s|min)/);
    expect(first).toContain("ws2.contoso.local");
    expect(comment.history.some((b) => b.includes("1 of 2 device(s) done"))).toBe(true);
    // Throttled: a handful of writes for a run with two devices, not one per event.
    expect(comment.history.length).toBeGreaterThanOrEqual(3);
    expect(comment.history.length).toBeLessThanOrEqual(6);

    const final = comment.body;
    expect(final).toContain("✅ succeeded");
    expect(final).toContain("<th>Steps</th>");
    expect(final).toContain(`href="${main.outputs["artifact-url"]}"`);
    expect(final).toContain("Chain of custody");
    expect(final).toContain("<code>responder</code>");
    expect(final).toContain("http://github.localhost/contoso/ir-runbooks/actions/runs/4242/attempts/1");
    const runbookSha = createHash("sha256").update(readFileSync(runbookFile)).digest("hex");
    expect(final).toContain(runbookSha);
    expect(final).toContain(`<td>Runbook commit</td><td><code>${commit} (main)</code>`);
    expect(final).toContain(`<td>MDE requestor</td><td><code>${world.emu.demoApp.clientId}</code>`);
    expect(final).toMatch(
      /<td>Started [^<]+<\/td><td><code>responder, workflow Incident response, on issues<\/code>/,
    );
    // Device output is attacker-controlled: escaped inside <code>, never a tag, mention or link.
    expect(final).toContain("&#64;octocat");
    for (const body of comment.history) {
      expect(body).not.toContain("<img");
      expect(outsideCode(body)).not.toMatch(/octocat|evil\.example|#1\b/);
      expect(body.length).toBeLessThanOrEqual(65_536);
    }
    expect([...(world.gh.labels.get(7) ?? [])]).toEqual(["mde-lr:succeeded"]);

    // Every machine action's Comment points back at this workflow run; the run tag is intact.
    const mineSubmits = submits().filter(
      (s) => s.kind === "submit" && s.comment.includes(`[mde-lr:${runId}/`),
    );
    expect(mineSubmits.length).toBeGreaterThanOrEqual(2);
    for (const s of mineSubmits) {
      if (s.kind !== "submit") continue;
      expect(s.comment).toMatch(
        new RegExp(
          `GitHub Actions by responder: http://github\\.localhost/contoso/ir-runbooks/actions/runs/4242/attempts/1 \\[mde-lr:${runId}/\\d+(-\\d+)?\\]$`,
        ),
      );
    }
    // The token is masked and only ever sent as the Authorization header.
    expect(main.masks).toContain(GH_TOKEN);
    expect(world.gh.requests.every((r) => r.authorization === `token ${GH_TOKEN}`)).toBe(true);
    // The run folder keeps the GitHub record for the post step and later runs.
    const zip = readZip(await world.results.download(world.results.artifacts.at(-1)?.name ?? ""));
    const record = JSON.parse(zip.get("github-run.json")?.toString() ?? "{}") as {
      issue: number;
      commentId: number;
    };
    expect(record).toMatchObject({ issue: 7, commentId: comment.id });
    // report.json's chain of custody: this workflow run, the app, the requestor, the committed runbook.
    const report = JSON.parse(zip.get("report.json")?.toString() ?? "{}") as RunReport;
    expect(report.schemaVersion).toBe(3);
    expect(report.custody?.sessions).toEqual([
      {
        role: "start",
        at: report.startedAt,
        initiator: {
          kind: "github-action",
          user: "responder",
          repository: "contoso/ir-runbooks",
          workflow: "Incident response",
          eventName: "issues",
          runId: "4242",
          runAttempt: "1",
          runUrl: "http://github.localhost/contoso/ir-runbooks/actions/runs/4242/attempts/1",
        },
        app: {
          clientId: world.emu.demoApp.clientId,
          tenantId: world.emu.demoApp.tenantId,
          source: "connection",
        },
      },
    ]);
    expect(report.custody?.requestors).toEqual([world.emu.demoApp.clientId]);
    expect(report.custody?.runbook).toMatchObject({
      name: "triage",
      sha256: runbookSha,
      hashOf: "file",
      path: "runbooks/triage.yml",
      git: { commit, ref: "refs/heads/main" },
    });
    // The runbook's comment is the user's own; the pointer is added per submission, not planned in.
    expect(report.comment).toBeNull();
  });

  it("a cancelled job: the post step writes the cancelled state into the same comment", async () => {
    const runner = world.ghRunner({ event: { name: "issues", payload: issuesEvent(7) } });
    const inputs = {
      runbook: RUNBOOK.replace(`[${WS1}, ${WS2}]`, `[${OFFLINE}]`),
      ...secretInputs(world.emu),
      "github-token": GH_TOKEN,
      "issue-labels": "true",
      "upload-artifact": "false",
    };
    const main = runner.start("main", inputs);
    await main.waitForLog(new RegExp(`Submitted step \\d+ to ${OFFLINE}`), 30_000);
    await main.waitForLog("Incident comment on issue #7", 10_000);
    main.child.kill("SIGINT");
    const stopped = await main.result;
    expect(stopped.exitCode).not.toBe(0);
    const post = await runner.run("post", inputs);
    // A cancelled run fails the step (fail-on); the comment still gets its final state.
    expect(post.exitCode, post.log).toBe(1);
    expect(post.log).toContain("the run was cancelled");
    const runId = /mde-lr:run=(\S+) -->/.exec(botComments(7).at(-1)?.body ?? "")?.[1] ?? "";
    const mine = world.gh.comments.filter((c) => c.body.includes(`mde-lr:run=${runId}`));
    expect(mine).toHaveLength(1);
    expect(mine[0]?.body).toContain("🚫 cancelled");
    // Custody: the post step that cancelled is on record after the main step that started.
    expect(mine[0]?.body).toMatch(
      /<td>Started [^<]+<\/td><td><code>responder, workflow Incident response, on issues<\/code>.*<td>Cancelled [^<]+<\/td><td><code>responder, workflow Incident response, on issues<\/code>/,
    );
    expect([...(world.gh.labels.get(7) ?? [])]).toEqual(["mde-lr:cancelled"]);
  });

  it("without issues: write the step says so and still succeeds", async () => {
    const runner = world.ghRunner({ event: { name: "issues", payload: issuesEvent(9) } });
    withRunbook(runner);
    const main = await runner.run("main", {
      runbook: "runbooks/triage.yml",
      ...secretInputs(world.emu),
      "github-token": GH_TOKEN_READONLY,
      "upload-artifact": "false",
    });
    expect(main.exitCode, main.log).toBe(0);
    expect(main.outputs["status"]).toBe("succeeded");
    const said = warnings(main).filter((w) => w.includes("issues: write"));
    // Said once, then no more attempts.
    expect(said).toHaveLength(1);
    expect(said[0]).toContain("Resource not accessible by integration");
    expect(botComments(9)).toHaveLength(0);
    const attempts = world.gh.requests.filter((r) => r.path.includes("/issues/9/") && r.method !== "GET");
    expect(attempts).toHaveLength(1);
  });
});

describe("ChatOps: /live-response on an incident issue", { timeout: 120_000 }, () => {
  function chatops(login: string, body: string, extra: { type?: "User" | "Bot"; issue?: number } = {}) {
    const issue = extra.issue ?? 8;
    const typed = world.gh.addUserComment(issue, login, body, extra.type);
    const runner = world.ghRunner({
      event: {
        name: "issue_comment",
        payload: issueCommentEvent({
          issue,
          comment: { id: typed.id, body, login, type: extra.type ?? "User" },
        }),
      },
    });
    withRunbook(runner);
    const inputs = {
      chatops: "true",
      ...secretInputs(world.emu),
      "github-token": GH_TOKEN,
      "upload-artifact": "false",
    };
    return { runner, typed, inputs, issue };
  }
  const reactions = (id: number) =>
    world.gh.reactions.filter((r) => r.commentId === id).map((r) => r.content);
  const replies = (issue: number, after: number) =>
    world.gh.comments.filter(
      (c) => c.issue === issue && c.type === "Bot" && c.id > after && !c.body.startsWith("<!-- mde-lr:"),
    );

  it("a maintainer's command runs the named runbook on the named device, acknowledged at once", async () => {
    const { runner, typed, inputs } = chatops("alice", `/live-response triage.yml ${WS1}`);
    const before = submits().length;
    const main = await runner.run("main", inputs);
    expect(main.exitCode, main.log + main.stderr).toBe(0);
    expect(reactions(typed.id)).toEqual(["eyes", "rocket"]);
    const sent = submits().slice(before);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((s) => s.kind === "submit" && s.machineId === WS1)).toBe(true);
    const incident = world.gh.comments.find(
      (c) => c.issue === 8 && c.body.includes(`mde-lr:run=${main.outputs["run-id"]}`),
    );
    expect(incident?.body).toContain("<code>alice</code>");
    expect(incident?.body).toContain("runbooks/triage.yml");
    // Custody: the workflow's actor ran it for the commenter.
    expect(incident?.body).toContain(
      "<code>responder (for alice), workflow Incident response, on issue&#95;comment</code>",
    );
    // The permission was checked with Octokit before anything was submitted.
    const check = world.gh.requests.findIndex((r) => r.path.endsWith("/collaborators/alice/permission"));
    expect(check).toBeGreaterThanOrEqual(0);
  });

  it("refuses a commenter below the required role, naming it, and submits nothing", async () => {
    const { runner, typed, inputs } = chatops("bob", `/live-response triage.yml ${WS1}`);
    const calls = world.emu.records.length;
    const lastId = Math.max(...world.gh.comments.map((c) => c.id));
    const main = await runner.run("main", inputs);
    expect(main.exitCode).toBe(1);
    const [reply] = replies(8, lastId);
    expect(reply?.body).toContain("needs the <b>maintain</b> role or higher");
    expect(reply?.body).toContain("<code>write</code>");
    expect(reactions(typed.id)).toEqual(["eyes", "-1"]);
    // Not a single call reached Defender (no sign-in either).
    expect(world.emu.records.slice(calls).filter((r) => r.kind === "call" || r.kind === "submit")).toEqual(
      [],
    );

    // The same commenter passes when the workflow asks for write only.
    const again = chatops("bob", `/live-response triage.yml ${WS2}`);
    const ok = await again.runner.run("main", { ...again.inputs, "chatops-permission": "write" });
    expect(ok.exitCode, ok.log).toBe(0);
  });

  it("replies to a malformed command (a path, inline YAML) and submits nothing", async () => {
    for (const body of [
      `/live-response ../../etc/passwd ${WS1}`,
      `/live-response triage.yml ${WS1}\ncommands: [x]`,
    ]) {
      const { runner, inputs } = chatops("carol", body);
      const calls = world.emu.records.length;
      const lastId = Math.max(...world.gh.comments.map((c) => c.id));
      const main = await runner.run("main", inputs);
      expect(main.exitCode).toBe(1);
      const [reply] = replies(8, lastId);
      expect(reply?.body).toMatch(/^<p>Not run: /);
      expect(reply?.body).toContain("Usage:");
      expect(reply?.body).not.toContain("\n\n");
      expect(world.emu.records.slice(calls).filter((r) => r.kind === "submit")).toEqual([]);
    }
  });

  it("ignores comments by bots (its own replies included): no reply, no reaction, no run", async () => {
    const { runner, typed, inputs } = chatops("github-actions[bot]", `/live-response triage.yml ${WS1}`, {
      type: "Bot",
    });
    const lastId = Math.max(...world.gh.comments.map((c) => c.id));
    const main = await runner.run("main", inputs);
    expect(main.exitCode).toBe(0);
    expect(main.log).toContain("comment by a bot");
    expect(reactions(typed.id)).toEqual([]);
    expect(replies(8, lastId)).toEqual([]);
  });
});
