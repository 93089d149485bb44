/**
 * Who may start a run from a comment: the commenter's role on the repository, read with Octokit
 * (`GET /repos/{owner}/{repo}/collaborators/{username}/permission`), must be at least the configured one.
 */
import type { CollaboratorPermission, GitHubClient } from "./client.js";
import type { PermissionLevel } from "./inputs.js";

const RANK: Record<string, number> = { none: 0, read: 1, triage: 2, write: 3, maintain: 4, admin: 5 };
const FLAG_RANK: [keyof NonNullable<CollaboratorPermission["flags"]>, number][] = [
  ["admin", 5],
  ["maintain", 4],
  ["push", 3],
  ["triage", 2],
  ["pull", 1],
];

/**
 * The role's rank. `role_name` is exact for the five base roles; a custom role's name says nothing, so
 * its `user.permissions` booleans decide; failing those, `permission`, where maintain already reads as
 * `write` (so a custom role then never passes a `maintain` requirement: refused rather than guessed).
 */
export function roleRank(p: CollaboratorPermission): { rank: number; shown: string } {
  if (p.roleName && p.roleName in RANK) return { rank: RANK[p.roleName] ?? 0, shown: p.roleName };
  if (p.flags) {
    for (const [flag, rank] of FLAG_RANK) {
      if (p.flags[flag]) return { rank, shown: `${p.roleName ?? "custom role"} (${flag})` };
    }
  }
  return { rank: RANK[p.permission] ?? 0, shown: p.roleName ?? p.permission };
}

export type PermissionVerdict = { allowed: true; role: string } | { allowed: false; role: string };

export async function checkPermission(
  client: GitHubClient,
  login: string,
  required: PermissionLevel,
): Promise<PermissionVerdict> {
  const p = await client.permission(login);
  const { rank, shown } = roleRank(p);
  return { allowed: rank >= (RANK[required] ?? 99), role: shown };
}
