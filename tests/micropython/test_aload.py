# aload: pickles read from asyncio streams by a native coroutine.
# - a fake StreamReader giving 1..7 bytes per read, awaiting (and collecting
#   garbage) between reads: every object of protocols 0-5 arrives equal, and each
#   aload() stops exactly at its pickle's STOP (the reader's position is checked);
# - Unpickler(stream).aload() keeps the memo from one pickle to the next;
# - cancellation at every read of a message (task.cancel) and by wait_for
#   timeouts: mpickle.aload() never reads a byte of the next message; an
#   Unpickler's next aload() goes on with the interrupted message, so both it and
#   the following one arrive whole;
# - the end of the stream mid-pickle, and hostile pickles, raise what load() raises;
# - a real TCP loopback (asyncio.start_server + open_connection).
# (MicroPython only: expected output in test_aload.py.exp. asyncio is Python
# source in MicroPython's tree: run.sh puts its extmod folder in MICROPYPATH.)
import sys
try:
    import asyncio
    import mpickle
except ImportError:
    sys.stderr.write('#' * 70 + '\n# SKIPPED test_aload.py: no asyncio (set MICROPYPATH to '
                     'micropython/extmod) or no mpickle\n' + '#' * 70 + '\n')
    print('SKIP')
    raise SystemExit
import gc
import io

passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print('FAIL', what)


class C:
    def __init__(self, a=0):
        self.a = a

    def __eq__(self, other):
        return type(other) is C and other.a == self.a


OBJS = [
    None, True, False, 0, 1, -1, 255, 256, 65535, 65536, 2**31 - 1, -2**31, 2**40, -2**63,
    0.0, -1.5, 1e300, '', 'a', 'caf\u00e9 \u20ac \U0001f600', 'x' * 300, 'y' * 3000, b'', b'\x00\xff' * 200,
    bytearray(b'ba'), (), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), [], [1, [2, [3]]], {}, {'a': 1, 'b': [1.5, 'x' * 300]},
    {1, 2, 3}, frozenset({'f'}), list(range(1100)), {i: str(i) for i in range(60)}, C(5), [C(1), C(2)],
]
try:
    # int() at run time: a longlong port's compiler would fold a 2**64 literal and fail
    OBJS += [int('18446744073709551616'), int('-12345678901234567890123')]
except OverflowError:
    pass    # a firmware with 64-bit ints at most
SHARED = ['s']
OBJS.append([SHARED, SHARED, (SHARED,)])


def same(a, b):
    if a != b or type(a) is not type(b):
        return False
    if type(a) is list and a and a[-1] is not None and type(a[-1]) is tuple and len(a) == 3:
        return a[0] is a[1] and a[2][0] is a[0]     # the shared reference survived
    return True


class FakeReader:
    """An asyncio stream's read(n): at most `most` bytes (1..7, varying), after an
    await; collects garbage now and then. stall_at: reads wait at that position
    until go() is called (so that a test can cancel a read in flight)."""

    def __init__(self, data, seed=1, most=7):
        self.data = data
        self.pos = 0
        self.seed = seed
        self.most = most
        self.reads = 0
        self.stall_at = -1
        self.stalled = False
        self.gate = asyncio.Event()

    def go(self):
        self.stall_at = -1
        self.gate.set()

    def piece(self):
        self.seed = (self.seed * 1103515245 + 12345) & 0x7fffffff
        return 1 + (self.seed >> 16) % self.most

    async def read(self, n):
        self.reads += 1
        await asyncio.sleep_ms(0)
        if self.reads % 50 == 0:
            junk = [str(i) for i in range(20)]      # garbage for the collector
            gc.collect()
        while self.pos == self.stall_at:
            self.stalled = True
            await self.gate.wait()
            self.gate = asyncio.Event()
        self.stalled = False
        k = min(n, self.piece(), len(self.data) - self.pos)
        if self.stall_at > self.pos:
            k = min(k, self.stall_at - self.pos)     # a read stops short of the stall
        r = self.data[self.pos:self.pos + k]
        self.pos += k
        return r


