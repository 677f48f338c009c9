// Extension host. Fill-in-the-middle prompts as text, for servers that take a prompt string and no
// suffix (OpenAI-compatible /v1/completions on vLLM or llama-server), and for llama-server's
// /completion when wisp.server.fimTemplate names one or the served model is Wisp's own. The spellings are the ones
// the local engine's tokenizer recognises (engine/model/tokenizer.ts), plus Code Llama's.

export type FimTemplateName = 'starcoder' | 'starcoder-spm' | 'qwen' | 'deepseek' | 'codellama';
export type FimTemplateSetting = 'auto' | FimTemplateName;

export const FIM_TEMPLATE_SETTINGS: readonly FimTemplateSetting[] = [
  'auto',
  'starcoder',
  'starcoder-spm',
  'qwen',
  'deepseek',
  'codellama',
];

const TEMPLATES: Record<FimTemplateName, (prefix: string, suffix: string) => string> = {
  // StarCoder and SantaCoder; PSM order.
  starcoder: (p, s) => `<fim_prefix>${p}<fim_suffix>${s}<fim_middle>`,
  // The same tokens in SPM order (Bavarian et al. 2022, "variant 2"), the order Wisp's bundled
  // model is trained in and its local engine prompts. The prefix comes last, so what a keystroke
  // changes is the prompt's end and a server's prompt cache keeps the rest.
  'starcoder-spm': (p, s) => `<fim_prefix><fim_suffix>${s}<fim_middle>${p}`,
  qwen: (p, s) => `<|fim_prefix|>${p}<|fim_suffix|>${s}<|fim_middle|>`,
  deepseek: (p, s) => `<｜fim▁begin｜>${p}<｜fim▁hole｜>${s}<｜fim▁end｜>`,
  codellama: (p, s) => `<PRE> ${p} <SUF>${s} <MID>`,
};

/**
 * The template a setting names; 'auto' guesses from the served model's name (Wisp's own models in
 * their SPM order), else StarCoder's.
 */
export function fimTemplateFor(setting: FimTemplateSetting, modelName: string): FimTemplateName {
  if (setting !== 'auto') return setting;
  // The last part of a path or repository name: a folder's name (~/.cache/wisp/…) says nothing of the model.
  const name = (modelName.split(/[\\/]/).pop() ?? '').toLowerCase();
  if (name.includes('wisp')) return 'starcoder-spm';
  if (name.includes('qwen')) return 'qwen';
  if (name.includes('deepseek')) return 'deepseek';
  if (name.includes('codellama') || name.includes('code-llama')) return 'codellama';
  return 'starcoder';
}

/**
 * The prompt Wisp builds for llama-server's /completion, or undefined for /infill, which builds
 * the model's own FIM prompt: 'auto' leaves the prompt to the server, except for Wisp's own
 * models, trained in the SPM order that /infill does not build.
 */
export function completionTemplateFor(setting: FimTemplateSetting, modelName: string): FimTemplateName | undefined {
  if (setting !== 'auto') return setting;
  return fimTemplateFor(setting, modelName) === 'starcoder-spm' ? 'starcoder-spm' : undefined;
}

export function fimPrompt(template: FimTemplateName, prefix: string, suffix: string): string {
  return TEMPLATES[template](prefix, suffix);
}
