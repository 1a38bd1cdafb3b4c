import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_MSDNET_CONFIG, blockSteps, layerScales, parseModelConfig, parseMsdNetConfig, scaleSizes } from '../../../training/models/config.js';

describe('model configuration', () => {
  it('derives the block layout of spec §5.6', () => {
    expect(blockSteps(DEFAULT_MSDNET_CONFIG)).toEqual([4, 2, 2, 2, 2, 2, 2]);
    expect(blockSteps({ nBlocks: 5, base: 1, step: 1, stepMode: 'lin_grow' })).toEqual([1, 2, 3, 4, 5]);
    // 16 layers, 3 scales: the finest scale is dropped after layers 6 and 12 (transitions after 7 and 13).
    const drops = Array.from({ length: 16 }, (_, i) => layerScales(i + 1, 16, 3)).flatMap((s, i) => (s.inScales > s.outScales ? [i + 1] : []));
    expect(drops).toEqual([7, 13]);
  });

  it('computes the scale sizes of CIFAR, Fashion-MNIST and ImageNet inputs', () => {
    expect(scaleSizes(DEFAULT_MSDNET_CONFIG)).toEqual([[32, 32], [16, 16], [8, 8]]);
    expect(scaleSizes({ ...DEFAULT_MSDNET_CONFIG, inputSize: [28, 28], inputChannels: 1 })).toEqual([[28, 28], [14, 14], [7, 7]]);
    expect(scaleSizes({ ...DEFAULT_MSDNET_CONFIG, inputSize: [224, 224], head: 'imagenet', grFactor: [1, 2, 4, 4], bnFactor: [1, 2, 4, 4] })).toEqual([
      [56, 56],
      [28, 28],
      [14, 14],
      [7, 7],
    ]);
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['an unknown step mode', { ...DEFAULT_MSDNET_CONFIG, stepMode: 'zigzag' }, /msdnet\.stepMode/],
    ['a scale factor list of the wrong length', { ...DEFAULT_MSDNET_CONFIG, bnFactor: [1, 2] }, /msdnet\.bnFactor: expected 3 values .* got 2/],
    ['an input too small for the number of scales', { ...DEFAULT_MSDNET_CONFIG, inputSize: [4, 4] }, /msdnet\.inputSize: expected an input large enough for 3 scales .*got 4x4 \(coarsest 1x1\)/],
    ['a zero block count', { ...DEFAULT_MSDNET_CONFIG, nBlocks: 0 }, /msdnet\.nBlocks/],
    ['a fractional growth rate', { ...DEFAULT_MSDNET_CONFIG, growthRate: 2.5 }, /msdnet\.growthRate/],
    ['an odd growth at a down-sampled scale', { ...DEFAULT_MSDNET_CONFIG, growthRate: 3, grFactor: [1, 1, 1], bnFactor: [1, 1, 1] }, /msdnet\.growthRate: expected growthRate x grFactor\[1\] to be even/],
    ['an unknown field', { ...DEFAULT_MSDNET_CONFIG, depth: 3 }, /depth/],
    ['a one-class problem', { ...DEFAULT_MSDNET_CONFIG, numClasses: 1 }, /msdnet\.numClasses/],
  ];
  for (const [what, config, message] of bad) {
    it(`rejects ${what}, naming the field`, () => {
      expect(() => parseMsdNetConfig(config)).toThrow(ConfigError);
      expect(() => parseMsdNetConfig(config)).toThrow(message);
    });
  }

  it('rejects a model with no heads', () => {
    expect(() => parseModelConfig({ msdnet: DEFAULT_MSDNET_CONFIG, ge: false, linearHeads: false, iscHeads: false, iscDetach: false })).toThrow(
      /config\.linearHeads: a model needs linearHeads or iscHeads/,
    );
  });

  it('accepts a 1-channel 28x28 input (Fashion-MNIST)', () => {
    expect(parseMsdNetConfig({ ...DEFAULT_MSDNET_CONFIG, inputSize: [28, 28], inputChannels: 1 }).inputChannels).toBe(1);
  });
});
