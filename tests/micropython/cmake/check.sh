#!/usr/bin/env bash
# CMake integration check of the MicroPython module (by hand; CI has no
# MicroPython tree):
#   MICROPY_DIR=/path/to/micropython MICROPY_PORT_BUILD=/path/to/micropython/ports/unix/build-xxx \
#       tests/micropython/cmake/check.sh
# The unix port in MICROPY_PORT_BUILD must have been built with our module
# (USER_C_MODULES=.../micropython), so that its qstr headers know the module's
# names. Each feature-switch set is configured and compiled with -Werror.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${MICROPY_DIR:?set MICROPY_DIR}" "${MICROPY_PORT_BUILD:?set MICROPY_PORT_BUILD}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
passed=0 failed=0
# every C file of the module folder must be gathered and compiled
want=$(find "$here/../../../micropython/mpickle" -name '*.c' | wc -l)
for opts in "" "-DMPICKLE_DUMP=OFF" "-DMPICKLE_LOAD=OFF" "-DMPICKLE_TEXT=OFF -DMPICKLE_MESSAGES=OFF"; do
    dir="$out/b$((passed + failed))"
    # shellcheck disable=SC2086
    if cmake -S "$here" -B "$dir" -DMICROPY_DIR="$MICROPY_DIR" -DMICROPY_PORT_BUILD="$MICROPY_PORT_BUILD" $opts \
            >"$dir.log" 2>&1 && cmake --build "$dir" >>"$dir.log" 2>&1 &&
            [ "$(find "$dir" -name '*.o' | wc -l)" -eq "$want" ]; then
        echo "ok: usermod.cmake gathered and compiled $want sources${opts:+ with $opts}"
        passed=$((passed + 1))
    else
        echo "FAIL: ${opts:-defaults}"; tail -20 "$dir.log"
        failed=$((failed + 1))
    fi
done
echo "cmake: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
