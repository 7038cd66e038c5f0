/* The opcode writer driven directly from C: byte-exact against what CPython's
 * pickler wrote for the same objects (build/fixtures/writer_expected.txt, made by
 * tools/gen_fixtures.py), in every protocol; a sink that fails after every byte;
 * a fixed buffer that is too small; a small streaming buffer. */
#include "check.h"
#include "testutil.h"

typedef void (*build_fn)(mpk_writer_t *w);

static void b_none(mpk_writer_t *w) { mpk_write_none(w); }

static void b_ints(mpk_writer_t *w)
{
    static const int64_t v[] = {0, 1, -1, 255, 256, 65535, 65536, 2147483647, -2147483647 - 1,
                                2147483648LL, -2147483649LL, INT64_MAX, INT64_MIN};
    size_t i, n = sizeof v / sizeof v[0];
    mpk_write_list_begin(w, n);
    for (i = 0; i < n; i++) mpk_write_int(w, v[i]);
    mpk_write_list_end(w);
}

static void b_floats(mpk_writer_t *w)
{
    double zero = 0.0;
    double v[8];
    size_t i;
    v[0] = 0.0; v[1] = -zero; v[2] = 1.5; v[3] = 0.1; v[4] = 1e16; v[5] = 1e-5; v[6] = 1.0 / zero; v[7] = -1.0 / zero;
    mpk_write_list_begin(w, 8);
    for (i = 0; i < 8; i++) mpk_write_float(w, v[i]);
    mpk_write_list_end(w);
}

static void b_strs(mpk_writer_t *w)
{
    mpk_write_list_begin(w, 5);
    mpk_write_str(w, "", 0);
    mpk_write_str(w, "abc", 3);
    mpk_write_str(w, "caf\xc3\xa9", 5);
    mpk_write_str(w, "\xe2\x82\xac\xf0\x9f\x98\x80", 7);
    mpk_write_str(w, "a\\b\nc", 5);
    mpk_write_list_end(w);
}

static void b_bytes(mpk_writer_t *w)
{
    unsigned char big[400];
    size_t i;
    for (i = 0; i < sizeof big; i++) big[i] = (i & 1) ? 0xff : 0x00;
    mpk_write_list_begin(w, 3);
    mpk_write_bytes(w, "", 0);
    mpk_write_bytes(w, "abc", 3);
    mpk_write_bytes(w, big, sizeof big);
    mpk_write_list_end(w);
}

static void b_bytearrays(mpk_writer_t *w)
{
    mpk_write_list_begin(w, 2);
    mpk_write_bytearray(w, "", 0);
    mpk_write_bytearray(w, "xy", 2);
    mpk_write_list_end(w);
}

static void b_record(mpk_writer_t *w)
{
    mpk_write_dict_begin(w, 5);
    mpk_write_str(w, "id", 2); mpk_write_int(w, 7);
    mpk_write_str(w, "temp", 4); mpk_write_float(w, 21.5);
    mpk_write_str(w, "ok", 2); mpk_write_bool(w, 1);
    mpk_write_str(w, "name", 4); mpk_write_str(w, "sensor", 6);
    mpk_write_str(w, "vals", 4);
    mpk_write_tuple_begin(w, 3);
    mpk_write_int(w, 1); mpk_write_int(w, 2); mpk_write_int(w, 3);
    mpk_write_tuple_end(w);
    mpk_write_dict_end(w);
}

static void b_big_list(mpk_writer_t *w)
{
    int i;
    mpk_write_list_begin(w, 2001);
    for (i = 0; i < 2001; i++) mpk_write_int(w, i);
    mpk_write_list_end(w);
}

static void b_sets(mpk_writer_t *w)
{
    mpk_write_list_begin(w, 4);
    mpk_write_set_begin(w, 0); mpk_write_set_end(w);
    mpk_write_set_begin(w, 2); mpk_write_int(w, 1); mpk_write_int(w, 2); mpk_write_set_end(w);
    mpk_write_frozenset_begin(w, 0); mpk_write_frozenset_end(w);
    mpk_write_frozenset_begin(w, 1); mpk_write_int(w, 3); mpk_write_frozenset_end(w);
    mpk_write_list_end(w);
}

static void b_globals(mpk_writer_t *w)
{
    mpk_write_list_begin(w, 3);
    mpk_write_global(w, "collections", "OrderedDict");
    mpk_write_global(w, "collections", "deque");
    mpk_write_global(w, "builtins", "range");
    mpk_write_list_end(w);
}

