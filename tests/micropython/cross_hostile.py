# MicroPython side of the hostile-input tests (run.py drives it): loads each
# pickle of the file argv[1] (one hex pickle a line) with the default (safe)
# policy, from bytes and through an Unpickler on a stream, and prints one line
# a pickle: "ok <kind>" where kind is "data" when the result holds only data
# (no function, class, module or other object) or the type it holds, or
# "exc <exception type>". A crash ends the run early: run.py counts the lines.
import io
import sys
import mpickle

DATA = (type(None), bool, int, float, complex, str, bytes, bytearray)


def kind(obj, depth=0):
    if isinstance(obj, DATA) or depth > 50:
        return 'data'
    if isinstance(obj, (list, tuple, set, frozenset)):
        for x in obj:
            k = kind(x, depth + 1)
            if k != 'data':
                return k
        return 'data'
    if isinstance(obj, dict):
        for k, v in obj.items():
            for x in (k, v):
                t = kind(x, depth + 1)
                if t != 'data':
                    return t
        return 'data'
    return type(obj).__name__


def attempt(fn):
    try:
        return 'ok ' + kind(fn())
    except Exception as e:
        return 'exc ' + type(e).__name__


with open(sys.argv[1]) as f:
    for line in f:
        data = bytes.fromhex(line.strip())
        a = attempt(lambda: mpickle.loads(data))
        b = attempt(lambda: mpickle.Unpickler(io.BytesIO(data)).load())
        print(a, '|', b)
