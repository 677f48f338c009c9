// Which onnxruntime execution providers to ask for, from the `wisp.device` setting.

export type DeviceSetting = 'auto' | 'cpu' | 'webgpu' | 'cuda' | 'dml' | 'coreml';

export const DEVICE_SETTINGS: readonly DeviceSetting[] = ['auto', 'cpu', 'webgpu', 'cuda', 'dml', 'coreml'];

/**
 * Providers in order of preference; onnxruntime falls back along the list and the engine falls back
 * to the CPU alone if a session cannot be created at all. `auto` on Linux stays on the CPU: the
 * CUDA provider's libraries are not installed with the package (see the README), and WebGPU on
 * Linux goes through Vulkan, which on a machine without a GPU is a software renderer.
 */
export function executionProviders(device: DeviceSetting, platform: NodeJS.Platform, cudaInstalled: boolean): string[] {
  switch (device) {
    case 'cpu':
      return ['cpu'];
    case 'webgpu':
      return ['webgpu', 'cpu'];
    case 'cuda':
      return ['cuda', 'cpu'];
    case 'dml':
      return ['dml', 'cpu'];
    case 'coreml':
      return ['coreml', 'cpu'];
    case 'auto':
      if (platform === 'win32') return ['dml', 'cpu'];
      if (platform === 'darwin') return ['coreml', 'cpu'];
      return cudaInstalled ? ['cuda', 'cpu'] : ['cpu'];
  }
}
