/**
 * Uploads the output folder as one artifact with @actions/artifact. Files are chosen explicitly (no
 * symlinks, nothing outside the folder, only names the service accepts) and the list is reported, and
 * every failure keeps the results on disk and says where, so a collection is never lost to an upload.
 */
import { lstatSync, readdirSync } from "node:fs";
import path from "node:path";

// Loaded on first upload only: the artifact client (with Azure Storage, zip and Octokit) is most of the
// bundle, and keeping it off the start-up path halves the time to the first MDE request.
type ArtifactModule = typeof import("@actions/artifact");

/** Characters the artifact service rejects in file paths (@actions/artifact path validation). */
const FORBIDDEN_IN_PATH = /["':<>|*?\r\n]/;

export interface CollectedFiles {
  files: string[];
  /** Relative paths left out, with the reason. */
  skipped: { path: string; reason: string }[];
}

/** Lists regular files under `root`, refusing symlinks and names the artifact service would reject. */
export function listUploadFiles(root: string): CollectedFiles {
  const files: string[] = [];
  const skipped: CollectedFiles["skipped"] = [];
  const base = path.resolve(root);
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const abs = path.join(dir, entry.name);
      const rel = path.relative(base, abs).split(path.sep).join("/");
      // The client's own root check is a prefix match without a separator; check containment ourselves.
      if (!abs.startsWith(base + path.sep)) {
        skipped.push({ path: rel, reason: "outside the output folder" });
        continue;
      }
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) {
        // The zipper follows symlinks: a link could pull any runner file into a forensic artifact.
        skipped.push({ path: rel, reason: "symbolic link" });
      } else if (st.isDirectory()) {
        walk(abs);
      } else if (!st.isFile()) {
        skipped.push({ path: rel, reason: "not a regular file" });
      } else if (FORBIDDEN_IN_PATH.test(rel)) {
        skipped.push({ path: rel, reason: "name has characters the artifact service rejects" });
      } else {
        files.push(abs);
      }
    }
  };
  walk(base);
  return { files, skipped };
}

export interface UploadOptions {
  name: string;
  root: string;
  retentionDays: number;
  env: Record<string, string | undefined>;
}

export type UploadOutcome =
  | {
      ok: true;
      id: number;
      size: number;
      url: string | null;
      files: number;
      skipped: CollectedFiles["skipped"];
    }
  | { ok: false; message: string; skipped: CollectedFiles["skipped"] };

export function artifactUrl(env: Record<string, string | undefined>, id: number): string | null {
  const server = env["GITHUB_SERVER_URL"] || "https://github.com";
  const repo = env["GITHUB_REPOSITORY"];
  const runId = env["GITHUB_RUN_ID"];
  if (!repo || !runId) return null;
  return `${server}/${repo}/actions/runs/${runId}/artifacts/${id}`;
}

function describeFailure(artifact: ArtifactModule, error: unknown, name: string, root: string): string {
  const kept = `The results are kept on disk at ${root}; a later step (if: always()) can upload them.`;
  const text = error instanceof Error ? error.message : String(error);
  if (error instanceof artifact.UsageError) {
    return `Artifact storage quota reached, "${name}" was not uploaded. ${kept} Delete old artifacts or wait for the usage to be recalculated (every 6-12 hours).`;
  }
  if (error instanceof artifact.GHESNotSupportedError) {
    return `Artifacts are not supported on GitHub Enterprise Server by @actions/artifact 6; "${name}" was not uploaded. ${kept} Set upload-artifact: false to skip.`;
  }
  if (/\(409\)|already exists/i.test(text)) {
    return `An artifact named "${name}" already exists in this workflow run (names are unique per run, across jobs and attempts). ${kept} Set a unique artifact-name, e.g. include \${{ matrix.<key> }} or \${{ github.run_attempt }}.`;
  }
  return `Artifact upload of "${name}" failed: ${text}. ${kept}`;
}

/** Uploads; never throws (a failed upload must not lose the collection). */
export async function uploadOutputFolder(options: UploadOptions): Promise<UploadOutcome> {
  const { files, skipped } = listUploadFiles(options.root);
  if (files.length === 0) {
    return { ok: false, message: `Nothing to upload in ${options.root}.`, skipped };
  }
  const artifact = await import("@actions/artifact");
  try {
    const client = new artifact.DefaultArtifactClient();
    const res = await client.uploadArtifact(options.name, files, options.root, {
      retentionDays: options.retentionDays,
    });
    if (res.id === undefined) {
      return {
        ok: false,
        message: describeFailure(artifact, "no artifact id returned", options.name, options.root),
        skipped,
      };
    }
    return {
      ok: true,
      id: res.id,
      size: res.size ?? 0,
      url: artifactUrl(options.env, res.id),
      files: files.length,
      skipped,
    };
  } catch (error) {
    return { ok: false, message: describeFailure(artifact, error, options.name, options.root), skipped };
  }
}
