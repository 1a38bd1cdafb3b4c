/**
 * @module scripts/assemble-wat
 * Turns a kernel's WebAssembly text (training/backend/wasm-kernels/simd/NAME.wat) into the
 * TypeScript module that ships its two binaries as base64: one importing the shared memory of
 * tfjs-backend-wasm's threaded build, one the plain memory of its single-threaded build (a
 * memory import must match the memory's `shared` flag exactly). Used by
 * `npm run build:wasm-kernels` and by the test that keeps the committed modules in step.
 */
import wabtInit from 'wabt';

/** The `shared` memory import every kernel's text declares; the plain build drops the flag. */
const SHARED_IMPORT = /\(memory 1 65536 shared\)/;

/** The two binaries of one kernel text. */
export interface KernelBinaries {
  shared: Uint8Array;
  unshared: Uint8Array;
}

/**
 * Assembles and validates both variants.
 * @throws Error with wabt's message when the text does not parse or validate, or declares
 *   its memory otherwise than `(memory 1 65536 shared)`.
 */
export async function assembleKernel(fileName: string, text: string): Promise<KernelBinaries> {
  if (!SHARED_IMPORT.test(text)) throw new Error(`${fileName}: expected the memory import "(memory 1 65536 shared)".`);
  const wabt = await wabtInit();
  const features = { simd: true, threads: true };
  const build = (source: string): Uint8Array => {
    const module = wabt.parseWat(fileName, source, features);
    try {
      // The typings omit validate's feature argument; without it threads (shared memory) fail.
      (module.validate as (options: typeof features) => void).call(module, features);
      return module.toBinary({}).buffer;
    } finally {
      module.destroy();
    }
  };
  return { shared: build(text), unshared: build(text.replace(SHARED_IMPORT, '(memory 1)')) };
}

/** The generated TypeScript module for a kernel's binaries. */
export function kernelModuleSource(watName: string, binaries: KernelBinaries): string {
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  return [
    `// Generated from ${watName} by \`npm run build:wasm-kernels\` (scripts/assemble-wat.ts): do not edit.`,
    '/** The kernel module importing a shared memory (threaded tfjs-backend-wasm build), base64. */',
    `export const SHARED_MEMORY_WASM = '${b64(binaries.shared)}';`,
    '/** The kernel module importing a plain memory (single-threaded build), base64. */',
    `export const PLAIN_MEMORY_WASM = '${b64(binaries.unshared)}';`,
    '',
  ].join('\n');
}
