#!/usr/bin/env python3
"""`mpickle dis` against pickletools.dis, the oracle.

Every case is a byte string fed to both. When pickletools.dis accepts it,
mpickle must exit 0 with byte-identical stdout and nothing on stderr. When
pickletools.dis raises (ValueError, or an IndexError on some mark misuse),
mpickle must exit 1, print exactly the lines pickletools printed before raising,
and one stderr line "mpickle: dis: <message> at offset N". Either way it must
not crash (a signal or any other status fails the case).

Cases: a broad set of objects pickled by CPython with protocols 0-5 (both the C
and the Python pickler, plus the shared corpus.py), hand-written protocol 0/1 text opcodes, every prefix of
a few pickles, bad opcodes, memo and mark misuse, hostile lengths, and seeded
random mutations of valid pickles.

usage: test_dis.py --mpickle PATH [-v] [--jobs N] [--mutations N] [--thorough]
(--thorough: the prefixes of twice as many pickles and 5000 mutations.)
"""
import argparse
import collections
import concurrent.futures
import datetime
import decimal
import fractions
import io
import os
import pickle
import pickletools
import random
import re
import struct
import subprocess
import sys
import tempfile
import warnings

# mpickle implements CPython's default limit on int <-> decimal text conversion.
if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(4300)


class Point:
    """A plain class instance (pickled by reference to __main__.Point)."""

    def __init__(self, x, y):
        self.x = x
        self.y = y


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self):
        self.a = 1
        self.b = [2]


class WithState:
    def __init__(self):
        self.items = [1, 2]

    def __getstate__(self):
        return ("state", self.items)

    def __setstate__(self, state):
        self.items = state[1]


class Reduced:
    def __reduce__(self):
        return (Point, (1, 2), {"extra": True})


class NewArgsEx:
    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __getnewargs_ex__(self):
        return ((1, 2), {"k": 3})


# ----------------------------------------------------------------- objects

def unicode_sweep():
    """Strings that together hold every code point (lone surrogates too)."""
    step = 4096
    return [''.join(map(chr, range(s, min(s + step, 0x110000))))
            for s in range(0, 0x110000, step)]


def objects():
    shared = [1, 2]
    rec_list = []
    rec_list.append(rec_list)
    rec_dict = {}
    rec_dict["self"] = rec_dict
    rec_tuple_holder = []
    rec_tuple = (rec_tuple_holder,)
    rec_tuple_holder.append(rec_tuple)
    p = Point(1, "two")
    p_rec = Point(None, None)
    p_rec.x = p_rec
    od = collections.OrderedDict([("b", 1), ("a", 2)])
    out = [
        None, True, False, Ellipsis, NotImplemented,
        0, 1, -1, 127, 128, 255, 256, -255, -256, 65535, 65536, -65536,
        2**31 - 1, -2**31, 2**31, -2**31 - 1, 2**32, 2**63 - 1, -2**63, 2**63,
        2**64, -2**64, 10**20, -10**20, 2**1000, -2**1000, 2**2039, 2**2041,
        -(2**8000), 10**4299, -(10**4299), 2**14300,   # the last: too many digits for repr()
        0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1 / 3, 2.5e-5, 1e-5, 1e-4, 1e16, 1e15, 123456789.125,
        1e22, 1e23, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, float("inf"),
        float("-inf"), float("nan"), 9007199254740993.0, 1e100, 3.141592653589793,
        "", "a", "it's", 'say "hi"', "both ' and \"", "\\", "\\u0041", "back\\slash\\",
        "\n\r\t\x00\x07\x1a\x1f\x7f", "caf\xe9", "\x80\x9f\xa0\xad\xff", "\u0100\u20ac\u2028\u2029",
        "\u200b\u200e\ufeff\ufffd\uffff", "\u4e2d\u6587", "\U0001f600", "\U000e0001\U0010ffff",
        "\ud800", "\udfff", "a\ud83d\ude00b", "\udc80\ud800x", "x" * 255, "x" * 256,
        "\xe9" * 200, "y" * 70000, "\u20ac" * 30000,
        b"", b"abc", bytes(range(256)), b"'", b'"', b"'\"", b"x" * 255, b"x" * 256,
        b"z" * 70000, bytearray(), bytearray(b"ab'c"), bytearray(range(256)),
        (), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), ((),), [], [1], [[]], list(range(1001)),
        list(range(20000)), {}, {"a": 1}, {1: "x", (1, 2): [3]},
        {i: str(i) for i in range(1500)}, set(), {1, 2, 3}, set(range(1500)), frozenset(),
        frozenset({1, "a"}), {frozenset({1}): {2}}, od, collections.OrderedDict(),
        [shared, shared, (shared,)], rec_list, rec_dict, rec_tuple, [rec_tuple, rec_tuple],
        p, [p, p, Point(3, 4)], p_rec, Slotted(), WithState(), Reduced(),
        collections.deque([1, 2]), collections.Counter("hello"),
        complex(1, -2), range(10), slice(1, 2, 3), len, Point, type(None), int, str,
        datetime.datetime(2020, 1, 2, 3, 4, 5, 6), datetime.date(1999, 12, 31),
        datetime.timedelta(days=1, seconds=2), decimal.Decimal("1.50"),
        fractions.Fraction(1, 3), KeyError("boom", 2), [None] * 3 + [True, False],
        {"nested": [{"deep": ({"deeper": [1.5, "x", b"y"]},)}]},
    ]
    return out


