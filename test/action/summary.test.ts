import { describe, expect, it } from "vitest";
import { groupFailures } from "../../action/annotations.js";
import { escapeHtml, formatDuration, renderSummary } from "../../action/summary.js";
import { command, machine, report } from "./harness/report-fixture.js";

describe("job summary", () => {
  it("escapes device-controlled text so it cannot inject HTML, links or mentions", () => {
    const evil = "<img src=x onerror=alert(1)> @octocat [x](https://evil) </td></table>\"'";
    const r = report([
      machine(1, {
        computerDnsName: evil,
        commands: [command({ stdout: evil, scriptName: "<b>s.ps1</b>" })],
      }),
    ]);
    const html = renderSummary(r);
    expect(html).not.toContain("<img");
    expect(html).not.toContain('</td></table>"');
    expect(html).not.toContain("@octocat");
    expect(html).not.toContain("[x](");
    expect(html).toContain("&#60;img src=x onerror=alert(1)&#62;");
    expect(html).not.toContain("<b>s.ps1</b>");
  });

  it("has one row per device and step with status, exit code, duration and a short excerpt", () => {
    const r = report([
      machine(1, {
        commands: [
          command({ step: 1, type: "PutFile", scriptName: "tool.exe", exitCode: null, stdout: null }),
          command({ step: 2, exitCode: 3, status: "failed", stdout: `${"x".repeat(500)}tail` }),
          command({
            step: 3,
            type: "GetFile",
            scriptName: null,
            path: "C:\\Windows\\Temp\\a.zip",
            status: "notRun",
          }),
        ],
        status: "failed",
      }),
      machine(2),
    ]);
    const html = renderSummary(r);
    expect(html.match(/<tr><td>/g)).toHaveLength(4);
    expect(html).toContain("<td>3</td>");
    expect(html).toContain("1 min 5 s");
    expect(html).toContain("C:&#92;Windows&#92;Temp&#92;a.zip");
    expect(html).not.toContain("tail"); // excerpt is cut
    expect(html).toContain("…");
  });

  it("stays under the budget and says how many rows were cut", () => {
    const machines = Array.from({ length: 3000 }, (_, i) =>
      machine(i, {
        commands: [command({ stdout: "y".repeat(400) }), command({ step: 2, stdout: "z".repeat(400) })],
      }),
    );
    const html = renderSummary(report(machines), {}, 200_000);
    expect(Buffer.byteLength(html)).toBeLessThanOrEqual(200_000);
    const shown = html.match(/<tr><td>/g)?.length ?? 0;
    expect(shown).toBeGreaterThan(10);
    expect(html).toContain(`Truncated: ${6000 - shown} of 6000 rows`);
  });

  it("full-size reports stay under the runner's 1 MiB limit by default", () => {
    const machines = Array.from({ length: 5000 }, (_, i) =>
      machine(i, { commands: [command({ stdout: "é".repeat(300) })] }),
    );
    expect(Buffer.byteLength(renderSummary(report(machines)))).toBeLessThan(1024 * 1024);
  });

  it("drops the PowerShell transcript header from excerpts", () => {
    const stdout = "Transcript started, output file is C:\\ProgramData\\x.txt\nfound 3 items\u0000\u0000";
    const html = renderSummary(report([machine(1, { commands: [command({ stdout })] })]));
    expect(html).toContain("<td>found 3 items</td>");
  });

  it("formats durations and escapes the HTML metacharacters", () => {
    expect(formatDuration("2026-01-01T00:00:00Z", "2026-01-01T00:00:00.250Z")).toBe("250 ms");
    expect(formatDuration("2026-01-01T00:00:00Z", "2026-01-01T00:02:00Z")).toBe("2 min");
    expect(formatDuration(null, "2026-01-01T00:02:00Z")).toBe("");
    expect(escapeHtml(`<a href="x">&'`)).toBe("&#60;a href=&#34;x&#34;&#62;&#38;&#39;");
  });
});

describe("annotations", () => {
  it("groups device failures by status and code instead of one per device", () => {
    const busy = { code: "ActiveRequestAlreadyExists", message: "Action is already in progress" };
    const machines = [
      ...Array.from({ length: 30 }, (_, i) => machine(i, { status: "failed", error: busy, commands: [] })),
      ...Array.from({ length: 4 }, (_, i) =>
        machine(100 + i, { status: "timedOut", error: null, commands: [] }),
      ),
      machine(200, {
        status: "skipped",
        error: { code: "Preflight.Inactive", message: "inactive" },
        commands: [],
      }),
      machine(300),
    ];
    const a = groupFailures(report(machines));
    expect(a).toHaveLength(3);
    expect(a[0]?.title).toBe("30 device(s) failed: ActiveRequestAlreadyExists");
    expect(a[0]?.message).toContain("and 20 more");
    expect(a[0]?.message).toContain("Action is already in progress");
    expect(a[1]?.title).toBe("4 device(s) timedOut: timedOut");
    expect(a[2]?.level).toBe("warning");
  });

  it("never emits more than five annotations", () => {
    const machines = Array.from({ length: 12 }, (_, i) =>
      machine(i, { status: "failed", error: { code: `Code${i}`, message: "m" }, commands: [] }),
    );
    const a = groupFailures(report(machines));
    expect(a).toHaveLength(5);
    expect(a[4]?.title).toBe("8 more device(s) not succeeded");
  });

  it("says nothing when every device succeeded", () => {
    expect(groupFailures(report([machine(1), machine(2)]))).toEqual([]);
  });
});
