"""PyTorch side of Carousel's benchmark (bench/suites/torch.ts runs this as a child process): on the
CPU, or on CUDA when the spec's backend is 'cuda' (the GPU bench beside Carousel's webgpu backend:
true fp32, TF32 off in cuDNN and in matmuls; every timed unit ends in torch.cuda.synchronize(),
so the time is the GPU's work, not its launch).

Usage: python3 torch_bench.py '<SuiteSpec JSON>'. Prints one line 'RESULTS <json rows>' with
the same row schema as the TypeScript suites: {bench, lib, backend, threads, metric, value, unit}.
Same configurations, same measuring rule (warm-up, repetitions until a cap, median), fp32.
"""
import gc
import json
import os
import re
import resource
import sys
import time

import torch
import torch.nn.functional as F


def summarize(times):
    s = sorted(times)
    n = len(s)
    med = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    return {'median': med, 'min': s[0], 'max': s[-1], 'reps': n}


def measure(run, timing, warm=None):
    """bench/measure.ts's rule, line for line."""
    start = time.perf_counter()
    i = 0
    while True:
        if i >= timing['warmup'] and (timing['warmup'] == 0 or (time.perf_counter() - start) * 1000 >= timing.get('warmupMs', 0)):
            break
        i += 1
        t0 = time.perf_counter()
        (warm or run)()
        dt = (time.perf_counter() - t0) * 1000
        if warm is None and dt > timing['capMs']:
            if dt > 4 * timing['capMs']:
                return summarize([dt])
            t1 = time.perf_counter()
            run()
            return summarize([(time.perf_counter() - t1) * 1000])
        if (time.perf_counter() - start) * 1000 > timing['capMs'] / 2:
            break
    times = []
    while True:
        t0 = time.perf_counter()
        run()
        t1 = time.perf_counter()
        times.append((t1 - t0) * 1000)
        spent = (t1 - start) * 1000
        if len(times) >= timing['maxReps'] or spent >= timing['capMs']:
            break
        if len(times) >= timing['minReps'] and spent >= timing['capMs'] / 4:
            break
    return summarize(times)


def blas_info():
    """Which BLAS PyTorch calls and which OpenBLAS kernel (core type) it picked."""
    show = torch.__config__.show()
    build = [l.strip() for l in show.splitlines() if 'BLAS' in l]
    pools = []
    try:
        import threadpoolctl
        pools = threadpoolctl.threadpool_info()
    except Exception as e:  # threadpoolctl is optional
        pools = [{'error': str(e)}]
    blas = [p for p in pools if p.get('user_api') == 'blas']
    return {'build': build, 'pools': pools, 'blas': blas}


