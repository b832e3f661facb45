import { BINDINGS, PRELUDE } from './wgsl-core.js';

/**
 * CTC forward-backward in log space (Backend.ctc; the oracle is src/backend/reference/ctc.ts),
 * one workgroup of 64 per batch item: α then β are swept over time with a storage barrier per
 * step (the threads split the 2S+1 states of a step), then the threads split the [T, C] gradient.
 * In f32 (PyTorch's float CTC is f32 too), kept exact over long inputs: each step's row is
 * shifted by its maximum, so α and β stay near 0 (unshifted, log α_t grows like -3t and f32 would
 * round it to ulp(3t) at every step); the loss adds α's shifts back (compensated sum), and the
 * gradient divides each row by its own total Z_t = log sum_s α_t(s) β_t(s) / y_t(l'_s) (= -nll
 * in exact arithmetic), so the shifts cancel there. Infinities follow the reference's IEEE
 * arithmetic explicitly (an impossible alignment: loss +inf and the gradient from nll = +inf, NaN
 * where the reference's is): SPIR-V lets compilers assume finite values, so -inf and NaN are
 * tested and produced on the bits.
 *
 * Words: 0 T, 1 N, 2 C, 3 blank, 4 where β starts in the scratch, 5 where Z starts.
 * Bindings: 1 logProbs [T, N, C], 2 targets (i32, concatenated), 3 inputLengths [N] (i32),
 * 4 targetLengths [N] (i32), 5 loss [N], 6 grad [T, N, C], 7 scratch: α̂ of item n at
 * T * (2 * tOff_n + n), [T, 2 S_n + 1] (tOff_n: the labels before item n); β̂ at word 4 plus
 * that; Z [N, T] at word 5. Only the rows t < inputLengths[n] are written and read, so the
 * scratch needs no clearing.
 */