def pickles(objs, p):
    out = []
    for o in objs:
        out.append(mpickle.dumps(o, p))
    return out


async def test_fake_reader():
    for p in range(6):
        ps = pickles(OBJS, p)
        f = FakeReader(b''.join(ps), seed=p + 1)
        ok = True
        end = 0
        for o, b in zip(OBJS, ps):
            got = await mpickle.aload(f)
            end += len(b)
            if not same(got, o) or f.pos != end:
                ok = False
                print('FAIL protocol', p, repr(o)[:60], repr(got)[:60], f.pos, end)
        check(ok, 'aload protocol %d' % p)
        # the same through an Unpickler (whose memo goes on from one pickle to the
        # next: written by one Pickler), in pieces of 1 byte
        w = io.BytesIO()
        pk = mpickle.Pickler(w, p)
        for o in OBJS:
            pk.dump(o)
        f = FakeReader(w.getvalue(), seed=p + 7, most=1)
        u = mpickle.Unpickler(f)
        ok = True
        for o in OBJS:
            ok = ok and same(await u.aload(), o)
        check(ok and f.pos == len(f.data), 'Unpickler.aload protocol %d' % p)
        try:
            await u.aload()
            check(False, 'EOF after the last pickle')
        except EOFError as e:
            check(str(e) == 'Ran out of input', 'EOF after the last pickle: ' + str(e))
    print('fake reader: protocols 0-5, every aload stopped at its STOP')


async def test_memo_and_keywords():
    for p in range(6):
        f = io.BytesIO()
        pk = mpickle.Pickler(f, p)
        x = ['shared']
        pk.dump(x)
        pk.dump(x)
        pk.dump({'n': 1})
        u = mpickle.Unpickler(FakeReader(f.getvalue(), seed=3))
        a = await u.aload()
        b = await u.aload()
        c = await u.aload()
        check(a is b and a == x and c == {'n': 1}, 'memo across aload() protocol %d' % p)
    # keywords as load's
    py2 = b"(dp0\nS'k'\np1\nS'\\xe9'\np2\ns."
    check(await mpickle.aload(FakeReader(py2), encoding='bytes') == {b'k': b'\xe9'}, 'encoding=bytes')
    check(await mpickle.aload(FakeReader(py2), encoding='latin1') == {'k': '\xe9'}, 'encoding=latin1')
    pid = b'\x80\x02]q\x00(K\x01X\x01\x00\x00\x00aq\x01Qe.'
    got = await mpickle.aload(FakeReader(pid), persistent_load=lambda i: ('P', i))
    check(got == [1, ('P', 'a')], 'persistent_load')
    # a stream whose read() returns bytes at once (no awaitable) works too
    check(await mpickle.aload(io.BytesIO(mpickle.dumps([1, 'two'], 2))) == [1, 'two'], 'plain stream')
    print('memo, keywords, plain streams: ok')


async def cancel_at(pos, data, unpickler):
    """Cancels an aload whose read waits at byte `pos`. Returns the reader and
    the Unpickler (or None) after the cancellation."""
    f = FakeReader(data, seed=pos + 1)
    f.stall_at = pos
    u = mpickle.Unpickler(f) if unpickler else None
    t = asyncio.create_task(u.aload() if u else mpickle.aload(f))
    while not f.stalled and not t.done():
        await asyncio.sleep_ms(0)
    t.cancel()
    try:
        await t
        check(False, 'cancelled aload returned')
    except asyncio.CancelledError:
        pass
    f.go()
    return f, u


