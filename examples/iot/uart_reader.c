/*
 * The receiving side on a device: readings arrive as back-to-back pickles on a
 * UART; an interrupt handler drops each burst of bytes into a small ring buffer,
 * and the main loop feeds whatever the ring holds to mpickle's decoder, which
 * makes each reading straight into a C struct. Nothing is allocated: the decoder
 * works in a fixed pool that is reset after each reading, and its peak use is
 * printed at the end.
 *
 *   uart_reader FILE [--count N]   decode a file of pickled readings (from CPython
 *                                  or the writer), check each one, report
 *   uart_reader --self-test        the same on a stream made here by the writer
 *                                  (protocols 0-5), then bad streams that must fail
 *
 * The UART is simulated: bursts of 1..7 pseudo-random bytes, delivered only when
 * the ring has room (as with RTS flow control).
 *
 * Each reading is checked against the value scheme of readings.h: seq counts
 * 0, 1, 2... per stream, values follow from the device name, ts is
 * 1700000000000 + 1000 * seq (what the test's CPython writer and --self-test use).
 */
#include <stdio.h>
#include <string.h>

#include "mpickle.h"
#include "readings.h"

#define RING_SIZE 64            /* bytes between the ISR and the main loop */
#define POOL_SIZE 1536          /* the decoder's working memory (peak: see the report) */
#define SLOTS 16                /* objects alive in one pickle (a reading makes 13) */
#define TS0 1700000000000LL

/* ------------------------------------------------ the UART and its ring */

struct wire {                   /* the far end: bytes still to arrive */
    const uint8_t *p;
    size_t left;
    uint32_t rng;
};

struct ring {
    uint8_t buf[RING_SIZE];
    size_t head, tail;          /* free-running: bytes put, bytes taken */
    size_t peak;
};

static uint32_t next_rand(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    return *s = x;
}

/* The receive interrupt: one burst of 1..7 bytes, if the ring has room for it. */
static void uart_isr(struct wire *w, struct ring *r)
{
    size_t n = 1 + next_rand(&w->rng) % 7, i;
    if (n > w->left) n = w->left;
    if (n > RING_SIZE - (r->head - r->tail)) return;       /* RTS held: wait */
    for (i = 0; i < n; i++) r->buf[(r->head + i) % RING_SIZE] = w->p[i];
    r->head += n;
    w->p += n;
    w->left -= n;
    if (r->head - r->tail > r->peak) r->peak = r->head - r->tail;
}

/* The bytes the main loop may take in one piece (up to the wrap). */
static size_t ring_span(const struct ring *r, const uint8_t **p)
{
    size_t at = r->tail % RING_SIZE, n = r->head - r->tail;
    *p = r->buf + at;
    return n < RING_SIZE - at ? n : RING_SIZE - at;
}

/* ------------------------------------------ a host that makes readings */

enum kind { OBJ_INT = 1, OBJ_FLOAT, OBJ_STR, OBJ_DICT };

struct obj {
    uint8_t kind;
    uint8_t len;
    union { int64_t i; double f; char s[MAX_DEVICE + 1]; } u;
};

/* Objects are slots of a fixed table (handles point at them): a pickle that
 * makes more than a reading needs fails with MPK_ERR_LIMIT. */
struct maker {
    mpk_decoder_t *dec;
    struct obj slots[SLOTS];
    unsigned used;
    unsigned fields;            /* bit per reading field set */
    struct reading r;
};

static const char *const FIELD_NAMES[6] = {"device", "seq", "ts", "temperature", "humidity", "battery"};
static const uint8_t FIELD_KINDS[6] = {OBJ_STR, OBJ_INT, OBJ_INT, OBJ_FLOAT, OBJ_FLOAT, OBJ_FLOAT};

static mpk_err_t new_obj(struct maker *m, int kind, mpk_obj_t *out)
{
    if (m->used == SLOTS) return mpk_decoder_fail(m->dec, MPK_ERR_LIMIT, "more objects than a reading has");
    m->slots[m->used].kind = (uint8_t)kind;
    *out = &m->slots[m->used++];
    return MPK_OK;
}

static mpk_err_t make_int(void *ctx, int64_t value, mpk_obj_t *out)
{
    mpk_err_t e = new_obj((struct maker *)ctx, OBJ_INT, out);
    if (!e) ((struct obj *)*out)->u.i = value;
    return e;
}

static mpk_err_t make_float(void *ctx, double value, mpk_obj_t *out)
{
    mpk_err_t e = new_obj((struct maker *)ctx, OBJ_FLOAT, out);
    if (!e) ((struct obj *)*out)->u.f = value;
    return e;
}

