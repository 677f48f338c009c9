// Wisp: Show Token View in a real editor: it follows the cursor and typing, its sliders write the
// real settings, its sample button draws with them, and it shades the suggestion the provider made.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { MIN_SHOWN_PROBABILITY, SHOWN_CANDIDATES } from '../../src/engine/inspect';
import { WispApi, api, complete, insertText, positionAfter, setSetting, waitFor, workspaceFile } from './helpers';

/** The token view's test hook (src/ui/token-view.ts), as activate() returns it. */
interface TokenViewHook extends vscode.Disposable {
  readonly latest: { file: string; data: ViewData } | undefined;
  receive(message: unknown): Promise<void>;
}

interface ViewToken {
  id: number;
  text: string;
}

interface ViewData {
  tokens: Array<ViewToken & { reused: boolean }>;
  reusedTokens: number;
  computedTokens: number;
  drawn: ViewToken[];
  draw?: ViewToken;
  distribution: {
    candidates: Array<ViewToken & { raw: number; filtered: number; excluded: boolean }>;
    keptCount: number;
  };
  suggestion: Array<ViewToken & { prob: number }>;
}

type ApiWithTokenView = WispApi & { tokenView(): TokenViewHook | undefined };

const FIB_BODY = 'export function fibonacci(n: number): number {\n  ';

const textOf = (tokens: ViewToken[]) => tokens.map((t) => t.text).join('');

