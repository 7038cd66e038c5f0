/* Memory and time bombs against the decoder and the value model. Each hostile
 * input must end with the expected error (a limit, mostly) after work in
 * proportion to its input, and with little memory. Nothing here reads a
 * clock: every run counts the bytes it allocates (peak under 1 MiB), the
 * allocator calls, the host callbacks and the bytes the decoder consumed. */
#include "check.h"
#include "testutil.h"

#define MIB (1024L * 1024L)

/* ------------------------------------------------------------ counting host */

/* The value host with every callback counted: the decoder's steps. */
typedef struct counted {
    mpk_value_ctx_t vc;
    long calls;
} counted_t;

#define VH mpk_value_host
#define CC(c) (((counted_t *)(c))->calls++, &((counted_t *)(c))->vc)

static mpk_err_t c_none(void *c, mpk_obj_t *o) { return VH.make_none(CC(c), o); }
static mpk_err_t c_bool(void *c, int b, mpk_obj_t *o) { return VH.make_bool(CC(c), b, o); }
static mpk_err_t c_int(void *c, int64_t i, mpk_obj_t *o) { return VH.make_int(CC(c), i, o); }
static mpk_err_t c_bigint(void *c, const uint8_t *p, size_t n, mpk_obj_t *o) { return VH.make_bigint(CC(c), p, n, o); }
static mpk_err_t c_float(void *c, double f, mpk_obj_t *o) { return VH.make_float(CC(c), f, o); }
static mpk_err_t c_str(void *c, const char *s, size_t n, mpk_text_t t, int st, mpk_obj_t *o)
{
    return VH.make_str(CC(c), s, n, t, st, o);
}
static mpk_err_t c_bytes(void *c, const uint8_t *p, size_t n, int st, mpk_obj_t *o)
{
    return VH.make_bytes(CC(c), p, n, st, o);
}
static mpk_err_t c_bytearray(void *c, const uint8_t *p, size_t n, mpk_obj_t *o) { return VH.make_bytearray(CC(c), p, n, o); }
static mpk_err_t c_tuple(void *c, const mpk_obj_t *it, size_t n, mpk_obj_t *o) { return VH.make_tuple(CC(c), it, n, o); }
static mpk_err_t c_list(void *c, mpk_obj_t *o) { return VH.make_list(CC(c), o); }
static mpk_err_t c_dict(void *c, mpk_obj_t *o) { return VH.make_dict(CC(c), o); }
static mpk_err_t c_set(void *c, mpk_obj_t *o) { return VH.make_set(CC(c), o); }
static mpk_err_t c_frozenset(void *c, const mpk_obj_t *it, size_t n, mpk_obj_t *o) { return VH.make_frozenset(CC(c), it, n, o); }
static mpk_err_t c_extend(void *c, mpk_obj_t l, const mpk_obj_t *it, size_t n) { return VH.list_extend(CC(c), l, it, n); }
static mpk_err_t c_setitems(void *c, mpk_obj_t d, const mpk_obj_t *kv, size_t n) { return VH.dict_setitems(CC(c), d, kv, n); }
static mpk_err_t c_add(void *c, mpk_obj_t s, const mpk_obj_t *it, size_t n) { return VH.set_add(CC(c), s, it, n); }
static mpk_err_t c_get_str(void *c, mpk_obj_t o, const char **s, size_t *n) { return VH.get_str(CC(c), o, s, n); }
static mpk_err_t c_global(void *c, const mpk_name_t *nm, mpk_obj_t *o) { return VH.find_global(CC(c), nm, o); }
static mpk_err_t c_call(void *c, mpk_call_t k, mpk_obj_t f, mpk_obj_t a, mpk_obj_t kw, mpk_obj_t *o)
{
    return VH.call(CC(c), k, f, a, kw, o);
}
static mpk_err_t c_build(void *c, mpk_obj_t obj, mpk_obj_t st, mpk_obj_t *o) { return VH.build(CC(c), obj, st, o); }
static mpk_err_t c_persid(void *c, mpk_obj_t pid, mpk_obj_t *o) { return VH.persistent_load(CC(c), pid, o); }
static mpk_err_t c_ext(void *c, uint32_t code, mpk_obj_t *o) { return VH.extension(CC(c), code, o); }
static mpk_err_t c_next_buffer(void *c, mpk_obj_t *o) { return VH.next_buffer(CC(c), o); }
static mpk_err_t c_readonly(void *c, mpk_obj_t b, mpk_obj_t *o) { return VH.readonly_buffer(CC(c), b, o); }

