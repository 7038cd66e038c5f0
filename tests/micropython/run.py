#!/usr/bin/env python3
"""MicroPython tests of the mpickle module.

    python3 tests/micropython/run.py /path/to/micropython [-v]

1. Every test_*.py here runs under MicroPython; its output must equal
   test_*.py.exp, or, when there is none, what python3 prints for the same file
   (MicroPython's own test convention: such tests import the stdlib pickle
   under CPython). A first line "# micropython-args: ..." adds interpreter
   arguments (e.g. a small heap). A test printing only "SKIP" is skipped.
2. Cross-runtime cases (cross_corpus.py), for protocols 0 to 5:
   - CPython -> MicroPython: what CPython's pickle writes loads in MicroPython
     into the same object graph (canon() text compared);
   - MicroPython -> CPython: what MicroPython writes loads in CPython into the
     same graph, and the bytes are CPython's own: pickle.dumps() of the loaded
     graph gives the same bytes, and where CPython's bytes for the corpus object
     do not depend on iteration order, they are equal to MicroPython's.
3. numpy and ulab (cross_ulab.py, run with a python that has numpy): numpy's
   array pickles load in MicroPython as ulab arrays, and ulab arrays dumped by
   MicroPython load in numpy equal, with numpy's own bytes; without ulab in the
   firmware, a numpy pickle must fail saying so.

Prints one line per failure (all with -v) and ends with
"micropython: N passed, M failed"; exits non-zero if anything failed.
"""
import difflib
import os
import pickle
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import cross_corpus  # noqa: E402

TIMEOUT = 300


class Results:
    def __init__(self, verbose):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.verbose = verbose

    def check(self, ok, name, detail=''):
        if ok:
            self.passed += 1
            if self.verbose:
                print('pass', name)
        else:
            self.failed += 1
            print('FAIL', name)
            if detail:
                print(detail.rstrip())


def run(cmd, input_text=None):
    p = subprocess.run(cmd, cwd=HERE, input=input_text, capture_output=True, text=True, timeout=TIMEOUT)
    return p.returncode, p.stdout, p.stderr


def extra_args(path):
    with open(path) as f:
        first = f.readline()
    tag = '# micropython-args:'
    return first[len(tag):].split() if first.startswith(tag) else []


def file_tests(mp, res):
    for name in sorted(os.listdir(HERE)):
        if not (name.startswith('test_') and name.endswith('.py')):
            continue
        path = os.path.join(HERE, name)
        rc, out, err = run([mp] + extra_args(path) + [name])
        if out.strip() == 'SKIP':
            res.skipped += 1
            print('skip', name)
            continue
        if rc != 0:
            res.check(False, name, 'exit status %d\n%s%s' % (rc, out[-2000:], err[-2000:]))
            continue
        if os.path.exists(path + '.exp'):
            with open(path + '.exp') as f:
                want = f.read()
        else:
            prc, want, perr = run([sys.executable, '-B', name])
            if prc != 0:
                res.check(False, name, 'python3 failed on the test itself:\n' + perr[-2000:])
                continue
        diff = ''.join(difflib.unified_diff(want.splitlines(True), out.splitlines(True), 'expected', 'micropython'))
        res.check(out == want, name, diff[:6000])


def float32_port(mp):
    """Does the firmware have 32-bit floats (then doubles that are no float32
    cannot come out the same)?"""
    rc, out, err = run([mp, '-c', "print(float('1e39') == float('inf'))"])
    return out.strip() == 'True'


def not_float32(obj):
    if not isinstance(obj, float) or obj != obj or abs(obj) == float('inf'):
        return False
    try:
        return struct.unpack('<f', struct.pack('<f', obj))[0] != obj
    except OverflowError:
        return True


def longlong_port(mp):
    """Are the firmware's ints 64-bit at most (MICROPY_LONGINT_IMPL_LONGLONG)?"""
    rc, out, err = run([mp, '-c', "print(2**64)"])
    return 'OverflowError' in err + out


def beyond_int64(obj):
    return type(obj) is int and not -2**63 <= obj < 2**63


def corpus(mp, res, overflow=None):
    """The corpus, without what this firmware cannot hold (counted as skipped).
    Ints beyond 64 bits on a longlong firmware go to `overflow` when given (they
    must load as OverflowError), else are skipped."""
    f32 = float32_port(mp)
    ll = longlong_port(mp)
    out = []
    for name, obj, exact in cross_corpus.corpus():
        if f32 and not_float32(obj):
            res.skipped += 1
            continue
        if ll and beyond_int64(obj):
            if overflow is not None:
                overflow.append((name, obj, exact))
            else:
                res.skipped += 1
            continue
        out.append((name, obj, exact))
    return out


OVERFLOW = object()


