/**
 * The browser demo (headless Chromium, WASM) showing an imported model through `?model=URL`: the
 * residual CNN made at test time, imported with --image, served by a second HTTP server (another
 * origin, with CORS); no samples/, so the upload box only; uncalibrated, so thresholds only.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importModel } from '../../onnx-import/index.js';
import { AdaptiveModel } from '../../runtime/node/index.js';
import { DEFAULT_MODEL_DIR, startServer, type RunningServer } from '../../server/index.js';
import { images, python, TORCH_UNAVAILABLE } from './import-helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const UNAVAILABLE = TORCH_UNAVAILABLE ?? (existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install chromium)`);
if (UNAVAILABLE) console.warn(`[onnx-import demo.test] skipped: ${UNAVAILABLE}`);
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let dir: string;
let srv: RunningServer;
let files: Server;
let filesUrl: string;

describe.skipIf(UNAVAILABLE !== undefined)('demo ?model=URL with an imported model', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ae-import-demo-'));
    python('residual_cnn.py', [join(dir, 'residual.onnx')]);
    await importModel(join(dir, 'residual.onnx'), join(dir, 'model'), { id: 'residual', image: { height: 32, width: 32, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } });
    srv = await startServer({ models: [DEFAULT_MODEL_DIR], port: 0, logLevel: 'silent' });
    // The model directory on another origin, as any static host with CORS would serve it.
    files = createServer(async (req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url!, 'http://x').pathname)).replace(/^\/+/, '');
      res.setHeader('Access-Control-Allow-Origin', '*');
      try {
        const body = await readFile(join(dir, 'model', path));
        res.writeHead(200, { 'content-type': path.endsWith('.json') ? 'application/json' : 'application/octet-stream' }).end(body);
      } catch {
        res.writeHead(404).end();
      }
    }).listen(0, '127.0.0.1');
    await once(files, 'listening');
    filesUrl = `http://127.0.0.1:${(files.address() as { port: number }).port}/`;
  }, 120_000);
  afterAll(async () => {
    await srv?.close();
    files?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loads it, offers thresholds and the upload box only, and classifies as runtime/node does', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    const errors: string[] = [];
    try {
      const page = await browser.newPage();
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${srv.url}/demo/?ep=wasm&model=${encodeURIComponent(filesUrl)}`);
      await page.waitForSelector('#backend[data-ready]', { timeout: 60_000 });
      expect(await page.getAttribute('#backend', 'data-ready'), (await page.textContent('#backend')) ?? '').toBe('true');
      expect(await page.textContent('#backend')).toContain('residual (10 classes, 3 exits)');
      expect(await page.$eval('#mode option[value="avgMflops"]', (o) => (o as HTMLOptionElement).disabled)).toBe(true);
      expect(await page.locator('#samples button').count()).toBe(0);

      const png = await sharp(Buffer.from(images(1, [32, 32, 3], 23).map((v) => Math.floor(v * 255))), { raw: { width: 32, height: 32, channels: 3 } }).png().toBuffer();
      await page.setInputFiles('#file', { name: 'upload.png', mimeType: 'image/png', buffer: png });
      await page.waitForSelector('article.card[data-done="true"]', { timeout: 60_000 });
      const card = await page.locator('article.card').first().evaluate((c: HTMLElement) => ({ exit: Number(c.dataset.exit), classIndex: Number(c.dataset.classIndex), confidence: Number(c.dataset.confidence) }));
      const T = Number(await page.$eval('#budget', (el) => (el as HTMLInputElement).value));
      const reference = await AdaptiveModel.load(join(dir, 'model'));
      try {
        const [expected] = await reference.classify(png, { budget: { thresholds: [T, T, T] } });
        expect(Math.abs(card.confidence - expected!.confidence)).toBeLessThan(1e-3);
        if (Math.abs(expected!.confidence - T) > 1e-4) expect([card.exit, card.classIndex]).toEqual([expected!.exit, expected!.classIndex]);
      } finally {
        await reference.close();
      }
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
