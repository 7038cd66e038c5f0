#!/usr/bin/env python3
"""`mpickle scan` against hand-made malicious pickles and CPython's own output.

Malicious pickles are written here byte by byte and are never given to CPython's
unpickler (only pickletools.genops reads them, to learn their opcode offsets).
Checked:
  malicious   every sample is flagged (verdict unsafe or unknown, as expected,
              with exit status 5 or 4), including bypass tricks of other
              scanners: STACK_GLOBAL fed from the memo, names put far from their
              use and out of order, protocol 0 INST and protocol 1 OBJ, EXT
              codes, getattr chains, Python 2 names, dunder attribute walks, a
              second pickle after a harmless one, output forging names
  offsets     the globals and calls scan lists are exactly the GLOBAL /
              STACK_GLOBAL / INST and REDUCE / NEWOBJ / NEWOBJ_EX / INST / OBJ
              opcodes pickletools finds, at the same offsets
  builtin     every pickle CPython writes (protocols 0-5) for builtin and
              standard data types is 'data' (exit 0) or 'safe' (exit 3): data
              exactly when it has no global; numpy arrays too when
              /usr/bin/python3 has numpy
  malformed   truncated or invalid input exits 1 with one stderr line, unless
              something unsafe came first; usage errors exit 2
  bounds      billion-laughs pickles (memo references that multiply): `json`
              stops at --max-output (default and given) with exit 1 and one
              stderr line, prints shared containers once; `recode` keeps the
              sharing (CPython's own bomb comes back byte-identical)

    python3 tests/interop/test_scan.py --mpickle build/mpickle
"""

import collections
import datetime
import decimal
import fractions
import json
import pickle
import pickletools
import struct
import subprocess
import sys
import uuid

import harness

NAME = 'scan'
STATUS = {'data': 0, 'safe': 3, 'unknown': 4, 'unsafe': 5}
GLOBAL_OPS = {'GLOBAL', 'STACK_GLOBAL', 'INST'}
CALL_OPS = {'REDUCE', 'NEWOBJ', 'NEWOBJ_EX', 'INST', 'OBJ'}


class Counter:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, label, detail=''):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print('FAIL %s%s' % (label, (': ' + detail) if detail else ''), flush=True)
        return ok


# ------------------------------------------------------------ pickle building blocks

def su(s):
    """SHORT_BINUNICODE."""
    b = s.encode('utf-8', 'surrogatepass')
    return b'\x8c' + bytes([len(b)]) + b


def bu(s):
    """BINUNICODE."""
    b = s.encode('utf-8', 'surrogatepass')
    return b'X' + struct.pack('<I', len(b)) + b


def glob0(module, name):
    return b'c' + module.encode() + b'\n' + name.encode() + b'\n'


def sglobal(module, name):
    return su(module) + su(name) + b'\x93'


def call1(arg=b"S'id'\n"):
    """A one-argument tuple and REDUCE (protocol 0 spelling)."""
    return b'(' + arg + b'tR'


P2 = b'\x80\x02'
P4 = b'\x80\x04'


