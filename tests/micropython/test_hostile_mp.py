# Hostile input and re-entry (MicroPython only; expected output in .exp): found
# by review, each once a crash or a leak.
import gc
import io
import mpickle

# 1. a persistent_id that calls dump() on its own Pickler: refused, not a
#    write into the memo map the outer dump is using
def pid(obj):
    if obj == 'trigger':
        p.dump([[i] for i in range(300)])
    return None

p = mpickle.Pickler(io.BytesIO(), 2, persistent_id=pid)
p.dump([[i] for i in range(10)])
try:
    p.dump(['trigger'] + [[i] for i in range(40)])
except RuntimeError as e:
    print('nested Pickler.dump:', e)
p.persistent_id = None
p.dump([1, 2])      # the Pickler still works
print('Pickler usable after:', True)

# 2. a __setitem__ that calls load() on the Unpickler that is loading it
class S:
    def __setitem__(self, k, v):
        U[0].load()

U = [mpickle.Unpickler(io.BytesIO(b'\x80\x02c__main__\nS\n)\x81(K\x01K\x02u.\x80\x02K\x07.'), trusted=True)]
try:
    U[0].load()
except RuntimeError as e:
    print('nested Unpickler.load:', e)

# 3. keys nested deeper than the C stack can hash: refused before hashing, in
#    every place a pickle hashes them
deep = b'N' + b'\x85' * 20000
cases = [
    ('SETITEMS', b'\x80\x02}' + deep + b'Ns.'),
    ('ADDITEMS', b'\x80\x04\x8f(' + deep + b'\x90.'),
    ('FROZENSET', b'\x80\x04(' + deep + b'\x91.'),
    ('REDUCE set', b'\x80\x02c__builtin__\nset\n' + deep + b'\x85\x85R.'),
]
for name, data in cases:
    try:
        mpickle.loads(data)
        print(name, 'loaded')
    except mpickle.UnpicklingError as e:
        print(name, 'UnpicklingError', e)
# keys of ordinary depth load
print(mpickle.loads(b'\x80\x02}' + b'K\x01' + b'\x85' * 20 + b'Ns.'))

# 4. a write() that grows the bytearray being written: the payload is the
#    bytearray as it was when dump() met it
ba = bytearray(b'A' * 3000)
junk = []

class W:
    def __init__(self):
        self.parts = []

    def write(self, b):
        self.parts.append(bytes(b))
        if len(self.parts) == 1:
            ba.extend(b'B' * 100000)
            gc.collect()
            for i in range(400):
                junk.append(bytearray(b'Z' * 64))
        return len(b)

w = W()
mpickle.dump(ba, w, 5)
print('payload intact:', mpickle.loads(b''.join(w.parts)) == bytearray(b'A' * 3000))

# 5. a reconstructor registered by name is allowed in a safe load
class Sensor:
    def __init__(self, v=0):
        self.v = v

def rebuild(v):
    return Sensor(v)

mpickle.register_pickle(obj_type=Sensor, obj_reconstructor_func='__main__.rebuild',
                        map_reconstructor_func='sensors.rebuild')
print('registered by name:', mpickle.loads(b'\x80\x02csensors\nrebuild\nK\x05\x85R.').v)

# 6. slot-state names no code uses go into the instance __dict__: loading such
#    pickles does not grow the interned-name table (which is never freed)
class C:
    pass

def slot_pickle(i):
    name = ('attr_%06d' % i).encode()
    return b'\x80\x02c__main__\nC\n)\x81N}X' + bytes([len(name), 0, 0, 0]) + name + b'K\x01s\x86b.'

print('slot state sets:', mpickle.loads(slot_pickle(7)).__dict__)
gc.collect()
before = gc.mem_free()
for i in range(2000):
    mpickle.loads(slot_pickle(i))
gc.collect()
print('heap kept after 2000 loads:', before - gc.mem_free() < 2048)
