#!/usr/bin/env python3
"""`mpickle json` against CPython and docs/json.md.

For every corpus object (corpus.py) and protocol p it can be pickled with:
  roundtrip  json.loads the output, rebuild the objects with the reference reader
             below (which follows docs/json.md: $id/$ref, tuples, sets, calls...)
             and deep-compare with the original; the reader also checks the
             document's shape ($id numbering, every $id referenced, key order)
  format     the bytes equal an independent serialisation of the parsed document
             (compact layout, escapes, float repr, trailing newline)
Then exact expected output for small cases, the special nodes (persistent ids,
extension codes, buffers, Python 2 pickles, crafted graphs), --indent, limits
(deep nesting), malformed input, usage errors and write errors.

    python3 tests/interop/test_json.py --mpickle build/mpickle [--only TEXT] [--jobs N]
"""

import base64
import collections
import concurrent.futures
import copyreg
import importlib
import io
import json
import math
import os
import pickle
import subprocess
import sys
import tempfile

import harness

harness.ensure_hash_seed()
sys.setrecursionlimit(20000)

import corpus  # noqa: E402  (after the hash seed is fixed)
import corpus_types as ct  # noqa: E402

NAME = 'json'


# ============================================================ reference reader

class FormatError(Exception):
    """The document breaks docs/json.md."""


class _Pending:
    """Stands for a tuple, frozenset or object referenced while it is still being
    built (recursion through a mutable container); replaced afterwards."""
    __slots__ = ('key', '__weakref__')

    def __init__(self, key):
        self.key = key


def resolve_global(module, qualname):
    obj = importlib.import_module(module)
    for part in qualname.split('.'):
        obj = getattr(obj, part)
    return obj


def _instantiate(cls, args):
    """What CPython's INST/OBJ do with a class and its arguments."""
    if args or not isinstance(cls, type) or hasattr(cls, '__getinitargs__'):
        return cls(*args)
    return cls.__new__(cls)


def apply_state(obj, state):
    """BUILD, as CPython's unpickler applies it."""
    setstate = getattr(obj, '__setstate__', None)
    if setstate is not None:
        setstate(state)
        return
    slots = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slots = state
    if state:
        obj.__dict__.update(state)
    if slots:
        for k, v in slots.items():
            setattr(obj, k, v)


def apply_listitems(obj, items):
    if isinstance(obj, list):
        obj.extend(items)
        return
    extend = getattr(obj, 'extend', None)
    if extend is not None:
        extend(items)
    else:
        for x in items:
            obj.append(x)


CALL_KEYS = ('kind', 'func', 'args', 'kwargs', 'listitems', 'dictitems', 'state')
TAGS = {'$id', '$ref', '$int', '$float', '$str', '$bytes', '$bytearray', '$tuple', '$set',
        '$frozenset', '$dict', '$global', '$call', '$persid', '$ext', '$buffer'}


