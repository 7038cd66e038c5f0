# A firmware whose ints are 64-bit (MICROPY_LONGINT_IMPL_LONGLONG): ints that
# fit load and dump as CPython's; larger ones raise OverflowError, never a
# wrong value. (MicroPython only: expected output in test_longlong.py.exp; other
# firmware prints SKIP.)
import mpickle

try:
    2**64
    print('SKIP')
    raise SystemExit
except OverflowError:
    pass

MAX = 0x7fffffffffffffff
MIN = -MAX - 1
for v in (MAX, MIN, 2**31, -2**31 - 1, 2**40):
    for p in range(6):
        data = mpickle.dumps(v, p)
        print(p, data, mpickle.loads(data) == v)

too_big = [
    b"\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x80\x00.",      # LONG1 2**63
    b"\x80\x02\x8a\x09\xff\xff\xff\xff\xff\xff\xff\x7f\xff.",      # LONG1 -2**63 - 1
    b"\x80\x02\x8b\x10\x00\x00\x00" + b"\x01" * 16 + b".",         # LONG4
    b"L123456789012345678901234567890L\n.",                         # protocol 0 text
    b"I9223372036854775808\n.",
    b"\x80\x02]q\x00(K\x01\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01e.",  # inside a list
]
for data in too_big:
    try:
        print('loaded', mpickle.loads(data))
    except OverflowError as e:
        print('OverflowError', e)
# minimal and non-minimal encodings of values that fit
print(mpickle.loads(b"\x80\x02\x8a\x09\xff\xff\xff\xff\xff\xff\xff\x7f\x00.") == MAX)
print(mpickle.loads(b"\x80\x02\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80.") == MIN)
print(mpickle.loads(b"L-9223372036854775808L\n.") == MIN)
