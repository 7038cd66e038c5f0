#!/usr/bin/env python3
"""A pure-Python stand-in for `mpickle recode`, to prove the interop harness.

    fake_mpickle.py recode [-p N] [--compact] [--max-depth N ...] [IN [OUT]]

recode = pickle.loads, then pickle.dumps with the requested protocol (default:
the input's own, the highest protocol among its opcodes as pickletools reads
them). --compact runs pickletools.optimize. Exit 0 on success, 1 on bad input
(one line on stderr: "mpickle: <kind>: ..."), 2 on usage errors. Unlike the
real engine it imports and calls whatever the pickle names: never feed it
untrusted data.
"""

import os
import pickle
import pickletools
import sys

LIMIT_OPTIONS = ('--max-depth', '--max-stack', '--max-memo', '--max-str', '--max-alloc')


class UsageError(Exception):
    pass


def parse(argv):
    if not argv or argv[0] != 'recode':
        raise UsageError('the stand-in only knows "recode"')
    opts = {'protocol': None, 'compact': False, 'files': []}
    args = iter(argv[1:])
    for a in args:
        if a == '-p':
            value = next(args, None)
            if value not in [str(p) for p in range(6)]:
                raise UsageError('-p wants a protocol 0..5')
            opts['protocol'] = int(value)
        elif a == '--compact':
            opts['compact'] = True
        elif a in LIMIT_OPTIONS:
            value = next(args, None)
            if value is None or not value.isdigit():
                raise UsageError('%s wants a number' % a)
        elif a.startswith('-') and a != '-':
            raise UsageError('unknown option %s' % a)
        else:
            opts['files'].append(a)
    if len(opts['files']) > 2:
        raise UsageError('too many files')
    return opts


def input_protocol(data):
    """The highest protocol among the opcodes (and PROTO's argument)."""
    proto = 0
    for op, arg, _ in pickletools.genops(data):
        proto = max(proto, op.proto)
        if op.name == 'PROTO':
            proto = max(proto, arg)
    return proto


def error_kind(exc):
    if isinstance(exc, EOFError):
        return 'truncated'
    if isinstance(exc, RecursionError):
        return 'limit'
    if isinstance(exc, (KeyError,)):
        return 'memo'
    if isinstance(exc, IndexError):
        return 'stack'
    return 'malformed'


def load(data):
    try:
        return pickle.loads(data)
    except AttributeError:
        # pickletester registers its classes C, D, E in __main__ on import; the
        # stand-in can only find them after importing it too.
        if b'__main__' not in data:
            raise
        import test.pickletester  # noqa: F401
        return pickle.loads(data)


def recode(data, opts):
    if not data:
        raise EOFError('empty input')
    # The corpus registers copyreg extension codes; a process that loads
    # them must have the same registry.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import corpus_types
    corpus_types.register_extensions()
    obj = load(data)            # first, so that errors have CPython's types
    proto = input_protocol(data)
    out = pickle.dumps(obj, proto if opts['protocol'] is None else opts['protocol'])
    if opts['compact']:
        out = pickletools.optimize(out)
    return out


def main(argv):
    try:
        opts = parse(argv)
    except UsageError as exc:
        sys.stderr.write('mpickle: usage: %s\n' % exc)
        return 2
    files = opts['files']
    src = files[0] if files and files[0] != '-' else None
    dst = files[1] if len(files) > 1 and files[1] != '-' else None
    try:
        if src:
            with open(src, 'rb') as f:
                data = f.read()
        else:
            data = sys.stdin.buffer.read()
        out = recode(data, opts)
    except OSError as exc:
        sys.stderr.write('mpickle: io: %s\n' % exc)
        return 1
    except Exception as exc:    # every bad input is exit status 1
        text = ('%s: %s' % (type(exc).__name__, exc)).replace('\n', ' ')[:300]
        sys.stderr.write('mpickle: %s: %s\n' % (error_kind(exc), text))
        return 1
    if dst:
        with open(dst, 'wb') as f:
            f.write(out)
    else:
        sys.stdout.buffer.write(out)
    return 0


if __name__ == '__main__':
    sys.setrecursionlimit(20000)
    sys.exit(main(sys.argv[1:]))