static void b_tuples(mpk_writer_t *w)
{
    int n, i;
    mpk_write_list_begin(w, 5);
    for (n = 0; n <= 4; n++) {
        mpk_write_tuple_begin(w, (size_t)n);
        for (i = 1; i <= n; i++) mpk_write_int(w, i);
        mpk_write_tuple_end(w);
    }
    mpk_write_list_end(w);
}

static const struct { const char *name; build_fn fn; } cases[] = {
    {"none", b_none}, {"ints", b_ints}, {"floats", b_floats}, {"strs", b_strs}, {"bytes", b_bytes},
    {"bytearrays", b_bytearrays}, {"record", b_record}, {"big_list", b_big_list}, {"sets", b_sets},
    {"globals", b_globals}, {"tuples", b_tuples},
};

static build_fn find_case(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (!strcmp(cases[i].name, name)) return cases[i].fn;
    return NULL;
}

static size_t unhex(const char *s, unsigned char *out)
{
    size_t n = 0;
    while (s[0] && s[1] && s[0] != '\n') {
        unsigned v;
        sscanf(s, "%2x", &v);
        out[n++] = (unsigned char)v;
        s += 2;
    }
    return n;
}

/* Writes a case through a sink with a buffer of `cap` bytes. */
static mpk_err_t run_case(build_fn fn, int proto, size_t cap, growbuf_t *out)
{
    static struct mpk_wframe frames[16];
    unsigned char *buf = (unsigned char *)malloc(cap);
    mpk_writer_t w;
    mpk_err_t rc;
    mpk_writer_init(&w, proto, 0, buf, cap, growbuf_sink, out, frames, 16);
    fn(&w);
    rc = mpk_writer_finish(&w);
    free(buf);
    return rc;
}

/* The second of two pickles written with the memo carried over, as a CPython
 * Pickler writes it when dump() is called twice. */
static mpk_err_t run_again(build_fn fn, int proto, growbuf_t *out)
{
    static struct mpk_wframe frames[16];
    static unsigned char buf[MPK_FRAME_BUFFER];
    mpk_writer_memo_t memo;
    growbuf_t first = {0};
    mpk_writer_t w;
    mpk_writer_init(&w, proto, 0, buf, sizeof buf, growbuf_sink, &first, frames, 16);
    fn(&w);
    mpk_writer_finish(&w);
    mpk_writer_memo_get(&w, &memo);
    free(first.p);
    mpk_writer_init(&w, proto, 0, buf, sizeof buf, growbuf_sink, out, frames, 16);
    mpk_writer_memo_set(&w, &memo);
    fn(&w);
    return mpk_writer_finish(&w);
}

static void test_fixtures(void)
{
    size_t n, checked = 0;
    char *text = (char *)read_fixture("build/fixtures/writer_expected.txt", &n), *line;
    static unsigned char want[1 << 16];
    CHECK(text != NULL);
    if (!text) return;
    text[n] = 0;
    for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char name[64], hex[1 << 17];
        int proto;
        size_t wn;
        build_fn fn;
        growbuf_t out = {0};
        if (sscanf(line, "%63s %d %131071s", name, &proto, hex) != 3) continue;
        wn = unhex(hex, want);
        if (!strcmp(name, "globals_again")) {
            CHECK_MSG(run_again(b_globals, proto, &out) == MPK_OK, "%s proto %d", name, proto);
        } else {
            fn = find_case(name);
            CHECK_MSG(fn != NULL, "no builder for case %s", name);
            if (!fn) continue;
            CHECK_MSG(run_case(fn, proto, MPK_FRAME_BUFFER, &out) == MPK_OK, "%s proto %d", name, proto);
        }
        if (out.n != wn || memcmp(out.p, want, wn)) fprintf(stderr, "case %s protocol %d:\n", name, proto);
        CHECK_BYTES(out.p, out.n, want, wn);
        free(out.p);
        checked++;
    }
    CHECK(checked == 6 * (sizeof cases / sizeof cases[0] + 1));
    free(text);
}

/* A sink that fails after every possible byte count: the writer reports MPK_ERR_IO,
 * never writes past the failure, and later calls are no-ops. */
static void test_sink_failures(void)
{
    int proto;
    for (proto = 0; proto <= 5; proto++) {
        growbuf_t full = {0};
        long k;
        run_case(b_record, proto, 64, &full);
        for (k = 1; k < (long)full.n; k++) {
            growbuf_t out = {0};
            out.fail_after = k;
            CHECK(run_case(b_record, proto, 16, &out) == MPK_ERR_IO);
            CHECK(out.n <= (size_t)k && !memcmp(out.p ? out.p : full.p, full.p, out.n));
            free(out.p);
        }
        free(full.p);
    }
}

