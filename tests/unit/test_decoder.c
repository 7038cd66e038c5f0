/* The decoder VM with the value model: CPython's pickles decode and re-encode to
 * the same bytes whole or fed in pieces; every prefix is a clean truncation; the
 * hostile cases end with the right error, offset and opcode and small memory. */
#include "check.h"
#include "testutil.h"

static mpk_limits_t big_limits(void)
{
    mpk_limits_t l;
    mpk_limits_default(&l);
    l.max_stack = 1u << 20;
    l.max_memo = 1u << 20;
    l.max_str = 1u << 26;
    l.max_alloc = 1u << 28;
    l.max_depth = 1000;
    return l;
}

/* Decodes data fed in pieces of `chunk` bytes (0: whole and stable) and encodes
 * the graph again in the pickle's own protocol. Returns the error code. */
static mpk_err_t roundtrip(const unsigned char *data, size_t n, size_t chunk, growbuf_t *out,
                           mpk_error_t *err, counting_t *cnt)
{
    mpk_alloc_t alloc;
    mpk_arena_t arena;
    mpk_decoder_t d;
    mpk_value_ctx_t vc;
    mpk_decoder_opts_t opts;
    mpk_dump_opts_t dopts = {0, 0, 1000};
    mpk_status_t st = MPK_NEED_MORE;
    size_t pos = 0, used;
    static unsigned char wbuf[MPK_FRAME_BUFFER];
    mpk_err_t rc;

    counting_alloc(cnt, &alloc);
    mpk_arena_init(&arena, &alloc, 0);
    mpk_decoder_opts_default(&opts);
    opts.limits = big_limits();
    mpk_value_ctx_init(&vc, &arena, &d, 0);
    mpk_decoder_init(&d, &mpk_value_host, &vc, &alloc, &opts);
    if (chunk == 0) {
        st = mpk_decoder_feed(&d, data, n, 1, &used);
    } else {
        while (pos < n && st == MPK_NEED_MORE) {
            size_t k = n - pos < chunk ? n - pos : chunk;
            st = mpk_decoder_feed(&d, data + pos, k, 0, &used);
            pos += used;
        }
    }
    if (st == MPK_NEED_MORE) st = mpk_decoder_finish(&d);
    *err = d.err;
    rc = d.err.code;
    if (st == MPK_DONE) {
        dopts.protocol = mpk_decoder_protocol(&d);
        rc = mpk_dump((const mpk_value_t *)mpk_decoder_result(&d), &dopts, &alloc, wbuf, sizeof wbuf,
                      growbuf_sink, out, err);
    }
    mpk_decoder_destroy(&d);
    mpk_arena_free(&arena);
    return rc;
}

static void test_corpus(void)
{
    size_t n, pos = 0, count = 0;
    unsigned char *blob = read_fixture("build/fixtures/pickles.bin", &n);
    static const size_t chunks[] = {0, 1, 2, 3, 7, 64, 4096};
    CHECK(blob != NULL);
    if (!blob) return;
    while (pos + 4 <= n) {
        size_t len = (size_t)blob[pos] | ((size_t)blob[pos + 1] << 8) | ((size_t)blob[pos + 2] << 16) |
                     ((size_t)blob[pos + 3] << 24);
        const unsigned char *p = blob + pos + 4;
        size_t c;
        pos += 4 + len;
        count++;
        for (c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
            growbuf_t out = {0};
            mpk_error_t err;
            counting_t cnt;
            /* one-byte feeding of the big cases is slow under sanitizers: sample */
            if (chunks[c] && chunks[c] < 7 && len > 20000 && count % 6 != 1) continue;
            if (roundtrip(p, len, chunks[c], &out, &err, &cnt) == MPK_OK) {
                CHECK_BYTES(out.p, out.n, p, len);
            } else {
                char msg[200];
                mpk_error_format(&err, msg, sizeof msg);
                CHECK_MSG(0, "pickle %zu chunk %zu: %s", count, chunks[c], msg);
            }
            CHECK_MSG(cnt.outstanding == 0, "leak of %lld bytes", cnt.outstanding);
            free(out.p);
        }
    }
    CHECK(count >= 400);
    free(blob);
}