class Reader:
    """Turns a parsed document back into Python objects, strictly."""

    def __init__(self, persistent_load=None, buffers=None):
        self.objs = {}              # $id -> object (or _Pending while under construction)
        self.refs = collections.Counter()
        self.pending_used = {}      # key -> _Pending handed out by a $ref
        self.persistent_load = persistent_load
        self.buffers = buffers

    def read(self, doc):
        obj = self.value(doc)
        unused = sorted(k for k in self.objs if not self.refs[k])
        if unused:
            raise FormatError('$id %s never referenced' % unused[:5])
        if self.pending_used:
            fix_pending(obj, {p: self.objs[k] for k, p in self.pending_used.items()})
        return obj

    # --- identity

    def register(self, key, obj):
        if key is not None:
            self.objs[key] = obj
        return obj

    def pending(self, key):
        return self.register(key, _Pending(key)) if key is not None else None

    def complete(self, key, obj):
        if key is not None:
            self.objs[key] = obj
        return obj

    def ref(self, key):
        if key not in self.objs:
            raise FormatError('$ref %r before its $id' % (key,))
        self.refs[key] += 1
        obj = self.objs[key]
        if isinstance(obj, _Pending):
            self.pending_used[key] = obj
        return obj

    # --- values

    def value(self, j, key=None):
        if isinstance(j, list):
            out = self.register(key, [])
            for x in j:
                out.append(self.value(x))
            return out
        if not isinstance(j, dict):
            if key is not None:
                raise FormatError('$id on an atom')
            if isinstance(j, float) and not math.isfinite(j):
                raise FormatError('non-finite JSON number')
            return j
        first = next(iter(j), None)
        if first is None or not first.startswith('$'):
            if any(k.startswith('$') for k in j):
                raise FormatError('plain object with a $ key')
            out = self.register(key, {})
            for k, v in j.items():
                out[k] = self.value(v)
            return out
        if first not in TAGS:
            raise FormatError('unknown tag %r' % first)
        return getattr(self, 'tag_' + first[1:])(j, key)

    def only(self, j, *keys):
        if list(j) != list(keys):
            raise FormatError('keys %r, expected %r' % (list(j), list(keys)))

    def atom(self, key):
        if key is not None:
            raise FormatError('$id on an atom')

    def tag_id(self, j, key):
        self.only(j, '$id', '$value')
        k = j['$id']
        if key is not None or k != len(self.objs) + 1:
            raise FormatError('$id %r out of order (expected %d)' % (k, len(self.objs) + 1))
        self.objs[k] = None     # numbered on sight, filled by the value
        return self.value(j['$value'], k)

    def tag_ref(self, j, key):
        self.only(j, '$ref')
        self.atom(key)
        return self.ref(j['$ref'])

    def tag_int(self, j, key):
        self.only(j, '$int')
        self.atom(key)
        text = j['$int']
        body = text.lstrip('-')
        if body.startswith('0x'):
            if len(body) > 2 and body[2] == '0' or body != body.lower():
                raise FormatError('hex int not canonical: %r' % text[:40])
            v = int(text, 16)
            if v.bit_length() <= 1785 * 8 - 1:
                raise FormatError('hex for an int that fits the decimal form')
        else:
            if not body.isdigit() or (len(body) > 1 and body[0] == '0'):
                raise FormatError('bad decimal %r' % text[:40])
            v = int(text)
        if -2**63 <= v < 2**63:
            raise FormatError('$int for an int64 value %d' % v)
        return v

    def tag_float(self, j, key):
        self.only(j, '$float')
        self.atom(key)
        if j['$float'] not in ('nan', 'inf', '-inf'):
            raise FormatError('$float %r' % j['$float'])
        return float(j['$float'])

    def tag_str(self, j, key):
        self.only(j, '$str')
        self.atom(key)
        parts = j['$str']
        if len(parts) < 2 or not all(isinstance(p, str) for p in parts):
            raise FormatError('$str needs two pieces or more')
        return ''.join(parts)

    def b64(self, text):
        raw = base64.b64decode(text, validate=True)
        if base64.b64encode(raw).decode() != text:
            raise FormatError('base64 not canonical')
        return raw

    def tag_bytes(self, j, key):
        self.only(j, '$bytes')
        self.atom(key)
        return self.b64(j['$bytes'])

    def tag_bytearray(self, j, key):
        self.only(j, '$bytearray')
        return self.register(key, bytearray(self.b64(j['$bytearray'])))

    def tag_tuple(self, j, key):
        self.only(j, '$tuple')
        self.pending(key)
        return self.complete(key, tuple(self.value(x) for x in j['$tuple']))

    def tag_frozenset(self, j, key):
        self.only(j, '$frozenset')
        self.pending(key)
        return self.complete(key, frozenset(self.value(x) for x in j['$frozenset']))

    def tag_set(self, j, key):
        self.only(j, '$set')
        out = self.register(key, set())
        for x in j['$set']:
            out.add(self.value(x))
        return out

    def pairs(self, body, out):
        for pair in body:
            if not isinstance(pair, list) or len(pair) != 2:
                raise FormatError('pair %r' % (pair,))
            k = self.value(pair[0])
            out[k] = self.value(pair[1])

    def tag_dict(self, j, key):
        self.only(j, '$dict')
        out = self.register(key, {})
        self.pairs(j['$dict'], out)
        return out

    def tag_global(self, j, key):
        self.only(j, '$global')
        self.atom(key)
        names = j['$global']
        if not (isinstance(names, list) and len(names) == 2):
            raise FormatError('$global %r' % (names,))
        return resolve_global(*(self.value(n) for n in names))

    def tag_ext(self, j, key):
        self.only(j, '$ext')
        self.atom(key)
        return resolve_global(*copyreg._inverted_registry[j['$ext']])

    def tag_buffer(self, j, key):
        self.only(j, '$buffer', 'readonly')
        self.atom(key)
        buf = self.buffers[j['$buffer']]
        if j['readonly'] is not memoryview(buf).readonly:
            raise FormatError('readonly flag %r' % j['readonly'])
        return buf

    def tag_persid(self, j, key):
        self.only(j, '$persid')
        self.pending(key)
        return self.complete(key, self.persistent_load(self.value(j['$persid'])))

    def tag_call(self, j, key):
        self.only(j, '$call')
        c = j['$call']
        keys = list(c)
        if keys[:3] != ['kind', 'func', 'args'] or \
                [k for k in CALL_KEYS if k in c] != keys or len(set(keys)) != len(keys):
            raise FormatError('$call keys %r' % keys)
        kind = c['kind']
        if kind not in ('reduce', 'newobj', 'newobj_ex', 'inst', 'obj'):
            raise FormatError('$call kind %r' % kind)
        if ('kwargs' in c) != (kind == 'newobj_ex'):
            raise FormatError('kwargs with kind %r' % kind)
        self.pending(key)
        func = self.value(c['func'])
        args = c['args']
        args = tuple(self.value(x) for x in args) if isinstance(args, list) else self.value(args)
        if not isinstance(args, tuple):
            raise FormatError('args is no tuple')
        if kind == 'reduce':
            obj = func(*args)
        elif kind == 'newobj':
            obj = func.__new__(func, *args)
        elif kind == 'newobj_ex':
            obj = func.__new__(func, *args, **self.value(c['kwargs']))
        else:
            obj = _instantiate(func, args)
        self.complete(key, obj)
        if 'listitems' in c:
            if not c['listitems']:
                raise FormatError('empty listitems')
            apply_listitems(obj, [self.value(x) for x in c['listitems']])
        if 'dictitems' in c:
            if not c['dictitems']:
                raise FormatError('empty dictitems')
            self.pairs(c['dictitems'], _SetItems(obj))
        if 'state' in c:
            apply_state(obj, self.value(c['state']))
        return obj


