// Comparing a kernel's output with the reference's, for the kernel test files.
import assert from 'node:assert/strict';

/**
 * |got - want| <= atol + rtol |want| elementwise, where NaN and the infinities of `want` must be
 * matched exactly (kernels are checked to give the reference's NaN and +-inf, not just numbers).
 */
export function assertMatches(got: ArrayLike<number>, want: ArrayLike<number>, what: string, rtol: number, atol: number): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i], e = want[i];
    if (Number.isNaN(e)) { assert.ok(Number.isNaN(g), `${what}[${i}]: got ${g}, want NaN`); continue; }
    if (!Number.isFinite(e)) { assert.equal(g, e, `${what}[${i}]`); continue; }
    assert.ok(Math.abs(g - e) <= atol + rtol * Math.abs(e), `${what}[${i}]: got ${g}, want ${e} (diff ${Math.abs(g - e)})`);
  }
}
