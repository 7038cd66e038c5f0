#!/usr/bin/env python3
"""Writes the fuzzing seed corpus: pickles CPython writes (protocols 0-5) for
every kind of data the format carries, a few hand-made edge cases, and the
Python 2 era vectors of CPython's own test suite; numpy arrays too when an
interpreter with numpy is at hand (/usr/bin/python3 on Debian).

    python3 fuzz/gen_corpus.py OUTDIR

Nothing written here is ever unpickled: the pickles are only produced.
File names are content hashes, so re-running adds nothing twice."""

import collections
import copyreg
import datetime
import decimal
import fractions
import hashlib
import io
import os
import pickle
import subprocess
import sys
import uuid


class Plain:
    def __init__(self):
        self.a = 1
        self.b = [1, 2]


class Slots:
    __slots__ = ('x', 'y')

    def __init__(self):
        self.x = 1
        self.y = 'two'


class WithNewArgsEx:
    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs

    def __getnewargs_ex__(self):
        return self.args, self.kwargs


class ListSub(list):
    pass


class DictSub(dict):
    pass


class Reduced:
    def __reduce__(self):
        return (Reduced, (), {'state': 1}, iter([1, 2]), iter([('k', 'v')]))

    def __setstate__(self, state):
        pass


def values():
    """The objects to pickle: atoms, containers, sharing, recursion, classes."""
    shared = [1, 2]
    rec_list = []
    rec_list.append(rec_list)
    rec_dict = {}
    rec_dict['self'] = rec_dict
    rec_tuple_holder = []
    rec_tuple = (rec_tuple_holder,)
    rec_tuple_holder.append(rec_tuple)
    atoms = [None, True, False, 0, 1, -1, 255, 256, 65535, 65536, 2**31 - 1, -2**31, 2**31,
             2**63, -2**63 - 1, 2**64, 10**100, -(10**300), 2**2000, 0.0, -0.0, 1.5, 1e300,
             float('inf'), float('-inf'), float('nan'), 'a', '', 'caf\xe9', '\u20ac\U0001f600',
             '\ud800x', 'x' * 300, b'', b'\x00\xff', b'y' * 300, bytearray(b'ba'), bytearray()]
    out = list(atoms)
    out += [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), [], [1], list(range(1005)),
            {}, {'a': 1}, {i: str(i) for i in range(1003)}, set(), {1, 2}, frozenset(),
            frozenset({'a'}), [shared, shared], (shared, shared), {'x': shared, 'y': [shared]},
            rec_list, rec_dict, rec_tuple, [[[[[[[[[[1]]]]]]]]]], {'n': {'n': {'n': {}}}},
            complex(1, 2), range(3, 10, 2), slice(1, 2), collections.OrderedDict(a=1),
            collections.deque([1, 2]), collections.defaultdict(list), collections.Counter('abca'),
            datetime.date(2024, 1, 2), datetime.datetime(2024, 1, 2, 3, 4, 5),
            datetime.timedelta(days=1), decimal.Decimal('1.5'), fractions.Fraction(1, 3),
            uuid.UUID(int=5), Plain(), Slots(), WithNewArgsEx(1, k=2), ListSub([1]),
            DictSub(a=1), Reduced(), len, pickle.Pickler, [Plain, Plain],
            {'mixed': [1, 'two', 3.0, b'four', (5,), {6}, None, True]}]
    return out


class PidPickler(pickle.Pickler):
    """Writes strs that start with 'pid:' as persistent ids."""
    def __init__(self, f, proto):
        super().__init__(f, proto)
        self.text_ids = proto == 0

    def persistent_id(self, obj):
        if isinstance(obj, str) and obj.startswith('pid:'):
            return obj[4:] if self.text_ids else (obj[4:], 7)
        return None


def with_persistent_ids(proto):
    f = io.BytesIO()
    PidPickler(f, proto).dump(['pid:abc', 'plain', {'k': 'pid:def'}])
    return f.getvalue()