class _SetItems:
    """obj[key] = value through the pairs helper."""
    __slots__ = ('obj',)

    def __init__(self, obj):
        self.obj = obj

    def __setitem__(self, k, v):
        self.obj[k] = v


def fix_pending(root, real):
    """Replaces every _Pending left in mutable containers by the finished object."""
    seen = set()
    stack = [root]

    def sub(x):
        return real.get(x, x) if isinstance(x, _Pending) else x

    def has(xs):
        return any(isinstance(x, _Pending) for x in xs)

    while stack:
        x = stack.pop()
        if id(x) in seen or isinstance(x, (str, bytes, int, float, type(None))):
            continue
        seen.add(id(x))
        if isinstance(x, list):
            x[:] = [sub(i) for i in x]
            stack.extend(x)
        elif isinstance(x, dict):
            if has(x.keys()) or has(x.values()):
                items = [(sub(k), sub(v)) for k, v in x.items()]
                x.clear()
                x.update(items)
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, set):
            if has(x):
                items = [sub(i) for i in x]
                x.clear()
                x.update(items)
            stack.extend(x)
        elif isinstance(x, collections.deque):
            if has(x):
                items = [sub(i) for i in x]
                x.clear()
                x.extend(items)
            stack.extend(x)
        elif isinstance(x, (tuple, frozenset)):
            if has(x):
                raise FormatError('a tuple or frozenset contains itself directly')
            stack.extend(x)
        if hasattr(x, '__dict__') and not isinstance(x, type):
            stack.append(vars(x))
        for slot in corpus._slot_names(type(x)):
            if hasattr(x, slot):
                v = getattr(x, slot)
                if isinstance(v, _Pending):
                    setattr(x, slot, sub(v))
                stack.append(getattr(x, slot))


# ==================================================== independent serialiser

_ESC = {'"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t',
        '\b': '\\b', '\f': '\\f'}


def canon_str(s):
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch in _ESC:
            out.append(_ESC[ch])
        elif o < 0x20 or 0xD800 <= o <= 0xDFFF:
            out.append('\\u%04x' % o)
        else:
            out.append(ch)
    out.append('"')
    return ''.join(out)


def canon(j, indent=None, level=0):
    """The exact text docs/json.md prescribes for the parsed document j."""
    if j is None:
        return 'null'
    if j is True:
        return 'true'
    if j is False:
        return 'false'
    if isinstance(j, int):
        return str(j)
    if isinstance(j, float):
        return repr(j)
    if isinstance(j, str):
        return canon_str(j)
    if isinstance(j, list):
        parts = [canon(x, indent, level + 1) for x in j]
        open_, close = '[', ']'
    else:
        sep = ':' if indent is None else ': '
        parts = [canon_str(k) + sep + canon(v, indent, level + 1) for k, v in j.items()]
        open_, close = '{', '}'
    if not parts:
        return open_ + close
    if indent is None:
        return open_ + ','.join(parts) + close
    pad = '\n' + ' ' * (indent * (level + 1))
    return open_ + pad + (',' + pad).join(parts) + '\n' + ' ' * (indent * level) + close


def parse(out):
    """Parses output bytes strictly (UTF-8, no NaN/Infinity, one document + newline)."""
    if not out.endswith(b'\n') or out.count(b'\n') != 1:
        raise FormatError('not one line ending in a newline')
    text = out.decode('utf-8')

    def no_constant(name):
        raise FormatError('non-JSON constant %s' % name)
    return json.loads(text, parse_constant=no_constant)


# ================================================================== the tests

class Tally:
    def __init__(self, max_reports=40):
        self.passed = self.failed = 0
        self.max_reports = max_reports
        self.reports = []

    def check(self, ok, label, detail=''):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            if len(self.reports) < self.max_reports:
                self.reports.append('FAIL %s%s' % (label, (': ' + detail) if detail else ''))
        return ok


def run(prog, args, data=b'', timeout=300):
    return harness.run_mpickle(prog, ['json'] + list(args), data, timeout)


def check_run(t, r, label):
    """Exit 0 with a clean stderr; returns True when it was."""
    if r.rc != 0 or r.err:
        return t.check(False, label, 'exit %d, stderr %r' % (r.rc, r.err_text()))
    return True


