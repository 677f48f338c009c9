// Extension host. The chosen tokens' log-probabilities that a server streams with a completion
// (llama.cpp's `completion_probabilities`, OpenAI's `logprobs`), gathered into the shape the local
// engine reports (CompletionResult.logprobs), so that wisp.minConfidence applies to a server's
// suggestions as it does to the engine's (shared/confidence.ts).
import { TokenLogprob, fromTokenTexts } from '../shared/confidence';

/** A token as a stream frame reports it: its text and its log-probability. */
export interface StreamedToken {
  text: string;
  logprob: number;
}

export class StreamedLogprobs {
  private readonly tokens: StreamedToken[] = [];
  /** A frame wrote text and gave no log-probabilities: the confidence of the text is unknown. */
  private missing = false;

  /** One frame: the text it adds and the tokens it reports (undefined or empty where it gives none). */
  add(text: string, tokens: readonly StreamedToken[] | undefined): void {
    if (!tokens || tokens.length === 0) {
      if (text) this.missing = true;
      return;
    }
    // A frame's token texts need not spell its text: llama-server holds back text that may begin a
    // stop string (a frame with a token and no text, then one with the text of several tokens and
    // one token), and reports a token that ends inside a character only with the one that
    // completes it. Then the frame's tokens end where its text does.
    if (tokens.map((t) => t.text).join('') === text) {
      this.tokens.push(...tokens);
      return;
    }
    tokens.forEach((t, i) => this.tokens.push({ text: i === tokens.length - 1 ? text : '', logprob: t.logprob }));
  }

  /**
   * The tokens' log-probabilities against the final text (which the end rules may have cut
   * shorter than the frames), or undefined where a frame with text came without them. `healed`:
   * characters at the start of the frames' text that restore the prompt (healed-span.ts), not
   * in the final text.
   */
  result(text: string, healed = 0): TokenLogprob[] | undefined {
    if (this.missing) return undefined;
    return fromTokenTexts(this.tokens, healed).map((t) => ({ logprob: t.logprob, end: Math.min(t.end, text.length) }));
  }
}
