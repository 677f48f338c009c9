// Messages between the token view's webview (media/token-view.js) and the extension host. The
// webview is a web page: what it sends is checked here before it can touch a setting or the
// engine, and media/token-view.js checks what it receives the same way. No `vscode` import.
import type { TokenViewData } from '../engine/process/protocol';

/** The sampling settings the sliders write, with the ranges package.json declares. */
export const SLIDER_SETTINGS = {
  temperature: { min: 0, max: 2, integer: false },
  topK: { min: 0, max: 1000, integer: true },
  topP: { min: 0.01, max: 1, integer: false },
} as const;

export type SliderSetting = keyof typeof SLIDER_SETTINGS;

export type ViewMessage =
  | { type: 'ready' }
  | { type: 'set-setting'; key: SliderSetting; value: number }
  | { type: 'sample' }
  | { type: 'clear-preview' };

export type HostToViewMessage =
  | { type: 'show'; file: string; data: TokenViewData; settings: Record<SliderSetting, number> }
  | { type: 'status'; text: string };

function isSliderSetting(key: unknown): key is SliderSetting {
  return typeof key === 'string' && Object.prototype.hasOwnProperty.call(SLIDER_SETTINGS, key);
}

/** The message if it is one the view may send, with a value inside the setting's range; else undefined. */
export function parseViewMessage(value: unknown): ViewMessage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case 'ready':
    case 'sample':
    case 'clear-preview':
      return { type: message.type };
    case 'set-setting': {
      const { key, value: setting } = message;
      if (!isSliderSetting(key) || typeof setting !== 'number' || !Number.isFinite(setting)) return undefined;
      const range = SLIDER_SETTINGS[key];
      if (setting < range.min || setting > range.max || (range.integer && !Number.isInteger(setting))) return undefined;
      return { type: 'set-setting', key, value: setting };
    }
    default:
      return undefined;
  }
}
