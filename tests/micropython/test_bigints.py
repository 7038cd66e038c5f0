# Ints beyond 64 bits: bytes as CPython writes them in protocols 0-5, and back;
# Python 2 text longs. (Runs under CPython too: its output is the expected
# output. A firmware whose ints are 64-bit has test_longlong.py instead.)
try:
    import mpickle as pickle
except ImportError:
    import pickle

try:
    big = [2**64, -2**64, 2**100, -2**100, 10**50, -(2**200) + 7, 2**63, -2**63 - 1]
except OverflowError:
    print('SKIP')
    raise SystemExit

for v in big:
    for p in range(6):
        data = pickle.dumps(v, p)
        print(p, data, pickle.loads(data) == v)
for data in (b"L-123456789012345678901234567890L\n.", b"L123456789012345678901234567890\n.",
             b"I123456789012345678901234567890\n.", b"\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01."):
    print(pickle.loads(data))
print(pickle.loads(pickle.dumps([2**70, 2**70], 4)))
