/* Helpers shared by the fuzz targets: a decode into the value model with chosen
 * limits, a re-encode into a growable buffer, and a trap for broken invariants.
 * Every target is a plain LLVMFuzzerTestOneInput, so it links either with
 * libFuzzer (clang -fsanitize=fuzzer) or with replay_main.c (any compiler). */
#ifndef MPK_FUZZ_COMMON_H
#define MPK_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mpickle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a finding: say which and abort, so that libFuzzer saves
 * the input as a crash. */
#define FUZZ_ASSERT(cond, ...) do { if (!(cond)) { \
    fprintf(stderr, "fuzz invariant failed at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

/* Limits small enough that no input of a fuzzing run's size can take much memory
 * or time, large enough that CPython's pickles of the seed corpus all decode. */
static inline void fuzz_limits(mpk_limits_t *l)
{
    mpk_limits_default(l);
    l->max_depth = 64;
    l->max_stack = 1u << 16;
    l->max_memo = 1u << 16;
    l->max_str = 1u << 20;
    l->max_alloc = 16u << 20;
}

/* One decode into an arena; the result, or NULL with *err set. */
typedef struct fuzz_decoded {
    mpk_value_t *v;
    mpk_error_t err;
    int proto;
    size_t used;
} fuzz_decoded_t;

/* nbuffers: the protocol 5 out-of-band buffers the caller has (NEXT_BUFFER
 * beyond them is an error) */
static inline void fuzz_decode_begin(mpk_decoder_t *d, mpk_value_ctx_t *vc, mpk_arena_t *arena,
                              const mpk_alloc_t *alloc, const mpk_decoder_opts_t *opts, size_t nbuffers)
{
    mpk_arena_init(arena, alloc, opts->limits.max_alloc);
    mpk_value_ctx_init(vc, arena, d, nbuffers);
    mpk_decoder_init(d, &mpk_value_host, vc, alloc, opts);
}

static inline void fuzz_decode_end(mpk_decoder_t *d, mpk_status_t st, fuzz_decoded_t *out)
{
    if (st == MPK_NEED_MORE) st = mpk_decoder_finish(d);
    out->err = d->err;
    out->v = st == MPK_DONE ? (mpk_value_t *)mpk_decoder_result(d) : NULL;
    out->proto = mpk_decoder_protocol(d);
    FUZZ_ASSERT((st == MPK_DONE) == (d->err.code == MPK_OK), "status %d with error code %d", (int)st,
                (int)d->err.code);
    FUZZ_ASSERT(d->err.code == MPK_OK || d->err.msg != NULL, "an error without a message");
    mpk_decoder_destroy(d);
    FUZZ_ASSERT(d->allocated == 0, "the VM leaked %llu bytes", (unsigned long long)d->allocated);
}

/* Decodes data in one piece (stable: payloads referenced in place). */
static inline void fuzz_decode_whole(const uint8_t *data, size_t n, mpk_arena_t *arena, const mpk_alloc_t *alloc,
                              const mpk_decoder_opts_t *opts, size_t nbuffers, fuzz_decoded_t *out)
{
    mpk_decoder_t d;
    mpk_value_ctx_t vc;
    mpk_status_t st;
    fuzz_decode_begin(&d, &vc, arena, alloc, opts, nbuffers);
    st = mpk_decoder_feed(&d, data, n, 1, &out->used);
    FUZZ_ASSERT(out->used <= n, "used %zu of %zu bytes", out->used, n);
    fuzz_decode_end(&d, st, out);
}

/* A growable output buffer for mpk_dump. */
typedef struct fuzz_buf { uint8_t *p; size_t n, cap; } fuzz_buf_t;

static inline int fuzz_sink(void *ctx, const uint8_t *data, size_t n)
{
    fuzz_buf_t *b = (fuzz_buf_t *)ctx;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        uint8_t *np;
        while (cap < b->n + n) cap *= 2;
        if (cap > ((size_t)64 << 20)) return -1;   /* re-encodings stay near the input's size */
        np = (uint8_t *)realloc(b->p, cap);
        if (!np) return -1;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
    return 0;
}

/* Encodes v with the given protocol and flags; returns the error code. */
static inline mpk_err_t fuzz_encode(const mpk_value_t *v, int proto, int flags, uint32_t max_depth,
                             const mpk_alloc_t *alloc, fuzz_buf_t *out, mpk_error_t *err)
{
    static uint8_t buf[MPK_FRAME_BUFFER];
    mpk_dump_opts_t o;
    o.protocol = proto;
    o.flags = flags;
    o.max_depth = max_depth;
    out->n = 0;
    return mpk_dump(v, &o, alloc, buf, sizeof buf, fuzz_sink, out, err);
}

/* An allocator over malloc that counts: a leak or a peak above the limits the
 * decoder was given is a finding. */
typedef struct fuzz_count { size_t now, peak, calls; } fuzz_count_t;

static void *fuzz_count_realloc(void *ctx, void *p, size_t old, size_t n)
{
    fuzz_count_t *c = (fuzz_count_t *)ctx;
    void *np = realloc(p, n ? n : 1);
    if (!np) return NULL;
    c->now = c->now - old + n;
    if (c->now > c->peak) c->peak = c->now;
    c->calls++;
    return np;
}

static inline void fuzz_count_free(void *ctx, void *p, size_t size)
{
    fuzz_count_t *c = (fuzz_count_t *)ctx;
    if (!p) return;
    c->now -= size;
    free(p);
}

static inline void fuzz_count_init(fuzz_count_t *c, mpk_alloc_t *a)
{
    memset(c, 0, sizeof *c);
    a->realloc = fuzz_count_realloc;
    a->free = fuzz_count_free;
    a->ctx = c;
}

/* Reads every node reachable from v (each payload byte too, so that a dangling
 * payload pointer shows under AddressSanitizer); visits at most `budget` edges,
 * so shared and cyclic graphs cost bounded time. Returns a checksum. */
static inline uint32_t fuzz_touch(const mpk_value_t *root, size_t budget)
{
    /* every push goes through FUZZ_PUSH: a node left out only lowers coverage */
#define FUZZ_STACK 256
#define FUZZ_PUSH(x) do { if (sp < FUZZ_STACK) stack[sp++] = (x); } while (0)
    const mpk_value_t *stack[FUZZ_STACK];
    size_t sp = 0, i, n;
    uint32_t sum = 0;
    stack[sp++] = root;
    while (sp && budget) {
        const mpk_value_t *v = stack[--sp];
        const mpk_call_info_t *c;
        budget--;
        if (!v) continue;
        FUZZ_ASSERT(v->type < MPK_TYPE__COUNT, "node of type %d", v->type);
        switch (v->type) {
        case MPK_STR: case MPK_BYTES: case MPK_BYTEARRAY: case MPK_BIGINT:
            for (i = 0; i < v->u.s.n; i++) sum += v->u.s.p[i];
            break;
        case MPK_LIST: case MPK_TUPLE: case MPK_SET: case MPK_FROZENSET: case MPK_DICT:
            n = v->u.seq.n;
            FUZZ_ASSERT(n <= v->u.seq.cap || v->call, "seq of %zu items, cap %zu", n, v->u.seq.cap);
            for (i = 0; i < n && sp < 200; i++) FUZZ_PUSH(v->u.seq.v[i]);
            break;
        case MPK_GLOBAL:
            FUZZ_ASSERT(v->u.g.module && v->u.g.name, "a global without names");
            FUZZ_PUSH(v->u.g.module);
            FUZZ_PUSH(v->u.g.name);
            break;
        case MPK_PERSID: FUZZ_PUSH(v->u.pid); break;
        default: break;
        }
        c = v->call;
        if (c) {
            FUZZ_PUSH(c->callable);
            FUZZ_PUSH(c->args);
            FUZZ_PUSH(c->kwargs);
            FUZZ_PUSH(c->state);
            for (i = 0; i < c->nlist && sp < 248; i++) FUZZ_PUSH(c->listitems[i]);
            /* ndict counts keys and values, not pairs */
            for (i = 0; i < c->ndict && sp < FUZZ_STACK; i++) FUZZ_PUSH(c->dictitems[i]);
        }
    }
    return sum;
#undef FUZZ_PUSH
#undef FUZZ_STACK
}

/* Tiny deterministic generator (piece sizes), seeded from the input. */
static inline uint32_t fuzz_rand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

static inline uint64_t fuzz_seed(const uint8_t *data, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ data[i]) * 1099511628211ull;
    return h;
}

#endif