def python_pickles():
    """(name, bytes) of everything CPython writes for the objects."""
    seen = set()
    cases = []

    def add(name, data):
        if data not in seen:
            seen.add(data)
            cases.append((name, data))

    for i, obj in enumerate(objects()):
        for proto in range(0, pickle.HIGHEST_PROTOCOL + 1):
            for label, dumps in (("c", pickle.dumps), ("py", pickle._dumps)):
                try:
                    data = dumps(obj, protocol=proto)
                except Exception:
                    continue    # e.g. NewArgsEx below protocol 2, huge ints as text
                add("obj%d/%s/p%d" % (i, label, proto), data)
    for proto in (2, 4, 5):
        add("newargs_ex/p%d" % proto, pickle.dumps(NewArgsEx(), protocol=proto))
    sweep = unicode_sweep()
    for proto in (0, 1, 4):
        add("unicode-sweep/p%d" % proto, pickle.dumps(sweep, protocol=proto))
    # protocol 5 buffers, in band and out of band
    add("pickbuf-inband", pickle.dumps(pickle.PickleBuffer(b"abc"), protocol=5))
    add("pickbuf-inband-rw", pickle.dumps(pickle.PickleBuffer(bytearray(b"abc")), protocol=5))
    bufs = []
    add("pickbuf-oob", pickle.dumps([pickle.PickleBuffer(b"abc"), pickle.PickleBuffer(bytearray(b"d"))],
                                    protocol=5, buffer_callback=bufs.append))
    # the project's shared corpus (tests/interop/corpus.py), when present
    try:
        import corpus
    except ImportError:
        corpus = None
    if corpus is not None:
        for entry in corpus.build_corpus():
            for proto in entry.protocols:
                try:
                    data = pickle.dumps(entry.obj, protocol=proto)
                except Exception:
                    continue
                if len(data) <= 100000:     # the big ones take pickletools seconds each
                    add("corpus:%s/p%d" % (entry.name, proto), data)
    # the stdlib's own reference pickles, when its test package is installed
    try:
        from test import pickletester
        for name in dir(pickletester):
            value = getattr(pickletester, name)
            if name.startswith("DATA") and isinstance(value, bytes):
                add("pickletester." + name, value)
    except ImportError:
        pass
    return cases


# --------------------------------------------------------- hand-made pickles

