#!/usr/bin/env python3
"""Runs every benchmark once and prints the tables (markdown), ratios from this run.

    run.py [--out DIR] [--rounds R] [--target-ms T] [--python PY]
           [--no-callgrind] [--callgrind-iters K]

1. bench/payloads.py writes the payloads as CPython pickles (DIR/payloads);
2. DIR/bench (make build) times our engine, msgpack-c and cJSON on them;
3. bench_cpython.py times CPython's _pickle.loads/dumps on the same bytes;
4. callgrind counts instructions per call (ours, msgpack-c, cJSON; CPython's
   loads/dumps as the difference between a run with K calls and one with none),
   a figure that does not move with the machine's load.
CPython is Debian's /usr/bin/python3 when present (built with PGO and LTO: the
faster of the machine's two 3.11 builds), else the python running this script.
Writes DIR/results.json (raw) and DIR/results.md (the tables), and prints the
latter. A ratio is the peer's time divided by ours: above 1, we are faster.
"""
import argparse
import glob
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import payloads  # noqa: E402

DECODE = ['ours_loads', 'ours_host', 'cpython_loads', 'msgpack_unpack', 'cjson_parse']
ENCODE = ['ours_dump', 'ours_writer', 'cpython_dumps', 'msgpack_pack', 'cjson_print']
LABEL = {
    'ours_loads': 'ours (value model)', 'ours_host': 'ours (minimal host)',
    'ours_dump': 'ours (value model)', 'ours_writer': 'ours (direct writer)',
    'cpython_loads': 'CPython loads', 'cpython_dumps': 'CPython dumps',
    'msgpack_unpack': 'msgpack-c unpack', 'msgpack_pack': 'msgpack-c pack',
    'cjson_parse': 'cJSON parse', 'cjson_print': 'cJSON print',
}


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, **kw).stdout


def machine_info(python):
    def first(cmd):
        try:
            return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return '?'
    cpu = '?'
    try:
        with open('/proc/cpuinfo') as f:
            m = re.search(r'model name\s*:\s*(.*)', f.read())
            cpu = m.group(1) if m else '?'
    except OSError:
        pass
    return {
        'cpu': '%s, %d logical CPUs' % (cpu, os.cpu_count() or 0),
        'os': '%s %s' % (platform.system(), platform.release()),
        'cc': first([os.environ.get('CC', 'cc'), '--version']),
        'cflags': '-O2 (core, benchmark); Debian-built libmsgpackc and libcjson',
        'python': '%s (%s)' % (first([python, '-c', 'import sys; print(sys.version.split()[0])']), python),
        'msgpack-c': first(['dpkg-query', '-W', '-f', '${Version}', 'libmsgpack-dev']),
        'cjson': first(['dpkg-query', '-W', '-f', '${Version}', 'libcjson-dev']),
        'valgrind': first(['valgrind', '--version']),
        'load': '%.2f %.2f %.2f' % os.getloadavg(),
        'date': time.strftime('%Y-%m-%d %H:%M %Z'),
    }


def pkl_files(out):
    d = os.path.join(out, 'payloads')
    sh([sys.executable, os.path.join(HERE, 'payloads.py'), d])
    return [os.path.join(d, name + '.pkl') for name, _, _ in payloads.PAYLOADS]


# ------------------------------------------------------------ callgrind

