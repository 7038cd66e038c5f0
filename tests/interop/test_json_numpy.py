#!/usr/bin/env python3
"""`mpickle json` on numpy arrays, scalars and dtypes ($ndarray, $npscalar, $dtype
in docs/json.md), numpy as the oracle.

Run with a python that has numpy (Debian's /usr/bin/python3): without numpy it
prints a loud SKIPPED line and exits 0. Checks:

  arrays   every supported dtype (bool, int8-64, uint8-64, float16/32/64,
           complex64/128, both byte orders) x shapes (0-d, empty, 1-4 dims, big)
           x layouts (C, Fortran, non-contiguous) x protocols 0-5, protocol 5
           read-only and out-of-band, numpy 2.x module names: the document's
           dtype, shape, order and values equal numpy's (ints exactly, floats bit
           for bit after reading the printed text back in the array's own width,
           which must be the fewest digits numpy's repr uses; nan and inf as
           {"$float": ...}); the bytes are exactly json.dumps of the parsed
           document, compact and with --indent
  others   numpy scalars, dtypes alone, shared arrays ($id/$ref), unsupported
           dtypes (marked {"$ndarray": {"error", "call"}}), --max-array
           truncation, the --max-output bound against memo-shared data
  hostile  crafted arrays (shape larger than the data, shape products that
           overflow, bigint and negative dims, garbage dtypes, wrong parts): a
           marked non-array or one line on stderr and exit 1, never a crash

usage: test_json_numpy.py [--mpickle PATH] [--quick] [-v]
Prints "json-numpy: N passed, M failed" and exits 1 if anything failed.
"""
import argparse
import json
import math
import os
import pickle
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MPICKLE = os.path.join(os.path.dirname(os.path.dirname(HERE)), 'build', 'mpickle')
NAME = 'json-numpy'

try:
    import numpy as np
except ImportError:
    print("%s: SKIPPED !!! numpy is not importable by %s (install python3-numpy and run "
          "this with /usr/bin/python3) !!!" % (NAME, sys.executable))
    print('%s: 0 passed, 0 failed, 1 skipped' % NAME)   # for runners that sum summaries
    sys.exit(0)

MULTIARRAY = np.core.multiarray


class Tally:
    def __init__(self, verbose):
        self.passed = self.failed = 0
        self.verbose = verbose

    def check(self, ok, label, detail=''):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            if self.failed <= 40 or self.verbose:
                print('FAIL %s%s' % (label, (': ' + detail) if detail else ''))
        return ok


class Run:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err

    def problem(self):
        """None for exit 0, or exit 1 with one 'mpickle: ' line on stderr."""
        if self.rc is None:
            return 'timed out'
        if self.rc < 0:
            return 'killed by signal %d' % -self.rc
        if self.rc == 0:
            return None if not self.err else 'exit 0 with stderr %r' % self.err[:200]
        lines = self.err.decode('utf-8', 'replace').rstrip('\n').split('\n')
        if self.rc != 1 or len(lines) != 1 or not lines[0].startswith('mpickle: '):
            return 'exit %d, stderr %r' % (self.rc, self.err[:300])
        return None


