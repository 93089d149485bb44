import { describe, expect, it } from "vitest";
import {
  checkActionId,
  checkIndex,
  checkLibraryFileName,
  checkLiveResponseRequest,
  checkMachineId,
  checkQuery,
} from "../../shared/api/validate.js";
import { InputError } from "../../shared/errors.js";

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).field;
  }
  throw new Error("expected InputError");
}

describe("input validation", () => {
  it("checks ids, names and indexes", () => {
    expect(checkMachineId("A".repeat(40))).toBe("a".repeat(40));
    expect(fieldOf(() => checkMachineId("abc"))).toBe("machineId");
    expect(checkActionId("C141BB71-8125-4234-A184-0123456789AB")).toBe(
      "c141bb71-8125-4234-a184-0123456789ab",
    );
    expect(fieldOf(() => checkActionId("123"))).toBe("actionId");
    expect(checkLibraryFileName("collect_v2.ps1")).toBe("collect_v2.ps1");
    expect(fieldOf(() => checkLibraryFileName("../etc/passwd"))).toBe("fileName");
    expect(fieldOf(() => checkLibraryFileName(".."))).toBe("fileName");
    expect(fieldOf(() => checkLibraryFileName("a b.ps1"))).toBe("fileName");
    expect(checkIndex(0)).toBe(0);
    expect(fieldOf(() => checkIndex(-1))).toBe("commandIndex");
    expect(fieldOf(() => checkIndex(1.5))).toBe("commandIndex");
    expect(fieldOf(() => checkQuery({ top: 10_001 }))).toBe("query.top");
    expect(fieldOf(() => checkQuery({ skip: -2 }))).toBe("query.skip");
  });

  it("checks live response requests: non-empty, order, params", () => {
    expect(fieldOf(() => checkLiveResponseRequest({ Commands: [], Comment: "x" }))).toBe("request.Commands");
    expect(
      fieldOf(() =>
        checkLiveResponseRequest({
          Commands: [
            { type: "GetFile", params: [{ key: "Path", value: "C:\\x" }] },
            { type: "RunScript", params: [{ key: "ScriptName", value: "a.ps1" }] },
          ],
          Comment: "x",
        }),
      ),
    ).toBe("request.Commands[1].type");
    expect(
      fieldOf(() =>
        checkLiveResponseRequest({ Commands: [{ type: "RunScript", params: [] }], Comment: "x" }),
      ),
    ).toBe("request.Commands[0].params");
    checkLiveResponseRequest({
      Commands: [
        { type: "PutFile", params: [{ key: "FileName", value: "tool.exe" }] },
        {
          type: "RunScript",
          params: [
            { key: "ScriptName", value: "a.ps1" },
            { key: "Args", value: "-x" },
          ],
        },
        { type: "GetFile", params: [{ key: "Path", value: "C:\\out.zip" }] },
      ],
      Comment: "tag",
    });
  });
});
