#!/usr/bin/env python3
"""The IoT example end to end on loopback: examples/iot/server.py receives
readings from the C client (pickle protocols 0-5 and JSON, sent in 1..7-byte
pieces, and cut short by --drop-at), from hostile senders written here, and
from the MicroPython client when MICROPYTHON is set; then the server's stats
and store must hold every reading exactly once with the values each client
sent. Also runs examples/iot/uart_reader on its self-test and on a stream
pickled by CPython.

    python3 tests/interop/test_iot.py [--mpickle build/mpickle]

The C programs are built into a temporary folder against the libmpickle.a
next to --mpickle (with the sanitizers when that library has them), or from
src/*.c when there is none.
"""

import argparse
import glob
import io
import json
import os
import pickle
import re
import select
import socket
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
IOT = os.path.join(REPO, 'examples', 'iot')
COUNT = 200
SEED = 2024                  # every C run but one uses it: the same values in each format
TS0 = 1700000000000          # ts of the CPython stream for uart_reader: TS0 + 1000 * seq
SENT = re.compile(r'^sent (\d+) readings, (\d+) bytes(?:, peak heap (\d+))?$', re.M)


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print('FAIL:', what, flush=True)
        return ok


check = Checks()


# ------------------------------------------------------------ the reading scheme

def seed_of(device):
    h = 5381
    for c in device.encode():
        h = (h * 33 + c) & 0x7fffffff
    return h


def scheme_values(seed, count):
    """(temperature, humidity, battery) of seq 0..count-1, as readings.h makes them."""
    x, out = seed, []
    for _ in range(count):
        v = []
        for _ in range(3):
            x = (x * 1103515245 + 12345) & 0x7fffffff
            v.append((x >> 8) % 10000)
        out.append((15.0 + v[0] / 500, 30.0 + v[1] / 250, 3.0 + v[2] / 8333))
    return out


def reading(device, seq, values, ts):
    t, h, b = values[seq]
    return {'device': device, 'seq': seq, 'ts': ts, 'temperature': t, 'humidity': h, 'battery': b}


# ------------------------------------------------------------ building

