/**
 * PyTorch CPU through /usr/bin/python3 (Debian's python3-torch; CAROUSEL_PYTHON names another
 * interpreter, as on a GPU machine whose CUDA PyTorch lives in a virtual environment), one child process per run of
 * bench/python/torch_bench.py. PyTorch runs twice: with OPENBLAS_CORETYPE as the environment
 * sets it (Haswell on these machines) and with it (and OPENBLAS_L2_SIZE) unset, when OpenBLAS
 * detects the core itself; each run's rows name the BLAS and kernel it actually used.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PYTHON = process.env.CAROUSEL_PYTHON || '/usr/bin/python3';
/** The script sits in the source tree (it is not compiled): dist/bench/suites -> bench/python. */
export const TORCH_SCRIPT = fileURLToPath(new URL('../../../bench/python/torch_bench.py', import.meta.url));

/** null when PyTorch can run here, else why not. */
export function torchUnavailable(): string | null {
  if (!existsSync(PYTHON)) return `skipped: ${PYTHON} not found`;
  if (!existsSync(TORCH_SCRIPT)) return `skipped: ${TORCH_SCRIPT} not found`;
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return `skipped: ${PYTHON} has no torch (apt-get install python3-torch)`;
  return null;
}

export interface TorchVariant { label: string; env: NodeJS.ProcessEnv }

/** The two BLAS environments PyTorch is measured in. */
export function torchVariants(): TorchVariant[] {
  const asSet = { ...process.env };
  let label = `OPENBLAS_CORETYPE=${asSet.OPENBLAS_CORETYPE}`;
  if (!asSet.OPENBLAS_CORETYPE) {
    // These machines normally export Haswell; where it is missing, set it so both runs exist.
    asSet.OPENBLAS_CORETYPE = 'Haswell';
    label = 'OPENBLAS_CORETYPE=Haswell (set by the bench)';
  }
  const unset = { ...process.env };
  delete unset.OPENBLAS_CORETYPE;
  delete unset.OPENBLAS_L2_SIZE;
  return [{ label, env: asSet }, { label: 'OPENBLAS_CORETYPE unset', env: unset }];
}

/** null when PyTorch sees a CUDA device here (the GPU bench's peer), else why not. */
export function torchCudaUnavailable(): string | null {
  const why = torchUnavailable();
  if (why) return why;
  const r = spawnSync(PYTHON, ['-c', 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 3)'], { encoding: 'utf8', timeout: 120_000 });
  if (r.status === 3) return `skipped: PyTorch ${PYTHON} sees no CUDA device (torch.cuda.is_available() is False)`;
  if (r.status !== 0) return `skipped: asking PyTorch for CUDA failed (${(r.stderr || `exit ${r.status}`).trim().split('\n').pop()})`;
  return null;
}