async def test_cancel():
    first = {'temperature': 21.5, 'device': 'dev-1', 'seq': 7, 'blob': b'q' * 40}
    second = ['next', 2**40, 1.25]
    for p in range(6):
        m1 = mpickle.dumps(first, p)
        m2 = mpickle.dumps(second, p)
        data = m1 + m2
        ok_u = ok_m = True
        for pos in range(len(m1)):      # a read waiting at each byte of the message
            # an Unpickler: the interrupted message, then the next one, whole
            f, u = await cancel_at(pos, data, True)
            a = await u.aload()
            b = await u.aload()
            if a != first or b != second or f.pos != len(data):
                ok_u = False
                print('FAIL Unpickler cancelled at', pos, 'protocol', p, a, b)
            # mpickle.aload(): what it read is dropped, never a byte past the message
            f, u = await cancel_at(pos, data, False)
            if f.pos != pos:
                ok_m = False
                print('FAIL aload cancelled at', pos, 'protocol', p, 'read up to', f.pos)
            if pos == 0 and await mpickle.aload(f) != first:
                ok_m = False
        check(ok_u, 'Unpickler.aload cancelled at each byte, protocol %d' % p)
        check(ok_m, 'aload cancelled at each byte, protocol %d' % p)
    print('cancel: every position of the first message, protocols 0-5')

    # wait_for: a timeout while idle loses nothing; one mid-message is resumed
    m1 = mpickle.dumps(first, 4)
    m2 = mpickle.dumps(second, 4)
    f = FakeReader(m1 + m2, seed=5)
    f.stall_at = 0
    try:
        await asyncio.wait_for_ms(mpickle.aload(f), 20)
        check(False, 'idle timeout')
    except asyncio.TimeoutError:
        check(f.pos == 0, 'idle timeout read nothing')
    f.stall_at = 10
    f.gate.set()
    f.gate = asyncio.Event()
    u = mpickle.Unpickler(f)
    try:
        await asyncio.wait_for_ms(u.aload(), 20)
        check(False, 'timeout mid-message')
    except asyncio.TimeoutError:
        check(f.pos == 10, 'timeout mid-message after 10 bytes')
    try:
        u.load()
        check(False, 'load() while a message waits')
    except RuntimeError:
        check(True, '')
    f.go()
    check(await asyncio.wait_for_ms(u.aload(), 10000) == first, 'resumed after the timeout')
    check(await u.aload() == second, 'the message after it')
    print('wait_for: idle timeout and mid-message timeout: ok')

    # two aload() of one Unpickler at once: the second is refused
    f = FakeReader(m1 + m2)
    f.stall_at = 3
    u = mpickle.Unpickler(f)
    t = asyncio.create_task(u.aload())
    while not f.stalled and not t.done():
        await asyncio.sleep_ms(0)
    try:
        await u.aload()
        check(False, 'second aload')
    except RuntimeError as e:
        check(True, '')
    f.go()
    check(await t == first and await u.aload() == second, 'first aload unharmed')
    print('concurrent aload of one Unpickler: refused')


def error_of(f):
    try:
        f()
        return 'no error'
    except Exception as e:
        return '%s: %s' % (type(e).__name__, e)


async def aerror_of(coro):
    try:
        await coro
        return 'no error'
    except Exception as e:
        return '%s: %s' % (type(e).__name__, e)


async def test_errors():
    msgs = set()
    n = 0
    for p in range(6):
        full = mpickle.dumps({'k': [1, 2.5, 'text', b'by' * 40]}, p)
        for cut in range(len(full)):
            part = full[:cut]
            want = error_of(lambda: mpickle.load(io.BytesIO(part)))
            got = await aerror_of(mpickle.aload(FakeReader(part, seed=cut)))
            got_u = await aerror_of(mpickle.Unpickler(FakeReader(part, seed=cut + 3)).aload())
            check(want == got == got_u and want.startswith('EOFError'), 'cut %d protocol %d: %s / %s' % (cut, p, want, got))
            msgs.add(want.split(':')[0])
            n += 1
    print('EOF mid-pickle:', n, 'cuts, as load():', sorted(msgs))
    hostile = [
        b"cos\nsystem\n(S'echo hi'\ntR.",
        b'\x80\x04\x95\x1d\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94\x8c\x02hi\x85R.',
        b'\x80\x02cbuiltins\neval\nX\x03\x00\x00\x001+1\x85R.',
        b'\x80\x02]q\x00(K\x01K\x02h\x07e.',
    ]
    for h in hostile:
        want = error_of(lambda: mpickle.load(io.BytesIO(h)))
        got = await aerror_of(mpickle.aload(FakeReader(h)))
        check(want == got and want != 'no error', 'hostile %r: %s / %s' % (h[:20], want, got))
        print('hostile:', got.split(':')[0])
    # an Unpickler is usable after a refused pickle (its memo starts afresh)
    f = FakeReader(hostile[0] + mpickle.dumps('after', 2))
    u = mpickle.Unpickler(f)
    got = await aerror_of(u.aload())
    f.pos = len(hostile[0])
    check(got.startswith('UnpicklingError') and await u.aload() == 'after', 'Unpickler after a refusal')