static mpk_err_t make_str(void *ctx, const char *s, size_t n, mpk_text_t text, int stable, mpk_obj_t *out)
{
    struct maker *m = (struct maker *)ctx;
    mpk_err_t e;
    (void)stable;               /* copied either way: the ring is overwritten */
    if (n > MAX_DEVICE || text != MPK_TEXT_UTF8)
        return mpk_decoder_fail(m->dec, MPK_ERR_LIMIT, "string longer than a device name");
    e = new_obj(m, OBJ_STR, out);
    if (e) return e;
    memcpy(((struct obj *)*out)->u.s, s, n);
    ((struct obj *)*out)->u.s[n] = '\0';
    ((struct obj *)*out)->len = (uint8_t)n;
    return MPK_OK;
}

static mpk_err_t make_dict(void *ctx, mpk_obj_t *out)
{
    return new_obj((struct maker *)ctx, OBJ_DICT, out);
}

/* Stores one field; the key must be a reading's and the value of its type. */
static mpk_err_t set_field(struct maker *m, const struct obj *k, const struct obj *v)
{
    unsigned f;
    for (f = 0; f < 6; f++)
        if (k->kind == OBJ_STR && !strcmp(k->u.s, FIELD_NAMES[f])) break;
    if (f == 6) return mpk_decoder_fail(m->dec, MPK_ERR_REFUSED, "not a reading field");
    if (v->kind != FIELD_KINDS[f]) return mpk_decoder_fail(m->dec, MPK_ERR_REFUSED, "field of the wrong type");
    switch (f) {
    case 0: memcpy(m->r.device, v->u.s, (size_t)v->len + 1); break;
    case 1: m->r.seq = v->u.i; break;
    case 2: m->r.ts = v->u.i; break;
    case 3: m->r.temperature = v->u.f; break;
    case 4: m->r.humidity = v->u.f; break;
    default: m->r.battery = v->u.f; break;
    }
    m->fields |= 1u << f;
    return MPK_OK;
}

static mpk_err_t dict_setitems(void *ctx, mpk_obj_t dict, const mpk_obj_t *kv, size_t n)
{
    struct maker *m = (struct maker *)ctx;
    size_t i;
    if (((struct obj *)dict)->kind != OBJ_DICT || dict != (mpk_obj_t)&m->slots[0])
        return mpk_decoder_fail(m->dec, MPK_ERR_REFUSED, "a reading is one flat dict");
    for (i = 0; i < n; i++) {
        mpk_err_t e = set_field(m, (const struct obj *)kv[2 * i], (const struct obj *)kv[2 * i + 1]);
        if (e) return e;
    }
    return MPK_OK;
}

/* Everything else (None, bools, lists, globals, calls...) is absent: the VM fails
 * with MPK_ERR_UNSUPPORTED, so a hostile pickle cannot name or call anything. */
static const mpk_host_t READING_HOST = {
    .make_int = make_int, .make_float = make_float, .make_str = make_str,
    .make_dict = make_dict, .dict_setitems = dict_setitems,
};

/* --------------------------------------------------------- the receiver */

struct receiver {
    mpk_decoder_t dec;
    mpk_decoder_opts_t opts;
    struct maker maker;
    mpk_pool_t pool;
    mpk_alloc_t alloc;
    uint8_t pool_mem[POOL_SIZE];
    size_t pool_peak;
    size_t in_pickle;           /* bytes of the current pickle fed so far */
    long readings, good, bad;   /* pickles done; good readings; problems */
    size_t peak_by_proto[MPK_HIGHEST_PROTOCOL + 1];
    uint32_t state;             /* the value generator, from the first device name */
    unsigned protocols;         /* bit per protocol seen */
    char first_error[160];
};

/* A fresh decoder in a fresh pool, for the next pickle. */
static void receiver_start(struct receiver *rx)
{
    mpk_pool_init(&rx->pool, rx->pool_mem, sizeof rx->pool_mem, &rx->alloc);
    memset(&rx->maker, 0, sizeof rx->maker);
    rx->maker.dec = &rx->dec;
    mpk_decoder_init(&rx->dec, &READING_HOST, &rx->maker, &rx->alloc, &rx->opts);
    rx->in_pickle = 0;
}

static void receiver_init(struct receiver *rx)
{
    memset(rx, 0, sizeof *rx);
    mpk_decoder_opts_default(&rx->opts);
    rx->opts.limits.max_depth = 2;          /* a reading: one dict, one MARK */
    rx->opts.limits.max_stack = 16;
    rx->opts.limits.max_memo = 16;
    rx->opts.limits.max_str = 64;
    rx->opts.limits.max_alloc = POOL_SIZE;
    receiver_start(rx);
}

