/* Helpers for the unit tests: a counting allocator that can fail the nth
 * allocation, fixture loading, and a growable output sink. */
#ifndef MPK_TESTUTIL_H
#define MPK_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mpickle.h"

typedef struct {
    long long outstanding;  /* bytes allocated and not freed */
    long long peak;
    long calls;             /* allocations (growing reallocs included) so far */
    long fail_at;           /* fail the call with this number (1-based); 0: never */
} counting_t;

static void *counting_realloc(void *ctx, void *p, size_t old, size_t n)
{
    counting_t *c = (counting_t *)ctx;
    void *np;
    if (n > old && ++c->calls == c->fail_at) return NULL;
    np = realloc(p, n ? n : 1);
    if (!np) return NULL;
    c->outstanding += (long long)n - (long long)old;
    if (c->outstanding > c->peak) c->peak = c->outstanding;
    return np;
}

static void counting_free(void *ctx, void *p, size_t size)
{
    counting_t *c = (counting_t *)ctx;
    if (!p) return;
    c->outstanding -= (long long)size;
    free(p);
}

static void counting_alloc(counting_t *c, mpk_alloc_t *a)
{
    memset(c, 0, sizeof *c);
    a->realloc = counting_realloc;
    a->free = counting_free;
    a->ctx = c;
}

/* Reads a whole file; NULL (and a message) if it is missing. */
static unsigned char *read_fixture(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long len;
    if (!f) { fprintf(stderr, "missing fixture %s (run tools/gen_fixtures.py)\n", path); return NULL; }
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = (unsigned char *)malloc((size_t)len + 1);
    if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) { free(buf); buf = NULL; }
    fclose(f);
    *n = (size_t)len;
    return buf;
}

typedef struct { unsigned char *p; size_t n, cap; long fail_after; } growbuf_t;

/* A sink into a growable buffer; fails once more than fail_after bytes (if > 0)
 * would have been written. */
static int growbuf_sink(void *ctx, const uint8_t *data, size_t n)
{
    growbuf_t *g = (growbuf_t *)ctx;
    if (g->fail_after > 0 && (long)(g->n + n) > g->fail_after) return -1;
    if (g->n + n > g->cap) {
        size_t cap = g->cap ? g->cap : 1024;
        while (cap < g->n + n) cap *= 2;
        g->p = (unsigned char *)realloc(g->p, cap);
        if (!g->p) return -1;
        g->cap = cap;
    }
    memcpy(g->p + g->n, data, n);
    g->n += n;
    return 0;
}

#endif
