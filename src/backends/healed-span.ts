// Extension host. Token healing on a model server (the local engine's is engine/decode/token-healing.ts):
// the cursor rarely sits on a token boundary of ordinary text, and a prompt that ends in "\n" before
// indentation not typed yet, or in " ret", ends in a token the model has rarely seen there. The
// server's tokenizer is not at hand here, so rather than the last token the prefix gives back its
// last pre-token, a span that ordinary tokenizers end a token before (a run of whitespace, or of
// word characters or of other symbols with the space before it), and a grammar makes the answer
// start with that text (llama-server's GBNF `grammar`). The answer's restored start is dropped.

/** Spans longer than this (a very long name) are left in place: cutting inside one would make the boundary worse. */
export const MAX_HEALED_CHARS = 32;

const TRAILING_SPAN = /(?:\s+| ?[\p{L}\p{N}_]+| ?[^\s\p{L}\p{N}_]+)$/u;

/** The prefix's trailing span to take back and have the answer restore; '' for none. */
export function healedSpan(prefix: string): string {
  const span = TRAILING_SPAN.exec(prefix)?.[0] ?? '';
  return span.length <= MAX_HEALED_CHARS ? span : '';
}

/** A GBNF string literal: printable ASCII as it is, everything else as a code point escape. */
function gbnfLiteral(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (code >= 0x20 && code < 0x7f) out += char;
    else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** A GBNF grammar for answers that start with `text` and go on with anything. */
export function startsWithGrammar(text: string): string {
  return `root ::= ${gbnfLiteral(text)} .*`;
}
