/* Allocators: a pool over one caller buffer, and (optionally) libc. */
#include "internal.h"

#define POOL_ALIGN 8u

static size_t align_up(size_t n) { return (n + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1); }

static void *pool_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
    mpk_pool_t *p = (mpk_pool_t *)ctx;
    uint8_t *np;
    if (ptr && (uint8_t *)ptr == p->base + p->last) {
        /* the last block grows or shrinks in place */
        if (p->last + new_size > p->size) return NULL;
        p->used = p->last + align_up(new_size);
        return ptr;
    }
    if (new_size <= old_size) return new_size ? ptr : NULL;
    if (align_up(p->used) + new_size > p->size || align_up(p->used) + new_size < new_size) return NULL;
    p->last = align_up(p->used);
    np = p->base + p->last;
    p->used = p->last + align_up(new_size);
    if (ptr && old_size) memcpy(np, ptr, old_size);
    return np;
}

void mpk_pool_init(mpk_pool_t *pool, void *buf, size_t size, mpk_alloc_t *out_alloc)
{
    /* start aligned, so that blocks are aligned for any value type */
    uintptr_t a = (uintptr_t)buf, b = (a + POOL_ALIGN - 1) & ~(uintptr_t)(POOL_ALIGN - 1);
    size_t skip = (size_t)(b - a);
    pool->base = (uint8_t *)buf + (skip < size ? skip : size);
    pool->size = skip < size ? size - skip : 0;
    pool->used = 0;
    pool->last = (size_t)-1;
    out_alloc->realloc = pool_realloc;
    out_alloc->free = NULL;
    out_alloc->ctx = pool;
}

#if MPK_WITH_LIBC_ALLOC
#include <stdlib.h>

static void *libc_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
    (void)ctx; (void)old_size;
    if (new_size == 0) { free(ptr); return NULL; }
    return realloc(ptr, new_size);
}

static void libc_free(void *ctx, void *ptr, size_t size)
{
    (void)ctx; (void)size;
    free(ptr);
}

void mpk_alloc_libc(mpk_alloc_t *out_alloc)
{
    out_alloc->realloc = libc_realloc;
    out_alloc->free = libc_free;
    out_alloc->ctx = NULL;
}
#endif