def handmade():
    """Protocol 0/1 text forms and opcode sequences pickle.dumps never writes,
    valid or not; each is judged by pickletools itself."""
    L = []
    ints = [b"0", b"00", b"01", b"-0", b"+5", b" 12 ", b"\t7\r", b"\x0b3\x0c", b"1_000", b"0_0",
            b"007", b"-00_1", b"1__0", b"_1", b"1_", b"+_1", b"- 1", b"", b" ", b"0x10", b"1L",
            b"\x1c5", b"\xd9\xa1", b"+", b"9" * 4300, b"9" * 4301, b"0" * 4301, b"-" + b"1" * 4300,
            b"1_" * 2150 + b"1", b"1_" * 4300 + b"1", b" " * 5000 + b"1", b"99999999999999999999999"]
    for t in ints:
        L.append(b"I" + t + b"\n.")
        L.append(b"L" + t + b"L\n.")
        L.append(b"L" + t + b"\n.")
        L.append(b"N" + b"p" + t + b"\n" + b"g" + t + b"\n0.")
    L += [b"LL\n.", b"L12L \n.", b"L12 L\n.", b"I1\r\n."]
    floats = [b"1.5", b" 1.5 ", b"1_0.5", b"1__0", b"inf", b"-iNfInItY", b"+nan", b"-nan", b"nan(1)",
              b"1e999", b"-1e999", b"1e-999", b".5", b"5.", b".", b"1e", b"1e+5", b"1_e5", b"1e5_0",
              b"1.5_", b"0x1p3", b"\x0c1.0\x0b", b"\x1c1.0", b"1.0\x00", b"in f", b"infinit",
              b"1._5", b"1_.5", b"_1.5", b"1e_5", b"  ", b"1E5", b"1.0j", b"00012.5000",
              b"0.1", b"1e16", b"1e-5", b"1" * 400, b"0." + b"0" * 400 + b"1", b"2.5e-324",
              b"1e99999999999999999999", b"1e-99999999999999999999", b"-0", b"-0.0",
              b"1.7976931348623157e308", b"1.7976931348623159e308", b"4.9e-324", b"123456789012345678901234567890"]
    for t in floats:
        L.append(b"F" + t + b"\n.")
    strings = [b"'abc'", b'"abc"', b"'it\\'s'", b"\"it's\"", b"'a\\nb\\x41\\101\\1\\18'", b"'\\q'",
               b"'\\400\\777'", b"'\\x4'", b"'\\x4g'", b"'\\'", b"'a\\\\'", b"'\\a\\b\\f\\v\\t\\r\\0'",
               b"'\\200'", b"'\xff'", b"'", b'"', b"''", b"'\"", b"\"'", b"abc", b" 'a'", b"'a' ",
               b"'\\N{DASH}'", b"'\\u0041'", b"'tab\there'", b"'\x7f'"]
    for t in strings:
        L.append(b"S" + t + b"\n.")
        L.append(b"P" + t + b"\n.")
    unis = [b"abc", b"\\u0041", b"\\\\u0041", b"\\\\\\u0041", b"\\u004", b"\\u004g", b"\\U0010ffff",
            b"\\U00110000", b"\\U0001F600", b"\\ud83d\\ude00", b"\\", b"a\\", b"\\x41", b"\xff\x80",
            b"\\N{X}", b"\\uD800", b"'\"", b"\\u0027", b"\x00\x1f", b"\\U0000004", b"\\UFFFFFFFF"]
    for t in unis:
        L.append(b"V" + t + b"\n.")
    L += [b"cbuiltins\nlist\n.", b"c__main__\nPoint\n.", b"cmod\\x41\nn\\101me\n.", b"c\n\n.",
          b"cmo'd\nname\n.", b"cmod\nname'\"\n.", b"cmod\xff\nx\n.", b"cmod\nx\\\n.", b"cmod\n",
          b"(imod\nname\n.", b"(lp0\nI1\naI2\na.", b"(dp0\nS'a'\np1\nI1\ns.",
          b"U\x03a'b.", b"U\x02\xe9\xad.", b"T\x03\x00\x00\x00abc.", b"T\xff\xff\xff\xff.",
          b"T\x00\x00\x00\x80.", b"X\x02\x00\x00\x00\xc3(.", b"X\x03\x00\x00\x00\xed\xa0\x80.",
          b"X\x02\x00\x00\x00\xc0\x80.", b"X\x04\x00\x00\x00\xf4\x90\x80\x80.",
          b"X\x03\x00\x00\x00\xe0\x80\x80.", b"X\x04\x00\x00\x00\xf0\x80\x80\x80.",
          b"X\x02\x00\x00\x00\xed\xa0.", b"\x8c\x01\xff.", b"\x8c\x04\xf0\x9f\x98\x80.",
          b"X\x06\x00\x00\x00\xed\xa0\xbd\xed\xb8\x80.",
          b"\x8a\x00.", b"\x8a\x01\xff.", b"\x8a\x02\xff\x00.", b"\x8a\x02\x00\x80.", b"\x8a\x03\xff\xff\xff.",
          b"\x8a\x03\x00\x00\x00.", b"\x8b\x00\x00\x00\x00.", b"\x8b\xff\xff\xff\xff.",
          b"\x8b\x01\x00\x00\x00\x80.",
          b"J\xff\xff\xff\xff.", b"J\x00\x00\x00\x80.", b"M\xff\xff.", b"K\xff.",
          b"\x82\x01.", b"\x83\xff\xff.", b"\x84\xff\xff\xff\xff.",
          b"\x95\xff\xff\xff\xff\xff\xff\xff\xffN.", b"\x80\xff.", b"\x80\x06N.",
          b"G\x7f\xf8\x00\x00\x00\x00\x00\x01.", b"G\xff\xf0\x00\x00\x00\x00\x00\x00.",
          b"G\x80\x00\x00\x00\x00\x00\x00\x00.", b"G\x00\x00\x00\x00\x00\x00\x00\x01.",
          b"\x96\x00\x00\x00\x00\x00\x00\x00\x00.", b"\x97.", b"\x97\x98.", b"\x98.",
          b"C\x00.", b"B\x00\x00\x00\x00.", b"\x8e\x00\x00\x00\x00\x00\x00\x00\x00.",
          b"\x8d\x00\x00\x00\x00\x00\x00\x00\x00.",
          # lengths that claim far more than the input holds
          b"\x8e" + struct.pack("<Q", 2**60) + b"abc.", b"\x8e" + b"\xff" * 8 + b".",
          b"\x8d" + struct.pack("<Q", 2**63) + b"x.", b"\x96" + struct.pack("<Q", 2**63 - 1) + b".",
          b"B\xff\xff\xff\xff.", b"X\xff\xff\xff\xff.", b"\x8b\xff\xff\xff\x7f.",
          # long integers around the 4300-digit repr() limit
          b"\x8b" + struct.pack("<i", 1786) + (10**4299).to_bytes(1786, "little") + b".",
          b"\x8b" + struct.pack("<i", 1787) + (10**4300).to_bytes(1787, "little") + b".",
          b"\x8b" + struct.pack("<i", 1900) + (10**4299).to_bytes(1900, "little") + b".",
          b"\x8b" + struct.pack("<i", 1900) + (-(10**4299)).to_bytes(1900, "little", signed=True) + b".",
          b"\x8b" + struct.pack("<i", 5000) + b"\x01" * 5000 + b".",
          # marks
          b"(t.", b"(l.", b"(d.", b"(\x91.", b"(1N.", b"N(0.", b"(N0t.", b"((((((N\x85tttttt.",
          b"(2t.", b"N(2t.", b"(N2t.", b"(2\x85t.", b"((2tt.", b"(\x94t.", b"(.", b"N(.",
          b"t.", b"1.", b"N0.", b"(N0.", b"]N(a.", b"](Ne.", b"](Nee.", b"N(o.", b"(No.",
          b"(N(Nu.", b"}(NNu.", b"\x8f(N\x90.", b"(((((((((((N\x85.",
          # memo
          b"Nh\x00.", b"Nq\x00h\x00\x85.", b"Nq\x00q\x00.", b"q\x00N.", b"(q\x00.", b"N\x94\x94.",
          b"N\x94h\x00\x86.", b"\x94N.", b"(\x94.", b"Np1\nq\x01.", b"Nr\x01\x00\x00\x00h\x01\x86.",
          b"Nj\x00\x00\x00\x00.", b"Nq\x01\x94\x94h\x00h\x02.", b"Np0\n\x94.",
          b"Np00\ng0\n\x86.", b"Np01\nh\x01\x86.", b"Np-1\ng-1\n\x86.", b"Np 7 \ng7\n\x86.",
          b"Np" + b"9" * 50 + b"\ng" + b"0" * 5 + b"9" * 50 + b"\n\x86.",
          b"Nr\xff\xff\xff\xffj\xff\xff\xff\xff\x86.", b"Npx\n.", b"Ngx\n.",
          # stack at STOP
          b".", b"NN.", b"N", b"", b"N.junk", b"N.\xff",
          # bad opcodes
          b"\xff", b"N\x00.", b"(\xf0.", b"\x99.", b"#.", b"\x80\x05\x95\x01\x00\x00\x00\x00\x00\x00\x00\xa0.",
          ]
    L.append(b"(" * 300 + b"t" * 300 + b".")
    L.append(b"]" + b"(" * 50 + b"N" * 5 + b"e" * 50 + b".")
    L.append(b"(" * 2000 + b"\x8c\x01a0" * 2000 + b"N.")    # a MARK level 2000 deep
    L.append(b"N" + b"\x94" * 3000 + b".")
    L.append(b"N" + b"p" + b"1" * 4301 + b"\n.")
    return [("hand%d" % i, data) for i, data in enumerate(L)]


