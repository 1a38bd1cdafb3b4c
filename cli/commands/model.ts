/**
 * @module cli/commands/model
 * `adaptive-exit model`: the per-exit cost (cumulative MFLOPs and parameters) of a configuration,
 * read off the built model.
 */
import { Command } from 'commander';
import { exitCosts, MultiExitModel, parseMsdNetConfig } from '../../training/models/index.js';
import { addModelFlags, msdnetFromFlags, withFlagNames, type ModelFlagValues } from '../model-flags.js';
import { useQuietBackend } from '../quiet-backend.js';
import { formatTable } from '../format-table.js';

export function modelCommand(): Command {
  const cmd = new Command('model')
    .description('print the per-exit cost of an MSDNet configuration (cumulative mult-adds and parameters)')
    .option('--isc', 'with ISC heads (the deployed IMTA model) instead of the MSDNet Linear heads')
    .option('--json', 'print { "exits": [{ "mflops", "params" }, ...] } with cumulative values');
  addModelFlags(cmd);
  cmd.action(async (opts: ModelFlagValues & { json?: boolean; isc?: boolean }) => {
    let msdnet;
    try {
      msdnet = parseMsdNetConfig(msdnetFromFlags(opts));
    } catch (err) {
      cmd.error(`error: ${withFlagNames((err as Error).message)}`, { exitCode: 2 });
    }
    // Building a model allocates its variables; the cost walk itself runs no kernel.
    await useQuietBackend();
    const model = MultiExitModel.create({ msdnet, ge: false, linearHeads: !opts.isc, iscHeads: !!opts.isc, iscDetach: false });
    const costs = exitCosts(model);
    model.dispose();
    if (opts.json) {
      const exits = costs.map((c) => ({ mflops: Number(c.mflops.toFixed(4)), params: c.params }));
      process.stdout.write(`${JSON.stringify({ exits })}\n`);
      return;
    }
    const rows = costs.map((c, k) => [
      String(k + 1),
      c.stageMflops.toFixed(2),
      c.mflops.toFixed(2),
      (c.params / 1e6).toFixed(3),
    ]);
    process.stdout.write(formatTable(['exit', 'stage MFLOPs', 'cumulative MFLOPs', 'cumulative params (M)'], rows));
  });
  return cmd;
}
