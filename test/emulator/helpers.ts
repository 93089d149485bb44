/** Plain-HTTP helpers for emulator tests (no dependency on the typed client being written in parallel). */
import { ManualClock, startEmulator } from "../../shared/emulator/index.js";
import type { EmulatorHandle, EmulatorOptions } from "../../shared/emulator/types.js";

export interface Harness {
  emu: EmulatorHandle;
  clock: ManualClock;
  token: string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
}

export interface Reply {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
  text: string;
}

export async function harness(options: EmulatorOptions = {}): Promise<Harness> {
  const clock = new ManualClock();
  const emu = await startEmulator({ clock, ...options });
  const token = emu.issueToken({ lifetimeMs: 30 * 24 * 3_600_000 });
  const h: Harness = {
    emu,
    clock,
    token,
    async call(method, path, body, headers = {}) {
      const init: RequestInit = {
        method,
        headers: {
          authorization: `Bearer ${h.token}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
          ...headers,
        },
      };
      if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
      const res = await fetch(`${emu.url}${path}`, init);
      const text = await res.text();
      let json: Record<string, unknown> = {};
      try {
        json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        json = {};
      }
      return { status: res.status, headers: res.headers, json, text };
    },
  };
  return h;
}

export function errorCode(reply: Reply): string | undefined {
  const error = reply.json.error as { code?: string } | undefined;
  return error?.code;
}

export const runScript = (name: string, args?: string) => ({
  type: "RunScript",
  params: [{ key: "ScriptName", value: name }, ...(args ? [{ key: "Args", value: args }] : [])],
});
export const getFile = (path: string) => ({ type: "GetFile", params: [{ key: "Path", value: path }] });
export const putFile = (name: string) => ({ type: "PutFile", params: [{ key: "FileName", value: name }] });

export interface ActionJson {
  id: string;
  status: string;
  lastUpdateDateTimeUtc: string;
  commands: {
    index: number;
    commandStatus: string;
    startTime: string | null;
    endTime: string | null;
    errors: string[];
  }[];
  [key: string]: unknown;
}

export function asAction(reply: Reply): ActionJson {
  return reply.json as unknown as ActionJson;
}
