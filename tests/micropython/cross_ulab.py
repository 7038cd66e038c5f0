#!/usr/bin/python3
"""numpy <-> MicroPython with ulab, numpy as the oracle (run by run.py with a
python that has numpy, e.g. Debian's /usr/bin/python3).

    cross_ulab.py /path/to/micropython

numpy -> MicroPython: arrays of every numpy dtype (both byte orders), 0-d, empty,
  (and numpy scalars of every dtype, which load as Python numbers),
  1-3 dimensions, Fortran and non-contiguous, pickled by numpy with protocols 0-5
  (protocol 5 also read-only and out-of-band), and again with numpy 2.x's module
  names; MicroPython loads each and prints the ulab dtype, shape and raw bytes,
  which must be numpy's values converted to the ulab dtype, or the error where a
  value does not fit (or there are more dimensions than the firmware's ulab has).
numpy 2.x names are made by a Pickler whose reducer_override names the
  reconstructors numpy._core.* (numpy 1.x has only numpy.core.*).
MicroPython -> numpy: ulab arrays of every ulab dtype, shapes and views, dumped
  with protocols 0-5; numpy loads each equal (dtype, shape, values) and the bytes
  are numpy's own pickle of the same array (of its C-order copy for a strided
  view, which numpy itself would write in the _reconstruct form at protocol 5).
Prints "PASS name" / "FAIL name: detail" lines; exit status 0 unless it could not run.
"""
import io
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def out(ok, name, detail=''):
    print(('PASS %s' % name) if ok else ('FAIL %s: %s' % (name, detail)))


def run_mp(mp, script, arg=None):
    cmd = [mp, '-X', 'heapsize=32M', script] + ([arg] if arg else [])
    p = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def firmware(mp):
    """ulab's float width, complex support and dimension limit in this firmware."""
    code = ("from ulab import numpy as np\n"
            "print(len(bytes(np.array([1.0]))))\n"
            "try:\n np.array([1j], dtype=np.complex); print(1)\nexcept Exception: print(0)\n"
            "d = 1\n"
            "while d < 8:\n"
            " try:\n  np.zeros(tuple([1] * (d + 1))); d += 1\n"
            " except Exception: break\n"
            "print(d)\n")
    p = subprocess.run([mp, '-c', code], capture_output=True, text=True, timeout=60)
    fw, cx, dims = p.stdout.split()
    return int(fw), cx == '1', int(dims)


# ---------------------------------------------------------------- numpy 2.x names

_STANDINS = {}


def _standin(module, name, real):
    if (module, name) not in _STANDINS:
        mod = sys.modules.setdefault(module, types.ModuleType(module))

        def f(*args):
            return real(*args)
        f.__module__, f.__name__, f.__qualname__ = module, name, name
        setattr(mod, name, f)
        _STANDINS[(module, name)] = f
    return _STANDINS[(module, name)]


def dumps_numpy2(obj, proto, **kw):
    from numpy.core import multiarray, numeric

    class P(pickle.Pickler):
        def reducer_override(self, o):
            if type(o) is not np.ndarray:
                return NotImplemented
            rv = o.__reduce_ex__(proto)
            if rv[0] is multiarray._reconstruct:
                return (_standin('numpy._core.multiarray', '_reconstruct', rv[0]),) + tuple(rv[1:])
            if rv[0] is numeric._frombuffer:
                return (_standin('numpy._core.numeric', '_frombuffer', rv[0]),) + tuple(rv[1:])
            return NotImplemented
    f = io.BytesIO()
    P(f, protocol=proto, **kw).dump(obj)
    return f.getvalue()


# ---------------------------------------------------------------- numpy -> MicroPython

