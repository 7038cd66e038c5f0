"""Module-level classes for the interop corpus.

They live in their own module so that pickles name them `corpus_types.X`; the
stand-in (fake_mpickle.py) and the test scripts sit in the same directory and so
can import them, while the C engine never imports anything.
"""

import copyreg
import enum


class Plain:
    """An ordinary class: pickled through copyreg / NEWOBJ plus a state dict."""

    def __init__(self, a=None, b=None):
        self.a = a
        self.b = b


class WithReduce:
    """__reduce__ gives (class, args): pickled as a REDUCE call, no state."""

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __reduce__(self):
        return (WithReduce, (self.x, self.y))


class WithReduceItems:
    """A 5-tuple __reduce__: callable, args, state, list items, dict items
    (APPENDS and SETITEMS applied to a reduced object, then BUILD)."""

    def __init__(self):
        self.items = []
        self.mapping = {}
        self.note = None

    def append(self, item):
        self.items.append(item)

    def extend(self, items):
        self.items.extend(items)

    def __setitem__(self, key, value):
        self.mapping[key] = value

    def __reduce__(self):
        state = {'note': self.note}
        return (WithReduceItems, (), state, iter(self.items),
                iter(self.mapping.items()))


class WithState:
    """__getstate__/__setstate__ with a state that is not the __dict__."""

    def __init__(self, name, values):
        self.name = name
        self.values = values
        self.cache = 'derived'

    def __getstate__(self):
        return (self.name, self.values)

    def __setstate__(self, state):
        self.name, self.values = state
        self.cache = 'derived'


class Slotted:
    """__slots__ without __dict__: state is (None, {slot: value})."""

    __slots__ = ('x', 'y', 'unset')

    def __init__(self, x, y):
        self.x = x
        self.y = y


class WithNewargsEx:
    """Keyword-only constructor: NEWOBJ_EX in protocol 4+."""

    def __new__(cls, a, *, b):
        self = super().__new__(cls)
        self.a = a
        self.b = b
        return self

    def __getnewargs_ex__(self):
        return ((self.a,), {'b': self.b})


class WithNewargs(int):
    """An int subclass with __getnewargs__ and an attribute."""

    def __new__(cls, value, label):
        self = super().__new__(cls, value)
        self.label = label
        return self

    def __getnewargs__(self):
        return (int(self), self.label)


class MyList(list):
    """A list subclass with attributes: items arrive through APPENDS on the object."""


class MyDict(dict):
    """A dict subclass with attributes: items arrive through SETITEMS on the object."""


class Outer:
    """Holds a nested class, whose qualified name has a dot."""

    class Inner:
        def __init__(self, v):
            self.v = v


class Color(enum.Enum):
    RED = 1
    GREEN = 'green'


def module_function(x):
    """A plain function pickled by reference."""
    return x


class ExtOne:
    """Registered as extension code 0x7e (EXT1 in protocols 2+)."""


class ExtTwo:
    """Registered as extension code 0xbeef (EXT2)."""


class ExtFour:
    """Registered as extension code 0x7654321 (EXT4)."""


# Codes chosen apart from those other test scripts register for a while
# (240, 0x1234, 0x12345678).
_EXTENSIONS = ((ExtOne, 0x7e), (ExtTwo, 0xbeef), (ExtFour, 0x7654321))


def register_extensions():
    """copyreg's registry is per process: every process that pickles or loads
    these classes by code calls this (build_corpus and the stand-in do)."""
    for cls, code in _EXTENSIONS:
        key = (cls.__module__, cls.__qualname__)
        if copyreg._extension_registry.get(key) != code:
            copyreg.add_extension(cls.__module__, cls.__qualname__, code)
