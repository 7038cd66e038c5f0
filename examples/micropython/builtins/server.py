# Every builtin type, server side (CPython): loads the device's six pickles,
# checks them against the same objects made here, and sends six back.
import pickle
import sys

folder = sys.argv[1]


def sample():
    shared = [1, 2]
    return {
        'none': None, 'bools': (True, False), 'small': 7, 'big': 2**100, 'neg': -2**70,
        'float': 21.5, 'complex': 1 + 2j, 'str': 'caf\xe9 \u20ac', 'bytes': b'\x00\xff',
        'bytearray': bytearray(b'ba'), 'tuple': (1, (2, 3)), 'list': [1, [2, [3]]],
        'dict': {'nested': {'k': 'v'}}, 'set': {4, 5}, 'frozenset': frozenset(['f']),
        'range': range(0, 10, 2), 'shared': (shared, shared),
    }


for proto in range(6):
    with open(folder + '/to_server_%d.pkl' % proto, 'rb') as f:
        data = f.read()
    d = pickle.loads(data)
    # the device's dict is in its own order (MicroPython dicts keep no insertion
    # order); for the object it sent, CPython writes the very same bytes
    print('server got protocol', proto, d == sample(), d['shared'][0] is d['shared'][1],
          'CPython writes the same bytes for it:', pickle.dumps(d, proto) == data)
with open(folder + '/to_device.pkl', 'wb') as f:
    for proto in range(6):
        # one pickle after another; the device reads them one load() each
        pickle.dump(sample(), f, proto)
