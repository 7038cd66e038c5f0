#!/usr/bin/env python3
"""CPython's C pickler on the benchmark payloads: _pickle.loads and _pickle.dumps
on the same bytes the C benchmark reads (mpickle writes these very bytes).

    bench_cpython.py [--rounds R] [--target-ms T] FILE.pkl...
        prints JSON: per payload the median and minimum time per call (ns)
    bench_cpython.py --calls K --op loads|dumps FILE.pkl
        runs the call K times (K = 0: only the set-up), for callgrind: the
        difference between K calls and none is K calls' instructions

Timing as the C side does it: the thread's CPU time (the machine may be shared),
batches long enough to time (T ms), R rounds, loads and dumps interleaved round
by round; garbage collection off while timing.
"""
import _pickle
import argparse
import gc
import json
import os
import sys
import time

PROTOCOL = 4


def batch(fn, arg, iters):
    t0 = time.thread_time_ns()
    for _ in range(iters):
        fn(arg)
    return (time.thread_time_ns() - t0) / iters


def calibrate(fn, arg, target_ns):
    iters = 1
    while True:
        per = batch(fn, arg, iters)
        if per * iters >= target_ns / 4 or iters > 1 << 26:
            return max(1, int(target_ns / max(per, 1)))
        iters *= 2


def measure(path, rounds, target_ns):
    with open(path, 'rb') as f:
        data = f.read()
    obj = _pickle.loads(data)
    # the premise of the comparison: CPython writes these bytes from this object
    identical = _pickle.dumps(obj, PROTOCOL) == data
    ops = {'cpython_loads': (_pickle.loads, data),
           'cpython_dumps': (lambda o: _pickle.dumps(o, PROTOCOL), obj)}
    iters = {k: calibrate(fn, arg, target_ns) for k, (fn, arg) in ops.items()}
    times = {k: [] for k in ops}
    for _ in range(rounds):
        for k, (fn, arg) in ops.items():
            times[k].append(batch(fn, arg, iters[k]))
    out = {}
    for k, t in times.items():
        t.sort()
        out[k] = {'median': t[len(t) // 2], 'min': t[0], 'iters': iters[k]}
    name = os.path.basename(path).split('.')[0]
    return {'name': name, 'identical': identical, 'ns': out}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rounds', type=int, default=21)
    ap.add_argument('--target-ms', type=float, default=3.0)
    ap.add_argument('--calls', type=int)
    ap.add_argument('--op', choices=['loads', 'dumps'])
    ap.add_argument('files', nargs='+')
    a = ap.parse_args()
    if a.calls is not None:
        with open(a.files[0], 'rb') as f:
            data = f.read()
        obj = _pickle.loads(data)
        if a.op == 'loads':
            for _ in range(a.calls):
                _pickle.loads(data)
        else:
            for _ in range(a.calls):
                _pickle.dumps(obj, PROTOCOL)
        return
    gc.disable()
    res = [measure(p, a.rounds, a.target_ms * 1e6) for p in a.files]
    json.dump({'python': sys.version.split()[0], 'executable': sys.executable,
               'rounds': a.rounds, 'payloads': res}, sys.stdout, indent=1)
    print()
    if not all(r['identical'] for r in res):
        sys.exit('bench_cpython: CPython did not rewrite the same bytes')


if __name__ == '__main__':
    main()