export const CTC = PRELUDE + BINDINGS + /* wgsl */ `
const WG: i32 = 64;
var<workgroup> part: array<f32, 64>;
fn ninf() -> f32 { return -inf_(); }
fn isNinf(x: f32) -> bool { return bitcast<u32>(x) == 0xff800000u; }
// a + b as IEEE: inf + -inf and NaN give NaN, an infinity wins over a finite value.
fn addE(a: f32, b: f32) -> f32 {
  if (isnan_(a) || isnan_(b)) { return nan_(); }
  let ia = nonfinite(a); let ib = nonfinite(b);
  if (ia && ib) { if (bitcast<u32>(a) != bitcast<u32>(b)) { return nan_(); } return a; }
  if (ia) { return a; }
  if (ib) { return b; }
  return a + b;
}
fn expE(x: f32) -> f32 { if (isnan_(x)) { return x; } return exp_(x); }
// log(exp(a) + exp(b)), exact when either side is -inf.
fn logAdd(a: f32, b: f32) -> f32 {
  if (isNinf(a)) { return b; }
  if (isNinf(b)) { return a; }
  if (isnan_(a) || isnan_(b)) { return nan_(); }
  if (a > b) { return addE(a, log1p_(expE(b - a))); }
  return addE(b, log1p_(expE(a - b)));
}
fn lp(t: i32, n: i32, c: i32) -> f32 { return f1((t * ui(1) + n) * ui(2) + c); }
// l'_s: blank at even s, the target's label at odd s.
fn lab(s: i32, tOff: i32) -> i32 { if (s % 2 == 0) { return ui(3); } return bitcast<i32>(r2(tOff + (s - 1) / 2)); }

// The workgroup's maximum of v (each thread's own), 0 when every value is -inf (nothing to shift).
fn groupMax(v: f32, l: i32) -> f32 {
  part[l] = v;
  workgroupBarrier();
  var m = ninf();
  for (var k = 0; k < WG; k++) { let x = part[k]; if (!isNinf(x) && (isNinf(m) || x > m)) { m = x; } }
  workgroupBarrier();
  if (isNinf(m)) { return 0.0; }
  return m;
}
fn rowMax(v: f32, x: f32) -> f32 { if (isNinf(v) || (!isNinf(x) && x > v)) { return x; } return v; }

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let n = i32(wg.x + wg.y * nw.x);
  let nT = ui(0); let C = ui(2); let blank = ui(3);
  if (n >= ui(1)) { return; } // uniform across the workgroup: the barriers stay uniform
  let l = i32(li);
  var tOff = 0;
  for (var k = 0; k < n; k++) { tOff += bitcast<i32>(r4(k)); }
  let S = bitcast<i32>(r4(n)); let Tn = bitcast<i32>(r3(n)); let L = 2 * S + 1;
  let A = nT * (2 * tOff + n); let B = ui(4) + A;

  // α_0 and β_{Tn-1}: only the first (last) two states are reachable. M: the sum of α's shifts (Kahan).
  var ma = ninf(); var mb = ninf();
  if (Tn > 0) {
    for (var s = l; s < L; s += WG) {
      var a = ninf();
      if (s == 0) { a = lp(0, n, blank); } else if (s == 1) { a = lp(0, n, lab(1, tOff)); }
      w7(A + s, a); ma = rowMax(ma, a);
      var b = ninf();
      if (s == L - 1) { b = lp(Tn - 1, n, blank); } else if (s == L - 2) { b = lp(Tn - 1, n, lab(L - 2, tOff)); }
      w7(B + (Tn - 1) * L + s, b); mb = rowMax(mb, b);
    }
  }
  var M = groupMax(ma, l); var Mc = 0.0;
  let m0b = groupMax(mb, l);
  if (Tn > 0) {
    for (var s = l; s < L; s += WG) { w7(A + s, addE(f7(A + s), -M)); w7(B + (Tn - 1) * L + s, addE(f7(B + (Tn - 1) * L + s), -m0b)); }
  }
  storageBarrier();
  // The loops run to T (uniform) so that every thread meets every barrier; rows past Tn idle.
  for (var t = 1; t < nT; t++) {
    var mx = ninf();
    let p = A + (t - 1) * L;
    if (t < Tn) {
      for (var s = l; s < L; s += WG) {
        let ls = lab(s, tOff);
        var a = f7(p + s);
        if (s > 0) { a = logAdd(a, f7(p + s - 1)); }
        if (s > 1 && ls != blank && ls != lab(s - 2, tOff)) { a = logAdd(a, f7(p + s - 2)); }
        if (!isNinf(a)) { a = addE(a, lp(t, n, ls)); }
        w7(p + L + s, a); mx = rowMax(mx, a);
      }
    }
    let m = groupMax(mx, l);
    if (t < Tn && m != 0.0) {
      for (var s = l; s < L; s += WG) { w7(p + L + s, addE(f7(p + L + s), -m)); }
      let y = m - Mc; let z = M + y; Mc = (z - M) - y; M = z;
    }
    storageBarrier();
  }
  for (var t = nT - 2; t >= 0; t--) {
    var mx = ninf();
    let q = B + (t + 1) * L;
    if (t <= Tn - 2) {
      for (var s = l; s < L; s += WG) {
        let ls = lab(s, tOff);
        var b = f7(q + s);
        if (s < L - 1) { b = logAdd(b, f7(q + s + 1)); }
        if (s < L - 2 && ls != blank && ls != lab(s + 2, tOff)) { b = logAdd(b, f7(q + s + 2)); }
        if (!isNinf(b)) { b = addE(b, lp(t, n, ls)); }
        w7(q - L + s, b); mx = rowMax(mx, b);
      }
    }
    let m = groupMax(mx, l);
    if (t <= Tn - 2 && m != 0.0) {
      for (var s = l; s < L; s += WG) { w7(q - L + s, addE(f7(q - L + s), -m)); }
    }
    storageBarrier();
  }
  // Z_t = log sum_s α̂_t(s) β̂_t(s) / y_t(l'_s) (α and β both hold the emission at t): P, shifted.
  for (var t = l; t < Tn; t += WG) {
    var z = ninf();
    for (var s = 0; s < L; s++) {
      let ab = addE(f7(A + t * L + s), f7(B + t * L + s));
      if (!isNinf(ab)) { z = logAdd(z, addE(ab, -lp(t, n, lab(s, tOff)))); }
    }
    w7(ui(5) + n * nT + t, z);
  }
  storageBarrier();

  // An empty input aligns only with an empty target (loss 0), else the loss is -log of α's last two states.
  var nll = 0.0;
  if (S > 0) { nll = inf_(); }
  if (Tn > 0) {
    let last = A + (Tn - 1) * L;
    var e = ninf();
    if (L > 1) { e = f7(last + L - 2); }
    let ll = logAdd(f7(last + L - 1), e);
    if (isNinf(ll)) { nll = inf_(); } else { nll = -(ll + M); }
  }
  if (l == 0) { w5(n, nll); }

  // grad[t, n, c] = exp(lp) - exp(log(sum over l'_s = c of α_t(s) β_t(s)) + nll - lp); 0 past Tn.
  // With a finite nll, the row's own -Z_t stands for nll (the shifts cancel); else nll as the reference.
  let nllFinite = !nonfinite(nll);
  for (var i = l; i < nT * C; i += WG) {
    let t = i / C; let c = i % C;
    let o = (t * ui(1) + n) * C + c;
    if (t >= Tn) { w6(o, 0.0); continue; }
    var lc = ninf();
    let r = t * L;
    if (c == blank) {
      for (var s = 0; s < L; s += 2) { lc = logAdd(lc, addE(f7(A + r + s), f7(B + r + s))); }
    } else {
      for (var j = 0; j < S; j++) {
        if (bitcast<i32>(r2(tOff + j)) == c) { let s = 2 * j + 1; lc = logAdd(lc, addE(f7(A + r + s), f7(B + r + s))); }
      }
    }
    let p = f1(o);
    var norm = nll;
    if (nllFinite) { norm = -f7(ui(5) + n * nT + t); }
    w6(o, addE(expE(p), -expE(addE(addE(lc, norm), -p))));
  }
}
`;
