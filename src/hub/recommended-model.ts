// The model the Getting Started walkthrough offers to download: a base code model (not a chat
// model) with fill-in-the-middle tokens, in the ONNX layout Download Model… fetches, of a family the
// engine knows (Qwen2: grouped-query attention, rotary, `<|fim_prefix|>`). The 4-bit weight-only
// variant is the smallest graph of it that computes in fp32, and the one the real-size benchmark
// runs for the 0.5B model of the same family.
export const RECOMMENDED_MODEL = {
  repo: 'onnx-community/Qwen2.5-Coder-1.5B',
  variant: 'model_q4.onnx',
  /** As the hub lists it: model_q4.onnx 1.79 GB, plus the tokenizer and config files. */
  size: 'about 1.8 GB',
} as const;
