#!/usr/bin/env python3
"""numpy arrays through the C helper (include/mpickle_ndarray.h), numpy as the oracle.

Run with a python that has numpy (Debian's /usr/bin/python3): without numpy it
prints a loud SKIPPED line and exits 0. It compiles tests/interop/ndarray_driver.c
with the core sources (or uses --driver PATH) and checks:

  read   every array numpy pickles in the matrix (dtypes bool, int8-64, uint8-64,
         float16/32/64, complex64/128 in both byte orders; 0-d, empty, 1-4 dims,
         C, Fortran and non-contiguous; protocols 0-5, protocol 5 in-band, read-only
         and out-of-band) is described by the driver exactly as numpy sees it:
         dtype, shape, order, stored bytes, row-major native bytes and values;
         also the numpy 2.x spelling (numpy._core...) made by renaming the
         reconstructors, and lists of arrays (numpy reuses dtypes through the memo);
  write  every contiguous array written by the helper is byte-identical to
         numpy's own pickle.dumps for the same array and protocol (also dicts of
         several arrays, and the numpy 2.x names) and pickle.loads gives an equal array;
  errors object, structured, string and datetime dtypes, and non-arrays, get the
         helper's error codes.

usage: test_numpy.py [--driver PATH] [--cc CC] [--cflags FLAGS] [--quick] [-v]
Prints "numpy: N passed, M failed" and exits 1 if anything failed.
"""
import argparse
import os
import pickle
import shlex
import subprocess
import sys
import tempfile
import types

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

try:
    import numpy as np
except ImportError:
    print("numpy: SKIPPED !!! numpy is not importable by %s (install python3-numpy and run "
          "this with /usr/bin/python3) !!!" % sys.executable)
    sys.exit(0)

ND_ERR_NOT_ARRAY, ND_ERR_DTYPE = 1, 2
ND_OUT_OF_BAND, ND_NUMPY2 = 1, 2


class Results:
    def __init__(self, verbose):
        self.passed = 0
        self.failed = 0
        self.verbose = verbose

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            if self.failed <= 40 or self.verbose:
                print("FAIL:", what)
        return ok


# ---------------------------------------------------------------- the matrix

