"""Reference numbers for test/train-optim.test.ts, from PyTorch (float64).
Run: /usr/bin/python3 test/data/gen_optim.py > test/data/optim-ref.json"""
import json, math, torch
torch.set_default_dtype(torch.float64)

A = [0.5, 1.5, -0.3, 2.0, 0.8, 1.1]
B = [0.1, -0.2, 0.3, 0.05, -0.4, 0.25]
P0 = [0.3, -0.7, 1.2, -0.1, 0.9, -1.5]

def run(make, steps=6):
    p = torch.tensor(P0, requires_grad=True)
    opt = make([p])
    out = []
    a, b = torch.tensor(A), torch.tensor(B)
    for _ in range(steps):
        opt.zero_grad()
        loss = (a * p * p + b * p).sum()  # grad = 2 a p + b
        loss.backward()
        opt.step()
        out.append(p.detach().tolist())
    return out

cases = {
  'sgd': run(lambda ps: torch.optim.SGD(ps, lr=0.1)),
  'sgd_momentum_wd': run(lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
  'sgd_nesterov': run(lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.02)),
  'adam': run(lambda ps: torch.optim.Adam(ps, lr=0.1)),
  'adam_wd_amsgrad': run(lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1, amsgrad=True)),
  'adamw': run(lambda ps: torch.optim.AdamW(ps, lr=0.1, weight_decay=0.05)),
  'rmsprop': run(lambda ps: torch.optim.RMSprop(ps, lr=0.01)),
  'rmsprop_centered_momentum': run(lambda ps: torch.optim.RMSprop(ps, lr=0.02, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.01)),
}

def lrs(make_sched, n, metrics=None):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    s = make_sched(opt)
    out = []
    for i in range(n):
        opt.step()
        s.step(metrics[i]) if metrics else s.step()
        out.append(opt.param_groups[0]['lr'])
    return out

metrics = [1.0, 0.9, 0.95, 0.92, 0.91, 0.93, 0.94, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9, 0.91]
sched = {
  'step': lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 12),
  'cosine': lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5, eta_min=0.01), 23),
  'plateau': lrs(lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=2, cooldown=1), len(metrics), metrics),
  'plateau_metrics': metrics,
}

g1 = torch.tensor([3.0, -4.0], requires_grad=True); g2 = torch.tensor([[1.0, 2.0], [-2.0, 0.5]], requires_grad=True)
g1.grad = torch.tensor([3.0, -4.0]); g2.grad = torch.tensor([[1.0, 2.0], [-2.0, 0.5]])
tn = torch.nn.utils.clip_grad_norm_([g1, g2], 2.0)
clip = {'total': tn.item(), 'g1': g1.grad.tolist(), 'g2': sum(g2.grad.tolist(), [])}

print(json.dumps({'A': A, 'B': B, 'P0': P0, 'torch': torch.__version__, 'optim': cases, 'sched': sched, 'clip': clip}))
