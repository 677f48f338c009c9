// Called by check_tokenizer_parity.py: encode each snippet with @huggingface/tokenizers (the
// library the extension uses) and compare with the Python ids. Exit code 1 on any mismatch.
// usage: node tokenizer_parity.mjs MODEL_DIR CASES.json
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

const [dir, casesFile] = process.argv.slice(2);
const read = (f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
const tok = new Tokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
const cases = JSON.parse(fs.readFileSync(casesFile, 'utf8'));
let mismatched = 0, roundTrip = 0, tokens = 0;
for (const { text, ids } of cases) {
  const got = tok.encode(text).ids;
  tokens += got.length;
  if (got.length !== ids.length || got.some((x, i) => x !== ids[i])) {
    if (mismatched++ < 5) {
      const at = got.findIndex((x, i) => x !== ids[i]);
      console.log(`mismatch in ${JSON.stringify(text.slice(0, 80))}: first diff at ${at}: node ${got.slice(at, at + 5)} python ${ids.slice(at, at + 5)}`);
    }
  }
  // decode([]) throws in @huggingface/tokenizers 0.2.0, so the empty string is checked by hand
  if ((got.length ? tok.decode(got) : '') !== text) roundTrip++;
}
console.log(`node: ${cases.length} snippets, ${tokens} tokens, ids differ from python in ${mismatched}, decode(encode(x)) != x in ${roundTrip}`);
process.exit(mismatched ? 1 : 0);
