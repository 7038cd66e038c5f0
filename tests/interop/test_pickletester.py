#!/usr/bin/env python3
"""CPython's own pickle test vectors (the stdlib module test.pickletester), run
through `mpickle recode -p 5` and then CPython's pickle.loads of its output.

  AbstractUnpickleTests  valid DATA0..DATA4 pickles, Python 2 pickles, and the
                         malformed vectors (bad stack, bad mark, truncated...).
  AbstractPickleTests    CPython's pickler writes, our program re-encodes, CPython
                         loads: recursive, shared, reduced, framed objects...

`loads(data)` runs the program; exit status 1 raises MpickleRejected, a class
deriving from the exception types the tests accept for bad input, so that a
clean rejection passes. A crash, timeout or a message that breaks the contract
raises MpickleBroken, which no test accepts. Test methods that need what a plain
loads cannot express are skipped by name, with the reason, and listed.
A method counts once: passed, failed (any failing subtest) or skipped.

    python3 tests/interop/test_pickletester.py --mpickle build/mpickle [-v] [-k TEXT]
"""

import collections
import os
import pickle
import struct
import sys
import traceback
import unittest

import harness

harness.ensure_hash_seed()

NAME = 'pickletester'

try:
    import test.pickletester as pt
except ImportError as exc:  # only a Python without its test package
    pt = None
    IMPORT_ERROR = exc


class MpickleRejected(pickle.UnpicklingError, EOFError, ValueError, IndexError,
                      struct.error, AttributeError, TypeError, KeyError, OverflowError):
    """The program exited with status 1: it rejected the input. (ImportError
    cannot join these bases, its instance layout conflicts; the check below adds
    this class to every accepted tuple instead.)"""


class MpickleBroken(Exception):
    """A crash, signal, timeout, unexpected status or malformed error message."""


class State:
    """What the harness observed: the program, calls, and malformed-vector outcomes."""
    program = None
    calls = 0                   # loads calls during the current test
    last = None                 # 'rejected' or 'accepted' for the last loads
    vectors = []                # (test id, data, outcome, detail) per check_unpickling_error


# loads(encoding=...) for Python 2 str, as recode's --encoding option names it
ENCODINGS = {'ascii': 'ascii', 'ASCII': 'ascii', 'latin1': 'latin1', 'latin-1': 'latin1', 'bytes': 'bytes'}


def mpickle_loads(buf, **kwds):
    """recode -p 5 through the program, then CPython's loads of the output."""
    State.calls += 1
    State.last = None
    args = ['recode', '-p', '5']
    if 'encoding' in kwds and kwds['encoding'] in ENCODINGS:
        # the program decodes Python 2 str itself; its output has no py2 str left
        args += ['--encoding', ENCODINGS[kwds.pop('encoding')]]
    run = harness.run_mpickle(State.program, args, bytes(buf), timeout=60)
    problem = run.problem()
    if problem:
        raise MpickleBroken('%s on input %r' % (problem, bytes(buf)[:80]))
    if run.rc == 1:
        State.last = 'rejected'
        raise MpickleRejected(run.err_text())
    State.last = 'accepted'
    return pickle.loads(run.out, **kwds)


class MpickleMixin:
    """Routes loads through the program and widens every accepted error tuple."""

    def loads(self, buf, **kwds):
        return mpickle_loads(buf, **kwds)

    def check_unpickling_error(self, errors, data):
        if not isinstance(errors, tuple):
            errors = (errors,)
        State.last = None
        super().check_unpickling_error(errors + (MpickleRejected,), data)
        outcome = State.last
        detail = ''
        if outcome == 'accepted':
            run = harness.run_mpickle(State.program, ['recode', '-p', '5'], bytes(data))
            detail = 'mpickle wrote %r' % run.out[:60]
        State.vectors.append((self.id(), bytes(data), outcome, detail))


# Test methods that need more than a plain loads(data), and why.
SKIPS = {
    'test_unpickle_module_race':
        'calls pickle.loads itself from threads (tests import locking), never self.loads',
    'test_oob_buffers':
        'needs loads(buffers=...): out-of-band buffers cannot pass through the recode CLI',
    'test_oob_buffers_writable_to_readonly':
        'needs loads(buffers=...): out-of-band buffers cannot pass through the recode CLI',
    'test_buffers_error':
        'needs loads(buffers=...) and checks its argument errors',
    'test_buffers_numpy':
        'needs numpy and loads(buffers=...)',
}


def make_classes():
    truncated = (pickle.UnpicklingError, EOFError, AttributeError, ValueError,
                 struct.error, IndexError, ImportError)

    class MpickleUnpickleTests(MpickleMixin, pt.AbstractUnpickleTests, unittest.TestCase):
        bad_stack_errors = (pickle.UnpicklingError, IndexError)
        truncated_errors = truncated

    class MpickleRoundTripTests(MpickleMixin, pt.AbstractPickleTests, unittest.TestCase):
        pickler = pickle.Pickler
        unpickler = pickle.Unpickler

        def dumps(self, arg, protocol=None, **kwargs):
            return pickle.dumps(arg, protocol, **kwargs)

    classes = [MpickleUnpickleTests, MpickleRoundTripTests]
    for cls in classes:
        for name, reason in SKIPS.items():
            if hasattr(cls, name):
                setattr(cls, name, unittest.skip(reason)(lambda self: None))
    return classes


