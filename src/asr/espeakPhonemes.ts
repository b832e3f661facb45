import { spawn, spawnSync } from 'node:child_process';
import { UserError } from '../cli/errors.js';

/**
 * What espeak-ng says for a text, as its phoneme mnemonics (`espeak-ng -q -x`): the sounds of
 * the rendered speech data, so what a perfect listener to that data would hear.
 */

const ESPEAK = process.env.CAROUSEL_ESPEAK ?? 'espeak-ng';

/**
 * Each word's phonemes under `voice`, from one espeak-ng process (stdin, a line per word: it
 * translates each line on its own, as a separate call would). A word's phonemes come as tokens
 * separated by single spaces, a stress mark joined to its vowel ("s m 'V D 3: m @ n"); where
 * espeak-ng says a text as several words ("lunchroom", "xi" as "roman eleven"), they are joined
 * by a '|' token.
 */
export async function espeakPhonemes(words: readonly string[], voice: string): Promise<string[]> {
  const bad = words.findIndex((w) => w.trim() === '' || /[\n\r]/.test(w));
  if (bad >= 0) throw new UserError(`espeakPhonemes: expected words of one non-blank line each, got ${JSON.stringify(words[bad])} at ${bad}`);
  if (words.length === 0) return [];
  // Asynchronous, so that callers can keep several espeak-ng processes busy at once (Pronouncer).
  const { status, stdout, stderr } = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const p = spawn(ESPEAK, ['-q', '-x', '--sep= ', '-v', voice], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [], err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    p.stdin.on('error', () => {}); // a process that dies early is reported by its exit status below
    p.on('error', (e) => reject((e as NodeJS.ErrnoException).code === 'ENOENT' ? new UserError(`espeak-ng was not found (${ESPEAK}): install Debian's espeak-ng package (apt-get install espeak-ng)`) : e));
    p.on('close', (code) => resolve({ status: code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    p.stdin.end(words.join('\n') + '\n');
  });
  if (status !== 0) throw new Error(`${ESPEAK} -v ${voice} failed (exit ${status}): ${stderr.trim().split('\n')[0]}`);
  const lines = stdout.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  // One line out per line in is what makes the batch safe; anything else is refused, not guessed.
  if (lines.length !== words.length) throw new Error(`${ESPEAK} -v ${voice}: expected ${words.length} lines of phonemes, one per word, got ${lines.length}`);
  return lines.map(joinWords);
}

/** One espeak-ng output line ("l 'V n tS  r u: m": two spaces between words) as tokens. */
export function joinWords(line: string): string {
  return line.trim().split(/ {2,}/).map((w) => w.split(' ').filter(Boolean).join(' ')).filter(Boolean).join(' | ');
}

/** The same for one word by a call of its own (as the speech data speaks it): to check the batch. */
export function espeakPhonemesOne(word: string, voice: string): string {
  const r = spawnSync(ESPEAK, ['-q', '-x', '--sep= ', '-v', voice, word], { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${ESPEAK} -v ${voice} ${word} failed (exit ${r.status}): ${r.stderr.trim().split('\n')[0]}`);
  return joinWords(r.stdout);
}