def prefixes(thorough):
    """Every proper prefix of a few pickles (each one truncated input)."""
    objs = [[1, "a", b"b", 1.5, None, True, (2, 3), {"k": {4}}, frozenset({5})],
            {"x": [Point(1, 2)] * 2, "u": "\u20ac\U0001f600", "big": 2**100}]
    cases = []
    for i, obj in enumerate(objs):
        for proto in range(6) if thorough else range(i, 6, 2):
            data = pickle.dumps(obj, protocol=proto)
            for n in range(len(data)):
                cases.append(("prefix%d/p%d/%d" % (i, proto, n), data[:n]))
    return cases


def mutations(valid, count, seed=12345):
    """Seeded random edits of valid pickles (flip, insert, delete a byte)."""
    rng = random.Random(seed)
    small = [d for _, d in valid if len(d) < 400]
    cases = []
    for k in range(count):
        data = bytearray(rng.choice(small))
        for _ in range(rng.randint(1, 3)):
            pos = rng.randrange(len(data) + 1)
            what = rng.randrange(3)
            if what == 0 and pos < len(data):
                data[pos] = rng.randrange(256)
            elif what == 1:
                data[pos:pos] = bytes([rng.randrange(256)])
            elif pos < len(data):
                del data[pos]
        cases.append(("mutant%d" % k, bytes(data)))
    return cases