def callgrind_ours(bench, files, iters, tmp):
    """One run of the C benchmark; each operation dumps its own counts."""
    for f in glob.glob(os.path.join(tmp, 'cg.c.*')):
        os.remove(f)
    subprocess.run(['valgrind', '--tool=callgrind', '--callgrind-out-file=' + os.path.join(tmp, 'cg.c.%p'),
                    bench, '--callgrind', str(iters)] + files,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    counts = {}
    for f in glob.glob(os.path.join(tmp, 'cg.c.*.*')):
        with open(f) as fh:
            text = fh.read(1 << 16)
        m = re.search(r'^desc: Trigger: Client Request: (\S+)/(\S+)$', text, re.M)
        t = re.search(r'^(?:totals|summary): (\d+)', text, re.M)
        if m and t:
            counts.setdefault(m.group(1), {})[m.group(2)] = int(t.group(1)) / iters
    return counts


def callgrind_total(cmd, out):
    # a fixed hash seed: otherwise start-up work varies by more than a small call costs
    env = dict(os.environ, PYTHONHASHSEED='0')
    subprocess.run(['valgrind', '--tool=callgrind', '--callgrind-out-file=' + out] + cmd, env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as fh:
        t = re.search(r'^(?:totals|summary): (\d+)', fh.read(), re.M)
    return int(t.group(1)) if t else None


def callgrind_cpython(python, files, iters, tmp):
    """_pickle.loads/dumps: the whole interpreter run with K calls minus the
    same run with none (works for a stripped interpreter too)."""
    counts = {}
    script = os.path.join(HERE, 'bench_cpython.py')
    for path in files:
        name = os.path.basename(path).split('.')[0]
        out = os.path.join(tmp, 'cg.py.%s' % name)
        base = callgrind_total([python, script, '--calls', '0', '--op', 'loads', path], out + '.0')
        for op in ('loads', 'dumps'):
            total = callgrind_total([python, script, '--calls', str(iters), '--op', op, path], out + '.' + op)
            if base is not None and total is not None:
                counts.setdefault(name, {})['cpython_' + op] = (total - base) / iters
    return counts


# ------------------------------------------------------------ tables

def fmt_time(ns):
    if ns is None:
        return 'n/a'
    return '%.2f' % (ns / 1000) if ns < 100000 else '%.0f' % (ns / 1000)


def fmt_ratio(peer, ours):
    if not peer or not ours:
        return 'n/a'
    r = peer / ours
    return '%.2f' % r if r < 100 else '%.0f' % r


def fmt_count(n):
    if n is None:
        return 'n/a'
    return '%d' % round(n) if n < 10000 else '%.1fk' % (n / 1000) if n < 1e6 else '%.2fM' % (n / 1e6)


def size_table(c_res):
    rows = ['| payload | pickle (CPython = ours) | ours compact | msgpack | JSON (compact) |',
            '| --- | ---: | ---: | ---: | ---: |']
    for p in c_res['payloads']:
        s = p['sizes']
        rows.append('| %s | %d | %d | %d | %d |' % (p['name'], s['pickle'], s['compact'], s['msgpack'], s['json']))
    return rows


def speed_table(times, ops, peers):
    """Median microseconds per call, then ours (value model / minimal or direct
    path) against each peer."""
    ours_a, ours_b = ops[0], ops[1]
    head = '| payload | ' + ' | '.join(LABEL[o] + ' µs' for o in ops) + ' | ' + \
        ' | '.join('vs %s' % LABEL[p] for p in peers) + ' |'
    rows = [head, '|' + ' --- |' + ' ---: |' * (len(ops) + len(peers))]
    for name, t in times.items():
        cells = [fmt_time(t.get(o)) for o in ops]
        cells += ['%s / %s' % (fmt_ratio(t.get(p), t.get(ours_a)), fmt_ratio(t.get(p), t.get(ours_b))) for p in peers]
        rows.append('| %s | %s |' % (name, ' | '.join(cells)))
    return rows


def count_table(counts, ops, peers):
    head = '| payload | ' + ' | '.join(LABEL[o] for o in ops) + ' | ' + \
        ' | '.join('vs %s' % LABEL[p] for p in peers) + ' |'
    rows = [head, '|' + ' --- |' + ' ---: |' * (len(ops) + len(peers))]
    for name, c in counts.items():
        cells = [fmt_count(c.get(o)) for o in ops]
        cells += ['%s / %s' % (fmt_ratio(c.get(p), c.get(ops[0])), fmt_ratio(c.get(p), c.get(ops[1]))) for p in peers]
        rows.append('| %s | %s |' % (name, ' | '.join(cells)))
    return rows


def verdicts(times, c_res, what):
    """The targets of DESIGN.md, payload by payload (value-model paths); `times`
    holds either timings or instruction counts (lower is better in both)."""
    out = ['From the %s:' % what, '']
    # each target for the value model and for the direct path (minimal host,
    # direct writer: what a C program serializing its own structs uses)
    checks = [('decode >= 2x CPython loads', ('ours_loads', 'ours_host'), 'cpython_loads', 2.0),
              ('decode >= msgpack-c unpack', ('ours_loads', 'ours_host'), 'msgpack_unpack', 1.0),
              ('encode >= 2x CPython dumps', ('ours_dump', 'ours_writer'), 'cpython_dumps', 2.0),
              ('encode >= msgpack-c pack', ('ours_dump', 'ours_writer'), 'msgpack_pack', 1.0)]
    for title, paths, peer, need in checks:
        for ours, label in zip(paths, ('value model', 'direct')):
            met = [n for n, t in times.items() if t.get(peer) and t.get(ours) and t[peer] / t[ours] >= need]
            miss = [n for n in times if n not in met]
            out.append('- %s (%s): met on %d of %d%s' % (title, label, len(met), len(times),
                                                        (' (not: %s)' % ', '.join(miss)) if miss else ''))
    for p in c_res['payloads']:
        if p['name'] == 'bytes_64k' and what == 'timings':
            ns = p['ns']
            out.append('- 64 KiB bytes decoded in place: %s µs (value model), %s µs (minimal host); '
                       'memcpy of the same 64 KiB: %s µs' % (fmt_time(ns['ours_loads']['median']),
                                                            fmt_time(ns['ours_host']['median']),
                                                            fmt_time(ns['memcpy']['median'])))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(HERE, 'build'))
    ap.add_argument('--rounds', type=int, default=21)
    ap.add_argument('--target-ms', type=float, default=3.0)
    ap.add_argument('--python', default='/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable)
    ap.add_argument('--no-callgrind', action='store_true')
    ap.add_argument('--callgrind-iters', type=int, default=20)
    a = ap.parse_args()
    out = os.path.abspath(a.out)
    bench = os.path.join(out, 'bench')
    if not os.path.exists(bench):
        sys.exit('run.py: %s missing: run `make -C bench build` first' % bench)
    files = pkl_files(out)
    timing = ['--rounds', str(a.rounds), '--target-ms', str(a.target_ms)]
    c_res = json.loads(sh([bench] + timing + files))
    py_res = json.loads(sh([a.python, os.path.join(HERE, 'bench_cpython.py')] + timing + files))

    times = {}
    for p in c_res['payloads']:
        times[p['name']] = {k: v['median'] for k, v in p['ns'].items()}
    for p in py_res['payloads']:
        times[p['name']].update({k: v['median'] for k, v in p['ns'].items()})

    counts = None
    if not a.no_callgrind and shutil.which('valgrind'):
        tmp = os.path.join(out, 'callgrind')
        os.makedirs(tmp, exist_ok=True)
        counts = callgrind_ours(bench, files, a.callgrind_iters, tmp)
        for name, c in callgrind_cpython(a.python, files, a.callgrind_iters, tmp).items():
            counts.setdefault(name, {}).update(c)
        counts = {name: counts.get(name, {}) for name in times}

    info = machine_info(a.python)
    lines = ['## Speed and size (one run of `make bench`)', '',
             'Payloads (bench/payloads.py, fixed seeds; CPython pickles them with protocol 4 and our '
             'default output is byte for byte the same: %s):' % (
                 'checked' if all(p['identical'] for p in c_res['payloads']) else 'NOT IDENTICAL'), '']
    lines += ['- `%s`: %s' % (n, d) for n, _, d in payloads.PAYLOADS]
    lines += ['', '### Output size (bytes)', ''] + size_table(c_res)
    lines += ['', '### Decode: median µs of CPU time per call (%d rounds of %g ms batches); ratio = peer time / '
              'our time (value model / minimal host), above 1 we are faster' % (a.rounds, a.target_ms), '']
    lines += speed_table(times, DECODE, ['cpython_loads', 'msgpack_unpack', 'cjson_parse'])
    lines += ['', '### Encode: median µs of CPU time per call; ratio = peer time / our time (value model / direct writer)', '']
    lines += speed_table(times, ENCODE, ['cpython_dumps', 'msgpack_pack', 'cjson_print'])
    if counts:
        lines += ['', '### Instructions per call (callgrind, %d calls each; repeatable)' % a.callgrind_iters, '']
        lines += count_table(counts, DECODE, ['cpython_loads', 'msgpack_unpack', 'cjson_parse'])
        lines += ['']
        lines += count_table(counts, ENCODE, ['cpython_dumps', 'msgpack_pack', 'cjson_print'])
    lines += ['', '### Targets (DESIGN.md)', ''] + verdicts(times, c_res, 'timings')
    if counts:
        lines += [''] + verdicts(counts, c_res, 'instruction counts')
    lines += ['', '### Machine', ''] + ['- %s: %s' % kv for kv in info.items()]
    lines += ['', 'Notes: JSON carries bytes as base64 (cJSON parse time includes decoding it); '
              'ints beyond 2^53 go to cJSON as raw text (cJSON reads them back as doubles). '
              'Decoders free what they built in each call (pool reset, msgpack zone clear, cJSON_Delete). '
              'The direct writer walks the data without identity tracking, so keys CPython shares are '
              'written again (nested_100: %s bytes instead of %s).' % (
                  next(p['sizes']['writer'] for p in c_res['payloads'] if p['name'] == 'nested_100'),
                  next(p['sizes']['pickle'] for p in c_res['payloads'] if p['name'] == 'nested_100'))]
    md = '\n'.join(lines) + '\n'
    with open(os.path.join(out, 'results.md'), 'w') as f:
        f.write(md)
    with open(os.path.join(out, 'results.json'), 'w') as f:
        json.dump({'c': c_res, 'cpython': py_res, 'counts': counts, 'machine': info}, f, indent=1)
    sys.stdout.write(md)


if __name__ == '__main__':
    main()
