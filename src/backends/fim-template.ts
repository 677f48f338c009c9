// Extension host. Fill-in-the-middle prompts as text, for servers that take a prompt string and no
// suffix (OpenAI-compatible /v1/completions on vLLM or llama-server). The spellings are the ones
// the local engine's tokenizer recognises (engine/model/tokenizer.ts), plus Code Llama's.

export type FimTemplateName = 'starcoder' | 'qwen' | 'deepseek' | 'codellama';
export type FimTemplateSetting = 'auto' | FimTemplateName;

export const FIM_TEMPLATE_SETTINGS: readonly FimTemplateSetting[] = [
  'auto',
  'starcoder',
  'qwen',
  'deepseek',
  'codellama',
];

const TEMPLATES: Record<FimTemplateName, (prefix: string, suffix: string) => string> = {
  // StarCoder, SantaCoder and Wisp's own models; PSM order.
  starcoder: (p, s) => `<fim_prefix>${p}<fim_suffix>${s}<fim_middle>`,
  qwen: (p, s) => `<|fim_prefix|>${p}<|fim_suffix|>${s}<|fim_middle|>`,
  deepseek: (p, s) => `<｜fim▁begin｜>${p}<｜fim▁hole｜>${s}<｜fim▁end｜>`,
  codellama: (p, s) => `<PRE> ${p} <SUF>${s} <MID>`,
};

/** The template a setting names; 'auto' guesses from the served model's name, else StarCoder's. */
export function fimTemplateFor(setting: FimTemplateSetting, modelName: string): FimTemplateName {
  if (setting !== 'auto') return setting;
  const name = modelName.toLowerCase();
  if (name.includes('qwen')) return 'qwen';
  if (name.includes('deepseek')) return 'deepseek';
  if (name.includes('codellama') || name.includes('code-llama')) return 'codellama';
  return 'starcoder';
}

export function fimPrompt(template: FimTemplateName, prefix: string, suffix: string): string {
  return TEMPLATES[template](prefix, suffix);
}
