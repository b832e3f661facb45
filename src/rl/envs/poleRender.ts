/** A text frame of a cart on a track of ±trackLimit metres with its poles (shared by the pole tasks). */
export function renderCart(x: number, trackLimit: number, angles: readonly number[], status: string): string {
  const W = 49;
  const col = Math.max(0, Math.min(W - 1, Math.round(((x + trackLimit) / (2 * trackLimit)) * (W - 1))));
  const lean = (a: number) => (a > 0.05 ? '/' : a < -0.05 ? '\\' : '|'); // angle > 0: leaning right (x grows)
  const rows = angles.map((a) => `${' '.repeat(col)}${lean(a)}`);
  const track = `${'='.repeat(col)}#${'='.repeat(W - 1 - col)}`;
  return [...rows, track, status].join('\n');
}

export const deg = (rad: number): string => `${rad >= 0 ? '+' : ''}${((rad * 180) / Math.PI).toFixed(1)}°`;
export const signed = (v: number, digits = 2): string => `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;
