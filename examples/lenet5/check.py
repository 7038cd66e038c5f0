#!/usr/bin/python3
"""Compares a logits pickle (from lenet5.c or lenet5_mp.py) with train.py's reference.

    /usr/bin/python3 check.py LOGITS.pkl [--ref build/lenet5/out/reference.pkl] [--tol 1e-4]
                              [--same-bytes PROTOCOL] [--label NAME]

Checks that the file is a float (N, 10) numpy array, that its largest absolute
difference from the reference logits is at most --tol, that every prediction
(argmax) is the reference's, and with --same-bytes P that the file holds exactly
the bytes numpy writes for that array with protocol P. Prints one 'ok' or
'FAILED' line per check and exits 1 if any failed.
"""
import argparse
import os
import pickle
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def checks(path, ref, tol, same_bytes):
    """Yields (ok, description) for each check, stopping when one makes the rest moot."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
        logits = pickle.loads(data)
    except Exception as e:      # a missing or broken file fails the check, not the script
        yield False, 'loads: %s: %s' % (type(e).__name__, e)
        return
    yield isinstance(logits, np.ndarray), 'a numpy array (%s)' % type(logits).__name__
    if not isinstance(logits, np.ndarray):
        return
    yield logits.dtype.kind == 'f', 'float dtype (%s)' % logits.dtype
    yield logits.shape == ref.shape, 'shape %s (reference %s)' % (logits.shape, ref.shape)
    if logits.shape != ref.shape:
        return
    diff = float(np.abs(logits.astype(np.float64) - ref.astype(np.float64)).max())
    yield diff <= tol, 'max abs difference of logits %.3g (tolerance %.0e)' % (diff, tol)
    same = int((logits.argmax(1) == ref.argmax(1)).sum())
    yield same == len(ref), 'predictions: %d of %d match numpy' % (same, len(ref))
    if same_bytes is not None:
        yield data == pickle.dumps(logits, same_bytes), \
            'the file is the bytes numpy writes for it (protocol %d, %d bytes)' % (same_bytes, len(data))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('logits')
    ap.add_argument('--ref', default=os.path.join(HERE, '..', '..', 'build', 'lenet5', 'out', 'reference.pkl'))
    ap.add_argument('--tol', type=float, default=1e-4)
    ap.add_argument('--same-bytes', type=int, metavar='PROTOCOL')
    ap.add_argument('--label', default=None)
    args = ap.parse_args()
    with open(args.ref, 'rb') as f:
        ref = pickle.load(f)['logits']
    label = args.label or os.path.basename(args.logits)
    failed = 0
    for ok, what in checks(args.logits, ref, args.tol, args.same_bytes):
        print('  %s %s: %s' % ('ok    ' if ok else 'FAILED', label, what))
        failed += not ok
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
