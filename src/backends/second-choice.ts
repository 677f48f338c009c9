// Extension host. The model's second choice on a model server, as the local engine makes it
// (engine.ts, CompletionRequest.retryRepeatedLine): when the first line of a suggestion is the line
// after the cursor, the filters drop it and nothing would show. The server cannot ban a token at
// one step, so the retry forces the answer's start instead: the tokens drawn before the first one
// with content, then the most likely token other than the one that began the repeated line.
import type { StreamedToken } from './streamed-logprobs';
import type { DrawnToken } from './server-format';

export interface SecondChoice {
  /** Token ids the retry forces as its answer's first tokens. */
  forced: number[];
  /** Their text, which the retry's answer starts with. */
  text: string;
  /** Their log-probabilities, each with its own text, for the suggestion's confidence. */
  tokens: StreamedToken[];
  /** What they leave of the text the answer restores (token healing) still to restore. */
  toRestore: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decoded(bytes: readonly number[]): string | undefined {
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

/**
 * The retry's forced start, from the first generation's drawn tokens in step order, whose text
 * starts by restoring `restores` (healed-span.ts; '' for none); undefined where the server's
 * report cannot give it exactly (a step without its token: llama-server sends no frame for a token
 * that ends inside a character; a token that is not whole characters), where no token has content
 * after the restored text, where there is no runner-up, or where the runner-up does not restore it.
 */
export function secondChoice(drawn: readonly DrawnToken[], restores = ''): SecondChoice | undefined {
  const tokens: StreamedToken[] = [];
  let text = '';
  for (const [i, token] of drawn.entries()) {
    const piece = decoded(token.bytes);
    if (token.step !== i || piece === undefined) return undefined;
    if (!/\S/.test((text + piece).slice(restores.length))) {
      tokens.push({ text: piece, logprob: token.logprob });
      text += piece;
      continue;
    }
    const runnerUp = token.runnerUp;
    const other = runnerUp && decoded(runnerUp.bytes);
    if (!runnerUp || !other) return undefined;
    const forcedText = text + other;
    if (!forcedText.startsWith(restores) && !restores.startsWith(forcedText)) return undefined;
    tokens.push({ text: other, logprob: runnerUp.logprob });
    return {
      forced: [...drawn.slice(0, i).map((t) => t.id), runnerUp.id],
      text: forcedText,
      tokens,
      toRestore: restores.slice(Math.min(forcedText.length, restores.length)),
    };
  }
  return undefined;
}