/* Without a sink, a pickle larger than the buffer is a clean limit error. */
static void test_fixed_buffer(void)
{
    unsigned char buf[160];
    static struct mpk_wframe frames[4];
    mpk_writer_t w;
    mpk_writer_init(&w, 4, 0, buf, sizeof buf, NULL, NULL, frames, 4);
    b_big_list(&w);
    CHECK(mpk_writer_finish(&w) == MPK_ERR_LIMIT);
    mpk_writer_init(&w, 2, 0, buf, sizeof buf, NULL, NULL, frames, 4);
    b_record(&w);
    CHECK(mpk_writer_finish(&w) == MPK_OK && mpk_writer_size(&w) < sizeof buf);
}

/* Misuse is reported, not undefined. */
static void test_misuse(void)
{
    unsigned char buf[64];
    static struct mpk_wframe frames[2];
    mpk_writer_t w;
    mpk_writer_init(&w, 4, 0, buf, sizeof buf, NULL, NULL, frames, 2);
    mpk_write_list_begin(&w, 2);
    mpk_write_int(&w, 1);
    mpk_write_list_end(&w);
    CHECK(w.err.code == MPK_ERR_ARG);
    mpk_writer_init(&w, 4, 0, buf, sizeof buf, NULL, NULL, frames, 2);
    mpk_write_list_begin(&w, 1);
    mpk_write_list_begin(&w, 1);
    mpk_write_list_begin(&w, 1);
    CHECK(w.err.code == MPK_ERR_LIMIT);
    mpk_writer_init(&w, 7, 0, buf, sizeof buf, NULL, NULL, frames, 2);
    CHECK(w.err.code == MPK_ERR_PROTOCOL);
    mpk_writer_init(&w, 3, 0, buf, sizeof buf, NULL, NULL, frames, 2);
    mpk_write_str(&w, "\xff", 1);
    CHECK(w.err.code == MPK_ERR_ARG);
}

/* A buffer smaller than a frame: the pickle is written without frames, and it
 * decodes to the same values (re-encoding with a full buffer gives CPython's bytes). */
static void test_small_buffer_unframed(void)
{
    growbuf_t small = {0}, full = {0}, again = {0};
    mpk_alloc_t alloc;
    counting_t cnt;
    mpk_arena_t arena;
    mpk_load_opts_t lo;
    mpk_error_t err;
    mpk_value_t *v;
    mpk_dump_opts_t d = {4, 0, 100};
    static unsigned char wbuf[MPK_FRAME_BUFFER];
    CHECK(run_case(b_big_list, 4, 256, &small) == MPK_OK);
    CHECK(run_case(b_big_list, 4, MPK_FRAME_BUFFER, &full) == MPK_OK);
    CHECK(small.n == full.n - 9);   /* the same pickle less one FRAME header */
    counting_alloc(&cnt, &alloc);
    mpk_arena_init(&arena, &alloc, 0);
    mpk_load_opts_default(&lo);
    v = mpk_loads(&arena, small.p, small.n, &lo, NULL, &err);
    CHECK(v != NULL && mpk_len(v) == 2001);
    CHECK(mpk_dump(v, &d, &alloc, wbuf, sizeof wbuf, growbuf_sink, &again, &err) == MPK_OK);
    CHECK_BYTES(again.p, again.n, full.p, full.n);
    mpk_arena_free(&arena);
    free(small.p); free(full.p); free(again.p);
}

static void b_large(mpk_writer_t *w)
{
    int i;
    static char pad[70000];
    uint8_t big[400];
    memset(pad, 'x', sizeof pad);
    for (i = 0; i < (int)sizeof big; i++) big[i] = (uint8_t)(i * 37 + 11);
    mpk_write_list_begin(w, 30004);
    mpk_write_bigint(w, big, sizeof big);   /* protocol 0/1: ~1000 digits in one piece */
    for (i = 0; i < 30000; i++) mpk_write_int(w, i * 7919);
    mpk_write_str(w, pad, 65535);       /* fills a frame to the brim */
    mpk_write_bytes(w, pad, sizeof pad); /* outside frames */
    mpk_write_str(w, "end", 3);
    mpk_write_list_end(w);
}

static int fail_realloc;
static void *test_realloc(void *ctx, void *p, size_t old, size_t n)
{
    (void)ctx; (void)old;
    return fail_realloc ? NULL : realloc(p, n);
}