describe('token view', () => {
  let wisp: ApiWithTokenView;
  let editor: vscode.TextEditor;
  let position: vscode.Position;

  const hook = () => {
    const view = wisp.tokenView();
    assert.ok(view, 'the token view is not open');
    return view;
  };

  /** The next view whose data satisfies `ok`. */
  const viewWhere = (what: string, ok: (data: ViewData) => boolean) =>
    waitFor(what, () => {
      const latest = wisp.tokenView()?.latest;
      return latest && ok(latest.data) ? latest : undefined;
    });

  before(async () => {
    wisp = (await api()) as ApiWithTokenView;
    await wisp.whenReady();
    await setSetting('temperature', 0);
    const doc = await vscode.workspace.openTextDocument(workspaceFile('sample.ts'));
    editor = await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
    position = positionAfter(doc, FIB_BODY);
    editor.selection = new vscode.Selection(position, position);
  });

  after(async () => {
    wisp.tokenView()?.dispose();
    await setSetting('temperature', undefined);
  });

  it('opens from its command and shows the tokens before the cursor and the top candidates', async () => {
    await vscode.commands.executeCommand('wisp.showTokenView');
    const { file, data } = await viewWhere('the first view', (d) => textOf(d.tokens).endsWith(FIB_BODY));
    assert.strictEqual(file, 'sample.ts');
    // Up to 20, and only those that carry probability (the most likely one always).
    const raw = data.distribution.candidates.map((c) => c.raw);
    assert.ok(raw.length >= 1 && raw.length <= SHOWN_CANDIDATES, `${raw.length} candidates`);
    assert.ok(
      raw.slice(1).every((p) => p >= MIN_SHOWN_PROBABILITY),
      `a candidate that would read 0.00%: ${raw.join(', ')}`,
    );
    assert.deepStrictEqual(
      raw,
      [...raw].sort((a, b) => b - a),
      'candidates are most likely first',
    );
    // Temperature 0: the argmax alone is kept.
    assert.strictEqual(data.distribution.keptCount, 1);
    assert.deepStrictEqual(
      data.distribution.candidates.map((c) => c.excluded),
      raw.map((_, i) => i > 0),
    );
  });

  it('follows typing: the tokens and the top candidates update, mostly from the cache', async () => {
    const before = hook().latest!.data;
    let typed = '';
    const type = async (text: string) => {
      const at = position.translate(0, typed.length);
      assert.ok(await editor.edit((e) => e.insert(at, text)));
      typed += text;
      const end = position.translate(0, typed.length);
      editor.selection = new vscode.Selection(end, end);
      return (await viewWhere(`a view of ${JSON.stringify(typed)}`, (d) => textOf(d.tokens).endsWith(FIB_BODY + typed)))
        .data;
    };
    try {
      const first = await type('return ');
      assert.notDeepStrictEqual(
        first.distribution.candidates.map((c) => [c.id, c.raw]),
        before.distribution.candidates.map((c) => [c.id, c.raw]),
        'the candidates did not change',
      );
      // The view of 'return ' is in the cache now: the next keystrokes reuse what comes before them.
      const second = await type('fib');
      assert.ok(second.reusedTokens > 0 && second.tokens.some((t) => t.reused), `reused ${second.reusedTokens}`);
      assert.notDeepStrictEqual(
        second.distribution.candidates.map((c) => [c.id, c.raw]),
        first.distribution.candidates.map((c) => [c.id, c.raw]),
        'the candidates did not change',
      );
    } finally {
      for (let i = 0; i < 10 && editor.document.getText().includes(FIB_BODY + 'return'); i++)
        await vscode.commands.executeCommand('undo');
      editor.selection = new vscode.Selection(position, position);
    }
    await viewWhere('the view back at the original place', (d) => textOf(d.tokens).endsWith(FIB_BODY));
  });

  it('a slider change writes wisp.temperature, and the view filters with it', async () => {
    await hook().receive({ type: 'set-setting', key: 'temperature', value: 0.65 });
    assert.strictEqual(vscode.workspace.getConfiguration('wisp').get('temperature'), 0.65);
    const { data } = await viewWhere('a view at temperature 0.65', (d) => d.distribution.keptCount > 1);
    const kept = data.distribution.candidates.filter((c) => !c.excluded);
    assert.ok(
      kept.every((c) => c.filtered > 0) &&
        data.distribution.candidates.filter((c) => c.excluded).every((c) => c.filtered === 0),
    );

    // Out of range, or not a slider's setting: ignored.
    await hook().receive({ type: 'set-setting', key: 'temperature', value: 7 });
    await hook().receive({ type: 'set-setting', key: 'model', value: 1 });
    assert.strictEqual(vscode.workspace.getConfiguration('wisp').get('temperature'), 0.65);
    assert.notStrictEqual(vscode.workspace.getConfiguration('wisp').get('model'), 1);
  });

  it('the sample button draws a kept token and appends it to the preview', async () => {
    // A press while a completion is in flight is refused (the view never delays one): press again.
    const drawn = (n: number) =>
      waitFor(`${n} drawn token(s)`, async () => {
        if (hook().latest!.data.drawn.length < n) await hook().receive({ type: 'sample' });
        const data = hook().latest!.data;
        return data.drawn.length === n ? data : undefined;
      });
    await hook().receive({ type: 'clear-preview' });
    await viewWhere('an empty preview', (d) => d.drawn.length === 0);
    const first = await drawn(1);
    // The view answering the press shows the distribution the token was drawn from.
    if (first.draw) {
      const listed = first.distribution.candidates.find((c) => c.id === first.draw!.id);
      assert.ok(!listed || !listed.excluded, 'the draw came from an excluded token');
    }
    const second = await drawn(2);
    assert.strictEqual(second.drawn[0].id, first.drawn[0].id);
    await hook().receive({ type: 'clear-preview' });
    await viewWhere('an empty preview again', (d) => d.drawn.length === 0);
  });

  it('shades the suggestion the provider made at the cursor, token by token', async () => {
    await setSetting('temperature', 0);
    // The fixture's random weights end most completions at once: use the first line end with a suggestion.
    let suggestion = '';
    for (let line = 0; line < editor.document.lineCount && !suggestion; line++) {
      const at = editor.document.lineAt(line).range.end;
      editor.selection = new vscode.Selection(at, at);
      const items = await complete(wisp.provider, editor.document, at);
      suggestion = items.length ? insertText(items[0]) : '';
    }
    assert.ok(suggestion, 'no suggestion to shade at any line end');
    const { data } = await viewWhere('the suggestion in the view', (d) => textOf(d.suggestion) === suggestion);
    assert.ok(data.suggestion.every((t) => t.prob > 0 && t.prob <= 1));
  });
});
