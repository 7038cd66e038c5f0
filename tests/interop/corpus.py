"""A deterministic corpus of named Python objects for the interop tests, and
deep_equal, a comparison strict enough to judge a round trip through pickle.

build_corpus() returns a list of Entry(name, obj, protocols). Names are unique
and stable; objects are rebuilt on every call (recursive and shared structures
need fresh identities). Sets of str iterate in hash order, so the scripts fix
PYTHONHASHSEED (see harness.py) to keep the corpus's bytes identical run to run.
"""

import collections
import datetime
import decimal
import enum
import fractions
import math
import random
import struct
import sys
import types
import uuid

import corpus_types as ct

ALL_PROTOCOLS = tuple(range(6))


class Entry:
    __slots__ = ('name', 'obj', 'protocols')

    def __init__(self, name, obj, protocols=ALL_PROTOCOLS):
        self.name = name
        self.obj = obj
        self.protocols = tuple(protocols)

    def __repr__(self):
        return 'Entry(%r)' % self.name


class _Corpus:
    """Collects entries and refuses duplicate names."""

    def __init__(self):
        self.entries = []
        self.names = set()

    def add(self, name, obj, protocols=ALL_PROTOCOLS):
        if name in self.names:
            raise ValueError('duplicate corpus name %r' % name)
        self.names.add(name)
        self.entries.append(Entry(name, obj, protocols))


def _float_from_bits(bits):
    return struct.unpack('<d', struct.pack('<Q', bits))[0]


# ------------------------------------------------------------------ atoms

def _add_singletons(c):
    c.add('none', None)
    c.add('true', True)
    c.add('false', False)
    c.add('ellipsis', Ellipsis)
    c.add('notimplemented', NotImplemented)


def _int_boundaries():
    """Every value where CPython's choice of int opcode changes, with neighbours."""
    points = [0, 1, 127, 128, 255, 256, 65535, 65536,
              2**31 - 1, 2**31, 2**32 - 1, 2**32,
              2**63 - 1, 2**63, 2**64 - 1, 2**64]
    values = set()
    for p in points:
        for v in (p - 1, p, p + 1):
            values.add(v)
            values.add(-v)
    return sorted(values)


def _add_ints(c):
    for v in _int_boundaries():
        c.add('int %d' % v, v)
    # LONG1/LONG4 payload sizes: the largest and smallest value of n bytes.
    for n in (1, 2, 3, 4, 5, 7, 8, 9, 16, 100, 254, 255, 256, 257, 300):
        top = 2 ** (8 * n - 1)
        c.add('bigint +%dB' % n, top - 1)
        c.add('bigint -%dB' % n, -top)
    c.add('bigints 1..300B', [2 ** (8 * n - 1) - 1 for n in range(1, 301)]
          + [-(2 ** (8 * n - 1)) for n in range(1, 301)]
          + [2 ** (8 * n - 1) for n in range(1, 301)])
    c.add('ints mixed list', [v for v in _int_boundaries()] + [10**k for k in range(40)])


def _add_floats(c):
    named = {
        '0.0': 0.0, '-0.0': -0.0, 'inf': math.inf, '-inf': -math.inf,
        'nan': math.nan, '-nan': -math.nan,
        'nan payload': _float_from_bits(0x7ff8000000000001),
        'min subnormal': 5e-324, 'max subnormal': _float_from_bits(0x000fffffffffffff),
        'min normal': sys.float_info.min, 'max': sys.float_info.max,
        '-max': -sys.float_info.max, 'epsilon': sys.float_info.epsilon,
        '0.1': 0.1, '1e16': 1e16, '1e-5': 1e-5, '1e-4': 1e-4, '1e22': 1e22,
        '1e23': 1e23, '1.5': 1.5, '-2.5': -2.5, '1/3': 1 / 3,
        '0.1+0.2': 0.1 + 0.2, '2**53+2': float(2**53 + 2), '1e15': 1e15,
        '123456789.125': 123456789.125, '-1e-300': -1e-300, '1.0': 1.0,
        '100.0': 100.0, '9.5e-7': 9.5e-7,
    }
    for name, v in named.items():
        c.add('float ' + name, v)
    # Random doubles of every magnitude: protocol 0 writes repr(), which the
    # C writer must reproduce digit for digit.
    rng = random.Random(1234)
    bits = [rng.getrandbits(64) for _ in range(1500)]
    finite = [f for f in map(_float_from_bits, bits) if math.isfinite(f)]
    c.add('floats random bits', finite)
    c.add('floats random decimal', [round(rng.uniform(-1000, 1000), rng.randint(0, 6))
                                    for _ in range(1500)])
    c.add('floats powers of ten', [10.0 ** k for k in range(-320, 309)])


