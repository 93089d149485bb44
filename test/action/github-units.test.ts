/** The GitHub side's pure parts: comment rendering, ChatOps parsing, roles, run names, unzip, pointers. */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCommand, screenComment } from "../../action/github/chatops.js";
import {
  COMMENT_BUDGET,
  commentMarker,
  type IncidentView,
  markerRunId,
  renderIncidentComment,
} from "../../action/github/comment-body.js";
import { readRunEnvironment } from "../../action/github/event.js";
import { githubInitiator, githubPointer } from "../../action/github/initiator.js";
import { effectiveDetachMs, type GitHubInputs } from "../../action/github/inputs.js";
import { roleRank } from "../../action/github/permission.js";
import { chainArtifactName, parseChainName } from "../../action/github/resume.js";
import { extractZipInside } from "../../action/github/unzip.js";
import type { Custody } from "../../shared/report/types.js";
import { actionComment } from "../../shared/run/index.js";
import { POINTER_COMMENT_MAX } from "../../shared/state/tag.js";
import { command, machine, report } from "./harness/report-fixture.js";
import { writeZip } from "./harness/zip-writer.js";

const RUN = "20261123T064000-1a2b3c4d";

function custody(overrides: Partial<Custody> = {}): Custody {
  return {
    requestors: ["11111111-2222-3333-4444-555555555555"],
    sessions: [
      {
        role: "start",
        at: "2026-11-23T06:40:00.000Z",
        initiator: {
          kind: "github-action",
          user: "responder",
          requestedBy: "alice",
          workflow: "Incident response",
          eventName: "issue_comment",
          runUrl: "https://github.com/contoso/ir-runbooks/actions/runs/4242/attempts/1",
        },
        app: {
          clientId: "11111111-2222-3333-4444-555555555555",
          tenantId: "99999999-8888-7777-6666-555555555555",
          source: "connection",
        },
      },
      {
        role: "resume",
        at: "2026-11-23T07:40:00.000Z",
        initiator: { kind: "cli", user: "bob", host: "laptop-7" },
        app: { clientId: "11111111-2222-3333-4444-555555555555", tenantId: null, source: "token-claims" },
      },
    ],
    omittedSessions: 0,
    runbook: {
      name: "triage",
      sha256: "a".repeat(64),
      hashOf: "file",
      label: null,
      path: "runbooks/triage.yaml",
      git: { commit: "b".repeat(40), ref: "refs/heads/main", blob: "c".repeat(40) },
    },
    ...overrides,
  };
}
const EVIL =
  "<img src=x onerror=alert(1)> @octocat #12 [x](https://evil.example) **b** `c` | </code></td>\n\n# h";

function view(overrides: Partial<IncidentView> = {}): IncidentView {
  return {
    runId: RUN,
    status: "running",
    runbook: "triage",
    devices: [],
    etaSeconds: 240,
    startedAt: "2026-11-23T06:40:00.000Z",
    report: null,
    artifactUrl: null,
    artifactNote: null,
    resumeHint: null,
    custody: [{ label: "Requested by", value: "responder" }],
    reportCustody: null,
    updatedAt: "2026-11-23T06:41:00.000Z",
    ...overrides,
  };
}

/** Everything outside `<code>…</code>`: where Markdown, mentions and links would act. */
function outsideCode(html: string): string {
  return html.replace(/<code>[^<]*<\/code>/g, "");
}

