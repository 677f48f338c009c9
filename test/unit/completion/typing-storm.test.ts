// A typing storm through the editor's own completion logic (InlineCompleter) and the real engine
// process: 20 keystrokes a second with cursor jumps, deletions and file switches, as VS Code sends
// them (each keystroke cancels the previous request). Nothing may pile up, every request must end,
// and the engine's memory must stay bounded. WISP_STORM_SECONDS sets the length (default 60);
// WISP_STORM_MODEL another model folder (default: the tiny fixture).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { prepareInline } from '../../../src/completion/inline-request';
import { InlineCompleter } from '../../../src/completion/inline-completer';
import type { CompletionRequest } from '../../../src/engine/engine';
import { CompleteOptions, EngineClient } from '../../../src/engine/process/engine-client';
import { DEFAULT_SETTINGS, normalizeSettings } from '../../../src/settings';
import { REPO_ROOT, TINY_MODEL } from '../fixture';

const SECONDS = Number(process.env.WISP_STORM_SECONDS ?? 60);
const KEYS_PER_SECOND = 20;
const MODEL = process.env.WISP_STORM_MODEL ?? TINY_MODEL;

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** A deterministic stream of numbers in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe('typing storm', () => {
  it(`${KEYS_PER_SECOND} keystrokes/s for ${SECONDS} s: nothing piles up, everything ends, memory stays bounded`, async (t) => {
    const client = new EngineClient({ enginePath: path.join(REPO_ROOT, 'dist', 'engine.js'), log: () => {} });
    await client.load({ modelDir: MODEL, device: 'cpu', threads: 1 });
    const pid = client.pid!;

    let running = 0;
    let maxRunning = 0;
    let maxPending = 0;
    const backend = {
      complete: async (request: CompletionRequest, options?: CompleteOptions) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        const answer = client.complete(request, options);
        maxPending = Math.max(maxPending, client.inFlight);
        try {
          return await answer;
        } finally {
          running--;
        }
      },
    };
    const completer = new InlineCompleter(backend);
    const settings = normalizeSettings({ ...DEFAULT_SETTINGS, debounceMs: 30, maxNewTokens: 16 });
    const sources = ['test/workspace/sample.ts', 'test/workspace/sample.py', 'src/shared/sampler.ts'].map((f) =>
      fs.readFileSync(path.join(REPO_ROOT, f), 'utf8'),
    );
    const docs = sources.map((text) => ({ text: text.slice(0, 200), cursor: 200, source: text }));
    const random = lcg(42);

    const outcomes = { answered: 0, fromMemory: 0, cancelled: 0, failed: 0 };
    const cancelLatencies: number[] = [];
    const pendingQueries: Promise<void>[] = [];
    let previous: AbortController | undefined;
    let doc = 0;
    const warmup = docs[0].text;
    await client.complete(
      prepareInline(
        { slice: (s, e) => warmup.slice(s, e), documentLength: warmup.length, cursor: warmup.length },
        settings,
      ).request,
    );
    const rssStart = rssMb(pid);
    let rssMax = rssStart;
    const rssSamples: number[] = [];

    const keystrokes = SECONDS * KEYS_PER_SECOND;
    for (let k = 0; k < keystrokes; k++) {
      const roll = random();
      if (roll < 0.03) {
        // Switching files, as the editor's watcher does: the others become context files to index.
        doc = (doc + 1) % docs.length;
        client.setContextFiles(
          docs.flatMap((o, i) =>
            i === doc ? [] : [{ key: `doc${i}`, version: k, path: `doc${i}`, weight: 0.5, text: o.text + o.source }],
          ),
        );
      }
      const d = docs[doc];
      if (roll < 0.06) d.cursor = Math.floor(random() * (d.text.length + 1));
      else if (roll < 0.16 && d.cursor > 0) {
        d.text = d.text.slice(0, d.cursor - 1) + d.text.slice(d.cursor);
        d.cursor--;
      } else {
        const ch = d.source[(d.cursor + k) % d.source.length];
        d.text = d.text.slice(0, d.cursor) + ch + d.text.slice(d.cursor);
        d.cursor++;
      }
      if (previous) {
        const abortedAt = performance.now();
        const settled = pendingQueries[pendingQueries.length - 1];
        previous.abort();
        void settled.then(() => cancelLatencies.push(performance.now() - abortedAt));
      }
      const abort = new AbortController();
      previous = abort;
      const text = d.text;
      pendingQueries.push(
        completer
          .complete(
            {
              slice: (s, e) => text.slice(s, e),
              documentLength: text.length,
              cursor: d.cursor,
              documentKey: `doc${doc}`,
              paths: { relative: `doc${doc}.ts` },
              style: { eol: '\n', insertSpaces: true, tabSize: 4 },
              signal: abort.signal,
            },
            settings,
          )
          .then(
            (answer) => {
              if (answer.reason?.kind === 'debounced' || answer.reason?.kind === 'cancelled') outcomes.cancelled++;
              else if (answer.source === 'memory') outcomes.fromMemory++;
              else outcomes.answered++;
            },
            () => {
              outcomes.failed++;
            },
          ),
      );
      if (k % 100 === 0) {
        rssSamples.push(rssMb(pid));
        rssMax = Math.max(rssMax, rssSamples[rssSamples.length - 1]);
      }
      await new Promise((r) => setTimeout(r, 1000 / KEYS_PER_SECOND));
    }
    await Promise.race([
      // Generations outlive the keystrokes that started them (inline-completer.ts): wait for those too.
      Promise.all(pendingQueries).then(() => completer.settled()),
      new Promise((_, reject) => setTimeout(() => reject(new Error('requests did not end')), 30_000)),
    ]);
    const rssEnd = rssMb(pid);
    client.dispose();

    cancelLatencies.sort((a, b) => a - b);
    const p = (q: number) => cancelLatencies[Math.floor(q * (cancelLatencies.length - 1))] ?? 0;
    t.diagnostic(
      `storm: ${keystrokes} keystrokes; answered ${outcomes.answered}, typed through ${outcomes.fromMemory}, cancelled ${outcomes.cancelled}, failed ${outcomes.failed}; ` +
        `max engine requests pending ${maxPending}, max uncancelled in flight ${maxRunning}; cancel→settled p50 ${p(0.5).toFixed(1)} ms p95 ${p(0.95).toFixed(1)} ms; ` +
        `engine RSS ${rssStart.toFixed(0)} → max ${rssMax.toFixed(0)} → end ${rssEnd.toFixed(0)} MB (every 100 keystrokes: ${rssSamples.map((r) => r.toFixed(0)).join(' ')})`,
    );
    assert.equal(outcomes.failed, 0);
    assert.equal(outcomes.answered + outcomes.fromMemory + outcomes.cancelled, keystrokes);
    assert.ok(maxRunning <= 2, `${maxRunning} completions awaited at once`);
    assert.ok(maxPending <= 2, `${maxPending} engine requests pending at once`);
    assert.equal(client.inFlight, 0);
    assert.ok(rssMax - rssStart < 150, `engine RSS grew by ${(rssMax - rssStart).toFixed(0)} MB`);
  });
});
