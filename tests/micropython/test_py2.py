# Python 2 era pickles: str opcodes (STRING, BINSTRING, SHORT_BINSTRING) with
# encoding=, the fix_imports renames (__builtin__, copy_reg, xrange), INST and
# OBJ instances, text ints and longs. (Runs under CPython too.)
try:
    import mpickle as pickle
except ImportError:
    import pickle


class C:
    pass


def show(o):
    if isinstance(o, C):
        return 'C' + repr(sorted(o.__dict__.items()))
    if isinstance(o, dict):
        return repr(sorted(o.items()))
    if isinstance(o, (set, frozenset)):
        return type(o).__name__ + repr(sorted(o))
    if isinstance(o, range):
        return 'range(%d, %d, %d)' % (o.start, o.stop, o.step)
    return repr(o)


cases = [
    b"S'abc'\np0\n.",
    b"S\"it's\"\n.",
    b"S'a\\nb\\x41\\'c'\n.",
    b"U\x03abcq\x00.",
    b"T\x03\x00\x00\x00abc.",
    b"\x80\x02U\x02\xc3\xa9q\x00.",
    b"(dp0\nS'k'\np1\nS'v'\np2\ns.",
    b"c__builtin__\nset\np0\n((lp1\nI1\naI2\natp2\nRp3\n.",
    b"c__builtin__\nxrange\n(I0\nI5\nI1\ntR.",
    b"c__builtin__\nfrozenset\n((lI7\natR.",
    b"ccopy_reg\n_reconstructor\np0\n(c__main__\nC\np1\nc__builtin__\nobject\np2\nNtp3\nRp4\n(dp5\nS'a'\np6\nI1\nsb.",
    b"(i__main__\nC\np0\n(dp1\nS'a'\np2\nI1\nsb.",
    b"\x80\x01(c__main__\nC\nq\x00o}q\x01U\x01aK\x02sb.",
    b"I01\n.",
    b"I00\n.",
    b"I-42\n.",
    b"L123L\n.",
    b"L-1234567890123456789L\n.",
    b"F1.25\n.",
    b"Vcaf\\u00e9 \\U0001f600\n.",
    b"(lp0\nI1\naI2\na.",
    b"(I1\nI2\nt.",
    b"(S'x'\np0\ng0\nl.",
]
for enc in ('ASCII', 'latin1', 'bytes'):
    for i, data in enumerate(cases):
        try:
            print(enc, i, show(pickle.loads(data, encoding=enc)))
        except Exception:
            print(enc, i, 'error')
for data in (b"c__builtin__\nset\n(]tR.", b"c__builtin__\nset\n(]tR."):
    try:
        print(show(pickle.loads(data, fix_imports=False)))
    except Exception:
        print('error without fix_imports')
# fix_imports on dumps: builtins -> __builtin__ before protocol 3
for p in range(4):
    print(p, pickle.dumps(range(2), p), pickle.dumps(range(2), p, fix_imports=False))
