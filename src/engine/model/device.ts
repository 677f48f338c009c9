// Which onnxruntime execution providers to ask for, from the `wisp.device` setting.

import type { DeviceSetting } from '../process/protocol';

/**
 * The execution providers to try, in order. An explicit device is tried alone (its failure is an
 * error, not a fallback). `auto` prefers the platform's native accelerator — DirectML on Windows,
 * CoreML on macOS, CUDA on Linux when its provider libraries are installed (they are not by
 * default, see the README) — then WebGPU, then the CPU.
 */
export function deviceCandidates(device: DeviceSetting, platform: NodeJS.Platform, cudaInstalled: boolean): string[] {
  if (device !== 'auto') return [device];
  if (platform === 'win32') return ['dml', 'webgpu', 'cpu'];
  if (platform === 'darwin') return ['coreml', 'webgpu', 'cpu'];
  return cudaInstalled ? ['cuda', 'webgpu', 'cpu'] : ['webgpu', 'cpu'];
}
