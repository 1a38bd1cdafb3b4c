/**
 * Telling hardware WebGPU adapters from software ones, on the fields Dawn reports (no GPU
 * needed; the real adapter is checked by webgpu-select.webgpu.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { softwareAdapterReason, summariseAdapter } from '../../../training/backend/webgpu-device.js';

const hw = { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200', isFallbackAdapter: false };

describe('WebGPU adapters', () => {
  it('a discrete GPU is hardware, named by its description and vendor', () => {
    const s = summariseAdapter(hw);
    expect(s.software).toBeUndefined();
    expect(s.name).toBe('NVIDIA H200 (nvidia hopper)');
  });

  it('SwiftShader, llvmpipe, lavapipe and fallback adapters are software', () => {
    // As Dawn reports SwiftShader from Debian's chromium package (measured).
    const swiftshader = { vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0', isFallbackAdapter: true };
    expect(softwareAdapterReason(swiftshader)).toBe('a fallback adapter');
    expect(softwareAdapterReason({ ...swiftshader, isFallbackAdapter: false })).toMatch(/software rasteriser/);
    expect(softwareAdapterReason({ ...hw, vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toMatch(/llvmpipe/);
    expect(softwareAdapterReason({ ...hw, description: 'Vulkan lavapipe' })).toMatch(/lavapipe/);
    expect(softwareAdapterReason({ ...hw, isFallbackAdapter: true })).toBe('a fallback adapter');
  });

  it('missing or odd fields do not throw', () => {
    const s = summariseAdapter({ vendor: 3, description: undefined });
    expect(s.name).toBe('unnamed adapter');
    expect(s.software).toBeUndefined();
  });
});