/* Decodes with default (microcontroller) limits; returns the error. */
static mpk_error_t decode_err(const void *data, size_t n, counting_t *cnt)
{
    mpk_alloc_t alloc;
    mpk_arena_t arena;
    mpk_load_opts_t lo;
    mpk_error_t err;
    counting_t local;
    if (!cnt) cnt = &local;
    counting_alloc(cnt, &alloc);
    mpk_arena_init(&arena, &alloc, 0);
    mpk_load_opts_default(&lo);
    memset(&err, 0, sizeof err);
    mpk_loads(&arena, data, n, &lo, NULL, &err);
    mpk_arena_free(&arena);
    CHECK_MSG(cnt->outstanding == 0, "leak of %lld bytes", cnt->outstanding);
    return err;
}

#define EXPECT_ERR(bytes, code_, off, op) do { \
    mpk_error_t e_ = decode_err(bytes, sizeof(bytes) - 1, NULL); \
    CHECK_MSG(e_.code == (code_) && e_.offset == (off) && e_.opcode == (op), \
              "%s: got code %d (%s) offset %llu opcode %d", #bytes, e_.code, e_.msg ? e_.msg : "", \
              (unsigned long long)e_.offset, e_.opcode); } while (0)

static void test_errors(void)
{
    EXPECT_ERR("", MPK_ERR_TRUNCATED, 0, -1);
    EXPECT_ERR("\x80\x04]", MPK_ERR_TRUNCATED, 3, -1);
    EXPECT_ERR("\x80\x04X\x05\x00\x00\x00" "ab", MPK_ERR_TRUNCATED, 2, 'X');
    EXPECT_ERR("]q\x00h\x05.", MPK_ERR_MEMO, 3, 'h');
    EXPECT_ERR("N\xff.", MPK_ERR_BAD_OPCODE, 1, 0xff);
    EXPECT_ERR("a.", MPK_ERR_STACK, 0, 'a');
    EXPECT_ERR("NN.", MPK_ERR_STOP, 2, '.');
    EXPECT_ERR(".", MPK_ERR_STOP, 0, '.');
    EXPECT_ERR("(N.", MPK_ERR_STOP, 2, '.');
    EXPECT_ERR("Nt.", MPK_ERR_MARK, 1, 't');
    EXPECT_ERR("N(\x85.", MPK_ERR_STACK, 2, 0x85);     /* TUPLE1 cannot reach below the mark */
    EXPECT_ERR("\x80\x06N.", MPK_ERR_PROTOCOL, 0, 0x80);
    EXPECT_ERR("X\x02\x00\x00\x00\xc3(.", MPK_ERR_ENCODING, 0, 'X');
    EXPECT_ERR("S'abc\n.", MPK_ERR_MALFORMED, 0, 'S');
    EXPECT_ERR("S'\xe9'\n.", MPK_ERR_ENCODING, 0, 'S');
    EXPECT_ERR("Vab\\u12\n.", MPK_ERR_ENCODING, 0, 'V');
    EXPECT_ERR("Iabc\n.", MPK_ERR_MALFORMED, 0, 'I');
    EXPECT_ERR("Fx\n.", MPK_ERR_MALFORMED, 0, 'F');
    EXPECT_ERR("T\xff\xff\xff\xff.", MPK_ERR_MALFORMED, 0, 'T');
    EXPECT_ERR("\x82\x00.", MPK_ERR_MALFORMED, 0, 0x82);
    EXPECT_ERR("(Nd.", MPK_ERR_STACK, 2, 'd');
    EXPECT_ERR("}(Nu.", MPK_ERR_STACK, 3, 'u');
    EXPECT_ERR("NN\x93.", MPK_ERR_STACK, 2, 0x93);
    EXPECT_ERR("NNR.", MPK_ERR_STACK, 2, 'R');          /* args must be a tuple */
}

