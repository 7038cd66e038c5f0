#!/usr/bin/env python3
"""A data sink for sensor readings sent as pickles or JSON lines (standard library only).

    python3 examples/iot/server.py --host 127.0.0.1 --port 0 --store readings.jsonl

A connection starts with one line naming the format, `pickle` or `json`, then
sends one message per reading until it closes; a connection that starts with
`stats` gets one JSON line of statistics. See examples/iot/README.md.

Pickles from the network are loaded by RestrictedUnpickler: it resolves no
global at all (readings are plain dicts of str, int and float), so a pickle that
names os.system or anything else is rejected before anything can be called.
Each message is also bounded in size, so a hostile length field cannot make the
server allocate or wait for gigabytes.
"""

import argparse
import io
import json
import math
import pickle
import socketserver
import sys
import threading

MAX_MESSAGE = 4096          # bytes in one reading, either format
IDLE_TIMEOUT = 60           # seconds a device may stay silent mid-connection
FIELDS = {'device': str, 'seq': int, 'ts': int,
          'temperature': float, 'humidity': float, 'battery': float}
ALLOWED_GLOBALS = frozenset()   # (module, name) pairs a reading may use: none


class Rejected(Exception):
    """A message that is not a valid reading."""


class RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        # Every global (GLOBAL, STACK_GLOBAL, INST, OBJ, extension codes) comes
        # through here; refusing it means no REDUCE or BUILD can run user code.
        if (module, name) in ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError('global %s.%s is not allowed' % (module, name))

    def persistent_load(self, pid):
        raise pickle.UnpicklingError('persistent ids are not allowed')


class MessageReader:
    """The socket's buffered file as the unpickler sees it: counts the bytes
    taken, and fails a message that would read more than MAX_MESSAGE bytes."""

    def __init__(self, raw):
        self.raw = raw
        self.total = 0
        self.budget = MAX_MESSAGE

    def start_message(self):
        self.budget = MAX_MESSAGE

    def at_end(self):
        return not self.raw.peek(1)

    def _take(self, data):
        self.total += len(data)
        self.budget -= len(data)
        return data

    def read(self, n=-1):
        if n < 0 or n > self.budget:
            raise Rejected('message longer than %d bytes' % MAX_MESSAGE)
        return self._take(self.raw.read(n))

    def readline(self, limit=-1):
        line = self.raw.readline(self.budget + 1)
        if len(line) > self.budget:
            raise Rejected('message longer than %d bytes' % MAX_MESSAGE)
        return self._take(line)


def check_reading(obj):
    """Returns obj if it is a reading as the protocol defines it, else raises Rejected."""
    if type(obj) is not dict or set(obj) != set(FIELDS):
        raise Rejected('not a reading dict: %.80r' % (obj,))
    for key, kind in FIELDS.items():
        if type(obj[key]) is not kind:     # exact types: bool is no int, int no float
            raise Rejected('%s is %s, not %s' % (key, type(obj[key]).__name__, kind.__name__))
    if len(obj['device']) > 32 or obj['seq'] < 0:
        raise Rejected('bad device or seq')
    if not all(math.isfinite(obj[k]) for k in ('temperature', 'humidity', 'battery')):
        raise Rejected('non-finite value')
    return obj


def read_pickles(reader):
    """Yields each reading of a pickle stream, or a Rejected for a bad one. A
    pickle that fails to load leaves the stream out of step: the connection ends."""
    while not reader.at_end():
        reader.start_message()
        try:
            obj = RestrictedUnpickler(reader).load()
        except Rejected as exc:
            yield exc
            return
        except Exception as exc:        # truncated, malformed, refused global...
            yield Rejected('%s: %s' % (type(exc).__name__, exc))
            return
        try:
            yield check_reading(obj)
        except Rejected as exc:         # a whole pickle of the wrong shape: go on
            yield exc


def read_json_lines(reader):
    """Yields each reading of a JSON-lines stream, or a Rejected for a bad line."""
    while not reader.at_end():
        reader.start_message()
        try:
            line = reader.readline()
        except Rejected as exc:
            yield exc
            return
        if not line.endswith(b'\n'):
            yield Rejected('line cut short')
            return
        try:
            yield check_reading(json.loads(line))
        except (ValueError, Rejected) as exc:
            yield exc if isinstance(exc, Rejected) else Rejected('bad JSON: %s' % exc)


class Store:
    """Readings and statistics, shared by the connection threads."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.file = open(path, 'a', encoding='utf-8') if path else None
        self.formats = {f: {'connections': 0, 'readings': 0, 'bytes': 0, 'rejected': 0}
                        for f in ('pickle', 'json')}
        self.devices = {}
        self.values = {k: [] for k in ('temperature', 'humidity', 'battery')}
        self.open = 0

    def connection(self, fmt, delta):
        with self.lock:
            self.open += delta
            if delta > 0:
                self.formats[fmt]['connections'] += 1

    def add(self, fmt, item, nbytes):
        with self.lock:
            stats = self.formats[fmt]
            stats['bytes'] += nbytes
            if isinstance(item, Rejected):
                stats['rejected'] += 1
                return
            stats['readings'] += 1
            dev = self.devices.setdefault(item['device'], {'seqs': set(), 'readings': 0, 'duplicates': 0})
            dev['readings'] += 1
            if item['seq'] in dev['seqs']:
                dev['duplicates'] += 1
            dev['seqs'].add(item['seq'])
            for key, vals in self.values.items():
                vals.append(item[key])
            if self.file:
                self.file.write(json.dumps(dict(item, format=fmt)) + '\n')
                self.file.flush()

    def stats(self):
        with self.lock:
            out = {'readings': sum(f['readings'] for f in self.formats.values()),
                   'rejected': sum(f['rejected'] for f in self.formats.values()),
                   'open_connections': self.open,
                   'formats': {k: dict(v) for k, v in self.formats.items()},
                   'devices': {}}
            for name, dev in self.devices.items():
                first, last = min(dev['seqs']), max(dev['seqs'])
                out['devices'][name] = {'readings': dev['readings'], 'first_seq': first, 'last_seq': last,
                                        'missing': last - first + 1 - len(dev['seqs']),
                                        'duplicates': dev['duplicates']}
            for key, vals in self.values.items():
                out[key] = ({'min': min(vals), 'max': max(vals), 'mean': math.fsum(vals) / len(vals)}
                            if vals else None)
            return out


class Handler(socketserver.StreamRequestHandler):
    timeout = IDLE_TIMEOUT

    def handle(self):
        store = self.server.store
        try:
            first = self.rfile.readline(16)
        except OSError:
            return
        if first == b'stats\n':
            self.wfile.write(json.dumps(store.stats()).encode() + b'\n')
            return
        readers = {b'pickle\n': read_pickles, b'json\n': read_json_lines}
        if first not in readers:
            return
        fmt = first.decode().strip()
        reader = MessageReader(self.rfile)
        store.connection(fmt, +1)
        try:
            seen = 0
            for item in readers[first](reader):
                store.add(fmt, item, reader.total - seen)
                seen = reader.total
        except OSError:                 # reset or idle too long: what came is kept
            store.add(fmt, Rejected('connection lost'), reader.total - seen)
        finally:
            store.connection(fmt, -1)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--store', help='file to append each reading to, one JSON line each')
    args = ap.parse_args()
    with Server((args.host, args.port), Handler) as server:
        server.store = Store(args.store)
        host, port = server.server_address[:2]
        print('listening on %s:%d' % (host, port), flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
