#!/usr/bin/env python3
"""Runs every tests/interop/test_*.py with --mpickle PATH, shows each one's
output, and sums their summary lines into `interop: N passed, M failed`.
A script that exits non-zero without reporting a failure, or that prints no
summary line, counts as one failure (it crashed).

    python3 tests/interop/run_all.py --mpickle build/mpickle [--sample N]
"""

import glob
import os
import re
import subprocess
import sys
import time

import harness

# "<name>: N passed, M failed" with an optional ", K skipped", alone on its line.
SUMMARY = re.compile(r'^(\S+): (\d+) passed, (\d+) failed(?:, (\d+) skipped)?$', re.M)


# Options that shrink a script's run under --sample N (sanitizer builds start
# each process ~20x slower; the full corpus already ran on the normal build).
SAMPLED = {'test_recode.py': lambda n: ['--every', str(n)],
           'test_dis.py': lambda n: ['--mutations', str(800 // n)]}

# Run by tests/run_all.py as steps of their own (not here, not sanitized).
SEPARATE = {'test_numpy.py', 'test_json_numpy.py'}


def run_script(path, mpickle, timeout, sample=1):
    """Runs one script, echoing its output; returns (passed, failed, note)."""
    start = time.time()
    extra = SAMPLED.get(os.path.basename(path), lambda n: [])(sample) if sample > 1 else []
    try:
        proc = subprocess.run([sys.executable, path, '--mpickle', mpickle] + extra,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout, env=harness.child_env())
        output, rc = proc.stdout.decode('utf-8', 'replace'), proc.returncode
    except subprocess.TimeoutExpired as exc:
        output, rc = (exc.stdout or b'').decode('utf-8', 'replace'), None
    sys.stdout.write(output)
    if output and not output.endswith('\n'):
        sys.stdout.write('\n')
    elapsed = time.time() - start
    found = SUMMARY.findall(output)
    if rc is None:
        return 0, 1, 'timed out after %d s' % timeout
    if not found:
        return 0, 1, 'no summary line (exit status %d)' % rc
    _, passed, failed, _ = found[-1]
    passed, failed = int(passed), int(failed)
    if rc != 0 and failed == 0:
        return passed, 1, 'exit status %d with 0 failures reported' % rc
    if rc == 0 and failed:
        return passed, failed, 'reported failures but exited 0'
    return passed, failed, 'exit status %d, %.1f s' % (rc, elapsed)


def main():
    def extra(ap):
        ap.add_argument('--timeout', type=int, default=1200,
                        help='seconds allowed to each script (default: %(default)s)')
        ap.add_argument('--sample', type=int, default=1,
                        help='run every Nth corpus case in the slow scripts (sanitizer builds)')
    args = harness.parse_args(__doc__.splitlines()[0], extra)
    # test_numpy.py needs Debian's python3 (numpy) and builds its own driver:
    # tests/run_all.py runs it as a step of its own, outside the sanitizer pass
    scripts = sorted(p for p in glob.glob(os.path.join(harness.HERE, 'test_*.py'))
                     if os.path.basename(p) not in SEPARATE)
    if args.sample > 1:
        print('NOTE: sampled run: every %dth recode corpus case and 1/%d of the dis mutations'
              % (args.sample, args.sample), flush=True)
    total_passed = total_failed = 0
    lines = []
    for path in scripts:
        name = os.path.basename(path)
        print('=' * 20, name, '=' * 20, flush=True)
        passed, failed, note = run_script(path, args.mpickle, args.timeout, args.sample)
        total_passed += passed
        total_failed += failed
        lines.append('  %-28s %6d passed %6d failed   (%s)' % (name, passed, failed, note))
    print('=' * 60)
    print('\n'.join(lines))
    print(harness.summary('interop', total_passed, total_failed))
    return 1 if total_failed or not scripts else 0


if __name__ == '__main__':
    sys.exit(main())