def build(tmp, mpickle):
    """Compiles iot_client and uart_reader; returns their paths (None on failure)."""
    cc = os.environ.get('CC', 'cc')
    lib = os.path.join(os.path.dirname(mpickle), 'libmpickle.a')
    flags = ['-std=c99', '-O1', '-g', '-Wall', '-Wextra', '-I' + os.path.join(REPO, 'include')]
    if os.path.exists(lib):
        with open(lib, 'rb') as f:
            if b'__asan_' in f.read():      # a sanitizer build links only with them
                flags += ['-fsanitize=address,undefined', '-fno-omit-frame-pointer']
        core = [lib]
        print('building against', lib)
    else:
        core = sorted(glob.glob(os.path.join(REPO, 'src', '*.c')))
        flags.append('-I' + os.path.join(REPO, 'src'))
        print('no', lib, '- building from src/*.c')
    out = {}
    for name, src in (('iot_client', 'client.c'), ('uart_reader', 'uart_reader.c')):
        path = os.path.join(tmp, name)
        p = subprocess.run([cc] + flags + [os.path.join(IOT, src)] + core + ['-o', path, '-lm'],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if not check(p.returncode == 0, 'build %s: %s' % (name, p.stdout[-2000:])):
            return None
        out[name] = path
    return out


# ------------------------------------------------------------ the server

class Server:
    def __init__(self, tmp):
        self.store = os.path.join(tmp, 'store.jsonl')
        self.log = open(os.path.join(tmp, 'server.err'), 'w+')
        self.proc = subprocess.Popen([sys.executable, os.path.join(IOT, 'server.py'), '--host', '127.0.0.1',
                                      '--port', '0', '--store', self.store],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        line = self.proc.stdout.readline() if ready else ''
        m = re.match(r'^listening on ([\d.]+):(\d+)$', line.strip())
        check(m is not None, 'server start line: %r' % line)
        self.port = int(m.group(2)) if m else 0

    def stats(self):
        with socket.create_connection(('127.0.0.1', self.port), timeout=10) as s:
            s.sendall(b'stats\n')
            return json.loads(s.makefile('rb').readline())

    def settle(self, connections):
        """The stats once every connection (per format, counted so far) is done."""
        deadline = time.time() + 15
        while True:
            st = self.stats()
            got = {f: st['formats'][f]['connections'] for f in connections}
            if st['open_connections'] == 0 and got == connections or time.time() > deadline:
                check(got == connections, 'connections seen %r, want %r' % (got, connections))
                return st
            time.sleep(0.05)

    def send(self, fmt, payload):
        with socket.create_connection(('127.0.0.1', self.port), timeout=10) as s:
            s.sendall(fmt + b'\n' + payload)

    def stored(self):
        with open(self.store) as f:
            return [json.loads(line) for line in f]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.seek(0)
        return self.log.read()


def run_client(argv, what, timeout=60):
    """Runs a client; returns (readings, bytes, peak heap or None) from its summary line."""
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    m = SENT.search(p.stdout)
    if not check(p.returncode == 0 and m, '%s: exit %d: %s' % (what, p.returncode, p.stdout[-500:])):
        return 0, 0, None
    return int(m.group(1)), int(m.group(2)), (int(m.group(3)) if m.group(3) else None)


# ------------------------------------------------------------ the phases

def c_clients(srv, client, expect):
    """Full runs in every format, in 1..7-byte pieces, then two cut short."""
    sizes = {}
    runs = ([('pickle', 'c-p%d' % p, ['--protocol', str(p)]) for p in range(6)] +
            [('pickle', 'c-k4', ['--protocol', '4', '--compact']), ('json', 'c-js', [])])
    for fmt, dev, extra in runs:
        argv = [client, '127.0.0.1', str(srv.port), fmt, str(COUNT), '--device', dev,
                '--chunk-max', '7', '--seed', str(SEED)] + extra
        n, nbytes, _ = run_client(argv, dev)
        check(n == COUNT, '%s sent %d readings' % (dev, n))
        label = 'json' if fmt == 'json' else 'pickle protocol %s%s' % (extra[1], ' compact' if len(extra) > 2 else '')
        sizes[label] = nbytes / COUNT if n else 0
        expect.add(fmt, dev, COUNT, nbytes, 0, SEED)
    # whole buffers, the default seed (the device name's, as client_mp.py)
    n, nbytes, _ = run_client([client, '127.0.0.1', str(srv.port), 'pickle', '50', '--device', 'c-whole'], 'c-whole')
    expect.add('pickle', 'c-whole', 50, nbytes, 0, seed_of('c-whole'))
    for fmt, dev in (('pickle', 'c-dropp'), ('json', 'c-dropj')):
        argv = [client, '127.0.0.1', str(srv.port), fmt, '100', '--device', dev, '--chunk-max', '7',
                '--seed', str(SEED), '--drop-at', '37']
        n, nbytes, _ = run_client(argv, dev)
        check(n == 37, '%s: %d readings before the drop, want 37' % (dev, n))
        expect.add(fmt, dev, 37, nbytes, 1, SEED)
    return sizes


def capture(client, fmt, extra, count=20):
    """The bytes the client sends to a bare listener (payload after the format line)."""
    with socket.create_server(('127.0.0.1', 0)) as ls:
        proc = subprocess.Popen([client, '127.0.0.1', str(ls.getsockname()[1]), fmt, str(count), '--device', 'cap']
                                + extra, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        ls.settimeout(20)
        conn, _ = ls.accept()
        with conn, conn.makefile('rb') as f:
            first, data = f.readline(), f.read()
        out = proc.communicate(timeout=20)[0]
    check(first == fmt.encode() + b'\n' and proc.returncode == 0, 'capture %s %s: %r' % (fmt, extra, out))
    return data


def same_bytes_as_cpython(client):
    """JSON lines are json.dumps's, pickles CPython's (the 64-byte buffer leaves
    out protocol 4's FRAME, 9 bytes; the rest is the same)."""
    data = capture(client, 'json', [])
    lines = data.split(b'\n')[:-1]
    want = [json.dumps(json.loads(x), separators=(',', ':')).encode() for x in lines]
    check(len(lines) == 20 and lines == want, 'C client JSON differs from json.dumps: %r' % lines[:1])
    for proto in range(6):
        data = capture(client, 'pickle', ['--protocol', str(proto)])
        f, got, want = io.BytesIO(data), [], []
        while f.tell() < len(data):
            start = f.tell()
            r = pickle.load(f)
            got.append(data[start:f.tell()])
            ref = pickle.dumps(r, proto)
            want.append(ref[:2] + ref[11:] if proto >= 4 else ref)
        check(len(got) == 20 and got == want, 'C client protocol %d differs from CPython: %r' % (proto, got[:1]))


class Hostile:
    """Pickles that must not run: the marker file would prove they did."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, ('touch ' + self.marker,))


class HostileExec:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, ('open(%r, "w").close()' % self.marker,))


def hostile_senders(srv, marker, expect):
    """Each connection: good readings around bad messages. A bad pickle ends its
    connection (the stream is out of step); a whole pickle or line of the wrong
    shape is only skipped."""
    vals = scheme_values(seed_of('h-1'), 3)
    good = [reading('h-1', i, vals, TS0 + i) for i in range(3)]
    payload = (pickle.dumps(good[0], 4) + pickle.dumps({'device': 'h-1'}, 4) + pickle.dumps(good[1], 2) +
               pickle.dumps(Hostile(marker), 2) + pickle.dumps(good[2], 4))
    srv.send(b'pickle', payload)
    expect.add('pickle', 'h-1', 2, None, 2, seed_of('h-1'))
    vals = scheme_values(seed_of('h-2'), 1)
    srv.send(b'pickle', pickle.dumps(reading('h-2', 0, vals, TS0), 5) + pickle.dumps(HostileExec(marker), 4))
    expect.add('pickle', 'h-2', 1, None, 1, seed_of('h-2'))
    # a str that claims a terabyte: refused by the message bound, not waited for
    vals = scheme_values(seed_of('h-3'), 1)
    srv.send(b'pickle', pickle.dumps(reading('h-3', 0, vals, TS0), 3) + b'\x80\x04\x8d' + (1 << 40).to_bytes(8, 'little'))
    expect.add('pickle', 'h-3', 1, None, 1, seed_of('h-3'))
    # JSON: wrong shapes and types are skipped, the good lines kept
    vals = scheme_values(seed_of('h-4'), 2)
    lines = [json.dumps(reading('h-4', 0, vals, TS0)), '[1, 2]', '{"device": "h-4"}',
             json.dumps(dict(reading('h-4', 1, vals, TS0), seq=True)),
             json.dumps(dict(reading('h-4', 1, vals, TS0), temperature=20)),
             'not json', json.dumps(reading('h-4', 1, vals, TS0))]
    srv.send(b'json', ''.join(line + '\n' for line in lines).encode())
    expect.add('json', 'h-4', 2, None, 5, seed_of('h-4'))


def micropython_clients(srv, expect):
    mp = os.environ.get('MICROPYTHON')
    if not mp:
        print('test_iot: MicroPython client SKIPPED (set MICROPYTHON=...)', flush=True)
        return {}
    sizes = {}
    for fmt, dev in (('pickle', 'mp-1'), ('json', 'mp-2')):
        n, nbytes, heap = run_client([mp, os.path.join(IOT, 'client_mp.py'), '127.0.0.1', str(srv.port), fmt,
                                      '100', dev], 'MicroPython ' + fmt)
        check(n == 100, 'MicroPython %s sent %d readings' % (fmt, n))
        check(heap is not None, 'MicroPython %s reports its peak heap' % fmt)
        sizes[dev] = (nbytes / 100 if n else 0, heap)
        expect.add(fmt, dev, 100, nbytes, 0, seed_of(dev))
    return sizes


class Expect:
    """What the server must have: per format totals and per device readings."""

    def __init__(self):
        self.formats = {f: {'connections': 0, 'readings': 0, 'bytes': 0, 'rejected': 0} for f in ('pickle', 'json')}
        self.devices = {}
        self.bytes_known = True

    def add(self, fmt, device, n, nbytes, rejected, seed):
        f = self.formats[fmt]
        f['connections'] += 1
        f['readings'] += n
        f['rejected'] += rejected
        if nbytes is None:
            self.bytes_known = False    # the server stops reading at a bad pickle
        else:
            f['bytes'] += nbytes
        self.devices[device] = (fmt, n, seed)

    def connections(self):
        return {f: v['connections'] for f, v in self.formats.items()}


def check_stats(st, expect, phase):
    for fmt, want in expect.formats.items():
        got = st['formats'][fmt]
        for key in ('readings', 'rejected') + (('bytes',) if expect.bytes_known else ()):
            check(got[key] == want[key], '%s: %s %s = %d, want %d' % (phase, fmt, key, got[key], want[key]))
    check(st['readings'] == sum(f['readings'] for f in expect.formats.values()), phase + ': total readings')
    for dev, (fmt, n, _) in expect.devices.items():
        d = st['devices'].get(dev)
        want = {'readings': n, 'first_seq': 0, 'last_seq': n - 1, 'missing': 0, 'duplicates': 0}
        check(d == want, '%s: device %s stats %r, want %r' % (phase, dev, d, want))


def check_store(rows, expect, t_start, t_end):
    """Every stored reading: the right device, seq exactly once, the scheme's values."""
    by_dev = {}
    for r in rows:
        by_dev.setdefault(r['device'], []).append(r)
    check(set(by_dev) == set(expect.devices), 'stored devices %s' % sorted(set(by_dev) ^ set(expect.devices)))
    for dev, (fmt, n, seed) in expect.devices.items():
        got = by_dev.get(dev, [])
        vals = scheme_values(seed, min(max([n] + [r['seq'] + 1 for r in got]), 10 * n + 10))
        bad = [r for r in got if r['format'] != fmt or r['seq'] >= len(vals) or
               (r['temperature'], r['humidity'], r['battery']) != vals[r['seq']]]
        seqs = sorted(r['seq'] for r in got)
        check(seqs == list(range(n)), '%s: stored seqs %s... want 0..%d once each' % (dev, seqs[:5], n - 1))
        check(not bad, '%s: %d readings differ from what was sent, e.g. %r' % (dev, len(bad), bad[:1]))
        if dev.startswith('c-'):    # the C client's clock
            check(all(t_start - 5000 <= r['ts'] <= t_end + 5000 for r in got), dev + ': ts is the wall clock')
    return [r['temperature'] for r in rows]


def uart(tmp, reader):
    p = subprocess.run([reader, '--self-test'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    print(p.stdout, end='')
    check(p.returncode == 0 and 'uart_reader self-test: 0 failed' in p.stdout, 'uart_reader --self-test')
    check(p.stdout.count('rejected as it should be') == 4, 'uart_reader rejects the 4 bad streams')
    peak = re.search(r'self-test stream: 600 readings ok, 0 bad, \d+ bytes; pool peak (\d+)', p.stdout)
    check(peak is not None, 'uart_reader self-test decoded 600 readings')
    # a stream pickled by CPython, every protocol in turn
    vals = scheme_values(seed_of('py-1'), 300)
    data = b''.join(pickle.dumps(reading('py-1', i, vals, TS0 + 1000 * i), i % 6) for i in range(300))
    path = os.path.join(tmp, 'cpython.pkl')
    with open(path, 'wb') as f:
        f.write(data)
    p = subprocess.run([reader, path, '--count', '300'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    print(p.stdout, end='')
    check(p.returncode == 0 and '300 readings ok, 0 bad' in p.stdout, 'uart_reader on CPython stream')
    with open(path, 'wb') as f:
        f.write(data[:-5])
    p = subprocess.run([reader, path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    check(p.returncode == 1 and '299 readings ok, 1 bad' in p.stdout, 'uart_reader on a cut stream: %s' % p.stdout)
    return int(peak.group(1)) if peak else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--mpickle', default=os.path.join(REPO, 'build', 'mpickle'),
                    help='the build whose libmpickle.a to use (default: %(default)s)')
    args = ap.parse_args()
    start = time.time()
    try:
        with tempfile.TemporaryDirectory(prefix='test_iot.') as tmp:
            run_all(tmp, os.path.abspath(args.mpickle))
    except Exception:                       # a crash is a failure, with the summary line still
        traceback.print_exc()
        check(False, 'the test itself crashed')
    print('(%.1f s)' % (time.time() - start))
    print('iot: %d passed, %d failed' % (check.passed, check.failed))
    return 1 if check.failed else 0


def run_all(tmp, mpickle):
    progs = build(tmp, mpickle)
    if not progs:
        return
    marker = os.path.join(tmp, 'PWNED')
    srv = Server(tmp)
    expect = Expect()
    try:
        t0 = time.time() * 1000
        same_bytes_as_cpython(progs['iot_client'])
        sizes = c_clients(srv, progs['iot_client'], expect)
        check_stats(srv.settle(expect.connections()), expect, 'C clients')
        hostile_senders(srv, marker, expect)
        check_stats(srv.settle(expect.connections()), expect, 'hostile senders')
        check(not os.path.exists(marker), 'a hostile pickle ran code: %s exists' % marker)
        mp_sizes = micropython_clients(srv, expect)
        st = srv.settle(expect.connections())
        check_stats(st, expect, 'all')
        temps = check_store(srv.stored(), expect, t0, time.time() * 1000)
        check(st['temperature']['min'] == min(temps) and st['temperature']['max'] == max(temps),
              'temperature min/max agree with the store')
    finally:
        log = srv.stop()
    check('Traceback' not in log, 'server errors: %s' % log[-2000:])
    peak = uart(tmp, progs['uart_reader'])
    print('bytes per reading on the wire from the C client (device names of 4 characters):')
    for label, size in sizes.items():
        print('  %-26s %.1f' % (label, size))
    for dev, (size, heap) in mp_sizes.items():
        print('  %-8s MicroPython %.1f bytes per reading, peak heap %s bytes' % (dev, size, heap))
    print('uart_reader pool peak: %s bytes' % peak)

if __name__ == '__main__':
    sys.exit(main())
