#!/usr/bin/python3
"""The mPickle paper's size experiment, redone: lists and dicts of int, float,
mixed and sequential values, 1 to 2000 elements, averaged over seeds; pickle sizes
against JSON sizes, and the break-even size (from which on the pickle is never
larger than the JSON).

    /usr/bin/python3 size_study.py [--bench BUILD/bench] [--out DIR] [--seeds K]

Writes DIR/size_study.png (plot, Debian's python3-matplotlib) and
DIR/size_study.md (table), and prints the table. Formats compared:
  - CPython pickle, protocol 4 (pickle.dumps; mpickle's default output is the same);
  - mpickle compact (the value model re-encoded with MPK_WRITE_COMPACT, through the
    benchmark program's --sizes mode);
  - compact JSON: json.dumps(separators=(',', ':')), floats with full precision;
  - the paper's JSON: default separators (', ', ': '), floats printed as a
    single-precision firmware prints them (7 significant digits).
The values (the paper does not publish its generator): int = random in
[0, 10000); float = random in [0, 100); mixed = int, float and 3-8 letter str in
turn; sequential = 0, 1, 2...; dict keys 'k0', 'k1'... (JSON needs str keys).
"""
import argparse
import json
import os
import pickle
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# The paper's break-even sizes (pickle vs its spaced, float32 JSON), and its
# largest saving (list sequential, 54.7 %).
PAPER = {('dict', 'float'): 9, ('list', 'float'): 19, ('dict', 'int'): 5, ('list', 'int'): 6,
         ('dict', 'mixed'): 6, ('list', 'mixed'): 9, ('dict', 'sequential'): 9, ('list', 'sequential'): 14}
PAPER_MAX_SAVING = (('list', 'sequential'), 54.7)
KINDS = ['int', 'float', 'mixed', 'sequential']
SHAPES = ['list', 'dict']


def sizes_n():
    """Every size up to 64, then about 4 % apart up to 2000."""
    out = list(range(1, 65))
    n = 64.0
    while n < 2000:
        n *= 1.04
        out.append(min(2000, int(round(n))))
    return sorted(set(out))


def values(kind, n, rng):
    if kind == 'int':
        return [rng.randrange(10000) for _ in range(n)]
    if kind == 'float':
        return [rng.uniform(0, 100) for _ in range(n)]
    if kind == 'sequential':
        return list(range(n))
    out = []
    for i in range(n):
        r = i % 3
        if r == 0:
            out.append(rng.randrange(10000))
        elif r == 1:
            out.append(rng.uniform(0, 100))
        else:
            out.append(''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(rng.randint(3, 8))))
    return out


def make(shape, kind, n, seed):
    vals = values(kind, n, random.Random(seed * 7919 + n))
    return vals if shape == 'list' else {'k%d' % i: v for i, v in enumerate(vals)}


def f32_text(x):
    """A float as single-precision firmware prints it: 7 significant digits."""
    s = '%.7g' % x
    return s if ('.' in s or 'e' in s or 'n' in s) else s + '.0'


def paper_json(obj):
    """json.dumps with default separators, floats in single precision."""
    def atom(v):
        return f32_text(v) if isinstance(v, float) else json.dumps(v)
    if isinstance(obj, list):
        return '[' + ', '.join(atom(v) for v in obj) + ']'
    return '{' + ', '.join('%s: %s' % (json.dumps(k), atom(v)) for k, v in obj.items()) + '}'


def compact_sizes(bench, pickles):
    """Our default and compact re-encodings of each pickle (value model API)."""
    with tempfile.NamedTemporaryFile(suffix='.pkls', delete=False) as f:
        for p in pickles:
            f.write(p)
        path = f.name
    try:
        out = subprocess.run([bench, '--sizes', path], check=True, stdout=subprocess.PIPE, text=True).stdout
    finally:
        os.remove(path)
    return [tuple(int(x) for x in line.split()) for line in out.splitlines()]


def measure(bench, seeds):
    """sizes[(shape, kind)][fmt] = list of mean sizes over seeds, one per n."""
    ns = sizes_n()
    objs, keys = [], []
    for shape in SHAPES:
        for kind in KINDS:
            for n in ns:
                for seed in range(seeds):
                    objs.append(make(shape, kind, n, seed))
                    keys.append((shape, kind, n))
    pickles = [pickle.dumps(o, 4) for o in objs]
    ours = compact_sizes(bench, pickles)
    if len(ours) != len(pickles):
        sys.exit('size_study: the benchmark program re-encoded %d of %d pickles' % (len(ours), len(pickles)))
    acc = {}
    for key, obj, pk, (dflt, comp) in zip(keys, objs, pickles, ours):
        if dflt != len(pk):
            sys.exit('size_study: our default output differs from CPython for %r' % (key,))
        row = acc.setdefault(key, [0, 0, 0, 0])
        row[0] += len(pk)
        row[1] += comp
        row[2] += len(json.dumps(obj, separators=(',', ':')))
        row[3] += len(paper_json(obj))
    res = {}
    for (shape, kind, n), row in acc.items():
        d = res.setdefault((shape, kind), {'n': [], 'pickle': [], 'compact': [], 'json': [], 'paper_json': []})
        d['n'].append(n)
        for name, total in zip(['pickle', 'compact', 'json', 'paper_json'], row):
            d[name].append(total / seeds)
    return res


