/**
 * The browser early-exit demo: loads the served model with runtime/web (WebGPU when the browser
 * has an adapter, else WASM), runs its stages one by one on an image and shows each exit's top-3
 * as it arrives, the exit that stopped the image under the chosen budget, the time per stage, the
 * MFLOPs spent against the full model, and the exit distribution so far.
 * `?ep=wasm|webgpu|auto` picks the execution provider (default auto); `?model=URL` loads another
 * model directory served over HTTP (relative to the page; another origin must allow CORS), e.g.
 * one made by `adaptive-exit import`. A model without `samples/` shows the upload box only, and an
 * uncalibrated one offers confidence thresholds only.
 */
import { AdaptiveModel, resolveBudget, type Budget, type ExitPrediction, type WebExecutionProvider } from '../runtime/web/index.js';

interface Sample {
  file: string;
  label: string;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const backendEl = $<HTMLParagraphElement>('backend');
const resultsEl = $<HTMLDivElement>('results');
const modeEl = $<HTMLSelectElement>('mode');
const budgetEl = $<HTMLInputElement>('budget');
const budgetValueEl = $<HTMLOutputElement>('budget-value');
const runAllEl = $<HTMLInputElement>('run-all');
const samplesEl = $<HTMLDivElement>('samples');
const dropEl = $<HTMLLabelElement>('drop');
const fileEl = $<HTMLInputElement>('file');
const distEl = document.getElementById('distribution') as unknown as SVGSVGElement;

const params = new URLSearchParams(location.search);
const modelParam = params.get('model');
const modelUrl = new URL(modelParam ? (modelParam.endsWith('/') ? modelParam : `${modelParam}/`) : './model/', location.href).href;
const ep = (params.get('ep') ?? 'auto') as WebExecutionProvider;

function element<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const el = Object.assign(document.createElement(tag), props);
  el.append(...children);
  return el;
}

function showError(message: string): void {
  resultsEl.prepend(element('p', { className: 'card', role: 'alert', textContent: message }));
}

let model: AdaptiveModel;
let counts: number[] = [];
let queue: Promise<void> = Promise.resolve();

/** The budget the controls describe. */
function budget(): Budget {
  const v = Number(budgetEl.value);
  const K = model.manifest.stages.length;
  if (modeEl.value === 'avgMflops') return { avgMflops: v };
  // 1.0 means "never leave early": no confidence can exceed it reliably at float precision.
  return { thresholds: new Array<number>(K).fill(v >= 1 ? Infinity : v) };
}

function describeBudget(): string {
  const v = Number(budgetEl.value);
  if (modeEl.value === 'avgMflops') return `${v.toFixed(2)} MFLOPs on average`;
  return v >= 1 ? 'never leave early' : `leave when confidence ≥ ${v.toFixed(2)}`;
}

function configureSlider(): void {
  if (modeEl.value === 'avgMflops') {
    const points = model.manifest.calibration.points.map((p) => p.expectedMflops);
    budgetEl.min = String(Math.ceil(Math.min(...points) * 100) / 100);
    budgetEl.max = String(Math.floor(Math.max(...points) * 100) / 100);
    budgetEl.step = '0.01';
    budgetEl.value = String(model.manifest.exitPolicy.default.expectedMflops.toFixed(2));
  } else {
    budgetEl.min = '0';
    budgetEl.max = '1';
    budgetEl.step = '0.01';
    budgetEl.value = '0.6';
  }
  budgetValueEl.value = describeBudget();
}

function drawDistribution(): void {
  const K = counts.length;
  const max = Math.max(1, ...counts);
  const w = 320 / K;
  distEl.replaceChildren();
  const ns = 'http://www.w3.org/2000/svg';
  counts.forEach((c, k) => {
    const h = (c / max) * 80;
    const bar = document.createElementNS(ns, 'rect');
    Object.entries({ x: k * w + 6, y: 95 - h, width: w - 12, height: h, fill: '#2a6df4' }).forEach(([a, v]) => bar.setAttribute(a, String(v)));
    const label = document.createElementNS(ns, 'text');
    Object.entries({ x: k * w + w / 2, y: 112, 'text-anchor': 'middle', 'font-size': 11 }).forEach(([a, v]) => label.setAttribute(a, String(v)));
    label.textContent = `exit ${k + 1}: ${c}`;
    distEl.append(bar, label);
  });
}