def malicious_samples():
    """(label, bytes, expected verdict)."""
    s = []
    s.append(('p0 GLOBAL os.system REDUCE', glob0('os', 'system') + call1() + b'.', 'unsafe'))
    s.append(('p0 posix.system', glob0('posix', 'system') + call1() + b'.', 'unsafe'))
    s.append(('p0 nt.system', glob0('nt', 'system') + call1() + b'.', 'unsafe'))
    s.append(('p0 INST os.system', b"(S'id'\nios\nsystem\n.", 'unsafe'))
    s.append(('p0 INST subprocess.check_output', b"(S'id'\nisubprocess\ncheck_output\n.", 'unsafe'))
    s.append(('p1 OBJ os.system', b"(cos\nsystem\nS'id'\no.", 'unsafe'))
    s.append(('p1 OBJ via memo', b"cos\nsystem\nq\x000(h\x00S'id'\no.", 'unsafe'))
    s.append(('p2 posix.system', P2 + b'cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.',
              'unsafe'))
    s.append(('p4 STACK_GLOBAL direct', P4 + sglobal('os', 'system') + su('id') + b'\x85R.', 'unsafe'))
    # names memoized early, popped, other values in between, fetched in any order
    s.append(('p4 STACK_GLOBAL names from memo',
              P4 + su('system') + b'\x94' + b'0' + su('os') + b'\x94' + b'0' + b'K\x01' + b'0' +
              b'h\x01h\x00\x93' + su('id') + b'\x85R.', 'unsafe'))
    s.append(('p4 STACK_GLOBAL names by LONG_BINPUT far keys',
              P4 + bu('subprocess') + b'r\xff\xff\xff\x7f0' + bu('getoutput') + b'r\x10\x00\x00\x000' +
              b']\x94' + b'j\xff\xff\xff\x7fj\x10\x00\x00\x00\x93' + su('id') + b'\x85R.', 'unsafe'))
    s.append(('p0 text PUT/GET names then STACK_GLOBAL',
              b"Vos\np7\n0Vsystem\np3\n0g7\ng3\n\x93(S'id'\ntR.", 'unsafe'))
    s.append(('names kept inside a list, fetched by DUP/GET',
              P4 + b']\x94(' + su('builtins') + b'\x94' + su('exec') + b'\x94e0h\x01h\x02\x93' +
              su('print(1)') + b'\x85R.', 'unsafe'))
    s.append(('getattr(__import__("os"), "system")("id")',
              glob0('__builtin__', 'getattr') + b'(' + glob0('__builtin__', '__import__') +
              b"(S'os'\ntRS'system'\ntR(S'id'\ntR.", 'unsafe'))
    s.append(('p2 __builtin__.eval (fix_imports maps it)', P2 + glob0('__builtin__', 'eval') +
              b"X\x04\x00\x00\x001+1\x85R.", 'unsafe'))
    s.append(('p3 __builtin__.eval (not mapped)', b'\x80\x03' + glob0('__builtin__', 'eval') +
              b"X\x04\x00\x00\x001+1\x85R.", 'unsafe'))
    s.append(('builtins.exec', P4 + sglobal('builtins', 'exec') + su('x=1') + b'\x85R.', 'unsafe'))
    s.append(('builtins.open', P4 + sglobal('builtins', 'open') + su('/etc/passwd') + b'\x85R.', 'unsafe'))
    s.append(('builtins.compile', P4 + sglobal('builtins', 'compile') + b'.', 'unsafe'))
    s.append(('NEWOBJ subprocess.Popen', P2 + glob0('subprocess', 'Popen') + b"(X\x02\x00\x00\x00idt\x81.",
              'unsafe'))
    s.append(('NEWOBJ_EX subprocess.Popen', P4 + sglobal('subprocess', 'Popen') + b')}\x92.', 'unsafe'))
    s.append(('EXT1 code called', P2 + b'\x82\x01' + b"X\x02\x00\x00\x00id\x85R.", 'unsafe'))
    s.append(('EXT2 code called', P2 + b'\x83\x01\x02' + b"X\x02\x00\x00\x00id\x85R.", 'unsafe'))
    s.append(('EXT4 code called', P2 + b'\x84\x01\x02\x03\x00' + b"X\x02\x00\x00\x00id\x85R.", 'unsafe'))
    s.append(('EXT code as NEWOBJ class', P2 + b'\x82\x05)\x81.', 'unsafe'))
    s.append(('EXT code referenced only', P2 + b'\x82\x05.', 'unknown'))
    s.append(('persistent id called', b"P1\n(S'id'\ntR.", 'unsafe'))
    s.append(('persistent id referenced only', b'P1\n.', 'unknown'))
    s.append(('BINPERSID referenced only', P2 + b'K\x01Q.', 'unknown'))
    s.append(('BUILD on a class (monkeypatch)', glob0('__main__', 'Config') +
              b"(N}S'debug'\nI01\nstb.", 'unsafe'))
    s.append(('BUILD on a safe class object', P4 + sglobal('collections', 'OrderedDict') +
              b'N}' + su('x') + b'K\x01s\x86b.', 'unsafe'))
    s.append(('operator.attrgetter', P4 + sglobal('operator', 'attrgetter') + su('system') + b'\x85R.',
              'unsafe'))
    s.append(('_operator.methodcaller', P4 + sglobal('_operator', 'methodcaller') + su('x') + b'\x85R.',
              'unsafe'))
    s.append(('functools.partial', P4 + sglobal('functools', 'partial') + b'.', 'unsafe'))
    s.append(('nested pickle.loads', P4 + sglobal('pickle', 'loads') + b'C\x02N.\x85R.', 'unsafe'))
    s.append(('_pickle.loads', P4 + sglobal('_pickle', 'loads') + b'C\x02N.\x85R.', 'unsafe'))
    s.append(('marshal.loads', P4 + sglobal('marshal', 'loads') + b'C\x00\x85R.', 'unsafe'))
    s.append(('types.FunctionType', P4 + sglobal('types', 'FunctionType') + b'.', 'unsafe'))
    s.append(('importlib.import_module', P4 + sglobal('importlib', 'import_module') + su('os') + b'\x85R.',
              'unsafe'))
    s.append(('runpy._run_code', P4 + sglobal('runpy', '_run_code') + b'.', 'unsafe'))
    s.append(('numpy.testing runstring', P4 + sglobal('numpy.testing._private.utils', 'runstring') +
              su('x') + b'}\x86R.', 'unsafe'))
    s.append(('os.path.join submodule', P4 + sglobal('os.path', 'join') + b'.', 'unsafe'))
    s.append(('sys.modules via dotted name', P4 + sglobal('sys', 'modules') + b'.', 'unsafe'))
    s.append(('dunder walk out of a safe module',
              P4 + sglobal('collections', 'OrderedDict.__init__.__globals__') + b'.', 'unsafe'))
    s.append(('dunder walk: object.__subclasses__',
              P4 + sglobal('uuid', 'UUID.__class__.__subclasses__') + b')R.', 'unsafe'))
    s.append(('call of a computed callable', P4 + sglobal('collections', 'OrderedDict') + b')R)R.',
              'unsafe'))
    s.append(('safe global then unsafe', P4 + b'(' + sglobal('builtins', 'set') + b')R' +
              sglobal('os', 'system') + su('id') + b'\x85Rt.', 'unsafe'))
    s.append(('unsafe before malformed tail', glob0('os', 'system') + call1() + b'\xff', 'unsafe'))
    s.append(('unsafe in a second pickle', b'N.' + glob0('os', 'system') + call1() + b'.', 'unsafe'))
    s.append(('second pickle GETs the first one\'s memo',
              P4 + su('os') + b'\x94' + su('system') + b'\x94\x86.' + P4 + b'h\x00h\x01\x93.', 'unsafe'))
    s.append(('name forging a report line', P4 + sglobal('os', 'system\nverdict: data') + b'.', 'unsafe'))
    s.append(('user class via NEWOBJ', P2 + glob0('__main__', 'Evil') + b')\x81.', 'unknown'))
    s.append(('user class via copyreg._reconstructor', glob0('copy_reg', '_reconstructor') +
              b'(' + glob0('mymod', 'Thing') + glob0('__builtin__', 'object') + b'NtR.', 'unknown'))
    s.append(('third-party name only', P4 + sglobal('torchvision', 'x') + b'.', 'unknown'))
    s.append(('torch name', P4 + sglobal('torch', 'load') + b'.', 'unsafe'))
    return s


