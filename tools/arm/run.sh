#!/bin/sh
# Builds the core and every C unit test (tests/unit/test_*.c) for Cortex-M and
# runs them on QEMU's MPS2 boards with semihosting (stdio and fixture files come
# from the host, the exit status goes back to it):
#
#   m0plus  -mcpu=cortex-m0plus (ARMv6-M, soft float), on mps2-an385 (Cortex-M3,
#           which runs ARMv6-M code) with unaligned accesses trapping as on an M0+
#   m4f     -mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16, on mps2-an386
#
# The core is compiled at -Os as for a product. Start-up code and memory map are
# tools/arm/startup.c and tools/arm/mps2.ld; C library: newlib + librdimon.
#
# Usage: tools/arm/run.sh            (from anywhere; builds into $BUILD/arm, BUILD=build)
#        TARGETS=m4f tools/arm/run.sh  (a subset of the boards)
#        QEMU_SKIP="test_x:why_not test_y" tools/arm/run.sh
#            (tests not to run, each said SKIPPED with its reason, _ read as space)
# Lines a test prints with SKIPPED in them (a part it could not run on the board)
# are repeated here, marked with ***.
# Prints one indented line per test and board, then 'qemu: N passed, M failed'
# (the sum of the tests' own summary lines; a test that crashes, times out or
# exits without its summary counts one failure). Exits non-zero if anything
# failed. Without arm-none-eabi-gcc or qemu-system-arm it says SKIPPED and exits 0.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
OUT="${BUILD:-build}/arm"
TARGETS="${TARGETS:-m0plus m4f}"
TIMEOUT="${QEMU_TIMEOUT:-600}"      # seconds per test program
CC_ARM="${CC_ARM:-arm-none-eabi-gcc}"
AR_ARM="${AR_ARM:-arm-none-eabi-ar}"
WARN="-std=c99 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes"

skip() {
    echo "************************************************************"
    echo "*** qemu: SKIPPED: $1"
    echo "************************************************************"
    exit 0
}
command -v "$CC_ARM" >/dev/null 2>&1 || skip "$CC_ARM not found (Debian: gcc-arm-none-eabi libnewlib-arm-none-eabi)"
command -v qemu-system-arm >/dev/null 2>&1 || skip "qemu-system-arm not found (Debian: qemu-system-arm)"
"$CC_ARM" -print-file-name=librdimon.a | grep -q / || skip "newlib's librdimon not found (Debian: libnewlib-arm-none-eabi)"

# The decoder and writer tests read CPython's pickles from build/fixtures (paths
# relative to the repository root, which is QEMU's working directory).
if [ ! -f build/fixtures/pickles.bin ] || [ ! -f build/fixtures/writer_expected.txt ] ||
   [ tools/gen_fixtures.py -nt build/fixtures/pickles.bin ]; then
    python3 tools/gen_fixtures.py build/fixtures || { echo "qemu: 0 passed, 1 failed (fixtures)"; exit 1; }
fi

# Extra flags for the test programs: ARMv6-M has no 64-bit multiply and its soft
# double routines are slow C, so the libc-oracle samples of test_numtext are cut
# to a tenth there (the M4F run keeps the full count).
test_extra() {
    case "$1" in
    m0plus) echo "-DRANDOM_DOUBLES=25000 -DRANDOM_STRINGS=20000" ;;
    esac
}
target_flags() {
    case "$1" in
    m0plus) echo "-mcpu=cortex-m0plus -mthumb" ;;
    m4f)    echo "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16" ;;
    *)      return 1 ;;
    esac
}
target_board() {
    case "$1" in
    m0plus) echo mps2-an385 ;;
    m4f)    echo mps2-an386 ;;
    esac
}

# Compiles src/*.c into $dir/libmpickle.a with $flags; returns non-zero on error.
build_core() {
    dir=$1; flags=$2
    mkdir -p "$dir/core"
    rm -f "$dir/libmpickle.a"
    for src in src/*.c; do
        obj="$dir/core/$(basename "$src" .c).o"
        nice "$CC_ARM" $flags $WARN -Os -g -ffunction-sections -fdata-sections -Iinclude -Isrc \
            -c "$src" -o "$obj" || return 1
    done
    "$AR_ARM" rcs "$dir/libmpickle.a" "$dir"/core/*.o
}

# Links one test; returns non-zero on error.
build_test() {
    dir=$1; flags=$2; test_src=$3; elf=$4; extra=$5
    nice "$CC_ARM" $flags $extra $WARN -Os -g -ffunction-sections -fdata-sections -Iinclude -Isrc -Itests/unit \
        -nostartfiles --specs=rdimon.specs -T tools/arm/mps2.ld -Wl,--gc-sections \
        "$test_src" tools/arm/startup.c "$dir/libmpickle.a" -lm -o "$elf"
}

# The reason a test is skipped (from QEMU_SKIP), or nothing.
skip_reason() {
    for entry in ${QEMU_SKIP:-}; do
        case "$entry" in
        "$1":*) echo "${entry#*:}" | tr '_' ' ' ; return ;;
        "$1") echo "QEMU_SKIP"; return ;;
        esac
    done
}

passed=0
failed=0
for t in $TARGETS; do
    flags=$(target_flags "$t") || { echo "  $t: unknown target"; failed=$((failed + 1)); continue; }
    board=$(target_board "$t")
    dir="$OUT/$t"
    mkdir -p "$dir"
    if ! build_core "$dir" "$flags" > "$dir/core.log" 2>&1; then
        sed 's/^/    /' "$dir/core.log"
        echo "  $t: the core does not build"
        failed=$((failed + 1))
        continue
    fi
    for test_src in tests/unit/test_*.c; do
        name=$(basename "$test_src" .c)
        why=$(skip_reason "$name")
        if [ -n "$why" ]; then
            echo "  *** $t $name: SKIPPED ($why)"
            continue
        fi
        elf="$dir/$name.elf"
        log="$dir/$name.log"
        if ! build_test "$dir" "$flags" "$test_src" "$elf" "$(test_extra "$t")" > "$log" 2>&1; then
            sed 's/^/    /' "$log"
            echo "  $t $name: does not build"
            failed=$((failed + 1))
            continue
        fi
        start=$(date +%s)
        nice timeout "$TIMEOUT" qemu-system-arm -M "$board" -nographic -monitor none -serial none \
            -semihosting-config enable=on,target=native -kernel "$elf" > "$log" 2>&1
        rc=$?
        secs=$(( $(date +%s) - start ))
        # the test's own line: "<file>: N passed, M failed"
        line=$(grep -E '^[^ ].*: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
        p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
        f=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
        if [ -z "$p" ]; then
            sed 's/^/    /' "$log" | tail -n 20
            [ $rc -eq 124 ] && why="timed out after ${TIMEOUT}s" || why="exit $rc without a summary"
            echo "  $t $name ($board): $why"
            failed=$((failed + 1))
            continue
        fi
        grep 'SKIPPED' "$log" | sed "s/^/  *** $t $name: /"
        if [ "$f" -ne 0 ] || [ $rc -ne 0 ]; then
            grep -v -E '^[^ ].*: [0-9]+ passed, [0-9]+ failed$' "$log" | sed 's/^/    /' | tail -n 40
        fi
        echo "  $t $name ($board, ${secs}s): $p passed, $f failed (exit $rc)"
        passed=$((passed + p))
        failed=$((failed + f))
        # a non-zero exit with no failed check (e.g. a fault after the summary)
        if [ "$f" -eq 0 ] && [ $rc -ne 0 ]; then failed=$((failed + 1)); fi
    done
done

echo "qemu: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