static const mpk_host_t counted_host = {
    c_none, c_bool, c_int, c_bigint, c_float, c_str, c_bytes, c_bytearray, c_tuple, c_list,
    c_dict, c_set, c_frozenset, c_extend, c_setitems, c_add, c_get_str, c_global, c_call,
    c_build, c_persid, c_ext, c_next_buffer, c_readonly
};

/* ------------------------------------------------------------ running a bomb */

/* What one decode cost. */
typedef struct cost {
    mpk_err_t code;
    const char *msg;
    long long peak;         /* bytes allocated at once, at most */
    long allocs;            /* allocator calls that grew memory */
    long host_calls;        /* host callbacks: objects made, items added... */
    uint64_t consumed;      /* input bytes the decoder took */
    uint64_t input_n;       /* bytes the bomb offered */
    size_t chunk;           /* fed in pieces of this size (0: whole) */
    int done;
} cost_t;

/* `test_bombs --report` also prints each run as a markdown table row (the
 * figures in docs/security.md). */
static int report;

/* Input: `n` bytes made of `head`, then `body` repeated, then `tail`, fed in
 * pieces of `chunk` bytes (0: all at once, as stable memory) without ever
 * holding the whole input, so that a bomb of gigabytes costs the test nothing. */
typedef struct input {
    const char *head; size_t head_n;
    const char *body; size_t body_n;
    const char *tail; size_t tail_n;
    uint64_t n;
} input_t;

static void input_bytes(const input_t *in, uint64_t at, uint8_t *out, size_t k)
{
    size_t i;
    uint64_t body_end = in->n - in->tail_n;
    for (i = 0; i < k; i++, at++) {
        if (at < in->head_n) out[i] = (uint8_t)in->head[at];
        else if (at >= body_end) out[i] = (uint8_t)in->tail[at - body_end];
        else out[i] = (uint8_t)in->body[(at - in->head_n) % in->body_n];
    }
}

static cost_t run(const input_t *in, const mpk_limits_t *limits, size_t chunk)
{
    static uint8_t piece[65536];
    counting_t cnt;
    mpk_alloc_t alloc;
    mpk_arena_t arena;
    mpk_decoder_t d;
    mpk_decoder_opts_t opts;
    counted_t ch;
    cost_t c;
    mpk_status_t st = MPK_NEED_MORE;
    uint64_t pos = 0;
    uint8_t *whole = NULL;

    memset(&c, 0, sizeof c);
    counting_alloc(&cnt, &alloc);
    mpk_decoder_opts_default(&opts);
    if (limits) opts.limits = *limits;
    mpk_arena_init(&arena, &alloc, opts.limits.max_alloc ? opts.limits.max_alloc : MPK_DEFAULT_MAX_ALLOC);
    memset(&ch, 0, sizeof ch);
    mpk_value_ctx_init(&ch.vc, &arena, &d, 0);
    mpk_decoder_init(&d, &counted_host, &ch, &alloc, &opts);
    if (chunk == 0) {
        size_t used = 0;
        whole = (uint8_t *)malloc((size_t)in->n + 1);
        input_bytes(in, 0, whole, (size_t)in->n);
        st = mpk_decoder_feed(&d, whole, (size_t)in->n, 1, &used);
        pos = used;
    } else {
        if (chunk > sizeof piece) chunk = sizeof piece;
        while (pos < in->n && st == MPK_NEED_MORE) {
            size_t k = in->n - pos < chunk ? (size_t)(in->n - pos) : chunk, used = 0;
            input_bytes(in, pos, piece, k);
            st = mpk_decoder_feed(&d, piece, k, 0, &used);
            pos += used;
        }
    }
    if (st == MPK_NEED_MORE) st = mpk_decoder_finish(&d);
    c.code = d.err.code;
    c.msg = d.err.msg;
    c.done = st == MPK_DONE;
    c.consumed = pos;
    c.input_n = in->n;
    c.chunk = chunk;
    c.host_calls = ch.calls;
    mpk_decoder_destroy(&d);
    mpk_arena_free(&arena);
    c.peak = cnt.peak;
    c.allocs = cnt.calls;
    CHECK_MSG(cnt.outstanding == 0, "%lld bytes not returned", cnt.outstanding);
    free(whole);
    return c;
}