describe("incident comment body", () => {
  it("starts with the marker, shows devices and the ETA at plan time", () => {
    const body = renderIncidentComment(
      view({ devices: [{ machineId: "a".repeat(40), computerDnsName: "ws1.contoso.local", status: null }] }),
    );
    expect(body.startsWith(commentMarker(RUN))).toBe(true);
    expect(markerRunId(body)).toBe(RUN);
    expect(body).toContain("estimated 4 min");
    expect(body).toContain("waiting");
    expect(body).toContain("ws1.contoso.local");
    // One HTML block: a blank line would end it and let Markdown parse what follows.
    expect(body).not.toMatch(/\n\s*\n/);
  });

  it("escapes device text into <code> only: no tags, mentions, links, references or emphasis outside it", () => {
    const r = report([
      machine(1, {
        computerDnsName: EVIL,
        status: "failed",
        commands: [command({ stdout: EVIL, errors: [EVIL], status: "failed" })],
      }),
    ]);
    const body = renderIncidentComment(
      view({
        status: "partial",
        report: r,
        reportCustody: custody({
          requestors: [EVIL],
          sessions: [
            {
              role: "start",
              at: "x",
              initiator: { kind: "github-action", user: EVIL, runUrl: `https://evil.example/${EVIL}` },
              app: { clientId: EVIL, tenantId: null, source: "connection" },
            },
          ],
        }),
      }),
    );
    expect(body).not.toContain("<img");
    expect(body).not.toContain("](https://evil");
    expect(body).not.toMatch(/\n\s*\n/);
    const outside = outsideCode(body);
    expect(outside).not.toContain("octocat");
    expect(outside).not.toContain("evil.example");
    expect(outside).not.toContain("#12");
    // The escaped text is all there, inside code.
    expect(body).toContain("&#60;img src=x onerror=alert(1)&#62; &#64;octocat #12");
    expect((body.match(/<code>/g) ?? []).length).toBe((body.match(/<\/code>/g) ?? []).length);
  });

  it("stays under GitHub's 65,536-character limit with the cut stated", () => {
    const machines = Array.from({ length: 2000 }, (_, i) =>
      machine(i + 1, { commands: [command({ stdout: "x".repeat(300) }), command({ step: 2 })] }),
    );
    const body = renderIncidentComment(view({ status: "succeeded", report: report(machines) }));
    expect(body.length).toBeLessThanOrEqual(COMMENT_BUDGET);
    expect(body.length).toBeGreaterThan(COMMENT_BUDGET - 2000);
    expect(body).toMatch(
      /\d+ of 2000 device row\(s\) not shown: GitHub limits a comment to 65,536 characters/,
    );
    expect(body).toContain("Chain of custody");
  });

  it("renders report.custody: requestor, app, runbook and commit, every session with its link", () => {
    const body = renderIncidentComment(view({ reportCustody: custody() }));
    expect(body).toContain("Requested by");
    expect(body).toContain(
      "<td>MDE requestor</td><td><code>11111111-2222-3333-4444-555555555555</code></td>",
    );
    expect(body).toContain(
      "<code>client 11111111-2222-3333-4444-555555555555 · tenant 99999999-8888-7777-6666-555555555555</code>",
    );
    expect(body).toContain("tenant unknown (token claims, unverified)");
    expect(body).toContain("<code>triage · runbooks/triage.yaml</code>");
    expect(body).toContain(`<td>Runbook sha256 (file)</td><td><code>${"a".repeat(64)}</code>`);
    expect(body).toContain(`<code>${"b".repeat(40)} (main)</code>`);
    expect(body).toContain(
      "<td>Started 2026-11-23T06:40:00.000Z</td><td><code>responder (for alice), workflow Incident response, on issue&#95;comment</code>",
    );
    expect(body).toContain('<a href="https://github.com/contoso/ir-runbooks/actions/runs/4242/attempts/1">');
    expect(body).toContain(
      "<td>Resumed 2026-11-23T07:40:00.000Z</td><td><code>bob&#64;laptop-7 (CLI)</code>",
    );
    expect(body).not.toMatch(/\n\s*\n/);
  });

  it("shows the first and latest sessions of a long custody, and says how many are in report.json", () => {
    const one = custody().sessions[1]!;
    const sessions = Array.from({ length: 40 }, (_, i) => ({ ...one, at: `t${i}` }));
    const body = renderIncidentComment(view({ reportCustody: custody({ sessions, omittedSessions: 60 }) }));
    expect(body).toContain("<td>Resumed t0</td>");
    expect(body).toContain("<td>Resumed t39</td>");
    expect(body).not.toContain("<td>Resumed t5</td>");
    expect(body).toContain("88 more session(s) in report.json");
  });
});

