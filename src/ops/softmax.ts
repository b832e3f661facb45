import { needsGrad, record } from '../autograd/tape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkFloat, emptyLike } from './util.js';
import { kernels } from './kernels.js';

/** Softmax or log-softmax over the last axis; forward next to backward. */
function softmaxOp(x: Tensor, log: boolean): Tensor {
  checkFloat(log ? 'logSoftmax' : 'softmax', x);
  const cols = x.shape[x.rank - 1] ?? 1;
  const rows = cols === 0 ? 0 : x.size / cols;
  const be = kernels(x.backend);
  const y = emptyLike(x);
  be.softmax(x.storage, y.storage, rows, cols, log);
  if (needsGrad([x])) {
    record({
      name: log ? 'logSoftmax' : 'softmax', inputs: [x], outputs: [y],
      backward([g]) {
        const dx = be.alloc(x.dtype, x.size);
        be.softmaxBackward(y.storage, g!, dx, rows, cols, log, false);
        return [dx];
      },
    }, [y]);
  }
  return y;
}

export const softmax = (x: Tensor) => softmaxOp(x, false);
export const logSoftmax = (x: Tensor) => softmaxOp(x, true);
