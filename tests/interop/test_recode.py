#!/usr/bin/env python3
"""`mpickle recode` against CPython, over the corpus of corpus.py.

For every corpus object and protocol p it can be pickled with, data = pickle.dumps(obj, p):
  same     recode data                 -> output byte-identical to data
  cross    recode -p q data, every q   -> pickle.loads(output) deep-equals obj
           (and, as information only, how often output == pickle.dumps(obj, q))
  compact  recode --compact data       -> loads deep-equal, not larger than data
  optimized recode -p p pickletools.optimize(data) -> data again (the encoder does not
           depend on the input's memo layout: same object, same bytes)
Then hand-written pickles CPython would not write (duplicate keys, non-minimal
ints, odd memo use...): the output must load equal to what the input loads to
(whether the bytes equal CPython's own dumps is printed as information); pickles
with persistent ids and out-of-band buffers; and the command-line contract:
files, exit statuses, messages, limit options.

    python3 tests/interop/test_recode.py --mpickle build/mpickle [--only TEXT] [--jobs N]
"""

import collections
import concurrent.futures
import io
import os
import pickle
import pickletools
import sys
import tempfile
import time

import harness

harness.ensure_hash_seed()
sys.setrecursionlimit(20000)

import corpus  # noqa: E402  (after the hash seed is fixed)

NAME = 'recode'


class Job:
    __slots__ = ('entry', 'proto', 'mode', 'target', 'data', 'args')

    def __init__(self, entry, proto, mode, target, data, args):
        self.entry, self.proto, self.mode, self.target = entry, proto, mode, target
        self.data, self.args = data, args

    def label(self):
        text = '%r protocol %d %s' % (self.entry.name, self.proto, self.mode)
        if self.mode == 'cross':
            text += ' -> %d' % self.target
        return text


class Tally:
    """Counts checks and keeps the failure reports."""

    def __init__(self, max_reports):
        self.passed = 0
        self.failed = 0
        self.max_reports = max_reports
        self.reports = []
        self.by_entry = collections.defaultdict(list)   # entry name -> short labels
        self.cross_same = collections.Counter()        # (p, q) -> outputs equal to CPython's
        self.cross_total = collections.Counter()
        self.cross_other = collections.defaultdict(list)  # entry -> 'p->q' not CPython's bytes

    def ok(self):
        self.passed += 1

    def fail(self, job_label, short, detail=''):
        self.failed += 1
        if len(self.reports) < self.max_reports:
            self.reports.append('FAIL %s: %s%s' % (job_label, short,
                                                   ('\n' + detail) if detail else ''))
        return short


def jobs_for(entries, cpython_bytes):
    """Every run to make, in corpus order."""
    for entry in entries:
        for p in entry.protocols:
            data = cpython_bytes(entry, p)
            yield Job(entry, p, 'same', p, data, ['recode'])
            for q in entry.protocols:
                yield Job(entry, p, 'cross', q, data, ['recode', '-p', str(q)])
            yield Job(entry, p, 'compact', p, data, ['recode', '--compact'])
            optimized = pickletools.optimize(data)
            if optimized != data:
                # -p: without its PUTs a protocol 1 pickle may hold only
                # protocol 0 opcodes, and so read as protocol 0.
                yield Job(entry, p, 'optimized', p, optimized, ['recode', '-p', str(p)])


def load_and_compare(job, out):
    """None when pickle.loads(out) deep-equals the entry's object, else why not."""
    try:
        got = pickle.loads(out)
    except Exception as exc:
        return ('CPython cannot load the output: %s: %s' % (type(exc).__name__, exc),
                harness.dis_around(out, len(out)))
    if not corpus.deep_equal(job.entry.obj, got):
        return ('loads(output) differs from the object (type %s vs %s)'
                % (type(job.entry.obj).__name__, type(got).__name__), _show_value(got))
    return None


def _show_value(got):
    text = repr(got) if not isinstance(got, list) or len(got) < 50 else \
        'list of %d: %r...' % (len(got), got[:5])
    return '  got: ' + (text[:300] + '...' if len(text) > 300 else text)


