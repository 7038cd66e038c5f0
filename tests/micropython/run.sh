#!/bin/sh
# MicroPython tests: run when MICROPYTHON points at a micropython binary built
# with our module (see README). Without one they are skipped, and say so loudly.
if [ -z "$MICROPYTHON" ]; then
    echo "##################################################################"
    echo "# SKIPPED: MicroPython tests (no MICROPYTHON=/path/to/micropython)."
    echo "# Build MicroPython with USER_C_MODULES=$(pwd)/micropython (see"
    echo "# micropython/README.md), then: make test MICROPYTHON=/path/to/it"
    echo "##################################################################"
    exit 0
fi
if ! ls tests/micropython/test_*.py >/dev/null 2>&1; then
    echo "SKIPPED: MicroPython given ($MICROPYTHON) but tests/micropython has no tests."
    exit 0
fi
# asyncio is Python source in MicroPython's tree (a firmware freezes it; the
# unix build here has no frozen modules): tests that need it (test_aload.py)
# find it through MICROPYPATH, from MICROPY_DIR or the binary's place in a
# ports/unix/build-xxx folder; without it they print SKIP loudly.
if [ -z "$MICROPYPATH" ]; then
    for d in "${MICROPY_DIR:-/nonexistent}/extmod" "$(dirname "$MICROPYTHON")/../../../extmod"; do
        if [ -f "$d/asyncio/__init__.py" ]; then
            MICROPYPATH="$d:.frozen"
            export MICROPYPATH
            break
        fi
    done
fi
python3 tests/micropython/run.py "$MICROPYTHON" || rc=1
# The CMake integration check needs a MicroPython source tree and the unix
# port's build folder (MICROPY_DIR, MICROPY_PORT_BUILD).
if [ -n "$MICROPY_DIR" ] && [ -n "$MICROPY_PORT_BUILD" ]; then
    tests/micropython/cmake/check.sh || rc=1
else
    echo "SKIPPED: CMake integration check (set MICROPY_DIR and MICROPY_PORT_BUILD to run it)"
fi
exit ${rc:-0}