def corpus_case(prog, entry, proto):
    """Runs one corpus object through json; returns a list of (ok, label, detail)."""
    label = '%r protocol %d' % (entry.name, proto)
    data = pickle.dumps(entry.obj, proto)
    r = run(prog, [], data)
    if r.rc != 0 or r.err:
        return [(False, label, 'exit %d: %s' % (r.rc, r.problem() or r.err_text()))]
    results = []
    try:
        doc = parse(r.out)
    except (FormatError, ValueError) as exc:
        return [(False, label + ' parse', str(exc)[:300])]
    want = canon(doc) + '\n'
    got = r.out.decode('utf-8')
    if want == got:
        results.append((True, label + ' format', ''))
    else:
        at = next((i for i, (a, b) in enumerate(zip(want, got)) if a != b), min(len(want), len(got)))
        results.append((False, label + ' format', 'differs at %d: want %r got %r'
                        % (at, want[max(0, at - 30):at + 30], got[max(0, at - 30):at + 30])))
    try:
        obj = Reader().read(doc)
        ok = corpus.deep_equal(entry.obj, obj)
        results.append((ok, label + ' roundtrip', '' if ok else 'rebuilt %r' % (repr(obj)[:200],)))
    except Exception as exc:    # a reader failure is the document's fault
        results.append((False, label + ' roundtrip', '%s: %s' % (type(exc).__name__, str(exc)[:300])))
    return results


def test_corpus(t, prog, only, jobs):
    entries = [e for e in corpus.build_corpus() if not only or only in e.name]
    cases = [(e, p) for e in entries for p in e.protocols]
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for results in pool.map(lambda c: corpus_case(prog, *c), cases):
            for ok, label, detail in results:
                t.check(ok, label, detail)
    return len(cases)


# ----------------------------------------------------------- exact outputs

class SharedArgs:
    """A __reduce__ whose argument tuple is also in the state: args is shared."""

    def __init__(self, *args):
        self.args = args

    def __reduce__(self):
        return (SharedArgs, self.args, {'args': self.args})


