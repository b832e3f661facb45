// The playground's build (npm run web): Vite bundles the page, its training worker and the library's
// modules under it (the wasm kernels and their worker threads included) into web/dist/.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The wasm backend shares memory between threads (SharedArrayBuffer): the page must be cross-origin isolated.
export const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096 },
  worker: { format: 'es' },
  server: { headers: ISOLATION, fs: { allow: ['..'] } },
  preview: { headers: ISOLATION },
});