static void test_prefixes(void)
{
    /* every strict prefix of a pickle is a truncation, never a crash */
    static const unsigned char p[] =  /* pickle.dumps({'a':1,'b':[1.5,None,True],'c':b'xy'}, 4) */
        "\x80\x04\x95'\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01" "a\x94K\x01\x8c\x01" "b\x94]\x94(G\x3f\xf8"
        "\x00\x00\x00\x00\x00\x00N\x88" "e\x8c\x01" "c\x94" "C\x02xy\x94u.";
    size_t n = sizeof p - 1, k;
    for (k = 0; k < n; k++) {
        mpk_error_t e = decode_err(p, k, NULL);
        CHECK_MSG(e.code == MPK_ERR_TRUNCATED, "prefix %zu: code %d", k, e.code);
    }
    CHECK(decode_err(p, n, NULL).code == MPK_OK);
}

static void test_bombs(void)
{
    counting_t cnt;
    mpk_error_t e;
    /* LONG_BINPUT 2**32-1: one sparse memo slot, not 2**32 */
    static const char memo[] = "N\x72\xff\xff\xff\xff" "0" "N\x72\xfe\xff\xff\xff" "0" "\x6a\xff\xff\xff\xff.";
    e = decode_err(memo, sizeof memo - 1, &cnt);
    CHECK_MSG(e.code == MPK_OK, "sparse memo: %d", e.code);
    CHECK_MSG(cnt.peak < 64 * 1024, "sparse memo peak %lld", cnt.peak);
    /* BINBYTES8 declaring 2**60 bytes: refused before anything is allocated */
    e = decode_err("\x80\x04\x8e\x00\x00\x00\x00\x00\x00\x00\x10", 11, &cnt);
    CHECK(e.code == MPK_ERR_LIMIT && e.offset == 2 && e.opcode == 0x8e);
    CHECK(cnt.peak == 0);
    e = decode_err("\x80\x04\x8d\x00\x00\x00\x00\x00\x00\x00\x10", 11, &cnt);
    CHECK(e.code == MPK_ERR_LIMIT && e.opcode == 0x8d);
    /* a FRAME declaring far more than there is: only a truncation */
    e = decode_err("\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\x7fN.", 13, &cnt);
    CHECK(e.code == MPK_OK);
    /* marks beyond max_depth */
    {
        char marks[300];
        memset(marks, '(', sizeof marks);
        e = decode_err(marks, sizeof marks, &cnt);
        CHECK(e.code == MPK_ERR_LIMIT && e.opcode == '(');
    }
    /* the limits are exact, not rounded up to the arrays' growth */
    {
        static char p[1100];
        mpk_alloc_t alloc;
        mpk_arena_t arena;
        mpk_load_opts_t lo;
        size_t k;
        for (k = 0; k < 2; k++) {
            size_t n = 1000 + k, i;
            for (i = 0; i < n; i++) p[i] = '(';
            counting_alloc(&cnt, &alloc);
            mpk_arena_init(&arena, &alloc, 0);
            mpk_load_opts_default(&lo);
            lo.dec.limits.max_depth = 1000;
            mpk_loads(&arena, p, n, &lo, NULL, &e);
            CHECK_MSG(e.code == (k ? MPK_ERR_LIMIT : MPK_ERR_TRUNCATED), "%zu marks: %d", n, e.code);
            for (i = 0; i < n; i++) p[i] = 'N';
            lo.dec.limits.max_depth = 0;
            lo.dec.limits.max_stack = 1000;
            mpk_loads(&arena, p, n, &lo, NULL, &e);
            CHECK_MSG(e.code == (k ? MPK_ERR_LIMIT : MPK_ERR_TRUNCATED), "%zu pushes: %d", n, e.code);
            mpk_arena_free(&arena);
        }
    }
    /* a text line longer than max_str */
    {
        size_t n = MPK_DEFAULT_MAX_STR + 100;
        char *line = (char *)malloc(n);
        memset(line, '1', n);
        line[0] = 'I';
        e = decode_err(line, n, &cnt);
        CHECK(e.code == MPK_ERR_LIMIT && e.opcode == 'I');
        CHECK(cnt.peak < 1024);
        free(line);
    }
    /* memo entries beyond max_memo */
    {
        size_t n = 5000 * 3 + 2, i;
        char *p = (char *)malloc(n);
        for (i = 0; i < 5000; i++) { p[3 * i] = 'N'; p[3 * i + 1] = (char)0x94; p[3 * i + 2] = '0'; }
        p[n - 2] = 'N';
        p[n - 1] = '.';
        e = decode_err(p, n, &cnt);
        CHECK(e.code == MPK_ERR_LIMIT && e.opcode == 0x94);
        free(p);
    }
}

