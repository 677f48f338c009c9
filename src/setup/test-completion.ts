// Extension host, no `vscode` import. Wisp: Test Completion, the last step of each choice in the
// Getting Started walkthrough: one real completion through whatever backend the settings name, on a
// small built-in snippet, through the same pipeline as a keystroke (InlineCompleter: window,
// request, engine or server, post-processing), and one sentence that says what answered and what
// it wrote, or precisely why nothing came: the engine's or the server's own error text, the
// no-suggestion reason (completion/no-suggestion.ts), and what to do about it.
import type { EngineState } from '../engine/process/engine-client';
import type { CompletionResult } from '../engine/process/protocol';
import { CompletionBackend, InlineCompleter } from '../completion/inline-completer';
import { detectStyle } from '../completion/inline-request';
import { describeNoSuggestion } from '../completion/no-suggestion';
import type { WispSettings } from '../settings';
import { shownConfidence } from '../shared/confidence';

/** The snippet every test completion asks about; the cursor is at `CURSOR`. */
const CURSOR = '\u2038';
export const TEST_SNIPPET = `def fibonacci(n):
    if n < 2:
        return n
    return ${CURSOR}


print(fibonacci(10))
`;

const cursorAt = TEST_SNIPPET.indexOf(CURSOR);
const snippetText = TEST_SNIPPET.slice(0, cursorAt) + TEST_SNIPPET.slice(cursorAt + CURSOR.length);
/** The line the suggestion continues, for the message. */
const cursorLine = snippetText.slice(snippetText.lastIndexOf('\n', cursorAt - 1) + 1, cursorAt).trim();

export interface TestEngine extends CompletionBackend {
  readonly state: EngineState;
}

export interface TestCompletionOutcome {
  /** 'warning': it answered, but something limits what the model can do. */
  level: 'ok' | 'warning' | 'error';
  message: string;
  /** The suggestion as the editor would show it ('' when none). */
  text: string;
  /** The model's own text before post-processing, when it answered. */
  raw?: string;
  totalMs?: number;
}

/** What answered, in words: the local engine's model, or the server's kind, URL and model. */
export function describeBackend(settings: WispSettings, state: EngineState): string {
  if (settings.backend !== 'local') {
    // As the server client names itself in its errors.
    const model = settings['server.model'] ? ` (${settings['server.model']})` : '';
    return `${settings.backend} at ${settings['server.url']}${model}`;
  }
  const info = state.info;
  if (!info) return `the local engine (wisp.model ${settings.model})`;
  return `the local engine (${info.modelName}, ${info.variant}, ${info.providers.join(' → ')})`;
}

/** What to do about a server's failure, from its message (server-client.ts words each one). */
const SERVER_HINTS: Array<[RegExp, (settings: WispSettings) => string]> = [
  [
    /cannot connect \((ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH)\)/,
    (s) => `nothing accepts connections at ${s['server.url']}: start the server, or correct wisp.server.url`,
  ],
  [
    /cannot connect \((ENOTFOUND|EAI_AGAIN)\)/,
    (s) => `the host name in ${s['server.url']} does not resolve: correct wisp.server.url`,
  ],
  [/certificate|CERT_|self[- ]signed/i, () => "the server's TLS certificate is not one this editor trusts"],
  [/HTTP 40[13]\b/, () => 'the server wants an API key, or another one: run Wisp: Set Server API Key'],
  [
    /Infill is not supported|FIM tokens?|fill-in-the-middle/i,
    () => 'the served model has no fill-in-the-middle tokens: serve a base code model with FIM tokens',
  ],
  [
    /exceeds the available context size|maximum context length|context length/i,
    () => "the prompt does not fit the server's context: lower wisp.contextTokens or start the server with more",
  ],
  [
    /HTTP 404\b/,
    () =>
      'the server has no such endpoint or model: check that wisp.backend is its kind and wisp.server.model names a model it serves',
  ],
  [/no answer within|stalled/, () => 'the server is too slow or stuck: check its load and its log'],
  [
    /not an event stream|not in the format|Unexpected token/i,
    () => 'the server does not speak the wisp.backend format',
  ],
];