def evaluate(job, run, tally, cpython_bytes):
    """Judges one run; records a pass or a failure (with a report)."""
    entry_name, label = job.entry.name, job.label()
    tag = 'p%d->%d' % (job.proto, job.target) if job.mode == 'cross' else \
        'p%d %s' % (job.proto, job.mode)
    problem = run.problem()
    if problem:
        tally.by_entry[entry_name].append('%s: %s' % (tag, problem))
        return tally.fail(label, problem)
    if run.rc != 0:
        short = 'rejected a valid pickle: %s' % run.err_text()
        tally.by_entry[entry_name].append('%s: rejected' % tag)
        return tally.fail(label, short, harness.dis_around(job.data, 0, 0, 8))
    if job.mode in ('same', 'optimized'):
        want = cpython_bytes(job.entry, job.proto)
        if run.out != want:
            off = harness.first_difference(want, run.out)
            tally.by_entry[entry_name].append('%s: not identical @%d' % (tag, off))
            return tally.fail(label, 'output differs from CPython',
                              harness.diff_report(want, run.out))
        return tally.ok()
    bad = load_and_compare(job, run.out)
    if bad is None and job.mode == 'compact' and len(run.out) > len(job.data):
        bad = ('compact output is larger: %d > %d bytes' % (len(run.out), len(job.data)), '')
    if bad:
        tally.by_entry[entry_name].append('%s: %s' % (tag, bad[0][:60]))
        return tally.fail(label, bad[0], bad[1])
    if job.mode == 'cross':
        key = (job.proto, job.target)
        tally.cross_total[key] += 1
        if run.out == cpython_bytes(job.entry, job.target):
            tally.cross_same[key] += 1
        else:
            tally.cross_other[entry_name].append('%d->%d' % key)
    return tally.ok()


def run_corpus(prog, entries, tally, workers):
    cache = {}

    def cpython_bytes(entry, p):
        key = (entry.name, p)
        if key not in cache:
            cache[key] = pickle.dumps(entry.obj, p)
        return cache[key]

    window = collections.deque()
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        for job in jobs_for(entries, cpython_bytes):
            window.append((job, pool.submit(harness.run_mpickle, prog, job.args, job.data)))
            while len(window) > 4 * workers:
                done_job, fut = window.popleft()
                evaluate(done_job, fut.result(), tally, cpython_bytes)
        while window:
            done_job, fut = window.popleft()
            evaluate(done_job, fut.result(), tally, cpython_bytes)


# ------------------------------------------------- hand-written pickles

