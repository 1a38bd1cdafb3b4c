/**
 * The browser demo in a real headless Chromium (Debian's, driven by playwright-core) against
 * `adaptive-exit serve` on loopback: on WASM and on WebGPU (Chromium's software adapter), the
 * page's predictions and exits equal runtime/node's for the same images and budget, moving the
 * budget moves the exit, "run all exits" runs every stage, the controls work from the keyboard,
 * and nothing is logged as an error. Screenshots go to test-output/.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdaptiveModel } from '../../runtime/node/index.js';
import { DEFAULT_MODEL_DIR, startServer, type RunningServer } from '../../server/index.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`[demo.test] browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium)`);
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const OUTPUT = resolve(import.meta.dirname, '../../test-output');

let srv: RunningServer;
let reference: AdaptiveModel;
let samples: Array<{ file: string; label: string }>;

beforeAll(async () => {
  srv = await startServer({ models: [DEFAULT_MODEL_DIR], port: 0, logLevel: 'silent' });
  reference = await AdaptiveModel.load(DEFAULT_MODEL_DIR);
  samples = JSON.parse(await readFile(join(DEFAULT_MODEL_DIR, 'samples', 'index.json'), 'utf8')) as typeof samples;
  await mkdir(OUTPUT, { recursive: true });
}, 120_000);

afterAll(async () => {
  await srv?.close();
  await reference?.close();
});

interface Card {
  exit: number;
  classIndex: number;
  confidence: number;
  rows: number;
}

async function setBudget(page: Page, value: string): Promise<void> {
  await page.$eval('#budget', (el, v) => {
    (el as HTMLInputElement).value = v;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
}

/** Clicks sample `i` and returns the finished result card. */
async function classifySample(page: Page, i: number): Promise<Card> {
  const before = await page.locator('article.card[data-done="true"]').count();
  await page.locator('#samples button').nth(i).click();
  await page.waitForFunction((n) => document.querySelectorAll('article.card[data-done="true"]').length > n, before, { timeout: 60_000 });
  return page.locator('article.card').first().evaluate((c: HTMLElement) => ({
    exit: Number(c.dataset.exit),
    classIndex: Number(c.dataset.classIndex),
    confidence: Number(c.dataset.confidence),
    rows: c.querySelectorAll('tbody tr').length,
  }));
}

