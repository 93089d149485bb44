/** Plain text tables for the terminal: columns padded to the widest cell, long cells cut. */

export function table(rows: string[][], options: { maxCell?: number; indent?: string } = {}): string {
  const max = options.maxCell ?? 60;
  const indent = options.indent ?? "  ";
  // Coloured cells are short status words: cutting them could split an escape sequence.
  const cut = (s: string) => (s.length > max && !s.includes("\u001b") ? `${s.slice(0, max - 1)}…` : s);
  const cells = rows.map((r) => r.map(cut));
  const widths: number[] = [];
  for (const r of cells) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, visibleLength(c));
    });
  }
  return cells
    .map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : pad(c, widths[i]!))).join("  "))
    .join("\n");
}

/** Length without ANSI colour codes. */
export function visibleLength(s: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escape sequences is the point
  return s.replace(/\u001b\[[0-9;]*m/g, "").length;
}

function pad(s: string, width: number): string {
  return s + " ".repeat(Math.max(0, width - visibleLength(s)));
}
