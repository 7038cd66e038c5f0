# The benchmark payloads through MicroPython modules with the pickle API:
#
#   micropython bench/micropython_bench.py [MODULE...]
#
# mpickle and MicroPython's json always; any other module named on the command
# line (e.g. the pure-Python mPickle) too, if it imports. For each payload and
# module: microseconds per dumps/loads call (median of rounds) and heap bytes
# allocated per call (gc.mem_alloc difference with the collector off), and the
# output size. Prints a markdown table. Runs under MicroPython only.
import gc
import sys
import time


def lcg(seed):
    # deterministic on every port (MicroPython's random may be absent)
    state = [seed]

    def nxt(n):
        state[0] = (state[0] * 1103515245 + 12345) & 0x7fffffff
        return state[0] % n
    return nxt


def payloads():
    r = lcg(7)
    sensor = {'id': 17, 'name': 'greenhouse-3', 'temp': 21.625, 'hum': 48.5, 'battery': 3.71,
              'ok': True, 'seq': 123456, 'ts': 1700000000, 'flags': [1, 0, 1], 'unit': 'C'}
    ints = [r(1 << (8 * (1 + i % 4) - 1)) for i in range(1000)]
    floats = [r(100000) / 997.0 for i in range(1000)]
    dict200 = dict(('key_%d' % i, r(100000)) for i in range(200))
    nested = [{'id': i, 'pos': (r(1000) / 10.0, r(1000) / 10.0), 'tags': ['a', 'b'][: 1 + i % 2],
               'meta': {'ok': i % 3 == 0, 'v': r(1000)}} for i in range(100)]
    blob = bytes(r(256) for _ in range(65536))
    strings = ['s%d-%d' % (i, r(100000)) for i in range(200)]
    return [('sensor', sensor), ('ints_1000', ints), ('floats_1000', floats), ('dict_200', dict200),
            ('nested_100', nested), ('bytes_64k', blob), ('strings_200', strings)]


def per_call(fn, arg, min_us=20000):
    # repeat until a round lasts min_us; median of 5 rounds
    n = 1
    while True:
        t = time.ticks_us()
        for _ in range(n):
            fn(arg)
        dt = time.ticks_diff(time.ticks_us(), t)
        if dt >= min_us or n >= 1 << 16:
            break
        n *= 2
    rounds = []
    for _ in range(5):
        t = time.ticks_us()
        for _ in range(n):
            fn(arg)
        rounds.append(time.ticks_diff(time.ticks_us(), t) / n)
    rounds.sort()
    return rounds[2]


def heap_per_call(fn, arg):
    gc.collect()
    gc.disable()
    try:
        a = gc.mem_alloc()
        fn(arg)
        return gc.mem_alloc() - a
    finally:
        gc.enable()


def main():
    names = ['mpickle', 'json'] + sys.argv[1:]
    mods = []
    for name in names:
        try:
            mods.append((name, __import__(name)))
        except ImportError:
            print('(%s: not importable, left out)' % name)
    print('| payload | module | size (B) | dumps us | loads us | heap after dumps B | heap after loads B |')
    print('| --- | --- | ---: | ---: | ---: | ---: | ---: |')
    for pname, obj in payloads():
        for mname, m in mods:
            try:
                data = m.dumps(obj)
                m.loads(data)
            except Exception as e:
                print('| %s | %s | n/a (%s) | | | | |' % (pname, mname, type(e).__name__))
                continue
            print('| %s | %s | %d | %.1f | %.1f | %d | %d |' % (
                pname, mname, len(data), per_call(m.dumps, obj), per_call(m.loads, data),
                heap_per_call(m.dumps, obj), heap_per_call(m.loads, data)))
        gc.collect()


main()