def cpython_to_micropython(mp, res):
    """Pickles CPython writes, protocols 0-5, loaded by MicroPython."""
    want = {}
    overflow = []
    with tempfile.NamedTemporaryFile('w', suffix='.txt', delete=False) as f:
        for name, obj, exact in corpus(mp, res, overflow):
            for proto in range(6):
                f.write('%s %d %s\n' % (name, proto, pickle.dumps(obj, proto).hex()))
                want[(name, str(proto))] = cross_corpus.canon(obj)
        for name, obj, exact in overflow:
            for proto in range(6):
                f.write('%s %d %s\n' % (name, proto, pickle.dumps(obj, proto).hex()))
                want[(name, str(proto))] = OVERFLOW
        path = f.name
    try:
        rc, out, err = run([mp, '-X', 'heapsize=16M', 'cross_load.py', path])
    finally:
        os.unlink(path)
    got = {}
    for line in out.splitlines():
        parts = line.split(' ', 2)
        if len(parts) == 3:
            got[(parts[0], parts[1])] = parts[2]
    if rc != 0:
        res.check(False, 'cross_load.py', 'exit status %d\n%s' % (rc, err[-2000:]))
    for key, text in want.items():
        if text is OVERFLOW:
            res.check(str(got.get(key)).startswith('ERR OverflowError'),
                      'cpython->micropython %s protocol %s (OverflowError on a longlong firmware)' % key,
                      '  got  %s' % str(got.get(key))[:300])
            continue
        res.check(got.get(key) == text, 'cpython->micropython %s protocol %s' % key,
                  '  want %s\n  got  %s' % (text[:300], str(got.get(key))[:300]))


def micropython_to_cpython(mp, res):
    """Pickles MicroPython writes, protocols 0-5, loaded by CPython; byte checks."""
    objs = dict((name, (obj, exact)) for name, obj, exact in corpus(mp, res))
    rc, out, err = run([mp, '-X', 'heapsize=16M', 'cross_dump.py'])
    if rc != 0:
        res.check(False, 'cross_dump.py', 'exit status %d\n%s' % (rc, err[-2000:]))
    seen = set()
    for line in out.splitlines():
        name, proto, data = line.split(' ', 2)
        proto = int(proto)
        if name not in objs:
            continue    # skipped for this firmware
        seen.add((name, proto))
        obj, exact = objs[name]
        case = 'micropython->cpython %s protocol %d' % (name, proto)
        if data.startswith('ERR'):
            res.check(False, case, '  ' + data)
            continue
        b = bytes.fromhex(data)
        try:
            loaded = pickle.loads(b)
        except Exception as e:
            res.check(False, case, '  CPython cannot load it: %r\n  %r' % (e, b[:200]))
            continue
        res.check(cross_corpus.canon(loaded) == cross_corpus.canon(obj), case + ' (same graph)',
                  '  want %s\n  got  %s' % (cross_corpus.canon(obj)[:300], cross_corpus.canon(loaded)[:300]))
        # a loaded set iterates in CPython's order, which need not be MicroPython's
        if not isinstance(obj, (set, frozenset)) or len(obj) < 2:
            again = pickle.dumps(loaded, proto)
            res.check(again == b, case + ' (CPython writes the same bytes for the loaded graph)',
                      '  cpython     %r\n  micropython %r' % (again[:300], b[:300]))
        if exact:
            own = pickle.dumps(obj, proto)
            res.check(own == b, case + " (CPython's bytes for the object)",
                      '  cpython     %r\n  micropython %r' % (own[:300], b[:300]))
    for name in objs:
        for proto in range(6):
            res.check((name, proto) in seen, 'micropython->cpython %s protocol %d (written)' % (name, proto))