/* Deep nesting that costs one byte a level decodes, but encoding stops at the
 * nesting limit instead of overflowing the C stack. */
static void test_deep(void)
{
    size_t levels = 100000, n = levels + 3, i;
    unsigned char *p = (unsigned char *)malloc(n);
    mpk_alloc_t alloc;
    counting_t cnt;
    mpk_arena_t arena;
    mpk_load_opts_t lo;
    mpk_error_t err;
    mpk_value_t *v;
    growbuf_t out = {0};
    unsigned char wbuf[4096];
    mpk_dump_opts_t dopts = {2, 0, 500};
    p[0] = ')';
    for (i = 0; i < levels; i++) p[1 + i] = 0x85;
    p[n - 2] = '.';
    counting_alloc(&cnt, &alloc);
    mpk_arena_init(&arena, &alloc, 0);
    mpk_load_opts_default(&lo);
    lo.dec.limits.max_alloc = 64u << 20;
    v = mpk_loads(&arena, p, n - 1, &lo, NULL, &err);
    CHECK(v != NULL && mpk_type(v) == MPK_TUPLE);
    CHECK(mpk_dump(v, &dopts, &alloc, wbuf, sizeof wbuf, growbuf_sink, &out, &err) == MPK_ERR_LIMIT);
    mpk_arena_free(&arena);
    CHECK(cnt.outstanding == 0);
    free(out.p);
    free(p);
}

/* The value accessors on a typical config dict, decoded from a fixed pool. */
static void test_accessors(void)
{
    /* pickle.dumps({'name': 'dev', 'rate': 2.5, 'n': 3, 'on': True, 'ids': [1, 2]}, 2) */
    static const char p[] =
        "\x80\x02}q\x00(X\x04\x00\x00\x00nameq\x01X\x03\x00\x00\x00" "devq\x02X\x04\x00\x00\x00rateq\x03G@\x04"
        "\x00\x00\x00\x00\x00\x00X\x01\x00\x00\x00nq\x04K\x03X\x02\x00\x00\x00onq\x05\x88X\x03\x00\x00\x00idsq"
        "\x06]q\x07(K\x01K\x02" "eu.";
    static unsigned char pool_mem[8192];
    mpk_pool_t pool;
    mpk_alloc_t alloc;
    mpk_arena_t arena;
    mpk_error_t err;
    mpk_value_t *v;
    size_t n;
    int64_t i;
    double f;
    mpk_pool_init(&pool, pool_mem, sizeof pool_mem, &alloc);
    mpk_arena_init(&arena, &alloc, 0);
    v = mpk_loads(&arena, p, sizeof p - 1, NULL, NULL, &err);
    CHECK(v && mpk_type(v) == MPK_DICT && mpk_len(v) == 5);
    CHECK(mpk_get_str(mpk_dict_get(v, "name"), &n) && n == 3 && !memcmp(mpk_get_str(mpk_dict_get(v, "name"), NULL), "dev", 3));
    CHECK(mpk_get_float(mpk_dict_get(v, "rate"), &f) && f == 2.5);
    CHECK(mpk_get_int(mpk_dict_get(v, "n"), &i) && i == 3);
    CHECK(mpk_is_true(mpk_dict_get(v, "on")));
    CHECK(mpk_len(mpk_dict_get(v, "ids")) == 2 && mpk_get_int(mpk_item(mpk_dict_get(v, "ids"), 1), &i) && i == 2);
    CHECK(mpk_dict_get(v, "missing") == NULL);
    CHECK(pool.used < sizeof pool_mem);
}

