#!/bin/sh
# CI for the fuzzers: builds every target with clang (libFuzzer, ASan + UBSan),
# writes the seed corpus with CPython, runs each target for a short fixed time
# (FUZZ_SECONDS, default 45) and replays fuzz/regressions/ through each one.
# Ends with `fuzz: N passed, M failed` and exits non-zero on any failure.
#
#   fuzz/run_ci.sh [BUILD_DIR]          (default build/fuzz; FUZZ_SECONDS=N to change the time;
#                                        SRC=DIR to fuzz a patched copy of src/)
#
# A run fails on a crash, a sanitizer report, a broken invariant, a leak, a
# timeout (10 s per input) or more than 2 GiB of memory; the input that did it
# is left in BUILD_DIR/artifacts/ and its path printed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=${1:-$ROOT/build/fuzz}
# absolute: make runs in fuzz/, the fuzzers from here
mkdir -p "$BUILD" && BUILD=$(cd "$BUILD" && pwd) || exit 1
SECONDS_EACH=${FUZZ_SECONDS:-45}
TARGETS="fuzz_loads fuzz_stream fuzz_roundtrip fuzz_cli"
passed=0
failed=0

pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

mkdir -p "$BUILD/artifacts" || exit 1
if ! make -s -C "$HERE" BUILD="$BUILD" CLANG="${CLANG:-clang}" ${SRC:+SRC="$SRC"} fuzzers; then
    fail "build (clang -fsanitize=fuzzer,address,undefined)"
    echo "fuzz: $passed passed, $failed failed"
    exit 1
fi
if ! python3 "$HERE/gen_corpus.py" "$BUILD/corpus" >/dev/null; then
    fail "seed corpus (python3 fuzz/gen_corpus.py)"
fi

for t in $TARGETS; do
    # the CLI prints one error line per malformed input: keep its stderr out of
    # the log (libFuzzer and sanitizer reports still get through)
    quiet=""
    [ "$t" = fuzz_cli ] && quiet="-close_fd_mask=2"
    # regressions first: every input that ever failed must run clean
    if ls "$HERE/regressions/"* >/dev/null 2>&1; then
        if "$BUILD/$t" $quiet "$HERE/regressions/"* >"$BUILD/$t.regress.log" 2>&1; then
            pass "$t replays fuzz/regressions ($(ls "$HERE/regressions" | wc -l) inputs)"
        else
            fail "$t replays fuzz/regressions: see $BUILD/$t.regress.log"
            grep -E "ERROR|runtime error|invariant failed|Running:" "$BUILD/$t.regress.log" | tail -4
        fi
    fi
    # a fresh working corpus from the seeds, so that CI runs are repeatable
    rm -rf "$BUILD/work-$t"
    mkdir -p "$BUILD/work-$t"
    cp "$BUILD/corpus/"* "$BUILD/work-$t/" 2>/dev/null
    if "$BUILD/$t" -dict="$HERE/pickle.dict" -max_total_time="$SECONDS_EACH" -timeout=10 \
            -rss_limit_mb=2048 $quiet -print_final_stats=1 -seed=1 \
            -artifact_prefix="$BUILD/artifacts/$t-" "$BUILD/work-$t" >"$BUILD/$t.log" 2>&1; then
        stats=$(grep -E "^#[0-9]+[[:space:]]+DONE" "$BUILD/$t.log" | tail -1 | sed 's/ *lim:.*//')
        pass "$t for ${SECONDS_EACH}s: $stats"
    else
        fail "$t for ${SECONDS_EACH}s: see $BUILD/$t.log"
        grep -E "ERROR|runtime error|invariant failed|Test unit written" "$BUILD/$t.log" | tail -4
    fi
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