def _str_of_utf8_len(n, ch):
    """A str whose UTF-8 encoding is exactly n bytes, built from ch plus ASCII padding."""
    w = len(ch.encode('utf-8', 'surrogatepass'))
    return ch * (n // w) + 'a' * (n % w)


def _add_strs(c):
    c.add('str empty', '')
    c.add('str ascii', 'hello, world')
    c.add('str latin-1', 'caf\xe9 \xff\xa0\xb5')
    c.add('str bmp', '\u20ac\u4e2d\u6587\uffff\u0100')
    c.add('str astral', '\U0001f600\U0010ffff\U00010000')
    c.add('str lone high surrogate', '\ud800')
    c.add('str lone low surrogate', '\udfff')
    c.add('str surrogate pair as two', 'a\ud83d\ude00b')
    c.add('str backslash', 'a\\b\\\\c\\u0041\\')
    c.add('str newline', 'line1\nline2\n')
    c.add('str cr', 'a\rb\r\n')
    c.add('str nul', '\x00a\x00')
    c.add('str ctrl-z', '\x1a')
    c.add('str all controls', ''.join(map(chr, range(32))) + '\x7f')
    c.add('str all latin-1', ''.join(map(chr, range(256))))
    c.add('str quotes', '\'"\'"')
    c.add('str escapes text', 'S\'abc\'\nV\\u1234\n.')
    for n in (255, 256, 65535, 65536, 70000):
        c.add('str ascii %dB' % n, 'x' * n)
    for n in (255, 256):
        c.add('str 2-byte chars %dB' % n, _str_of_utf8_len(n, '\xe9'))
        c.add('str 3-byte chars %dB' % n, _str_of_utf8_len(n, '\u20ac'))
        c.add('str 4-byte chars %dB' % n, _str_of_utf8_len(n, '\U0001f600'))
    c.add('str 200000 mixed', ('ab\u20ac\\\n\U0001f600' * 30000)[:200000])


def _add_bytes(c):
    samples = {
        'empty': b'', 'one': b'\x00', 'short': b'abc\x00\xff',
        'all bytes': bytes(range(256)), '255': b'\xab' * 255, '256': b'\xcd' * 256,
        '65535': bytes(range(256)) * 255 + b'\x01' * 255, '65536': b'\x02' * 65536,
        '70000': bytes(i * 7 % 256 for i in range(70000)),
        'utf8-looking': '\u20ac'.encode(), 'backslashes': b'\\x00\\',
    }
    for name, v in samples.items():
        c.add('bytes ' + name, v)
        c.add('bytearray ' + name, bytearray(v))


def _add_misc_scalars(c):
    c.add('complex', complex(1.5, -2.0))
    c.add('complex nan', complex(math.nan, math.inf))
    c.add('range', range(3, 100, 7))
    c.add('range empty', range(0))
    c.add('range negative step', range(10, -10, -3))
    c.add('slice', slice(1, None, 2))
    c.add('decimal', decimal.Decimal('1.10'))
    c.add('fraction', fractions.Fraction(-7, 3))
    c.add('datetime', datetime.datetime(2024, 2, 29, 23, 59, 58, 123456))
    c.add('datetime tz', datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone(
        datetime.timedelta(hours=-5), 'EST')))
    c.add('date', datetime.date(1999, 12, 31))
    c.add('timedelta', datetime.timedelta(days=-1, seconds=5, microseconds=7))
    c.add('uuid', uuid.UUID('12345678-1234-5678-1234-567812345678'))


# ------------------------------------------------------------- containers

_SIZES = (0, 1, 2, 999, 1000, 1001, 2000, 2001, 3000)


def _value(i):
    """A varied but deterministic item."""
    kind = i % 6
    if kind == 0:
        return i
    if kind == 1:
        return 's%d' % i
    if kind == 2:
        return i * 0.5
    if kind == 3:
        return (i, -i)
    if kind == 4:
        return None if i % 12 == 4 else -i * 1000003
    return bytes([i % 256])


