// Model management in the real editor: Download Model… against a hub on 127.0.0.1 serving the
// tiny-gpt fixture, and Select Model on local folders. The pickers are answered by the test through
// the API's modelCommands; the download, the progress notification, the settings write and the
// engine reload are the real ones.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { DownloadPrompts } from '../../src/commands/download-model';
import type { ModelPickItem, SelectModelPrompts } from '../../src/commands/select-model';
import type { WispApi } from '../../src/extension';
import { TINY_MODEL } from '../unit/fixture';
import { repositoryFromFolder, startLoopbackHub } from '../unit/hub/loopback-hub';
import { configuredModel, extension, setSetting, sleep, waitFor } from './helpers';

const REPO = 'wisp-test/tiny-gpt';
const FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'onnx/model.onnx'];

const userModel = () => vscode.workspace.getConfiguration('wisp').inspect<string>('model')?.globalValue;

async function loadedFrom(wisp: WispApi, dir: string): Promise<void> {
  await waitFor(
    `the engine to load ${dir}`,
    () => {
      const state = wisp.state();
      return state.status === 'ready' && state.info?.modelDir === dir;
    },
    30_000,
  );
}

function copyModel(without: string[] = []): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wisp-model-'));
  fs.cpSync(TINY_MODEL, dir, { recursive: true });
  for (const name of without) fs.rmSync(path.join(dir, name));
  return dir;
}

describe('models', () => {
  it('Select Model and Download Model… are contributed and registered', async () => {
    const contributed = (
      extension().packageJSON.contributes.commands as Array<{ command: string; title: string; category: string }>
    ).map((c) => `${c.category}: ${c.title} = ${c.command}`);
    assert.ok(contributed.includes('Wisp: Select Model = wisp.selectModel'), contributed.join(' | '));
    assert.ok(contributed.includes('Wisp: Download Model\u2026 = wisp.downloadModel'), contributed.join(' | '));
    const registered = await vscode.commands.getCommands(true);
    for (const id of ['wisp.selectModel', 'wisp.downloadModel'])
      assert.ok(registered.includes(id), `${id} is not registered`);
  });

  let wisp: WispApi;
  let original: string;
  let downloaded: string | undefined;
  const temporary: string[] = [];

  before(async () => {
    original = configuredModel();
    wisp = (await extension().activate()) as unknown as WispApi;
    await wisp.whenReady();
  });
  after(async () => {
    await setSetting('model', original);
    await loadedFrom(wisp, original);
    for (const dir of temporary) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('Download Model… fetches from the hub, verifies, and switching to it reloads the engine', async () => {
    const hub = await startLoopbackHub({
      repo: REPO,
      files: repositoryFromFolder(TINY_MODEL, FILES),
      lifetimeMs: 60_000,
    });
    try {
      const asked: string[] = [];
      const prompts: DownloadPrompts = {
        askRepoId: async () => REPO,
        askRevision: async () => '',
        pickVariant: async (listing) => {
          asked.push(...listing.variants.map((v) => `${v.name} ${v.totalBytes}`));
          return listing.variants.find((v) => v.name === 'model.onnx');
        },
        offerSwitch: async () => true,
      };
      const dir = await wisp.modelCommands.downloadModel(prompts, hub.url);
      assert.ok(dir, 'the download should succeed');
      downloaded = dir;
      assert.strictEqual(path.basename(dir), 'wisp-test--tiny-gpt');
      assert.ok(
        dir.includes(`${path.sep}models${path.sep}`),
        `a download lands in the global storage's models/: ${dir}`,
      );
      const size = FILES.reduce((sum, f) => sum + fs.statSync(path.join(TINY_MODEL, f)).size, 0);
      assert.deepStrictEqual(asked, [`model.onnx ${size}`]);
      for (const file of FILES)
        assert.ok(fs.readFileSync(path.join(dir, file)).equals(fs.readFileSync(path.join(TINY_MODEL, file))), file);
      assert.ok(
        hub.requests.some((r) => r.includes(`/api/models/${REPO}/tree/main`)),
        hub.requests.join(' | '),
      );

      assert.strictEqual(userModel(), dir, 'wisp.model points at the download');
      await loadedFrom(wisp, dir);
    } finally {
      await hub.stop();
    }
  });

  it('Download Model… refuses a hostile repository id before any request', async () => {
    const hub = await startLoopbackHub({
      repo: REPO,
      files: repositoryFromFolder(TINY_MODEL, FILES),
      lifetimeMs: 60_000,
    });
    try {
      const before = userModel();
      const prompts: DownloadPrompts = {
        askRepoId: async () => '../../etc',
        askRevision: async () => '',
        pickVariant: async () => assert.fail('no variants for a hostile id'),
        offerSwitch: async () => assert.fail('nothing to switch to'),
      };
      assert.strictEqual(await wisp.modelCommands.downloadModel(prompts, hub.url), undefined);
      assert.deepStrictEqual(hub.requests, []);
      assert.strictEqual(userModel(), before);
    } finally {
      await hub.stop();
    }
  });

  it('Select Model offers the bundled model and the download above, and switches to a browsed folder', async () => {
    const folder = copyModel();
    temporary.push(folder);
    let offered: ModelPickItem[] = [];
    const prompts: SelectModelPrompts = {
      pickModel: async (items) => {
        offered = items;
        return items.find((i) => i.label.includes('Browse for a folder'));
      },
      pickFolder: async () => folder,
    };
    assert.strictEqual(await wisp.modelCommands.selectModel(prompts), folder);
    const labels = offered.map((i) => `${i.label}${i.description ? ` (${i.description})` : ''}`);
    assert.ok(labels.includes('wisp-code-small'), `the bundled model is offered: ${labels.join(' | ')}`);
    assert.ok(
      labels.includes('wisp-test--tiny-gpt (current)'),
      `the download is offered as current: ${labels.join(' | ')}`,
    );
    assert.strictEqual(userModel(), folder);
    await loadedFrom(wisp, folder);
  });

  it('Select Model refuses a folder without tokenizer.json and keeps the running model', async () => {
    const running = userModel();
    const broken = copyModel(['tokenizer.json']);
    temporary.push(broken);
    const prompts: SelectModelPrompts = {
      pickModel: async (items) => items.find((i) => i.label.includes('Browse for a folder')),
      pickFolder: async () => broken,
    };
    assert.strictEqual(await wisp.modelCommands.selectModel(prompts), undefined);
    assert.strictEqual(userModel(), running);
    assert.strictEqual(wisp.state().status, 'ready');
  });

  it('the Select Model quick pick itself, driven from the keyboard commands, switches back to the download', async function () {
    if (!downloaded) this.skip();
    const dir = downloaded;
    // The items: Bundled ─ wisp-code-small, Downloaded ─ wisp-test--tiny-gpt, Folder ─ (current), Browse…
    let settled = false;
    const picked = Promise.resolve(vscode.commands.executeCommand<string | undefined>('wisp.selectModel')).finally(
      () => (settled = true),
    );
    // Nothing tells when the picker is on screen; before it is, both commands do nothing, so try again.
    const end = Date.now() + 60_000;
    while (!settled && Date.now() < end) {
      await sleep(500);
      await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      await sleep(500);
    }
    assert.strictEqual(await picked, dir);
    assert.strictEqual(userModel(), dir);
    await loadedFrom(wisp, dir);
  });
});
