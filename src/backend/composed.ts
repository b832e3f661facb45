import { ReferenceCore } from './reference/index.js';

/**
 * The reference core and nothing else: every optional kernel runs as its composed fallback
 * (src/ops/composed/). The executable spec of the core: it passes every fixture and test, so a
 * new device whose 14 core kernels agree with these runs every model before it has a fused kernel.
 */
export class ComposedBackend extends ReferenceCore {
  override readonly name: string = 'composed';
}
