/* Fuzz target: decode -> encode -> decode -> encode -> decode -> encode.
 * Whatever graph a pickle decodes to, encoding it must give a pickle that
 * decodes again, completely; from there on the graph is a fixed point: the
 * second and third graphs encode to the very same bytes (the re-encodings
 * compare the graphs, sharing included). Tried with the pickle's own protocol,
 * in compact mode and with a protocol picked by the input's hash. An encoder
 * error is allowed only for the first encoding (a graph a protocol cannot
 * express, a depth limit).
 *
 * Why not the first and second encodings: a graph decoded from arbitrary bytes
 * may hold what our encoder writes in another form: a nested name below
 * protocol 4 becomes a getattr(...) call chain (deeper, so later encodings get a
 * larger depth limit); one out-of-band buffer referenced twice is written twice,
 * as CPython does (later decodes get buffers without limit); repeated GLOBAL
 * opcodes of one name become one memo entry only while the writer's table of 32
 * names has room; compact mode always memoizes globals and their names. Each
 * of these settles after one round. */
#include "fuzz_common.h"

#define FIRST_DEPTH 48u     /* the first encoding: within the decoder's fuzz limits */
#define LATER_DEPTH 1024u   /* the others: room for getattr chains (32 levels of names at most) */

static void must_encode(const mpk_value_t *v, int proto, int flags, const mpk_alloc_t *alloc, fuzz_buf_t *out,
                        const char *what)
{
    mpk_error_t err;
    char msg[160];
    if (fuzz_encode(v, proto, flags, LATER_DEPTH, alloc, out, &err) == MPK_OK) return;
    mpk_error_format(&err, msg, sizeof msg);
    FUZZ_ASSERT(0, "protocol %d flags %d: %s does not encode: %s", proto, flags, what, msg);
}

static void must_decode(const fuzz_buf_t *b, int proto, int flags, mpk_arena_t *arena, const mpk_alloc_t *alloc,
                        const mpk_decoder_opts_t *opts, fuzz_decoded_t *out)
{
    char msg[160] = "";
    /* a buffer referenced twice is written twice (CPython's pickler does not
     * memoize out-of-band buffers): our pickle may need more than the input had */
    fuzz_decode_whole(b->p, b->n, arena, alloc, opts, (size_t)-1, out);
    if (out->err.code) mpk_error_format(&out->err, msg, sizeof msg);
    FUZZ_ASSERT(out->err.code == MPK_OK, "protocol %d flags %d: our own pickle (%zu bytes) does not decode: %s",
                proto, flags, b->n, msg);
    FUZZ_ASSERT(out->used == b->n, "protocol %d: decoding stopped at %zu of %zu", proto, out->used, b->n);
}

static void same_bytes(const fuzz_buf_t *a, const fuzz_buf_t *b, int proto, int flags, const char *what)
{
    FUZZ_ASSERT(a->n == b->n && !memcmp(a->p, b->p, a->n), "protocol %d flags %d: %s differ (%zu and %zu bytes)",
                proto, flags, what, a->n, b->n);
}

static void roundtrip(const mpk_value_t *v, int proto, int flags, const mpk_alloc_t *alloc,
                      const mpk_decoder_opts_t *first_opts)
{
    mpk_decoder_opts_t later = *first_opts;
    const mpk_decoder_opts_t *opts = &later;
    fuzz_buf_t b1 = {0}, b2 = {0}, b3 = {0}, c2 = {0}, c3 = {0};
    mpk_error_t err;
    mpk_arena_t a2, a3;
    fuzz_decoded_t g2, g3;
    later.limits.max_depth = 2 * LATER_DEPTH;
    if (fuzz_encode(v, proto, flags, FIRST_DEPTH, alloc, &b1, &err) != MPK_OK) {
        free(b1.p);
        return;
    }
    must_decode(&b1, proto, flags, &a2, alloc, opts, &g2);
    must_encode(g2.v, proto, flags, alloc, &b2, "the decoded copy");
    must_decode(&b2, proto, flags, &a3, alloc, opts, &g3);
    must_encode(g3.v, proto, flags, alloc, &b3, "the copy of the copy");
    same_bytes(&b2, &b3, proto, flags, "second and third encodings");
    if (flags & MPK_WRITE_COMPACT) {
        /* and the same graphs in default mode, where every node is memoized */
        must_encode(g2.v, proto, 0, alloc, &c2, "the second graph");
        must_encode(g3.v, proto, 0, alloc, &c3, "the third graph");
        same_bytes(&c2, &c3, proto, flags, "the second and third graphs");
    }
    mpk_arena_free(&a3);
    mpk_arena_free(&a2);
    free(b1.p);
    free(b2.p);
    free(b3.p);
    free(c2.p);
    free(c3.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mpk_alloc_t alloc;
    mpk_decoder_opts_t opts;
    mpk_arena_t arena;
    fuzz_decoded_t first;
    uint64_t seed = fuzz_seed(data, size);

    mpk_alloc_libc(&alloc);
    mpk_decoder_opts_default(&opts);
    fuzz_limits(&opts.limits);
    fuzz_decode_whole(data, size, &arena, &alloc, &opts, 4, &first);
    if (first.v) {
        /* later decodes must not need more depth than the encoder allowed */
        roundtrip(first.v, first.proto, 0, &alloc, &opts);
        roundtrip(first.v, first.proto, MPK_WRITE_COMPACT, &alloc, &opts);
        roundtrip(first.v, (int)(seed % 6), (int)((seed >> 3) & 1) * MPK_WRITE_COMPACT, &alloc, &opts);
    }
    mpk_arena_free(&arena);
    return 0;
}
