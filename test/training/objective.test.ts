import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../training/backend/tf.js';
import { DEFAULT_MSDNET_CONFIG, MultiExitModel, TensorOps } from '../../training/models/index.js';
import { readWeightsAsync, toStage2Model } from '../../training/models/weights.js';
import { objectiveLoss, planObjective } from '../../training/objective.js';
import { Sgd } from '../../training/optim/sgd.js';
import { NonFiniteLossError, trainStep } from '../../training/train-step.js';
import { useBackend } from '../helpers/backends.js';
import { tinyConfig } from '../helpers/tiny-model.js';

const images = () => tf.randomNormal([6, 16, 16, 3], 0, 1, 'float32', 4);
const labels = () => tf.tensor1d([0, 1, 2, 3, 4, 0], 'int32');

beforeAll(async () => {
  await useBackend('wasm');
});

describe('ISC heads (spec §2)', () => {
  it('have the shapes of the CIFAR-100 5-exit model', () => {
    const model = MultiExitModel.create({
      msdnet: { ...DEFAULT_MSDNET_CONFIG, nBlocks: 5, stepMode: 'lin_grow', step: 1, base: 1, numClasses: 100 },
      ge: true,
      linearHeads: true,
      iscHeads: true,
      iscDetach: false,
    });
    const shapes = Object.fromEntries(model.variables().filter((v) => v.name.startsWith('isc')).map((v) => [v.name, v.variable.shape]));
    expect(shapes['isc1.classifier.weight']).toEqual([128, 100]);
    expect(shapes['isc2.classifier.weight']).toEqual([256, 100]);
    expect(shapes['isc5.classifier.weight']).toEqual([256, 100]);
    expect(shapes['isc2.link.linear.weight']).toEqual([100, 128]);
    expect(shapes['isc2.link.bn.weight']).toEqual([128]);
    expect(shapes['isc1.link.linear.weight']).toBeUndefined();
    model.dispose();
  });

  for (const detach of [false, true]) {
    it(`${detach ? 'stop' : 'pass'} exit k's loss gradient into exit k-1's classifier when detach is ${detach}`, () => {
      const model = MultiExitModel.create(tinyConfig({ linearHeads: false, iscHeads: true, iscDetach: detach }), 2);
      const exit1 = model.variables().find((v) => v.name === 'isc1.classifier.weight')!.variable;
      const ops = new TensorOps({ batchStatsGroups: ['backbone', 'isc-heads'] });
      const { grads } = tf.variableGrads(() => {
        const { logits } = model.forward(ops, images());
        // Only exit 2's loss: any gradient on exit 1's classifier came through the ISC link.
        return tf.losses.softmaxCrossEntropy(tf.oneHot(labels(), 5), logits[1]!) as tf.Scalar;
      }, [exit1]);
      ops.discardBatchNormUpdates();
      const norm = tf.norm(grads[exit1.name]!).dataSync()[0]!;
      if (detach) expect(norm).toBe(0);
      else expect(norm).toBeGreaterThan(1e-6);
      model.dispose();
    });
  }
});

describe('objectives', () => {
  it('stage 2 trains only the ISC heads; the frozen BatchNorm statistics update or not as asked', async () => {
    for (const frozenBn of ['batch', 'frozen'] as const) {
      const stage1 = MultiExitModel.create(tinyConfig({ ge: true }), 3);
      const model = toStage2Model(stage1);
      stage1.dispose();
      const options = { objective: 'stage2', frozenBn } as const;
      const plan = planObjective(model, options);
      const before = new Map((await readWeightsAsync(model)).map((w) => [w.name, w.values] as const));
      const sgd = new Sgd(model.parameters(plan.trainGroups));
      await trainStep(model, sgd, plan, options, images(), labels(), 0.1);
      for (const w of await readWeightsAsync(model)) {
        const changed = w.values.some((v, i) => v !== before.get(w.name)![i]);
        if (w.name.startsWith('isc')) {
          if (!w.name.endsWith('running_var')) expect(changed, w.name).toBe(true);
        } else if (w.name.endsWith('running_mean')) {
          expect(changed, w.name).toBe(frozenBn === 'batch');
        } else if (!w.name.endsWith('running_var')) {
          expect(changed, w.name).toBe(false);
        }
      }
      sgd.dispose();
      model.dispose();
    }
  });

  it('stage 2 distils from the frozen stage-1 last exit', () => {
    const stage1 = MultiExitModel.create(tinyConfig(), 3);
    const model = toStage2Model(stage1);
    const x = images();
    const teacher = model.forward(new TensorOps(), x, true).teacherLogits!.dataSync();
    const stage1Last = stage1.forward(new TensorOps(), x).logits.at(-1)!.dataSync();
    expect(Array.from(teacher)).toEqual(Array.from(stage1Last));
    stage1.dispose();
    model.dispose();
  });

  it('refuses an objective the model has no heads for', () => {
    const model = MultiExitModel.create(tinyConfig(), 1);
    expect(() => planObjective(model, { objective: 'joint' })).toThrow(/objective "joint": expected a model with ISC heads only/);
    expect(() => planObjective(model, { objective: 'stage2' })).toThrow(/objective "stage2": expected a model with Linear \(teacher\) and ISC heads/);
    model.dispose();
  });

  it('a non-finite loss changes nothing and says so', async () => {
    const model = MultiExitModel.create(tinyConfig(), 1);
    const plan = planObjective(model, { objective: 'stage1' });
    const sgd = new Sgd(model.parameters(plan.trainGroups));
    const before = await readWeightsAsync(model);
    const bad = tf.fill([6, 16, 16, 3], Number.NaN);
    await expect(trainStep(model, sgd, plan, { objective: 'stage1' }, bad, labels(), 0.1)).rejects.toThrow(NonFiniteLossError);
    const after = await readWeightsAsync(model);
    after.forEach((w, i) => expect(Array.from(w.values)).toEqual(Array.from(before[i]!.values)));
    sgd.dispose();
    model.dispose();
  });

  it('the stage-1 loss on a tiny model falls with training', async () => {
    const model = MultiExitModel.create(tinyConfig({ ge: true }), 1);
    const plan = planObjective(model, { objective: 'stage1' });
    const sgd = new Sgd(model.parameters(plan.trainGroups));
    const x = images();
    const y = labels();
    const first = (await trainStep(model, sgd, plan, { objective: 'stage1' }, x, y, 0.05)).loss;
    let last = first;
    for (let i = 0; i < 15; i++) last = (await trainStep(model, sgd, plan, { objective: 'stage1' }, x, y, 0.05)).loss;
    expect(last).toBeLessThan(first * 0.5);
    const out = objectiveLoss(model, new TensorOps(), x, y, { objective: 'stage1' });
    expect(out.perExit).toHaveLength(4);
    sgd.dispose();
    model.dispose();
  });
});
