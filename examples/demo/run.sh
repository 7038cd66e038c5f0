#!/bin/sh
# A real round trip with CPython: C writes, python3 loads; python3 writes, C reads.
set -e
cd "$(dirname "$0")/../.."
out=build/demo
mkdir -p "$out"
cc -std=c99 -O2 -Iinclude examples/demo/demo.c build/libmpickle.a -o "$out/demo"
"$out/demo" write "$out/reading.pkl"
python3 -c "
import pickle, sys
r = pickle.load(open('$out/reading.pkl', 'rb'))
print('python3 loaded:', r)
assert r == {'device': 'node-7', 'seq': 42, 'temp_c': 21.75, 'ok': True, 'samples': [1013, 1012, 1015]}
assert open('$out/reading.pkl', 'rb').read() == pickle.dumps(r, 4), 'not byte-identical with CPython'
print('python3: the bytes are identical to pickle.dumps(reading, protocol=4)')
cfg = {'name': 'greenhouse', 'interval': 30, 'gain': 1.25, 'enabled': True, 'channels': (1, 2, 5)}
pickle.dump(cfg, open('$out/config.pkl', 'wb'))
print('python3 wrote', cfg)
"
"$out/demo" read "$out/config.pkl"
