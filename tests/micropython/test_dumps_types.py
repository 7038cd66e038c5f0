# dumps() of builtin types in protocols 0-5: the bytes must be CPython's.
# (Runs under CPython too: its output is the expected output.) Ints beyond 64
# bits are in test_bigints.py.
try:
    import mpickle as pickle
except ImportError:
    import pickle

objs = [None, True, False, 0, 1, -1, 255, 256, 65535, 65536, -65536, 2**31 - 1, -2**31, 2**31,
        2**40, 0x7fffffffffffffff, -0x7fffffffffffffff - 1,
        0.0, -0.0, 1.5, -2.25, float('inf'), float('-inf'),
        '', 'abc', 'caf\xe9 \u20ac \U0001f600', 'a\nb\\c\rd\x00e\x1a', 'x' * 300,
        b'', b'xy', b'\xff\x00', b'y' * 300, bytearray(), bytearray(b'ab\xff'),
        (), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), [], [1, [2]], list(range(1001)),
        {}, {'a': 1}, {1}, set(), frozenset(), frozenset([3]),
        1 + 2j, range(1, 5, 2), range(0), Ellipsis, NotImplemented,
        int, set, object, len, [[]] * 3, ((1,),) * 2]
class Slicer:
    def __getitem__(self, s):
        return s


objs += [Slicer()[1:2], Slicer()[::3], Slicer()[:]]
s = 'shared'
objs.append([s, s, (s,)])
l = [1]
l.append(l)
objs.append(l)
t = ([],)
t[0].append(t)
objs.append(t)
d = {}
d['self'] = d
objs.append(d)
objs.append(list(range(30000)))     # several frames
objs.append('z' * 70000)            # a payload outside frames
for p in range(6):
    for i, o in enumerate(objs):
        try:
            b = pickle.dumps(o, p)
            print(p, i, b if len(b) < 400 else (len(b), b[:60], b[-60:]))
        except Exception as e:
            print(p, i, 'ERR', type(e).__name__)
print(pickle.dumps(1) == pickle.dumps(1, 4), pickle.dumps(1, -1) == pickle.dumps(1, 5))
for p in range(6):
    sl = pickle.loads(pickle.dumps(Slicer()[1:5:2], p))
    print(p, type(sl).__name__, sl.start, sl.stop, sl.step, list(range(10))[sl])
print(pickle.dumps(obj=[1], protocol=2))
for p in range(3):
    print(pickle.dumps([range(3), bytearray(b'a'), set, b'q'], p, fix_imports=False))
try:
    pickle.dumps(1, 6)
except ValueError:
    print('ValueError')
