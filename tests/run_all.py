#!/usr/bin/env python3
"""Runs every test of mpickle (the README's test command, `make test`, calls this):

1. fixtures from this machine's CPython (tools/gen_fixtures.py, tools/gen_compat.py --check)
2. warning-free builds with gcc and clang (-Werror)
3. unit tests (C), the same on emulated Cortex-M0+/M4 (QEMU), interop tests
   (CPython drives build/mpickle), numpy arrays against Debian's numpy
4. the same unit and interop tests (and mpickle json of numpy arrays, fewer cases) built
   with AddressSanitizer + UndefinedBehaviorSanitizer, and the fuzzers (fuzz/run_ci.sh: regressions replayed, a short run of each)
5. MicroPython tests when MICROPYTHON=/path/to/micropython is given (else SKIPPED, loudly)

Prints every step's output and ends with one line 'total: N passed, M failed'.
"""
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUMMARY = re.compile(r'^(\S.*?): (\d+) passed, (\d+) failed', re.M)


def run(title, cmd, env=None, count=True):
    print('=== %s: %s' % (title, ' '.join(cmd)), flush=True)
    t0 = time.time()
    p = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sys.stdout.write(p.stdout)
    passed = failed = 0
    if count:
        for m in SUMMARY.finditer(p.stdout):
            if m.group(1) in ('interop', 'total'):
                continue    # a runner's own total repeats its parts
            passed += int(m.group(2))
            failed += int(m.group(3))
    ok = p.returncode == 0
    print('=== %s: %s in %.0f s (exit %d)' % (title, 'ok' if ok else 'FAILED', time.time() - t0, p.returncode), flush=True)
    return ok, passed, failed


NUMPY_PYTHON = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable


def main():
    cc = os.environ.get('CC', 'cc')
    steps = [
        ('fixtures', [sys.executable, 'tools/gen_fixtures.py', 'build/fixtures'], None),
        ('compat tables current', [sys.executable, 'tools/gen_compat.py', '--check'], None),
        ('build gcc -Werror', ['make', '-s', 'BUILD=build-gcc', 'CC=gcc', 'CFLAGS=-O2 -Werror', 'all'], None),
        ('build clang -Werror', ['make', '-s', 'BUILD=build-clang', 'CC=clang', 'CFLAGS=-O2 -Werror', 'all'], None),
        ('build gcc -Os -Werror', ['make', '-s', 'BUILD=build-gcc-os', 'CC=gcc', 'CFLAGS=-Os -Werror', 'all'], None),
        ('unit', ['make', '-s', 'CC=' + cc, 'unit'], None),
        ('unit on Cortex-M (QEMU)', ['tools/arm/run.sh'], None),
        ('interop', ['make', '-s', 'CC=' + cc, 'interop'], None),
        # numpy lives in Debian's python3 (.ci/run installs python3-numpy); without
        # it the test says SKIPPED loudly
        ('numpy arrays', [NUMPY_PYTHON, 'tests/interop/test_numpy.py'], None),
        ('mpickle json of numpy arrays', [NUMPY_PYTHON, 'tests/interop/test_json_numpy.py'], None),
        # LeNet-5 weights trained by numpy, inference in C (and MicroPython+ulab when given)
        ('lenet5 example', ['examples/lenet5/run.sh'], dict(os.environ, NUMPY_PYTHON=NUMPY_PYTHON)),
        ('sanitizers (ASan+UBSan)', ['make', '-s', 'CC=' + cc, 'sanitize'], None),
        # the ndarray JSON path under ASan+UBSan, with build-san/mpickle (made just above)
        ('mpickle json of numpy arrays (ASan+UBSan)', [NUMPY_PYTHON, 'tests/interop/test_json_numpy.py',
                                                      '--mpickle', 'build-san/mpickle', '--quick'], None),
        # libFuzzer targets (clang, ASan+UBSan): regressions replayed, then 45 s each
        ('fuzz', ['fuzz/run_ci.sh', 'build/fuzz'], None),
        ('micropython', ['make', '-s', 'micropython'], None),
    ]
    total_p = total_f = 0
    all_ok = True
    for title, cmd, env in steps:
        ok, p, f = run(title, cmd, env)
        total_p += p
        total_f += f
        if not ok:
            all_ok = False
            if f == 0:
                total_f += 1    # a step that failed without counting still fails the run
    print('total: %d passed, %d failed' % (total_p, total_f))
    return 0 if all_ok and total_f == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
