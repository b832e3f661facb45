"""PyTorch side of test/io-pytorch.test.ts (needs torch; no safetensors package: a tiny reader/writer here).
  torch_interop.py export DIR   write PyTorch-made state_dicts, inputs and outputs as safetensors
  torch_interop.py check DIR    load Carousel-made weights + inputs, run PyTorch, print the max |difference| as JSON
"""
import json, struct, sys
import torch
from torch import nn

DT = {torch.float32: 'F32', torch.int32: 'I32', torch.float64: 'F64'}
TD = {'F32': torch.float32, 'I32': torch.int32, 'F64': torch.float64}

def save(path, tensors):
    header, blobs, pos = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        b = t.numpy().tobytes()
        header[name] = {'dtype': DT[t.dtype], 'shape': list(t.shape), 'data_offsets': [pos, pos + len(b)]}
        blobs.append(b); pos += len(b)
    h = json.dumps(header).encode()
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h))); f.write(h)
        for b in blobs: f.write(b)

def load(path):
    data = open(path, 'rb').read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == '__metadata__': continue
        a, b = e['data_offsets']
        buf = bytearray(data[8 + n + a: 8 + n + b])
        out[name] = torch.frombuffer(buf, dtype=TD[e['dtype']]).reshape(e['shape']).clone() if b > a else torch.zeros(e['shape'], dtype=TD[e['dtype']])
    return out

class SeqModel(nn.Module):
    """Carousel's SequenceModel in PyTorch: same attribute names, so the state_dicts are the same."""
    def __init__(self, task, cell, inp, hid, layers, bidi, out, vocab=0):
        super().__init__()
        self.task = task
        if task == 'charlm': self.embed = nn.Embedding(vocab, inp)
        self.rnn = (nn.LSTM if cell == 'lstm' else nn.GRU)(inp, hid, num_layers=layers, bidirectional=bidi)
        self.head = nn.Linear(hid * (1 if task == 'charlm' else (2 if bidi else 1)), out)
        self.D, self.L = (2 if bidi else 1), layers
    def forward(self, x):
        if self.task == 'charlm':
            y, _ = self.rnn(self.embed(x.long()))
            return self.head(y.reshape(-1, y.shape[-1]))
        _, st = self.rnn(x)
        h = st[0] if isinstance(st, tuple) else st
        last = h[(self.L - 1) * self.D:]                   # [D, B, H]
        return self.head(last.permute(1, 0, 2).reshape(x.shape[1], -1))

def build(arch):
    return SeqModel(arch['task'], arch['cell'], arch['inputSize'], arch['hiddenSize'], arch['numLayers'],
                    arch['bidirectional'], arch['outputSize'], arch.get('vocabSize', 0))

def export(d):
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    x = torch.randn(7, 2, 3)
    y, (h, c) = lstm(x)
    save(f'{d}/lstm_sd.safetensors', lstm.state_dict())
    save(f'{d}/lstm_io.safetensors', {'x': x, 'y': y, 'hN': h, 'cN': c})
    archs = {
        'fc_gru': dict(task='forecast', cell='gru', inputSize=2, hiddenSize=6, numLayers=2, bidirectional=True, dropout=0, outputSize=3),
        'lm_lstm': dict(task='charlm', cell='lstm', inputSize=4, hiddenSize=6, numLayers=1, bidirectional=False, dropout=0, outputSize=9, vocabSize=9),
    }
    for name, arch in archs.items():
        m = build(arch)
        x = torch.randint(0, 9, (5, 2), dtype=torch.int32) if arch['task'] == 'charlm' else torch.randn(6, 3, arch['inputSize'])
        with torch.no_grad(): out = m(x)
        save(f'{d}/{name}_sd.safetensors', m.state_dict())
        save(f'{d}/{name}_io.safetensors', {'x': x, 'out': out})
        json.dump(arch, open(f'{d}/{name}_arch.json', 'w'))

def check(d):
    res = {}
    for name in json.load(open(f'{d}/ts_models.json')):
        arch = json.load(open(f'{d}/{name}_arch.json'))
        m = build(arch)
        m.load_state_dict(load(f'{d}/{name}_ts.safetensors'))  # strict: every PyTorch name must be there
        io = load(f'{d}/{name}_tsio.safetensors')
        with torch.no_grad(): out = m(io['x'])
        res[name] = (out - io['out']).abs().max().item()
    print(json.dumps(res))

if __name__ == '__main__':
    {'export': export, 'check': check}[sys.argv[1]](sys.argv[2])