def hostile(mp, res):
    """The malicious pickles of tests/interop/test_scan.py and the fuzzing seed
    corpus with its regressions, loaded by MicroPython with the safe default:
    no crash, and no malicious pickle yields anything but data or an error.
    FUZZ_CORPUS=DIR[:DIR...] adds folders of pickles (a fuzzing campaign's
    corpora) to the corpus."""
    sys.path.insert(0, os.path.join(ROOT, 'tests', 'interop'))
    import test_scan  # noqa: E402  (builds bytes; nothing is loaded by CPython)
    malicious = [(label, data) for label, data, verdict in test_scan.malicious_samples()]
    corpus = []
    with tempfile.TemporaryDirectory() as tmp:
        rc, out, err = run([sys.executable, os.path.join(ROOT, 'fuzz', 'gen_corpus.py'), tmp])
        res.check(rc == 0, 'fuzz seed corpus written', err[-2000:])
        regress = os.path.join(ROOT, 'fuzz', 'regressions')
        extra = [d for d in os.environ.get('FUZZ_CORPUS', '').split(':') if d]
        for folder in [tmp, regress] + extra:
            for name in sorted(os.listdir(folder)):
                with open(os.path.join(folder, name), 'rb') as f:
                    corpus.append((name, f.read()))
        cases = [('malicious: ' + l, d) for l, d in malicious] + [('corpus: ' + n, d) for n, d in corpus]
        path = os.path.join(tmp, 'cases.txt')
        with open(path, 'w') as f:
            for label, data in cases:
                f.write(data.hex() + '\n')
        rc, out, err = run([mp, '-X', 'heapsize=64M', 'cross_hostile.py', path])
    lines = out.splitlines()
    res.check(rc == 0 and len(lines) == len(cases),
              'hostile input: MicroPython read all %d pickles without a crash (%d malicious, %d corpus)'
              % (len(cases), len(malicious), len(corpus)),
              'exit status %d after %d of %d pickles\n%s' % (rc, len(lines), len(cases), err[-2000:]))
    for (label, data), line in zip(cases[:len(malicious)], lines):
        ok = all(part.strip() in ('ok data',) or part.strip().startswith('exc ')
                 for part in line.split('|'))
        res.check(ok, label + ' (refused or data only)', '  got ' + line)
    res.check('uid=' not in out, 'no malicious command ran', out[-2000:])


# numpy's protocol 2 pickle of numpy.array([1, 2], dtype='u1')
NUMPY_U1_PICKLE = (
    '8002636e756d70792e636f72652e6d756c746961727261790a5f7265636f6e7374727563740a7100636e756d70790a6e6461'
    '727261790a71014b00857102635f636f646563730a656e636f64650a7103580100000062710458060000006c6174696e3171'
    '05867106527107877108527109284b014b0285710a636e756d70790a64747970650a710b58020000007531710c898887710d'
    '52710e284b0358010000007c710f4e4e4e4affffffff4affffffff4b00747110628968035802000000010271116805867112'
    '527113747114622e')


def numpy_python():
    """A python that imports numpy ($NUMPY_PYTHON, else Debian's /usr/bin/python3), or None."""
    for cand in (os.environ.get('NUMPY_PYTHON'), '/usr/bin/python3', sys.executable):
        if cand and os.path.exists(cand):
            if subprocess.run([cand, '-c', 'import numpy'], capture_output=True).returncode == 0:
                return cand
    return None


def ulab(mp, res):
    """numpy arrays and ulab: with ulab in the firmware, cross_ulab.py checks
    numpy -> MicroPython and MicroPython -> numpy (numpy as the oracle); without
    it, a numpy pickle must fail saying that ulab is missing."""
    load = "import mpickle\ntry:\n print(mpickle.loads(bytes.fromhex('%s')).tolist())\nexcept Exception as e:\n print(type(e).__name__, e)" % NUMPY_U1_PICKLE
    rc, out, err = run([mp, '-c', 'import ulab'])
    if rc != 0:
        rc, out, err = run([mp, '-c', load])
        res.check(out.startswith('UnpicklingError') and 'ulab, which is not available in this firmware' in out,
                  'numpy pickle without ulab: a clear error', '  got ' + out + err[-500:])
        print('skip ulab cross-runtime checks: this firmware has no ulab')
        res.skipped += 1
        return
    rc, out, err = run([mp, '-c', load])
    res.check(out.strip() == '[1, 2]', 'numpy pickle loads as a ulab array', '  got ' + out + err[-500:])
    py = numpy_python()
    if py is None:
        print('#' * 70)
        print('# SKIPPED: ulab cross-runtime checks (no python with numpy; set NUMPY_PYTHON)')
        print('#' * 70)
        res.skipped += 1
        return
    rc, out, err = run([py, os.path.join(HERE, 'cross_ulab.py'), mp])
    res.check(rc == 0, 'cross_ulab.py ran', err[-2000:])
    n = 0
    for line in out.splitlines():
        if line.startswith('PASS ') or line.startswith('FAIL '):
            n += 1
            name, _, detail = line[5:].partition(': ')
            res.check(line.startswith('PASS '), 'ulab ' + name, '    ' + detail)
    res.check(n > 1000, 'cross_ulab.py checked its cases', '  only %d' % n)


def main(argv):
    args = [a for a in argv[1:] if a != '-v']
    if len(args) != 1:
        print(__doc__)
        return 2
    mp = os.path.abspath(args[0])
    res = Results('-v' in argv)
    file_tests(mp, res)
    cpython_to_micropython(mp, res)
    micropython_to_cpython(mp, res)
    hostile(mp, res)
    ulab(mp, res)
    if res.skipped:
        print('(%d test files or corpus objects skipped: not for this firmware)' % res.skipped)
    print('micropython: %d passed, %d failed' % (res.passed, res.failed))
    return 1 if res.failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