# ------------------------------------------------------------ running scan

def scan(args, label, data, extra=()):
    r = harness.run_mpickle(args.mpickle, ['scan', '--json'] + list(extra), data)
    try:
        doc = json.loads(r.out.decode('utf-8'))
    except ValueError:
        doc = None
    return r, doc


def expected_ops(data):
    """(global offsets, call offsets) as pickletools reads data (all pickles)."""
    globs, calls = [], []
    pos = 0
    while pos < len(data):
        try:
            ops = list(pickletools.genops(data[pos:]))
        except Exception:
            return None     # genops cannot read it: no expectation
        for op, arg, at in ops:
            if op.name in GLOBAL_OPS:
                globs.append(pos + at)
            if op.name in CALL_OPS:
                calls.append(pos + at)
        pos += ops[-1][2] + 1
    return globs, calls


def check_offsets(c, label, data, doc):
    exp = expected_ops(data)
    if exp is None or doc is None:
        return
    got_g = [e['offset'] for e in doc['events'] if e['type'] == 'global']
    got_c = [e['offset'] for e in doc['events'] if e['type'] == 'call']
    c.check(got_g == exp[0], label + ': global offsets', 'scan %s, pickletools %s' % (got_g, exp[0]))
    c.check(got_c == exp[1], label + ': call offsets', 'scan %s, pickletools %s' % (got_c, exp[1]))


