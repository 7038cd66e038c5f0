# micropython-args: -X heapsize=512k
# Memory: importing takes no heap (the module is ROM tables), calls leave no
# garbage behind once collected, failures (hostile input, exceptions raised by
# classes) leak nothing, heap exhaustion raises MemoryError (then all is well
# again), and dump to a stream holds one frame at most, not the whole pickle.
# (MicroPython only: expected output in test_memory.py.exp.)
import gc
gc.collect()
a = gc.mem_alloc()
import math
gc.collect()
b = gc.mem_alloc()
import mpickle
gc.collect()
c = gc.mem_alloc()
print('import takes no more heap than a builtin module:', c - b <= b - a)

# the largest bytes object the heap can hold: pickling it needs as much again
gc.collect()
size = gc.mem_free()
big = None
while big is None:
    try:
        big = bytes(size)
    except MemoryError:
        size = size * 15 // 16
try:
    mpickle.dumps(big)
except MemoryError:
    print('dumps of the largest bytes object the heap holds: MemoryError')
big = None

import io

data = {'name': 'sensor', 'values': [1.5, 2.5, None], 'n': 2**62, 't': (1, 'x'), 's': {1, 2}}


class Bad:
    def __setstate__(self, state):
        raise ValueError('refused state')


def churn():
    for p in range(6):
        for _ in range(20):
            mpickle.loads(mpickle.dumps(data, p))
            f = io.BytesIO()
            mpickle.dump(data, f, p)
            f.seek(0)
            mpickle.load(f)
            for bad in (b'\x80\x02]q\x00(K\x01K\x02h\x07e.', b'\x80\x02c__main__\nBad\n)\x81K\x01b.', b'\x80\x02X\x10\x00\x00\x00abc'):
                try:
                    mpickle.loads(bad)
                except Exception:
                    pass


before = 0    # (a new global grows the globals dict: bind it first)
churn()
churn()
gc.collect()
before = gc.mem_alloc()
churn()
churn()
gc.collect()
print('no garbage left by 1440 calls:', gc.mem_alloc() - before == 0)


class Endless:
    # a stream that appends the list to itself forever: the load runs out of heap
    def __init__(self):
        self.head = b'\x80\x02]q\x00'
        self.batch = b'(' + b'h\x00' * 100 + b'e'
        self.pos = 0

    def read(self, n):
        if self.head:
            r, self.head = self.head[:n], self.head[n:]
            return r
        out = b''
        while len(out) < n:
            take = min(n - len(out), len(self.batch) - self.pos)
            out += self.batch[self.pos:self.pos + take]
            self.pos = (self.pos + take) % len(self.batch)
        return out


try:
    mpickle.load(Endless())
except MemoryError:
    print('endless stream: MemoryError')
gc.collect()
print('recovered:', mpickle.loads(mpickle.dumps(data)) == data)


class Counter:
    # a stream that only counts: the pickle is never whole in memory
    def __init__(self):
        self.n = 0
        self.writes = 0

    def write(self, b):
        self.n += len(b)
        self.writes += 1


c = Counter()
big_list = list(range(6000))
mpickle.dump(big_list, c, 4)
print('dump of a 6000-int list to a stream:', c.n, 'bytes', c.writes > 1)
with open('/tmp/mpickle_test_memory.pkl', 'wb') as f:
    mpickle.dump(big_list, f, 4)
with open('/tmp/mpickle_test_memory.pkl', 'rb') as f:
    print('read back:', mpickle.load(f) == big_list)
import os
os.remove('/tmp/mpickle_test_memory.pkl')
