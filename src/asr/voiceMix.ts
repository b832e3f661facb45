import type { Rng } from '../tensor/random.js';

/**
 * New voices for training, mixed from espeak-ng's variants. A variant file (voices/!v/f1, zac,
 * robosoft6, ...) sets a voice's traits line by line: its formants, pitch range, echo, tone
 * (spectral tilt), voicing and consonant levels, breath, flutter, roughness, the Klatt
 * synthesizer, stress and intonation. A model trained on 80 variants hears 80 fixed combinations
 * of these and, measured, does not generalise across them: robosoft6 (a test variant) with its
 * echo line removed was heard at 22.00% CER against 29.41% with it, though a training variant,
 * robosoft8, has the same echo. A mixed voice keeps a base variant's lines but takes each trait
 * group, with probability p, from another variant (the training split's only, so no held-out
 * voice leaks in): a donor without that group gives espeak-ng's default for it. Measured on the
 * 32,000-word set at p = 0.3 (README): robosoft6 gained 2.4 points, other held-out voices lost as
 * much; no gain overall (two models: 18.74% against 18.75% on test, worse on validation).
 */

/** Keyword of a variant line (lowercase) -> the trait group it belongs to. */
const GROUP: Record<string, string> = {
  formant: 'formant', pitch: 'pitch', echo: 'echo', tone: 'tone', voicing: 'voicing', consonants: 'consonants',
  breath: 'breath', breathw: 'breath', flutter: 'flutter', roughness: 'roughness', klatt: 'klatt',
  stressadd: 'stress', stressamp: 'stress', stresslength: 'stress', intonation: 'intonation',
};
/** The trait groups, in the order a mix draws them (fixed: the draws decide the rendered bytes). */
export const TRAIT_GROUPS: readonly string[] = [...new Set(Object.values(GROUP))];

/** A variant file split into its trait groups' lines and the rest (language, name, gender, ...). */
export interface Variant { name: string; rest: string[]; traits: Map<string, string[]> }

export function parseVariant(name: string, text: string): Variant {
  const rest: string[] = [], traits = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('/') || line.startsWith('#')) continue; // comments: // or ##
    const group = GROUP[line.split(/\s+/)[0].toLowerCase()];
    if (group === undefined) { rest.push(line); continue; }
    traits.set(group, [...(traits.get(group) ?? []), line]);
  }
  if (!rest.some((l) => /^language\s/.test(l))) throw new Error(`espeak-ng variant ${name}: no 'language' line (expected 'language variant')`);
  return { name, rest, traits };
}

/**
 * A mixed voice: `base` with each trait group, with probability p, replaced by a random donor's
 * (never `base` itself). Returns the variant file's text and which groups came from whom
 * ("echo=robosoft8 tone=anika"; '' when none did).
 */
export function mixVariant(base: Variant, donors: readonly Variant[], p: number, rng: Rng): { text: string; mix: string } {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`mixVariant: p must be in [0, 1], got ${p}`);
  const others = donors.filter((d) => d.name !== base.name);
  if (others.length === 0) throw new Error(`mixVariant: no donor variant other than ${base.name}`);
  const lines = [...base.rest], taken: string[] = [];
  for (const group of TRAIT_GROUPS) {
    let from = base;
    if (rng.next() < p) {
      from = others[rng.int(others.length)];
      taken.push(`${group}=${from.name}`);
    }
    lines.push(...(from.traits.get(group) ?? []));
  }
  return { text: lines.join('\n') + '\n', mix: taken.join(' ') };
}
