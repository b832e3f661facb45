import type { ActivationOp } from '../backend/backend.js';
import { needsGrad, record } from '../autograd/tape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkFloat, emptyLike } from './util.js';
import { kernels } from './kernels.js';

/** A fused activation kernel as an op (forward next to backward). */
function activation(op: ActivationOp, x: Tensor): Tensor {
  checkFloat(op, x);
  const be = kernels(x.backend);
  const y = emptyLike(x);
  be.activationForward(op, x.storage, y.storage, x.size);
  if (needsGrad([x])) {
    record({
      name: op, inputs: [x], outputs: [y],
      backward([g]) {
        const dx = be.alloc(x.dtype, x.size);
        be.activationBackward(op, x.storage, g!, dx, x.size);
        return [dx];
      },
    }, [y]);
  }
  return y;
}

/** GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (PyTorch GELU(approximate='tanh')). */
export const gelu = (x: Tensor) => activation('gelu', x);
/** SiLU / swish: x σ(x). */
export const silu = (x: Tensor) => activation('silu', x);
