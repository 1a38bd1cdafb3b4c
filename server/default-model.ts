/**
 * @module server/default-model
 * Where the bundled default model lives (committed under models/), for `serve`, the demo and the
 * examples.
 */
import { fileURLToPath } from 'node:url';

export const DEFAULT_MODEL_DIR = fileURLToPath(new URL('../models/msdnet-cifar10', import.meta.url));