# (label, pickle). Each loads in CPython; none is what CPython's pickler writes.
CRAFTED = [
    ('duplicate dict keys', b'\x80\x02}q\x00(K\x01K\x02K\x01K\x03u.'),
    ('dict keys 1 and True', b'\x80\x02}(K\x01X\x01\x00\x00\x00a\x88X\x01\x00\x00\x00bu.'),
    ('dict keys 1 and 1.0', b'\x80\x02}(K\x01K\x00G?\xf0\x00\x00\x00\x00\x00\x00K\x01u.'),
    ('set with duplicates', b'\x80\x04\x8f(K\x01K\x01K\x02\x90.'),
    ('frozenset with duplicates', b'\x80\x04(K\x01K\x01\x91.'),
    ('non-minimal LONG1 for 1', b'\x80\x02\x8a\x02\x01\x00.'),
    ('LONG1 of 0 bytes', b'\x80\x02\x8a\x00.'),
    ('LONG4 for a small int', b'\x80\x02\x8b\x01\x00\x00\x00\x7f.'),
    ('BININT for a small int', b'J\x01\x00\x00\x00.'),
    ('BININT2 for 5', b'M\x05\x00.'),
    ('INT with sign and zeros', b'I+007\n.'),
    ('INT 01 is True', b'I01\n.'),
    ('INT 00 is False', b'I00\n.'),
    ('INT beyond 64 bits', b'I123456789012345678901234567890\n.'),
    ('LONG without L', b'L12\n.'),
    ('LONG with L', b'L-12345678901234567890L\n.'),
    ('FLOAT exponent', b'F1e5\n.'),
    ('FLOAT long digits', b'F0.1000000000000000055511151231257827\n.'),
    ('FLOAT inf text', b'Finf\n.'),
    ('STRING with escapes', b"S'a\\nb\\x41\\''\n."),
    ('STRING double quotes', b'S"q"\n.'),
    ('UNICODE escapes', b'V\\u20ac\\U0001f600\\\\\n.'),
    ('BINSTRING ascii', b'T\x03\x00\x00\x00abc.'),
    ('SHORT_BINSTRING ascii', b'\x80\x02U\x03abc.'),
    ('BINUNICODE8', b'\x80\x04\x8d\x02\x00\x00\x00\x00\x00\x00\x00hi.'),
    ('BINBYTES8', b'\x80\x04\x8e\x02\x00\x00\x00\x00\x00\x00\x00hi.'),
    ('BINBYTES for short bytes', b'\x80\x03B\x02\x00\x00\x00hi.'),
    ('PUT and GET far apart', b'((lp999\ng999\nt.'),
    ('BINPUT overwritten', b'\x80\x02K\x01q\x00K\x02q\x00h\x00\x87.'),
    ('DUP', b'((l2t.'),
    ('POP and POP_MARK', b'(K\x011K\x020N.'),
    ('APPEND one by one', b'\x80\x02]q\x00K\x01aK\x02a.'),
    ('SETITEM one by one', b'\x80\x02}K\x01K\x02sK\x03K\x04s.'),
    ('LIST and DICT with MARK', b'(K\x01K\x02l(K\x01K\x02d\x86.'),
    ('TUPLE for 2 items', b'\x80\x02(K\x01K\x02t.'),
    ('empty APPENDS', b'\x80\x02](e.'),
    ('memo kept across types', b'\x80\x02X\x01\x00\x00\x00aq\x05h\x05h\x05\x87.'),
    ('proto 4 without FRAME', b'\x80\x04\x8c\x01a\x94.'),
    ('proto 4 tiny frames', b'\x80\x04\x95\x01\x00\x00\x00\x00\x00\x00\x00]'
                            b'\x95\x03\x00\x00\x00\x00\x00\x00\x00K\x01a.'),
    ('PROTO 2 with proto 4 opcodes', b'\x80\x02\x8c\x01a\x94.'),
    ('MEMOIZE after every opcode', b'\x80\x04]\x94K\x01\x94a\x94.'),
    ('py2 __builtin__ set', b'\x80\x02c__builtin__\nset\nq\x00]q\x01K\x01a\x85q\x02Rq\x03.'),
    ('py2 copy_reg reconstructor', b'\x80\x02ccopy_reg\n_reconstructor\nccollections\n'
                                  b'OrderedDict\nc__builtin__\ndict\n}\x87R.'),
    ('GLOBAL then STACK_GLOBAL', b'\x80\x04cbuiltins\nlen\n\x8c\x08builtins\x8c\x03len\x93\x86.'),
]


def input_protocol(data):
    """The protocol a recode keeps by default: PROTO's, or the highest opcode's."""
    proto = 0
    for op, arg, _ in pickletools.genops(data):
        proto = max(proto, op.proto)
        if op.name == 'PROTO':
            proto = max(proto, arg)
    return proto


def check_crafted(prog, tally):
    """Non-canonical input: the output must load to what the input loads to."""
    not_cpython = []
    for label, data in CRAFTED:
        name = 'crafted: %s %r' % (label, data[:40])
        expected = pickle.loads(data)
        run = harness.run_mpickle(prog, ['recode'], data)
        problem = run.problem()
        if problem or run.rc != 0:
            tally.fail(name, problem or 'rejected: %s' % run.err_text(),
                       harness.dis_around(data, 0, 0, 12))
            continue
        try:
            got = pickle.loads(run.out)
        except Exception as exc:
            tally.fail(name, 'CPython cannot load the output: %s: %s' % (type(exc).__name__, exc),
                       harness.dis_around(run.out, len(run.out)))
            continue
        if not corpus.deep_equal(expected, got):
            tally.fail(name, 'loads differently: want %r, got %r' % (expected, got))
            continue
        tally.ok()
        canonical = pickle.dumps(expected, input_protocol(data))
        if run.out != canonical:
            not_cpython.append((label, data, canonical, run.out))
    print('information: %d of %d hand-written pickles recode to exactly CPython\'s '
          'pickle.dumps(pickle.loads(x), p):' % (len(CRAFTED) - len(not_cpython), len(CRAFTED)))
    for label, data, canonical, out in not_cpython:
        print('  %-30s in %r\n  %30s CPython %r\n  %30s mpickle %r'
              % (label, data[:50], '', canonical[:60], '', out[:60]))