def dtypes():
    """Every supported dtype, little- and big-endian where that means something."""
    out = [np.dtype("?"), np.dtype("i1"), np.dtype("u1")]
    for code in ("i2", "i4", "i8", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16"):
        out.append(np.dtype("<" + code))
        out.append(np.dtype(">" + code))
    return out


def values(dt, n, rng):
    """n values of dtype dt: random, with the edge cases of the kind mixed in."""
    kind = dt.kind
    if kind == "b":
        return rng.integers(0, 2, n).astype(dt)
    if kind in "iu":
        info = np.iinfo(dt)
        v = rng.integers(info.min, info.max, n, dtype=dt.newbyteorder("=") if dt.itemsize > 1 else dt,
                         endpoint=True)
        specials = [info.min, info.max, 0, 1]
        for i, s in enumerate(specials[:n]):
            v[(i * 7) % n] = s
        return v.astype(dt)
    real = rng.standard_normal(n) * 1000
    specials = [np.nan, np.inf, -np.inf, -0.0, 5e-324 if dt.itemsize >= 8 else 1e-40, 0.1]
    for i, s in enumerate(specials[:n]):
        real[(i * 5) % n] = s
    if kind == "c":
        imag = rng.standard_normal(n)
        if n > 1:
            imag[1] = np.nan
        return (real + 1j * imag).astype(dt)
    with np.errstate(over="ignore", under="ignore"):
        return real.astype(dt)


SHAPES = [(), (0,), (3, 0), (0, 2, 2), (1,), (5,), (1, 4), (4, 1), (2, 3), (3, 2, 4), (2, 1, 3, 2), (2, 3, 2, 2)]


def arrays_for(dt, rng, quick):
    """(label, array) pairs: every shape in C order, Fortran copies, and
    non-contiguous views (slices with steps, reversed axes, transposes)."""
    out = []
    for shape in SHAPES:
        n = int(np.prod(shape)) if shape else 1
        a = values(dt, max(n, 1), rng)[:n].reshape(shape)
        out.append(("C%s" % (shape,), a))
        if len(shape) >= 2 and n:
            out.append(("F%s" % (shape,), np.asfortranarray(a)))
    if quick:
        return out
    big = values(dt, 40, rng).reshape(5, 8)
    out.append(("slice[::2]", big[::2]))
    out.append(("slice[:,::3]", big[:, ::3]))
    out.append(("reversed", big[::-1, ::-1]))
    out.append(("transpose", big.T))
    out.append(("transpose-slice", big.T[1::2]))
    out.append(("column", big[:, 2]))
    # one element whose byte is 'b' or '|': numpy reuses CPython's one-byte objects
    if dt.itemsize == 1:
        for byte in (0x62, 0x7C, 0x3C, 0x00, 0x01):
            out.append(("byte%02x" % byte, np.frombuffer(bytes([byte]), dtype=dt).copy()))
    # more than a 64 KiB frame of data
    out.append(("large", values(dt, 70000 // dt.itemsize + 3, rng)))
    return out


def variants():
    """(label, protocol, mode): mode '' in-band, 'ro' read-only, 'oob' out-of-band."""
    out = [("p%d" % p, p, "") for p in range(6)]
    out += [("p5-readonly", 5, "ro"), ("p5-oob", 5, "oob"), ("p5-oob-readonly", 5, "oob-ro")]
    return out


def numpy_dumps(obj, proto, mode, numpy2=False):
    """numpy's own pickle, and the out-of-band buffers (as bytes)."""
    bufs = []
    kw = {}
    if "oob" in mode:
        kw["buffer_callback"] = bufs.append
    if numpy2:
        data = dumps_numpy2(obj, proto, **kw)
    else:
        data = pickle.dumps(obj, protocol=proto, **kw)
    return data, [bytes(b.raw()) for b in bufs]


# ---------------------------------------------------------------- numpy 2.x names

_NP2 = {}


def _np2_standin(module, name, real):
    """A function pickled by reference as module.name (numpy 2.x's spelling)."""
    key = (module, name)
    if key not in _NP2:
        mod = sys.modules.get(module)
        if mod is None:
            mod = types.ModuleType(module)
            sys.modules[module] = mod

        def standin(*args):
            return real(*args)
        standin.__module__ = module
        standin.__qualname__ = standin.__name__ = name
        setattr(mod, name, standin)
        _NP2[key] = standin
    return _NP2[key]


def _np2_override(protocol):
    from numpy.core import multiarray, numeric

    def override(obj):
        if type(obj) is not np.ndarray:
            return NotImplemented
        rv = obj.__reduce_ex__(protocol)
        if rv[0] is multiarray._reconstruct:
            return (_np2_standin("numpy._core.multiarray", "_reconstruct", rv[0]),) + tuple(rv[1:])
        if rv[0] is numeric._frombuffer:
            return (_np2_standin("numpy._core.numeric", "_frombuffer", rv[0]),) + tuple(rv[1:])
        return NotImplemented
    return override


def dumps_numpy2(obj, proto, **kw):
    import io
    override = _np2_override(proto)

    class P(pickle.Pickler):
        def reducer_override(self, obj):
            return override(obj)
    f = io.BytesIO()
    P(f, protocol=proto, **kw).dump(obj)
    return f.getvalue()


# ---------------------------------------------------------------- the driver

class Driver:
    def __init__(self, path, tmp):
        self.path = path
        self.tmp = tmp
        self.count = 0

    def _file(self, data, suffix):
        self.count += 1
        name = os.path.join(self.tmp, "f%d%s" % (self.count, suffix))
        with open(name, "wb") as f:
            f.write(data)
        return name

    def read(self, data, bufs=()):
        """The driver's records: a list of dicts (or {'error': code})."""
        files = [self._file(data, ".pkl")] + [self._file(b, ".buf") for b in bufs]
        r = subprocess.run([self.path, "read"] + files, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for f in files:
            os.unlink(f)
        if r.returncode != 0:
            return None, r.stdout.decode() + r.stderr.decode()
        recs, cur = [], None
        for line in r.stdout.decode().splitlines():
            word, _, rest = line.partition(" ")
            if word == "array":
                cur = {}
            elif word == "end":
                recs.append(cur)
                cur = None
            elif word == "error":
                recs.append({"error": int(rest.split()[0]), "text": rest})
            elif cur is not None:
                cur[word] = rest
        return recs, r.stderr.decode()

    def write(self, arrays, proto, flags, container="none"):
        """Pickle bytes the helper writes for [(key, array, readonly)], or (None, err)."""
        lines = ["proto %d" % proto, "flags %d" % flags, "container %s" % container]
        raws = []
        for key, a, readonly in arrays:
            order = "F" if (a.flags.f_contiguous and not a.flags.c_contiguous) else "C"
            raw = self._file(a.tobytes(order=order), ".raw")
            raws.append(raw)
            shape = ",".join(str(d) for d in a.shape) if a.ndim else "-"
            lines.append("array %s %s %s %s %d %s" % (a.dtype.str, order, shape, raw, int(readonly), key))
        spec = self._file(("\n".join(lines) + "\n").encode(), ".spec")
        out = os.path.join(self.tmp, "out.pkl")
        r = subprocess.run([self.path, "write", spec, out], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for f in raws + [spec]:
            os.unlink(f)
        if r.returncode != 0:
            return None, r.stderr.decode()
        with open(out, "rb") as f:
            data = f.read()
        os.unlink(out)
        return data, ""


def build_driver(args, tmp):
    if args.driver:
        return args.driver
    out = os.path.join(tmp, "ndarray_driver")
    srcs = sorted(os.path.join(ROOT, "src", f) for f in os.listdir(os.path.join(ROOT, "src")) if f.endswith(".c"))
    cmd = ([args.cc] + shlex.split(args.cflags) + ["-I" + os.path.join(ROOT, "include"), "-I" + os.path.join(ROOT, "src")]
           + srcs + [os.path.join(ROOT, "tests", "interop", "ndarray_driver.c"), "-lm", "-o", out])
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        print(r.stdout.decode())
        print("numpy: could not build the driver: %s" % " ".join(cmd))
        sys.exit(1)
    return out


# ---------------------------------------------------------------- checks

def expected_order(a):
    return "F" if a.flags.f_contiguous and not a.flags.c_contiguous else "C"


def floats_match(got_text, a):
    """The driver's f64 line against numpy's float64 (complex: real,imag) values."""
    flat = a.ravel(order="C")
    items = got_text.split() if got_text else []
    if len(items) != flat.size:
        return False
    if a.dtype.kind == "c":
        want = [(complex(x).real, complex(x).imag) for x in flat]
        got = [tuple(float(p) for p in s.split(",")) for s in items]
    else:
        want = [(float(x),) for x in flat.astype(np.float64)]
        got = [(float(s),) for s in items]
    for g, w in zip(got, want):
        for gv, wv in zip(g, w):
            if not (gv == wv or (gv != gv and wv != wv)):
                return False
    return True


def describe_ok(rec, a, oob, readonly):
    """A driver record matches array a; returns the list of fields that differ."""
    bad = []
    if rec is None or "error" in rec:
        return ["record %r" % (rec,)]
    order = expected_order(a)
    native = a.astype(a.dtype.newbyteorder("=")).tobytes(order="C")
    want = {
        "dtype": a.dtype.str,
        "shape": " ".join(str(d) for d in a.shape),
        "order": order,
        "oob": str(int(oob)),
        "readonly": str(int(readonly)),
        "data": a.tobytes(order=order).hex(),
        "native": native.hex(),
    }
    for k, v in want.items():
        if rec.get(k, "").strip() != v:
            bad.append("%s: got %r want %r" % (k, rec.get(k, "")[:80], v[:80]))
    if not floats_match(rec.get("f64", "").strip(), a):
        bad.append("f64 values")
    return bad


def arrays_equal(x, y):
    """Same values, shape and dtype up to byte order: numpy's own loads turns
    non-native arrays native before protocol 5 (array_setstate swaps them)."""
    return (type(y) is np.ndarray and x.dtype.newbyteorder("=") == y.dtype.newbyteorder("=") and
            x.shape == y.shape and np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"))


def same_as_numpy(ours, theirs):
    """What pickle.loads made of our pickle equals what it made of numpy's."""
    return (arrays_equal(ours, theirs) and ours.dtype.str == theirs.dtype.str and
            expected_order(ours) == expected_order(theirs) and
            ours.flags.writeable == theirs.flags.writeable)


def test_read(res, drv, cases, numpy2_every):
    """Every (array, protocol variant) pickled by numpy reads back exactly."""
    count = 0
    for label, a in cases:
        for vlabel, proto, mode in variants():
            x = a
            if "ro" in mode:
                x = a.copy(order="K")
                x.flags.writeable = False
            numpy2 = numpy2_every and count % numpy2_every == 0
            count += 1
            data, bufs = numpy_dumps(x, proto, mode, numpy2)
            recs, err = drv.read(data, bufs)
            name = "read %s %s %s%s" % (a.dtype.str, label, vlabel, " numpy2" if numpy2 else "")
            if not res.check(recs is not None and len(recs) == 1, "%s: %s" % (name, err or recs)):
                continue
            frombuffer = proto >= 5 and (x.flags.c_contiguous or x.flags.f_contiguous)
            oob = frombuffer and "oob" in mode
            readonly = frombuffer and "ro" in mode
            bad = describe_ok(recs[0], x, oob, readonly)
            res.check(not bad, "%s: %s" % (name, "; ".join(bad)))


def test_read_lists(res, drv, by_dtype):
    """Lists of arrays: later arrays refer to the first one's dtype by memo."""
    for dt, cases in by_dtype:
        arrays = [a for _, a in cases if a.size < 5000][:12]
        for proto in range(6):
            data, _ = numpy_dumps(arrays, proto, "")
            recs, err = drv.read(data)
            ok = recs is not None and len(recs) == len(arrays)
            if res.check(ok, "read list %s p%d: %s" % (dt.str, proto, err or recs)):
                bad = [b for r, a in zip(recs, arrays) for b in describe_ok(r, a, False, False)]
                res.check(not bad, "read list %s p%d: %s" % (dt.str, proto, "; ".join(bad)))


# Known difference (see docs/ndarray.md): before protocol 3, numpy writes the text
# of one-byte data as a memo reference when the same one-character str was
# written before (the '|' of the dtype); the writer API cannot refer to the
# interned 'latin1' string yet. The output still loads equal.
def known_divergence(a, proto):
    return proto < 3 and a.size == 1 and a.dtype.itemsize == 1 and a.tobytes() in (b"|",)


def test_write(res, drv, cases, numpy2_every):
    """The helper's pickle of each contiguous array equals numpy's."""
    count = 0
    known = 0
    for label, a in cases:
        if not (a.flags.c_contiguous or a.flags.f_contiguous):
            a = np.ascontiguousarray(a)
        for vlabel, proto, mode in variants():
            readonly = "ro" in mode
            x = a
            if readonly:
                x = a.copy(order="K")
                x.flags.writeable = False
            numpy2 = numpy2_every and count % numpy2_every == 0
            count += 1
            flags = (ND_OUT_OF_BAND if "oob" in mode else 0) | (ND_NUMPY2 if numpy2 else 0)
            name = "write %s %s %s%s" % (a.dtype.str, label, vlabel, " numpy2" if numpy2 else "")
            ours, err = drv.write([("", x, readonly)], proto, flags)
            if not res.check(ours is not None, "%s: %s" % (name, err)):
                continue
            want, bufs = numpy_dumps(x, proto, mode, numpy2)
            if known_divergence(x, proto):
                known += 1
            else:
                res.check(ours == want, "%s: bytes differ\n  ours  %s\n  numpy %s" % (name, ours[:200], want[:200]))
            load = loads_numpy2 if numpy2 else (lambda d, b: pickle.loads(d, buffers=b))
            try:
                back = load(ours, bufs)
            except Exception as e:  # noqa: BLE001 - any failure to load is the finding
                res.check(False, "%s: pickle.loads failed: %r" % (name, e))
                continue
            res.check(arrays_equal(x, back) and same_as_numpy(back, load(want, bufs)),
                      "%s: loads gave %r" % (name, back))
    return known


def loads_numpy2(data, bufs):
    """Loads a pickle with numpy 2.x names on numpy 1.x (the names mapped back)."""
    import io

    class U(pickle.Unpickler):
        def find_class(self, module, name):
            if module.startswith("numpy._core"):
                module = "numpy.core" + module[len("numpy._core"):]
            return super().find_class(module, name)
    return U(io.BytesIO(data), buffers=bufs).load()


def test_write_many(res, drv, by_dtype, rng):
    """Several arrays in one pickle: numpy shares native dtypes, one-character
    strings and one-byte bytes through the memo; the helper must too."""
    groups = []
    all_dts = [dt for dt, _ in by_dtype]
    for i, (dt, cases) in enumerate(by_dtype):
        other = all_dts[(i + 5) % len(all_dts)]
        arrays = [a for _, a in cases if a.size < 2000 and (a.flags.c_contiguous or a.flags.f_contiguous)][:6]
        arrays += [values(other, 6, rng).reshape(2, 3), arrays[0]]
        groups.append((dt.str, arrays))
    for name, arrays in groups:
        for proto in range(6):
            for container in ("list", "dict"):
                items = [("k%d" % i, a, False) for i, a in enumerate(arrays)]
                ours, err = drv.write(items, proto, 0, container)
                what = "write %s of %s p%d" % (container, name, proto)
                if not res.check(ours is not None, "%s: %s" % (what, err)):
                    continue
                theirs = [numpy_like_helper(a) for a in arrays]
                obj = theirs if container == "list" else {k: a for (k, _, _), a in zip(items, theirs)}
                want = pickle.dumps(obj, protocol=proto)
                res.check(ours == want, "%s: bytes differ" % what)
                back, back_numpy = pickle.loads(ours), pickle.loads(want)
                if container == "dict":
                    back, back_numpy = list(back.values()), list(back_numpy.values())
                res.check(len(back) == len(arrays) and
                          all(arrays_equal(a, b) and same_as_numpy(b, c) for a, b, c in zip(arrays, back, back_numpy)),
                          "%s: loads differ" % what)


def numpy_like_helper(a):
    """The array as the helper sees it: a distinct object (the last array repeats
    the first; numpy would refer to the whole array by memo, which only an encoder
    tracking identity can do), and a dtype of its own when not native (numpy
    shares those only between arrays that happen to share the dtype object)."""
    a = a.copy(order="K")
    if a.dtype.byteorder == ">":
        a = a.view(np.dtype(a.dtype.str))
    return a


def test_errors(res, drv):
    """Arrays the helper does not handle, and values that are no arrays."""
    cases = [
        ("object", np.array([1, "a", None], dtype=object), ND_ERR_DTYPE),
        ("structured", np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8")]), ND_ERR_DTYPE),
        ("bytes S3", np.array([b"abc", b"de"]), ND_ERR_DTYPE),
        ("str U2", np.array(["ab", "c"]), ND_ERR_DTYPE),
        ("datetime", np.array(["2020-01-01"], dtype="datetime64[D]"), ND_ERR_DTYPE),
        ("subarray", np.zeros(2, dtype=("<i4", (3,))), None),  # numpy expands it: a plain (2, 3) int array
        ("float128", np.zeros(2, dtype=np.longdouble), ND_ERR_DTYPE),
        ("list", [1, 2, 3], ND_ERR_NOT_ARRAY),
        ("scalar", np.float64(1.5), ND_ERR_NOT_ARRAY),
    ]
    for name, obj, code in cases:
        for proto in (2, 4, 5):
            data = pickle.dumps([obj], protocol=proto)
            recs, err = drv.read(data)
            ok = recs is not None and len(recs) == 1
            if code is None:
                ok = ok and not describe_ok(recs[0], np.asarray(obj), False, False)
            else:
                ok = ok and recs[0].get("error") == code
            res.check(ok, "error %s p%d: %s %s" % (name, proto, recs, err))
    # out-of-band data without the buffers: an error, not a crash
    a = np.arange(4, dtype="<i4")
    bufs = []
    data = pickle.dumps(a, protocol=5, buffer_callback=bufs.append)
    recs, err = drv.read(data)
    res.check(recs is None and "buffer" in err, "oob without buffers: %r %r" % (recs, err))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", help="a built ndarray_driver (default: compile one)")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    ap.add_argument("--cflags", default=os.environ.get("NDARRAY_CFLAGS", "-std=c99 -O1 -g -Wall -Wextra"))
    ap.add_argument("--quick", action="store_true", help="fewer arrays per dtype")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    res = Results(args.verbose)
    rng = np.random.default_rng(20240601)
    with tempfile.TemporaryDirectory(prefix="mpk-numpy-") as tmp:
        drv = Driver(build_driver(args, tmp), tmp)
        by_dtype = [(dt, arrays_for(dt, rng, args.quick)) for dt in dtypes()]
        cases = [c for _, cs in by_dtype for c in cs]
        test_read(res, drv, cases, numpy2_every=3)
        test_read_lists(res, drv, by_dtype)
        known = test_write(res, drv, cases, numpy2_every=3)
        test_write_many(res, drv, by_dtype, rng)
        test_errors(res, drv)
    print("numpy %s: %d arrays x %d protocol variants, %d dtypes; %d writes with a known difference "
          "(see docs/ndarray.md)" % (np.__version__, len(cases), len(variants()), len(by_dtype), known))
    print("numpy: %d passed, %d failed" % (res.passed, res.failed))
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
