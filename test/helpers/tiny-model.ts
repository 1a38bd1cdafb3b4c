/** Test helper: small MSDNet configurations that build and run in milliseconds. */
import { DEFAULT_MSDNET_CONFIG, type ModelConfig, type MsdNetConfig } from '../../training/models/index.js';

/** 4 exits, 3 scales, 16x16 RGB input (coarsest scale 4x4), few channels. */
export const TINY_MSDNET: MsdNetConfig = {
  ...DEFAULT_MSDNET_CONFIG,
  nBlocks: 4,
  base: 2,
  step: 1,
  nChannels: 4,
  growthRate: 2,
  inputSize: [16, 16],
  numClasses: 5,
};

export function tinyConfig(overrides: Partial<ModelConfig> = {}, msdnet: Partial<MsdNetConfig> = {}): ModelConfig {
  return {
    msdnet: { ...TINY_MSDNET, ...msdnet },
    ge: false,
    linearHeads: true,
    iscHeads: false,
    iscDetach: false,
    iscLinks: true,
    ...overrides,
  };
}
