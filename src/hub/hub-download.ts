// Downloading a model from the Hugging Face hub into Wisp's global storage. The only network code in
// Wisp, and it runs only when the user starts a download.
//
// Layout under the extension's global storage:
//   models/<owner>--<name>[--<revision>]/                 finished models, each a readModelFolder() folder
//   models/.partial/<owner>--<name>[--<revision>]--<variant>/   a download in progress
// A file is fetched to `<file>.partial` (appended to with an HTTP Range request after an interruption),
// checked against the size and hash the hub lists, then renamed to `<file>` inside the staging folder.
// Only when every file of the variant is verified does the staging folder become the model folder
// (one rename), so an interrupted, cancelled or corrupt download never leaves a half model in place.
import { downloadFile, listFiles } from '@huggingface/hub';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ModelFolder, readModelFolder } from '../shared/model-folder';
import { RepoRef, modelFolderName, validateRepoFilePath, validateRepoRef } from './hub-names';

/** undefined: the public hub (huggingface.co); tests point this at a loopback server. */
export interface HubEndpoint {
  hubUrl?: string;
}

export interface RepoFile {
  path: string;
  size: number;
  /** The LFS object id, which is the sha256 of the content. */
  sha256?: string;
  /** Git's blob id of a file kept in git itself (small files such as config.json). */
  gitBlobSha1?: string;
}

export interface ModelVariant {
  /** The graph's file name in onnx/, e.g. model_quantized.onnx: what readModelFolder calls a variant. */
  name: string;
  /** The graph and its external-data files. */
  files: RepoFile[];
  /** Everything this variant downloads, the shared files included. */
  totalBytes: number;
}

export interface ModelListing {
  ref: RepoRef;
  /** config and tokenizer files every variant needs. */
  shared: RepoFile[];
  variants: ModelVariant[];
}

export interface DownloadProgress {
  file: string;
  doneBytes: number;
  totalBytes: number;
}

export class HubDownloadError extends Error {}
export class DownloadCancelledError extends HubDownloadError {}
/** The bytes received are not the file the hub listed; they are thrown away. */
export class DownloadVerificationError extends HubDownloadError {}

const REQUIRED_FILES = ['config.json', 'tokenizer.json'];
const OPTIONAL_FILES = ['tokenizer_config.json', 'generation_config.json'];

export function downloadedModelsDir(storageDir: string): string {
  return path.join(storageDir, 'models');
}

/** Finished downloads, as absolute folder paths. */
export function listDownloadedModels(storageDir: string): string[] {
  const dir = downloadedModelsDir(storageDir);
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => path.join(dir, d.name))
      .sort();
  } catch {
    return [];
  }
}

/** What the hub reports about a file, reduced to what verification needs; undefined for names we never fetch. */
function toRepoFile(entry: {
  type: string;
  path: string;
  size: number;
  oid?: string;
  lfs?: { oid: string; size: number };
  xetHash?: string;
}): RepoFile | undefined {
  if (entry.type !== 'file') return undefined;
  try {
    validateRepoFilePath(entry.path);
  } catch {
    return undefined;
  }
  if (entry.lfs) return { path: entry.path, size: entry.lfs.size, sha256: entry.lfs.oid };
  // A Xet-only entry's oid is not a hash of the content Wisp receives, so only its size is checked.
  if (entry.xetHash) return { path: entry.path, size: entry.size };
  return { path: entry.path, size: entry.size, gitBlobSha1: entry.oid };
}

