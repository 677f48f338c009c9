// Model downloads against a hub on 127.0.0.1 serving the tiny-gpt fixture's real files: a full
// download that loads, an interrupted one that resumes, corrupt and truncated files that never land,
// a cancellation that leaves nothing in place, and hostile names refused before any request.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DownloadCancelledError,
  DownloadVerificationError,
  HubDownloadError,
  downloadModel,
  downloadedModelsDir,
  listDownloadedModels,
  listModelVariants,
} from '../../../src/hub/hub-download';
import {
  HubNameError,
  modelFolderName,
  validateRepoFilePath,
  validateRepoId,
  validateRevision,
} from '../../../src/hub/hub-names';
import { TINY_MODEL } from '../fixture';
import { LoopbackHub, repositoryFromFolder, startLoopbackHub } from './loopback-hub';

const REPO = 'wisp-test/tiny-gpt';
const FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'onnx/model.onnx'];
const GRAPH = fs.readFileSync(path.join(TINY_MODEL, 'onnx', 'model.onnx'));

describe('hub download', () => {
  let hub: LoopbackHub;
  let storage: string;

  beforeEach(async () => {
    storage = fs.mkdtempSync(path.join(os.tmpdir(), 'wisp-storage-'));
    hub = await startLoopbackHub({ repo: REPO, files: repositoryFromFolder(TINY_MODEL, FILES), lifetimeMs: 60_000 });
  });
  afterEach(async () => {
    await hub.stop();
    fs.rmSync(storage, { recursive: true, force: true });
  });

  const endpoint = () => ({ hubUrl: hub.url });
  const target = () => path.join(downloadedModelsDir(storage), 'wisp-test--tiny-gpt');
  const listAndPick = async () => {
    const listing = await listModelVariants(REPO, undefined, endpoint());
    const variant = listing.variants.find((v) => v.name === 'model.onnx');
    assert.ok(variant, `model.onnx should be listed: ${JSON.stringify(listing.variants)}`);
    return { listing, variant };
  };

  it('lists the variants with their sizes, the shared files counted in', async () => {
    const { listing, variant } = await listAndPick();
    assert.deepEqual(
      listing.shared.map((f) => f.path),
      ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json'],
    );
    assert.deepEqual(
      variant.files.map((f) => [f.path, f.size]),
      [['onnx/model.onnx', GRAPH.length]],
    );
    const all = FILES.reduce((sum, f) => sum + fs.statSync(path.join(TINY_MODEL, f)).size, 0);
    assert.equal(variant.totalBytes, all);
    assert.match(variant.files[0].sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.match(listing.shared[0].gitBlobSha1 ?? '', /^[0-9a-f]{40}$/);
  });

  it('downloads, verifies and leaves a folder readModelFolder loads', async () => {
    const { listing, variant } = await listAndPick();
    const progress: number[] = [];
    const folder = await downloadModel({
      storageDir: storage,
      listing,
      variant,
      endpoint: endpoint(),
      onProgress: (p) => progress.push(p.doneBytes),
    });
    assert.equal(folder.dir, target());
    assert.equal(folder.variant, 'model.onnx');
    for (const file of FILES)
      assert.deepEqual(fs.readFileSync(path.join(target(), file)), fs.readFileSync(path.join(TINY_MODEL, file)), file);
    assert.equal(progress.at(-1), variant.totalBytes);
    assert.ok(
      progress.every((b, i) => i === 0 || b >= progress[i - 1]),
      'progress only grows',
    );
    assert.deepEqual(listDownloadedModels(storage), [target()]);
    assert.deepEqual(fs.readdirSync(path.join(downloadedModelsDir(storage), '.partial')), [], 'no staging left');
  });

  it('resumes with a Range request after the connection drops mid-file', async () => {
    const { listing, variant } = await listAndPick();
    hub.dropAfter('onnx/model.onnx', 200_000);
    await assert.rejects(
      downloadModel({ storageDir: storage, listing, variant, endpoint: endpoint() }),
      (err: Error) => err instanceof HubDownloadError && /interrupted after 200000 of/.test(err.message),
    );
    assert.ok(!fs.existsSync(target()), 'no model folder after an interruption');

    hub.requests.length = 0;
    const folder = await downloadModel({ storageDir: storage, listing, variant, endpoint: endpoint() });
    assert.deepEqual(fs.readFileSync(folder.onnxPath), GRAPH);
    const graphRequests = hub.requests.filter((r) => r.includes('/resolve/main/onnx/model.onnx'));
    assert.ok(
      graphRequests.some((r) => r.endsWith(`bytes=200000-${GRAPH.length - 1}`)),
      `a resume from byte 200000: ${graphRequests.join(' | ')}`,
    );
    assert.ok(!hub.requests.some((r) => r.includes('config.json')), 'verified files are not fetched again');
  });

  it('rejects a file whose hash is wrong and never puts it in place', async () => {
    const { listing, variant } = await listAndPick();
    const corrupt = Buffer.from(GRAPH);
    corrupt[corrupt.length >> 1] ^= 0xff;
    hub.serveInstead('onnx/model.onnx', corrupt);
    await assert.rejects(
      downloadModel({ storageDir: storage, listing, variant, endpoint: endpoint() }),
      (err: Error) =>
        err instanceof DownloadVerificationError && /onnx\/model\.onnx .*failed verification: sha256/.test(err.message),
    );
    assert.ok(!fs.existsSync(target()));
    assert.deepEqual(listDownloadedModels(storage), []);
  });

  it('rejects a file shorter than listed', async () => {
    const { listing, variant } = await listAndPick();
    hub.serveInstead('onnx/model.onnx', GRAPH.subarray(0, GRAPH.length - 1000));
    await assert.rejects(
      downloadModel({ storageDir: storage, listing, variant, endpoint: endpoint() }),
      (err: Error) =>
        err instanceof DownloadVerificationError &&
        new RegExp(`lists ${GRAPH.length} bytes but serves ${GRAPH.length - 1000}`).test(err.message),
    );
    assert.ok(!fs.existsSync(target()));
    assert.ok(
      !fs.existsSync(
        path.join(
          downloadedModelsDir(storage),
          '.partial',
          'wisp-test--tiny-gpt--model.onnx',
          'onnx',
          'model.onnx.partial',
        ),
      ),
      'the rejected bytes are not kept for a resume',
    );
  });

  it('rejects a small file whose git blob id does not match', async () => {
    const { listing, variant } = await listAndPick();
    const config = fs.readFileSync(path.join(TINY_MODEL, 'config.json'), 'utf8');
    hub.serveInstead('config.json', Buffer.from(config.replace(/\d/, (d) => String((Number(d) + 1) % 10))));
    await assert.rejects(
      downloadModel({ storageDir: storage, listing, variant, endpoint: endpoint() }),
      /config\.json .*failed verification: git blob id/,
    );
    assert.ok(!fs.existsSync(target()));
  });

  it('cancellation mid-file leaves no model and no partial files', async () => {
    const { listing, variant } = await listAndPick();
    const stall = hub.stall('onnx/model.onnx');
    const abort = new AbortController();
    const download = downloadModel({
      storageDir: storage,
      listing,
      variant,
      endpoint: endpoint(),
      signal: abort.signal,
      onProgress: (p) => {
        if (p.file === 'onnx/model.onnx' && p.doneBytes < p.totalBytes) abort.abort();
      },
    });
    await assert.rejects(download, DownloadCancelledError);
    stall.release();
    assert.ok(!fs.existsSync(target()));
    assert.deepEqual(fs.readdirSync(path.join(downloadedModelsDir(storage), '.partial')), []);
  });

  it('a second variant joins the existing model folder without fetching the shared files again', async () => {
    await hub.stop();
    hub = await startLoopbackHub({
      repo: REPO,
      lifetimeMs: 60_000,
      files: [
        ...repositoryFromFolder(TINY_MODEL, FILES),
        { path: 'onnx/model_quantized.onnx', content: GRAPH, lfs: true },
      ],
    });
    const listing = await listModelVariants(REPO, undefined, endpoint());
    assert.deepEqual(
      listing.variants.map((v) => v.name),
      ['model.onnx', 'model_quantized.onnx'],
    );
    await downloadModel({ storageDir: storage, listing, variant: listing.variants[0], endpoint: endpoint() });
    hub.requests.length = 0;
    const folder = await downloadModel({
      storageDir: storage,
      listing,
      variant: listing.variants[1],
      endpoint: endpoint(),
    });
    assert.equal(folder.variant, 'model_quantized.onnx');
    assert.deepEqual(fs.readdirSync(path.join(target(), 'onnx')).sort(), ['model.onnx', 'model_quantized.onnx']);
    assert.ok(
      hub.requests.every((r) => r.includes('model_quantized.onnx')),
      hub.requests.join(' | '),
    );
  });

  it('external-data files travel with their graph, an empty one included', async () => {
    await hub.stop();
    hub = await startLoopbackHub({
      repo: REPO,
      lifetimeMs: 60_000,
      files: [
        ...repositoryFromFolder(TINY_MODEL, FILES),
        { path: 'onnx/model.onnx_data', content: Buffer.alloc(0), lfs: true },
        { path: 'onnx/model_fp16.onnx', content: GRAPH, lfs: true },
        { path: 'onnx/model_fp16.onnx_data', content: Buffer.from('weights'), lfs: true },
      ],
    });
    const listing = await listModelVariants(REPO, undefined, endpoint());
    assert.deepEqual(
      listing.variants.map((v) => [v.name, v.files.map((f) => f.path)]),
      [
        ['model.onnx', ['onnx/model.onnx', 'onnx/model.onnx_data']],
        ['model_fp16.onnx', ['onnx/model_fp16.onnx', 'onnx/model_fp16.onnx_data']],
      ],
    );
    await downloadModel({ storageDir: storage, listing, variant: listing.variants[0], endpoint: endpoint() });
    assert.deepEqual(fs.readdirSync(path.join(target(), 'onnx')).sort(), ['model.onnx', 'model.onnx_data']);
    assert.equal(fs.statSync(path.join(target(), 'onnx', 'model.onnx_data')).size, 0);
  });

  it('a revision names its own folder', async () => {
    await hub.stop();
    hub = await startLoopbackHub({
      repo: REPO,
      revision: 'v1.0',
      files: repositoryFromFolder(TINY_MODEL, FILES),
      lifetimeMs: 60_000,
    });
    const listing = await listModelVariants(REPO, 'v1.0', endpoint());
    const folder = await downloadModel({
      storageDir: storage,
      listing,
      variant: listing.variants[0],
      endpoint: endpoint(),
    });
    assert.equal(folder.dir, path.join(downloadedModelsDir(storage), 'wisp-test--tiny-gpt--v1.0'));
  });

  it('a repository without a tokenizer is refused with the reason', async () => {
    await hub.stop();
    hub = await startLoopbackHub({
      repo: REPO,
      files: repositoryFromFolder(TINY_MODEL, ['config.json', 'onnx/model.onnx']),
      lifetimeMs: 60_000,
    });
    await assert.rejects(listModelVariants(REPO, undefined, endpoint()), /has no tokenizer\.json/);
  });

  it('hostile repository ids, revisions and file names are refused before any request', async () => {
    for (const repo of [
      '../etc',
      'owner/..',
      'owner/../x',
      '/abs/path',
      'C:/models',
      'C:\\models\\x',
      'owner\\name',
      'a/b/c',
      'owner/na--me',
      'owner/name?x=1',
      'owner/name#f',
      '',
    ]) {
      await assert.rejects(listModelVariants(repo, undefined, endpoint()), HubNameError, repo);
    }
    for (const revision of ['..', '../main', 'refs/pr/1', 'main?x', 'a\\b', 'C:']) {
      await assert.rejects(listModelVariants(REPO, revision, endpoint()), HubNameError, revision);
    }
    const { listing, variant } = await listAndPick();
    hub.requests.length = 0;
    for (const bad of [
      '../config.json',
      '/etc/passwd',
      'C:/x.onnx',
      'c:x',
      'onnx\\model.onnx',
      'onnx/../../x',
      './config.json',
      'onnx//model.onnx',
      '..',
    ]) {
      const hostile = { ...variant, files: [{ path: bad, size: 1 }] };
      await assert.rejects(
        downloadModel({ storageDir: storage, listing, variant: hostile, endpoint: endpoint() }),
        HubNameError,
        bad,
      );
    }
    assert.deepEqual(hub.requests, [], 'no request for a hostile name');
    assert.ok(!fs.existsSync(downloadedModelsDir(storage)));
  });

  it('listed files with unsafe names are never fetched', async () => {
    await hub.stop();
    hub = await startLoopbackHub({
      repo: REPO,
      lifetimeMs: 60_000,
      files: [
        ...repositoryFromFolder(TINY_MODEL, FILES),
        { path: 'onnx/../../escape.onnx', content: GRAPH, lfs: true },
      ],
    });
    const listing = await listModelVariants(REPO, undefined, endpoint());
    assert.deepEqual(
      listing.variants.map((v) => v.name),
      ['model.onnx'],
    );
  });
});

describe('hub names (properties)', () => {
  const segment = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,20}$/);
  const anyText = fc.string({
    unit: fc.constantFrom('a', 'Z', '0', '.', '-', '_', '/', '\\', ':', ' ', '?', '#', '%', '\u0000', 'é'),
    maxLength: 30,
  });

  it('an accepted file path stays relative and inside its folder', () => {
    fc.assert(
      fc.property(anyText, (name) => {
        let accepted: string;
        try {
          accepted = validateRepoFilePath(name);
        } catch (err) {
          assert.ok(err instanceof HubNameError);
          return;
        }
        assert.ok(!path.isAbsolute(accepted) && !path.win32.isAbsolute(accepted));
        assert.ok(!accepted.split('/').some((s) => s === '..' || s === '.' || s === ''));
        assert.ok(!/[\\:]/.test(accepted));
        const root = path.resolve('/storage/models/x');
        assert.ok(path.resolve(root, accepted).startsWith(root + path.sep));
      }),
      { numRuns: 2000 },
    );
  });

  it('relative names made of safe segments are accepted', () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), (segments) => {
        assert.equal(validateRepoFilePath(segments.join('/')), segments.join('/'));
      }),
    );
  });

  it('an accepted repository id and revision give a single plain folder name', () => {
    fc.assert(
      fc.property(anyText, fc.option(anyText, { nil: undefined }), (repo, revision) => {
        let folder: string;
        try {
          folder = modelFolderName({ repo: validateRepoId(repo), revision: validateRevision(revision) });
        } catch (err) {
          assert.ok(err instanceof HubNameError);
          return;
        }
        assert.match(folder, /^[A-Za-z0-9][A-Za-z0-9._-]*$/);
        assert.ok(!folder.includes('..'));
      }),
      { numRuns: 2000 },
    );
  });
});
