// Whether an accelerator is worth using: measured once per model, device and onnxruntime version.
//
// `auto` must never land on a device slower than the CPU. A GPU provider that starts is not
// enough: Mesa's lavapipe (a CPU pretending to be a Vulkan GPU) runs WebGPU at ~100 ms per decode
// step where the CPU takes a few, and a weak integrated GPU can lose to a strong CPU on small
// models. So each candidate is timed on a few decode steps of the loaded model and compared with
// the CPU; the result is kept (the host stores it in the extension's global state) until the model
// file or onnxruntime changes, so the measurement costs one load, not every load.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Median milliseconds per decode step with a short past, by speedKey. */
export type DeviceSpeeds = Record<string, number>;

/** What a measurement depends on: the model file (path, size, modification time), the provider, onnxruntime. */
export function speedKey(onnxPath: string, provider: string, ortVersion: string): string {
  let stamp = '';
  try {
    const st = fs.statSync(onnxPath);
    stamp = `${st.size}:${Math.round(st.mtimeMs)}`;
  } catch {
    // an unreadable model fails to load anyway
  }
  return `${onnxPath}|${stamp}|${provider}|onnxruntime ${ortVersion}`;
}

/**
 * Whether the WebGPU adapter Dawn would pick on Linux is a software one (lavapipe, llvmpipe,
 * SwiftShader). Dawn does not report its adapter through onnxruntime, so this looks at what the
 * Vulkan loader can reach: the driver manifests the environment pins (VK_DRIVER_FILES,
 * VK_ICD_FILENAMES), and whether any GPU device node exists at all — hardware Vulkan drivers need
 * /dev/dri/renderD* or /dev/nvidia*; without one only a software driver can answer. Elsewhere
 * (D3D12, Metal) it answers false and the measurement alone decides.
 */
export function softwareWebgpuAdapter(
  platform: NodeJS.Platform,
  env: NodeJS.ProcessEnv,
  listDir: (dir: string) => string[] = safeListDir,
): boolean {
  if (platform !== 'linux') return false;
  const pinned = (env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES || '').split(':').filter(Boolean);
  if (pinned.length > 0 && pinned.every((file) => SOFTWARE_DRIVER.test(path.basename(file)))) return true;
  const gpuNodes = [
    ...listDir('/dev/dri').filter((n) => n.startsWith('renderD')),
    ...listDir('/dev').filter((n) => /^nvidia\d+$/.test(n)),
  ];
  return gpuNodes.length === 0;
}

const SOFTWARE_DRIVER = /lvp|llvmpipe|swiftshader/i;

function safeListDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

export interface Verdict {
  use: boolean;
  /** Why not, in a few words, when not. */
  reason?: string;
}

/** Use an accelerator only when it is a real one and measured faster than the CPU. */
export function judgeAccelerator(ms: number, cpuMs: number, software: boolean): Verdict {
  const figures = `${fmt(ms)} ms/step vs cpu ${fmt(cpuMs)} ms/step`;
  if (software) return { use: false, reason: `software adapter, ${figures}` };
  if (ms >= cpuMs) return { use: false, reason: `slower than the cpu, ${figures}` };
  return { use: true };
}

function fmt(ms: number): string {
  return ms < 10 ? ms.toFixed(2) : ms.toFixed(0);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
