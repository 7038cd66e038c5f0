# dumps() of classes, functions and instances (object.__reduce_ex__ done by the
# module: NEWOBJ/BUILD from protocol 2, copyreg._reconstructor before), and the
# methods a class may define: the bytes must be CPython's.
try:
    import mpickle as pickle
except ImportError:
    import pickle


class E:
    pass


class A:
    def __init__(self):
        self.x = 1


class R:
    def __reduce__(self):
        return (R, ())


class RX:
    def __reduce_ex__(self, p):
        return (RX, (p,))

    def __init__(self, p=None):
        self.p = p


class RS:
    # a reduce value of five items: list and dict items, and a state
    def __reduce__(self):
        return (RS, (), {'s': 1}, iter([1, 2]), iter([('k', 'v')]))

    def append(self, x):
        pass

    def __setitem__(self, k, v):
        pass


class RG:
    # a string from __reduce__: the object is a global of that name
    def __reduce__(self):
        return 'rg_global'


rg_global = RG()


class GS:
    def __init__(self):
        self.v = 5

    def __getstate__(self):
        return {'v': self.v * 2}

    def __setstate__(self, st):
        self.v = st['v'] // 2


class GSNone:
    def __getstate__(self):
        return None


class GSFalse:
    def __init__(self):
        self.q = 1

    def __getstate__(self):
        return 0


class GNA:
    def __init__(self, a):
        self.a = a

    def __getnewargs__(self):
        return (self.a,)


class GNAX:
    def __init__(self, a, b=0):
        self.a = a

    def __getnewargs_ex__(self):
        return ((self.a,), {'b': 2})


class Outer:
    class Inner:
        pass


class L(list):
    pass


class D(dict):
    pass


class I(int):
    pass


class S(str):
    pass


def f():
    pass


a = A()
l = L([1, 2])
d = D()
d['k'] = 1
objs = [E(), A(), R(), RX(), RS(), rg_global, GS(), GSNone(), GSFalse(), GNA(3), GNAX(1), Outer.Inner,
        Outer.Inner(), l, d, I(5), S('s'), f, [a, a], E, A, (A, A()), [E(), E()]]
for p in range(6):
    for i, o in enumerate(objs):
        if type(o) is GNAX and p < 4:
            continue    # CPython writes functools.partial there: not supported
        try:
            print(p, i, pickle.dumps(o, p))
        except Exception as e:
            print(p, i, 'ERR', type(e).__name__)
