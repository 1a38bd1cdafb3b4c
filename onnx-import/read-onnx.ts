/**
 * @module onnx-import/read-onnx
 * {@link readOnnxModel}: a foreign `.onnx` file decoded with the project's protobuf schema
 * (onnx/), its external-data initializers read into memory, and the structural checks that make
 * splitting it meaningful (one graph, every tensor made once, nodes in dependency order).
 * `onnx.checker` is not available here; the tests run it on the results.
 */
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import { modelProtoType } from '../onnx/index.js';
import { ImportError } from './errors.js';
import { nodeReads, subgraphs, toNumber, type OnnxGraph, type OnnxModel, type OnnxTensor } from './graph-types.js';

/** A decoded source model. */
export interface SourceModel {
  /** The file's base name and SHA-256 (of the .onnx file itself), for the manifest's provenance. */
  fileName: string;
  sha256: string;
  model: OnnxModel;
  graph: OnnxGraph;
}

/** TensorProto.DataLocation.EXTERNAL. */
const EXTERNAL = 1;

/** Reads one initializer's external data into `rawData`, so stage graphs are self-contained. */
async function inlineExternalData(t: OnnxTensor, modelDir: string, file: string): Promise<void> {
  const entries = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
  const location = entries.location;
  if (!location) throw new ImportError(`${file}: initializer "${t.name}" is stored externally but names no location.`);
  if (isAbsolute(location) || normalize(location).startsWith('..')) {
    throw new ImportError(`${file}: initializer "${t.name}" names external data "${location}" outside the model's directory.`);
  }
  const path = join(modelDir, location);
  const offset = Number(entries.offset ?? 0);
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ImportError(`${file}: initializer "${t.name}" keeps its data in ${path}, which ${code === 'ENOENT' ? 'is missing' : `cannot be read (${code})`}; put it next to the .onnx file.`, { cause: err });
  }
  try {
    const size = entries.length !== undefined ? Number(entries.length) : (await handle.stat()).size - offset;
    const data = new Uint8Array(size);
    const { bytesRead } = await handle.read(data, 0, size, offset);
    if (bytesRead !== size) throw new ImportError(`${file}: initializer "${t.name}": ${path} holds ${bytesRead} of the ${size} bytes from offset ${offset}.`);
    t.rawData = data;
  } finally {
    await handle.close();
  }
  t.externalData = [];
  t.dataLocation = 0;
}

/**
 * Checks that `g` is in dependency order with every tensor made once: each node reads only names
 * defined before it (graph inputs, initializers, earlier outputs, or `outer` names of enclosing
 * scopes).
 */
function checkGraph(g: OnnxGraph, outer: ReadonlySet<string>, where: string): void {
  const defined = new Set<string>([...outer, ...g.input.map((v) => v.name), ...g.initializer.map((t) => t.name)]);
  const made = new Set<string>();
  g.node.forEach((n, i) => {
    const label = `${where}node ${i} (${n.opType}${n.name ? ` "${n.name}"` : ''})`;
    for (const x of nodeReads(n)) {
      if (!defined.has(x)) throw new ImportError(`${label} reads "${x}", which no graph input, initializer or earlier node makes (the graph is not in dependency order, or is incomplete).`);
    }
    for (const sg of subgraphs(n)) checkGraph(sg, defined, `${label} › subgraph "${sg.name ?? ''}": `);
    for (const y of n.output) {
      if (y === '') continue;
      if (made.has(y)) throw new ImportError(`${label} makes "${y}", which an earlier node already makes (ONNX graphs assign each tensor once).`);
      made.add(y);
      defined.add(y);
    }
  });
  for (const o of g.output) if (!defined.has(o.name)) throw new ImportError(`${where}graph output "${o.name}" is made by no node, input or initializer.`);
}

/**
 * Reads and decodes `file`.
 * @throws ImportError when the file cannot be read, is not an ONNX model, misses external data,
 *   or fails the structural checks.
 */
export async function readOnnxModel(file: string): Promise<SourceModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ImportError(`${file}: cannot read the model (${code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : (err as Error).message}).`, { cause: err });
  }
  let model: OnnxModel;
  try {
    model = modelProtoType().decode(bytes) as unknown as OnnxModel;
  } catch (err) {
    throw new ImportError(`${file}: not a readable ONNX model (${(err as Error).message}).`, { cause: err });
  }
  const graph = model.graph;
  if (!graph || graph.node.length === 0) throw new ImportError(`${file}: not an ONNX model with a graph (no nodes decoded; is it an ONNX file?).`);
  if (graph.output.length === 0) throw new ImportError(`${file}: the graph has no outputs, so no exits.`);
  if ((graph.sparseInitializer?.length ?? 0) > 0) throw new ImportError(`${file}: sparse initializers are not supported; save the model with dense initializers.`);
  if (!model.opsetImport.some((o) => !o.domain && toNumber(o.version) > 0)) throw new ImportError(`${file}: the model imports no default-domain opset.`);
  for (const t of graph.initializer) {
    if (t.dataLocation === EXTERNAL) await inlineExternalData(t, dirname(file), file);
  }
  checkGraph(graph, new Set(), '');
  return { fileName: basename(file), sha256: createHash('sha256').update(bytes).digest('hex'), model, graph };
}
