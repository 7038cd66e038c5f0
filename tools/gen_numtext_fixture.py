#!/usr/bin/env python3
"""Writes the fixtures that tests/unit/test_numtext.c checks src/numtext.c against,
with this CPython as the oracle:

  tests/fixtures/float_repr.txt  lines "<16 hex digits of the double's bits> <repr(x)>"
  tests/fixtures/bigint_dec.txt  lines "<hex of pickle's LONG1/LONG4 payload> <str(n)>"
                                 (the payload of 0 is empty, so its line starts with
                                 a space)

Lines starting with '#' are comments. The output is deterministic (fixed seed).
Run from anywhere: python3 tools/gen_numtext_fixture.py
"""
import math
import os
import pickle
import random
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
SIZE_LIMIT = 400 * 1024


def bits_of(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def float_of(bits):
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def with_neighbours(x):
    return [math.nextafter(x, -math.inf), x, math.nextafter(x, math.inf)]


def float_cases(rng):
    """Yields doubles: special values, the layout switch points, binade and decade
    edges, subnormals, integers near 2**53, then random values."""
    yield from [0.0, -0.0, math.inf, -math.inf, math.nan, 1.0, -1.0, 0.1, 0.5, 2.0 / 3]
    yield from [5e-324, -5e-324, float_of(0x000FFFFFFFFFFFFF), 2.2250738585072014e-308,
                float_of(0x0010000000000001), 1.7976931348623157e308, -1.7976931348623157e308]
    # the positional/exponent switch points, 1e-4 and 1e16, approached from both sides
    for edge in (1e-5, 1e-4, 1e-3, 1e15, 1e16, 1e17):
        x = edge
        for _ in range(4):
            x = math.nextafter(x, -math.inf)
        for _ in range(9):
            yield x
            x = math.nextafter(x, math.inf)
    # every power of ten that is a finite nonzero double, with both neighbours
    for k in range(-324, 309):
        x = float("1e%d" % k)
        if x != 0.0:
            yield from with_neighbours(x)
    # every power of two, with neighbours where the lower gap halves
    for k in range(-1074, 1024):
        x = math.ldexp(1.0, k)
        yield from (with_neighbours(x) if k % 16 == 0 or -1024 < k < -1018 else [x])
    # integers up to and around 2**53
    for k in range(50, 55):
        for d in range(-3, 4):
            yield float(2 ** k + d)
    for _ in range(300):
        yield float(rng.randrange(1, 2 ** rng.randrange(1, 54)))
    yield from (1234567890123456.0, 123456789012345678.0, 9007199254740993.0)
    # subnormals
    for k in range(0, 52):
        yield float_of(1 << k)
        yield float_of((1 << (k + 1)) - 1)
    for _ in range(200):
        yield float_of(rng.getrandbits(52))
    # random bit patterns (finite and not), and decimal-looking values
    for _ in range(1500):
        yield float_of(rng.getrandbits(64))
    for _ in range(800):
        digits = rng.randrange(1, 18)
        yield float("%de%d" % (rng.randrange(10 ** (digits - 1), 10 ** digits), rng.randrange(-330, 300)))
    for _ in range(300):
        yield round(rng.uniform(-1e4, 1e4), rng.randrange(0, 8))


def float_repr_lines(rng):
    seen = set()
    lines = ["# <bits of the double, hex> <repr(x)>, written by tools/gen_numtext_fixture.py"]
    for x in float_cases(rng):
        b = bits_of(x)
        if b not in seen:
            seen.add(b)
            lines.append("%016x %s" % (b, repr(x)))
    return lines


def int_cases(rng):
    """Yields ints: small values, +-2**k +-1 (every k to 128, then the k at byte
    boundaries up to 600), random sizes, and a few near the 4300-digit limit."""
    yield from range(-300, 301)
    for k in range(1, 601):
        if k <= 128 or k % 8 in (0, 7):
            for base in (2 ** k, -(2 ** k)):
                yield from (base - 1, base, base + 1)
    for _ in range(400):
        n = rng.getrandbits(rng.randrange(1, 1000))
        yield -n if rng.random() < 0.5 else n
    for digits in (1000, 2000, 4299, 4300):
        n = rng.randrange(10 ** (digits - 1), 10 ** digits)
        yield from (n, -n)
    yield from (10 ** 4300 - 1, -(10 ** 4300 - 1))


def bigint_dec_lines(rng):
    seen = set()
    lines = ["# <pickle.encode_long(n), hex of little-endian two's complement bytes> <n>;"
             " 0 has an empty payload, written by tools/gen_numtext_fixture.py"]
    for n in int_cases(rng):
        if n not in seen:
            seen.add(n)
            lines.append("%s %d" % (pickle.encode_long(n).hex(), n))
    return lines


def save(path, lines):
    text = "\n".join(lines) + "\n"
    if len(text) > SIZE_LIMIT:
        sys.exit("%s would be %d bytes, over the %d byte limit" % (path, len(text), SIZE_LIMIT))
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write(text)
    print("%s: %d lines, %d bytes" % (os.path.relpath(path, ROOT), len(lines) - 1, len(text)))


def main():
    os.makedirs(FIXTURES, exist_ok=True)
    rng = random.Random(20240601)
    path = os.path.join(FIXTURES, "float_repr.txt")
    save(path, float_repr_lines(rng))
    path = os.path.join(FIXTURES, "bigint_dec.txt")
    save(path, bigint_dec_lines(rng))


if __name__ == "__main__":
    main()
