# Malformed and hostile input: every byte string gives an object or an
# exception (EOFError when truncated, UnpicklingError when malformed), never a
# crash; the exception hierarchy is CPython's. (MicroPython only: see .exp.)
import mpickle

print(issubclass(mpickle.PicklingError, mpickle.PickleError),
      issubclass(mpickle.UnpicklingError, mpickle.PickleError),
      issubclass(mpickle.PickleError, Exception))


def attempt(label, data, **kw):
    try:
        print(label, 'loaded', repr(mpickle.loads(data, **kw)))
    except Exception as e:
        print(label, type(e).__name__, e)


attempt('empty', b'')
attempt('str', 'N.')
attempt('no stop', b'N')
attempt('proto only', b'\x80')
attempt('proto 6', b'\x80\x06N.')
attempt('bad opcode', b'\xff')
attempt('cut arg', b'\x80\x02K')
attempt('cut payload', b'\x80\x02X\x05\x00\x00\x00ab')
attempt('cut frame', b'\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00N')
attempt('huge length', b'\x80\x02X\xff\xff\xff\xffabc')
attempt('huge bytes8', b'\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x7fabc')
attempt('memo miss', b'\x80\x02h\x05.')
attempt('empty stack', b'.')
attempt('two values', b'NN.')
attempt('underflow', b'\x80\x02a.')
attempt('no mark', b'\x80\x02t.')
attempt('odd dict', b'(K\x01d.')
attempt('stop in mark', b'(N.')
attempt('bad utf8', b'\x80\x02X\x02\x00\x00\x00\xff\xfe.')
attempt('bad int text', b'Ixyz\n.')
attempt('py2 ascii', b'U\x02\xc3\xa9.')
attempt('unhashable key', b'\x80\x02}]K\x01s.')
attempt('unhashable set', b'\x80\x04\x8f(]\x90.')
attempt('append to int', b'\x80\x02K\x01K\x02a.')
attempt('build on int', b'\x80\x02K\x01}X\x01\x00\x00\x00aK\x01sb.')
attempt('reduce non-tuple', b'\x80\x02c__builtin__\nset\nK\x01R.')
attempt('newobj non-type', b'\x80\x02K\x01)\x81.')
attempt('call None', b'\x80\x02N)R.')
attempt('persistent id', b'\x80\x02K\x01Q.')
attempt('ext code', b'\x80\x02\x82\x01.')
attempt('encoding', b'N.', encoding='utf-16')
attempt('errors', b'N.', errors='ignore')
attempt('bytes after stop', b'\x80\x02K\x07.garbage')

# every prefix of valid pickles: EOFError (or UnpicklingError), never a result
import io
objs = [[1, 'a', (2.5, b'x')], {'k': [None, True]}, 'x' * 300, list(range(50)), {1, 2}, -2**62]
counts = {}
for p in range(6):
    for o in objs:
        data = mpickle.dumps(o, p)
        for n in range(len(data)):
            try:
                mpickle.loads(data[:n])
                name = 'loaded'
            except Exception as e:
                name = type(e).__name__
            counts[name] = counts.get(name, 0) + 1
            try:
                mpickle.load(io.BytesIO(data[:n]))
                name = 'loaded'
            except Exception as e:
                name = type(e).__name__
            counts[name + ' (stream)'] = counts.get(name + ' (stream)', 0) + 1
print(sorted(counts.items()))

# random corruption: anything may come out, but an exception is the only failure
seed = 12345


def rand(n):
    global seed
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed % n


cases = 0
for p in range(6):
    for o in objs:
        data = mpickle.dumps(o, p)
        for _ in range(150):
            b = bytearray(data)
            for _ in range(1 + rand(3)):
                b[rand(len(b))] = rand(256)
            try:
                mpickle.loads(bytes(b))
            except Exception:
                pass
            cases += 1
print(cases, 'corrupted pickles, no crash')

# pickling what cannot be pickled
for label, o in (('module', mpickle), ('lambda', lambda: 1), ('generator', (i for i in ())),
                 ('bound method', [].append), ('closure', (lambda x: (lambda: x))(1))):
    try:
        mpickle.dumps(o)
        print(label, 'pickled')
    except mpickle.PicklingError as e:
        print(label, 'PicklingError', e)


class BadReduce:
    def __init__(self, rv):
        self.rv = rv

    def __reduce__(self):
        return self.rv


for rv in (42, (), (1, 2), (list, 5), (list, (), None, None, None, None, 7), (dict, (), None, None, [1])):
    try:
        mpickle.dumps(BadReduce(rv))
        print(rv, 'pickled')
    except mpickle.PicklingError as e:
        print('PicklingError', e)