static input_t bytes_in(const char *p, size_t n)
{
    input_t in;
    memset(&in, 0, sizeof in);
    in.head = p;
    in.head_n = n;
    in.body = "";
    in.body_n = 1;
    in.n = n;
    return in;
}

static input_t repeated(const char *head, size_t hn, const char *body, size_t bn, const char *tail, size_t tn,
                        uint64_t total)
{
    input_t in;
    in.head = head; in.head_n = hn;
    in.body = body; in.body_n = bn;
    in.tail = tail; in.tail_n = tn;
    in.n = total;
    return in;
}

static void show(const char *name, cost_t c)
{
    if (report)
        printf("| %s | %s%.0zu | %llu | %s | %lld | %ld | %ld | %llu |\n", name, c.chunk ? "pieces of " : "whole",
               c.chunk, (unsigned long long)c.input_n, c.done ? "done" : mpk_err_str(c.code), c.peak, c.host_calls,
               c.allocs, (unsigned long long)c.consumed);
}

/* The bomb ended with `want` (or, for want == MPK_ERR_LIMIT, the arena's limit
 * reported as NOMEM), in little memory, after work bounded by `max_work` (each
 * of host calls and allocator calls) and having read at most `max_read` bytes. */
static void expect(const char *name, cost_t c, mpk_err_t want, long max_work, uint64_t max_read)
{
    int code_ok = c.code == want || (want == MPK_ERR_LIMIT && c.code == MPK_ERR_NOMEM);
    CHECK_MSG(code_ok, "%s: error %d (%s), want %d", name, (int)c.code, c.msg ? c.msg : "", (int)want);
    CHECK_MSG(c.peak < MIB, "%s: peak %lld bytes", name, c.peak);
    CHECK_MSG(c.host_calls <= max_work, "%s: %ld host calls (bound %ld)", name, c.host_calls, max_work);
    CHECK_MSG(c.allocs <= max_work, "%s: %ld allocations (bound %ld)", name, c.allocs, max_work);
    CHECK_MSG(c.consumed <= max_read, "%s: read %llu bytes (bound %llu)", name,
              (unsigned long long)c.consumed, (unsigned long long)max_read);
    show(name, c);
}

static void both(const char *name, const input_t *in, const mpk_limits_t *l, mpk_err_t want, long max_work,
                 uint64_t max_read)
{
    /* fed whole, the input must fit in RAM: not so for 16 MiB on a small board */
    void *room = in->n < SIZE_MAX ? malloc((size_t)in->n + 1) : NULL;
    if (room) {
        free(room);
        expect(name, run(in, l, 0), want, max_work, max_read);
    } else {
        printf("SKIPPED: %s fed whole: no %llu bytes of RAM\n", name, (unsigned long long)in->n + 1);
    }
    expect(name, run(in, l, 4096), want, max_work, max_read);
    expect(name, run(in, l, 1), want, max_work, max_read);
}

static mpk_limits_t raised(void)
{
    /* a user who trusts big strings: lengths may no longer be refused up front */
    mpk_limits_t l;
    mpk_limits_default(&l);
    l.max_str = UINT64_MAX;
    return l;
}

/* ------------------------------------------------------------ the bombs */