def _golden_cases():
    """(label, object, {protocol or 'all': expected compact output})."""
    l1 = [1]
    rec = []
    rec.append(rec)
    d = {}
    d['me'] = d
    rt = []
    t = (rt,)
    rt.append(t)
    plain = ct.Plain(1, 2)
    plain_state = '"state":{"a":1,"b":2}'
    plain_new = ('{"$call":{"kind":"newobj","func":{"$global":["corpus_types","Plain"]},"args":[],'
                 + plain_state + '}}')
    plain_old = ('{"$call":{"kind":"reduce","func":{"$global":["copyreg","_reconstructor"]},'
                 '"args":[{"$global":["corpus_types","Plain"]},{"$global":["builtins","object"]},null],'
                 + plain_state + '}}')
    return [
        ('None', None, 'null'),
        ('bools', [True, False], '[true,false]'),
        ('int64 edges', [0, -1, 2**63 - 1, -2**63], '[0,-1,9223372036854775807,-9223372036854775808]'),
        ('bigints', [2**63, -2**63 - 1, 2**64, 10**30],
         '[{"$int":"9223372036854775808"},{"$int":"-9223372036854775809"},'
         '{"$int":"18446744073709551616"},{"$int":"1000000000000000000000000000000"}]'),
        ('int 4299 digits', [10**4298, -2**14279],
         '[{"$int":"1' + '0' * 4298 + '"},{"$int":"' + str(-2**14279) + '"}]'),
        ('int just too big for decimal', 2**14279, '{"$int":"0x8' + '0' * 3569 + '"}'),
        ('int hex', [2**(8 * 1785), -2**(8 * 1785)],
         '[{"$int":"0x1' + '0' * 3570 + '"},{"$int":"-0x1' + '0' * 3570 + '"}]'),
        ('floats', [1.0, -0.0, 0.1, 1e16, 1e-05, 5e-324, 1.7976931348623157e308, 123456789.125],
         '[1.0,-0.0,0.1,1e+16,1e-05,5e-324,1.7976931348623157e+308,123456789.125]'),
        ('non-finite', [math.nan, math.inf, -math.inf],
         '[{"$float":"nan"},{"$float":"inf"},{"$float":"-inf"}]'),
        ('str escapes', 'a"\\\n\r\t\b\f\x00\x1f\x7f/', '"a\\"\\\\\\n\\r\\t\\b\\f\\u0000\\u001f\x7f/"'),
        ('str unicode raw', '\xe9\u20ac\U0001f600', '"\xe9\u20ac\U0001f600"'),
        ('lone surrogates', ['\ud800', 'x\udfffy'], '["\\ud800","x\\udfffy"]'),
        ('surrogate pair as two', 'a\ud83d\ude00b', '{"$str":["a\\ud83d","\\ude00b"]}'),
        ('surrogates three cuts', '\ud800\udc00\udbff\udfff',
         '{"$str":["\\ud800","\\udc00\\udbff","\\udfff"]}'),
        ('low then high is fine', '\udc00\ud800', '"\\udc00\\ud800"'),
        ('bytes', [b'', b'\x00\xff', b'abc', b'abcd'],
         '[{"$bytes":""},{"$bytes":"AP8="},{"$bytes":"YWJj"},{"$bytes":"YWJjZA=="}]'),
        ('bytearray', bytearray(b'xy'), '{"$bytearray":"eHk="}'),
        ('tuples', ((), (1,), ((2,),)), '{"$tuple":[{"$tuple":[]},{"$tuple":[1]},{"$tuple":[{"$tuple":[2]}]}]}'),
        ('set', {3}, '{"$set":[3]}'),
        ('frozenset', frozenset(), '{"$frozenset":[]}'),
        ('dict str keys', {'a': 1, 'b': [2]}, '{"a":1,"b":[2]}'),
        ('dict other keys', {1: 'x', (2, 3): 4}, '{"$dict":[[1,"x"],[{"$tuple":[2,3]},4]]}'),
        ('dict $ key', {'$ref': 1, 'a': 2}, '{"$dict":[["$ref",1],["a",2]]}'),
        ('dict surrogate pair key', {'\ud83d\ude00': 1}, '{"$dict":[[{"$str":["\\ud83d","\\ude00"]},1]]}'),
        ('empty', [[], {}, ''], '[[],{},""]'),
        ('shared list', [l1, l1], '[{"$id":1,"$value":[1]},{"$ref":1}]'),
        ('recursive list', rec, '{"$id":1,"$value":[{"$ref":1}]}'),
        ('recursive dict', d, '{"$id":1,"$value":{"me":{"$ref":1}}}'),
        # the list is reached once (from the tuple): only the tuple has an $id
        ('recursive tuple', t, '{"$id":1,"$value":{"$tuple":[[{"$ref":1}]]}}'),
        ('shared str repeated', ['ab' * 3] * 2, '["ababab","ababab"]'),
        # below protocol 4 CPython reaches a nested class through getattr
        ('globals', [len, collections.OrderedDict, ct.Outer.Inner],
         {p: '[{"$global":["builtins","len"]},{"$global":["collections","OrderedDict"]},' +
             ('{"$global":["corpus_types","Outer.Inner"]}]' if p >= 4 else
              '{"$call":{"kind":"reduce","func":{"$global":["builtins","getattr"]},'
              '"args":[{"$global":["corpus_types","Outer"]},"Inner"]}}]') for p in range(6)}),
        ('ordereddict', collections.OrderedDict([('a', 1)]),
         '{"$call":{"kind":"reduce","func":{"$global":["collections","OrderedDict"]},"args":[],'
         '"dictitems":[["a",1]]}}'),
        ('complex', complex(1, 2),
         '{"$call":{"kind":"reduce","func":{"$global":["builtins","complex"]},"args":[1.0,2.0]}}'),
        ('instance', plain, {0: plain_old, 1: plain_old, 2: plain_new, 3: plain_new, 4: plain_new,
                             5: plain_new}),
        ('newobj_ex', ct.WithNewargsEx(1, b=2),
         {4: '{"$call":{"kind":"newobj_ex","func":{"$global":["corpus_types","WithNewargsEx"]},'
             '"args":[1],"kwargs":{"b":2},"state":{"a":1,"b":2}}}',
          5: '{"$call":{"kind":"newobj_ex","func":{"$global":["corpus_types","WithNewargsEx"]},'
             '"args":[1],"kwargs":{"b":2},"state":{"a":1,"b":2}}}'}),
        ('list subclass items', ct.MyList([1, 2]),
         {p: '{"$call":{"kind":"newobj","func":{"$global":["corpus_types","MyList"]},"args":[],'
             '"listitems":[1,2]}}' for p in (2, 3, 4, 5)}),
        ('shared args tuple', SharedArgs(1, 'x'),
         {p: '{"$call":{"kind":"reduce","func":{"$global":["__main__","SharedArgs"]},'
             '"args":{"$id":1,"$value":{"$tuple":[1,"x"]}},"state":{"args":{"$ref":1}}}}'
          for p in range(6)}),
    ]


def test_golden(t, prog):
    for label, obj, expected in _golden_cases():
        for proto in range(6):
            want = expected if isinstance(expected, str) else expected.get(proto)
            if want is None:
                continue
            try:
                data = pickle.dumps(obj, proto)
            except (ValueError, pickle.PicklingError):
                continue    # protocol 0 cannot write every int
            r = run(prog, [], data)
            name = 'exact %s protocol %d' % (label, proto)
            if check_run(t, r, name):
                t.check(r.out == (want + '\n').encode('utf-8'), name,
                        'want %r\n      got %r' % (want[:300], r.out[:300]))


# ------------------------------------------------- special nodes and inputs

class _Ref:
    def __init__(self, key):
        self.key = key


class _PidPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _Ref):
            return obj.key if self.proto == 0 else ('ref', obj.key)
        return None


