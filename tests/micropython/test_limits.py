# micropython-args: -X heapsize=16M
# Deep structures are bounded, never a C stack overflow: dump raises
# RuntimeError past its depth limit (or a self-referencing __reduce__), load
# builds any depth without recursion but bounds open MARKs; sparse memo keys.
# (MicroPython only: expected output in test_limits.py.exp.)
import mpickle

a = []
for i in range(150):
    a = [a]
print('depth 150', len(mpickle.dumps(a)))
for i in range(5000):
    a = [a]
try:
    mpickle.dumps(a)
except RuntimeError as e:
    print('depth 5150 RuntimeError', e)
d = {}
for i in range(5000):
    d = {'k': d}
try:
    mpickle.dumps(d, 0)
except RuntimeError as e:
    print('dicts RuntimeError')


class Loop:
    def __reduce__(self):
        return (Loop, (Loop(),))


try:
    mpickle.dumps(Loop())
except RuntimeError:
    print('reduce loop RuntimeError')

# 30000 nested lists: built by the VM without recursion
n = 30000
deep = mpickle.loads(b'\x80\x02' + b']' * n + b'a' * (n - 1) + b'.')
depth = 0
while deep:
    deep = deep[0]
    depth += 1
print('loaded depth', depth)
for data in (b'(' * 2000 + b'N', b'(' * 999 + b'N' + b't' * 999 + b'.'):
    try:
        r = mpickle.loads(data)
        print('marks loaded', type(r).__name__)
    except mpickle.UnpicklingError as e:
        print('marks UnpicklingError', e)
# sparse memo keys
print(mpickle.loads(b'\x80\x02Nr\xff\xff\xff\x7fj\xff\xff\xff\x7f\x86.'))
print(mpickle.loads(b'Np4000000000\ng4000000000\n\x86.'))
