# mpickle with ulab: ulab arrays dump as numpy arrays and load back (every ulab
# dtype, shapes, views, containers, streams), numpy pickles built by hand load
# with every layout, module spelling and byte order, and bad ones fail clearly.
# (Cross-runtime checks with real numpy: cross_ulab.py, run by run.py.)
try:
    from ulab import numpy as np
except ImportError:
    print('SKIP')
    raise SystemExit
import io
import struct
import mpickle

# the expected output is that of ulab with float64 and complex numbers (the unix
# port); other firmware is covered by cross_ulab.py, which asks the firmware
try:
    np.array([1j], dtype=np.complex)
    HAS_COMPLEX = True
except Exception:
    HAS_COMPLEX = False
if len(bytes(np.array([1.0]))) != 8 or not HAS_COMPLEX:
    print('SKIP')
    raise SystemExit

passed = 0
failed = 0


def check(ok, what, *args):
    # the message is formatted on failure only: ulab's repr of an empty 2-d
    # array prints its shape to stdout
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print('FAIL', what % args if args else what)


def flat1(a):
    while a.ndim > 1:
        a = a[0] if a.shape[0] else a[:, 0]
    return a


def dtype_name(a):
    # ulab gives bool arrays the uint8 code; its repr tells them apart (of a 1-d
    # view: ulab prints an empty 2-d array's shape to stdout, not into repr)
    return repr(flat1(a)).rsplit('dtype=', 1)[1][:-1]


def same(a, b):
    return (type(b) is type(a) and dtype_name(a) == dtype_name(b) and a.shape == b.shape
            and a.tolist() == b.tolist())


# ---------------------------------------------------------------- round trips

VALUES = {
    'uint8': [0, 1, 127, 128, 254, 255], 'int8': [0, -1, 1, -128, 127, 3],
    'uint16': [0, 1, 256, 65535, 4660, 9], 'int16': [0, -1, 256, -32768, 32767, 9],
    'float': [0.0, -0.0, 1.5, -2.25, 1e300, float('inf')], 'bool': [True, False, True, True, False, False],
}
VALUES['complex'] = [1 + 2j, 2.5j, 3, 0, -1e10 - 1j, 0.5]

for name in sorted(VALUES):
    dt = getattr(np, name)
    base = np.array(VALUES[name], dtype=dt)
    shaped = {
        '1d': base, '2d': base.reshape((2, 3)), 'one': base[1:2], 'empty': base[2:2],
        'empty03': np.zeros((0, 3), dtype=dt), 'empty30': np.zeros((3, 0), dtype=dt),
        'T': base.reshape((2, 3)).transpose(), 'step': base[::2], 'rev': base[::-1],
        '2dview': base.reshape((2, 3))[::-1, ::2], 'col': base.reshape((3, 2))[:, 1],
    }
    n = 0
    for label in sorted(shaped):
        a = shaped[label]
        for p in range(6):
            b = mpickle.loads(mpickle.dumps(a, p))
            check(same(a, b), '%s %s protocol %d: %r -> %r', name, label, p, a, b)
            n += 1
    print(name, 'round trips:', n)

# writing a view leaves the array as it was
a = np.array([1, 2, 3, 4], dtype=np.int16)
v = a[::-1]
mpickle.dumps(v, 2)
check(a.tolist() == [1, 2, 3, 4] and v.tolist() == [4, 3, 2, 1], 'view unchanged')

# ---------------------------------------------------------------- containers and streams

a = np.array([[1, 2], [3, 4]], dtype=np.uint8)
f = np.array([0.5, 1.5])
for p in range(6):
    d = mpickle.loads(mpickle.dumps({'w': a, 'b': f, 'n': 3, 'l': [a, f, a]}, p))
    check(same(a, d['w']) and same(f, d['b']) and d['n'] == 3 and same(a, d['l'][2]),
          'dict of arrays protocol %d' % p)
buf = io.BytesIO()
pk = mpickle.Pickler(buf, 4)
pk.dump(a)
pk.dump([f, f])
mpickle.dump(np.array([True]), buf, 5)
buf.seek(0)
up = mpickle.Unpickler(buf)
r1 = up.load()
r2 = up.load()
r3 = mpickle.load(buf)
check(same(a, r1) and same(f, r2[0]) and same(f, r2[1]) and r3.tolist() == [True], 'streams')
print('containers and streams done')

# ---------------------------------------------------------------- hand-made numpy pickles


def text(s):
    b = s.encode()
    return b'X' + struct.pack('<I', len(b)) + b