def _expect(t, prog, label, data, want, args=()):
    r = run(prog, list(args), data)
    if check_run(t, r, label):
        t.check(r.out == (want + '\n').encode('utf-8'), label,
                'want %r\n      got %r' % (want[:300], r.out[:300]))
    return r


def _roundtrip_special(t, prog, label, data, original, **reader_args):
    r = run(prog, [], data)
    if not check_run(t, r, label):
        return
    try:
        obj = Reader(**reader_args).read(parse(r.out))
        t.check(corpus.deep_equal(original, obj), label + ' roundtrip', repr(obj)[:200])
    except Exception as exc:
        t.check(False, label + ' roundtrip', '%s: %s' % (type(exc).__name__, exc))


def test_special(t, prog):
    # persistent ids: text form (protocol 0) and BINPERSID
    shared = [1]
    for proto in range(6):
        f = io.BytesIO()
        p = _PidPickler(f, proto)
        p.proto = proto
        r1 = _Ref('one')
        p.dump([r1, r1, 2])
        pid = '"one"' if proto == 0 else '{"$tuple":["ref","one"]}'
        want = '[{"$persid":%s},{"$persid":%s},2]' % (pid, pid)
        _expect(t, prog, 'persid protocol %d' % proto, f.getvalue(), want)
        _roundtrip_special(t, prog, 'persid protocol %d' % proto, f.getvalue(), [shared, shared, 2],
                           persistent_load=lambda k: shared)
    # extension codes
    copyreg.add_extension('corpus_types', 'Plain', 240)
    copyreg.add_extension('corpus_types', 'WithReduce', 0x1234)
    copyreg.add_extension('corpus_types', 'Slotted', 0x12345678)
    try:
        for proto in range(2, 6):
            data = pickle.dumps([ct.Plain, ct.WithReduce, ct.Slotted], proto)
            _expect(t, prog, 'ext protocol %d' % proto, data,
                    '[{"$ext":240},{"$ext":4660},{"$ext":305419896}]')
            _roundtrip_special(t, prog, 'ext protocol %d' % proto, data,
                               [ct.Plain, ct.WithReduce, ct.Slotted])
    finally:
        copyreg.remove_extension('corpus_types', 'Plain', 240)
        copyreg.remove_extension('corpus_types', 'WithReduce', 0x1234)
        copyreg.remove_extension('corpus_types', 'Slotted', 0x12345678)
    # out-of-band buffers
    bufs = [pickle.PickleBuffer(b'abc'), pickle.PickleBuffer(bytearray(b'x'))]
    data = pickle.dumps([bufs[0], bufs[1], bufs[0]], 5, buffer_callback=lambda b: False)
    # CPython writes NEXT_BUFFER again for a repeated buffer: three buffers
    _expect(t, prog, 'buffers', data, '[{"$buffer":0,"readonly":true},{"$buffer":1,"readonly":false},'
                                      '{"$buffer":2,"readonly":true}]')
    _roundtrip_special(t, prog, 'buffers', data, [b'abc', bytearray(b'x'), b'abc'],
                       buffers=[b'abc', bytearray(b'x'), b'abc'])

    # Python 2 pickles: py2 str, names mapped by fix_imports
    py2 = b"(lp0\nS'caf\\xe9'\np1\naS'ok'\np2\nac__builtin__\nlen\np3\na."
    _expect(t, prog, 'py2 latin1', py2, '["caf\xe9","ok",{"$global":["builtins","len"]}]',
            ['--encoding', 'latin1'])
    _expect(t, prog, 'py2 bytes, no fix_imports', py2,
            '[{"$bytes":"Y2Fm6Q=="},{"$bytes":"b2s="},{"$global":["__builtin__","len"]}]',
            ['--encoding', 'bytes', '--no-fix-imports'])
    r = run(prog, [], py2)
    t.check(r.rc == 1 and harness.message_problem(r.err) is None and not r.out,
            'py2 non-ASCII str refused by default', 'exit %d %r' % (r.rc, r.err_text()))
    _expect(t, prog, 'py2 copy_reg mapped', b"ccopy_reg\n_reconstructor\n.",
            '{"$global":["copyreg","_reconstructor"]}')
    # Python 2 instance opcodes INST and OBJ
    _expect(t, prog, 'INST', b"(S'a'\nicorpus_types\nPlain\n(dp0\nS'b'\nI2\nsb.",
            '{"$call":{"kind":"inst","func":{"$global":["corpus_types","Plain"]},"args":["a"],'
            '"state":{"b":2}}}')
    _expect(t, prog, 'OBJ', b"\x80\x01(ccorpus_types\nPlain\nK\x01o.",
            '{"$call":{"kind":"obj","func":{"$global":["corpus_types","Plain"]},"args":[1]}}')

    # crafted graphs
    dup = b'\x80\x02}(X\x01\x00\x00\x00aK\x01X\x01\x00\x00\x00bK\x02X\x01\x00\x00\x00aK\x03u.'
    _expect(t, prog, 'duplicate str keys', dup, '{"$dict":[["a",1],["b",2],["a",3]]}')
    long_small = b'\x80\x02\x8a\x09\x05' + b'\x00' * 8 + b'.'
    _expect(t, prog, 'non-minimal LONG1 that fits', long_small, '5')
    _expect(t, prog, 'LONG text', b'L12345678901234567890123L\n.', '{"$int":"12345678901234567890123"}')
    changed = (b'\x80\x02c__builtin__\nbytearray\nC\x02ab\x85R(K\x01K\x02e.')
    _expect(t, prog, 'recognised builtin changed afterwards', changed,
            '{"$call":{"kind":"reduce","func":{"$global":["builtins","bytearray"]},'
            '"args":[{"$bytes":"YWI="}],"listitems":[1,2]}}')
    _roundtrip_special(t, prog, 'recognised builtin changed afterwards', changed,
                       pickle.loads(changed))
    set_p2 = pickle.dumps({1, 2}, 2)
    _expect(t, prog, 'set via REDUCE (protocol 2)', set_p2, '{"$set":[1,2]}')
    # the same persistent object from the memo: one $persid with an identity
    pid_memo = b'\x80\x03]q\x00(C\x01kQq\x01h\x01e.'
    _expect(t, prog, 'memoized persid shared', pid_memo,
            '[{"$id":1,"$value":{"$persid":{"$bytes":"aw=="}}},{"$ref":1}]')
    # a shared tuple in many places, and a dict reached through two paths
    tt = (1,)
    dd = {'k': tt}
    _expect(t, prog, 'shared tuple and dict', pickle.dumps([tt, dd, [dd, tt]], 2),
            '[{"$id":1,"$value":{"$tuple":[1]}},{"$id":2,"$value":{"k":{"$ref":1}}},'
            '[{"$ref":2},{"$ref":1}]]')