def with_extension_codes(proto):
    copyreg.add_extension(__name__, 'Plain', 200)
    copyreg.add_extension(__name__, 'Slots', 40000)
    copyreg.add_extension(__name__, 'ListSub', 70000)
    try:
        return pickle.dumps([Plain, Slots, ListSub], proto)
    finally:
        copyreg.remove_extension(__name__, 'Plain', 200)
        copyreg.remove_extension(__name__, 'Slots', 40000)
        copyreg.remove_extension(__name__, 'ListSub', 70000)


def out_of_band():
    bufs = []
    data = pickle.dumps([pickle.PickleBuffer(b'abc'), pickle.PickleBuffer(bytearray(b'xy'))], 5,
                        buffer_callback=bufs.append)
    return data


def hand_made():
    """Valid or invalid edge cases CPython never writes."""
    return [b'', b'.', b'N.', b'\x80\x05N.', b'\x80\x06N.', b'(N.', b'NN.', b'0.', b'(\x85.',
            b'I01\n.', b'I00\n.', b'L123L\n.', b'F1e5\n.', b'S\'a\\x41\\101\'\n.', b'Vx\\u20ac\n.',
            b'\x8a\x00.', b'\x8b\x00\x00\x00\x00.', b'\x95\x03\x00\x00\x00\x00\x00\x00\x00N.',
            b'N\x94h\x00\x86.', b'N\x94]\x94(h\x00h\x01e.', b'\x82\x01.', b'\x83\x01\x00.',
            b'\x84\x01\x00\x00\x00.', b'\x97.', b'\x98\x97.', b'\x8c\x02os\x8c\x06system\x93.',
            b'cos\nsystem\n(S\'id\'\ntR.', b'(S\'id\'\nios\nsystem\n.', b'P1\n.', b'N\x94Q.',
            b'(lp0\nI1\naI2\na.', b'(dp0\nS\'k\'\np1\nI1\ns.', b'}q\x00(K\x01K\x02u.']


def seeds():
    import test.pickletester as pt
    for value in values():
        for proto in range(6):
            try:
                yield pickle.dumps(value, proto)
            except Exception:
                pass    # e.g. a local class CPython cannot pickle at this protocol
    for proto in range(6):
        yield with_persistent_ids(proto)
        yield with_extension_codes(proto)
    yield out_of_band()
    for name in ('DATA0', 'DATA1', 'DATA2', 'DATA3', 'DATA4', 'DATA_SET', 'DATA_SET2',
                 'DATA_XRANGE', 'DATA_COOKIE', 'DATA_UEERR'):
        yield getattr(pt, name)
    yield from hand_made()


NUMPY_SCRIPT = r'''
import pickle, sys, numpy as np
out = []
for a in (np.arange(6, dtype=np.int32).reshape(2, 3), np.array([1.5, 2.5]), np.zeros(0),
          np.array(['a', 'bc']), np.array([1, 2], dtype='>i2'), np.float64(1.5), np.dtype('f4'),
          np.array([(1, 2.0)], dtype=[('a', 'i4'), ('b', 'f8')]), np.array([1, 'x'], dtype=object)):
    for p in range(6):
        out.append(pickle.dumps(a, p))
sys.stdout.buffer.write(pickle.dumps(out, 4))
'''


def numpy_seeds():
    """Pickles of numpy values, made by an interpreter that has numpy (the list
    that carries them is plain bytes, safe to load here)."""
    for exe in ('/usr/bin/python3', sys.executable):
        try:
            p = subprocess.run([exe, '-c', NUMPY_SCRIPT], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if p.returncode == 0:
            return list(pickle.loads(p.stdout))
    return []


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    count = 0
    for data in list(seeds()) + numpy_seeds():
        name = hashlib.sha1(data).hexdigest()[:16]
        path = os.path.join(outdir, name)
        if not os.path.exists(path):
            with open(path, 'wb') as f:
                f.write(data)
            count += 1
    print('gen_corpus: %d new seeds in %s' % (count, outdir))


if __name__ == '__main__':
    main()
