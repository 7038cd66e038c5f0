# micropython-args: -X heapsize=160k
# dump() to a stream under a small heap: a ~100 KB message, larger than the free
# heap, is written through a bounded buffer.
# - protocols 0-3 (no frames): to a Python object with write() the extra heap
#   stays under 8 KiB (sampled in write(), while the writer's buffer is alive);
# - protocols 0-5 to a file (a native stream): written whole; read back equal.
# (Protocols 4-5 buffer a frame, 64 KiB as CPython writes them; when the heap
# cannot hold it the rest of the pickle is written without frames.)
# (MicroPython only: expected output in test_stream_heap.py.exp.)
import gc
import mpickle

N = 50
passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print('FAIL', what)


def item(i):
    return ('%05d' % i) * 400      # 2000 characters


class Sink:
    def __init__(self):
        self.n = 0
        self.peak = 0
        gc.collect()
        self.base = gc.mem_alloc()

    def write(self, b):
        self.n += len(b)
        b = None
        gc.collect()
        self.peak = max(self.peak, gc.mem_alloc() - self.base)


def equal_to_items(obj):
    if type(obj) is not list or len(obj) != N:
        return False
    for i in range(N):
        if obj[i] != item(i):
            return False
    return True


obj = [None] * N
for i in range(N):
    obj[i] = item(i)
gc.collect()
free = gc.mem_free()
PATH = '/tmp/mpickle_test_stream_heap_%d.pkl'
sizes = {}
for p in range(4):
    s = Sink()
    mpickle.dump(obj, s, p)
    sizes[p] = s.n
    check(s.peak < 8192, 'protocol %d: %d bytes of extra heap' % (p, s.peak))
    print('protocol %d to write(): %d bytes, larger than the free heap: %s, extra heap under 8 KiB: %s'
          % (p, s.n, s.n > free, s.peak < 8192))
for p in range(6):
    with open(PATH % p, 'wb') as f:
        mpickle.dump(obj, f, p)
        n = f.tell()
    check(p not in sizes or n == sizes[p], 'protocol %d: same size as to write()' % p)
    print('protocol %d to a file: %d KB, larger than the free heap: %s' % (p, n // 1000, n > free))
obj = None
gc.collect()
for p in range(6):
    with open(PATH % p, 'rb') as f:
        back = mpickle.load(f)
    check(equal_to_items(back), 'protocol %d read back' % p)
    back = None
    gc.collect()
try:
    import os
    for p in range(6):
        os.remove(PATH % p)
except (ImportError, OSError):
    pass
print('test_stream_heap: %d passed, %d failed' % (passed, failed))
if failed:
    raise SystemExit(1)
