# MicroPython side of the MicroPython -> CPython tests (run.py drives it):
# prints "name protocol hex" for every corpus object in protocols 0 to 5.
import mpickle
import cross_corpus

for name, obj, exact in cross_corpus.corpus():
    for proto in range(6):
        try:
            print(name, proto, mpickle.dumps(obj, proto).hex())
        except Exception as e:
            print(name, proto, 'ERR', type(e).__name__, e)