async def test_tcp():
    port = None
    results = []
    want = []
    done = asyncio.Event()

    async def serve(reader, writer):
        # independent pickles (so mpickle.aload, not an Unpickler whose memo
        # would go on), compared as they come: a firmware's heap would not hold them
        try:
            while True:
                o = await mpickle.aload(reader)
                results.append(len(results) < len(want) and same(o, want[len(results)]))
                o = None
                gc.collect()
        except EOFError:
            pass
        writer.close()
        await writer.wait_closed()
        done.set()

    srv = None
    base = 20000 + (gc.mem_free() * 7 + id(results)) % 30000
    for k in range(30):
        try:
            srv = await asyncio.start_server(serve, '127.0.0.1', base + k)
            port = base + k
            break
        except OSError:
            pass
    if srv is None:
        print('FAIL no free TCP port')
        return
    big = ['z' * 70000, b'B' * 70000]     # frames and payloads beyond 64 KiB
    protos = []
    for p in range(6):
        for o in OBJS + (big if p >= 3 else []):
            want.append(o)
            protos.append(p)
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    sent = 0
    step = 1
    for i, o in enumerate(want):
        data = mpickle.dumps(o, protos[i])
        pos = 0
        while pos < len(data):
            # pieces of varying size, with pauses: reads see partial pickles
            step = step * 3 % 4093 + 1
            writer.write(data[pos:pos + step])
            await writer.drain()
            pos += step
            if step % 5 == 0:
                await asyncio.sleep_ms(1)
        sent += len(data)
        data = None
        gc.collect()    # a small heap's worth of 64 KiB pieces: no fragmentation
    data = None
    writer.close()
    await writer.wait_closed()
    await asyncio.wait_for(done.wait(), 30)
    srv.close()
    await srv.wait_closed()
    ok = len(results) == len(want) and all(results)
    check(ok, 'TCP: %d of %d objects' % (len(results), len(want)))
    print('TCP loopback: pickles of protocols 0-5 back to back:', 'equal' if ok else 'DIFFERENT')

    # a timeout mid-message on a real socket: the Unpickler resumes it
    got = []
    ready = asyncio.Event()

    async def serve2(reader, writer):
        u = mpickle.Unpickler(reader)
        try:
            await asyncio.wait_for_ms(u.aload(), 50)
            got.append('no timeout')
        except asyncio.TimeoutError:
            got.append('timeout')
        ready.set()
        got.append(await u.aload())
        got.append(await u.aload())
        writer.close()
        await writer.wait_closed()
        done.set()

    done = asyncio.Event()
    srv = None
    for k in range(30):
        try:
            srv = await asyncio.start_server(serve2, '127.0.0.1', base + 40 + k)
            port = base + 40 + k
            break
        except OSError:
            pass
    m1 = mpickle.dumps({'first': list(range(100))}, 5)
    m2 = mpickle.dumps(('second', 2.5), 5)
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    writer.write(m1[:len(m1) // 2])
    await writer.drain()
    await ready.wait()
    writer.write(m1[len(m1) // 2:] + m2)
    await writer.drain()
    await asyncio.wait_for(done.wait(), 30)
    writer.close()
    await writer.wait_closed()
    srv.close()
    await srv.wait_closed()
    check(got == ['timeout', {'first': list(range(100))}, ('second', 2.5)], 'TCP timeout mid-message: %r' % got[:1])
    print('TCP timeout mid-message, then both messages:', got[0], got[1:] == [{'first': list(range(100))}, ('second', 2.5)])


async def test_gc():
    # a collection (and the heap filled with new objects) while aload waits in
    # the middle of a message: everything decoded so far survives
    obj = {'k%d' % i: ['v%d' % i, (i, 'w' * i)] for i in range(200)}
    for p in (0, 2, 5):
        data = mpickle.dumps(obj, p)
        f = FakeReader(data)
        f.stall_at = len(data) * 2 // 3
        u = mpickle.Unpickler(f)
        t = asyncio.create_task(u.aload())
        while not f.stalled:
            await asyncio.sleep_ms(0)
        junk = None
        for _ in range(3):
            gc.collect()
            junk = [('junk%d' % i) * 3 for i in range(2000)]
        junk = None
        gc.collect()
        f.go()
        check(await t == obj, 'gc while waiting, protocol %d' % p)
    print('gc while waiting mid-message: ok')


class FlakyReader(FakeReader):
    """read() raises OSError once, at a given position."""

    async def read(self, n):
        if self.fail_at >= 0 and self.pos >= self.fail_at:
            self.fail_at = -1
            raise OSError(104)
        return await FakeReader.read(self, n)


class PlainGenReader:
    """read(n) as a plain generator: yields 'wait' once, then gives a byte."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def read(self, n):
        yield 'wait'
        r = self.data[self.pos:self.pos + 1]
        self.pos += len(r)
        return r


async def test_protocol():
    data = mpickle.dumps({'a': [1, 2, 3], 'b': 'text'}, 2) + mpickle.dumps('next', 2)
    # an OSError out of read(): the Unpickler's next aload() goes on
    f = FlakyReader(data)
    f.fail_at = 9
    u = mpickle.Unpickler(f)
    try:
        await u.aload()
        check(False, 'OSError')
    except OSError:
        check(9 <= f.pos < 16, 'OSError at %d' % f.pos)
    check(await u.aload() == {'a': [1, 2, 3], 'b': 'text'} and await u.aload() == 'next', 'resumed after OSError')
    # the generator protocol by hand: send, close, StopIteration with the object
    # (a reader of its own: asyncio's awaitables must only be driven by its loop)
    f = PlainGenReader(data)
    u = mpickle.Unpickler(f)
    c = u.aload()
    check(c.send(None) == 'wait', 'what the read yields goes up')
    c.close()
    check(f.pos == 0 and c.close() is None, 'close()')
    try:
        c.send(None)
        check(False, 'send after close')
    except StopIteration:
        check(True, '')
    c = u.aload()       # goes on with the closed one's pickle
    try:
        c.send(1)
        check(False, 'send(1) to a new coroutine')
    except TypeError:
        check(True, '')
    c = u.aload()
    r = None
    try:
        while True:
            c.send(None)
    except StopIteration as e:
        r = e.value
    check(r == {'a': [1, 2, 3], 'b': 'text'}, 'StopIteration value: %r' % (r,))

    f = FakeReader(data[f.pos:])

    def gen():      # yield from, as asyncio's own coroutines do
        return (yield from mpickle.aload(f))
    check(await gen() == 'next', 'yield from')
    try:
        mpickle.aload(42)
        check(False, 'no read')
    except TypeError:
        check(True, '')
    print('generator protocol, OSError then resume: ok')


async def main():
    await test_protocol()
    await test_gc()
    await test_fake_reader()
    await test_memo_and_keywords()
    await test_cancel()
    await test_errors()
    await test_tcp()
    gc.collect()


asyncio.run(main())
print('test_aload: %d passed, %d failed' % (passed, failed))
if failed:
    raise SystemExit(1)
