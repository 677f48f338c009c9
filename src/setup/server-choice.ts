// Extension host, no `vscode` import. What Wisp: Use a Model Server… asks and writes: the kinds of
// server with their usual local URL, the check of a typed URL, and the user settings that follow
// from the answers. The settings are machine-scoped (a workspace may not send code elsewhere), so
// the command writes them to the user's settings only.
import type { BackendSetting, WispSettings } from '../settings';

export interface ServerKind {
  backend: BackendSetting;
  label: string;
  detail: string;
  /** Where that server listens when started with its own defaults on this machine. */
  defaultUrl?: string;
  /** Servers that serve several models need wisp.server.model. */
  needsModel: boolean;
  modelExample?: string;
}

export const SERVER_KINDS: readonly ServerKind[] = [
  {
    backend: 'llama.cpp',
    label: "llama.cpp's llama-server",
    detail:
      'POST /infill with the other open files as input_extra (a Wisp model: /completion in its SPM order); the server reuses the prompt (cache_prompt)',
    defaultUrl: 'http://127.0.0.1:8080',
    needsModel: false,
  },
  {
    backend: 'ollama',
    label: 'Ollama',
    detail: 'POST /api/generate with suffix',
    defaultUrl: 'http://127.0.0.1:11434',
    needsModel: true,
    modelExample: 'qwen2.5-coder:1.5b-base',
  },
  {
    backend: 'openai',
    label: 'OpenAI-compatible (vLLM, TGI, LM Studio)',
    detail: 'POST /v1/completions with a fill-in-the-middle prompt Wisp builds',
    defaultUrl: 'http://127.0.0.1:8000',
    needsModel: true,
    modelExample: 'Qwen/Qwen2.5-Coder-7B',
  },
  {
    backend: 'local',
    label: "Wisp's own engine (no server)",
    detail: 'the ONNX model in wisp.model, on this machine: nothing leaves it',
    needsModel: false,
  },
];

/** Why a typed server URL cannot be used, or undefined when it can. */
export function serverUrlProblem(input: string): string | undefined {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return `'${input}' is not a URL: expected e.g. http://127.0.0.1:8080 or https://llm.example.com`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `use http:// or https://, not ${url.protocol}//`;
  // Settings files are plain text, often synced: a key belongs in secret storage.
  if (url.username || url.password)
    return 'leave the credentials out of the URL: Wisp: Set Server API Key keeps a key in secret storage';
  if (url.search || url.hash) return 'the base URL only, without ? or #: Wisp adds the endpoint path itself';
  return undefined;
}

export interface ServerAnswers {
  backend: BackendSetting;
  url?: string;
  model?: string;
}

/** The user settings to write for the answers: only the keys that change, in the order to write them. */
export function serverSettingsFor(
  answers: ServerAnswers,
  current: WispSettings,
): Array<['backend' | 'server.url' | 'server.model', string]> {
  const writes: Array<['backend' | 'server.url' | 'server.model', string]> = [];
  // The URL and model first: switching the backend last starts the client with the new address.
  if (answers.url !== undefined) {
    const url = answers.url.trim().replace(/\/+$/, '');
    if (url !== current['server.url']) writes.push(['server.url', url]);
  }
  if (answers.model !== undefined && answers.model.trim() !== current['server.model'])
    writes.push(['server.model', answers.model.trim()]);
  if (answers.backend !== current.backend) writes.push(['backend', answers.backend]);
  return writes;
}
