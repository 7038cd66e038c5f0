# micropython-args: -X heapsize=16M
# loads(dumps(x)) gives the same object graph (values, types, shared and
# recursive references), for every object of the cross-runtime corpus and
# protocols 0-5. (Runs under CPython too: its output is the expected output.)
# Ints beyond 64 bits are in test_bigints.py (firmware with longlong ints lacks them).
try:
    import mpickle as pickle
except ImportError:
    import pickle
from cross_corpus import corpus, canon, fits_int64, Point

for name, obj, exact in corpus():
    if not fits_int64(obj):
        continue
    for p in range(6):
        try:
            back = pickle.loads(pickle.dumps(obj, p))
            print(name, p, canon(back) == canon(obj))
        except Exception as e:
            print(name, p, 'ERR', type(e).__name__, e)

# identity inside one pickle
p1 = Point(1, 2)
for p in range(6):
    a, b, c = pickle.loads(pickle.dumps([p1, p1, Point], p))
    print(p, a is b, c is Point, type(a) is Point, a.x, a.y)
    r = pickle.loads(pickle.dumps({'p': p1, 'again': [p1]}, p))
    print(p, r['p'] is r['again'][0])
    lst = [1, 2]
    t = pickle.loads(pickle.dumps((lst, lst), p))
    print(p, t[0] is t[1], t)
# the same object dumped by two calls is two objects
x = [1]
print(pickle.loads(pickle.dumps(x)) is pickle.loads(pickle.dumps(x)))