/** The variants in a repository's onnx/ folder, each with the files it needs and its size. */
export async function listModelVariants(
  repo: string,
  revision: string | undefined,
  endpoint: HubEndpoint = {},
  signal?: AbortSignal,
): Promise<ModelListing> {
  const ref = validateRepoRef(repo, revision);
  const files = new Map<string, RepoFile>();
  try {
    for await (const entry of listFiles({
      repo: { type: 'model', name: ref.repo },
      revision: ref.revision,
      recursive: true,
      hubUrl: endpoint.hubUrl,
      fetch: abortableFetch(signal),
    })) {
      const file = toRepoFile(entry);
      if (file) files.set(file.path, file);
    }
  } catch (err) {
    if (signal?.aborted) throw new DownloadCancelledError('the download was cancelled');
    throw new HubDownloadError(`could not list the files of ${describe(ref)}: ${(err as Error).message}`);
  }
  for (const name of REQUIRED_FILES) {
    if (!files.has(name))
      throw new HubDownloadError(`${describe(ref)} has no ${name}: it is not a model in the Hugging Face ONNX layout`);
  }
  const shared = [...REQUIRED_FILES, ...OPTIONAL_FILES].flatMap((name) => files.get(name) ?? []);
  const sharedBytes = shared.reduce((sum, f) => sum + f.size, 0);
  const graphs = [...files.keys()].filter((p) => /^onnx\/[^/]+\.onnx$/.test(p)).sort();
  if (graphs.length === 0) throw new HubDownloadError(`${describe(ref)} has no onnx/*.onnx graph`);
  const variants = graphs.map((graph) => {
    // External weights sit beside the graph: model.onnx_data, model.onnx_data_1, model.onnx.data.
    const own = [...files.values()].filter(
      (f) => f.path === graph || f.path.startsWith(`${graph}_data`) || f.path === `${graph}.data`,
    );
    return {
      name: graph.slice('onnx/'.length),
      files: own,
      totalBytes: sharedBytes + own.reduce((sum, f) => sum + f.size, 0),
    };
  });
  return { ref, shared, variants };
}

export interface DownloadRequest {
  /** The extension's global storage folder: the only place a download writes. */
  storageDir: string;
  listing: ModelListing;
  variant: ModelVariant;
  endpoint?: HubEndpoint;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
}

/**
 * Downloads one variant and returns the finished model folder. A network failure keeps what was
 * received for the next attempt to resume; a cancellation removes it.
 */
export async function downloadModel(request: DownloadRequest): Promise<ModelFolder> {
  const { listing, variant, storageDir, signal } = request;
  const ref = validateRepoRef(listing.ref.repo, listing.ref.revision);
  const files = [...listing.shared, ...variant.files];
  for (const file of files) validateRepoFilePath(file.path);
  validateRepoFilePath(`onnx/${variant.name}`);

  const modelsDir = downloadedModelsDir(storageDir);
  const target = path.join(modelsDir, modelFolderName(ref));
  const staging = path.join(modelsDir, '.partial', `${modelFolderName(ref)}--${variant.name}`);
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  let doneBytes = 0;
  const report = (file: string, bytes: number) => {
    doneBytes += bytes;
    request.onProgress?.({ file, doneBytes, totalBytes });
  };

  try {
    const toMove: RepoFile[] = [];
    for (const file of files) {
      if (signal?.aborted) throw new DownloadCancelledError('the download was cancelled');
      // A model folder that already holds this file (another variant of the same model) keeps it.
      if ((await verify(insideFolder(target, file.path), file)) === undefined) {
        report(file.path, file.size);
        continue;
      }
      await fetchVerified(ref, file, insideFolder(staging, file.path), request.endpoint ?? {}, signal, (n) =>
        report(file.path, n),
      );
      toMove.push(file);
    }
    await commit(staging, target, toMove);
  } catch (err) {
    if (signal?.aborted || err instanceof DownloadCancelledError) {
      await fsp.rm(staging, { recursive: true, force: true });
      throw new DownloadCancelledError('the download was cancelled');
    }
    throw err;
  }
  return readModelFolder(target, variant.name);
}

/** Moves the verified files into place: the whole staging folder at once when the model is new. */
async function commit(staging: string, target: string, files: RepoFile[]): Promise<void> {
  if (!fs.existsSync(target)) {
    if (files.length > 0) await fsp.rename(staging, target);
    return;
  }
  for (const file of files) {
    const destination = insideFolder(target, file.path);
    await fsp.mkdir(path.dirname(destination), { recursive: true });
    await fsp.rename(insideFolder(staging, file.path), destination);
  }
  await fsp.rm(staging, { recursive: true, force: true });
}

