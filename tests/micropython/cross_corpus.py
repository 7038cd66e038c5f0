# Objects that CPython and MicroPython build the same way, for the cross-runtime
# tests (run.py drives both interpreters), and canon(): a text form of an object
# graph that both runtimes print alike (dict items and set elements sorted,
# floats as their IEEE bits, shared and recursive references numbered).
import struct

try:
    from collections import OrderedDict
except ImportError:
    OrderedDict = None


class Point:
    def __init__(self, x=0, y=0):
        self.x = x
        self.y = y


class Empty:
    pass


class Temp:
    # one attribute only: its pickle does not depend on attribute order
    def __init__(self, c=0.0):
        self.c = c


class Stateful:
    def __init__(self, v=0):
        self.v = v

    def __getstate__(self):
        return {'double': self.v * 2}

    def __setstate__(self, state):
        self.v = state['double'] // 2


class Reduced:
    def __init__(self, a, b):
        self.a = a
        self.b = b

    def __reduce__(self):
        return (Reduced, (self.a, self.b))


class WithArgs:
    def __init__(self, n):
        self.n = n

    def __getnewargs__(self):
        return (self.n,)


class Outer:
    class Inner:
        pass


class Items(list):
    pass


def fits_int64(obj):
    """False for ints a firmware with 64-bit ints (longlong) cannot hold; the
    shift works on such a firmware too."""
    return type(obj) is not int or (obj >> 63) in (0, -1)


def corpus():
    """[(name, object, exact)]: exact when CPython's bytes for the object do not
    depend on an iteration order the runtimes do not share (dicts of several
    keys, instances of several attributes, sets of several elements)."""
    out = []

    def add(name, obj, exact=True):
        out.append((name, obj, exact))

    for i, make in enumerate([lambda: 0, lambda: 1, lambda: -1, lambda: 255, lambda: 256, lambda: 65535,
                              lambda: 65536, lambda: 2**31 - 1, lambda: -2**31, lambda: 2**31,
                              lambda: 0x7fffffffffffffff, lambda: -0x7fffffffffffffff - 1, lambda: 2**64, lambda: -2**64,
                              lambda: 2**200, lambda: -(2**200) + 7, lambda: 10**40]):
        try:
            add('int%d' % i, make())
        except OverflowError:
            pass    # a firmware whose ints are 64-bit (longlong): run.py knows
    for i, v in enumerate([0.0, -0.0, 1.5, -2.25, 1e-310, 1.7976931348623157e308, 0.1, 1 / 3,
                           float('inf'), float('-inf')]):
        add('float%d' % i, v)
    add('none', None)
    add('true', True)
    add('false', False)
    add('str_empty', '')
    add('str_ascii', 'hello')
    add('str_uni', 'caf\xe9 \u20ac \U0001f600')
    add('str_escapes', 'a\nb\\c\rd\x00e\x1af')
    add('str_long', 'x' * 300)
    add('bytes_empty', b'')
    add('bytes', b'\x00\x7f\x80\xff')
    add('bytes_long', b'z' * 300)
    add('bytearray_empty', bytearray())
    add('bytearray', bytearray(b'ab\xff'))
    add('tuple0', ())
    add('tuple1', (1,))
    add('tuple2', (1, 'a'))
    add('tuple3', (1, 2, 3))
    add('tuple4', (1, 2, 3, 4))
    add('list_empty', [])
    add('list', [1, 'two', 3.0, None])
    add('list_1001', list(range(1001)))
    add('dict_empty', {})
    add('dict1', {'k': 'v'})
    add('dict_int_keys', {1: 'a', 2: 'b', 3: 'c'}, False)
    add('dict_1001', dict((i, -i) for i in range(1001)), False)
    add('set_empty', set())
    add('set1', {7})
    add('set3', {1, 2, 3}, False)
    add('frozenset_empty', frozenset())
    add('frozenset1', frozenset(['a']))
    add('complex', complex(1.5, -2))
    add('range', range(0, 10, 3))
    add('nested', [(1, [2, {'k': (3,)}]), [[[]]]])
    s = 'shared'
    lst = [1]
    add('shared_str', [s, s])
    add('shared_list', [lst, lst, (lst,)])
    rec = [1]
    rec.append(rec)
    add('recursive_list', rec)
    d = {}
    d['me'] = d
    add('recursive_dict', d)
    t = ([],)
    t[0].append(t)
    add('recursive_tuple', t)
    add('point', Point(1, 2), False)
    add('empty_instance', Empty())
    add('temp', Temp(21.5))
    p = Point(3, 4)
    add('shared_instance', [p, p], False)
    add('stateful', Stateful(21))
    add('reduced', Reduced('a', [1]))
    add('with_args', WithArgs(5))
    add('class_ref', Point)
    add('nested_class', Outer.Inner)
    add('nested_instance', Outer.Inner())
    it = Items([1, 2])
    add('list_subclass', it)
    if OrderedDict is not None:
        add('ordered_dict', OrderedDict([('b', 1), ('a', 2)]))
    add('big_str', 'y' * 70000)
    add('big_bytes', b'\x01' * 70000)
    add('big_list', list(range(30000)))
    return out


def _float(x):
    return 'f' + ''.join('%02x' % b for b in struct.pack('>d', x))


def canon(o, seen=None):
    """A text form of o that CPython and MicroPython print alike."""
    if seen is None:
        seen = {}
    t = type(o)
    if o is None or t is bool or t is int:
        return repr(o)
    if t is float:
        return _float(o)
    if t is complex:
        return 'complex(%s,%s)' % (_float(o.real), _float(o.imag))
    if t is str:
        return 's' + repr(o.encode('utf-8'))
    if t is bytes:
        return repr(o)
    if t is range:
        return 'range(%d,%d,%d)' % (o.start, o.stop, o.step)
    k = id(o)
    if k in seen:
        return '@%d' % seen[k]
    seen[k] = len(seen)
    tag = '#%d' % seen[k]
    if t is bytearray:
        return tag + 'bytearray' + repr(bytes(o))
    if t is tuple or t is list:
        return tag + t.__name__ + '[' + ','.join(canon(x, seen) for x in o) + ']'
    if OrderedDict is not None and t is OrderedDict:
        return tag + 'odict{' + ','.join(canon(a, seen) + ':' + canon(b, seen) for a, b in o.items()) + '}'
    if t is dict:
        items = sorted(o.items(), key=lambda kv: canon(kv[0], {}))
        return tag + '{' + ','.join(canon(a, seen) + ':' + canon(b, seen) for a, b in items) + '}'
    if t is set or t is frozenset:
        return tag + t.__name__ + '{' + ','.join(sorted(canon(x, {}) for x in o)) + '}'
    if t is type:
        return 'class:' + o.__name__
    if isinstance(o, list):
        items = list(o)
        return tag + t.__name__ + '(' + ','.join(canon(x, seen) for x in items) + ')' + \
            canon(dict(o.__dict__), seen)
    if hasattr(o, '__dict__'):
        attrs = sorted(o.__dict__.items())
        return tag + t.__name__ + '(' + ','.join(a + '=' + canon(b, seen) for a, b in attrs) + ')'
    return '?' + repr(o)
