"""Shared helpers of the interop test scripts: running the mpickle program,
fixing the hash seed, locating differences and disassembling around them."""

import argparse
import os
import pickletools
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_MPICKLE = os.path.join(REPO, 'build', 'mpickle')
HASH_SEED = '0'


def child_env():
    """The environment for the program under test. PYTHONHASHSEED is fixed so a
    Python stand-in iterates str sets in the same order as this process; the
    real interpreter's directory goes first on PATH so that a `#!/usr/bin/env
    python3` stand-in skips pyenv's slow shell shim."""
    env = dict(os.environ)
    env['PYTHONHASHSEED'] = HASH_SEED
    env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
    return env


def ensure_hash_seed():
    """Re-executes this script with PYTHONHASHSEED fixed, so that sets of str
    (and so the corpus's pickled bytes) are the same on every run."""
    if os.environ.get('PYTHONHASHSEED') != HASH_SEED:
        os.execve(sys.executable, [sys.executable] + sys.argv, child_env())


def parse_args(description, extra=None):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument('--mpickle', default=DEFAULT_MPICKLE,
                    help='the program to test (default: %(default)s)')
    if extra:
        extra(ap)
    args = ap.parse_args()
    args.mpickle = os.path.abspath(args.mpickle)
    return args


class Run:
    """The outcome of one run of the program."""
    __slots__ = ('rc', 'out', 'err', 'timed_out')

    def __init__(self, rc, out, err, timed_out=False):
        self.rc, self.out, self.err, self.timed_out = rc, out, err, timed_out

    def problem(self):
        """None for a clean exit 0 or 1 that honours the contract, else a description."""
        if self.timed_out:
            return 'timed out'
        if self.rc < 0:
            return 'killed by signal %d' % -self.rc
        if self.rc not in (0, 1):
            return 'exit status %d (%s)' % (self.rc, self.err_text())
        if self.rc == 1:
            return message_problem(self.err)
        return None

    def err_text(self, limit=300):
        text = self.err.decode('utf-8', 'replace').strip()
        return text if len(text) <= limit else text[:limit] + '...'


def message_problem(err):
    """Exit status 1 owes one line on stderr that starts with 'mpickle: '."""
    text = err.decode('utf-8', 'replace')
    lines = text.rstrip('\n').split('\n')
    if not text.startswith('mpickle: '):
        return 'exit 1 but stderr does not start with "mpickle: ": %r' % text[:200]
    if len(lines) != 1:
        return 'exit 1 with %d lines on stderr (want one): %r' % (len(lines), text[:200])
    return None


def run_mpickle(prog, args, data, timeout=120):
    """Runs `prog args...` with data on stdin; output on stdout."""
    try:
        proc = subprocess.run([prog] + list(args), input=data, capture_output=True,
                              timeout=timeout, env=child_env())
    except subprocess.TimeoutExpired as exc:
        return Run(-1, exc.stdout or b'', exc.stderr or b'', timed_out=True)
    except OSError as exc:     # missing, not executable, or being rebuilt
        return Run(126, b'', ('cannot start %s: %s' % (prog, exc)).encode())
    return Run(proc.returncode, proc.stdout, proc.stderr)


def first_difference(a, b):
    """Offset of the first differing byte, or None when equal."""
    if a == b:
        return None
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def _op_lines(data):
    """(pos, text) per opcode, stopping with a note at the first unreadable byte."""
    lines = []
    try:
        for op, arg, pos in pickletools.genops(data):
            text = repr(arg) if arg is not None else ''
            if len(text) > 60:
                text = text[:57] + '...'
            lines.append((pos, '%8d: %-16s %s' % (pos, op.name, text)))
    except Exception as exc:   # our output may be malformed: say where it stops
        lines.append((len(data), '   ** genops stops: %s: %s' % (type(exc).__name__, exc)))
    return lines


def dis_around(data, offset, before=6, after=6):
    """A few opcode lines of pickletools' reading around byte `offset`."""
    lines = _op_lines(data)
    if not lines:
        return '   (empty)'
    index = 0
    for i, (pos, _) in enumerate(lines):
        if pos <= offset:
            index = i
    lo, hi = max(0, index - before), min(len(lines), index + after + 1)
    out = [text + ('   <== here' if i == index else '') for i, (_, text) in
           enumerate(lines[lo:hi], lo)]
    if lo > 0:
        out.insert(0, '   ... (%d opcodes before)' % lo)
    if hi < len(lines):
        out.append('   ... (%d opcodes after)' % (len(lines) - hi))
    return '\n'.join(out)


def diff_report(expected, got, label_expected='CPython', label_got='mpickle'):
    """Where two pickles part, with both disassembled around that place."""
    off = first_difference(expected, got)
    if off is None:
        return 'identical'
    ctx = lambda b: b[max(0, off - 8):off + 16]
    parts = ['lengths %d (%s) vs %d (%s); first difference at offset %d'
             % (len(expected), label_expected, len(got), label_got, off),
             '  %s bytes there: %r' % (label_expected, ctx(expected)),
             '  %s bytes there: %r' % (label_got, ctx(got)),
             '  %s:' % label_expected, dis_around(expected, off),
             '  %s:' % label_got, dis_around(got, off)]
    return '\n'.join(parts)


def summary(name, passed, failed, skipped=None):
    line = '%s: %d passed, %d failed' % (name, passed, failed)
    if skipped is not None:
        line += ', %d skipped' % skipped
    return line