def main():
    spec = json.loads(sys.argv[1])
    if spec['backend'] == 'cuda':
        return main_cuda(spec)
    threads = spec['threads']
    torch.set_num_threads(threads)
    # torch.set_num_threads does not reach OpenBLAS's own pool: limit it too (the parent also
    # sets OMP_NUM_THREADS / OPENBLAS_NUM_THREADS), so the BLAS row reports the same count.
    try:
        import threadpoolctl
        limiter = threadpoolctl.threadpool_limits(limits=threads)  # noqa: F841 (kept for the whole run)
    except Exception:
        pass
    torch.manual_seed(0)
    info = blas_info()
    b0 = info['blas'][0] if info['blas'] else {}
    kernel = '%s:%s' % (b0.get('internal_api', 'blas?'), b0.get('architecture', '?')) if b0 else 'blas?'
    origin = {'lib': 'pytorch', 'backend': 'cpu/' + kernel, 'threads': torch.get_num_threads()}
    sizes, timing = spec['sizes'], spec['timing']
    rows = []

    def flush():
        # Rows go out per bench, so a run killed on its deadline keeps what it finished.
        sys.stdout.write('RESULTS ' + json.dumps(rows) + '\n')
        sys.stdout.flush()
        rows.clear()

    def row(bench, metric, value, unit):
        rows.append(dict(bench=bench, metric=metric, value=value, unit=unit, **origin))

    def time_rows(bench, st, unit, scale):
        row(bench, 'time', st['median'] * scale, unit)
        row(bench, 'time_min', st['min'] * scale, unit)
        row(bench, 'time_max', st['max'] * scale, unit)
        row(bench, 'reps', st['reps'], 'count')

    row('info', 'torch_version', 0, torch.__version__)
    built = re.findall(r'BLAS_INFO=[^,]*', ' '.join(info['build']))
    row('info', 'blas', b0.get('num_threads', 0) if b0 else 0,
        'built with %s; loaded: ' % (built[0] if built else '?')
        + ('; '.join(['%s %s kernel %s (%s)' % (p.get('internal_api'), p.get('version'), p.get('architecture'),
                                                 os.path.basename(p.get('filepath', ''))) for p in info['blas']])
                     or 'no BLAS library found by threadpoolctl')
        + ' | OPENBLAS_CORETYPE=%s, OPENBLAS_L2_SIZE=%s, torch threads %d' % (
            os.environ.get('OPENBLAS_CORETYPE', '(unset)'), os.environ.get('OPENBLAS_L2_SIZE', '(unset)'), torch.get_num_threads()))

    def train_step(s):
        lstm = torch.nn.LSTM(s['input'], s['hidden'])
        head = torch.nn.Linear(s['hidden'], 1)
        opt = torch.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=1e-3)
        x = torch.rand(s['length'], s['batch'], s['input']) * 2 - 1
        y = torch.rand(s['batch'], 1) * 2 - 1

        def step():
            opt.zero_grad(set_to_none=True)
            _, (h, _c) = lstm(x)
            loss = F.mse_loss(head(h[0]), y)
            loss.backward()
            opt.step()
        return step

    for bench in spec['benches']:
        t0 = time.perf_counter()
        if bench in ('B1', 'B1-small'):
            time_rows(bench, measure(train_step(sizes[bench]), timing), 'ms', 1)
        elif bench in ('B2-256', 'B2-1024'):
            s = sizes[bench]
            lstm = torch.nn.LSTM(s['input'], s['hidden']).eval()
            xs = [torch.rand(1, 1, s['input']) * 2 - 1 for _ in range(s['steps'])]
            z = torch.zeros(1, 1, s['hidden'])

            def stream(n):
                def go():
                    with torch.no_grad():
                        h, c = z, z
                        for x in xs[:n]:
                            _, (h, c) = lstm(x, (h, c))
                return go
            # Warm up on the first tenth of the stream, time the whole stream.
            time_rows(bench, measure(stream(s['steps']), timing, stream(max(1, s['steps'] // 10))), 'us', 1000 / s['steps'])
        elif bench == 'B3':
            s = sizes[bench]
            lstm = torch.nn.LSTM(s['input'], s['hidden']).eval()
            x = torch.rand(s['length'], s['batch'], s['input']) * 2 - 1

            def infer():
                with torch.no_grad():
                    lstm(x)
            time_rows(bench, measure(infer, timing), 'ms', 1)
        elif bench == 'B4':
            s = sizes[bench]
            g = torch.Generator().manual_seed(4)
            logits = (torch.rand(s['T'], s['batch'], s['classes'], generator=g) * 2 - 1).requires_grad_()
            targets = torch.randint(1, s['classes'], (s['batch'], s['targetLength']), generator=g)
            in_lens = torch.full((s['batch'],), s['T'], dtype=torch.long)
            tg_lens = torch.full((s['batch'],), s['targetLength'], dtype=torch.long)

            def ctc():
                logits.grad = None
                F.ctc_loss(logits.log_softmax(2), targets, in_lens, tg_lens).backward()
            time_rows(bench, measure(ctc, timing), 'ms', 1)
        elif bench == 'GEMM':
            s = sizes[bench]
            a = torch.rand(s['m'], s['k'])
            b = torch.rand(s['k'], s['n'])
            st = measure(lambda: torch.mm(a, b), timing)
            flop = 2 * s['m'] * s['n'] * s['k']
            row(bench, 'gflops', flop / (st['median'] * 1e6), 'GFLOP/s')
            row(bench, 'reps', st['reps'], 'count')
        elif bench == 'B1-memory':
            # Run alone in a fresh process: peak RSS growth over the setup's level, for the first
            # step and for the first six (ru_maxrss is a high-water mark, in KiB on Linux).
            step = train_step(sizes[bench])
            gc.collect()
            base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            step()
            first = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            for _ in range(5):
                step()
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            row(bench, 'peak_rss_delta_first_step', first - base, 'MiB')
            row(bench, 'peak_rss_delta', after - base, 'MiB')
            row(bench, 'rss_baseline', base, 'MiB')
        else:
            rows.append(dict(bench=bench, metric='skipped', value=None, unit='skipped: unknown bench', **origin))
        sys.stderr.write('  pytorch/%s/t%d %s: %.1f s\n' % (origin['backend'], origin['threads'], bench, time.perf_counter() - t0))
        flush()


def main_cuda(spec):
    """The GPU benches on CUDA: B1, B2-1024, B3, B4, B5-big, GEMM-4096 (whichever the spec names)."""
    dev = torch.device('cuda')
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(0)
    origin = {'lib': 'pytorch', 'backend': 'cuda/' + torch.cuda.get_device_name(0), 'threads': 1}
    sizes, timing = spec['sizes'], spec['timing']
    rows = []

    def row(bench, metric, value, unit):
        rows.append(dict(bench=bench, metric=metric, value=value, unit=unit, **origin))

    def flush():
        sys.stdout.write('RESULTS ' + json.dumps(rows) + '\n')
        sys.stdout.flush()
        rows.clear()

    def synced(f):
        def go():
            f()
            torch.cuda.synchronize()
        return go

    def time_rows(bench, st, unit, scale):
        row(bench, 'time', st['median'] * scale, unit)
        row(bench, 'time_min', st['min'] * scale, unit)
        row(bench, 'time_max', st['max'] * scale, unit)
        row(bench, 'reps', st['reps'], 'count')

    row('info', 'torch_version', 0, '%s, CUDA %s, cuDNN %s, TF32 off' % (torch.__version__, torch.version.cuda, torch.backends.cudnn.version()))

    def train_step(s):
        lstm = torch.nn.LSTM(s['input'], s['hidden']).to(dev)
        head = torch.nn.Linear(s['hidden'], 1).to(dev)
        opt = torch.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=1e-3)
        x = torch.rand(s['length'], s['batch'], s['input'], device=dev) * 2 - 1
        y = torch.rand(s['batch'], 1, device=dev) * 2 - 1

        def step():
            opt.zero_grad(set_to_none=True)
            _, (h, _c) = lstm(x)
            loss = F.mse_loss(head(h[0]), y)
            loss.backward()
            opt.step()
        return step

    for bench in spec['benches']:
        t0 = time.perf_counter()
        torch.cuda.synchronize()
        if bench in ('B1', 'B5-big'):
            time_rows(bench, measure(synced(train_step(sizes[bench])), timing), 'ms', 1)
        elif bench == 'B2-1024':
            s = sizes[bench]
            lstm = torch.nn.LSTM(s['input'], s['hidden']).to(dev).eval()
            xs = [torch.rand(1, 1, s['input'], device=dev) * 2 - 1 for _ in range(s['steps'])]
            z = torch.zeros(1, 1, s['hidden'], device=dev)

            def stream(n):
                def go():
                    with torch.no_grad():
                        h, c = z, z
                        for x in xs[:n]:
                            _, (h, c) = lstm(x, (h, c))
                return synced(go)
            time_rows(bench, measure(stream(s['steps']), timing, stream(max(1, s['steps'] // 10))), 'us', 1000 / s['steps'])
        elif bench == 'B3':
            s = sizes[bench]
            lstm = torch.nn.LSTM(s['input'], s['hidden']).to(dev).eval()
            x = torch.rand(s['length'], s['batch'], s['input'], device=dev) * 2 - 1

            def infer():
                with torch.no_grad():
                    lstm(x)
            time_rows(bench, measure(synced(infer), timing), 'ms', 1)
        elif bench == 'B4':
            s = sizes[bench]
            g = torch.Generator().manual_seed(4)
            logits = (torch.rand(s['T'], s['batch'], s['classes'], generator=g) * 2 - 1).to(dev).requires_grad_()
            targets = torch.randint(1, s['classes'], (s['batch'], s['targetLength']), generator=g).to(dev)
            in_lens = torch.full((s['batch'],), s['T'], dtype=torch.long)
            tg_lens = torch.full((s['batch'],), s['targetLength'], dtype=torch.long)

            def ctc():
                logits.grad = None
                F.ctc_loss(logits.log_softmax(2), targets, in_lens, tg_lens).backward()
            time_rows(bench, measure(synced(ctc), timing), 'ms', 1)
        elif bench == 'GEMM-4096':
            s = sizes[bench]
            a = torch.rand(s['m'], s['k'], device=dev)
            b = torch.rand(s['k'], s['n'], device=dev)
            st = measure(synced(lambda: torch.mm(a, b)), timing)
            flop = 2 * s['m'] * s['n'] * s['k']
            row(bench, 'gflops', flop / (st['median'] * 1e6), 'GFLOP/s')
            row(bench, 'reps', st['reps'], 'count')
        else:
            rows.append(dict(bench=bench, metric='skipped', value=None, unit='skipped: not a GPU bench', **origin))
        sys.stderr.write('  pytorch/%s %s: %.1f s\n' % (origin['backend'], bench, time.perf_counter() - t0))
        flush()


if __name__ == '__main__':
    main()
