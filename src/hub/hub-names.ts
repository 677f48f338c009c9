// Names that come from the user or from a hub listing and end up in URLs and file paths: a repository
// id, a revision, a file path inside the repository. Each is checked against a narrow grammar before
// any request is made, so none can climb out of the model folder (`..`, `/abs`, `C:`, `\`) or smuggle
// a query or fragment into a URL.
export class HubNameError extends Error {}

// The hub's own rule for owner and repository names, minus `--` and `..`, which it also forbids:
// that keeps `<owner>--<name>` an unambiguous folder name.
const REPO_PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$/;
// Branch and tag names, and commit hashes. Slashes (refs/pr/1) are left out: the revision is part
// of a folder name.
const REVISION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
// One segment of a file path: what model repositories actually use, and nothing a file system or
// a URL could read as structure.
const PATH_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,199}$/;

export interface RepoRef {
  /** `owner/name` */
  repo: string;
  /** undefined: the hub's default branch. */
  revision?: string;
}

export function validateRepoId(input: string): string {
  const id = input.trim();
  const parts = id.split('/');
  const ok = parts.length === 2 && parts.every((p) => REPO_PART.test(p) && !p.includes('--') && !p.includes('..'));
  if (!ok) {
    throw new HubNameError(
      `'${input}' is not a Hugging Face repository id: expected owner/name (letters, digits, '.', '_', '-'), e.g. onnx-community/Qwen2.5-Coder-0.5B-Instruct`,
    );
  }
  return id;
}

export function validateRevision(input: string | undefined): string | undefined {
  const revision = input?.trim();
  if (!revision) return undefined;
  if (!REVISION.test(revision) || revision.includes('..')) {
    throw new HubNameError(
      `'${input}' is not a usable revision: expected a branch, tag or commit hash (letters, digits, '.', '_', '-')`,
    );
  }
  return revision;
}

/** A path inside a repository, as the hub lists it: relative, `/`-separated, no `.` or `..` segments. */
export function validateRepoFilePath(input: string): string {
  const segments = input.split('/');
  const ok = input.length <= 1000 && segments.every((s) => PATH_SEGMENT.test(s));
  if (!ok)
    throw new HubNameError(
      `the repository file name '${input}' is not allowed (only relative names without '..', '\\', ':' or a leading '/')`,
    );
  return input;
}

export function validateRepoRef(repo: string, revision?: string): RepoRef {
  return { repo: validateRepoId(repo), revision: validateRevision(revision) };
}

/** `<owner>--<name>[--<revision>]`: the folder a downloaded model lives in. */
export function modelFolderName(ref: RepoRef): string {
  const [owner, name] = validateRepoId(ref.repo).split('/');
  const revision = validateRevision(ref.revision);
  return revision ? `${owner}--${name}--${revision}` : `${owner}--${name}`;
}
