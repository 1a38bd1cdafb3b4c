/**
 * @module server/demo-routes
 * The browser demo at `/demo/`: the page as `npm run build` wrote it (dist/demo), onnxruntime-web's
 * files, and the default model's manifest, stage graphs and samples. Sent with COOP/COEP so the
 * page is cross-origin isolated and onnxruntime-web can run WASM threads.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Express } from 'express';
import { builtDemoDir } from '../runtime/node/package-files.js';
import { ORT_FILES, ortDistDir } from './ort-files.js';

const DEMO_FILES = Object.freeze(['index.html', 'style.css', 'main.js']);

export function mountDemo(app: Express, modelDir: string, demoDir = builtDemoDir): void {
  const router = express.Router();
  router.use((_req, res, next) => {
    res.set({ 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin' });
    next();
  });
  router.get(['/', '/index.html', '/style.css', '/main.js'], (req, res, next) => {
    const file = req.path === '/' ? 'index.html' : req.path.slice(1);
    // Checked per request, so a build made while the server runs is picked up.
    if (!DEMO_FILES.includes(file) || !existsSync(join(demoDir, file))) {
      res.status(503).type('text/plain').send(`the demo page is not built (no ${join(demoDir, file)}): run \`npm run build\`\n`);
      return;
    }
    res.sendFile(join(demoDir, file), (err) => err && next(err));
  });
  const ort = express.static(ortDistDir(), { index: false, fallthrough: true });
  router.use('/ort', (req, res, next) => (ORT_FILES.includes(req.path.slice(1)) ? ort(req, res, next) : next()));
  router.use('/model', express.static(modelDir, { index: false, dotfiles: 'deny' }));
  // Relative URLs in the page need the trailing slash; '/demo' also matches '/demo/' in express 5.
  app.get('/demo', (req, res, next) => (req.originalUrl.split('?')[0] === '/demo' ? res.redirect(301, '/demo/') : next()));
  app.use('/demo', router);
}
