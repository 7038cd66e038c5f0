/* Fuzz target: the decoder fed in random-sized pieces (1 byte to all of it,
 * sizes drawn from the input's hash) must agree with the whole-buffer decode:
 * the same error code and offset, or the same consumed length and the same
 * re-encoded bytes. Each piece is a fresh heap copy freed right after its feed
 * (stable = 0), so a decoder or host that keeps a pointer into it is caught by
 * AddressSanitizer. A divergence caused by the memory limit (the split side
 * holds a partial instruction in scratch memory) is not a finding. */
#include "fuzz_common.h"

static void decode_pieces(const uint8_t *data, size_t n, uint64_t seed, mpk_arena_t *arena,
                          const mpk_alloc_t *alloc, const mpk_decoder_opts_t *opts, fuzz_decoded_t *out)
{
    mpk_decoder_t d;
    mpk_value_ctx_t vc;
    mpk_status_t st = MPK_NEED_MORE;
    size_t pos = 0;
    int mode = (int)(seed % 4);     /* 0: single bytes, 1: small, 2: any size, 3: mixed */
    fuzz_decode_begin(&d, &vc, arena, alloc, opts, 4);
    out->used = 0;
    while (pos < n && st == MPK_NEED_MORE) {
        size_t k, used = 0;
        uint8_t *piece;
        uint32_t r = fuzz_rand(&seed);
        if (mode == 0) k = 1;
        else if (mode == 1) k = 1 + r % 16;
        else if (mode == 2) k = 1 + r % (n - pos);
        else k = (r & 1) ? 1 + (r >> 1) % 8 : 1 + (r >> 1) % (n - pos);
        if (k > n - pos) k = n - pos;
        piece = (uint8_t *)malloc(k);
        memcpy(piece, data + pos, k);
        st = mpk_decoder_feed(&d, piece, k, 0, &used);
        memset(piece, 0xA5, k);     /* the caller may reuse its buffer at once */
        free(piece);
        FUZZ_ASSERT(used <= k, "used %zu of a %zu-byte piece", used, k);
        FUZZ_ASSERT(st != MPK_NEED_MORE || used == k, "NEED_MORE after %zu of %zu bytes", used, k);
        pos += used;
        if (st != MPK_NEED_MORE) break;
    }
    /* a feed after the end does nothing */
    if (st != MPK_NEED_MORE) {
        size_t used = 1;
        FUZZ_ASSERT(mpk_decoder_feed(&d, "N", 1, 0, &used) == st && used == 0, "feed after the end");
    }
    out->used = pos;
    fuzz_decode_end(&d, st, out);
}

static int memory_bound(const mpk_error_t *e)
{
    return e->code == MPK_ERR_NOMEM ||
           (e->code == MPK_ERR_LIMIT && e->msg && strstr(e->msg, "max_alloc"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mpk_alloc_t alloc;
    mpk_decoder_opts_t opts;
    mpk_arena_t a1, a2;
    fuzz_decoded_t whole, split;
    fuzz_buf_t b1 = {0}, b2 = {0};
    mpk_error_t e1, e2;
    uint64_t seed = fuzz_seed(data, size);

    mpk_alloc_libc(&alloc);
    mpk_decoder_opts_default(&opts);
    fuzz_limits(&opts.limits);
    opts.py2str = (mpk_py2str_t)((seed >> 8) % 3);
    /* half the inputs with a small string limit, so that payloads and text lines
     * meet it near their boundary, whole and split */
    if ((seed >> 12) & 1) opts.limits.max_str = 16 + (seed >> 13) % 256;
    fuzz_decode_whole(data, size, &a1, &alloc, &opts, 4, &whole);
    decode_pieces(data, size, seed, &a2, &alloc, &opts, &split);
    if (memory_bound(&whole.err) || memory_bound(&split.err)) goto done;
    FUZZ_ASSERT(whole.err.code == split.err.code, "whole: error %d (%s), pieces: error %d (%s)",
                (int)whole.err.code, whole.err.msg ? whole.err.msg : "", (int)split.err.code,
                split.err.msg ? split.err.msg : "");
    if (whole.err.code) {
        FUZZ_ASSERT(whole.err.offset == split.err.offset && whole.err.opcode == split.err.opcode,
                    "error at offset %llu opcode %d whole, offset %llu opcode %d in pieces",
                    (unsigned long long)whole.err.offset, whole.err.opcode,
                    (unsigned long long)split.err.offset, split.err.opcode);
        goto done;
    }
    FUZZ_ASSERT(whole.used == split.used, "consumed %zu whole, %zu in pieces", whole.used, split.used);
    FUZZ_ASSERT(whole.proto == split.proto, "protocol %d whole, %d in pieces", whole.proto, split.proto);
    {
        mpk_err_t r1 = fuzz_encode(whole.v, whole.proto, 0, 64, &alloc, &b1, &e1);
        mpk_err_t r2 = fuzz_encode(split.v, split.proto, 0, 64, &alloc, &b2, &e2);
        FUZZ_ASSERT(r1 == r2, "re-encoding: error %d whole, %d in pieces", (int)r1, (int)r2);
        if (r1 == MPK_OK)
            FUZZ_ASSERT(b1.n == b2.n && !memcmp(b1.p, b2.p, b1.n), "re-encodings differ (%zu and %zu bytes)",
                        b1.n, b2.n);
    }
done:
    free(b1.p);
    free(b2.p);
    mpk_arena_free(&a1);
    mpk_arena_free(&a2);
    return 0;
}