async function openDemo(browser: Browser, ep: string, errors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 900, height: 1000 } });
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${srv.url}/demo/?ep=${ep}`);
  await page.waitForSelector('#backend[data-ready]', { timeout: 60_000 });
  expect(await page.getAttribute('#backend', 'data-ready'), await page.textContent('#backend') ?? '').toBe('true');
  return page;
}

describe.skipIf(!HAVE_CHROMIUM)('demo in headless Chromium', () => {
  for (const ep of ['wasm', 'webgpu'] as const) {
    it(`${ep}: predictions and exits equal runtime/node; the budget moves the exit`, async () => {
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ep === 'webgpu' ? [...FLAGS, '--enable-unsafe-webgpu'] : FLAGS });
      const errors: string[] = [];
      try {
        const page = await openDemo(browser, ep, errors);
        expect(await page.getAttribute('#backend', 'data-backend')).toBe(ep);
        const K = reference.manifest.stages.length;
        const T = 0.9;
        await setBudget(page, String(T));
        const count = Math.min(6, samples.length);
        for (let i = 0; i < count; i++) {
          const card = await classifySample(page, i);
          const bytes = await readFile(join(DEFAULT_MODEL_DIR, 'samples', samples[i]!.file));
          const [expected] = await reference.classify(bytes, { budget: { thresholds: new Array<number>(K).fill(T) } });
          expect(Math.abs(card.confidence - expected!.confidence)).toBeLessThan(1e-3);
          // Float differences between backends may flip a decision only right at the threshold.
          if (Math.abs(expected!.confidence - T) > 1e-4) expect([card.exit, card.classIndex]).toEqual([expected!.exit, expected!.classIndex]);
        }

        // A batch in the page: mixed exits, so the engine compacts (on WebGPU, on the GPU: no
        // carried buffer is downloaded); same exits and classes as runtime/node on the same tensor.
        const bytes = await Promise.all(samples.map((s) => readFile(join(DEFAULT_MODEL_DIR, 'samples', s.file))));
        const batch = await reference.preprocess(bytes);
        const thresholds = [...new Array<number>(K - 1).fill(0.9), -1];
        const inPage = await page.evaluate(
          async ({ data, dims, thresholds }) => {
            const { model } = (globalThis as unknown as { adaptiveExitDemo: { model: AdaptiveModel } }).adaptiveExitDemo;
            model.resetStats();
            const rs = await model.classify({ data: new Float32Array(data), dims }, { budget: { thresholds } });
            return { results: rs.map((r) => [r.exit, r.classIndex, r.confidence]), downloads: model.stats.deviceDownloads, logitsDownloads: model.stats.logitsDownloads, live: model.liveDeviceTensors };
          },
          { data: Array.from(batch.data), dims: [batch.n, ...reference.manifest.input.dims.slice(1)] as number[], thresholds },
        );
        const inNode = await reference.classify({ data: batch.data, dims: [batch.n, ...(reference.manifest.input.dims.slice(1) as number[])] }, { budget: { thresholds } });
        expect(new Set(inNode.map((r) => r.exit)).size).toBeGreaterThan(1);
        inNode.forEach((r, i) => {
          if (Math.abs(r.confidence - 0.9) > 1e-4) expect(inPage.results[i]!.slice(0, 2)).toEqual([r.exit, r.classIndex]);
        });
        // On WebGPU the carried features stay in GPU buffers, rows dropped on the GPU: only the
        // logits (one read per stage call) come back, and every buffer is freed after the call.
        expect(inPage.downloads).toBe(0);
        if (ep === 'webgpu') expect(inPage.logitsDownloads).toBeGreaterThanOrEqual(2);
        else expect(inPage.logitsDownloads).toBe(0);
        expect(inPage.live).toBe(0);

        await setBudget(page, '0');
        expect((await classifySample(page, 0)).exit).toBe(1);
        await setBudget(page, '1');
        const last = await classifySample(page, 0);
        expect(last.exit).toBe(K);
        expect(last.rows).toBe(K);

        // "Run all exits": every stage runs; the stop mark stays where the budget stops.
        await setBudget(page, '0');
        await page.check('#run-all');
        const all = await classifySample(page, 1);
        expect([all.exit, all.rows]).toEqual([1, K]);
        await page.uncheck('#run-all');

        // Keyboard: a sample button answers Enter, the slider answers arrow keys.
        const before = await page.locator('article.card[data-done="true"]').count();
        await page.locator('#samples button').nth(2).focus();
        await page.keyboard.press('Enter');
        await page.waitForFunction((n) => document.querySelectorAll('article.card[data-done="true"]').length > n, before, { timeout: 60_000 });
        await page.locator('#budget').focus();
        await page.keyboard.press('ArrowRight');
        expect(await page.inputValue('#budget')).toBe('0.01');

        const bars = await page.locator('#distribution text').allTextContents();
        expect(bars).toHaveLength(K);
        expect(bars.reduce((a, t) => a + Number(t.split(': ')[1]), 0)).toBe(count + 4);
        await page.screenshot({ path: join(OUTPUT, `demo-${ep}.png`), fullPage: true });
        // Phone width: no horizontal scrolling.
        await page.setViewportSize({ width: 375, height: 800 });
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    }, 180_000);
  }
});

describe('npm run build:demo', () => {
  it('writes the page, its script, onnxruntime-web and the model as static files', async () => {
    const out = await mkdtemp(join(tmpdir(), 'ae-demo-'));
    try {
      execFileSync(process.execPath, [resolve(import.meta.dirname, '../../bin/run-ts.js'), resolve(import.meta.dirname, '../../demo/build.ts'), '--out', out], { stdio: 'pipe' });
      expect((await readdir(out)).sort()).toEqual(['index.html', 'main.js', 'model', 'ort', 'style.css']);
      const manifest = JSON.parse(await readFile(join(out, 'model', 'manifest.json'), 'utf8')) as { stages: Array<{ file: string }> };
      for (const s of manifest.stages) expect(existsSync(join(out, 'model', s.file))).toBe(true);
      expect(existsSync(join(out, 'ort', 'ort.bundle.min.mjs'))).toBe(true);
      expect(existsSync(join(out, 'model', 'samples', 'index.json'))).toBe(true);
      expect(await readFile(join(out, 'main.js'), 'utf8')).toContain('onnxruntime-web');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 120_000);
});