describe("ChatOps parsing", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "chatops-"));
    mkdirSync(path.join(dir, "runbooks"));
    writeFileSync(path.join(dir, "runbooks", "triage.yaml"), "name: triage\n");
    writeFileSync(path.join(dir, "secret.yml"), "name: outside\n");
    symlinkSync(path.join(dir, "secret.yml"), path.join(dir, "runbooks", "linked.yml"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const id1 = "0123456789abcdef0123456789abcdef01234567";
  const id2 = "ABCDEF0123456789ABCDEF0123456789ABCDEF01";
  const parse = (body: string) => parseCommand(body, path.join(dir, "runbooks"), "runbooks");

  it("accepts a runbook name from the folder and 40-hex ids (lower-cased)", () => {
    const r = parse(`/live-response triage.yaml ${id1} ${id2}\n`);
    expect(r).toEqual({
      kind: "command",
      command: {
        runbookFile: "triage.yaml",
        runbookPath: path.join(dir, "runbooks", "triage.yaml"),
        machineIds: [id1, id2.toLowerCase()],
      },
    });
  });

  it.each([
    [`/live-response ../secret.yml ${id1}`, "not a runbook file name"],
    [`/live-response runbooks/triage.yaml ${id1}`, "not a runbook file name"],
    [`/live-response linked.yml ${id1}`, "no runbook"],
    [`/live-response missing.yml ${id1}`, "no runbook"],
    [`/live-response triage.yaml`, "no device id"],
    [`/live-response triage.yaml ${id1} ${id1}`, "listed twice"],
    [`/live-response triage.yaml ${id1} --force`, "not device ids"],
    [`/live-response triage.yaml ${id1.slice(0, 39)}`, "not device ids"],
    [`/live-response triage.yaml ${id1}\ncommands:\n  - runScript: x.ps1`, "on one line"],
    [`/live-response {commands: [x]} ${id1}`, "not a runbook file name"],
    [`/live-responsetriage.yaml ${id1}`, "must start with"],
    [
      `/live-response triage.yaml ${Array.from({ length: 51 }, (_, i) => i.toString(16).padStart(40, "0")).join(" ")}`,
      "at most 50",
    ],
  ])("rejects %j (%s)", (body, why) => {
    const r = parse(body);
    expect(r.kind).toBe("rejected");
    if (r.kind === "rejected") {
      expect(r.reply).toContain(why);
      expect(r.reply).toContain("Nothing was submitted");
      // Whatever the commenter typed is inside <code>, escaped.
      expect(outsideCode(r.reply)).not.toContain("secret.yml");
      expect(r.reply).not.toContain("<img");
    }
  });

  it("lists the folder's runbooks in the reply, never the symlink", () => {
    const r = parse(`/live-response nope.yml ${id1}`);
    expect(r.kind === "rejected" && r.reply).toContain("<code>triage.yaml</code>");
    expect(r.kind === "rejected" && r.reply).not.toContain("linked.yml");
  });

  it("ignores bots and edits, refuses pull requests", () => {
    const base = {
      action: "created",
      commentId: 1,
      body: `/live-response triage.yaml ${id1}`,
      login: "alice",
      userType: "User",
      isPullRequest: false,
    };
    expect(screenComment(base)).toBeNull();
    expect(screenComment({ ...base, userType: "Bot", login: "github-actions[bot]" })?.kind).toBe("ignored");
    expect(screenComment({ ...base, login: "renovate[bot]" })?.kind).toBe("ignored");
    expect(screenComment({ ...base, action: "edited" })?.kind).toBe("ignored");
    expect(screenComment({ ...base, body: "thanks!" })?.kind).toBe("ignored");
    expect(screenComment({ ...base, isPullRequest: true })?.kind).toBe("rejected");
  });
});

