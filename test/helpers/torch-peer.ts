/**
 * Test helper: runs the independent PyTorch peer (../shared/peers/torch_msdnet.py) with Debian's
 * python3-torch, when both are present.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const PEER_SCRIPT = resolve(import.meta.dirname, '../../../shared/peers/torch_msdnet.py');
const PYTHON = '/usr/bin/python3';

function probe(): string | undefined {
  if (!existsSync(PEER_SCRIPT)) return `${PEER_SCRIPT} not found`;
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'pipe' });
    return undefined;
  } catch {
    return 'Debian python3-torch is not installed (apt-get install python3-torch)';
  }
}

/** Why the peer cannot run here, or undefined when it can. */
export const PEER_UNAVAILABLE = probe();

/** Runs the peer and parses its last JSON line. */
export function runPeer(args: string[]): Record<string, unknown> {
  const out = execFileSync(PYTHON, [PEER_SCRIPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}
