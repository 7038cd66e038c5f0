# dump/load on files, Pickler/Unpickler with several pickles on one stream
# (each load reads only its pickle's bytes), the memo a Pickler keeps between
# dumps, and file-like objects that only have read()/write().
# (Runs under CPython too: its output is the expected output.)
try:
    import mpickle as pickle
except ImportError:
    import pickle
import io


class C:
    pass


objs = [1, 'two', [3, 4], {'five': 5.0}, None, b'x' * 1000, list(range(300)), 'y' * 70000]
for p in range(6):
    f = io.BytesIO()
    pk = pickle.Pickler(f, p)
    for o in objs:
        pk.dump(o)
    pickle.dump('tail', f, p)
    data = f.getvalue()
    print(p, len(data))
    f = io.BytesIO(data)
    up = pickle.Unpickler(f)
    out = [up.load() for _ in objs]
    print(out == objs, pickle.load(f), f.read())
    try:
        pickle.load(f)
    except EOFError:
        print('EOFError')

# the Pickler's memo lasts from one dump() to the next, and so does the Unpickler's
for p in range(6):
    f = io.BytesIO()
    pk = pickle.Pickler(f, p)
    x = ['a']
    pk.dump(x)
    pk.dump(x)
    pk.dump({'temp': 1})
    pk.dump({'temp': 2})
    pk.dump(C)
    pk.dump(C)
    pk.clear_memo()
    pk.dump(x)
    print(p, f.getvalue())
    f.seek(0)
    u = pickle.Unpickler(f)
    a = u.load()
    b = u.load()
    print(a is b, u.load(), u.load(), u.load() is C, u.load() is C, u.load() == x)


class Writer:
    def __init__(self):
        self.parts = []

    def write(self, b):
        self.parts.append(bytes(b))


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def read(self, n):
        r = self.data[self.pos:self.pos + n]
        self.pos += len(r)
        return r

    def readline(self):
        end = self.data.find(b'\n', self.pos)
        end = len(self.data) if end < 0 else end + 1
        r = self.data[self.pos:end]
        self.pos = end
        return r


w = Writer()
for p in range(6):
    pickle.dump({'p': p, 'l': [p] * 3}, w, p)
r = Reader(b''.join(w.parts))
print([pickle.load(r) for _ in range(6)], r.read(1))
r = Reader(b''.join(w.parts))
u = pickle.Unpickler(r)
print([u.load()['p'] for _ in range(6)])
for bad in (lambda: pickle.dump(1, 42), lambda: pickle.load(42), lambda: pickle.Unpickler(42).load()):
    try:
        bad()
    except TypeError:
        print('TypeError')