def _add_sized_containers(c):
    for n in _SIZES:
        c.add('list %d' % n, [_value(i) for i in range(n)])
        c.add('dict int keys %d' % n, {i: _value(i) for i in range(n)})
        c.add('dict str keys %d' % n, {'k%d' % i: i for i in range(n)})
        c.add('set %d' % n, set(range(n)))
        c.add('frozenset %d' % n, frozenset(range(0, 3 * n, 3)))
    c.add('set of str', {'alpha', 'beta', 'gamma', 'delta', '\u20ac'})
    c.add('set mixed', {None, True, 2, 3.5, 'x', b'y', (1, 2), frozenset({4})})
    c.add('frozenset of frozensets', frozenset({frozenset(), frozenset({1}), frozenset({1, 2})}))


def _add_tuples(c):
    for n in range(0, 9):
        c.add('tuple %d' % n, tuple(_value(i) for i in range(n)))
    c.add('tuple 1000', tuple(range(1000)))
    c.add('tuple of empty tuples', ((), ((),), ((), ())))
    c.add('tuples nested', (1, (2, (3, (4, (5, ()))))))


def _add_dicts(c):
    c.add('dict mixed keys', {None: 0, True: 1, 2: 2, 3.5: 3, 'x': 4, b'y': 5,
                              (1, 'a'): 6, frozenset({1}): 7, -(2**70): 8})
    c.add('dict nested', {'a': {'b': {'c': [1, {'d': ()}]}}})
    c.add('ordereddict', collections.OrderedDict([('z', 1), ('a', 2), ('m', [3])]))
    c.add('ordereddict empty', collections.OrderedDict())
    c.add('counter', collections.Counter('abracadabra'))
    c.add('defaultdict', collections.defaultdict(list, {'a': [1], 'b': []}))
    c.add('deque', collections.deque([1, 'two', 3.0], maxlen=5))
    c.add('namespace', types.SimpleNamespace(x=1, y=[2]))


def _add_nesting(c):
    deep = []
    for _ in range(300):
        deep = [deep]
    c.add('list nested 300', deep)
    deep_t = ()
    for i in range(200):
        deep_t = (i, deep_t)
    c.add('tuple nested 200', deep_t)
    deep_d = {}
    for i in range(200):
        deep_d = {'k': deep_d, 'i': i}
    c.add('dict nested 200', deep_d)
    mixed = 'leaf'
    for i in range(150):
        mixed = [{'t': (mixed,)}] if i % 2 else ({'s': frozenset({i})}, [mixed])
    c.add('mixed nested 150', mixed)


# ----------------------------------------------------- shared and recursive

def _add_shared(c):
    shared_list = [1, 2]
    c.add('shared list twice', [shared_list, shared_list])
    s = ''.join(['sha', 'red string'])        # a str object that is not a constant
    c.add('shared str twice', [s, s, s])
    t = (1, 'x')
    c.add('shared tuple', [t, t, (t, t)])
    b = bytes(range(10))
    c.add('shared bytes', [b, b])
    ba = bytearray(b'xy')
    c.add('shared bytearray', [ba, ba])
    d = {'k': 'v'}
    c.add('shared dict in dict', {'a': d, 'b': d, 'c': [d]})
    st = {1, 2}
    c.add('shared set', (st, [st]))
    fs = frozenset({'q'})
    c.add('shared frozenset', [fs, fs])
    inst = ct.Plain(1, 2)
    c.add('shared instance', [inst, inst, {'x': inst}])
    # More than 256 memo entries: GET and BINGET give way to LONG_BINGET.
    lists = [[i] for i in range(600)]
    c.add('shared 600 lists', [lists, lists[::-1]])
    # Equal but distinct objects: written twice, never merged into one memo entry.
    c.add('equal distinct strs', [''.join(['ab', 'c']), ''.join(['a', 'bc'])])
    c.add('equal distinct tuples', [tuple([1, 'x']), tuple([1, 'x'])])
    c.add('equal distinct bytes', [bytes([1, 2, 3]), bytes([1, 2, 3])])
    f = float('1.25')
    big = 2 ** 100 + 1
    c.add('same float object twice', [f, f])   # floats and ints are never memoized
    c.add('same bigint object twice', [big, big])
    strs = ['str%05d' % i for i in range(70000)]
    c.add('shared 70000 strs', (strs, strs[::7]))


