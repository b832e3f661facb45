// Every fixture kind the conformance command knows; each kind's file registers itself.
import './highway.js';
import './recurrent.js';
import './ctc.js';
import './slstm.js';
import './mlstm.js';
import './convlstm.js';
import './peephole-lstm.js';
import './lstm-variant.js';
