/**
 * The Mackey-Glass series (Mackey & Glass 1977): dx/dt = a x(t - tau) / (1 + x(t - tau)^n) - b x(t),
 * with a = 0.2, b = 0.1, n = 10; tau = 17 makes it chaotic (the benchmark of Jaeger & Haas 2004
 * and of Evolino). Integrated by classical Runge-Kutta with step dt, the delayed value at half
 * steps linearly interpolated between stored points (tau / dt must be an integer), from a constant
 * history x0 for t <= 0; sampled every `sample` time units.
 */
export interface MackeyGlassOptions {
  tau?: number;
  /** Samples returned (after `discard` more at the start). */
  length: number;
  /** Time between samples (default 1). */
  sample?: number;
  /** Integration step (default 0.1). */
  dt?: number;
  /** Constant history (default 1.2). */
  x0?: number;
  /** Samples dropped first, so the series starts on the attractor (default 0). */
  discard?: number;
  a?: number;
  b?: number;
  n?: number;
}

export function mackeyGlass(o: MackeyGlassOptions): Float64Array {
  const tau = o.tau ?? 17, dt = o.dt ?? 0.1, sample = o.sample ?? 1, x0 = o.x0 ?? 1.2, discard = o.discard ?? 0;
  const a = o.a ?? 0.2, b = o.b ?? 0.1, n = o.n ?? 10;
  const lag = Math.round(tau / dt), every = Math.round(sample / dt);
  if (!(tau > 0) || Math.abs(lag * dt - tau) > 1e-9) throw new Error(`mackeyGlass: expected tau a positive multiple of dt ${dt}, got ${tau}`);
  if (!(sample > 0) || Math.abs(every * dt - sample) > 1e-9) throw new Error(`mackeyGlass: expected sample a positive multiple of dt ${dt}, got ${sample}`);
  if (!Number.isInteger(o.length) || o.length < 1) throw new Error(`mackeyGlass: expected length an integer >= 1, got ${o.length}`);
  const total = (o.length + discard) * every;
  // x at steps -lag..total: x[k + lag] is x(k dt).
  const x = new Float64Array(total + lag + 1).fill(x0);
  const f = (xt: number, xd: number) => (a * xd) / (1 + xd ** n) - b * xt;
  for (let k = 0; k < total; k++) {
    const i = k + lag, d0 = x[i - lag], d1 = x[i - lag + 1], dHalf = (d0 + d1) / 2;
    const xi = x[i];
    const k1 = f(xi, d0);
    const k2 = f(xi + (dt / 2) * k1, dHalf);
    const k3 = f(xi + (dt / 2) * k2, dHalf);
    const k4 = f(xi + dt * k3, d1);
    x[i + 1] = xi + (dt / 6) * (k1 + 2 * k2 + 2 * k3 + k4);
  }
  const out = new Float64Array(o.length);
  for (let s = 0; s < o.length; s++) out[s] = x[lag + (s + discard + 1) * every];
  return out;
}
