#!/usr/bin/env python3
"""The benchmark payloads, made deterministically (fixed seeds), and their pickles.

Every system is measured on the same data: CPython pickles each payload with the
default protocol (4); the C benchmark decodes those bytes into mpickle's value
model and derives the msgpack and JSON forms from that graph, so all peers see
equivalent data.

    payloads.py OUTDIR      writes OUTDIR/<name>.pkl for every payload
"""
import os
import pickle
import random
import sys

PROTOCOL = 4    # CPython 3.11's default protocol, and mpickle's

LETTERS = 'abcdefghijklmnopqrstuvwxyz'


def sensor():
    """One sensor record, as a device would send it."""
    return {
        'device': 'sensor-0042', 'seq': 123456, 'ts': 1700000000,
        'temp': 21.75, 'humidity': 48.25, 'pressure': 1013.2, 'battery': 3.71,
        'rssi': -67, 'ok': True, 'tags': ['indoor', 'lab'],
    }


def ints_1000():
    """Ints of every width a pickle has an opcode for: 1, 2, 4 and 8 bytes."""
    rng = random.Random(1)
    out = []
    for _ in range(1000):
        r = rng.random()
        if r < 0.4:
            out.append(rng.randrange(0, 256))
        elif r < 0.7:
            out.append(rng.randrange(256, 65536))
        elif r < 0.9:
            out.append(rng.randrange(-2**31, 2**31))
        else:
            out.append(rng.randrange(-2**63, 2**63))
    return out


def floats_1000():
    rng = random.Random(2)
    return [rng.uniform(-1000.0, 1000.0) for _ in range(1000)]


def dict_200():
    rng = random.Random(3)
    return {'key_%d' % i: rng.randrange(0, 65536) for i in range(200)}


def nested_100():
    """Records of a small inventory: the keys are shared constants (as in any
    Python program), so CPython memoizes them and writes them once."""
    rng = random.Random(4)
    out = []
    for i in range(100):
        out.append({
            'id': i,
            'name': 'node-%d' % i,
            'pos': [rng.uniform(-100, 100), rng.uniform(-100, 100), rng.uniform(0, 10)],
            'active': rng.random() < 0.5,
            'meta': {'owner': 'team-%d' % (i % 5), 'level': rng.randrange(10)},
        })
    return out


def bytes_64k():
    return random.Random(5).randbytes(65536)


def strings_200():
    """Short ASCII words (2 to 12 letters: none is a cached 1-character str)."""
    rng = random.Random(6)
    return [''.join(rng.choice(LETTERS) for _ in range(rng.randint(2, 12))) for _ in range(200)]


# name -> (maker, description); the order is the table's.
PAYLOADS = [
    ('sensor', sensor, 'one sensor record (dict of 10: str, ints, floats, bool, list)'),
    ('ints_1000', ints_1000, 'list of 1000 ints (1, 2, 4, 8-byte widths)'),
    ('floats_1000', floats_1000, 'list of 1000 floats'),
    ('dict_200', dict_200, "dict of 200 'key_i' -> int"),
    ('nested_100', nested_100, 'list of 100 nested records'),
    ('bytes_64k', bytes_64k, 'bytes, 64 KiB'),
    ('strings_200', strings_200, 'list of 200 short strings'),
]


def objects():
    return [(name, make()) for name, make, _ in PAYLOADS]


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: payloads.py OUTDIR')
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, obj in objects():
        with open(os.path.join(out, name + '.pkl'), 'wb') as f:
            f.write(pickle.dumps(obj, PROTOCOL))
    print('payloads: %d written to %s' % (len(PAYLOADS), out))


if __name__ == '__main__':
    main()