describe("collaborator roles", () => {
  it("uses role_name for base roles, the permission flags for custom roles, never guesses maintain", () => {
    expect(roleRank({ permission: "write", roleName: "maintain", flags: null }).rank).toBe(4);
    expect(roleRank({ permission: "write", roleName: "write", flags: null }).rank).toBe(3);
    expect(
      roleRank({ permission: "write", roleName: "ir-responder", flags: { maintain: true, push: true } }).rank,
    ).toBe(4);
    expect(roleRank({ permission: "write", roleName: "ir-responder", flags: null }).rank).toBe(3);
    expect(roleRank({ permission: "none", roleName: null, flags: null }).rank).toBe(0);
  });
});

describe("runs across workflow runs", () => {
  it("names pending artifacts after the run and reads the name back", () => {
    const name = chainArtifactName("mde-lr-triage-attempt1-3f2a1b0c", RUN, "pending");
    expect(name).toBe(`mde-lr-triage-attempt1-3f2a1b0c.${RUN}.pending`);
    expect(parseChainName(name)).toEqual({ runId: RUN, status: "pending" });
    expect(parseChainName("mde-lr-triage-attempt1-3f2a1b0c")).toBeNull();
    expect(parseChainName(`x.${RUN}.weird`)).toBeNull();
  });

  it("detaches at detach-after or 8 minutes before the job's timeout, whichever is first", () => {
    const gh = { detachAfterMs: null, jobTimeoutMinutes: null } as unknown as GitHubInputs;
    expect(effectiveDetachMs(gh, 0)).toBeUndefined();
    expect(effectiveDetachMs({ ...gh, detachAfterMs: 60_000 }, 0)).toBe(60_000);
    expect(effectiveDetachMs({ ...gh, jobTimeoutMinutes: 60 }, 120_000)).toBe(
      60 * 60_000 - 8 * 60_000 - 120_000,
    );
    expect(effectiveDetachMs({ ...gh, jobTimeoutMinutes: 60, detachAfterMs: 60_000 }, 0)).toBe(60_000);
    expect(effectiveDetachMs({ ...gh, jobTimeoutMinutes: 10 }, 5 * 60_000)).toBe(0);
  });

  describe("unpacking another run's artifact", () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), "unzip-"));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("unpacks a run folder", async () => {
      const zip = path.join(dir, "ok.zip");
      writeFileSync(
        zip,
        writeZip([
          { name: "run.json", data: "{}" },
          { name: "dev/a.txt", data: "A" },
        ]),
      );
      const dest = path.join(dir, "ok");
      expect(await extractZipInside(zip, dest)).toEqual({ files: 2, bytes: 3 });
      expect(readFileSync(path.join(dest, "dev", "a.txt"), "utf8")).toBe("A");
    });

    it.each([
      ["../escape.txt", undefined],
      ["dev/../../escape.txt", undefined],
      ["/tmp/escape.txt", undefined],
      ["dev\\..\\..\\escape.txt", undefined],
      ["link", 0o120777],
    ])("refuses the entry %j and writes nothing outside", async (name, mode) => {
      const zip = path.join(dir, "bad.zip");
      writeFileSync(zip, writeZip([{ name, data: "/etc/passwd", ...(mode ? { mode } : {}) }]));
      const dest = path.join(dir, `bad-${Math.random().toString(36).slice(2)}`);
      await expect(extractZipInside(zip, dest)).rejects.toThrow();
      expect(existsSync(path.join(dir, "escape.txt"))).toBe(false);
      expect(existsSync("/tmp/escape.txt")).toBe(false);
    });

    it("refuses a folder that is not empty", async () => {
      const zip = path.join(dir, "ok2.zip");
      writeFileSync(zip, writeZip([{ name: "run.json", data: "{}" }]));
      const dest = path.join(dir, "busy");
      mkdirSync(dest);
      writeFileSync(path.join(dest, "x"), "");
      await expect(extractZipInside(zip, dest)).rejects.toThrow(/empty folder/);
    });
  });
});

