// The engine process's stdout/stderr as log lines: whole lines (a pipe delivers chunks that may
// end mid-word), without terminal colour codes, and the execution providers' own chatter — Dawn's
// and the Vulkan loader's "Warning: …", onnxruntime's "[W:onnxruntime:…]" — folded into one
// readable line for the debug level instead of a screenful of escape codes in the user's log.

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g; // eslint-disable-line no-control-regex
const ORT_LINE = /^\S+ \S+ \[([VIWEF]):onnxruntime:[^\]]*\] (.*)$/;
const DAWN_LINE = /^Warning: (.*)$/;
/** A C++ source location Dawn prints under a warning ("    at CheckVkSuccessImpl (…/VulkanError.cpp:106)"). */
const SOURCE_LINE = /^\s+at \S+ \(.*:\d+\)$/;

export interface OutputLine {
  text: string;
  level: 'info' | 'debug';
}

/** The readable message of a provider's log line, or undefined for any other line. */
export function providerMessage(line: string): string | undefined {
  const ort = line.match(ORT_LINE);
  if (ort) return `onnxruntime: ${ort[2]}`;
  const dawn = line.match(DAWN_LINE);
  if (dawn) return `Dawn/Vulkan: ${dawn[1]}`;
  return undefined;
}

export class EngineOutput {
  private partial = '';
  private folded: string[] = [];

  /** Lines completed by this chunk, in order; provider lines are held for fold(). */
  push(chunk: string): OutputLine[] {
    const text = this.partial + chunk;
    const lines = text.split(/\r?\n/);
    this.partial = lines.pop() ?? '';
    const out: OutputLine[] = [];
    for (const raw of lines) {
      const line = raw.replace(ANSI, '').trimEnd();
      if (!line || SOURCE_LINE.test(line)) continue;
      const message = providerMessage(line);
      if (message) {
        if (!this.folded.includes(message)) this.folded.push(message);
      } else {
        out.push(...this.fold(), { text: line, level: 'info' });
      }
    }
    return out;
  }

  /** The provider lines held so far as one debug line (none when there are none). */
  fold(): OutputLine[] {
    if (this.folded.length === 0) return [];
    const text = `provider messages: ${this.folded.join(' | ')}`;
    this.folded = [];
    return [{ text, level: 'debug' }];
  }

  /** Everything held, when the stream ends: an unterminated last line, then the folded line. */
  end(): OutputLine[] {
    const last = this.partial ? this.push('\n') : [];
    return [...last, ...this.fold()];
  }
}