def run(prog, data, args=(), timeout=300):
    try:
        p = subprocess.run([prog, 'json'] + list(args), input=data, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Run(None, b'', b'')
    return Run(p.returncode, p.stdout, p.stderr)


def parse(out, one_line=True):
    """The document, floats kept as their text; None if it is not valid JSON
    ending in a newline (and on one line unless one_line is false)."""
    if not out.endswith(b'\n') or (one_line and out.count(b'\n') != 1):
        return None

    def no_constant(name):
        raise ValueError('non-JSON constant ' + name)
    return json.loads(out.decode('utf-8'), parse_float=FloatText, parse_constant=no_constant)


class FloatText(float):
    """A JSON float that remembers its text (json.dumps writes float.__repr__)."""
    def __new__(cls, text):
        obj = float.__new__(cls, text)
        obj.text = text
        return obj


def layout_ok(out, doc, indent=None):
    """The bytes are json.dumps of the parsed document: the compact or indented
    layout of docs/json.md, and every float is Python's repr of its double."""
    if indent is None:
        want = json.dumps(doc, separators=(',', ':'), ensure_ascii=False)
    else:
        want = json.dumps(doc, indent=indent, ensure_ascii=False)
    return (want + '\n').encode('utf-8') == out


def first_id_ref_problem(doc):
    """Every $id is referenced and every $ref follows its $id (docs/json.md)."""
    ids, refs = [], []

    def walk(j):
        if isinstance(j, list):
            for x in j:
                walk(x)
        elif isinstance(j, dict):
            if '$id' in j:
                ids.append(j['$id'])
            if '$ref' in j:
                if j['$ref'] not in ids:
                    refs.append(('early', j['$ref']))
                refs.append(j['$ref'])
            for x in j.values():
                walk(x)
    walk(doc)
    if any(isinstance(r, tuple) for r in refs):
        return '$ref before its $id'
    unused = [i for i in ids if i not in refs]
    return ('$id %s never referenced' % unused) if unused else None


# ---------------------------------------------------------------- values

def sig_digits(text):
    """Significant digits of a decimal float text ('1.5e-05' -> '15')."""
    mant = text.lower().lstrip('-').split('e')[0].replace('.', '')
    return mant.strip('0') or '0'


def float_problem(j, want, ftype):
    """Why JSON value j does not stand for the float `want` of type ftype, or None."""
    if isinstance(j, dict):
        if list(j) != ['$float'] or j['$float'] not in ('nan', 'inf', '-inf'):
            return 'bad non-finite form %r' % (j,)
        got = float(j['$float'])
        if math.isnan(want):
            return None if math.isnan(got) else 'want nan, got %r' % j
        return None if got == want else 'want %r, got %r' % (want, j)
    if not isinstance(j, FloatText):
        return 'want a float for %r, got %r' % (want, j)
    if not math.isfinite(want):
        return 'want %r, got %r' % (want, j.text)
    wbits = np.array(want, ftype).tobytes()
    # the text read back in the array's own width (directly, and through a double)
    if np.array(j.text, ftype).tobytes() != wbits and np.array(float(j.text), ftype).tobytes() != wbits:
        return 'want %r, got %r' % (want, j.text)
    if np.array(float(j.text), ftype).tobytes() != wbits:
        return 'text %r reads back only through strtof' % j.text
    if ftype == np.float64:
        return None if j.text == repr(float(want)) else 'want repr %r, got %r' % (repr(float(want)), j.text)
    shortest = np.format_float_scientific(ftype(want), unique=True)
    if len(sig_digits(j.text)) != len(sig_digits(shortest)):
        return 'not the fewest digits: %r, numpy %r' % (j.text, shortest)
    return None


def element_problem(j, want, dt):
    """Why JSON value j does not stand for element `want` (a numpy scalar) of dtype dt."""
    kind = dt.kind
    if kind == 'b':
        return None if j is bool(want) else 'want %r, got %r' % (bool(want), j)
    if kind in 'iu':
        ok = type(j) is int and j == int(want)
        return None if ok else 'want %d, got %r' % (int(want), j)
    ftype = {2: np.float16, 4: np.float32, 8: np.float64}[dt.itemsize // (2 if kind == 'c' else 1)]
    if kind == 'f':
        return float_problem(j, float(want), ftype)
    if not isinstance(j, list) or len(j) != 2:
        return 'want [re, im], got %r' % (j,)
    return float_problem(j[0], float(want.real), ftype) or float_problem(j[1], float(want.imag), ftype)


def data_problem(j, arr):
    """Why j is not arr's values as nested lists in C order (a bare value if 0-d)."""
    if arr.ndim == 0:
        return element_problem(j, arr[()], arr.dtype)
    if not isinstance(j, list) or len(j) != arr.shape[0]:
        return 'axis of %d: got %s' % (arr.shape[0], type(j).__name__ if not isinstance(j, list) else len(j))
    for i, x in enumerate(j):
        p = data_problem(x, arr[i])
        if p:
            return '[%d] %s' % (i, p)
    return None


def ndarray_from_json(body):
    """docs/json.md's recipe: an in-band, untruncated $ndarray body as a numpy array."""
    def walk(j):
        if isinstance(j, list):
            return [walk(x) for x in j]
        return float(j['$float']) if isinstance(j, dict) else j   # nan, inf, -inf
    dt, shape, vals = np.dtype(body['dtype']), tuple(body['shape']), walk(body['data'])
    if dt.kind == 'c':
        pairs = np.array(vals, dtype=np.float64).reshape(shape + (2,))
        out = np.empty(shape, dt)
        out.real, out.imag = pairs[..., 0], pairs[..., 1]   # not re + 1j*im: inf*1j has a nan
        return out
    return np.array(vals, dtype=dt).reshape(shape)


def canonical_bytes(arr):
    """arr's bytes in C order with every nan made numpy's positive quiet nan (the
    document keeps no nan sign or payload)."""
    flat = np.ascontiguousarray(arr).reshape(-1)
    if arr.dtype.kind not in 'fc':
        return flat.tobytes()
    part = flat.view('%s%s%d' % (arr.dtype.str[0], 'f', arr.dtype.itemsize // (2 if arr.dtype.kind == 'c' else 1)))
    part = part.copy()
    part[np.isnan(part)] = np.nan
    return part.tobytes()


def expected_order(arr):
    # numpy writes Fortran data only for arrays that are F- but not C-contiguous
    return 'F' if arr.flags.f_contiguous and not arr.flags.c_contiguous else 'C'


def ndarray_problem(j, arr, oob_index=None, readonly=False):
    """Why j is not the $ndarray form of arr, or None."""
    if not isinstance(j, dict) or list(j) != ['$ndarray']:
        return 'not an $ndarray: %.200r' % (j,)
    body = j['$ndarray']
    keys = ['dtype', 'shape', 'order', 'data']
    if list(body) != keys:
        return 'keys %r' % list(body)
    if body['dtype'] != arr.dtype.str:
        return 'dtype %r, want %r' % (body['dtype'], arr.dtype.str)
    if body['shape'] != list(arr.shape):
        return 'shape %r, want %r' % (body['shape'], list(arr.shape))
    if body['order'] != expected_order(arr):
        return 'order %r, want %r' % (body['order'], expected_order(arr))
    if oob_index is not None:
        want = {'$buffer': oob_index, 'readonly': readonly}
        return None if body['data'] == want else 'data %r, want %r' % (body['data'], want)
    return data_problem(body['data'], arr)


# ---------------------------------------------------------------- the matrix

def dtypes():
    out = [np.dtype('?'), np.dtype('i1'), np.dtype('u1')]
    for code in ('i2', 'i4', 'i8', 'u2', 'u4', 'u8', 'f2', 'f4', 'f8', 'c8', 'c16'):
        out += [np.dtype('<' + code), np.dtype('>' + code)]
    return out


def values(dt, n, rng):
    """n values of dt, random, with the kind's edge cases first."""
    kind = dt.kind
    native = dt.newbyteorder('=')
    if kind == 'b':
        return rng.integers(0, 2, n).astype(dt)
    if kind in 'iu':
        info = np.iinfo(native)
        edge = [info.min, info.max, 0, 1, info.max - 1]
        v = rng.integers(info.min, info.max, n, dtype=native, endpoint=True)
        v[:min(n, len(edge))] = edge[:n]
        return v.astype(dt)
    part = np.dtype('f%d' % (native.itemsize // 2)) if kind == 'c' else native
    finfo = np.finfo(part)
    edge = [np.nan, np.inf, -np.inf, -0.0, 0.0, finfo.max, -finfo.max, finfo.tiny,
            finfo.tiny * part.type(0.5), finfo.eps, 0.1, 1 / 3, 1e-5, 16777216.0]
    with np.errstate(over='ignore', under='ignore', invalid='ignore'):
        v = (rng.standard_normal(n) * 10.0 ** rng.integers(-8, 9, n)).astype(part)
        v[:min(n, len(edge))] = np.array(edge[:n], dtype=np.float64).astype(part)
        if kind == 'c':
            w = (rng.standard_normal(n) * 1000).astype(part)
            w[:min(n, len(edge))] = np.array(edge[::-1][:n], dtype=np.float64).astype(part)
            v = v + 1j * w.astype(np.complex128)
    return v.astype(dt)


def arrays(dt, rng, quick):
    """(label, array) pairs of dtype dt: shapes and layouts."""
    out = [('0-d', values(dt, 1, rng).reshape(())),
           ('empty', np.zeros((0,), dt)),
           ('empty 2x0x3', np.zeros((2, 0, 3), dt)),
           ('1-d', values(dt, 17, rng)),
           ('2x3', values(dt, 6, rng).reshape(2, 3)),
           ('fortran 3x4', np.asfortranarray(values(dt, 12, rng).reshape(3, 4))),
           ('non-contiguous', values(dt, 24, rng).reshape(4, 6)[::2, 1::2]),
           ('4-d', values(dt, 24, rng).reshape(2, 1, 3, 4))]
    if not quick:
        out += [('transposed 2x3x4', values(dt, 24, rng).reshape(2, 3, 4).T),
                ('1x1', values(dt, 1, rng).reshape(1, 1)),
                ('big', values(dt, 9000, rng).reshape(90, 100))]
    return out


def rename_numpy2(data):
    """numpy 2.x's module names, in a protocol 0-2 pickle (text GLOBALs)."""
    return data.replace(b'numpy.core.', b'numpy._core.')


def variants(quick):
    """(label, protocol, pickle options): the forms numpy writes."""
    out = [('p%d' % p, p, {}) for p in (range(0, 6) if not quick else (0, 2, 4, 5))]
    out += [('p5 oob', 5, {'oob': True}), ('p5 readonly', 5, {'readonly': True}),
            ('p2 numpy2', 2, {'numpy2': True})]
    return out


def test_matrix(t, prog, quick):
    rng = np.random.default_rng(20261122)
    for dt in dtypes():
        cases = arrays(dt, rng, quick)
        for vlabel, proto, opts in variants(quick):
            arrs = [a for _, a in cases]
            if opts.get('readonly'):
                arrs = [a.copy() for a in arrs]
                for a in arrs:
                    a.flags.writeable = False
            buffers = []
            kw = {'buffer_callback': buffers.append} if opts.get('oob') else {}
            data = pickle.dumps(arrs, protocol=proto, **kw)
            if opts.get('numpy2'):
                data = rename_numpy2(data)
                if not t.check(b'numpy._core' in data, '%s %s: renamed' % (dt.str, vlabel)):
                    continue
            label = '%s %s' % (dt.str, vlabel)
            r = run(prog, data)
            if not t.check(r.rc == 0 and not r.err, label, 'exit %r %r' % (r.rc, r.err[:300])):
                continue
            doc = parse(r.out)
            if not t.check(isinstance(doc, list) and len(doc) == len(arrs), label, 'document %.300r' % r.out):
                continue
            t.check(layout_ok(r.out, doc), label + ': compact layout')
            oob = 0
            for (alabel, _), a, j in zip(cases, arrs, doc):
                index = None
                if opts.get('oob') and (a.flags.c_contiguous or a.flags.f_contiguous):
                    index, oob = oob, oob + 1
                p = ndarray_problem(j, a, index)
                if t.check(p is None, '%s %s' % (label, alabel), p) and index is None:
                    with np.errstate(invalid='ignore', over='ignore'):
                        b = ndarray_from_json(j['$ndarray'])
                    t.check(b.dtype == a.dtype and b.shape == a.shape and
                            canonical_bytes(a) == canonical_bytes(b),
                            '%s %s: docs recipe rebuilds it' % (label, alabel))
            if opts.get('oob'):
                t.check(oob == len(buffers), label + ': out-of-band count', '%d vs %d' % (oob, len(buffers)))


# ---------------------------------------------------------------- other nodes

def one(t, prog, label, obj_or_data, proto=4, args=()):
    """Runs one pickle; returns the parsed document, or None (and a failure)."""
    data = obj_or_data if isinstance(obj_or_data, bytes) else pickle.dumps(obj_or_data, protocol=proto)
    r = run(prog, data, args)
    if not t.check(r.rc == 0 and not r.err, label, 'exit %r %r' % (r.rc, r.err[:300])):
        return None
    doc = parse(r.out)
    if not t.check(doc is not None, label, 'not one JSON line'):
        return None
    t.check(layout_ok(r.out, doc), label + ': layout')
    return doc


def test_scalars_and_dtypes(t, prog):
    scalars = [np.bool_(True), np.bool_(False), np.int8(-128), np.uint8(255), np.int16(-2),
               np.uint16(65535), np.int32(-7), np.uint32(4000000000), np.int64(-2 ** 63),
               np.uint64(2 ** 64 - 1), np.float16(0.1), np.float16(-65504), np.float32(0.1),
               np.float32(np.nan), np.float32(-np.inf), np.float64(1 / 3), np.float64(-0.0),
               np.complex64(1.5 - 0.1j), np.complex128(complex(np.inf, -2.5))]
    for s in scalars:
        for proto in range(6):
            label = 'scalar %r %s protocol %d' % (s, s.dtype.str, proto)
            doc = one(t, prog, label, s, proto)
            if doc is None:
                continue
            ok = isinstance(doc, dict) and list(doc) == ['$npscalar'] and \
                list(doc['$npscalar']) == ['dtype', 'value'] and doc['$npscalar']['dtype'] == s.dtype.str
            if t.check(ok, label, '%.200r' % (doc,)):
                p = element_problem(doc['$npscalar']['value'], s, s.dtype)
                t.check(p is None, label + ': value', p)
    for code in ('?', 'i1', 'u1', '<i2', '>i4', '<u8', '>f2', '<f4', '>f8', '<c8', '>c16'):
        dt = np.dtype(code)
        for proto in (0, 2, 4, 5):
            doc = one(t, prog, 'dtype %s protocol %d' % (code, proto), dt, proto)
            t.check(doc == {'$dtype': dt.str}, 'dtype %s protocol %d' % (code, proto), '%.200r' % (doc,))
    # not supported by the helper: shown as the call, unmarked
    for obj in (np.str_('ab'), np.dtype('<U5'), np.dtype([('a', '<i4')]), np.datetime64('2020-01-01')):
        doc = one(t, prog, 'plain call %r' % (obj,), obj, 2)
        t.check(isinstance(doc, dict) and list(doc) == ['$call'], 'plain call %r' % (obj,), '%.200r' % (doc,))


def test_sharing(t, prog):
    a = np.arange(4.0)
    b = np.arange(3, dtype='<i4')
    doc = one(t, prog, 'shared array', [a, b, a, {'w': b}], 4)
    if doc is not None:
        ok = (doc[0] == {'$id': 1, '$value': doc[0].get('$value')} and doc[2] == {'$ref': 1} and
              doc[1]['$id'] == 2 and doc[3] == {'w': {'$ref': 2}})
        t.check(ok, 'shared array: $id/$ref', '%.300r' % (doc,))
        t.check(ndarray_problem(doc[0]['$value'], a) is None, 'shared array: first value')
    # many arrays share one dtype through the memo: no stray $id
    arrs = {'k%d' % i: np.arange(i, dtype='<f4') for i in range(20)}
    arrs['dt'] = np.dtype('<f4')
    doc = one(t, prog, 'shared dtype', arrs, 2)
    if doc is not None:
        t.check(first_id_ref_problem(doc) is None, 'shared dtype: ids', first_id_ref_problem(doc))
        t.check(all(ndarray_problem(doc['k%d' % i], arrs['k%d' % i]) is None for i in range(20)),
                'shared dtype: arrays')
    for indent in (0, 2):
        data = pickle.dumps([np.arange(6.0).reshape(2, 3), np.float32(0.5), np.zeros((2, 0))], 4)
        r = run(prog, data, ['--indent', str(indent)])
        doc = parse(r.out, one_line=False) if r.rc == 0 else None
        t.check(doc is not None and layout_ok(r.out, doc, indent), '--indent %d layout' % indent,
                '%.300r' % r.out)


def test_unsupported(t, prog):
    for label, arr in (('object', np.array([1, 'a', None], dtype=object)),
                       ('str', np.array(['ab', 'c'])),
                       ('bytes', np.array([b'ab'])),
                       ('structured', np.zeros(2, dtype=[('a', '<i4'), ('b', '<f8')])),
                       ('datetime', np.array(['2020-01-01'], dtype='M8[D]')),
                       ('9 dims', np.zeros((1,) * 9))):
        for proto in (2, 5):
            doc = one(t, prog, 'unsupported %s p%d' % (label, proto), arr, proto)
            ok = (isinstance(doc, dict) and list(doc) == ['$ndarray'] and
                  list(doc['$ndarray']) == ['error', 'call'] and isinstance(doc['$ndarray']['error'], str) and
                  doc['$ndarray']['error'] and list(doc['$ndarray']['call']) == ['$call'])
            t.check(ok, 'unsupported %s p%d: marked' % (label, proto), '%.300r' % (doc,))


def test_max_array(t, prog):
    a = np.arange(24, dtype='>i2').reshape(2, 3, 4)
    for n, want in ((0, []), (5, list(range(5))), (23, list(range(23)))):
        doc = one(t, prog, '--max-array %d' % n, a, 4, ['--max-array', str(n)])
        body = doc and doc.get('$ndarray')
        ok = (body and list(body) == ['dtype', 'shape', 'order', 'truncated', 'data'] and
              body['truncated'] is True and body['data'] == want and body['shape'] == [2, 3, 4])
        t.check(ok, '--max-array %d: truncated flat' % n, '%.300r' % (doc,))
    doc = one(t, prog, '--max-array 24', a, 4, ['--max-array', '24'])
    t.check(doc is not None and ndarray_problem(doc, a) is None, '--max-array 24: whole')
    # an empty array with a long leading axis: its empty lists count
    e = np.zeros((100, 0), 'u1')
    doc = one(t, prog, 'empty 100x0 capped', e, 4, ['--max-array', '99'])
    t.check(doc is not None and doc['$ndarray'].get('truncated') is True and doc['$ndarray']['data'] == [],
            'empty 100x0 capped', '%.200r' % (doc,))
    doc = one(t, prog, 'empty 100x0', e, 4, ['--max-array', '100'])
    t.check(doc is not None and ndarray_problem(doc, e) is None, 'empty 100x0 whole')
    # the default cap: a million elements print, one more is truncated
    for n in (1000000, 1000001):
        doc = one(t, prog, 'default cap %d' % n, np.zeros(n, 'u1'), 4)
        body = doc and doc['$ndarray']
        ok = body and len(body['data']) == 1000000 and (('truncated' in body) == (n > 1000000))
        t.check(ok, 'default cap %d' % n)
    for bad in ('-1', 'x', ''):
        r = run(prog, pickle.dumps(a), ['--max-array', bad])
        t.check(r.rc == 2, '--max-array %r is a usage error' % bad, 'exit %r' % r.rc)


def test_output_bound(t, prog):
    """Arrays sharing one data object through the memo cannot print without bound."""
    data = np.random.default_rng(5).standard_normal(8192).tobytes()
    dt = np.dtype('<f8')
    objs = [Crafted(MULTIARRAY._reconstruct, (np.ndarray, (0,), b'b'), (1, (8192,), dt, False, data))
            for _ in range(1000)]
    pk = pickle.dumps(objs, 2)
    t.check(len(pk) < 200000, 'memo-shared data: pickle is small', '%d bytes' % len(pk))
    r = run(prog, pk, timeout=120)
    t.check(r.rc == 1 and b'--max-output' in r.err and r.problem() is None,
            'memo-shared data: default --max-output stops it', 'exit %r %r' % (r.rc, r.err[:200]))
    r = run(prog, pk, ['--max-output', '1000000'], timeout=60)
    t.check(r.rc == 1 and b'--max-output' in r.err and len(r.out) <= 1000000,
            'memo-shared data: --max-output 1000000', 'exit %r, %d bytes' % (r.rc, len(r.out)))
    r = run(prog, pk, ['--max-array', '10'], timeout=60)
    doc = parse(r.out) if r.rc == 0 else None
    t.check(doc is not None and len(doc) == 1000 and len(doc[999]['$ndarray']['data']) == 10,
            'memo-shared data: --max-array 10 prints all')
    first = np.frombuffer(data, '<f8')[:10]
    t.check(doc is not None and all(element_problem(j, w, dt) is None
                                    for j, w in zip(doc[999]['$ndarray']['data'], first)),
            'memo-shared data: values')


# ---------------------------------------------------------------- hostile input

class Crafted:
    """Pickles as func(*args) with BUILD state: numpy's forms with any parts."""
    def __init__(self, func, args, state=None):
        self.rv = (func, args) if state is None else (func, args, state)

    def __reduce__(self):
        return self.rv


def crafted_dtype(text, endian='<', fields=None):
    return Crafted(np.dtype, (text, False, True), (3, endian, None, fields, None, -1, -1, 0))


def hostile_cases():
    f8 = np.dtype('<f8')
    rec = lambda shape, dt, data, fortran=False: Crafted(
        MULTIARRAY._reconstruct, (np.ndarray, (0,), b'b'), (1, shape, dt, fortran, data))
    fb = lambda buf, dt, shape, order='C': Crafted(np.core.numeric._frombuffer, (buf, dt, shape, order))
    eight = b'\0' * 8
    return [
        ('shape larger than data', rec((1000000,), f8, eight)),
        ('shape larger than data (2-d)', rec((2 ** 31, 2 ** 31), f8, eight)),
        ('shape product overflows', rec((2 ** 40, 2 ** 40), f8, eight)),
        ('shape product overflows x itemsize', rec((2 ** 62,), f8, eight)),
        ('shape x itemsize overflows, empty', rec((2 ** 61, 0), f8, b'')),
        ('bigint dim', rec((2 ** 70,), f8, eight)),
        ('negative dim', rec((-1,), f8, eight)),
        ('float dim', rec((1.0,), f8, eight)),
        ('shape a list', rec([1], f8, eight)),
        ('too many dims', rec((1,) * 40, f8, eight)),
        ('data short', rec((2,), f8, b'\0' * 15)),
        ('data long', rec((2,), f8, b'\0' * 17)),
        ('data a list', rec((1,), f8, [1.0])),
        ('data an int', rec((1,), f8, 5)),
        ('data None', rec((0,), f8, None)),
        ('dtype garbage text', rec((1,), crafted_dtype('zz9'), eight)),
        ('dtype empty text', rec((1,), crafted_dtype(''), eight)),
        ('dtype huge itemsize', rec((1,), crafted_dtype('f999999999999'), eight)),
        ('dtype odd size', rec((1,), crafted_dtype('f3'), b'\0' * 3)),
        ('dtype bad endian', rec((1,), crafted_dtype('f8', 'x'), eight)),
        ('dtype endian long', rec((1,), crafted_dtype('f8', '<<'), eight)),
        ('dtype | for f8', rec((1,), crafted_dtype('f8', '|'), eight)),
        ('dtype fields', rec((1,), crafted_dtype('V8', '|', ('a',)), eight)),
        ('dtype a str', rec((1,), '<f8', eight)),
        ('dtype an int', rec((1,), 8, eight)),
        ('dtype state not a tuple', rec((1,), Crafted(np.dtype, ('f8', False, True), 'x'), eight)),
        ('fortran a str', rec((1,), f8, eight, 'yes')),
        ('state short', Crafted(MULTIARRAY._reconstruct, (np.ndarray, (0,), b'b'), (1, (1,)))),
        ('state None-ish', Crafted(MULTIARRAY._reconstruct, (np.ndarray, (0,), b'b'), (None,))),
        ('no state', Crafted(MULTIARRAY._reconstruct, (np.ndarray, (0,), b'b'))),
        ('class not a global', Crafted(MULTIARRAY._reconstruct, (5, (0,), b'b'), (1, (1,), f8, False, eight))),
        ('frombuffer short', fb(bytearray(8), f8, (100,))),
        ('frombuffer overflow', fb(bytearray(8), f8, (2 ** 40, 2 ** 40))),
        ('frombuffer order X', fb(bytearray(8), f8, (1,), 'X')),
        ('frombuffer data str', fb('abcdefgh', f8, (1,))),
        ('frombuffer 3 args', Crafted(np.core.numeric._frombuffer, (bytearray(8), f8, (1,)))),
        ('frombuffer garbage dtype', fb(bytearray(8), crafted_dtype('?8'), (1,))),
        ('frombuffer oob huge', fb(pickle.PickleBuffer(bytearray(8)), f8, (2 ** 40,))),
        ('frombuffer oob overflow', fb(pickle.PickleBuffer(bytearray(8)), f8, (2 ** 40, 2 ** 40))),
        ('scalar short', Crafted(MULTIARRAY.scalar, (f8, b'\0' * 7))),
        ('scalar long', Crafted(MULTIARRAY.scalar, (f8, b'\0' * 9))),
        ('scalar garbage dtype', Crafted(MULTIARRAY.scalar, (crafted_dtype('q'), eight))),
        ('scalar data a list', Crafted(MULTIARRAY.scalar, (f8, [1]))),
        ('scalar with state', Crafted(MULTIARRAY.scalar, (f8, eight), {'x': 1})),
        ('dtype alone garbage', crafted_dtype('!!')),
        ('dtype alone 2 args', Crafted(np.dtype, ('f8', False))),
    ]


def test_hostile(t, prog):
    for label, obj in hostile_cases():
        for proto in (2, 5):
            buffers = []
            kw = {'buffer_callback': buffers.append} if proto == 5 else {}
            try:
                data = pickle.dumps(obj, protocol=proto, **kw)
            except Exception as exc:   # noqa: BLE001  (PickleBuffer below 5)
                t.check(proto < 5 and isinstance(exc, pickle.PicklingError), 'hostile %s p%d: pickled' % (label, proto),
                        repr(exc))
                continue
            name = 'hostile %s p%d' % (label, proto)
            r = run(prog, data, timeout=60)
            if not t.check(r.problem() is None, name, r.problem()):
                continue
            if r.rc == 1:
                t.check(True, name + ': refused')
                continue
            doc = parse(r.out)
            if not t.check(doc is not None and layout_ok(r.out, doc), name + ': one JSON document'):
                continue
            tag = next(iter(doc), None) if isinstance(doc, dict) else None
            body = doc.get(tag) if tag else None
            if tag == '$ndarray' and 'error' in body:
                ok = list(body) == ['error', 'call'] and body['error'] and list(body['call']) == ['$call']
                t.check(ok, name + ': marked', '%.300r' % (doc,))
            elif tag == '$ndarray':
                # read as an array: out-of-band data (metadata only), or an empty
                # array whose shape numpy itself would refuse (nothing to print)
                data = body.get('data')
                ok = (('oob huge' in label and isinstance(data, dict) and '$buffer' in data) or
                      ('empty' in label and body.get('truncated') is True and data == []))
                t.check(ok, name + ': must not read as an array', '%.300r' % (doc,))
            else:
                t.check(tag == '$call', name + ': shown as its call', '%.300r' % (doc,))


def self_test(t):
    """The checkers must notice wrong documents."""
    a = np.array([[0.1, 2.0]], '<f4')
    good = {'$ndarray': {'dtype': '<f4', 'shape': [1, 2], 'order': 'C',
                         'data': [[FloatText('0.1'), FloatText('2.0')]]}}
    t.check(ndarray_problem(good, a) is None, 'self-test: good document accepted')
    bad_docs = [
        {'$ndarray': dict(good['$ndarray'], dtype='<f8')},
        {'$ndarray': dict(good['$ndarray'], shape=[2])},
        {'$ndarray': dict(good['$ndarray'], order='F')},
        {'$ndarray': dict(good['$ndarray'], data=[[FloatText('0.10000001'), FloatText('2.0')]])},
        {'$ndarray': dict(good['$ndarray'], data=[[FloatText('0.10000000149011612'), FloatText('2.0')]])},
        {'$ndarray': dict(good['$ndarray'], data=[[FloatText('0.1'), 2]])},
        {'$ndarray': dict(good['$ndarray'], data=[FloatText('0.1'), FloatText('2.0')])},
    ]
    for i, doc in enumerate(bad_docs):
        t.check(ndarray_problem(doc, a) is not None, 'self-test: bad document %d refused' % i)
    t.check(element_problem(2 ** 63, np.int64(2 ** 63 - 1), np.dtype('i8')) is not None, 'self-test: int exact')
    t.check(element_problem(1, np.bool_(True), np.dtype('?')) is not None, 'self-test: bool is not 1')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--mpickle', default=DEFAULT_MPICKLE)
    ap.add_argument('--quick', action='store_true', help='fewer shapes and protocols (sanitizer builds)')
    ap.add_argument('-v', '--verbose', action='store_true')
    args = ap.parse_args()
    prog = os.path.abspath(args.mpickle)
    t = Tally(args.verbose)
    self_test(t)
    for test in (test_matrix,):
        test(t, prog, args.quick)
    for test in (test_scalars_and_dtypes, test_sharing, test_unsupported, test_max_array,
                 test_output_bound, test_hostile):
        test(t, prog)
    print('%s: %d passed, %d failed' % (NAME, t.passed, t.failed))
    return 1 if t.failed or not t.passed else 0


if __name__ == '__main__':
    sys.exit(main())