/* Writes fn with a buffer that starts at 16 bytes and grows up to max_cap. */
static mpk_err_t run_growing(build_fn fn, int proto, growbuf_t *sink_out, size_t max_cap,
                             growbuf_t *mem_out, size_t *peak_cap)
{
    mpk_alloc_t alloc = {test_realloc, NULL, NULL};
    mpk_writer_t w;
    mpk_err_t rc;
    size_t len, cap;
    uint8_t *buf;
    /* no frames array yet: it grows too */
    mpk_writer_init(&w, proto, 0, malloc(16), 16, sink_out ? growbuf_sink : NULL, sink_out, NULL, 0);
    mpk_writer_set_growth(&w, &alloc, max_cap, 16);
    fn(&w);
    rc = mpk_writer_finish(&w);
    buf = mpk_writer_buffer(&w, &len, &cap);
    if (mem_out && rc == MPK_OK) growbuf_sink(mem_out, buf, len);
    *peak_cap = cap;
    free(buf);
    free(mpk_writer_frames(&w, NULL));
    return rc;
}

/* A growing buffer gives the same bytes as a full-size one: in memory (no sink)
 * and streaming (it grows only until a frame fits, then flushes). */
static void test_growth(void)
{
    static const build_fn fns[] = {b_record, b_big_list, b_large, b_globals, b_bytes};
    size_t i, peak;
    int proto;
    for (i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        for (proto = 0; proto <= 5; proto++) {
            growbuf_t ref = {0}, mem = {0}, streamed = {0};
            CHECK(run_case(fns[i], proto, MPK_FRAME_BUFFER, &ref) == MPK_OK);
            CHECK(run_growing(fns[i], proto, NULL, SIZE_MAX, &mem, &peak) == MPK_OK);
            CHECK_BYTES(mem.p, mem.n, ref.p, ref.n);
            CHECK(run_growing(fns[i], proto, &streamed, MPK_FRAME_BUFFER, NULL, &peak) == MPK_OK);
            CHECK_BYTES(streamed.p, streamed.n, ref.p, ref.n);
            CHECK_MSG(peak <= MPK_FRAME_BUFFER, "case %u protocol %d grew to %u", (unsigned)i, proto, (unsigned)peak);
            free(ref.p); free(mem.p); free(streamed.p);
        }
    }
    /* growth that fails is MPK_ERR_NOMEM; a stream whose buffer may not grow
     * enough drops frames, and has no room for a big int's decimal text */
    fail_realloc = 1;
    CHECK(run_growing(b_large, 4, NULL, SIZE_MAX, NULL, &peak) == MPK_ERR_NOMEM);
    fail_realloc = 0;
    {
        growbuf_t small = {0};
        CHECK(run_growing(b_large, 4, &small, 64, NULL, &peak) == MPK_OK && peak == 64);
        free(small.p);
        small.p = NULL; small.n = small.cap = 0;
        CHECK(run_growing(b_large, 0, &small, 64, NULL, &peak) == MPK_ERR_LIMIT);
        free(small.p);
    }
}

static void b_deep(mpk_writer_t *w)
{
    int i;
    for (i = 0; i < 17; i++) mpk_write_list_begin(w, 1);
    mpk_write_none(w);
    for (i = 0; i < 17; i++) mpk_write_list_end(w);
}

/* The frames array grows to max_depth (16 here) and no further. */
static void test_frames_growth(void)
{
    size_t peak;
    uint32_t cap;
    mpk_alloc_t alloc = {test_realloc, NULL, NULL};
    mpk_writer_t w;
    CHECK(run_growing(b_deep, 4, NULL, SIZE_MAX, NULL, &peak) == MPK_ERR_LIMIT);
    mpk_writer_init(&w, 4, 0, malloc(16), 16, NULL, NULL, NULL, 0);
    mpk_writer_set_growth(&w, &alloc, SIZE_MAX, 40);
    b_deep(&w);
    CHECK(mpk_writer_finish(&w) == MPK_OK);
    CHECK(mpk_writer_frames(&w, &cap) != NULL && cap >= 17 && cap <= 40);
    free(mpk_writer_buffer(&w, NULL, NULL));
    free(mpk_writer_frames(&w, NULL));
}

/* The memo can be set only before the first object. */
static void test_memo_misuse(void)
{
    unsigned char buf[64];
    static struct mpk_wframe frames[2];
    mpk_writer_memo_t memo;
    mpk_writer_t w;
    mpk_writer_init(&w, 4, 0, buf, sizeof buf, NULL, NULL, frames, 2);
    mpk_write_global(&w, "a", "b");
    mpk_writer_memo_get(&w, &memo);
    CHECK(memo.next > 0 && memo.nnames > 0);
    mpk_writer_memo_set(&w, &memo);
    CHECK(w.err.code == MPK_ERR_ARG);
}

int main(void)
{
    test_fixtures();
    test_sink_failures();
    test_fixed_buffer();
    test_misuse();
    test_small_buffer_unframed();
    test_growth();
    test_memo_misuse();
    test_frames_growth();
    CHECK_DONE();
}