def dtype_part(typestr, order, state_items=None):
    out = b'cnumpy\ndtype\n' + text(typestr) + b'\x89\x88\x87R'
    items = state_items if state_items is not None else b'K\x03' + text(order) + b'NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00'
    return out + b'(' + items + b'tb'


def shape_part(shape):
    return b'(' + b''.join(b'J' + struct.pack('<i', d) for d in shape) + b't'


def reconstruct(typestr, order, shape, data, fortran=False, module='numpy.core.multiarray',
                subtype=b'cnumpy\nndarray\n', state=None):
    """numpy's protocol 3 form, written out opcode by opcode."""
    head = b'\x80\x03c' + module.encode() + b'\n_reconstruct\n' + subtype + b'K\x00\x85C\x01b\x87R'
    if state is None:
        state = (b'(K\x01' + shape_part(shape) + dtype_part(typestr, order) + (b'\x88' if fortran else b'\x89')
                 + b'B' + struct.pack('<I', len(data)) + data + b't')
    return head + state + b'b.'


def frombuffer(typestr, order, shape, data, layout='C', module='numpy.core.numeric', kind=b'\x96'):
    """numpy's protocol 5 form, in-band data (bytearray)."""
    return (b'\x80\x05c' + module.encode() + b'\n_frombuffer\n(' + kind + struct.pack('<Q', len(data)) + data
            + dtype_part(typestr, order) + shape_part(shape) + text(layout) + b'tR.')


def show(label, data, **kw):
    try:
        a = mpickle.loads(data, **kw)
        print(label, dtype_name(a), a.shape, a.tolist())
    except Exception as e:
        print(label, type(e).__name__, e)


u16 = struct.pack('<3H', 1, 2, 258)
show('u2 little', reconstruct('u2', '<', (3,), u16))
show('u2 big', reconstruct('u2', '>', (3,), u16))
show('u2 native', reconstruct('u2', '=', (3,), u16))
show('i2 big', reconstruct('>i2', '>', (2,), struct.pack('>2h', -2, 300)))
show('u1', reconstruct('u1', '|', (2, 2), b'\x01\x02\x03\xff'))
show('i1', reconstruct('i1', '|', (3,), b'\x80\xff\x7f'))
show('b1', reconstruct('b1', '|', (3,), b'\x01\x00\x02'))
show('fortran', reconstruct('i2', '<', (2, 3), struct.pack('<6h', 1, 4, 2, 5, 3, 6), fortran=True))
show('0-d', reconstruct('f8', '<', (), struct.pack('<d', 2.5)))
show('empty', reconstruct('f8', '<', (0, 4), b''))
show('f2', reconstruct('f2', '<', (3,), struct.pack('<3H', 0x3c00, 0xc000, 0x7c00)))
show('f4', reconstruct('f4', '<', (2,), struct.pack('<2f', 0.5, -3.25)))
show('f4 big', reconstruct('f4', '>', (2,), struct.pack('>2f', 0.5, -3.25)))
show('f8 big', reconstruct('f8', '>', (2,), struct.pack('>2d', 0.1, -3.25)))
show('i4', reconstruct('i4', '<', (3,), struct.pack('<3i', -2147483648, 0, 2147483647)))
show('u4 big', reconstruct('u4', '>', (2,), struct.pack('>2I', 4294967295, 7)))
show('i8', reconstruct('i8', '<', (2,), struct.pack('<2q', -9007199254740992, 9007199254740992)))
show('u8', reconstruct('u8', '<', (2,), struct.pack('<2Q', 9007199254740992, 0)))
show('c8', reconstruct('c8', '<', (1,), struct.pack('<2f', 1.5, -2.0)))
show('c16 big', reconstruct('c16', '>', (1,), struct.pack('>2d', 1.5, -2.0)))
show('numpy 2', reconstruct('f8', '<', (1,), struct.pack('<d', 1.0), module='numpy._core.multiarray'))
show('umath', reconstruct('f8', '<', (1,), struct.pack('<d', 1.0), module='numpy.core._multiarray_umath'))
show('old state', reconstruct('u1', '|', (), b'', state=b'(' + shape_part((2,)) + dtype_part('u1', '|') + b'\x89C\x02\x05\x06t'))
show('frombuffer', frombuffer('i2', '<', (2, 2), struct.pack('<4h', 1, 2, 3, 4)))
show('frombuffer F', frombuffer('i2', '<', (2, 2), struct.pack('<4h', 1, 2, 3, 4), 'F'))
show('frombuffer numpy 2', frombuffer('u1', '|', (2,), b'\x07\x08', module='numpy._core.numeric'))
show('frombuffer bytes', frombuffer('u1', '|', (2,), b'\x07\x08', kind=b'\x8e'))
show('frombuffer out-of-band', b'\x80\x05cnumpy.core.numeric\n_frombuffer\n(\x97' + dtype_part('u2', '<')
     + shape_part((2,)) + text('C') + b'tR.', buffers=[struct.pack('<2H', 9, 10)])