static void test_memo_index(void)
{
    static const char one[] = "N\x72\xff\xff\xff\xff" "0" "\x6a\xff\xff\xff\xff.";
    static const char text_big[] = "Np99999999999999999\n.";
    static const char text_huge[] = "Np999999999999999999999\n.";
    static const char get_missing[] = "\x6a\xfe\xff\xff\xff.";
    input_t in = bytes_in(one, sizeof one - 1);
    cost_t c = run(&in, NULL, 0);
    /* one huge key is fine and costs one sparse slot */
    CHECK_MSG(c.done && c.peak < 16384, "one huge memo key: done %d, peak %lld", c.done, c.peak);
    in = bytes_in(text_big, sizeof text_big - 1);
    both("PUT key above 2^32", &in, NULL, MPK_ERR_LIMIT, 8, in.n);
    in = bytes_in(text_huge, sizeof text_huge - 1);
    both("PUT key of 21 digits", &in, NULL, MPK_ERR_MALFORMED, 8, in.n);
    in = bytes_in(get_missing, sizeof get_missing - 1);
    both("GET of a key never PUT", &in, NULL, MPK_ERR_MEMO, 8, in.n);
}

static void test_distinct_memo_keys(void)
{
    /* 2 million distinct sparse keys (MEMOIZE after each NONE would be dense,
     * so LONG_BINPUT with keys spread out): the memo limit must stop them */
    enum { N = 20000 };
    static char buf[1 + 5 * N + 1];
    size_t i, at = 0;
    input_t in;
    buf[at++] = 'N';
    for (i = 0; i < N; i++) {
        uint32_t key = 0x10000000u + (uint32_t)i * 97u;
        buf[at++] = 'r';
        buf[at++] = (char)(key & 255);
        buf[at++] = (char)((key >> 8) & 255);
        buf[at++] = (char)((key >> 16) & 255);
        buf[at++] = (char)(key >> 24);
    }
    buf[at++] = '.';
    in = bytes_in(buf, at);
    both("distinct sparse memo keys", &in, NULL, MPK_ERR_LIMIT, 100, 1 + 5 * (MPK_DEFAULT_MAX_MEMO + 1));
}

static void test_declared_lengths(void)
{
    /* want: the error once lengths are allowed (one beyond size_t stays a limit:
     * on a 32-bit target, 2^62 and 4 GiB are beyond it too) */
#define TRUNC_IF_FITS(len) ((uint64_t)(len) <= (uint64_t)SIZE_MAX - 16 ? MPK_ERR_TRUNCATED : MPK_ERR_LIMIT)
    static const struct { const char *name; const char *p; size_t n; mpk_err_t want; } cases[] = {
        {"BINBYTES8 2^62", "\x80\x04\x8e\x00\x00\x00\x00\x00\x00\x00\x40xyz", 13, TRUNC_IF_FITS(1ull << 62)},
        {"BINUNICODE8 2^62", "\x80\x04\x8d\x00\x00\x00\x00\x00\x00\x00\x40xyz", 13, TRUNC_IF_FITS(1ull << 62)},
        {"BINUNICODE8 2^64-1", "\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\xffxyz", 13, MPK_ERR_LIMIT},
        {"BYTEARRAY8 2^62", "\x80\x05\x96\x00\x00\x00\x00\x00\x00\x00\x40xyz", 13, TRUNC_IF_FITS(1ull << 62)},
        {"BINBYTES 4 GiB", "\x80\x03\x42\xff\xff\xff\xffxyz", 10, TRUNC_IF_FITS(0xffffffffu)},
        {"BINUNICODE 4 GiB", "\x80\x03X\xff\xff\xff\xffxyz", 10, TRUNC_IF_FITS(0xffffffffu)},
        {"LONG4 2^31-1", "\x80\x02\x8b\xff\xff\xff\x7fxyz", 10, MPK_ERR_TRUNCATED},
        {"BINSTRING 2^31-1", "T\xff\xff\xff\x7fxyz", 8, MPK_ERR_TRUNCATED},
    };
    mpk_limits_t l = raised();
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        input_t in = bytes_in(cases[i].p, cases[i].n);
        /* default limits: refused as soon as the length is read */
        both(cases[i].name, &in, NULL, MPK_ERR_LIMIT, 32, in.n);
        /* lengths allowed: nothing is allocated for bytes that never come */
        both(cases[i].name, &in, &l, cases[i].want, 16, in.n);
    }
    {
        static const char neg[] = "\x80\x02\x8b\xff\xff\xff\xffxyz";
        input_t in = bytes_in(neg, sizeof neg - 1);
        both("LONG4 negative length", &in, NULL, MPK_ERR_MALFORMED, 32, in.n);
    }
    {
        /* FRAME only helps a reader prefetch: a huge one takes no memory; what
         * follows is read as usual (truncated here) */
        static const char frame[] = "\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\x7f\x8c\x05" "ab";
        input_t in = bytes_in(frame, sizeof frame - 1);
        both("FRAME 2^63", &in, &l, MPK_ERR_TRUNCATED, 8, in.n);
    }
    {
        /* a length that is really there, in pieces, grows memory with the data
         * only: 600 KiB of payload declared and sent, under max_str */
        static const char head[] = "\x80\x04\x8e\x00\x60\x09\x00\x00\x00\x00\x00";
        input_t in = repeated(head, sizeof head - 1, "x", 1, ".", 1, sizeof head - 1 + 0x96000 + 1);
        mpk_limits_t l2 = raised();
        cost_t c;
        l2.max_alloc = 4 * MIB;
        c = run(&in, &l2, 0);
        CHECK_MSG(c.done && c.peak < 16384, "stable BINBYTES8 of 600 KiB referenced in place: peak %lld", c.peak);
    }
}