# ------------------------------------------------------------------ judge

def oracle(data):
    """What pickletools.dis prints for data (UTF-8), and whether it accepted it."""
    out = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pickletools.dis(data, out=out)
            ok = True
        except Exception:
            ok = False
    return out.getvalue().encode("utf-8", "surrogatepass"), ok


ERROR_LINE = re.compile(rb"\Ampickle: dis: [^\n]+ at offset \d+\n\Z")


def check(mpickle, name, data):
    """An error description, or None if mpickle agrees with pickletools."""
    want, ok = oracle(data)
    with tempfile.NamedTemporaryFile(suffix=".pkl", delete=False) as f:
        f.write(data)
        path = f.name
    try:
        r = subprocess.run([mpickle, "dis", path], capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        return "timed out"
    finally:
        os.unlink(path)
    if ok:
        if r.returncode != 0:
            return "exit %d on a pickle pickletools accepts; stderr %r" % (r.returncode, r.stderr[:300])
        if r.stderr:
            return "stderr not empty: %r" % r.stderr[:300]
    else:
        if r.returncode != 1:
            return "exit %d (want 1) on a pickle pickletools rejects; stderr %r" % (r.returncode, r.stderr[:300])
        if not ERROR_LINE.match(r.stderr):
            return "bad error line %r" % r.stderr[:300]
    if r.stdout != want:
        return "stdout differs:\n%s" % first_difference(want, r.stdout)
    return None


def first_difference(want, got):
    a = want.split(b"\n")
    b = got.split(b"\n")
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else b"<missing>"
        y = b[i] if i < len(b) else b"<missing>"
        if x != y:
            return "  line %d\n  want %r\n  got  %r" % (i + 1, x[:200], y[:200])
    return "  (identical lines?)"


def cli_cases(mpickle):
    """Usage handling: (description, argv, wanted exit status)."""
    return [
        ("--help", [mpickle, "dis", "--help"], 0),
        ("unknown option", [mpickle, "dis", "--bogus"], 2),
        ("two files", [mpickle, "dis", "a.pkl", "b.pkl"], 2),
        ("missing file", [mpickle, "dis", "/nonexistent/x.pkl"], 1),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mpickle", required=True)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--mutations", type=int, default=None)
    ap.add_argument("--thorough", action="store_true")
    args = ap.parse_args()
    if args.mutations is None:
        args.mutations = 5000 if args.thorough else 800
    mpickle = os.path.abspath(args.mpickle)

    valid = python_pickles()
    cases = valid + handmade() + prefixes(args.thorough) + mutations(valid, args.mutations)
    passed = failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [(name, pool.submit(check, mpickle, name, data)) for name, data in cases]
        for name, fut in futures:
            err = fut.result()
            if err is None:
                passed += 1
                if args.verbose:
                    print("ok   %s" % name)
            else:
                failed += 1
                print("FAIL %s: %s" % (name, err))

    for what, argv, want in cli_cases(mpickle):
        r = subprocess.run(argv, capture_output=True, stdin=subprocess.DEVNULL)
        if r.returncode == want:
            passed += 1
        else:
            failed += 1
            print("FAIL cli %s: exit %d, want %d" % (what, r.returncode, want))
    # standard input is the default FILE
    data = pickle.dumps({"stdin": [1, 2]}, protocol=4)
    r = subprocess.run([mpickle, "dis"], input=data, capture_output=True)
    if r.returncode == 0 and r.stdout == oracle(data)[0]:
        passed += 1
    else:
        failed += 1
        print("FAIL cli stdin: exit %d" % r.returncode)

    print("dis: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
