/** LSTM-g (Monner & Reggia 2012): second-order networks of units and gated connections, trained by a rule local in space and time. */
export { Network, ACTIVATIONS, type Activation, type Topology } from './network.js';
export { Learner } from './learn.js';
export { stepTiming, printStepTiming, type StepTiming } from './bench.js';
export { GraphBuilder, lstmNetwork, torchLstmNetwork, fromLSTM, type ConnectOptions, type LstmNetworkConfig, type LstmUnits, type TorchLstmWeights } from './builders.js';
export { dsrTrial, dsrStep, dsrScore, dsrRate, runTrial, trainDsrLstmg, DSR_SYMBOLS, DSR_TARGETS, DSR_LENGTH, type DsrTrial, type DsrConfig, type DsrResult } from './dsr.js';
