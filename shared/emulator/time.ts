/**
 * MDE timestamps: ISO-8601 UTC with `Z` (mde-api.md §3, §7.19). The real service trims trailing zeros
 * (.NET): captures show 2 to 7 fractional digits (real-captures README, O2's command times carry 6),
 * so a client must never assume 7. `captured` (the default) renders each instant with a digit count
 * derived from the instant itself (2–7, trailing digit non-zero), `fixed7` keeps the older 7-digit form.
 *
 * The emulator's instants are milliseconds (fractional with a ScaledClock). Digits past the millisecond
 * are the clock's own fraction when it has one, else a deterministic pattern of the instant: the
 * rendered value never leaves the instant's millisecond, so the same instant always renders the same
 * string and instants a millisecond or more apart keep their order.
 */
export type TimestampDigits = "captured" | "fixed7";

/** Renders an instant; the same instant always gives the same string. */
export type Stamp = (ms: number) => string;

/** The older form: always 7 fractional digits. */
export function mdeTimestamp(ms: number): string {
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString(); // 2021-02-04T15:36:52.778Z
  // Sub-millisecond digits come from the fractional part of a scaled-clock reading.
  const ticks = Math.floor((ms - whole) * 10_000)
    .toString()
    .padStart(4, "0");
  return `${iso.slice(0, 23)}${ticks}Z`;
}

/** A small integer hash of the instant (stable across runs), choosing its digit count and tail. */
function mix(n: number): number {
  let h = (Math.floor(n) ^ Math.floor(n / 4294967296)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** 2–7 fractional digits, trailing zeros trimmed as .NET does, never fewer than 2. */
export function capturedTimestamp(ms: number): string {
  const whole = Math.floor(ms);
  const head = new Date(whole).toISOString().slice(0, 19); // 2021-02-04T15:36:52
  const millis = String(whole % 1000).padStart(3, "0");
  const h = mix(whole);
  let digits = 2 + (h % 6);
  if (digits <= 3) {
    // Only the milliseconds are shown: their own trailing zeros decide how many digits remain.
    const trimmed = millis.replace(/0+$/, "");
    if (trimmed.length >= 2) return `${head}.${trimmed}Z`;
    // A whole (or .x00) millisecond would trim below the two digits ever captured: show ticks instead.
    digits = 4 + ((h >>> 4) % 4);
  }
  const tickDigits = digits - 3; // 1..4 digits below the millisecond
  const scale = 10 ** tickDigits;
  const fraction = ms - whole;
  let ticks = fraction > 0 ? Math.floor(fraction * scale) : (h >>> 8) % scale;
  // The last digit shown is non-zero, as after .NET's trimming.
  if (ticks % 10 === 0) ticks += 1 + ((h >>> 12) % 9);
  return `${head}.${millis}${String(ticks).padStart(tickDigits, "0")}Z`;
}

export function stampFor(digits: TimestampDigits): Stamp {
  return digits === "fixed7" ? mdeTimestamp : capturedTimestamp;
}
