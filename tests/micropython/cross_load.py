# MicroPython side of the CPython -> MicroPython tests (run.py drives it):
# loads each pickle of the file argv[1] ("name protocol hex" lines) and prints
# "name protocol canon" (or the error).
import sys
import mpickle
import cross_corpus

with open(sys.argv[1]) as f:
    for line in f:
        name, proto, data = line.split()
        try:
            text = cross_corpus.canon(mpickle.loads(bytes.fromhex(data)))
        except Exception as e:
            text = 'ERR %s: %s' % (type(e).__name__, e)
        print(name, proto, text)
