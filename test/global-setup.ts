/**
 * Builds the demo page into dist/demo from the current sources (about a second): the server sends
 * it as built (it never runs esbuild), and the demo and server tests load it.
 */
import { writeDemoPage } from '../demo/bundle.js';
import { builtDemoDir } from '../runtime/node/package-files.js';

export default async function setup(): Promise<void> {
  await writeDemoPage(builtDemoDir);
}