static void test_nesting(void)
{
    input_t in;
    mpk_limits_t l;
    /* MARKs: the depth limit */
    in = repeated("", 0, "(", 1, "", 0, 1000000);
    both("a million MARKs", &in, NULL, MPK_ERR_LIMIT, 16, MPK_DEFAULT_MAX_DEPTH + 1);
    /* lists nested through the stack: the stack limit */
    in = repeated("\x80\x02", 2, "]", 1, "", 0, 1000000);
    both("a million EMPTY_LISTs", &in, NULL, MPK_ERR_LIMIT, MPK_DEFAULT_MAX_STACK + 64, MPK_DEFAULT_MAX_STACK + 3);
    /* tuples nested with no stack growth at all: the memory limit of the graph */
    in = repeated("\x80\x02N", 3, "\x85", 1, ".", 1, 1000000);
    both("a million TUPLE1s", &in, NULL, MPK_ERR_LIMIT, 20000, 20000);
    mpk_limits_default(&l);
    l.max_depth = 100000;
    in = repeated("", 0, "(", 1, "", 0, 1000000);
    /* even a raised depth limit costs memory only for the MARKs that exist */
    expect("100000 MARKs allowed", run(&in, &l, 4096), MPK_ERR_LIMIT, 64, 100001);
}

static void test_deep_dump(void)
{
    /* deep nesting on the encoding side: a graph 100000 levels deep built with
     * the API; mpk_dump must stop at its depth limit, not on the C stack */
    counting_t cnt;
    mpk_alloc_t alloc;
    mpk_arena_t arena;
    mpk_value_t *root, *v;
    mpk_dump_opts_t o = {4, 0, 0};
    growbuf_t out = {0};
    static unsigned char wbuf[MPK_FRAME_BUFFER];
    mpk_error_t err;
    int i, p;
    counting_alloc(&cnt, &alloc);
    mpk_arena_init(&arena, &alloc, 0);
    root = v = mpk_new(&arena, MPK_LIST);
    for (i = 0; i < 100000 && v; i++) {
        mpk_value_t *inner = mpk_new(&arena, i & 1 ? MPK_TUPLE : MPK_LIST);
        if (!inner || mpk_append(&arena, v, inner)) { v = NULL; break; }
        v = inner;
    }
    CHECK(v != NULL);
    for (p = 0; p <= 5; p++) {
        long before = cnt.calls;
        o.protocol = p;
        o.flags = p & 1 ? MPK_WRITE_COMPACT : 0;
        out.n = 0;
        CHECK_MSG(mpk_dump(root, &o, &alloc, wbuf, sizeof wbuf, growbuf_sink, &out, &err) == MPK_ERR_LIMIT,
                  "protocol %d: deep dump gave %d", p, (int)err.code);
        CHECK_MSG(out.n < 4096, "protocol %d: %zu bytes written before the limit", p, out.n);
        CHECK_MSG(cnt.calls - before < 64, "protocol %d: %ld allocations", p, cnt.calls - before);
    }
    free(out.p);
    mpk_arena_free(&arena);
}