/* Allocation failure at every point: a clean NOMEM, nothing leaked. */
static void test_alloc_failures(void)
{
    /* pickle.dumps(['a', {1: 2}, (1, 2), 'aaa', [None]], 2) */
    static const char p[] = "\x80\x02]q\x00(X\x01\x00\x00\x00" "aq\x01}q\x02K\x01K\x02sK\x01K\x02\x86q\x03X\x03\x00\x00\x00" "aaaq\x04]q\x05Nae.";
    long k;
    for (k = 1; k < 40; k++) {
        mpk_alloc_t alloc;
        counting_t cnt;
        mpk_arena_t arena;
        mpk_error_t err;
        mpk_value_t *v;
        counting_alloc(&cnt, &alloc);
        cnt.fail_at = k;
        mpk_arena_init(&arena, &alloc, 0);
        v = mpk_loads(&arena, p, sizeof p - 1, NULL, NULL, &err);
        CHECK_MSG(v != NULL || err.code == MPK_ERR_NOMEM, "fail_at %ld: code %d %s", k, err.code, err.msg);
        mpk_arena_free(&arena);
        CHECK(cnt.outstanding == 0);
    }
}

/* Two pickles from one stream, the second GETting what the first PUT: with
 * mpk_decoder_next the memo carries over (CPython's Unpickler.load() twice); with
 * mpk_decoder_reset it does not. Also the bytes after STOP stay unread. */
static void test_next_keeps_memo(void)
{
    /* [] memoized as 0; then GET 0 and a new PUT 1 */
    static const unsigned char stream[] = "\x80\x02]q\x00.\x80\x02h\x00q\x01.\x80\x02h\x01.";
    size_t n = sizeof stream - 1, pos = 0, used;
    counting_t cnt;
    mpk_alloc_t alloc;
    mpk_arena_t arena;
    mpk_decoder_t d;
    mpk_value_ctx_t vc;
    mpk_value_t *first, *second;
    counting_alloc(&cnt, &alloc);
    mpk_arena_init(&arena, &alloc, 0);
    mpk_value_ctx_init(&vc, &arena, &d, 0);
    mpk_decoder_init(&d, &mpk_value_host, &vc, &alloc, NULL);
    CHECK(mpk_decoder_feed(&d, stream, n, 1, &used) == MPK_DONE && used == 6);
    first = (mpk_value_t *)mpk_decoder_result(&d);
    pos += used;
    mpk_decoder_next(&d);
    CHECK(mpk_decoder_result(&d) == NULL && d.offset == 0);
    CHECK(mpk_decoder_feed(&d, stream + pos, n - pos, 1, &used) == MPK_DONE && used == 7);
    second = (mpk_value_t *)mpk_decoder_result(&d);
    CHECK(first != NULL && first == second && mpk_type(first) == MPK_LIST);
    pos += used;
    mpk_decoder_reset(&d);
    CHECK(mpk_decoder_feed(&d, stream + pos, n - pos, 1, &used) == MPK_FAILED);
    CHECK(d.err.code == MPK_ERR_MEMO && d.err.offset == 2);
    mpk_decoder_destroy(&d);
    mpk_arena_free(&arena);
    CHECK(cnt.outstanding == 0);
}

/* BUILD lets the host replace the object on the stack. */
static mpk_err_t swap_build(void *ctx, mpk_obj_t obj, mpk_obj_t state, mpk_obj_t *out)
{
    (void)ctx; (void)obj;
    *out = state;
    return MPK_OK;
}

static void test_build_replaces(void)
{
    /* (BUILD applied to an int with a list as state: the list takes its place) */
    static const unsigned char p[] = "\x80\x02K\x07]b.";
    counting_t cnt;
    mpk_alloc_t alloc;
    mpk_arena_t arena;
    mpk_decoder_t d;
    mpk_value_ctx_t vc;
    mpk_host_t host = mpk_value_host;
    mpk_value_t *v;
    host.build = swap_build;
    counting_alloc(&cnt, &alloc);
    mpk_arena_init(&arena, &alloc, 0);
    mpk_value_ctx_init(&vc, &arena, &d, 0);
    mpk_decoder_init(&d, &host, &vc, &alloc, NULL);
    CHECK(mpk_decoder_feed(&d, p, sizeof p - 1, 1, NULL) == MPK_DONE);
    v = (mpk_value_t *)mpk_decoder_result(&d);
    CHECK(mpk_type(v) == MPK_LIST);
    mpk_decoder_destroy(&d);
    mpk_arena_free(&arena);
}

int main(void)
{
    test_corpus();
    test_errors();
    test_prefixes();
    test_bombs();
    test_deep();
    test_accessors();
    test_alloc_failures();
    test_next_keeps_memo();
    test_build_replaces();
    CHECK_DONE();
}
