/**
 * examples/workflows/*.yml: valid YAML workflows whose steps using this action pass only inputs that
 * action.yml declares, read only outputs it declares, pin it by SHA, and grant the permissions the
 * features they use need (issues: write for comments and ChatOps, actions: read for resume/find-pending).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

interface Step {
  id?: string;
  uses?: string;
  with?: Record<string, unknown>;
  run?: string;
}
interface Job {
  permissions?: Record<string, string>;
  steps: Step[];
  strategy?: { matrix?: Record<string, unknown> };
  outputs?: Record<string, string>;
}
interface Workflow {
  on: unknown;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const action = parse(readFileSync("action.yml", "utf8")) as {
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
};
const dir = "examples/workflows";
const files = readdirSync(dir).filter((f) => f.endsWith(".yml"));
const ours = (s: Step) => s.uses?.startsWith("contoso/mde-live-response@") || s.uses === "./";

describe("example workflows", () => {
  it("exist for ChatOps, the scheduled harvest, the tenants matrix and an incident issue", () => {
    expect(files.sort()).toEqual([
      "chatops.yml",
      "harvest.yml",
      "incident-dispatch.yml",
      "tenants-matrix.yml",
    ]);
  });

  it.each(files)("%s uses real inputs and outputs, pins by SHA, grants what it needs", (file) => {
    const text = readFileSync(path.join(dir, file), "utf8");
    const wf = parse(text) as Workflow;
    expect(wf.on).toBeTruthy();
    let used = 0;
    for (const [name, job] of Object.entries(wf.jobs)) {
      const perms = { ...(wf.permissions ?? {}), ...(job.permissions ?? {}) };
      for (const step of job.steps.filter(ours)) {
        used++;
        expect(step.uses, `${file} ${name}`).toMatch(/@[0-9a-f]{40}$/);
        // The version the SHA stands for, as a comment (readers and Dependabot use it).
        expect(text).toContain(`${step.uses} # v`);
        const inputs = Object.keys(step.with ?? {});
        for (const input of inputs) expect(Object.keys(action.inputs), `${file}: ${input}`).toContain(input);
        const w = step.with ?? {};
        if (w["chatops"] === true || w["issue"] !== undefined || w["resume-from"] !== undefined) {
          expect(perms["issues"], `${file} ${name}: issues`).toBe("write");
        }
        if (w["resume-from"] !== undefined || w["find-pending"] === true) {
          expect(perms["actions"], `${file} ${name}: actions`).toBe("read");
        }
        if (w["tenant-id"] !== undefined)
          expect(perms["id-token"], `${file} ${name}: id-token`).toBe("write");
      }
    }
    expect(used).toBeGreaterThan(0);
    for (const m of text.matchAll(/steps\.[\w-]+\.outputs\.([\w-]+)/g)) {
      expect(Object.keys(action.outputs), `${file}: output ${m[1]}`).toContain(m[1]);
    }
  });

  it("the harvest finds pending runs first, then resumes each in a matrix leg", () => {
    const wf = parse(readFileSync(path.join(dir, "harvest.yml"), "utf8")) as Workflow;
    expect(JSON.stringify(wf.on)).toContain("schedule");
    const find = wf.jobs["find"]?.steps.find(ours);
    expect(find?.with?.["find-pending"]).toBe(true);
    const resume = wf.jobs["resume"];
    expect(String(resume?.strategy?.matrix?.["run"])).toContain("fromJSON(needs.find.outputs.runs)");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a workflow expression, not a template
    expect(resume?.steps.find(ours)?.with?.["resume-from"]).toBe("${{ matrix.run }}");
  });

  it("ChatOps listens to new comments on issues only", () => {
    const wf = parse(readFileSync(path.join(dir, "chatops.yml"), "utf8")) as Workflow & {
      jobs: Record<string, Job & { if?: string }>;
    };
    expect(wf.on).toEqual({ issue_comment: { types: ["created"] } });
    const job = Object.values(wf.jobs)[0];
    expect(job?.if).toContain("!github.event.issue.pull_request");
    expect(job?.if).toContain("startsWith(github.event.comment.body, '/live-response ')");
  });
});