# ------------------------------------------ persistent ids and buffers

class _Ref:
    """Stands for an object kept outside the pickle, named by a str id."""

    def __init__(self, key):
        self.key = key


class _PersPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.key if isinstance(obj, _Ref) else None


class _PersUnpickler(pickle.Unpickler):
    def persistent_load(self, pid):
        return ('ref', pid)


def _pers_dumps(obj, proto):
    f = io.BytesIO()
    _PersPickler(f, proto).dump(obj)
    return f.getvalue()


def _pers_loads(data):
    return _PersUnpickler(io.BytesIO(data)).load()


def check_persistent_and_buffers(prog, tally):
    obj = ['a', _Ref('x'), {'k': _Ref('y'), 'l': [_Ref('x')]}, (_Ref('z'),)]
    for p in range(6):
        data = _pers_dumps(obj, p)
        _compare_special(prog, tally, 'persistent ids p%d' % p, data, p,
                         lambda out: _pers_loads(out), _pers_loads(data))
    bufs = []
    oob = [pickle.PickleBuffer(b'abc'), pickle.PickleBuffer(bytearray(b'xyz')), b'in band']
    data = pickle.dumps(oob, 5, buffer_callback=bufs.append)
    as_bytes = lambda v: [bytes(x) for x in v]
    _compare_special(prog, tally, 'out-of-band buffers p5', data, 5,
                     lambda out: as_bytes(pickle.loads(out, buffers=bufs)),
                     as_bytes(pickle.loads(data, buffers=bufs)))


def _compare_special(prog, tally, name, data, proto, load, expected):
    """Recode must give data back; recode -p q (q >= proto) must load equal."""
    for args in (['recode'],) + tuple(['recode', '-p', str(q)] for q in range(proto, 6)):
        label = '%s: %s' % (name, ' '.join(args))
        run = harness.run_mpickle(prog, args, data)
        problem = run.problem() or (run.rc != 0 and 'rejected: %s' % run.err_text())
        if problem:
            tally.fail(label, problem)
            continue
        if len(args) == 1 and run.out != data:
            tally.fail(label, 'output differs from CPython', harness.diff_report(data, run.out))
            continue
        try:
            got = load(run.out)
        except Exception as exc:
            tally.fail(label, 'cannot load the output: %s: %s' % (type(exc).__name__, exc))
            continue
        if not corpus.deep_equal(expected, got):
            tally.fail(label, 'loads differently: want %r, got %r' % (expected, got))
            continue
        tally.ok()


# --------------------------------------------------- command-line contract