def test_indent(t, prog):
    objs = [{'a': [1, [], {}], 'b': {'c': (1, 2)}, 'd': set(), 'e': 'x\ud800'},
            [collections.OrderedDict(a=[1.5, None]), ct.Plain(b'1', 2)],
            (lambda l: (l.append(l), l)[1])([]), 42, 'text', []]
    for obj in objs:
        for ind in (0, 1, 2, 4):
            label = 'indent %d %s' % (ind, repr(obj)[:40])
            r = run(prog, ['--indent', str(ind)], pickle.dumps(obj, 4))
            if check_run(t, r, label):
                try:
                    doc = json.loads(r.out.decode('utf-8'))
                    t.check(r.out.endswith(b'\n') and r.out.decode('utf-8') == canon(doc, ind) + '\n',
                            label, 'got %r' % r.out[:200])
                except ValueError as exc:
                    t.check(False, label, str(exc))


def _nested_tuples(depth):
    """A protocol 2 pickle of `depth` tuples nested with TUPLE1 (no MARKs)."""
    return b'\x80\x02N' + b'\x85' * depth + b'.'


def test_limits(t, prog):
    def refused(label, args, data):
        r = run(prog, args, data)
        t.check(r.rc == 1 and not r.out and harness.message_problem(r.err) is None
                and b'max-depth' in r.err, label,
                'exit %d, %d bytes out, stderr %r' % (r.rc, len(r.out), r.err_text()))

    deep = _nested_tuples(100000)
    refused('100000 nested tuples, default limit', [], deep)
    refused('100000 nested tuples, --max-depth 50', ['--max-depth', '50'], deep)
    r = run(prog, ['--max-depth', '200000'], deep)
    ok = r.rc == 0 and r.out == b'{"$tuple":[' * 100000 + b'null' + b']}' * 100000 + b'\n'
    t.check(ok, '100000 nested tuples with --max-depth 200000 (no C recursion)',
            'exit %d %r' % (r.rc, r.err_text()))
    # exactly at the limit passes, one more fails
    _expect(t, prog, '50 tuples at --max-depth 50', _nested_tuples(50),
            '{"$tuple":[' * 50 + 'null' + ']}' * 50, ['--max-depth', '50'])
    refused('51 tuples at --max-depth 50', ['--max-depth', '50'], _nested_tuples(51))
    # depth through objects and dicts counts the same way
    o = None
    for _ in range(30):
        o = ct.Plain(o)
    # each Plain is a $call node holding a state dict: two levels per instance
    r = run(prog, ['--max-depth', '60'], pickle.dumps(o, 2))
    t.check(r.rc == 0, 'instances nested 30 at --max-depth 60', r.err_text())
    refused('instances nested 30 at --max-depth 59', ['--max-depth', '59'], pickle.dumps(o, 2))
    # recursive structures are not deep
    big = []
    for i in range(5000):
        big = [big, big]
    r = run(prog, [], pickle.dumps(big, 4))
    t.check(r.rc == 0, 'dag of 5000 levels of shared pairs: linear output', r.err_text())
    t.check(r.rc == 0 and len(r.out) < 200000, 'dag output stays small', '%d bytes' % len(r.out))