/** Fetches one file to `destination`, resuming a `.partial` left by an earlier attempt. */
async function fetchVerified(
  ref: RepoRef,
  file: RepoFile,
  destination: string,
  endpoint: HubEndpoint,
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
): Promise<void> {
  if ((await verify(destination, file)) === undefined) {
    onBytes(file.size);
    return;
  }
  await fsp.mkdir(path.dirname(destination), { recursive: true });
  const partial = `${destination}.partial`;
  let have = fileSize(partial);
  if (have > file.size) have = 0;
  onBytes(have);
  try {
    await receive(ref, file, partial, have, endpoint, signal, onBytes);
    let problem = await verify(partial, file);
    if (problem !== undefined && have > 0) {
      // What an earlier attempt left may not be a prefix of this file (it changed on the hub): once
      // more from the start.
      onBytes(-file.size);
      await receive(ref, file, partial, 0, endpoint, signal, onBytes);
      problem = await verify(partial, file);
    }
    if (problem !== undefined)
      throw new DownloadVerificationError(`${file.path} from ${describe(ref)} failed verification: ${problem}`);
  } catch (err) {
    if (err instanceof DownloadVerificationError) await fsp.rm(partial, { force: true });
    throw err;
  }
  await fsp.rename(partial, destination);
}

/** Appends bytes `from`… of the file to `partial`, through the hub client's blob (a Range request when resuming). */
async function receive(
  ref: RepoRef,
  file: RepoFile,
  partial: string,
  from: number,
  endpoint: HubEndpoint,
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
): Promise<void> {
  let received = from;
  // Opened before anything is fetched so that an empty file is a file too.
  const handle = await fsp.open(partial, from > 0 ? 'a' : 'w');
  if (from >= file.size) {
    await handle.close();
    return;
  }
  try {
    // xet: false keeps one plain HTTP path whose byte ranges Wisp controls, so a download can resume.
    const blob = await downloadFile({
      repo: { type: 'model', name: ref.repo },
      path: file.path,
      revision: ref.revision,
      hubUrl: endpoint.hubUrl,
      fetch: abortableFetch(signal),
      xet: false,
    });
    if (!blob) throw new HubDownloadError(`${file.path} is not in ${describe(ref)}`);
    if (blob.size !== file.size) {
      throw new DownloadVerificationError(`${file.path}: the hub lists ${file.size} bytes but serves ${blob.size}`);
    }
    for await (const chunk of (from > 0 ? blob.slice(from) : blob).stream()) {
      received += chunk.byteLength;
      if (received > file.size)
        throw new DownloadVerificationError(`${file.path}: the server sent more than the ${file.size} bytes listed`);
      await handle.write(chunk);
      onBytes(chunk.byteLength);
    }
  } catch (err) {
    if (signal?.aborted) throw new DownloadCancelledError('the download was cancelled');
    if (err instanceof HubDownloadError) throw err;
    throw new HubDownloadError(
      `${file.path} from ${describe(ref)} was interrupted after ${received} of ${file.size} bytes ` +
        `(${err instanceof Error ? err.message : String(err)}); downloading again resumes from there`,
    );
  } finally {
    await handle.close();
  }
}

/** undefined when the file on disk is the one listed; otherwise what is wrong with it. */
async function verify(file: string, expected: RepoFile): Promise<string | undefined> {
  const size = fileSize(file, -1);
  if (size < 0) return 'missing';
  if (size !== expected.size) return `${size} bytes instead of ${expected.size}`;
  if (expected.sha256) {
    const actual = await hashFile(file, 'sha256');
    if (actual !== expected.sha256) return `sha256 ${actual} instead of ${expected.sha256}`;
  } else if (expected.gitBlobSha1) {
    const actual = await hashFile(file, 'sha1', `blob ${size}\0`);
    if (actual !== expected.gitBlobSha1) return `git blob id ${actual} instead of ${expected.gitBlobSha1}`;
  }
  return undefined;
}

async function hashFile(file: string, algorithm: 'sha256' | 'sha1', header = ''): Promise<string> {
  const hash = crypto.createHash(algorithm).update(header);
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function fileSize(file: string, missing = 0): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return missing;
  }
}

/** `relative` resolved inside `folder`; the names are validated already, this is the last line of defence. */
function insideFolder(folder: string, relative: string): string {
  const resolved = path.resolve(folder, ...validateRepoFilePath(relative).split('/'));
  if (!resolved.startsWith(path.resolve(folder) + path.sep))
    throw new HubDownloadError(`${relative} would be written outside ${folder}`);
  return resolved;
}

/** The hub client's requests, cancelled together by the user's signal. */
function abortableFetch(signal: AbortSignal | undefined): typeof fetch {
  return (input, init) => fetch(input, { ...init, signal });
}

function describe(ref: RepoRef): string {
  return ref.revision ? `${ref.repo}@${ref.revision}` : ref.repo;
}
