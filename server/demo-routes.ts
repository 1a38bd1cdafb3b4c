/**
 * @module server/demo-routes
 * The browser demo at `/demo/`: the page, its script (bundled from demo/main.ts on first request),
 * onnxruntime-web's files, and the default model's manifest, stage graphs and samples. Sent with
 * COOP/COEP so the page is cross-origin isolated and onnxruntime-web can run WASM threads.
 */
import express, { type Express } from 'express';
import { bundleDemo, demoAssets, ORT_FILES, ortDistDir } from '../demo/bundle.js';

export function mountDemo(app: Express, modelDir: string): void {
  const router = express.Router();
  let script: Promise<string> | undefined;
  let assets: ReturnType<typeof demoAssets> | undefined;
  router.use((_req, res, next) => {
    res.set({ 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin' });
    next();
  });
  router.get('/main.js', async (_req, res) => {
    // A failed build is not cached, so a fixed source is picked up by the next request.
    script ??= bundleDemo().catch((e: unknown) => {
      script = undefined;
      throw e;
    });
    res.type('text/javascript').send(await script);
  });
  router.get(['/', '/index.html', '/style.css'], async (req, res) => {
    const all = await (assets ??= demoAssets());
    const a = all[req.path === '/' ? 'index.html' : req.path.slice(1)]!;
    res.type(a.type).send(a.body);
  });
  const ort = express.static(ortDistDir(), { index: false, fallthrough: true });
  router.use('/ort', (req, res, next) => (ORT_FILES.includes(req.path.slice(1)) ? ort(req, res, next) : next()));
  router.use('/model', express.static(modelDir, { index: false, dotfiles: 'deny' }));
  // Relative URLs in the page need the trailing slash; '/demo' also matches '/demo/' in express 5.
  app.get('/demo', (req, res, next) => (req.originalUrl.split('?')[0] === '/demo' ? res.redirect(301, '/demo/') : next()));
  app.use('/demo', router);
}