static void test_text_numbers(void)
{
    mpk_limits_t l = raised();
    input_t in;
    l.max_alloc = 64 * MIB;     /* room for a split line; the whole-buffer run must not need it */
    /* protocol 0 LONG and INT of megabytes: refused by the line limit by
     * default; by the digit limit (4300, as CPython) when lines may be long */
    in = repeated("L", 1, "7", 1, "L\n.", 3, 4 * MIB);
    both("LONG of 4 MiB", &in, NULL, MPK_ERR_LIMIT, 32, MPK_DEFAULT_MAX_STR + 3);
    expect("LONG of 4 MiB, long lines allowed", run(&in, &l, 0), MPK_ERR_LIMIT, 32, in.n);
    in = repeated("I", 1, "1", 1, "\n.", 2, 4 * MIB);
    both("INT of 4 MiB", &in, NULL, MPK_ERR_LIMIT, 32, MPK_DEFAULT_MAX_STR + 3);
    expect("INT of 4 MiB, long lines allowed", run(&in, &l, 0), MPK_ERR_LIMIT, 32, in.n);
    /* underscores do not count as digits, but are bounded by the line */
    in = repeated("L1", 2, "_", 1, "1L\n.", 4, 4 * MIB);
    expect("LONG of underscores", run(&in, &l, 0), MPK_ERR_MALFORMED, 32, in.n);
    /* FLOAT text of megabytes: the line limit, or a linear parse that fails
     * (CPython raises OverflowError) or gives a value */
    in = repeated("F", 1, "9", 1, ".5\n.", 4, 4 * MIB);
    both("FLOAT of 4 MiB", &in, NULL, MPK_ERR_LIMIT, 32, MPK_DEFAULT_MAX_STR + 3);
    expect("FLOAT of 4 MiB, long lines allowed", run(&in, &l, 0), MPK_ERR_MALFORMED, 32, in.n);
    in = repeated("F0.", 3, "0", 1, "1\n.", 3, 4 * MIB);
    {
        cost_t c = run(&in, &l, 0);
        CHECK_MSG(c.done && c.peak < MIB && c.host_calls <= 2, "FLOAT 0.000...1 of 4 MiB: done %d peak %lld",
                  c.done, c.peak);
    }
    /* protocol 0 STRING and UNICODE of megabytes: the line limit */
    in = repeated("S'", 2, "a", 1, "'\n.", 3, 4 * MIB);
    both("STRING of 4 MiB", &in, NULL, MPK_ERR_LIMIT, 32, MPK_DEFAULT_MAX_STR + 3);
    in = repeated("V", 1, "\\u20ac", 6, "\n.", 2, 4 * MIB);
    both("UNICODE of 4 MiB", &in, NULL, MPK_ERR_LIMIT, 32, MPK_DEFAULT_MAX_STR + 3);
}

static void test_endless(void)
{
    mpk_limits_t l;
    input_t in;
    cost_t c;
    /* MARK POP forever: no object, no memory; with no input limit the decoder
     * just keeps reading (16 MiB here) in constant memory */
    in = repeated("\x80\x02", 2, "(0", 2, "", 0, 16 * MIB);
    c = run(&in, NULL, 4096);
    CHECK_MSG(c.code == MPK_ERR_TRUNCATED && c.consumed == in.n, "endless MARK/POP: error %d after %llu",
              (int)c.code, (unsigned long long)c.consumed);
    CHECK_MSG(c.peak < 4096 && c.allocs < 8 && c.host_calls == 0, "endless MARK/POP: peak %lld, %ld allocs",
              c.peak, c.allocs);
    /* with max_input, the limit */
    mpk_limits_default(&l);
    l.max_input = MIB;
    c = run(&in, &l, 4096);
    CHECK_MSG(c.code == MPK_ERR_LIMIT && c.consumed <= (uint64_t)MIB, "endless with max_input: error %d after %llu",
              (int)c.code, (unsigned long long)c.consumed);
    /* objects forever: the graph's memory limit */
    in = repeated("\x80\x02", 2, "N0", 2, "", 0, 16 * MIB);
    both("endless NONE/POP", &in, NULL, MPK_ERR_LIMIT, 40000, 80000);
    /* a split instruction that never completes: a line without its newline */
    in = repeated("\x80\x02" "c", 3, "a", 1, "", 0, 16 * MIB);
    both("endless GLOBAL line", &in, NULL, MPK_ERR_LIMIT, 32, MPK_DEFAULT_MAX_STR + 8);
}