static void note_bad(struct receiver *rx, const char *what)
{
    if (!rx->bad) snprintf(rx->first_error, sizeof rx->first_error, "pickle %ld: %s", rx->readings, what);
    rx->bad++;
}

/* A pickle reached STOP: is it the reading we expect next? */
static void check_reading(struct receiver *rx)
{
    const struct reading *r = &rx->maker.r;
    struct reading want;
    int proto = mpk_decoder_protocol(&rx->dec);
    rx->readings++;
    rx->protocols |= 1u << proto;
    if (rx->pool.used > rx->peak_by_proto[proto]) rx->peak_by_proto[proto] = rx->pool.used;
    if (mpk_decoder_result(&rx->dec) != (mpk_obj_t)&rx->maker.slots[0] || rx->maker.fields != 0x3f)
        { note_bad(rx, "not a whole reading dict"); return; }
    if (rx->readings == 1) rx->state = reading_seed(r->device);
    reading_values(&want, &rx->state);
    if (r->seq != rx->readings - 1 || r->ts != TS0 + 1000 * r->seq)
        { note_bad(rx, "seq or ts out of order"); return; }
    if (r->temperature != want.temperature || r->humidity != want.humidity || r->battery != want.battery)
        { note_bad(rx, "values differ from the scheme"); return; }
    rx->good++;
}

/* Feeds one piece; returns 0 to go on, -1 when the stream is out of step. */
static int receiver_feed(struct receiver *rx, const uint8_t *p, size_t n, size_t *used)
{
    mpk_status_t st = mpk_decoder_feed(&rx->dec, p, n, 0, used);
    rx->in_pickle += *used;
    if (rx->pool.used > rx->pool_peak) rx->pool_peak = rx->pool.used;
    if (st == MPK_FAILED) {
        char msg[120];
        mpk_error_format(mpk_decoder_error(&rx->dec), msg, sizeof msg);
        note_bad(rx, msg);
        return -1;
    }
    if (st == MPK_DONE) {
        check_reading(rx);
        mpk_decoder_destroy(&rx->dec);      /* a pool needs no frees; kept for other allocators */
        receiver_start(rx);
    }
    return 0;
}

/* Runs a whole stream through the simulated UART. Returns 0 if every pickle was
 * a good reading and the stream ended between pickles. */
static int receive(struct receiver *rx, const uint8_t *data, size_t n, uint32_t seed, size_t *ring_peak)
{
    struct wire w = {data, n, seed ? seed : 1};
    struct ring ring;
    memset(&ring, 0, sizeof ring);
    while (w.left || ring.head != ring.tail) {
        const uint8_t *p;
        size_t span, used;
        unsigned bursts = 1 + next_rand(&w.rng) % 4;
        while (bursts--) uart_isr(&w, &ring);   /* on a device this runs on its own */
        while ((span = ring_span(&ring, &p)) > 0) {
            int rc = receiver_feed(rx, p, span, &used);
            ring.tail += used;
            if (rc) return -1;
        }
    }
    *ring_peak = ring.peak;
    if (rx->in_pickle) {                    /* the stream ended inside a pickle */
        char msg[120];
        mpk_decoder_finish(&rx->dec);
        mpk_error_format(mpk_decoder_error(&rx->dec), msg, sizeof msg);
        note_bad(rx, msg);
    }
    return rx->bad ? -1 : 0;
}

static void report(const char *name, const struct receiver *rx, size_t bytes, size_t ring_peak)
{
    int p;
    printf("%s: %ld readings ok, %ld bad, %zu bytes; pool peak %zu of %d bytes, ring peak %zu of %d\n",
           name, rx->good, rx->bad, bytes, rx->pool_peak, POOL_SIZE, ring_peak, RING_SIZE);
    printf("%s: pool peak by protocol:", name);
    for (p = 0; p <= MPK_HIGHEST_PROTOCOL; p++)
        if (rx->protocols & (1u << p)) printf(" %d: %zu", p, rx->peak_by_proto[p]);
    printf("\n");
    if (rx->bad) printf("%s: first problem: %s\n", name, rx->first_error);
}

/* ------------------------------------------------------- the two modes */

static uint8_t stream[256 * 1024];

static int check_file(const char *path, long count)
{
    static struct receiver rx;
    size_t n, ring_peak = 0;
    int rc;
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 2; }
    n = fread(stream, 1, sizeof stream, f);
    fclose(f);
    receiver_init(&rx);
    rc = receive(&rx, stream, n, 12345, &ring_peak);
    report(path, &rx, n, ring_peak);
    if (count >= 0 && rx.good != count) {
        printf("%s: expected %ld readings, got %ld\n", path, count, rx.good);
        rc = -1;
    }
    return rc ? 1 : 0;
}

