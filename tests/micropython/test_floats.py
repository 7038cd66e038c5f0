# Floats that only a firmware with 64-bit floats holds exactly: their bytes must
# be CPython's, and CPython's must load to the same value. Prints SKIP on a
# firmware with 32-bit floats. (Runs under CPython too.)
try:
    import mpickle as pickle
except ImportError:
    import pickle
if float('1e39') == float('inf'):
    print('SKIP')
    raise SystemExit
for p in range(6):
    for x in (0.1, 1 / 3, 1e300, 1e-300, 5e-324, 1.7976931348623157e308, 2.0 ** 53 + 1, -1.5e-7, 123456789.125):
        b = pickle.dumps(x, p)
        print(p, b, pickle.loads(b) == x)