describe("the pointer in every machine action's Comment", () => {
  const env = {
    GITHUB_REPOSITORY: "contoso/ir-runbooks",
    GITHUB_RUN_ID: "4242",
    GITHUB_RUN_ATTEMPT: "2",
    GITHUB_ACTOR: "responder",
    GITHUB_SERVER_URL: "https://github.com",
  };
  const pointer = (e: Record<string, string>) => githubPointer(readRunEnvironment(e));
  it("ends with the run URL (with the attempt) after the runbook's own comment, then the run tag", () => {
    expect(actionComment("IR-123 triage", RUN, [1], pointer(env))).toBe(
      `IR-123 triage | GitHub Actions by responder: https://github.com/contoso/ir-runbooks/actions/runs/4242/attempts/2 [mde-lr:${RUN}/1]`,
    );
    expect(actionComment(null, RUN, [1, 2], pointer(env))).toBe(
      `GitHub Actions by responder: https://github.com/contoso/ir-runbooks/actions/runs/4242/attempts/2 [mde-lr:${RUN}/1-2]`,
    );
    // Outside a repository (a local runner without GITHUB_REPOSITORY) there is no pointer to give.
    expect(pointer({})).toBeNull();
    expect(actionComment("IR-1", RUN, [1], pointer({}))).toBe(`IR-1 [mde-lr:${RUN}/1]`);
  });
  it("cuts the runbook's comment, never the pointer or the run tag", () => {
    const full = actionComment("x".repeat(5000), RUN, [100, 200], pointer(env));
    expect(full.length).toBeLessThanOrEqual(POINTER_COMMENT_MAX);
    expect(full).toContain("https://github.com/contoso/ir-runbooks/actions/runs/4242/attempts/2");
    expect(full).toContain("x…");
    expect(full.endsWith(`[mde-lr:${RUN}/100-200]`)).toBe(true);
    const repo = { ...env, GITHUB_REPOSITORY: `${"o".repeat(39)}/${"r".repeat(100)}` };
    expect(actionComment("y".repeat(900), RUN, [1, 2], pointer(repo)).length).toBeLessThanOrEqual(
      POINTER_COMMENT_MAX,
    );
  });
});

describe("the action as a run's initiator", () => {
  it("names the workflow run, its attempt and page, the actor, and the person a ChatOps run was for", () => {
    const run = readRunEnvironment({
      GITHUB_REPOSITORY: "contoso/ir-runbooks",
      GITHUB_RUN_ID: "4242",
      GITHUB_RUN_ATTEMPT: "2",
      GITHUB_ACTOR: "responder",
      GITHUB_WORKFLOW: "Incident response",
      GITHUB_WORKFLOW_REF: "contoso/ir-runbooks/.github/workflows/ir.yml@refs/heads/main",
      GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567",
      GITHUB_EVENT_NAME: "issue_comment",
      GITHUB_SERVER_URL: "https://github.com",
    });
    expect(githubInitiator(run, "alice")).toEqual({
      kind: "github-action",
      user: "responder",
      requestedBy: "alice",
      repository: "contoso/ir-runbooks",
      workflow: "Incident response",
      workflowRef: "contoso/ir-runbooks/.github/workflows/ir.yml@refs/heads/main",
      commit: "0123456789abcdef0123456789abcdef01234567",
      eventName: "issue_comment",
      runId: "4242",
      runAttempt: "2",
      runUrl: "https://github.com/contoso/ir-runbooks/actions/runs/4242/attempts/2",
    });
    // The actor asking for themself is not repeated; a local runner knows almost nothing.
    expect(githubInitiator(run, "responder").requestedBy).toBeUndefined();
    expect(githubInitiator(readRunEnvironment({}), null)).toEqual({ kind: "github-action" });
  });
});