def contract_cases():
    """(label, args, stdin, expected exit status, words of which stderr must hold one)."""
    deep = pickle.dumps(corpus_entry('list nested 300'), 2)
    long_str = pickle.dumps('x' * 1000, 4)
    memo_heavy = pickle.dumps(corpus_entry('shared 600 lists'), 4)
    wide_tuple = pickle.dumps(tuple(range(50)), 2)
    big = pickle.dumps(list(range(60000)), 4)
    return [
        ('empty input', ['recode'], b'', 1, ('truncated',)),
        ('no STOP', ['recode'], b'N', 1, ('truncated',)),
        ('cut inside an argument', ['recode'], b'\x80\x04\x8c\x05ab', 1, ('truncated',)),
        ('bad opcode', ['recode'], b'\xff.', 1, ('opcode', 'malformed')),
        ('GET of unknown memo key', ['recode'], b'\x80\x02h\x07.', 1, ('memo',)),
        ('POP on empty stack', ['recode'], b'0.', 1, ('stack',)),
        ('APPENDS without MARK', ['recode'], b']e.', 1, ('mark', 'stack')),
        ('STOP with MARK open', ['recode'], b'N(.', 1, ('mark', 'stop', 'stack')),
        ('bad protocol', ['recode'], b'\x80\x09N.', 1, ('protocol', 'malformed')),
        ('-p out of range', ['recode', '-p', '6'], b'N.', 2, ()),
        ('-p not a number', ['recode', '-p', 'x'], b'N.', 2, ()),
        ('unknown option', ['recode', '--no-such-option'], b'N.', 2, ()),
        ('unknown command', ['no-such-command'], b'N.', 2, ()),
        ('--max-depth too small', ['recode', '--max-depth', '10'], deep, 1, ('limit', 'depth')),
        ('--max-depth enough', ['recode', '--max-depth', '100000'], deep, 0, ()),
        ('--max-str too small', ['recode', '--max-str', '100'], long_str, 1, ('limit', 'str')),
        ('--max-str enough', ['recode', '--max-str', '1000'], long_str, 0, ()),
        ('--max-memo too small', ['recode', '--max-memo', '100'], memo_heavy, 1, ('limit', 'memo')),
        ('--max-memo enough', ['recode', '--max-memo', '1000'], memo_heavy, 0, ()),
        ('--max-stack too small', ['recode', '--max-stack', '10'], wide_tuple, 1, ('limit', 'stack')),
        ('--max-stack enough', ['recode', '--max-stack', '1000'], wide_tuple, 0, ()),
        ('--max-alloc too small', ['recode', '--max-alloc', '10000'], big, 1,
         ('limit', 'alloc', 'memory', 'nomem')),
        ('--max-alloc enough', ['recode', '--max-alloc', '1000000000'], big, 0, ()),
    ]


_ENTRIES = {}


def corpus_entry(name):
    if not _ENTRIES:
        _ENTRIES.update((e.name, e.obj) for e in corpus.build_corpus())
    return _ENTRIES[name]


def check_contract(prog, tally):
    for label, args, data, want_rc, words in contract_cases():
        run = harness.run_mpickle(prog, args, data)
        name = 'contract: %s (%s)' % (label, ' '.join(args))
        if run.timed_out or run.rc < 0 or run.rc != want_rc:
            tally.fail(name, 'exit status %s, want %d; stderr: %s'
                       % ('timeout' if run.timed_out else run.rc, want_rc, run.err_text()))
            continue
        if want_rc == 1:
            problem = harness.message_problem(run.err)
            low = run.err.decode('utf-8', 'replace').lower()
            if problem is None and words and not any(w in low for w in words):
                problem = 'message %r names none of %s' % (run.err_text(), '/'.join(words))
            if problem:
                tally.fail(name, problem)
                continue
            if run.out:
                tally.fail(name, 'wrote %d bytes to stdout on failure' % len(run.out))
                continue
        if want_rc == 0 and run.out != data:
            tally.fail(name, 'output differs from the input',
                       harness.diff_report(data, run.out))
            continue
        tally.ok()
    check_files(prog, tally)
    # CPython's loads ignores what follows STOP; the contract does not say.
    run = harness.run_mpickle(prog, ['recode'], b'\x80\x02K\x01.garbage')
    print('information: input with bytes after STOP: exit status %s, stdout %r, stderr %r'
          % (run.rc, run.out[:40], run.err_text(100)))