/** Runs the stages on one image, rendering each exit as it completes. */
async function classify(image: Blob, name: string): Promise<void> {
  const K = model.manifest.stages.length;
  const full = model.manifest.stages[K - 1]!.cumulativeMflops;
  const chosen = budget();
  const runAll = runAllEl.checked;
  // With "run all exits", every stage runs; the budget still says where the image would have stopped.
  const resolved = resolveBudget(chosen, model.manifest);
  const rows = element('tbody');
  const summary = element('span', { className: 'muted', textContent: 'running…' });
  const card = element(
    'article',
    { className: 'card' },
    element('header', {}, element('img', { src: URL.createObjectURL(image), alt: name }), element('strong', { textContent: name }), summary),
    element('table', {}, element('thead', {}, element('tr', {}, element('th', { textContent: 'exit' }), element('th', { textContent: 'top-3' }), element('th', { textContent: 'stage ms' }), element('th', { textContent: 'MFLOPs' }))), rows),
  );
  card.dataset.done = 'false';
  resultsEl.prepend(card);
  let stop: ExitPrediction | undefined;
  const stream = model.stream(image, { budget: runAll ? { thresholds: new Array<number>(K).fill(Infinity) } : chosen, topK: 3 });
  for await (const event of stream) {
    const p = event.predictions[0]!;
    const stopsHere = !stop && (runAll ? p.exit >= resolved.lastExit || p.exit === K || p.confidence >= resolved.thresholds[p.exit - 1]! : p.final);
    const top = element('td');
    for (const t of p.topK) {
      const bar = element('span', { className: 'bar' });
      bar.style.width = `${Math.round(t.probability * 80)}px`;
      top.append(element('div', { className: 'top' }, bar, `${t.label} ${(100 * t.probability).toFixed(1)}%`));
    }
    const row = element('tr', {}, element('td', { textContent: String(p.exit) }), top, element('td', { textContent: event.stageMs.toFixed(1) }), element('td', { textContent: p.mflops.toFixed(2) }));
    if (stopsHere) {
      stop = p;
      row.className = 'stop';
    }
    rows.append(row);
  }
  if (!stop) throw new Error('internal: no exit stopped the image');
  const spent = runAll ? model.manifest.stages[K - 1]!.cumulativeMflops : stop.mflops;
  summary.textContent = `${stop.label} (${(100 * stop.confidence).toFixed(1)}%) at exit ${stop.exit} of ${K}: ${stop.mflops.toFixed(2)} of ${full.toFixed(2)} MFLOPs (${((100 * stop.mflops) / full).toFixed(0)}%)${runAll ? `, ${spent.toFixed(2)} spent running all exits` : ''}`;
  Object.assign(card.dataset, { exit: String(stop.exit), classIndex: String(stop.classIndex), label: stop.label, confidence: String(stop.confidence), done: 'true' });
  counts[stop.exit - 1]!++;
  drawDistribution();
}

/** Classifies images one at a time, in the order they were given. */
function enqueue(image: Blob, name: string): void {
  queue = queue.then(() => classify(image, name)).catch((e: unknown) => showError(`${name}: ${(e as Error).message}`));
}

async function loadSamples(): Promise<void> {
  const res = await fetch(new URL('samples/index.json', modelUrl));
  if (!res.ok) return;
  const samples = (await res.json()) as Sample[];
  for (const s of samples) {
    const url = new URL(`samples/${s.file}`, modelUrl).href;
    const button = element('button', { type: 'button', title: `classify sample: ${s.label}` }, element('img', { src: url, alt: `sample: ${s.label}` }));
    button.dataset.sample = s.file;
    button.setAttribute('role', 'listitem');
    button.addEventListener('click', async () => enqueue(await (await fetch(url)).blob(), `${s.file} (${s.label})`));
    samplesEl.append(button);
  }
}

async function start(): Promise<void> {
  model = await AdaptiveModel.load(modelUrl, { executionProvider: ep });
  // A handle for the console and the browser test: the page's own model object.
  (globalThis as { adaptiveExitDemo?: { model: AdaptiveModel } }).adaptiveExitDemo = { model };
  counts = new Array<number>(model.manifest.stages.length).fill(0);
  const threads = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated ? 'multi-threaded, cross-origin isolated' : 'single-threaded';
  backendEl.textContent = `${model.manifest.model.id} (${model.manifest.classNames.length} classes, ${model.manifest.stages.length} exits) on ${model.executionProvider === 'webgpu' ? 'WebGPU' : `WASM (${threads})`}`;
  backendEl.dataset.backend = model.executionProvider;
  if (model.manifest.calibration.points.length === 0) {
    // Not calibrated (`adaptive-exit calibrate` adds the table): no average-MFLOPs budget to pick from.
    modeEl.querySelector<HTMLOptionElement>('option[value="avgMflops"]')!.disabled = true;
    modeEl.value = 'threshold';
  }
  configureSlider();
  drawDistribution();
  await loadSamples();
  modeEl.addEventListener('change', configureSlider);
  budgetEl.addEventListener('input', () => (budgetValueEl.value = describeBudget()));
  fileEl.addEventListener('change', () => {
    for (const f of fileEl.files ?? []) enqueue(f, f.name);
    fileEl.value = '';
  });
  dropEl.addEventListener('dragover', (e) => {
    e.preventDefault();
    dropEl.classList.add('over');
  });
  dropEl.addEventListener('dragleave', () => dropEl.classList.remove('over'));
  dropEl.addEventListener('drop', (e) => {
    e.preventDefault();
    dropEl.classList.remove('over');
    for (const f of e.dataTransfer?.files ?? []) enqueue(f, f.name);
  });
  backendEl.dataset.ready = 'true';
}

start().catch((e: unknown) => {
  backendEl.textContent = `cannot load the model: ${(e as Error).message}`;
  backendEl.dataset.ready = 'error';
});
