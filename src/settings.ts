// Wisp's settings, in one place: their names and defaults (DEFAULT_SETTINGS, which package.json's
// contributions must match: a unit test checks it), which ones only the user may set
// (MACHINE_ONLY_SETTINGS), and their validation. ui/read-settings.ts asks VS Code for every key
// listed here; this module has no `vscode` import.
import { DEVICE_SETTINGS, DeviceSetting, MAX_BEAM_WIDTH, MAX_CANDIDATES } from './engine/process/protocol';
import { FIM_TEMPLATE_SETTINGS, FimTemplateSetting } from './backends/fim-template';

export type BackendSetting = 'local' | 'llama.cpp' | 'ollama' | 'openai';
export const BACKEND_SETTINGS: readonly BackendSetting[] = ['local', 'llama.cpp', 'ollama', 'openai'];

/** Single- or multi-line suggestions; `auto` decides from the cursor's line (inline-request.ts maxLinesFor). */
export type MultilineMode = 'auto' | 'never' | 'always';
const MULTILINE_MODES: readonly MultilineMode[] = ['auto', 'never', 'always'];

export interface WispSettings {
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  maxNewTokens: number;
  generateMaxNewTokens: number;
  /** The longest wait before a request; with adaptiveDebounce off, the fixed wait. */
  debounceMs: number;
  /** The wait follows the typing rhythm and the response time (completion/adaptive-debounce.ts). */
  adaptiveDebounce: boolean;
  contextTokens: number;
  timeBudgetMs: number;
  contextCache: boolean;
  contextCacheWeight: number;
  /**
   * Draw on the other open editors and recently edited files: in the context cache and, for
   * models with repository tokens, as similar chunks before the prompt.
   */
  contextFromOtherFiles: boolean;
  model: string;
  device: DeviceSetting;
  /** Per language id; '*' is the default. */
  enable: Record<string, boolean>;
  /** 'local': the ONNX engine on this machine; otherwise the model server at `server.url`. */
  backend: BackendSetting;
  'server.url': string;
  /** The model name sent to servers that serve several (Ollama, OpenAI-compatible). */
  'server.model': string;
  /**
   * The FIM prompt Wisp builds (OpenAI-compatible; llama.cpp /completion); 'auto': guessed from the
   * model name, and llama.cpp's /infill.
   */
  'server.fimTemplate': FimTemplateSetting;
  multiline: MultilineMode;
  /** Globs of files never completed, never read as context (completion/excluded-files.ts). */
  exclude: string[];
  /** Suggestions the model is less sure of (shared/confidence.ts; 0–1) are not shown; 0 shows all. */
  minConfidence: number;
  /** Sampled suggestions offered for the editor's cycling (Alt+] / Alt+[), at temperature > 0. */
  candidates: number;
  /** Beams searched for a one-line suggestion at temperature 0 (engine/decode/beam-search.ts); 1 = greedy. */
  beamWidth: number;
  /** Logits off a token that would lengthen a repeat of the suggestion's own tokens (repeat-penalty.ts); 0 = off. */
  repeatPenalty: number;
}

export const DEFAULT_SETTINGS: WispSettings = {
  temperature: 0,
  topK: 40,
  topP: 0.95,
  seed: 0,
  maxNewTokens: 48,
  generateMaxNewTokens: 256,
  debounceMs: 75,
  adaptiveDebounce: true,
  contextTokens: 1024,
  timeBudgetMs: 1500,
  contextCache: true,
  contextCacheWeight: 0.5,
  contextFromOtherFiles: true,
  model: 'wisp-code-small',
  device: 'auto',
  enable: { '*': true },
  backend: 'local',
  'server.url': 'http://127.0.0.1:8080',
  'server.model': '',
  'server.fimTemplate': 'auto',
  multiline: 'auto',
  exclude: [
    '**/.env',
    '**/.env.*',
    '**/*.{pem,key,p12,pfx,crt,cer,der,jks,keystore}',
    '**/id_{rsa,dsa,ecdsa,ed25519}',
    '**/secrets.*',
  ],
  minConfidence: 0.4,
  candidates: 1,
  beamWidth: 1,
  repeatPenalty: 0.8,
};

