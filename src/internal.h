/* Helpers shared inside the core; not part of the public API. */
#ifndef MPK_INTERNAL_H
#define MPK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "mpickle.h"

#if MPK_WITH_MESSAGES
#define MPK_MSG(s) (s)
#else
#define MPK_MSG(s) ""
#endif

#if defined(__GNUC__) || defined(__clang__)
#define MPK_LIKELY(x) __builtin_expect(!!(x), 1)
#define MPK_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define MPK_LIKELY(x) (x)
#define MPK_UNLIKELY(x) (x)
#endif

static inline uint16_t mpk_rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t mpk_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t mpk_rd64(const uint8_t *p)
{
    return (uint64_t)mpk_rd32(p) | ((uint64_t)mpk_rd32(p + 4) << 32);
}
static inline void mpk_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void mpk_wr64(uint8_t *p, uint64_t v)
{
    mpk_wr32(p, (uint32_t)v);
    mpk_wr32(p + 4, (uint32_t)(v >> 32));
}
static inline double mpk_rd_double_be(const uint8_t *p)
{
    /* spelled out so that compilers see a byte-swapped load (one instruction) */
    uint64_t bits = (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
                    (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 | (uint64_t)p[6] << 8 | (uint64_t)p[7];
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}
static inline void mpk_wr_double_be(uint8_t *p, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    /* spelled out so that compilers merge it into a byte-swapped store */
    p[0] = (uint8_t)(bits >> 56); p[1] = (uint8_t)(bits >> 48); p[2] = (uint8_t)(bits >> 40);
    p[3] = (uint8_t)(bits >> 32); p[4] = (uint8_t)(bits >> 24); p[5] = (uint8_t)(bits >> 16);
    p[6] = (uint8_t)(bits >> 8); p[7] = (uint8_t)bits;
}

/* 1 if s[0..n) is UTF-8 as CPython's 'surrogatepass' accepts it (surrogate code
 * points allowed, overlongs and values above U+10FFFF not). */
int mpk_utf8_valid(const uint8_t *s, size_t n);

/* Decodes one code point of valid UTF-8 (as above) at s; returns its length. */
size_t mpk_utf8_next(const uint8_t *s, uint32_t *cp);

/* Encodes cp (surrogates included) as UTF-8 into out (4 bytes room); returns length. */
size_t mpk_utf8_put(uint8_t *out, uint32_t cp);

/* Converts an int64 to minimal little-endian two's complement (1..8 bytes);
 * and back: 1 if le[0..n) fits an int64 (after dropping redundant sign bytes). */
size_t mpk_int_to_le(int64_t v, uint8_t out[8]);
int mpk_le_to_int(const uint8_t *le, size_t n, int64_t *out);

/* Length of le[0..n) without redundant sign-extension bytes (0 for zero). */
size_t mpk_le_minimal(const uint8_t *le, size_t n);

#endif
