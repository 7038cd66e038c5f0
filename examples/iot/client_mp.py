# MicroPython IoT client: sends sensor readings to examples/iot/server.py.
#
#   micropython examples/iot/client_mp.py HOST PORT FORMAT COUNT [DEVICE]
#
# FORMAT is pickle (one pickle per reading, protocol 4, written straight to the
# socket by mpickle.dump: no message is built in memory first) or json (one
# compact JSON object per line). Readings are seq 0..COUNT-1 with values that
# depend only on the device name and seq. Prints
#   sent N readings, B bytes, peak heap H
# B: payload bytes after the format line; H: the largest gc.mem_alloc() rise
# seen while sending, in bytes (garbage is collected before each reading, so H
# is what sending one reading needs at most, the writer's buffer included).
import gc
import json
import socket
import sys
import time

import mpickle

PROTOCOL = 4


class Counter:
    """The socket as a stream that counts what goes through it, and samples
    the heap while a reading is being written (the writer's buffer is alive)."""

    def __init__(self, sock, base):
        self.sock = sock
        self.bytes = 0
        self.base = base
        self.peak = 0

    def sample(self):
        rise = gc.mem_alloc() - self.base
        if rise > self.peak:
            self.peak = rise

    def write(self, b):
        self.sample()
        n = len(b)
        view = memoryview(b)
        while view:
            k = self.sock.write(view)
            if k is None:      # a non-blocking socket that is full: wait a little
                time.sleep_ms(1)
                continue
            view = view[k:]
        self.bytes += n
        return n


def reading(device, seq, state):
    # a small linear congruential generator: the same values on every run
    x = state[0]
    vals = []
    for _ in range(3):
        x = (x * 1103515245 + 12345) & 0x7fffffff
        vals.append((x >> 8) % 10000)
    state[0] = x
    return {
        'device': device,
        'seq': seq,
        'ts': time.time_ns() // 1000000 if hasattr(time, 'time_ns') else int(time.time() * 1000),
        'temperature': 15.0 + vals[0] / 500,        # 15.0 .. 35.0 deg C
        'humidity': 30.0 + vals[1] / 250,           # 30 .. 70 %
        'battery': 3.0 + vals[2] / 8333,            # 3.0 .. 4.2 V
    }


def seed_of(device):
    h = 5381
    for c in device.encode():
        h = (h * 33 + c) & 0x7fffffff
    return h


def main(argv):
    if len(argv) < 5 or argv[3] not in ('pickle', 'json'):
        print('usage: client_mp.py HOST PORT pickle|json COUNT [DEVICE]')
        return 2
    host, port, fmt, count = argv[1], int(argv[2]), argv[3], int(argv[4])
    device = argv[5] if len(argv) > 5 else 'mp-1'
    if len(device) > 32:
        print('device name longer than 32 characters')
        return 2
    sock = socket.socket()
    sock.connect(socket.getaddrinfo(host, port)[0][-1])
    sock.write(fmt.encode() + b'\n')
    state = [seed_of(device)]
    gc.collect()
    out = Counter(sock, gc.mem_alloc())
    for seq in range(count):
        gc.collect()        # H measures one reading, not the garbage of the ones before
        r = reading(device, seq, state)
        out.sample()
        if fmt == 'pickle':
            mpickle.dump(r, out, PROTOCOL)
        else:
            out.write(json.dumps(r, separators=(',', ':')).encode() + b'\n')
        out.sample()
    sock.close()
    print('sent %d readings, %d bytes, peak heap %d' % (count, out.bytes, out.peak))
    return 0


sys.exit(main(sys.argv))