def _malformed_inputs():
    cases = [('empty', b''), ('garbage', b'garbage'), ('truncated', pickle.dumps([1, 2, 3], 2)[:-1]),
             ('bad opcode', b'\x80\x02\xff.'), ('stack underflow', b'\x80\x02t.'),
             ('memo miss', b'\x80\x02h\x05.'), ('two values at STOP', b'\x80\x02NN.'),
             ('bad protocol', b'\x80\x09N.'), ('bad utf-8', b'\x80\x03X\x01\x00\x00\x00\xff.'),
             ('bad unicode escape', b'V\\u12\n.'), ('BUILD on a list', b'\x80\x02]}b.')]
    # CPython's whole set of malformed vectors is test_pickletester.py's job
    return cases


def test_errors(t, prog):
    for label, data in _malformed_inputs():
        r = run(prog, [], data)
        t.check(r.rc == 1 and not r.out and harness.message_problem(r.err) is None,
                'malformed %s' % label, 'exit %d, %d bytes out, stderr %r' % (r.rc, len(r.out), r.err_text()))
    for label, args in (('unknown option', ['--nope']), ('two files', ['a', 'b']),
                        ('indent without value', ['--indent']), ('indent negative', ['--indent', '-1']),
                        ('indent too big', ['--indent', '65']), ('indent not a number', ['--indent', 'x']),
                        ('bad max-depth', ['--max-depth', '0']), ('bad encoding', ['--encoding', 'utf9'])):
        r = run(prog, args, pickle.dumps(1))
        t.check(r.rc == 2 and not r.out, 'usage: ' + label, 'exit %d' % r.rc)
    r = run(prog, ['--help'])
    t.check(r.rc == 0 and b'usage' in r.out, '--help', 'exit %d' % r.rc)
    # a file argument, a missing file, '-' for stdin
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'x.pkl')
        with open(path, 'wb') as f:
            f.write(pickle.dumps({'a': (1,)}, 3))
        _expect(t, prog, 'file argument', b'', '{"a":{"$tuple":[1]}}', [path])
        r = run(prog, [os.path.join(tmp, 'missing.pkl')])
        t.check(r.rc == 1 and harness.message_problem(r.err) is None, 'missing file', r.err_text())
        _expect(t, prog, '- for stdin', pickle.dumps([1]), '[1]', ['-'])
        # output that cannot be written
        if os.path.exists('/dev/full'):
            with open('/dev/full', 'wb') as full:
                p = subprocess.run([prog, 'json', path], stdout=full, stderr=subprocess.PIPE,
                                   env=harness.child_env())
            t.check(p.returncode == 1 and harness.message_problem(p.stderr) is None,
                    'write error reported', 'exit %d %r' % (p.returncode, p.stderr[:200]))


def self_test(t):
    """The reader and serialiser themselves must catch bad documents."""
    bad = ['{"$id":2,"$value":[]}', '{"$ref":1}', '{"$id":1,"$value":[]}', '{"$tuple":[1],"x":2}',
           '{"$int":"5"}', '{"$int":"007"}', '{"$float":"1.5"}', '{"$bytes":"AP8"}', '{"$nope":1}',
           '{"a":1,"$b":2}', '{"$call":{"func":{"$global":["builtins","int"]},"kind":"reduce","args":[]}}',
           '{"$str":["ab"]}', '{"$dict":[[1]]}']
    for text in bad:
        try:
            Reader().read(json.loads(text))
            t.check(False, 'reader rejects %s' % text)
        except (FormatError, KeyError, TypeError, ValueError):
            t.check(True, 'reader rejects %s' % text)
    t.check(canon({'a': [1, 'é\ud800\n']}) == '{"a":[1,"é\\ud800\\n"]}', 'canon self-test')
    wrong = corpus.deep_equal_self_test()
    t.check(not wrong, 'deep_equal self-test', '; '.join(wrong))


def main():
    args = harness.parse_args(__doc__.split('\n')[0], lambda ap: (
        ap.add_argument('--only', default='', help='corpus entries whose name contains TEXT'),
        ap.add_argument('--jobs', type=int, default=os.cpu_count() or 2)))
    if not os.path.exists(args.mpickle):
        print('%s: no program at %s' % (NAME, args.mpickle))
        print(harness.summary(NAME, 0, 1))
        return 1
    t = Tally()
    self_test(t)
    ncorpus = test_corpus(t, args.mpickle, args.only, args.jobs)
    if not args.only:
        test_golden(t, args.mpickle)
        test_special(t, args.mpickle)
        test_indent(t, args.mpickle)
        test_limits(t, args.mpickle)
        test_errors(t, args.mpickle)
    for line in t.reports:
        print(line)
    if t.failed > len(t.reports):
        print('... %d more failures' % (t.failed - len(t.reports)))
    print('(%d corpus pickles)' % ncorpus)
    print(harness.summary(NAME, t.passed, t.failed))
    return 1 if t.failed else 0


if __name__ == '__main__':
    sys.exit(main())
