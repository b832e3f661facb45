/**
 * The attention weights of one decoded sequence as an SVG heat map: a row per output token, a
 * column per source token, each cell shaded by its weight (white 0 to dark blue 1).
 */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** weights[i][j]: output token i's weight on source token j (rows of the steps, </s> included). */
export function attentionSvg(source: readonly string[], output: readonly string[], weights: readonly ArrayLike<number>[], title: string): string {
  const rows = weights.length, cols = source.length;
  if (rows !== output.length) throw new Error(`attentionSvg: expected a row of weights per output token (${output.length}), got ${rows}`);
  for (const [i, w] of weights.entries()) if (w.length < cols) throw new Error(`attentionSvg: row ${i} has ${w.length} weights for ${cols} source tokens`);
  const cell = 28, left = 80, top = 70, W = left + cols * cell + 20, H = top + rows * cell + 20;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  source.forEach((s, j) => parts.push(`<text x="${left + j * cell + cell / 2}" y="${top - 8}" text-anchor="middle">${esc(s)}</text>`));
  output.forEach((t, i) => {
    parts.push(`<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${esc(t)}</text>`);
    for (let j = 0; j < cols; j++) {
      const v = Math.min(1, Math.max(0, Number(weights[i][j])));
      // Linear from white (255, 255, 255) to dark blue (8, 48, 107).
      const c = (a: number) => Math.round(255 + (a - 255) * v);
      parts.push(`<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="rgb(${c(8)},${c(48)},${c(107)})"><title>${esc(t)} / ${esc(source[j])}: ${v.toFixed(3)}</title></rect>`);
    }
  });
  parts.push(`<text x="${left + (cols * cell) / 2}" y="${top - 26}" text-anchor="middle" fill="#555">source</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
