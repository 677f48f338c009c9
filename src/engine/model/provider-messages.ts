// onnxruntime's errors as a person reads them.

/**
 * The readable part of an execution provider's error: its first line without the C++ source
 * location and the failed check ("/onnxruntime_src/…/webgpu_context.cc:136 …::<lambda()>
 * adapter_result.status == … was false. Failed to get a WebGPU adapter: No supported adapters"
 * becomes "Failed to get a WebGPU adapter: No supported adapters"). Long messages are cut at a
 * word, never mid-word.
 */
export function providerErrorReason(message: string, maxChars = 300): string {
  let text = message.split('\n')[0].trim();
  const check = text.match(/ was false\. (.+)$/);
  if (check) text = check[1];
  else text = text.replace(/^\S+\.(?:cc|cpp|h):\d+ (?:\S+::\S+(?:\([^)]*\))?\S* )?/, '');
  if (text.length <= maxChars) return text;
  const cut = text.lastIndexOf(' ', maxChars);
  return `${text.slice(0, cut > 0 ? cut : maxChars)} …`;
}
