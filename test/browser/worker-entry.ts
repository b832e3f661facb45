import { runChecks } from './harness.js';

/** test/browser.test.ts's checks inside a module Web Worker (the recommended place for Carousel). */
addEventListener('message', () => {
  runChecks('worker').then((r) => postMessage(r), (e: unknown) => postMessage({ where: 'worker', error: String((e as Error)?.stack ?? e) }));
}, { once: true });
