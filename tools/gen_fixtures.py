#!/usr/bin/env python3
"""Writes the CPython-made fixtures of the C unit tests into DIR (default
build/fixtures); `make test` runs it with the machine's python3, so the fixtures
always come from the CPython that is the oracle:

DIR/pickles.bin          records of <u32 LE length><pickle bytes>: CPython's pickles
                         of a varied object set in protocols 0-5
DIR/writer_expected.txt  lines '<case> <protocol> <hex>': what CPython writes for
                         each case that tests/unit/test_writer.c builds with the
                         writer API.
"""
import collections
import io
import os
import pickle
import struct
import sys


def corpus():
    shared = 'shared string'
    lst = [1, 2]
    rec = [0]
    rec.append(rec)
    d = {}
    d['me'] = d
    objs = [
        None, True, False, 0, 1, -1, 255, 256, 65535, 65536, 2**31 - 1, -2**31, 2**31, -2**31 - 1,
        2**63 - 1, -2**63, 2**64, -2**64, 2**200 + 12345, -(2**300),
        0.0, -0.0, 1.5, 1e16, 1e-5, 0.1, float('inf'), float('-inf'), 5e-324, 1.7976931348623157e308,
        '', 'abc', 'caf\xe9', '\u20ac', '\U0001f600', '\ud800', 'a\\b\nc\rd\x00e\x1a', 'x' * 300,
        b'', b'abc', bytes(range(256)), bytearray(b'xy'), bytearray(),
        [], [1], [1, 'a'], list(range(1000)), list(range(1001)), list(range(2001)),
        (), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), {}, {'a': 1}, {'a': 1, 'b': [1.5, None]},
        {i: str(i) for i in range(1001)}, set(), {1, 2, 3}, set(range(1000)), frozenset(), frozenset({7}),
        [shared, shared, (shared, lst, lst)], rec, d, collections.OrderedDict(a=1, b=2), range(1, 10, 2),
        complex(1, -2), {'temp': 21.5, 'hum': 40, 'ok': True, 'tags': ('a', 'b'), 'raw': b'\x00\x01'},
        [b'a', b'b', bytearray(b'c')], ['y' * 70000, 1], [str(i) * 1000 for i in range(100)],
    ]
    return objs


def pickles():
    out = []
    for obj in corpus():
        for proto in range(6):
            out.append(pickle.dumps(obj, proto))
    return out


# The cases tests/unit/test_writer.c builds; keep the names in step with it.
def writer_cases():
    return {
        'none': None,
        'ints': [0, 1, -1, 255, 256, 65535, 65536, 2**31 - 1, -2**31, 2**31, -2**31 - 1, 2**63 - 1, -2**63],
        'floats': [0.0, -0.0, 1.5, 0.1, 1e16, 1e-5, float('inf'), float('-inf')],
        'strs': ['', 'abc', 'caf\xe9', '\u20ac\U0001f600', 'a\\b\nc'],
        'bytes': [b'', b'abc', b'\x00\xff' * 200],
        'bytearrays': [bytearray(), bytearray(b'xy')],
        'record': {'id': 7, 'temp': 21.5, 'ok': True, 'name': 'sensor', 'vals': (1, 2, 3)},
        'big_list': list(range(2001)),
        'sets': [set(), {1, 2}, frozenset(), frozenset({3})],
        'globals': [collections.OrderedDict, collections.deque, range],
        'tuples': [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)],
    }


def writer_lines():
    lines = []
    for name, obj in writer_cases().items():
        for proto in range(6):
            lines.append('%s %d %s\n' % (name, proto, pickle.dumps(obj, proto).hex()))
    # a Pickler keeps its memo across dump() calls: the second pickle of the same
    # globals (in a new list) refers to the first one's memo
    for proto in range(6):
        f = io.BytesIO()
        p = pickle.Pickler(f, proto)
        p.dump(writer_cases()['globals'])
        start = f.tell()
        p.dump(writer_cases()['globals'])
        lines.append('globals_again %d %s\n' % (proto, f.getvalue()[start:].hex()))
    return ''.join(lines)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else 'build/fixtures'
    os.makedirs(out, exist_ok=True)
    blob = b''.join(struct.pack('<I', len(p)) + p for p in pickles())
    with open(os.path.join(out, 'pickles.bin'), 'wb') as f:
        f.write(blob)
    with open(os.path.join(out, 'writer_expected.txt'), 'w') as f:
        f.write(writer_lines())
    return 0


if __name__ == '__main__':
    sys.exit(main())