def _add_recursive(c):
    l = []
    l.append(l)
    c.add('recursive list', l)
    d = {}
    d['self'] = d
    c.add('recursive dict', d)
    l2 = []
    t = (l2,)
    l2.append(t)
    c.add('recursive tuple in list', l2)
    c.add('recursive tuple root', t)
    l3 = []
    t3 = ((l3, 1), 2)
    l3.append(t3)
    c.add('recursive nested tuple', t3)
    l4 = []
    l4.extend([(l4, l4), l4, [l4]])
    c.add('recursive list many', l4)
    p = ct.Plain()
    p.a = p
    p.b = [p]
    c.add('recursive instance', p)
    key_holder = {}
    obj = ct.Plain(key_holder, None)
    key_holder[obj] = 1
    c.add('recursive dict key', key_holder)
    o2 = ct.Plain()
    o2.a = {o2}
    c.add('recursive set via instance', o2)
    fs_holder = ct.Plain()
    fs = frozenset({fs_holder})
    fs_holder.a = fs
    c.add('recursive frozenset via instance', fs)
    red = ct.WithReduceItems()
    red.append(red)
    red['me'] = red
    red.note = red
    c.add('recursive reduce items', red)
    my = ct.MyList()
    my.append(my)
    my.attr = my
    c.add('recursive list subclass', my, range(2, 6))   # 0/1: CPython recurses forever


# --------------------------------------------------------------- instances

def _add_instances(c):
    c.add('plain instance', ct.Plain(1, 'two'))
    c.add('plain instance nested', ct.Plain(ct.Plain([1], {'a': 2}), (3,)))
    c.add('reduce instance', ct.WithReduce(1, [2, 3]))
    items = ct.WithReduceItems()
    items.extend(range(2500))
    for i in range(1500):
        items['k%d' % i] = i
    items.note = 'n'
    c.add('reduce with items', items)
    c.add('getstate instance', ct.WithState('w', [1.5, 2.5]))
    # Protocols 0 and 1 refuse classes with __slots__ and no __getstate__.
    c.add('slotted instance', ct.Slotted(1, [2]), range(2, 6))
    c.add('newargs_ex instance', ct.WithNewargsEx(1, b='bee'))
    c.add('newargs int subclass', ct.WithNewargs(42, 'answer'))
    my = ct.MyList(range(1500))
    my.tag = 'mine'
    c.add('list subclass', my)
    md = ct.MyDict((i, str(i)) for i in range(1200))
    md.tag = 'mine'
    c.add('dict subclass', md)
    c.add('nested class instance', ct.Outer.Inner(5))
    c.add('enum members', [ct.Color.RED, ct.Color.GREEN, ct.Color.RED])
    c.add('class by reference', [ct.Plain, ct.Outer.Inner, ct.module_function])
    c.add('builtins by reference', [len, int, dict, collections.OrderedDict, math.sqrt])
    c.add('nonetype', type(None))
    c.add('extension codes', [ct.ExtOne, ct.ExtTwo, ct.ExtFour, ct.ExtOne])
    c.add('many instances', [ct.Plain(i, 'v%d' % i) for i in range(1200)])


# ------------------------------------------------------- realistic, large

def _sensor_record():
    readings = []
    for i in range(600):
        readings.append({
            'ts': 1700000000 + i,
            'temp': 20.0 + (i % 50) * 0.1,
            'hum': 45.5 - (i % 7) * 0.25,
            'ok': i % 13 != 0,
            'err': None if i % 13 else 'sensor timeout',
            'tags': ('indoor', 'floor-%d' % (i % 3)),
            'raw': bytes([(i * 31 + k) % 256 for k in range(8)]),
        })
    return {
        'device': 'esp32-c3/\u00e9tage-2',
        'fw': (1, 4, 2),
        'boot': 2**40 + 12345,
        'location': {'lat': 46.0667, 'lon': 11.1167, 'alt': -0.0},
        'readings': readings,
        'calibration': [math.sin(i / 10.0) for i in range(256)],
        'flags': frozenset({'wifi', 'ble'}),
        'ids': set(range(0, 300, 3)),
        'blob': bytes(range(256)) * 40,
        'log': ['event %d: \u2713' % i for i in range(300)],
        'empty': [{}, [], (), set(), '', b''],
    }