show('trusted', reconstruct('u1', '|', (1,), b'\x05'), trusted=True)

# errors: each names what is wrong, none loads anything else


def scalar(typestr, order, data, module='numpy.core.multiarray'):
    return b'\x80\x03c' + module.encode() + b'\nscalar\n' + dtype_part(typestr, order) + b'C' + bytes([len(data)]) + data + b'\x86R.'


def show_scalar(label, data):
    try:
        v = mpickle.loads(data)
        print(label, type(v).__name__, v)
    except Exception as e:
        print(label, type(e).__name__, e)


print('numpy scalars:')
show_scalar('float64', scalar('f8', '<', struct.pack('<d', 0.25)))
show_scalar('float32 big', scalar('f4', '>', struct.pack('>f', -1.5)))
show_scalar('int64', scalar('i8', '<', struct.pack('<q', -2**62)))
show_scalar('uint64', scalar('u8', '<', b'\xff' * 8))   # 2**64 - 1 (no literal: longlong ports)
show_scalar('int8', scalar('i1', '|', b'\xfe'))
show_scalar('uint16 big', scalar('u2', '>', b'\x01\x02'))
show_scalar('bool', scalar('b1', '|', b'\x01'))
show_scalar('complex128', scalar('c16', '<', struct.pack('<2d', 1.0, -2.0)))
show_scalar('numpy 2', scalar('f8', '<', struct.pack('<d', 3.0), 'numpy._core.multiarray'))
show_scalar('short', scalar('f8', '<', b'\x00' * 4))
show_scalar('object', scalar('O8', '|', b'\x00' * 8))
print('errors:')
show('object dtype', reconstruct('O8', '|', (1,), b'\x00' * 8))
show('str dtype', reconstruct('U3', '<', (1,), b'\x00' * 12))
show('long double', reconstruct('f16', '<', (1,), b'\x00' * 16))
show('structured', reconstruct('V4', '|', (1,), b'\x00' * 4))
show('structured state', reconstruct('u1', '|', (1,), b'', state=b'(K\x01' + shape_part((1,))
     + dtype_part('u1', '|', b'K\x03' + text('|') + b'N(' + text('a') + b'tNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00')
     + b'\x89C\x01\x00t'))
show('3 dims', reconstruct('u1', '|', (2, 2, 2), b'\x00' * 8))
show('short data', reconstruct('u2', '<', (3,), b'\x00' * 5))
show('long data', reconstruct('u1', '|', (2,), b'\x00' * 3))
show('negative shape', reconstruct('u1', '|', (-1,), b''))
show('i8 beyond 2**53', reconstruct('i8', '<', (2,), struct.pack('<2q', 3, 9007199254740993)))
show('u8 max', reconstruct('u8', '>', (1,), b'\xff' * 8))
show('bad byte order', reconstruct('u2', '|', (1,), b'\x00\x00'))
show('bad layout', frombuffer('u1', '|', (1,), b'\x00', 'X'))
show('other subtype', reconstruct('u1', '|', (1,), b'\x00', subtype=b'cnumpy\nmatrix\n'))
show('str subtype', reconstruct('u1', '|', (1,), b'\x00', subtype=b'X\x03\x00\x00\x00abc'))
show('call numpy.ndarray', b'\x80\x03cnumpy\nndarray\n(K\x03tR.')
show('build numpy.ndarray', b'\x80\x03cnumpy\nndarray\n}b.')
# a numpy state fills only an array _reconstruct made, once
u1_state = b'(K\x01' + shape_part((2,)) + dtype_part('u1', '|') + b'\x89C\x02\x05\x06t'
show('build twice', reconstruct('u1', '|', (), b'', state=u1_state + b'b' + u1_state))
mine = np.array([1, 2, 3], dtype=np.uint8)
show('build on an array of the program', b'\x80\x03X\x01\x00\x00\x00pQ' + u1_state + b'b.',
     persistent_load=lambda pid: mine)
print('unchanged:', mine.tolist())
show('dtype of int', b'\x80\x03cnumpy\ndtype\nK\x05\x85R.')
show('not numpy', b'\x80\x03cnumpy.core.multiarray\nflatiter\n.')
print('test_ulab: %d passed, %d failed' % (passed, failed))
