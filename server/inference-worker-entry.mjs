// Worker threads start without the parent's TypeScript loader (tsx): register it, then load the
// worker, so that `serve` runs from a clone without a build step.
import { register } from 'tsx/esm/api';

register();
await import('./inference-worker.ts');