def _add_large(c):
    c.add('sensor record', _sensor_record())
    c.add('ints 60000 crossing frames', list(range(-30000, 30000)))
    c.add('floats 40000 crossing frames', [i / 7.0 for i in range(40000)])
    c.add('strs 20000 crossing frames', ['item-%d-\u00e9' % i for i in range(20000)])
    c.add('dict 12000 crossing frames', {'key%d' % i: [i, i * 0.5] for i in range(12000)})
    c.add('bytes blocks around frames', [bytes([i]) * n for i, n in
                                          enumerate((30000, 40000, 65535, 65536, 10, 70000, 64000, 1))])
    c.add('str blocks around frames', ['x' * 65000, 'y' * 600, '\u20ac' * 30000, 'z' * 65536, 'w'])
    c.add('one 70000 bytes in list', [1, b'\x00' * 70000, 2])
    c.add('nested frames', [[list(range(i, i + 3000)) for i in range(0, 60000, 3000)]])


def build_corpus():
    """All entries, in a fixed order."""
    c = _Corpus()
    ct.register_extensions()
    for add in (_add_singletons, _add_ints, _add_floats, _add_strs, _add_bytes,
                _add_misc_scalars, _add_tuples, _add_sized_containers, _add_dicts,
                _add_nesting, _add_shared, _add_recursive, _add_instances, _add_large):
        add(c)
    return c.entries


# ================================================================ deep_equal