/** Why the test completion failed, with what to do about it. */
export function explainFailure(settings: WispSettings, state: EngineState, error: string): string {
  const who = describeBackend(settings, state);
  if (settings.backend === 'local') {
    if (state.status === 'ready') return `${who} failed: ${error}`;
    const what = state.status === 'loading' ? 'is still loading its model' : 'has no model loaded';
    return `${who} ${what}: ${error}. Choose a model with Wisp: Select Model, or try Wisp: Restart Engine`;
  }
  const hint = SERVER_HINTS.find(([pattern]) => pattern.test(error))?.[1](settings);
  return `${error}${hint ? `. ${hint[0]!.toUpperCase()}${hint.slice(1)}` : ''}`;
}

/** Runs the test completion: never throws; every way it can end is an outcome with a message. */
export async function testCompletion(engine: TestEngine, settings: WispSettings): Promise<TestCompletionOutcome> {
  const state = engine.state;
  // A local engine that is not ready refuses at once; say why from its own state.
  if (settings.backend === 'local' && state.status !== 'ready') {
    return {
      level: 'error',
      text: '',
      message: explainFailure(settings, state, state.message ?? `the engine is ${state.status}`),
    };
  }
  // Not a keystroke: no debounce, and the snippet is no file, so no exclusion applies.
  const completer = new InlineCompleter(engine);
  const query = {
    slice: (start: number, end: number) => snippetText.slice(start, end),
    documentLength: snippetText.length,
    cursor: cursorAt,
    documentKey: 'wisp-test-completion',
    paths: {},
    style: detectStyle(snippetText),
    signal: new AbortController().signal,
  };
  let answer;
  try {
    // The confidence threshold is applied below, as a warning: the test asks whether the backend
    // answers, and a hidden answer would look like a broken one.
    answer = await completer.complete(query, { ...settings, debounceMs: 0, minConfidence: 0 });
  } catch (err) {
    return { level: 'error', text: '', message: explainFailure(settings, engine.state, (err as Error).message) };
  }
  return describeAnswer(settings, engine.state, answer.text, answer.result, answer.reason);
}

function describeAnswer(
  settings: WispSettings,
  state: EngineState,
  text: string,
  result: CompletionResult | undefined,
  reason: Parameters<typeof describeNoSuggestion>[0] | undefined,
): TestCompletionOutcome {
  const who = describeBackend(settings, state);
  const totalMs = result ? Math.round(result.stats.totalMs) : undefined;
  const timing = totalMs !== undefined ? ` in ${totalMs} ms` : '';
  if (!text) {
    const why = reason ? describeNoSuggestion(reason) : 'no answer';
    const raw = result?.text ? ` (it wrote ${JSON.stringify(result.text.slice(0, 80))})` : '';
    return {
      level: 'error',
      text: '',
      raw: result?.text,
      totalMs,
      message: `${who} answered${timing}, but there is nothing to show: ${why}${raw}`,
    };
  }
  const message = `${who} completed "${cursorLine} ▌" with ${JSON.stringify(text)}${timing}`;
  // A model without FIM tokens sees only the text before the cursor (the engine's prefix-only prompt).
  if (settings.backend === 'local' && state.info?.fim === false) {
    return {
      level: 'warning',
      text,
      raw: result?.text,
      totalMs,
      message: `${message}; but the model has no fill-in-the-middle tokens, so it never sees the code after the cursor: choose a code model with FIM tokens`,
    };
  }
  const confidence = result ? shownConfidence(result, text) : undefined;
  if (confidence !== undefined && confidence < settings.minConfidence) {
    return {
      level: 'warning',
      text,
      raw: result?.text,
      totalMs,
      message:
        `${message}; but its confidence ${confidence.toFixed(2)} is below wisp.minConfidence ` +
        `${settings.minConfidence}, so while typing it would not be shown`,
    };
  }
  return { level: 'ok', text, raw: result?.text, totalMs, message };
}