static void test_stop(void)
{
    static const struct { const char *name; const char *p; size_t n; mpk_err_t want; } cases[] = {
        {"STOP with two values", "NN.", 3, MPK_ERR_STOP},
        {"STOP inside a MARK", "(N.", 3, MPK_ERR_STOP},
        {"STOP on an empty stack", ".", 1, MPK_ERR_STOP},
        {"STOP after POP_MARK left values", "N(N1N.", 6, MPK_ERR_STOP},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        input_t in = bytes_in(cases[i].p, cases[i].n);
        both(cases[i].name, &in, NULL, cases[i].want, 8, in.n);
    }
    {
        /* 4000 values, then STOP */
        input_t in = repeated("\x80\x02", 2, "N", 1, ".", 1, 4003);
        both("STOP with 4000 values", &in, NULL, MPK_ERR_STOP, 4100, in.n);
    }
}

static void test_amplified_graph(void)
{
    /* billion laughs: a 60 KB string referenced 5000 times through 2-byte
     * GETs, then that list referenced 5000 times (1.5 TB if expanded). The
     * graph keeps the sharing: memory and steps in proportion to the pickle,
     * not to its expansion. */
    static char buf[7 + 60000 + 4 + 2 * 5000 + 5 + 2 * 5000 + 2];
    size_t at = 0, i;
    input_t in;
    cost_t c;
    mpk_limits_t l;
    memcpy(buf + at, "\x80\x04X\x60\xea\x00\x00", 7); at += 7;
    memset(buf + at, 'x', 60000); at += 60000;
    memcpy(buf + at, "\x94" "0" "](", 4); at += 4;
    for (i = 0; i < 5000; i++) { buf[at++] = 'h'; buf[at++] = 0; }
    memcpy(buf + at, "e\x94" "0" "](", 5); at += 5;
    for (i = 0; i < 5000; i++) { buf[at++] = 'h'; buf[at++] = 1; }
    memcpy(buf + at, "e.", 2); at += 2;
    in = bytes_in(buf, at);
    mpk_limits_default(&l);
    l.max_alloc = 4 * MIB;
    l.max_stack = 16384;
    c = run(&in, &l, 0);
    CHECK_MSG(c.done, "billion laughs decodes (error %d %s)", (int)c.code, c.msg ? c.msg : "");
    CHECK_MSG(c.peak < MIB, "billion laughs: peak %lld", c.peak);
    CHECK_MSG(c.host_calls < 100, "billion laughs: %ld host calls", c.host_calls);
    show("billion laughs (1.5 TB expanded)", c);
    c = run(&in, &l, 4096);
    show("billion laughs (1.5 TB expanded)", c);
    CHECK_MSG(c.done && c.peak < MIB, "billion laughs in pieces: done %d peak %lld", c.done, c.peak);
}

int main(int argc, char **argv)
{
    report = argc > 1 && strcmp(argv[1], "--report") == 0;
    if (report) printf("| bomb | fed | input bytes | result | peak bytes | host calls | allocations | bytes read |\n"
                       "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |\n");
    (void)read_fixture;     /* shared helpers this file does not need */
    (void)check_hex;
    test_memo_index();
    test_distinct_memo_keys();
    test_declared_lengths();
    test_nesting();
    test_deep_dump();
    test_text_numbers();
    test_endless();
    test_stop();
    test_amplified_graph();
    CHECK_DONE();
}