def break_even(ns, ours, theirs):
    """Smallest n from which on ours is never larger than theirs."""
    be = None
    for n, a, b in zip(ns, ours, theirs):
        if a <= b:
            if be is None:
                be = n
        else:
            be = None
    return be


def max_saving(ours, theirs):
    return max(100.0 * (1 - a / b) for a, b in zip(ours, theirs))


def table(res):
    rows = ['| container, values | paper (its pickle vs spaced float32 JSON) | CPython vs paper JSON | '
            'compact vs paper JSON | CPython vs compact JSON | compact vs compact JSON | '
            'compact at or below paper | max saving, compact vs compact JSON | max saving, CPython vs paper JSON |',
            '| --- | ---: | ---: | ---: | ---: | ---: | :---: | ---: | ---: |']
    ok_all = True
    for shape in SHAPES:
        for kind in KINDS:
            d = res[(shape, kind)]
            ns = d['n']
            be = [break_even(ns, d[a], d[b]) for a, b in
                  [('pickle', 'paper_json'), ('compact', 'paper_json'), ('pickle', 'json'), ('compact', 'json')]]
            paper = PAPER[(shape, kind)]
            ok = be[3] is not None and be[3] <= paper
            ok_all &= ok
            rows.append('| %s %s | %d | %s | %s | %s | %s | %s | %.1f %% | %.1f %% |' % (
                shape, kind, paper, *[str(b) if b else 'never' for b in be], 'yes' if ok else 'NO',
                max_saving(d['compact'], d['json']), max_saving(d['pickle'], d['paper_json'])))
    return rows, ok_all


def plot(res, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 4, figsize=(16, 7.5), sharex=True)
    styles = [('paper_json', 'JSON, paper style (spaced, float32)', 'tab:red', '--'),
              ('json', 'JSON, compact (full precision)', 'tab:orange', '-'),
              ('pickle', 'pickle, CPython = mpickle default', 'tab:blue', '-'),
              ('compact', 'mpickle compact', 'tab:green', '-')]
    for i, shape in enumerate(SHAPES):
        for j, kind in enumerate(KINDS):
            ax = axes[i][j]
            d = res[(shape, kind)]
            for key, label, color, ls in styles:
                ax.plot(d['n'], d[key], color=color, linestyle=ls, label=label, linewidth=1.4)
            ax.axvline(PAPER[(shape, kind)], color='grey', linestyle=':', linewidth=1)
            ax.set_xscale('log')
            ax.set_yscale('log')
            ax.set_title('%s of %s (paper break-even %d)' % (shape, kind, PAPER[(shape, kind)]), fontsize=10)
            ax.grid(True, which='both', alpha=0.25)
            if i == 1:
                ax.set_xlabel('elements')
            if j == 0:
                ax.set_ylabel('bytes')
    axes[0][0].legend(fontsize=8, loc='upper left')
    fig.suptitle('Serialized size against element count (mean over seeds)')
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bench', default=os.path.join(HERE, 'build', 'bench'))
    ap.add_argument('--out', default=HERE)
    ap.add_argument('--seeds', type=int, default=5)
    a = ap.parse_args()
    if not os.path.exists(a.bench):
        sys.exit('size_study: %s missing: run `make -C bench build` first' % a.bench)
    res = measure(a.bench, a.seeds)
    rows, ok_all = table(res)
    md = ['## Size study: break-even against JSON (the mPickle paper\'s experiment)', '',
          'Break-even = the element count from which on the pickle is never larger than the JSON '
          '(sizes 1 to 2000, %d seeds averaged; every size up to 64, then about 4 %% apart). '
          'Protocol 4. %s' % (a.seeds, 'Target met: compact breaks even at or below the paper in every row, '
                                        'against compact JSON.' if ok_all else
                              'Target NOT met in every row (see the "compact at or below paper" column).'), '']
    md += rows
    seq = res[PAPER_MAX_SAVING[0]]
    md += ['', 'Largest saving, list sequential: paper %.1f %%; CPython vs paper JSON %.1f %%; '
           'compact vs compact JSON %.1f %%.' % (PAPER_MAX_SAVING[1], max_saving(seq['pickle'], seq['paper_json']),
                                                 max_saving(seq['compact'], seq['json']))]
    md += ['', 'Values: int random in [0, 10000), float random in [0, 100), mixed = int, float, '
           '3-8 letter str in turn, sequential = 0, 1, 2...; dict keys \'k0\', \'k1\'... '
           'Plot: size_study.png.']
    text = '\n'.join(md) + '\n'
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, 'size_study.md'), 'w') as f:
        f.write(text)
    plot(res, os.path.join(a.out, 'size_study.png'))
    sys.stdout.write(text)


if __name__ == '__main__':
    main()
