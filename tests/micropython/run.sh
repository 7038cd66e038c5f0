#!/bin/sh
# MicroPython tests: run when MICROPYTHON points at a micropython binary built
# with our module (see README). Without one they are skipped, and say so loudly.
if [ -z "$MICROPYTHON" ]; then
    echo "##################################################################"
    echo "# SKIPPED: MicroPython tests (no MICROPYTHON=/path/to/micropython)."
    echo "# The MicroPython module is issue 3 and is not built yet."
    echo "##################################################################"
    exit 0
fi
if ! ls tests/micropython/test_*.py >/dev/null 2>&1; then
    echo "SKIPPED: MicroPython given ($MICROPYTHON) but no tests exist yet (issue 3)."
    exit 0
fi
exec python3 tests/micropython/run.py "$MICROPYTHON"
