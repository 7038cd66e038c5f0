#!/bin/sh
# LeNet-5 across numpy, C and MicroPython through mpickle (README.md):
#   1. train.py trains with numpy and pickles weights, inputs and reference logits
#      (reused while newer than train.py; LENET5_RETRAIN=1 trains again);
#   2. lenet5.c loads them with mpk_loads + the ndarray helper in a 16 KiB pool,
#      infers, compares with numpy and writes its logits back as a numpy pickle;
#      check.py verifies those logits (and that numpy would write the same bytes);
#   3. the same from pickles re-written with protocols 0, 1, 2, 3 and 5;
#   4. lenet5_mp.py under CPython+numpy, and under $MICROPYTHON (ulab + mpickle)
#      when it is set, else a loud SKIPPED line.
# Environment: BUILD (default build/), OUT (default $BUILD/lenet5/out), MICROPYTHON,
# NUMPY_PYTHON (default /usr/bin/python3). Ends with 'lenet5: N passed, M failed'
# and exits 1 if anything failed.
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
OUT=${OUT:-$BUILD/lenet5/out}
PY=${NUMPY_PYTHON:-/usr/bin/python3}
BIN=$BUILD/lenet5/lenet5
# one BLAS thread: the machine is shared, and the results stay deterministic
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

if ! "$PY" -c 'import numpy' 2>/dev/null; then
    echo "*** SKIPPED: examples/lenet5 needs numpy in $PY (Debian: apt-get install python3-numpy) ***"
    exit 0
fi

passed=0
failed=0
step() {    # title, command...: one check
    title=$1
    shift
    echo "--- $title"
    if "$@"; then
        passed=$((passed + 1))
    else
        echo "FAILED: $title"
        failed=$((failed + 1))
    fi
}

train() {
    if [ -z "$LENET5_RETRAIN" ] && [ -f "$OUT/reference.pkl" ] && [ -f "$OUT/weights.pkl" ] &&
        [ -f "$OUT/inputs.pkl" ] && [ -z "$(find "$HERE/train.py" -newer "$OUT/reference.pkl")" ]; then
        echo "reusing the pickles in $OUT (LENET5_RETRAIN=1 to train again)"
        return 0
    fi
    nice "$PY" "$HERE/train.py" --out "$OUT"
}

# The pickles again with protocol $1 (into $OUT/p$1), C inference on them, its
# logits written with that protocol and checked.
other_protocol() {
    d=$OUT/p$1
    mkdir -p "$d" || return 1
    "$PY" -c 'import pickle, sys
src, dst, proto = sys.argv[1], sys.argv[2], int(sys.argv[3])
for name in ("weights", "inputs", "reference"):
    with open("%s/%s.pkl" % (src, name), "rb") as f:
        obj = pickle.load(f)
    with open("%s/%s.pkl" % (dst, name), "wb") as f:
        pickle.dump(obj, f, protocol=proto)' "$OUT" "$d" "$1" || return 1
    "$BIN" "$d/weights.pkl" "$d/inputs.pkl" "$d/reference.pkl" --protocol "$1" --repeat 1 \
        --out "$d/logits_c.pkl" >"$d/lenet5.txt" || { cat "$d/lenet5.txt"; return 1; }
    grep -v '^image' "$d/lenet5.txt"
    "$PY" "$HERE/check.py" "$d/logits_c.pkl" --ref "$OUT/reference.pkl" --same-bytes "$1" --label "C, protocol $1"
}

mkdir -p "$OUT"
# no logits of an earlier run may pass for this one's
rm -f "$OUT/logits_c.pkl" "$OUT/logits_cpython.pkl" "$OUT/logits_mp.pkl" "$OUT"/p?/logits_c.pkl
step "train (numpy)" train
step "build lenet5.c" make -s -C "$HERE" BUILD="$BUILD"
if [ ! -x "$BIN" ] || [ ! -f "$OUT/reference.pkl" ]; then
    echo "lenet5: $passed passed, $((failed + 1)) failed"
    exit 1
fi
step "lenet5.c (protocol 4, 16 KiB pool)" \
    "$BIN" "$OUT/weights.pkl" "$OUT/inputs.pkl" "$OUT/reference.pkl" --pool 16384 --out "$OUT/logits_c.pkl"
step "check C logits" "$PY" "$HERE/check.py" "$OUT/logits_c.pkl" --ref "$OUT/reference.pkl" --same-bytes 4 --label C
for p in 0 1 2 3 5; do
    step "lenet5.c, pickles of protocol $p" other_protocol "$p"
done
step "lenet5_mp.py under CPython + numpy" \
    "$PY" "$HERE/lenet5_mp.py" "$OUT/weights.pkl" "$OUT/inputs.pkl" "$OUT/logits_cpython.pkl" "$OUT/reference.pkl"
step "check lenet5_mp.py (CPython) logits" \
    "$PY" "$HERE/check.py" "$OUT/logits_cpython.pkl" --ref "$OUT/reference.pkl" --label "lenet5_mp.py (CPython)"
if [ -n "$MICROPYTHON" ]; then
    step "lenet5_mp.py under $MICROPYTHON" \
        "$MICROPYTHON" "$HERE/lenet5_mp.py" "$OUT/weights.pkl" "$OUT/inputs.pkl" "$OUT/logits_mp.pkl" "$OUT/reference.pkl"
    step "check MicroPython logits" "$PY" "$HERE/check.py" "$OUT/logits_mp.pkl" --ref "$OUT/reference.pkl" \
        --same-bytes 4 --label "lenet5_mp.py (MicroPython)"
else
    echo "*** SKIPPED: lenet5_mp.py under MicroPython (set MICROPYTHON=/path/to/micropython built with ulab and mpickle) ***"
fi
echo "lenet5: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
