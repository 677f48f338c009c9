// Extension host. A server's answer that the prompt does not fit its context, read from its error
// message: how many tokens the prompt was and how many the context holds, so that the next prompt
// can be cut to fit (prompt-budget.ts). The messages are the servers' own wording:
//   llama-server: "request (N tokens) exceeds the available context size (M tokens), try increasing it"
//                 "input (N tokens) is larger than the max context size (M tokens). skipping"
//   vLLM:         "This model's maximum context length is M tokens. However, your request has N input tokens."
//                 "… maximum context length is M tokens and your request has N input tokens (…)"
//                 "… However, you requested T tokens (N in the messages, C in the completion)."

export interface ContextOverflow {
  /** Tokens the server's context holds (prompt and completion together). */
  contextTokens: number;
  /** Tokens of the prompt that did not fit, as the server counted them. */
  promptTokens: number;
}

const LLAMA_CPP = [
  /request \((\d+) tokens\) exceeds the available context size \((\d+) tokens\)/,
  /input \((\d+) tokens\) is larger than the max context size \((\d+) tokens\)/,
];
const VLLM_CONTEXT = /maximum context length is (\d+) tokens/;
const VLLM_PROMPT = [/request has (\d+) input tokens/, /\((\d+) in the messages/];

export function contextOverflow(message: string): ContextOverflow | undefined {
  for (const pattern of LLAMA_CPP) {
    const m = pattern.exec(message);
    if (m) return { promptTokens: Number(m[1]), contextTokens: Number(m[2]) };
  }
  const context = VLLM_CONTEXT.exec(message);
  if (!context) return undefined;
  for (const pattern of VLLM_PROMPT) {
    const m = pattern.exec(message);
    if (m) return { promptTokens: Number(m[1]), contextTokens: Number(context[1]) };
  }
  return undefined;
}