DTYPES = ['?', 'i1', 'u1', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8', 'f2', 'f4', 'f8', 'c8', 'c16']


def values_for(dt, n, fits):
    """n values of dtype dt; with fits False, one that no ulab type holds exactly."""
    k = np.dtype(dt).kind
    if k == 'b':
        v = np.array([i % 3 == 0 for i in range(n)])
    elif k in 'iu':
        lo, hi = (0, 200) if k == 'u' else (-100, 100)
        v = np.array([lo + (i * 37) % (hi - lo) for i in range(n)], dtype=dt)
        size = np.dtype(dt).itemsize
        if size >= 4 and n:
            # the widest values a double holds exactly; beyond them only with fits False
            v[-1] = {(4, 'i'): -2**31, (4, 'u'): 2**32 - 1, (8, 'i'): -2**53, (8, 'u'): 2**53}[(size, k)]
            if not fits:
                v[0] = {(4, 'i'): 16777217, (4, 'u'): 16777217, (8, 'i'): 2**53 + 1, (8, 'u'): 2**64 - 1}[(size, k)]
    else:
        v = np.array([(i - 2) * 0.75 for i in range(n)], dtype=dt)
        if n > 3:
            v[1], v[2] = np.inf, -0.0
        if not fits and n:
            v[0] = 0.1      # no float32 (and for float64 data: not exact in float32)
        if k == 'c' and n:
            v = v + 1j * np.arange(n, dtype=dt) * 0.5
    return v


def array_cases(dims):
    """(label, array): every dtype in both byte orders, shapes and layouts."""
    cases = []
    for dt in DTYPES:
        orders = ['<', '>'] if np.dtype(dt).itemsize > 1 and dt != '?' else ['|']
        for bo in orders:
            full = np.dtype(dt).newbyteorder(bo) if bo != '|' else np.dtype(dt)
            t = '%s%s' % (bo, dt)
            v6 = values_for(dt, 6, True)
            cases.append(('%s-1d' % t, v6.astype(full)))
            cases.append(('%s-2d' % t, v6.reshape(2, 3).astype(full)))
            cases.append(('%s-F' % t, np.asfortranarray(v6.reshape(2, 3)).astype(full, order='F')))
            cases.append(('%s-0d' % t, np.array(v6[1]).astype(full)))
            cases.append(('%s-empty' % t, np.zeros((0,), dtype=full)))
            cases.append(('%s-empty2' % t, np.zeros((2, 0), dtype=full)))
            cases.append(('%s-view' % t, values_for(dt, 12, True).astype(full).reshape(3, 4)[::2, 1::2]))
            cases.append(('%s-3d' % t, values_for(dt, 8, True).reshape(2, 2, 2).astype(full)))
            if dt in ('i4', 'u4', 'i8', 'u8', 'f8', 'c16'):
                cases.append(('%s-nofit' % t, values_for(dt, 4, False).astype(full)))
    return cases


def ulab_code(dt, fw, cx):
    """The ulab dtype numpy's dt loads as ('?' bool, 'B' 'b' 'H' 'h', 'f'/'d', 'c')."""
    k, size = np.dtype(dt).kind, np.dtype(dt).itemsize
    if k == 'b':
        return '?'
    if k in 'iu' and size <= 2:
        return {('u', 1): 'B', ('i', 1): 'b', ('u', 2): 'H', ('i', 2): 'h'}[(k, size)]
    if k == 'c':
        return 'c' if cx else None
    return 'd' if fw == 8 else 'f'


def expected(a, fw, cx, dims):
    """What MicroPython must print for numpy array a: 'code shape hexbytes' or 'ERR ...'."""
    code = ulab_code(a.dtype, fw, cx)
    if code is None:
        return 'ERR ValueError complex'
    if a.ndim > dims:
        return 'ERR ValueError dimensions'
    flt = np.float64 if fw == 8 else np.float32
    target = {'?': np.bool_, 'B': np.uint8, 'b': np.int8, 'H': np.uint16, 'h': np.int16,
              'd': flt, 'f': flt, 'c': np.complex128 if fw == 8 else np.complex64}[code]
    with np.errstate(all='ignore'):
        conv = a.astype(target)
    back = conv.astype(a.dtype)
    same = (back == a) | ((a != a) & (back != back))
    if not np.all(same):
        return 'ERR ValueError %s' % a.dtype.newbyteorder('=').name
    shape = a.shape if a.ndim else (1,)
    return ('%s %s %s' % (code, shape, np.ascontiguousarray(conv).tobytes().hex())).strip()


def expected_scalar(v, fw):
    k = v.dtype.kind
    if k == 'b':
        return 'S bool %s' % bool(v)
    if k in 'iu':
        return 'S int %d' % int(v)
    if fw == 4 and k in 'fc' and v.dtype.itemsize > (8 if k == 'c' else 4) and v.astype(v.dtype.kind + str(v.dtype.itemsize // 2)) != v:
        return 'ERR ValueError ' + v.dtype.name
    if k == 'c':
        return 'S complex ' + struct.pack('<2d', v.real, v.imag).hex()
    return 'S float ' + struct.pack('<d', float(v)).hex()


LOAD_SCRIPT = r'''
import sys, struct, mpickle
from ulab import numpy as np
def code(a):
    # a 1-d view keeps the bool flag (flatten() does not), and ulab prints the
    # shape of an empty 2-d array to stdout rather than into repr()
    while a.ndim > 1:
        a = a[0] if a.shape[0] else a[:, 0]
    r = repr(a)
    if r.endswith('dtype=bool)'):
        return '?'
    return chr(a.dtype)
for line in open(sys.argv[1]):
    parts = line.split()
    name, data, bufs = parts[0], bytes.fromhex(parts[1]), [bytes.fromhex(b[1:]) for b in parts[2:]]
    try:
        a = mpickle.loads(data, buffers=bufs) if bufs else mpickle.loads(data)
        if type(a) is list:
            print(name, 'L', a[0] is a[1], ' '.join(bytes(x).hex() for x in a))
        elif type(a) in (bool, int):
            print(name, 'S', type(a).__name__, a)
        elif type(a) is float:
            print(name, 'S float', struct.pack('<d', a).hex())
        elif type(a) is complex:
            print(name, 'S complex', struct.pack('<2d', a.real, a.imag).hex())
        else:
            print(name, code(a), a.shape, bytes(a).hex() if a.size else '')
    except Exception as e:
        print(name, 'ERR', type(e).__name__, e)
'''


def numpy_to_mp(mp, fw, cx, dims):
    variants = [('p%d' % p, p, '') for p in range(6)] + [('p5ro', 5, 'ro'), ('p5oob', 5, 'oob')]
    want = {}
    lines = []
    n = 0
    for label, a in array_cases(dims):
        for vname, proto, mode in variants:
            for np2 in (False, True):
                if np2 and proto not in (2, 4, 5):
                    continue
                x = a
                if mode == 'ro':
                    x = a.copy()
                    x.flags.writeable = False
                bufs = []
                kw = {'buffer_callback': bufs.append} if mode == 'oob' else {}
                data = dumps_numpy2(x, proto, **kw) if np2 else pickle.dumps(x, protocol=proto, **kw)
                name = '%s/%s%s' % (label, vname, '/np2' if np2 else '')
                lines.append(' '.join([name, data.hex()] + ['B' + bytes(b.raw()).hex() for b in bufs]))
                want[name] = expected(a, fw, cx, dims)
                n += 1
    # one array twice in a list: numpy refers to it through the memo (before its
    # BUILD, at protocols 0-4), and both items must be the one finished array
    shared = np.arange(4, dtype='i2')
    for proto in range(6):
        name = 'shared/p%d' % proto
        lines.append('%s %s' % (name, pickle.dumps([shared, shared, np.ones(2)], protocol=proto).hex()))
        ones = np.ones(2, dtype='f8' if fw == 8 else 'f4').tobytes().hex()
        want[name] = 'L True %s %s %s' % (shared.tobytes().hex(), shared.tobytes().hex(), ones)
    # numpy scalars (np.float64(x)...) load as Python numbers
    for dt in DTYPES:
        for i, v in enumerate(values_for(dt, 6, True)[[0, 3, 5]]):
            for proto in (2, 3, 4, 5):
                name = 'scalar-%s-%d/p%d' % (dt, i, proto)
                lines.append('%s %s' % (name, pickle.dumps(v, protocol=proto).hex()))
                want[name] = expected_scalar(v, fw)
    with tempfile.NamedTemporaryFile('w', suffix='.txt', delete=False) as f:
        f.write('\n'.join(lines) + '\n')
        path = f.name
    with tempfile.NamedTemporaryFile('w', suffix='.py', delete=False) as f:
        f.write(LOAD_SCRIPT)
        script = f.name
    try:
        rc, text, err = run_mp(mp, script, path)
    finally:
        os.unlink(path)
        os.unlink(script)
    out(rc == 0, 'numpy->micropython: the load script ran', err[-1500:])
    got = {}
    for line in text.splitlines():
        name, rest = line.split(' ', 1)
        got[name] = rest.strip()
    for name, w in want.items():
        g = got.get(name, '(nothing)')
        if w.startswith('ERR'):
            _, exc, what = w.split(' ', 2)
            ok = g.startswith('ERR ' + exc) and (what in g)
        else:
            ok = g == w
        out(ok, 'numpy->micropython ' + name, 'want %s\n    got  %s' % (w[:200], g[:200]))


# ---------------------------------------------------------------- MicroPython -> numpy

# (label, ulab dtype name, numpy dtype, values, shape, view expression)
DUMP_SPECS = [
    ('u1', 'uint8', 'u1', [0, 1, 2, 127, 128, 255]),
    ('i1', 'int8', 'i1', [0, -1, 2, -128, 127, 5]),
    ('u2', 'uint16', 'u2', [0, 1, 256, 65535, 300, 7]),
    ('i2', 'int16', 'i2', [0, -1, 256, -32768, 32767, 7]),
    ('f', 'float', None, [0.0, -0.0, 1.5, -2.25, 1e30, float('inf')]),
    ('bool', 'bool', '?', [True, False, False, True, True, False]),
    ('c', 'complex', None, [1 + 2j, 2.5j, 3, 0, 1e10 - 1j, -1]),
]
VIEWS = [
    ('1d', '{a}'), ('2d', '{a}.reshape((2, 3))'), ('T', '{a}.reshape((2, 3)).transpose()'),
    ('step', '{a}[::2]'), ('rev', '{a}[::-1]'), ('2dview', '{a}.reshape((2, 3))[:, ::2]'),
    ('2drev', '{a}.reshape((2, 3))[::-1, 1:]'), ('one', '{a}[2:3]'), ('empty', '{a}[3:3]'),
    ('empty2', 'np.zeros((0, 3), dtype={dt})'),
]


def dump_script(specs):
    s = ['import mpickle', 'from ulab import numpy as np', "inf = float('inf')"]
    for label, udt, ndt, vals in specs:
        s.append('a = np.array(%r, dtype=np.%s)' % (vals, udt))
        for vlabel, expr in VIEWS:
            s.append('v = ' + expr.format(a='a', dt='np.' + udt))
            s.append('for p in range(6): print(%r, p, mpickle.dumps(v, p).hex())' % ('%s-%s' % (label, vlabel)))
    s.append('print("list", 2, mpickle.dumps([np.array([1, 2], dtype=np.uint8), np.array([1.5]), '
             'np.array([3, 4], dtype=np.uint8)], 2).hex())')
    s.append('print("list", 5, mpickle.dumps([np.array([1, 2], dtype=np.uint8), np.array([1.5]), '
             'np.array([3, 4], dtype=np.uint8)], 5).hex())')
    # one array object twice: the second is a memo GET, as numpy writes it
    s.append('s = np.array([1, 2, 3, 4], dtype=np.int16)')
    s.append('for p in range(6): print("shared", p, mpickle.dumps([s, s, np.array([1.5])], p).hex())')
    return '\n'.join(s) + '\n'


def numpy_view(a, vlabel, ndt):
    return {'1d': a, '2d': a.reshape(2, 3), 'T': a.reshape(2, 3).T, 'step': a[::2], 'rev': a[::-1],
            '2dview': a.reshape(2, 3)[:, ::2], '2drev': a.reshape(2, 3)[::-1, 1:], 'one': a[2:3],
            'empty': a[3:3], 'empty2': np.zeros((0, 3), dtype=ndt)}[vlabel]


def mp_to_numpy(mp, fw, cx):
    flt = 'f8' if fw == 8 else 'f4'
    specs = [(l, u, n or (flt if l == 'f' else ('c16' if fw == 8 else 'c8')), v)
             for l, u, n, v in DUMP_SPECS if cx or l != 'c']
    with tempfile.NamedTemporaryFile('w', suffix='.py', delete=False) as f:
        f.write(dump_script(specs))
        script = f.name
    try:
        rc, text, err = run_mp(mp, script)
    finally:
        os.unlink(script)
    out(rc == 0, 'micropython->numpy: the dump script ran', err[-1500:])
    arrays = {}
    for label, udt, ndt, vals in specs:
        base = np.array(vals, dtype=ndt)
        for vlabel, _ in VIEWS:
            arrays['%s-%s' % (label, vlabel)] = numpy_view(base, vlabel, ndt)
    lst = [np.array([1, 2], 'u1'), np.array([1.5], flt), np.array([3, 4], 'u1')]
    shared = np.array([1, 2, 3, 4], 'i2')
    lists = {'list': lst, 'shared': [shared, shared, np.array([1.5], flt)]}
    seen = 0
    for line in text.splitlines():
        name, proto, data = line.split(' ', 2)
        proto, data = int(proto), bytes.fromhex(data)
        case = 'micropython->numpy %s protocol %d' % (name, proto)
        seen += 1
        try:
            got = pickle.loads(data)
        except Exception as e:
            out(False, case + ' (numpy loads it)', repr(e))
            continue
        want = lists[name] if name in lists else arrays[name]
        if name in lists:
            ok = (len(got) == len(want) and (name != 'shared' or got[0] is got[1]) and
                  all(type(g) is np.ndarray and g.dtype == w.dtype and np.array_equal(g, w) for g, w in zip(got, want)))
        else:
            ok = (type(got) is np.ndarray and got.dtype == want.dtype and got.shape == want.shape
                  and np.array_equal(got, want))
        out(ok, case + ' (equal)', 'want %r\n    got  %r' % (want, got))
        # numpy's own bytes: a strided view is written from its C-order copy
        ref = want if name in lists or want.flags.c_contiguous or want.flags.f_contiguous else np.ascontiguousarray(want)
        own = pickle.dumps(ref, proto)
        out(own == data, case + " (numpy's own bytes)", 'numpy %r\n    mp    %r' % (own[:160], data[:160]))
    total = len(arrays) * 6 + 2 + 6
    out(seen == total, 'micropython->numpy: every array written', '%d of %d' % (seen, total))


def main(argv):
    mp = os.path.abspath(argv[1])
    fw, cx, dims = firmware(mp)
    print('INFO ulab float%d, complex %s, at most %d dimensions' % (8 * fw, cx, dims))
    numpy_to_mp(mp, fw, cx, dims)
    mp_to_numpy(mp, fw, cx)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
