/** MDE timestamps: ISO-8601 UTC with 7 fractional digits and `Z` (mde-api.md §3, §7.19). */
export function mdeTimestamp(ms: number): string {
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString(); // 2021-02-04T15:36:52.778Z
  // Sub-millisecond digits come from the fractional part of a scaled-clock reading.
  const ticks = Math.floor((ms - whole) * 10_000)
    .toString()
    .padStart(4, "0");
  return `${iso.slice(0, 23)}${ticks}Z`;
}
