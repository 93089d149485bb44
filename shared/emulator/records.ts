import type { EmulatorRecord } from "./types.js";

/**
 * Append-only log of what the emulator did. Per-call records can be switched off because chaos and
 * benchmark runs make hundreds of thousands of calls; everything else is rare enough to keep.
 */
export class RecordLog {
  readonly entries: EmulatorRecord[] = [];
  recordCalls: boolean;
  private readonly counts = new Map<string, number>();

  constructor(recordCalls: boolean) {
    this.recordCalls = recordCalls;
  }

  add(record: EmulatorRecord): void {
    this.entries.push(record);
  }

  call(at: number, method: string, route: string, path: string, status: number): void {
    const key = `${method} ${route}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (this.recordCalls) this.entries.push({ kind: "call", at, method, path, status });
  }

  callCounts(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