struct buf_sink { uint8_t *p; size_t len, cap; };

static int to_buffer(void *ctx, const uint8_t *data, size_t n)
{
    struct buf_sink *b = (struct buf_sink *)ctx;
    if (n > b->cap - b->len) return -1;
    memcpy(b->p + b->len, data, n);
    b->len += n;
    return 0;
}

/* Appends one reading pickled with the writer (a buffer a frame fits in: CPython's bytes). */
static int put_reading(struct buf_sink *out, const struct reading *r, int protocol)
{
    uint8_t buf[256];
    struct mpk_wframe frames[1];
    mpk_writer_t w;
    mpk_writer_init(&w, protocol, 0, buf, sizeof buf, to_buffer, out, frames, 1);
    reading_write(&w, r);
    return mpk_writer_finish(&w) == MPK_OK ? 0 : -1;
}

/* One bad stream: it must fail, and no reading may come out of its bad part. */
static int expect_failure(const char *name, const void *data, size_t n, long good_before)
{
    static struct receiver rx;
    size_t ring_peak = 0;
    int failed;
    receiver_init(&rx);
    failed = receive(&rx, (const uint8_t *)data, n, 777, &ring_peak) != 0;
    printf("self-test %s: %s (%ld good readings before it; %s)\n", name,
           failed && rx.good == good_before ? "rejected as it should be" : "NOT REJECTED",
           rx.good, rx.bad ? rx.first_error : "no error");
    return failed && rx.good == good_before ? 0 : 1;
}

static int self_test(void)
{
    static struct receiver rx;
    struct buf_sink out = {stream, 0, sizeof stream};
    struct reading r;
    uint32_t state;
    size_t ring_peak = 0;
    long seq, count = 600;
    int failures = 0;
    /* pickle.dumps of os.system('touch x') (by __reduce__) and of {'device': {}}, protocol 2 */
    static const uint8_t hostile[] = {
        0x80, 0x02, 0x63, 0x70, 0x6f, 0x73, 0x69, 0x78, 0x0a, 0x73, 0x79, 0x73, 0x74, 0x65, 0x6d, 0x0a,
        0x71, 0x00, 0x58, 0x07, 0x00, 0x00, 0x00, 0x74, 0x6f, 0x75, 0x63, 0x68, 0x20, 0x78, 0x71, 0x01,
        0x85, 0x71, 0x02, 0x52, 0x71, 0x03, 0x2e};
    static const uint8_t nested[] = {
        0x80, 0x02, 0x7d, 0x71, 0x00, 0x58, 0x06, 0x00, 0x00, 0x00, 0x64, 0x65, 0x76, 0x69, 0x63, 0x65,
        0x71, 0x01, 0x7d, 0x71, 0x02, 0x73, 0x2e};

    strcpy(r.device, "uart-1");
    state = reading_seed(r.device);
    for (seq = 0; seq < count; seq++) {
        r.seq = seq;
        r.ts = TS0 + 1000 * seq;
        reading_values(&r, &state);
        if (put_reading(&out, &r, (int)(seq % 6))) { printf("self-test: writer failed\n"); return 1; }
    }
    receiver_init(&rx);
    if (receive(&rx, stream, out.len, 4242, &ring_peak) || rx.good != count || rx.protocols != 0x3f) failures++;
    report("self-test stream", &rx, out.len, ring_peak);

    /* the same stream cut inside its last reading */
    failures += expect_failure("cut short", stream, out.len - 10, count - 1);
    /* three good readings (protocols 0, 1, 2), then something bad */
    out.len = 0;
    state = reading_seed(r.device);
    for (seq = 0; seq < 3; seq++) {
        r.seq = seq;
        r.ts = TS0 + 1000 * seq;
        reading_values(&r, &state);
        put_reading(&out, &r, (int)seq);
    }
    memcpy(stream + out.len, hostile, sizeof hostile);
    failures += expect_failure("os.system pickle", stream, out.len + sizeof hostile, 3);
    memcpy(stream + out.len, nested, sizeof nested);
    failures += expect_failure("nested dict", stream, out.len + sizeof nested, 3);
    memset(stream + out.len, 0xff, 16);
    failures += expect_failure("garbage bytes", stream, out.len + 16, 3);
    printf("uart_reader self-test: %d failed\n", failures);
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    long count = -1;
    if (argc == 2 && !strcmp(argv[1], "--self-test")) return self_test();
    if (argc == 4 && !strcmp(argv[2], "--count")) sscanf(argv[3], "%ld", &count);
    else if (argc != 2) {
        fprintf(stderr, "usage: uart_reader FILE [--count N] | uart_reader --self-test\n");
        return 2;
    }
    return check_file(argv[1], count);
}