class Result(unittest.TestResult):
    """Per-method outcome, counting loads calls so that a method that never
    reaches our program is not counted as a pass."""

    def __init__(self):
        super().__init__()
        self.outcome = collections.OrderedDict()    # test id -> [status, detail]
        self.calls = {}
        self.nfail = {}     # test id -> failures (subtests included)

    def startTest(self, test):
        super().startTest(test)
        State.calls = 0
        self.outcome[test.id()] = ['passed', '']

    def stopTest(self, test):
        super().stopTest(test)
        entry = self.outcome[test.id()]
        self.calls[test.id()] = State.calls
        if entry[0] == 'passed' and State.calls == 0:
            entry[:] = ['skipped', 'never calls loads: it tests CPython\'s pickler only']

    def _fail(self, test, err, label):
        entry = self.outcome[test.id()]
        entry[0] = 'failed'
        self.nfail[test.id()] = self.nfail.get(test.id(), 0) + 1
        if self.nfail[test.id()] > 6:     # enough to see the pattern
            return
        entry[1] += '  %s\n%s\n' % (label, _brief_traceback(err))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test, err, 'FAILURE')

    def addError(self, test, err):
        super().addError(test, err)
        self._fail(test, err, 'ERROR')

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._fail(test, err, 'SUBTEST %s' % subtest._subDescription())

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.outcome[test.id()] = ['skipped', reason]


def _brief_traceback(err):
    """The pickletester lines that led to the error, and the error itself."""
    exc_type, exc, tb = err
    frames = [f for f in traceback.extract_tb(tb) if f.filename.endswith('pickletester.py')]
    lines = ['    %s:%d: %s' % (os.path.basename(f.filename), f.lineno, f.line) for f in frames[-3:]]
    message = ''.join(traceback.format_exception_only(exc_type, exc)).strip()
    if len(message) > 600:
        message = message[:600] + '...'
    lines.append('    ' + message.replace('\n', '\n    '))
    return '\n'.join(lines)


def short_id(test_id):
    return '.'.join(test_id.split('.')[-2:])


def print_results(result):
    counts = collections.Counter()
    per_class = collections.defaultdict(collections.Counter)
    for test_id, (status, detail) in result.outcome.items():
        counts[status] += 1
        per_class[test_id.split('.')[-2]][status] += 1
        if status == 'failed':
            n = result.nfail.get(test_id, 0)
            print('FAILED %s (%d loads, %d failures%s)\n%s'
                  % (short_id(test_id), result.calls.get(test_id, 0), n,
                     ', first 6 shown' if n > 6 else '', detail))
    for test_id, (status, detail) in result.outcome.items():
        if status == 'skipped':
            print('SKIPPED %s: %s' % (short_id(test_id), detail))
    rejected = [v for v in State.vectors if v[2] == 'rejected']
    accepted = [v for v in State.vectors if v[2] == 'accepted']
    broken = len(State.vectors) - len(rejected) - len(accepted)
    print('malformed vectors: %d checked, %d rejected by mpickle itself, %d broke it (crash, '
          'timeout, bad message), %d accepted by mpickle (then judged by CPython\'s loads '
          'of its output)%s' % (len(State.vectors), len(rejected), broken, len(accepted),
                                 ':' if accepted else ''))
    for test_id, data, _, detail in accepted:
        print('  accepted %-40r in %s; %s' % (data, short_id(test_id), detail))
    for cls, c in per_class.items():
        print('%s: %d passed, %d failed, %d skipped' % (cls, c['passed'], c['failed'],
                                                        c['skipped']))
    return counts


def main():
    def extra(ap):
        ap.add_argument('-v', action='store_true', help='list every method')
        ap.add_argument('-k', metavar='TEXT', help='only test methods whose name holds TEXT')
    args = harness.parse_args(__doc__.splitlines()[0], extra)
    if pt is None:
        print('SKIPPED: test.pickletester is not importable here (%s); '
              'nothing was checked' % IMPORT_ERROR)
        print(harness.summary(NAME, 0, 0, 0))
        return 0
    if not os.access(args.mpickle, os.X_OK):
        print('FAIL: %s is not an executable program' % args.mpickle)
        print(harness.summary(NAME, 0, 1, 0))
        return 1
    State.program = args.mpickle
    sys.setrecursionlimit(20000)
    suite = unittest.TestSuite()
    loader = unittest.TestLoader()
    if args.k:
        loader.testNamePatterns = ['*%s*' % args.k]
    for cls in make_classes():
        suite.addTests(loader.loadTestsFromTestCase(cls))
    result = Result()
    suite.run(result)
    if args.v:
        for test_id, (status, _) in result.outcome.items():
            print('%-8s %s (%d loads)' % (status, short_id(test_id), result.calls.get(test_id, 0)))
    counts = print_results(result)
    print(harness.summary(NAME, counts['passed'], counts['failed'], counts['skipped']))
    return 1 if counts['failed'] else 0


if __name__ == '__main__':
    sys.exit(main())