function urlSetting(value: unknown, fallback: string): string {
  if (typeof value !== 'string') return fallback;
  try {
    const url = new URL(value.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? value.trim() : fallback;
  } catch {
    return fallback;
  }
}

function clampNumber(value: unknown, min: number, max: number, fallback: number, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return fallback;
  const v = Math.min(max, Math.max(min, value));
  return integer ? Math.round(v) : v;
}

export function normalizeSettings(raw: Partial<Record<keyof WispSettings, unknown>>): WispSettings {
  const d = DEFAULT_SETTINGS;
  const enable =
    raw.enable && typeof raw.enable === 'object' && !Array.isArray(raw.enable)
      ? Object.fromEntries(
          Object.entries(raw.enable as Record<string, unknown>).filter(([, v]) => typeof v === 'boolean'),
        )
      : d.enable;
  return {
    temperature: clampNumber(raw.temperature, 0, 2, d.temperature),
    topK: clampNumber(raw.topK, 0, 1000, d.topK, true),
    topP: clampNumber(raw.topP, 0.01, 1, d.topP),
    seed: clampNumber(raw.seed, 0, 2 ** 32 - 1, d.seed, true),
    maxNewTokens: clampNumber(raw.maxNewTokens, 1, 1024, d.maxNewTokens, true),
    generateMaxNewTokens: clampNumber(raw.generateMaxNewTokens, 1, 4096, d.generateMaxNewTokens, true),
    debounceMs: clampNumber(raw.debounceMs, 0, 2000, d.debounceMs, true),
    adaptiveDebounce: typeof raw.adaptiveDebounce === 'boolean' ? raw.adaptiveDebounce : d.adaptiveDebounce,
    contextTokens: clampNumber(raw.contextTokens, 64, 32768, d.contextTokens, true),
    timeBudgetMs: clampNumber(raw.timeBudgetMs, 50, 60000, d.timeBudgetMs, true),
    contextCache: typeof raw.contextCache === 'boolean' ? raw.contextCache : d.contextCache,
    contextCacheWeight: clampNumber(raw.contextCacheWeight, 0, 1, d.contextCacheWeight),
    contextFromOtherFiles:
      typeof raw.contextFromOtherFiles === 'boolean' ? raw.contextFromOtherFiles : d.contextFromOtherFiles,
    model: typeof raw.model === 'string' && raw.model.trim() ? raw.model.trim() : d.model,
    device: DEVICE_SETTINGS.includes(raw.device as DeviceSetting) ? (raw.device as DeviceSetting) : d.device,
    enable: enable as Record<string, boolean>,
    backend: BACKEND_SETTINGS.includes(raw.backend as BackendSetting) ? (raw.backend as BackendSetting) : d.backend,
    'server.url': urlSetting(raw['server.url'], d['server.url']),
    'server.model': typeof raw['server.model'] === 'string' ? raw['server.model'].trim() : d['server.model'],
    'server.fimTemplate': FIM_TEMPLATE_SETTINGS.includes(raw['server.fimTemplate'] as FimTemplateSetting)
      ? (raw['server.fimTemplate'] as FimTemplateSetting)
      : d['server.fimTemplate'],
    multiline: MULTILINE_MODES.includes(raw.multiline as MultilineMode)
      ? (raw.multiline as MultilineMode)
      : d.multiline,
    exclude: Array.isArray(raw.exclude)
      ? raw.exclude.filter((g): g is string => typeof g === 'string' && g.trim() !== '')
      : d.exclude,
    minConfidence: clampNumber(raw.minConfidence, 0, 1, d.minConfidence),
    candidates: clampNumber(raw.candidates, 1, MAX_CANDIDATES, d.candidates, true),
    beamWidth: clampNumber(raw.beamWidth, 1, MAX_BEAM_WIDTH, d.beamWidth, true),
    repeatPenalty: clampNumber(raw.repeatPenalty, 0, 10, d.repeatPenalty),
  };
}

/** What runs and where code goes: never taken from a workspace's settings. */
export const MACHINE_ONLY_SETTINGS: ReadonlySet<keyof WispSettings> = new Set<keyof WispSettings>([
  'model',
  'device',
  'backend',
  'server.url',
  'server.model',
  'exclude',
]);

/** The weight the engine mixes the context cache in with; 0 when it is off. */
export function contextCacheWeight(settings: WispSettings): number {
  return settings.contextCache ? settings.contextCacheWeight : 0;
}

export function isEnabledFor(settings: WispSettings, languageId: string): boolean {
  return settings.enable[languageId] ?? settings.enable['*'] ?? true;
}
