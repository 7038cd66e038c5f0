# Every builtin type, device side. The device sends one pickle per protocol
# (0 to 5) and reads back what the server sent.
#   micropython device.py send DIR | receive DIR
import sys
import mpickle


def sample():
    shared = [1, 2]
    return {
        'none': None, 'bools': (True, False), 'small': 7, 'big': 2**100, 'neg': -2**70,
        'float': 21.5, 'complex': 1 + 2j, 'str': 'caf\xe9 \u20ac', 'bytes': b'\x00\xff',
        'bytearray': bytearray(b'ba'), 'tuple': (1, (2, 3)), 'list': [1, [2, [3]]],
        'dict': {'nested': {'k': 'v'}}, 'set': {4, 5}, 'frozenset': frozenset(['f']),
        'range': range(0, 10, 2), 'shared': (shared, shared),
    }


def describe(d):
    out = []
    for k in sorted(d):
        v = d[k]
        if isinstance(v, (set, frozenset)):
            v = type(v).__name__ + str(sorted(v))
        elif isinstance(v, range):
            v = 'range(%d, %d, %d)' % (v.start, v.stop, v.step)
        out.append('%s=%r' % (k, v))
    return ', '.join(out)


mode, folder = sys.argv[1], sys.argv[2]
if mode == 'send':
    for proto in range(6):
        with open(folder + '/to_server_%d.pkl' % proto, 'wb') as f:
            mpickle.dump(sample(), f, proto)
    print('device sent 6 pickles')
else:
    with open(folder + '/to_device.pkl', 'rb') as f:
        for proto in range(6):
            d = mpickle.load(f)     # reads exactly one pickle
            print('device got protocol', proto, describe(d) == describe(sample()), d['shared'][0] is d['shared'][1])
