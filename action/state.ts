/**
 * Keys of the state the main step leaves for the post step (GITHUB_STATE → STATE_<key>).
 * `phase`: absent (nothing submitted) → `running` → `published` (main finished and published) or
 * `interrupted` (a signal stopped main). Post acts on `running` (main crashed mid-run) and `interrupted`.
 */
export const STATE = {
  outDir: "outDir",
  phase: "phase",
} as const;

export type Phase = "running" | "interrupted" | "published";
