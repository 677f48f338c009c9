// The Getting Started walkthrough in the real editor: it is contributed, and each of its
// three choices ends in a test completion that works: the fixture model (as the bundled one), a
// download of the recommended model's id and variant from a hub on loopback, and a real
// llama-server set up through Use a Model Server…, whose stop gives the precise failure.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { DownloadPrompts } from '../../src/commands/download-model';
import type { ServerPrompts } from '../../src/commands/use-model-server';
import type { WispApi } from '../../src/extension';
import { RECOMMENDED_MODEL } from '../../src/hub/recommended-model';
import { TEST_SNIPPET, TestCompletionOutcome } from '../../src/setup/test-completion';
import { ggufFor, llamaServerBinary, startLlamaServer, RunningServer } from '../server/llama-server-fixture';
import { TINY_MODEL } from '../unit/fixture';
import { repositoryFromFolder, startLoopbackHub } from '../unit/hub/loopback-hub';
import { changeSettings, cliComplete, configuredModel, extension, setSetting, waitFor } from './helpers';

const WALKTHROUGH = 'wisp-dev.wisp#wisp.gettingStarted';
const FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'onnx/model.onnx'];

const testCompletion = async () =>
  (await vscode.commands.executeCommand<TestCompletionOutcome>('wisp.testCompletion'))!;
const userValue = (key: string) => vscode.workspace.getConfiguration('wisp').inspect(key)?.globalValue;

describe('getting started walkthrough', () => {
  let wisp: WispApi;
  let model: string;

  before(async () => {
    wisp = (await extension().activate()) as unknown as WispApi;
    await wisp.whenReady();
    model = configuredModel();
  });

  // The page itself is checked in test/vscode/walkthrough-ui.js: in extension-test mode the
  // workbench never registers an extension's walkthrough, so openWalkthrough shows another one here.
  it('is contributed, and Wisp: Getting Started is registered to open it', async () => {
    const contributed = extension().packageJSON.contributes.walkthroughs as Array<{ id: string }>;
    assert.deepStrictEqual(
      contributed.map((w) => `${extension().id}#${w.id}`),
      [WALKTHROUGH],
    );
    const registered = await vscode.commands.getCommands(true);
    for (const id of ['wisp.gettingStarted', 'wisp.testCompletion', 'wisp.useModelServer', 'wisp.downloadModel'])
      assert.ok(registered.includes(id), `${id} is not registered`);
  });

  it('Test Completion answers from the loaded model as cli.js does', async () => {
    const outcome = await testCompletion();
    assert.strictEqual(outcome.level, 'ok', outcome.message);
    const [prefix, suffix] = TEST_SNIPPET.split('\u2038') as [string, string];
    assert.strictEqual(outcome.text, await cliComplete(prefix, suffix));
    assert.ok(outcome.message.startsWith(`the local engine (${path.basename(model)}, `), outcome.message);
  });

  it('download step: the recommended id and variant from a loopback hub, then Test Completion', async () => {
    // The fixture's files under the recommended repository's id, its graph as the recommended variant too.
    const files = repositoryFromFolder(TINY_MODEL, FILES);
    const graph = files.find((f) => f.path === 'onnx/model.onnx')!;
    files.push({ ...graph, path: `onnx/${RECOMMENDED_MODEL.variant}` });
    const hub = await startLoopbackHub({ repo: RECOMMENDED_MODEL.repo, files, lifetimeMs: 120_000 });
    let dir: string | undefined;
    try {
      const offered: Array<string | undefined> = [];
      const prompts: DownloadPrompts = {
        askRepoId: async (suggested) => (offered.push(suggested), suggested),
        askRevision: async () => '',
        pickVariant: async (listing, recommended) => {
          offered.push(recommended);
          return listing.variants.find((v) => v.name === recommended);
        },
        offerSwitch: async () => true,
      };
      dir = await wisp.modelCommands.downloadModel(prompts, hub.url, RECOMMENDED_MODEL.repo);
      assert.deepStrictEqual(offered, [RECOMMENDED_MODEL.repo, RECOMMENDED_MODEL.variant]);
      assert.ok(dir, 'the download should succeed');
      assert.ok(fs.existsSync(path.join(dir, 'onnx', RECOMMENDED_MODEL.variant)));
      await waitFor('the downloaded model', () => wisp.state().info?.modelDir === dir, 30_000);
      const outcome = await testCompletion();
      assert.strictEqual(outcome.level, 'ok', outcome.message);
      assert.ok(outcome.message.startsWith(`the local engine (${path.basename(dir)}, `), outcome.message);
      assert.ok(outcome.text.length > 0);
    } finally {
      await hub.stop();
      await setSetting('model', model);
      await waitFor('the harness model again', () => wisp.state().info?.modelDir === model, 30_000);
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('server step (a real llama-server)', () => {
    let server: RunningServer;
    let gguf: string;
    let restore: () => Promise<void>;

    before(async function () {
      this.timeout(60 * 60_000);
      gguf = await ggufFor(model);
      server = await startLlamaServer(await llamaServerBinary(), gguf, 256);
      // The test model's context is 256 tokens: the text window Wisp sends must fit the server's.
      restore = await changeSettings({ contextTokens: 64, temperature: 0 });
    });

    after(async () => {
      await server?.stop();
      for (const key of ['backend', 'server.url']) await setSetting(key, undefined);
      await restore?.();
    });

    it('Use a Model Server… writes user settings; Test Completion answers from the server, then says it refuses connections', async function () {
      this.timeout(300_000);
      let suggestedUrl: string | undefined;
      const toLlamaServer: ServerPrompts = {
        pickKind: async (kinds) => kinds.find((k) => k.backend === 'llama.cpp'),
        askUrl: async (_kind, value) => ((suggestedUrl = value), server.url),
        askModel: async () => assert.fail('llama-server serves one model: no model name to ask'),
      };
      await wisp.useModelServer(toLlamaServer);
      assert.strictEqual(suggestedUrl, 'http://127.0.0.1:8080');
      assert.strictEqual(userValue('backend'), 'llama.cpp');
      assert.strictEqual(userValue('server.url'), server.url);

      const answered = await testCompletion();
      assert.strictEqual(answered.level, 'ok', answered.message);
      assert.ok(answered.message.startsWith(`llama.cpp at ${server.url} completed "return ▌" with `), answered.message);
      assert.ok(answered.text.length > 0);

      await server.stop();
      const refused = await testCompletion();
      assert.strictEqual(refused.level, 'error');
      assert.ok(
        // The client names the model the server said it serves (GET /props, before the first request).
        refused.message.startsWith(
          `llama.cpp at ${server.url} (${path.basename(gguf)}) /infill: cannot connect (ECONNREFUSED)`,
        ),
        refused.message,
      );
      assert.ok(
        refused.message.endsWith(
          `Nothing accepts connections at ${server.url}: start the server, or correct wisp.server.url`,
        ),
        refused.message,
      );

      const toLocal: ServerPrompts = {
        pickKind: async (kinds) => kinds.find((k) => k.backend === 'local'),
        askUrl: async () => assert.fail('no URL for the local engine'),
        askModel: async () => assert.fail('no model name for the local engine'),
      };
      await wisp.useModelServer(toLocal);
      assert.strictEqual(userValue('backend'), 'local');
      const local = await testCompletion();
      assert.strictEqual(local.level, 'ok', local.message);
      assert.ok(local.message.startsWith('the local engine ('), local.message);
    });
  });
});
