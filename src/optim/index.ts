export { Optimizer, type OptimizerState } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';
export { clipGradNorm, clipGradValue } from './clip.js';
export { StepLR, CosineAnnealingLR, ReduceLROnPlateau, type LRSchedule, type ScheduleState, type PlateauOptions } from './schedule.js';
