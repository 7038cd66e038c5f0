#!/bin/sh
# Runs each example: the device side under MicroPython (built with the mpickle
# module), the server side under CPython, exchanging pickles through files.
#   MICROPYTHON=/path/to/micropython examples/micropython/run.sh
set -e
: "${MICROPYTHON:?set MICROPYTHON=/path/to/micropython (built with USER_C_MODULES=.../micropython)}"
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for ex in hello builtins sensor; do
    echo "== $ex"
    "$MICROPYTHON" "$here/$ex/device.py" send "$dir"
    python3 -B "$here/$ex/server.py" "$dir"
    "$MICROPYTHON" "$here/$ex/device.py" receive "$dir"
done