def _float_eq(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


# Compared with ==, after the type check; floats inside are handled apart.
_ATOMS = (type(None), bool, int, str, bytes, bytearray, range, slice, type(Ellipsis),
          type(NotImplemented), decimal.Decimal, fractions.Fraction, datetime.datetime,
          datetime.date, datetime.timedelta, datetime.timezone, uuid.UUID)

# Objects whose identity is observable (mutable): sharing must be preserved.
def _is_identity_bearing(x):
    return isinstance(x, (list, dict, set, bytearray, collections.deque)) or \
        (hasattr(x, '__dict__') and not isinstance(x, type)
         and not isinstance(x, (types.FunctionType, types.BuiltinFunctionType)))


def _tag(x):
    """A hashable, type-exact stand-in for a set element, or raise TypeError."""
    t = type(x)
    if t is float:
        return ('float', 'nan' if math.isnan(x) else x.hex())
    if t in (type(None), bool, int, str, bytes):
        return (t.__name__, x)
    if t is tuple:
        return ('tuple', tuple(_tag(i) for i in x))
    if t is frozenset:
        return ('frozenset', frozenset(_tag(i) for i in x))
    if t is complex:
        return ('complex', _tag(x.real), _tag(x.imag))
    raise TypeError('no tag')


class _Comparer:
    """Structural equality with type identity, nan == nan, -0.0 != 0.0, cycles
    (a pair under comparison is assumed equal: coinduction), and preserved
    sharing of mutable objects (the a->b map must be a bijection)."""

    def __init__(self):
        self.fwd = {}       # id(a) -> b, mutable objects
        self.back = {}      # id(b) -> a
        self.pairs = set()  # (id(a), id(b)) of immutable containers already matched
        self.keep = []      # keeps compared objects alive so ids stay unique

    def eq(self, a, b):
        ta = type(a)
        if ta is not type(b):
            return False
        if ta is float:
            return _float_eq(a, b)
        if ta is complex:
            return _float_eq(a.real, b.real) and _float_eq(a.imag, b.imag)
        if ta in _ATOMS and ta is not bytearray:
            return a == b
        if isinstance(a, (type, types.FunctionType, types.BuiltinFunctionType, enum.Enum)):
            return a is b
        if _is_identity_bearing(a):
            return self._eq_mutable(a, b)
        key = (id(a), id(b))
        if key in self.pairs:
            return True
        self.pairs.add(key)
        self.keep.append((a, b))
        return self._eq_structure(a, b)

    def _eq_mutable(self, a, b):
        seen = self.fwd.get(id(a))
        if seen is not None:
            return seen is b
        if id(b) in self.back:
            return False
        self.fwd[id(a)] = b
        self.back[id(b)] = a
        self.keep.append((a, b))
        return self._eq_structure(a, b)

    def _eq_structure(self, a, b):
        if isinstance(a, bytearray):
            return a == b
        if isinstance(a, (list, tuple, collections.deque)):
            if len(a) != len(b) or not all(self.eq(x, y) for x, y in zip(a, b)):
                return False
            if isinstance(a, collections.deque) and a.maxlen != b.maxlen:
                return False
        elif isinstance(a, dict):
            if len(a) != len(b):
                return False
            for (ka, va), (kb, vb) in zip(a.items(), b.items()):
                if not (self.eq(ka, kb) and self.eq(va, vb)):
                    return False
            if isinstance(a, collections.defaultdict) and \
                    not self.eq(a.default_factory, b.default_factory):
                return False
        elif isinstance(a, (set, frozenset)):
            if not self._eq_set(a, b):
                return False
        elif not _has_own_state(a):
            # No __dict__ and no slots: only the class's own __eq__ can tell.
            return a == b
        return self._eq_attributes(a, b)

    def _eq_attributes(self, a, b):
        if hasattr(a, '__dict__') and not self.eq(dict(vars(a)), dict(vars(b))):
            return False
        for slot in _slot_names(type(a)):
            has_a, has_b = hasattr(a, slot), hasattr(b, slot)
            if has_a != has_b or (has_a and not self.eq(getattr(a, slot), getattr(b, slot))):
                return False
        return True

    def _eq_set(self, a, b):
        if len(a) != len(b):
            return False
        try:
            return collections.Counter(map(_tag, a)) == collections.Counter(map(_tag, b))
        except TypeError:
            pass
        # Elements we cannot tag (instances): match each one, undoing the
        # identity bookkeeping of failed trials.
        remaining = list(b)
        for x in a:
            for i, y in enumerate(remaining):
                saved = (dict(self.fwd), dict(self.back), set(self.pairs))
                if self.eq(x, y):
                    del remaining[i]
                    break
                self.fwd, self.back, self.pairs = saved
            else:
                return False
        return True


def _slot_names(cls):
    names = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get('__slots__', ())
        if isinstance(slots, str):
            slots = (slots,)
        names.extend(s for s in slots if s not in ('__dict__', '__weakref__'))
    return names


def _has_own_state(x):
    return hasattr(x, '__dict__') or bool(_slot_names(type(x)))


def deep_equal(a, b):
    """True when b is a faithful copy of a (see _Comparer)."""
    return _Comparer().eq(a, b)



def deep_equal_self_test():
    """Cases deep_equal must get right; returns the descriptions of wrong answers."""
    shared = [1]
    l1 = []
    l1.append(l1)
    l2 = []
    l2.append(l2)
    l3 = [[]]
    l3[0].append(l3)
    p1, p2 = ct.Plain(1, [2]), ct.Plain(1, [2])
    cases = [
        ('1 vs True', 1, True, False), ('1 vs 1.0', 1, 1.0, False),
        ('nan vs nan', math.nan, math.nan, True), ('0.0 vs -0.0', 0.0, -0.0, False),
        ('str vs bytes', 'a', b'a', False), ('bytes vs bytearray', b'a', bytearray(b'a'), False),
        ('tuple vs list', (1,), [1], False), ('dict order', {1: 1, 2: 2}, {2: 2, 1: 1}, False),
        ('set of 1 vs True', {1}, {True}, False), ('set nan', {math.nan}, {math.nan}, True),
        ('sharing kept', [shared, shared], [[1], [1]], False),
        ('sharing kept, equal', [shared, shared], (lambda s: [s, s])([1]), True),
        ('sharing added', [[1], [1]], (lambda s: [s, s])([1]), False),
        ('recursive lists', l1, l2, True), ('recursion depth differs', l1, l3, False),
        ('instances', p1, p2, True), ('instance attr', p1, ct.Plain(1, [3]), False),
        ('instance type', p1, ct.WithReduce(1, [2]), False),
        ('slots', ct.Slotted(1, 2), ct.Slotted(1, 2), True),
        ('slots differ', ct.Slotted(1, 2), ct.Slotted(1, 3), False),
        ('ordereddict vs dict', collections.OrderedDict(a=1), {'a': 1}, False),
        ('set of instances', {p1}, {p2}, True),
    ]
    wrong = []
    for name, a, b, expected in cases:
        if deep_equal(a, b) is not expected:
            wrong.append('%s: expected %s' % (name, expected))
    return wrong

if __name__ == '__main__':
    import pickle
    sys.setrecursionlimit(20000)
    entries = build_corpus()
    total = 0
    for e in entries:
        for p in e.protocols:
            total += len(pickle.dumps(e.obj, p))
    print('%d entries, %d pickled bytes over their protocols' % (len(entries), total))
    print('deep_equal self-test:', deep_equal_self_test() or 'ok')
