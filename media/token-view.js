// The token view's page (see src/ui/token-view.ts). Plain DOM, no framework, nothing remote.
// Every message from the extension is checked before use, and text goes in with textContent
// only, so a token that spells HTML stays text.
(function () {
  'use strict';
  const vscode = acquireVsCodeApi();
  const root = document.getElementById('root');

  const SLIDERS = [
    { key: 'temperature', label: 'Temperature', min: 0, max: 2, step: 0.05 },
    { key: 'topK', label: 'Top-k', min: 0, max: 100, step: 1, off: 0 },
    { key: 'topP', label: 'Top-p', min: 0.01, max: 1, step: 0.01, off: 1 },
  ];

  // ---- validation of what the extension sends ----
  const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
  const isStr = (v) => typeof v === 'string';
  const isToken = (t) =>
    t &&
    typeof t === 'object' &&
    Number.isInteger(t.id) &&
    isStr(t.text) &&
    isStr(t.piece) &&
    typeof t.special === 'boolean';
  const every = (v, ok) => Array.isArray(v) && v.every(ok);

  function isViewData(d) {
    return (
      d &&
      typeof d === 'object' &&
      every(
        d.tokens,
        (t) => isToken(t) && typeof t.reused === 'boolean' && (t.healed === undefined || typeof t.healed === 'boolean'),
      ) &&
      isNum(d.promptTokens) &&
      isNum(d.tokensAfterCursor) &&
      isNum(d.reusedTokens) &&
      isNum(d.computedTokens) &&
      isNum(d.prefillMs) &&
      every(d.drawn, isToken) &&
      d.distribution &&
      typeof d.distribution === 'object' &&
      every(
        d.distribution.candidates,
        (c) => isToken(c) && isNum(c.raw) && isNum(c.filtered) && typeof c.excluded === 'boolean',
      ) &&
      isNum(d.distribution.entropyBits) &&
      isNum(d.distribution.keptCount) &&
      isNum(d.distribution.keptMass) &&
      (d.draw === undefined || isToken(d.draw)) &&
      every(d.suggestion, (t) => isToken(t) && isNum(t.prob)) &&
      (d.healed === undefined || isStr(d.healed)) &&
      (d.server === undefined || (d.server && isStr(d.server.backend) && isNum(d.server.asked)))
    );
  }

  function isMessage(m) {
    if (!m || typeof m !== 'object') return false;
    if (m.type === 'status') return isStr(m.text);
    if (m.type === 'show') {
      return isStr(m.file) && isViewData(m.data) && m.settings && SLIDERS.every((s) => isNum(m.settings[s.key]));
    }
    return false;
  }

  // ---- small DOM helpers ----
  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /** Whitespace made visible, so token boundaries can be seen. */
  function visible(text) {
    return text.replace(/ /g, '·').replace(/\t/g, '→').replace(/\r?\n/g, '↵');
  }

  /** Special tokens and tokens that are part of a character (decoding to U+FFFD) show their vocabulary entry. */
  function tokenLabel(t) {
    return t.special || t.text.includes('\uFFFD') ? t.piece : visible(t.text) || '∅';
  }

  const pct = (p) => (p >= 0.0995 ? (p * 100).toFixed(1) : (p * 100).toFixed(2)) + '%';
  const count = (n) => n.toLocaleString('en-US');

  function section(title) {
    const s = el('section');
    s.appendChild(el('h2', undefined, title));
    return s;
  }

  // ---- rendering ----
  function renderContext(data) {
    const s = section('Context before the cursor');
    if (data.server) {
      s.appendChild(
        el(
          'p',
          'counts',
          `${data.server.backend}: ${count(data.reusedTokens)} reused, ${count(data.computedTokens)} computed, ` +
            `${data.prefillMs.toFixed(1)} ms · ${count(data.promptTokens)} prompt tokens`,
        ),
      );
      s.appendChild(el('p', 'hint', 'The server tokenizes the prompt itself: its tokens are not shown here.'));
      return s;
    }
    s.appendChild(
      el(
        'p',
        'counts',
        `${count(data.reusedTokens)} reused, ${count(data.computedTokens)} computed, ${data.prefillMs.toFixed(1)} ms` +
          ` · ${count(data.promptTokens)} prompt tokens` +
          (data.tokensAfterCursor ? `, ${count(data.tokensAfterCursor)} of them after the cursor (suffix)` : ''),
      ),
    );
    const list = el('div', 'tokens');
    list.setAttribute('role', 'list');
    for (const t of data.tokens) {
      const kind = t.healed ? 'healed' : t.reused ? 'reused' : 'computed';
      const chip = el('span', `token ${kind}${t.special ? ' special' : ''}`, tokenLabel(t));
      chip.setAttribute('role', 'listitem');
      const how = {
        healed: 'taken back by token healing: the next token must start with its text',
        reused: 'reused from the KV cache',
        computed: 'computed for this keystroke',
      }[kind];
      chip.title = `id ${t.id} · ${JSON.stringify(t.piece)} · ${how}`;
      list.appendChild(chip);
      if (!t.special && /\n/.test(t.text)) list.appendChild(el('span', 'break'));
    }
    s.appendChild(list);
    const legend = el('p', 'legend');
    legend.appendChild(el('span', 'token reused', 'reused'));
    legend.appendChild(el('span', 'token computed', 'computed'));
    if (data.healed !== undefined)
      legend.appendChild(el('span', 'token healed', 'taken back: the next token starts with it'));
    s.appendChild(legend);
    return s;
  }

  function bars(title, candidates, value, showExcluded) {
    const box = el('div', 'chart');
    box.appendChild(el('h3', undefined, title));
    const max = Math.max(...candidates.map(value), 1e-9);
    for (const c of candidates) {
      const row = el('div', `bar-row${showExcluded && c.excluded ? ' excluded' : ''}`);
      row.title = `id ${c.id} · ${JSON.stringify(c.piece)}${showExcluded && c.excluded ? ' · excluded by the settings' : ''}`;
      row.appendChild(el('span', `label${c.special ? ' special' : ''}`, tokenLabel(c)));
      const track = el('span', 'track');
      const bar = el('span', 'bar');
      bar.style.width = `${(value(c) / max) * 100}%`;
      track.appendChild(bar);
      row.appendChild(track);
      row.appendChild(el('span', 'value', showExcluded && c.excluded ? 'excluded' : pct(value(c))));
      box.appendChild(row);
    }
    return box;
  }

  function renderDistribution(data, settings) {
    const d = data.distribution;
    const s = section(
      data.drawn.length ? `Next token after the ${data.drawn.length - (data.draw ? 1 : 0)} sampled` : 'Next token',
    );
    const over = data.server ? ` (over the server's top ${d.candidates.length})` : '';
    const stats = el(
      'p',
      'counts',
      `entropy${over} ${d.entropyBits.toFixed(2)} bits · ${count(d.keptCount)} token${d.keptCount === 1 ? '' : 's'} kept, ` +
        `${pct(d.keptMass)} of the mass at T=${settings.temperature}`,
    );
    s.appendChild(stats);
    const charts = el('div', 'charts');
    charts.appendChild(
      bars(data.server ? 'Raw softmax (the server’s)' : 'Raw softmax', d.candidates, (c) => c.raw, false),
    );
    charts.appendChild(
      bars(
        `After T=${settings.temperature}, k=${settings.topK}, p=${settings.topP}`,
        d.candidates,
        (c) => c.filtered,
        true,
      ),
    );
    s.appendChild(charts);
    return s;
  }

  function renderControls(data, settings) {
    const s = section('Sampling');
    const form = el('div', 'controls');
    for (const spec of SLIDERS) {
      const id = `slider-${spec.key}`;
      const label = el('label', 'slider');
      label.htmlFor = id;
      label.appendChild(el('span', 'name', spec.label));
      const input = document.createElement('input');
      Object.assign(input, { type: 'range', id, min: spec.min, max: spec.max, step: spec.step });
      input.value = String(settings[spec.key]);
      input.dataset.key = spec.key;
      const shown = el('output', 'value');
      const describe = (v) => (spec.off !== undefined && v === spec.off ? `${v} (off)` : String(v));
      shown.textContent = describe(settings[spec.key]);
      input.addEventListener('input', () => {
        shown.textContent = describe(Number(input.value));
      });
      // On release, not on every pixel: each change writes the user's settings.
      input.addEventListener('change', () => {
        vscode.postMessage({ type: 'set-setting', key: spec.key, value: Number(input.value) });
      });
      label.appendChild(input);
      label.appendChild(shown);
      form.appendChild(label);
    }
    s.appendChild(form);

    if (data.server) {
      s.appendChild(el('p', 'hint', 'Sampling tokens here needs the local engine (wisp.backend: local).'));
      return s;
    }
    const buttons = el('div', 'buttons');
    const sampleButton = el('button', 'sample', 'Sample a token');
    sampleButton.addEventListener('click', () => vscode.postMessage({ type: 'sample' }));
    const clearButton = el('button', 'secondary', 'Clear');
    clearButton.addEventListener('click', () => vscode.postMessage({ type: 'clear-preview' }));
    buttons.appendChild(sampleButton);
    buttons.appendChild(clearButton);
    s.appendChild(buttons);

    const preview = el('div', 'preview');
    preview.setAttribute('aria-label', 'preview: the end of the context, then the sampled tokens');
    const tail = data.tokens.slice(-12);
    for (const t of tail) preview.appendChild(el('span', 'context', tokenLabel(t)));
    data.drawn.forEach((t, i) => {
      const latest = data.draw && i === data.drawn.length - 1;
      const chip = el('span', `drawn${latest ? ' latest' : ''}`, tokenLabel(t));
      chip.title = `id ${t.id} · ${JSON.stringify(t.piece)}`;
      preview.appendChild(chip);
    });
    if (!data.drawn.length) preview.appendChild(el('span', 'hint', '  ← sampled tokens appear here'));
    s.appendChild(preview);
    return s;
  }

  function renderSuggestion(data) {
    const s = section('Current suggestion');
    if (data.server) {
      s.appendChild(el('p', 'hint', 'The server does not score the suggestion’s tokens.'));
      return s;
    }
    if (!data.suggestion.length) {
      s.appendChild(el('p', 'hint', 'No suggestion at this cursor yet.'));
      return s;
    }
    const line = el('div', 'suggestion');
    for (const t of data.suggestion) {
      const chip = el('span', 'scored', tokenLabel(t));
      chip.style.setProperty('--p', String(t.prob));
      chip.title = `${pct(t.prob)} · id ${t.id} · ${JSON.stringify(t.piece)}`;
      line.appendChild(chip);
    }
    s.appendChild(line);
    s.appendChild(el('p', 'legend', 'Darker = the model was surer of that token.'));
    return s;
  }

  function show(message) {
    const header = el('header');
    header.appendChild(el('span', 'file', message.file));
    const frag = document.createDocumentFragment();
    frag.appendChild(header);
    frag.appendChild(renderContext(message.data));
    frag.appendChild(renderDistribution(message.data, message.settings));
    frag.appendChild(renderControls(message.data, message.settings));
    frag.appendChild(renderSuggestion(message.data));
    // Keep a slider that is being dragged: replacing it would drop the drag.
    const active = document.activeElement;
    if (active && active.dataset && active.dataset.key && active.matches(':active')) return;
    root.replaceChildren(frag);
  }

  function status(text) {
    const existing = root.querySelector('.status');
    if (existing) existing.textContent = text;
    else root.prepend(el('p', 'status', text));
  }

  window.addEventListener('message', (event) => {
    const message = event.data;
    if (!isMessage(message)) return;
    if (message.type === 'show') show(message);
    else status(message.text);
  });
  vscode.postMessage({ type: 'ready' });
})();
