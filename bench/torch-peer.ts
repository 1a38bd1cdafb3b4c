/**
 * @module bench/torch-peer
 * The independent PyTorch peer (../shared/peers/torch_msdnet.py, run with Debian's python3-torch):
 * whether it can run here, how to run it, and an MSDNet configuration as its flags. Used by the
 * benchmarks and by the tests that compare costs with it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const PEER_SCRIPT = resolve(import.meta.dirname, '../../shared/peers/torch_msdnet.py');
export const PYTHON = '/usr/bin/python3';

/** Why the peer cannot run with `python` (a path to an interpreter), or undefined when it can. */
export function peerUnavailable(python: string = PYTHON): string | undefined {
  if (!existsSync(PEER_SCRIPT)) return `${PEER_SCRIPT} not found`;
  if (!existsSync(python)) return `${python} not found`;
  try {
    execFileSync(python, ['-c', 'import torch'], { stdio: 'pipe' });
    return undefined;
  } catch {
    return python === PYTHON ? 'Debian python3-torch is not installed (apt-get install python3-torch)' : `${python} cannot import torch`;
  }
}

/** Why the peer cannot run here with {@link PYTHON}, or undefined when it can. */
export const PEER_UNAVAILABLE = peerUnavailable();

function lastJsonLine(out: string): Record<string, unknown> {
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

/** Runs the peer and parses its last JSON line. */
export function runPeer(args: string[]): Record<string, unknown> {
  return lastJsonLine(execFileSync(PYTHON, [PEER_SCRIPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
}

/**
 * Starts the peer now (the process is spawned before this returns) and resolves with its last
 * JSON line, so the caller can compute meanwhile.
 */
export function runPeerAsync(args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    // On failure Node's error message already holds the command and the peer's stderr.
    execFile(PYTHON, [PEER_SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(lastJsonLine(stdout));
    });
  });
}

/** The MSDNet fields the peer understands. */
export interface PeerConfig {
  nBlocks?: number;
  base?: number;
  step?: number;
  stepMode?: string;
  nChannels?: number;
  growthRate?: number;
  grFactor?: readonly number[];
  bnFactor?: readonly number[];
  reduction?: number;
  numClasses?: number;
}

/** A configuration as the peer's flags (fields left out keep the peer's defaults, which are ours). */
export function peerFlags(c: PeerConfig): string[] {
  const f: string[] = [];
  const add = (flag: string, v: unknown) => v !== undefined && f.push(flag, Array.isArray(v) ? v.join('-') : String(v));
  add('--nBlocks', c.nBlocks);
  add('--base', c.base);
  add('--step', c.step);
  add('--stepmode', c.stepMode);
  add('--nChannels', c.nChannels);
  add('--growthRate', c.growthRate);
  add('--grFactor', c.grFactor);
  add('--bnFactor', c.bnFactor);
  add('--reduction', c.reduction);
  add('--num-classes', c.numClasses);
  return f;
}