def check_files(prog, tally):
    """recode IN OUT and recode IN (to stdout)."""
    data = pickle.dumps(corpus_entry('sensor record'), 5)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, 'in.pkl'), os.path.join(tmp, 'out.pkl')
        with open(src, 'wb') as f:
            f.write(data)
        run = harness.run_mpickle(prog, ['recode', src, dst], b'')
        got = open(dst, 'rb').read() if os.path.exists(dst) else None
        if run.rc != 0 or got != data:
            tally.fail('contract: recode IN OUT', 'exit %s, output file %s'
                       % (run.rc, 'missing' if got is None else 'differs'), run.err_text())
        else:
            tally.ok()
        run = harness.run_mpickle(prog, ['recode', src], b'')
        if run.rc != 0 or run.out != data:
            tally.fail('contract: recode IN', 'exit %s, stdout %s' % (
                run.rc, 'identical' if run.out == data else 'differs'), run.err_text())
        else:
            tally.ok()
        run = harness.run_mpickle(prog, ['recode', os.path.join(tmp, 'missing.pkl')], b'')
        if run.rc not in (1, 2) or harness.message_problem(run.err):
            tally.fail('contract: recode MISSING-FILE', 'exit %s, stderr %r (want 1 or 2 and'
                       ' one "mpickle: " line)' % (run.rc, run.err_text()))
        else:
            tally.ok()


# ------------------------------------------------------------------ output

def print_report(tally, elapsed, total_jobs):
    for report in tally.reports:
        print(report)
        print()
    if tally.failed > len(tally.reports):
        print('... %d more failures not shown in detail (--max-reports)'
              % (tally.failed - len(tally.reports)))
    if tally.by_entry:
        print('failures by corpus entry:')
        for name, items in tally.by_entry.items():
            shown = '; '.join(items[:6]) + (' ... (+%d)' % (len(items) - 6) if len(items) > 6 else '')
            print('  %-36s %3d: %s' % (name, len(items), shown))
    same, total = sum(tally.cross_same.values()), sum(tally.cross_total.values())
    print('information: %d of %d passing cross-protocol outputs equal CPython\'s '
          'pickle.dumps(obj, q) byte for byte; by p (rows) -> q (columns):' % (same, total))
    print('        ' + ''.join('%13s' % ('q=%d' % q) for q in range(6)))
    for p in range(6):
        cells = ''.join('%13s' % ('%d/%d' % (tally.cross_same[p, q], tally.cross_total[p, q]))
                        for q in range(6))
        print('  p=%d   %s' % (p, cells))
    if tally.cross_other:
        print('information: entries whose cross-protocol output loads equal but is not '
              'CPython\'s bytes (p->q):')
        for name, pairs in tally.cross_other.items():
            print('  %-36s %s' % (name, ' '.join(pairs)))
    print('%d corpus runs in %.1f s' % (total_jobs, elapsed))


def main():
    def extra(ap):
        ap.add_argument('--only', help='only corpus entries whose name contains this text')
        ap.add_argument('--every', type=int, default=1,
                        help='only every Nth corpus entry (a quick sample; default: all)')
        ap.add_argument('--jobs', type=int, default=(os.cpu_count() or 2) * 2,
                        help='parallel runs (default: %(default)s)')
        ap.add_argument('--max-reports', type=int, default=40,
                        help='detailed failure reports to print (default: %(default)s)')
    args = harness.parse_args(__doc__.splitlines()[0], extra)
    tally = Tally(args.max_reports)
    if not os.access(args.mpickle, os.X_OK):
        print('FAIL: %s is not an executable program' % args.mpickle)
        print(harness.summary(NAME, 0, 1))
        return 1
    wrong = corpus.deep_equal_self_test()
    for w in wrong:
        tally.fail('deep_equal self-test', w)
    tally.passed += 0 if wrong else 1
    entries = [e for e in corpus.build_corpus() if not args.only or args.only in e.name]
    entries = entries[::max(1, args.every)]
    start = time.time()
    run_corpus(args.mpickle, entries, tally, max(1, args.jobs))
    corpus_checks = tally.passed + tally.failed
    if not args.only:
        check_crafted(args.mpickle, tally)
        check_persistent_and_buffers(args.mpickle, tally)
        check_contract(args.mpickle, tally)
    print_report(tally, time.time() - start, corpus_checks)
    print(harness.summary(NAME, tally.passed, tally.failed))
    return 1 if tally.failed else 0


if __name__ == '__main__':
    sys.exit(main())