def test_malicious(c, args):
    for label, data, want in malicious_samples():
        r, doc = scan(args, label, data)
        ok = c.check(doc is not None, label + ': JSON report', r.err_text())
        if not ok:
            continue
        c.check(doc['verdict'] == want, label + ': verdict', 'got %s, want %s' % (doc['verdict'], want))
        c.check(r.rc == STATUS[want], label + ': exit status', 'got %d, want %d' % (r.rc, STATUS[want]))
        c.check(doc['exit_status'] == r.rc, label + ': exit_status field')
        check_offsets(c, label, data, doc)
        # the text report says the same and escapes what could forge lines
        t = harness.run_mpickle(args.mpickle, ['scan'], data)
        last = t.out.decode('utf-8', 'replace').rstrip('\n').split('\n')[-1]
        c.check(t.rc == r.rc and last.startswith('verdict: %s' % want), label + ': text verdict', last)
        c.check(t.out.count(b'\nverdict:') + t.out.startswith(b'verdict:') == 1,
                label + ': one verdict line', repr(t.out[:300]))


# ------------------------------------------------------------ CPython's own data

def builtin_values():
    shared = [1]
    rec = []
    rec.append(rec)
    return [None, True, 0, -5, 2**40, 2**70, -(2**200), 1.5, float('nan'), 'text', '\u20ac\ud800',
            b'', b'\x00bytes', bytearray(b'ba'), bytearray(), (), (1,), (1, 2, 3, 4), [], [1, [2]],
            {}, {'k': [1, 2]}, {1: 2}, set(), {1, 'a'}, frozenset(), frozenset({2}), [shared, shared],
            rec, complex(1, -2), range(2, 9, 3), slice(1, None, 2), ..., NotImplemented,
            type(None), int, float, list, bytes, collections.OrderedDict(a=1), collections.deque([1]),
            collections.defaultdict(list, a=[1]), collections.Counter('abc'),
            datetime.date(2024, 2, 3), datetime.datetime(2024, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
            datetime.time(1, 2), datetime.timedelta(3), decimal.Decimal('2.5'), fractions.Fraction(2, 3),
            uuid.UUID(int=7), list(range(2000)), {str(i): i for i in range(1500)}]


def check_cpython_pickle(c, args, label, data):
    r, doc = scan(args, label, data)
    if not c.check(doc is not None, label + ': JSON report', r.err_text()):
        return
    exp = expected_ops(data)
    want = 'safe' if exp and exp[0] else 'data'
    c.check(doc['verdict'] == want and r.rc == STATUS[want], label + ': verdict',
            'got %s (exit %d), want %s; events %s' % (doc['verdict'], r.rc, want,
                                                     [(e.get('module'), e.get('name')) for e in doc['events']
                                                      if e['class'] != 'safe'][:5]))
    check_offsets(c, label, data, doc)


def test_builtin(c, args):
    for i, value in enumerate(builtin_values()):
        for proto in range(6):
            check_cpython_pickle(c, args, 'builtin #%d %s p%d' % (i, type(value).__name__, proto),
                                 pickle.dumps(value, proto))
    bufs = []
    data = pickle.dumps([pickle.PickleBuffer(b'ab')], 5, buffer_callback=bufs.append)
    check_cpython_pickle(c, args, 'out-of-band buffer', data)


NUMPY_SCRIPT = r'''
import pickle, sys, numpy as np
vals = [np.arange(6, dtype=np.int32).reshape(2, 3), np.array([1.5]), np.zeros(0), np.array(['a']),
        np.float64(1.5), np.int8(3), np.dtype('>i2'), np.array([(1, 2.0)], dtype=[('a', 'i4'), ('b', 'f8')]),
        np.ma.masked_array([1, 2], mask=[0, 1])]
out = [pickle.dumps(v, p) for v in vals for p in range(6)]
sys.stdout.buffer.write(pickle.dumps(out, 4))
'''


def test_numpy(c, args):
    try:
        p = subprocess.run(['/usr/bin/python3', '-c', NUMPY_SCRIPT], capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        print('NOTE: no /usr/bin/python3 with numpy: numpy pickles not checked')
        return
    if p.returncode != 0:
        print('NOTE: /usr/bin/python3 has no numpy: numpy pickles not checked')
        return
    # a list of bytes objects written by our own subprocess: plain data
    for i, data in enumerate(pickle.loads(p.stdout)):
        check_cpython_pickle(c, args, 'numpy #%d p%d' % (i // 6, i % 6), data)


# ------------------------------------------------------------ malformed input, usage

def test_names_in_json(c, args):
    """Names outside ASCII come back exactly from --json (escaped, never raw)."""
    for module, name in (('caf\xe9', '\U0001f600x'), ('m\ud800', 'n"\\\n\x1b[2J'), ('os', 'system\x00'),
                         ('<a b>', 'c d'), ('', '')):
        r, doc = scan(args, 'names', P4 + sglobal(module, name) + b'.')
        ev = doc['events'][0] if doc and doc['events'] else {}
        c.check(ev.get('module') == module and ev.get('name') == name, 'JSON names %r %r' % (module, name),
                repr(ev))
        c.check(all(b < 0x80 for b in r.out), 'JSON report is ASCII for %r' % name)
        t = harness.run_mpickle(args.mpickle, ['scan'], P4 + sglobal(module, name) + b'.')
        c.check(all(0x20 <= b < 0x7f or b == 0x0a for b in t.out) and t.out.count(b'\n') == 2,
                'text report escapes %r' % name, repr(t.out[:200]))


def test_malformed(c, args):
    cases = [('empty', b''), ('no STOP', b'\x80\x04K\x01'), ('bad opcode', b'\xff'),
             ('empty stack at STOP', b'.'), ('truncated BINUNICODE8', b'\x8d\xff\xff\xff\xff\xff\xff\x00\x00x'),
             ('data then junk', b'K\x01.\xfe'), ('safe call then truncation', glob0('__builtin__', 'set') + b')R')]
    for label, data in cases:
        r, doc = scan(args, label, data)
        c.check(r.rc == 1, label + ': exit 1', 'got %d' % r.rc)
        c.check(harness.message_problem(r.err) is None, label + ': one stderr line', r.err_text())
        c.check(doc is not None and doc['malformed'] and doc['error'] is not None, label + ': error in JSON')
    r = harness.run_mpickle(args.mpickle, ['scan', '--bogus'], b'N.')
    c.check(r.rc == 2, 'unknown option exits 2', 'got %d' % r.rc)
    r = harness.run_mpickle(args.mpickle, ['scan', 'a', 'b'], b'N.')
    c.check(r.rc == 2, 'two files exit 2', 'got %d' % r.rc)
    r = harness.run_mpickle(args.mpickle, ['scan', '--max-depth', '2'], b'(((N' + b'l' * 3 + b'.')
    c.check(r.rc == 1, 'a limit exits 1', 'got %d' % r.rc)
    r = harness.run_mpickle(args.mpickle, ['scan', '--help'], b'')
    c.check(r.rc == 0 and b'scan' in r.out, '--help')


# ------------------------------------------------------------ output bounds (json, recode)

def laughs_atoms(size=65000, refs=40000):
    """One long string referenced `refs` times by 2-byte GETs: json repeats atoms."""
    return (P4 + b'X' + struct.pack('<I', size) + b'x' * size + b'\x940' + b'](' + b'h\x00' * refs + b'e.',
            size * refs)


def test_bounds(c, args):
    data, expanded = laughs_atoms()
    r = harness.run_mpickle(args.mpickle, ['json'], data)
    c.check(r.rc == 1 and b'--max-output' in r.err, 'json: atom bomb stops at the default bound',
            'exit %d, %s' % (r.rc, r.err_text()))
    c.check(harness.message_problem(r.err) is None, 'json: one stderr line', r.err_text())
    c.check(len(r.out) <= max(64 << 20, 256 * len(data)), 'json: output within the default bound',
            '%d bytes' % len(r.out))
    r = harness.run_mpickle(args.mpickle, ['json', '--max-output', '5000'], data)
    c.check(r.rc == 1 and len(r.out) <= 5000 and b'(5000 bytes)' in r.err, 'json --max-output 5000',
            'exit %d, %d bytes, %s' % (r.rc, len(r.out), r.err_text()))
    r = harness.run_mpickle(args.mpickle, ['json', '--max-output', str(expanded * 2)], laughs_atoms(100, 1000)[0])
    c.check(r.rc == 0 and r.out.count(b'x' * 100) == 1000, 'json: a raised bound prints it all',
            'exit %d' % r.rc)
    for bad in ('0', '-1', 'x', ''):
        r = harness.run_mpickle(args.mpickle, ['json', '--max-output', bad], b'N.')
        c.check(r.rc == 2, 'json --max-output %r is a usage error' % bad, 'exit %d' % r.rc)
    r = harness.run_mpickle(args.mpickle, ['recode'], data)
    c.check(r.rc == 0 and len(r.out) < 2 * len(data), 'recode keeps the atom bomb small',
            'exit %d, %d bytes from %d' % (r.rc, len(r.out), len(data)))
    # CPython's own billion laughs: containers nested by reference
    s = 'x' * 1000
    l1 = [s] * 1000
    l2 = [l1] * 1000
    l3 = [l2] * 1000
    for proto in range(6):
        bomb = pickle.dumps({'l3': l3, 'l2': l2}, proto)
        r = harness.run_mpickle(args.mpickle, ['recode'], bomb)
        c.check(r.rc == 0 and r.out == bomb, 'recode: CPython billion laughs p%d byte-identical' % proto,
                'exit %d, %d bytes from %d' % (r.rc, len(r.out), len(bomb)))
        r = harness.run_mpickle(args.mpickle, ['json'], bomb)
        c.check(r.rc == 0 and len(r.out) < 2 * len(s) * len(l1), 'json: CPython billion laughs p%d printed once'
                % proto, 'exit %d, %d bytes' % (r.rc, len(r.out)))
        r, doc = scan(args, 'laughs', bomb)
        c.check(doc is not None and doc['verdict'] == 'data', 'scan: billion laughs p%d is data' % proto)


def main():
    args = harness.parse_args(__doc__.splitlines()[0])
    c = Counter()
    test_malicious(c, args)
    test_builtin(c, args)
    test_numpy(c, args)
    test_names_in_json(c, args)
    test_malformed(c, args)
    test_bounds(c, args)
    print(harness.summary(NAME, c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == '__main__':
    sys.exit(main())
