/* UTF-8 and integer byte helpers shared by the decoder, writer and value model. */
#include "internal.h"

/* Whether the last r < 8 bytes are ASCII, with two overlapping loads instead
 * of a loop (short dict keys are the common text). */
static int ascii_tail(const uint8_t *s, size_t r)
{
    uint32_t a = 0, b = 0;
    uint16_t c = 0, d = 0;
    if (r >= 4) { memcpy(&a, s, 4); memcpy(&b, s + r - 4, 4); return !((a | b) & 0x80808080u); }
    if (r >= 2) { memcpy(&c, s, 2); memcpy(&d, s + r - 2, 2); return !((c | d) & 0x8080u); }
    return r == 0 || s[0] < 0x80;
}

int mpk_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    /* ASCII runs eight bytes at a time (most text of pickles is ASCII) */
    while (n - i >= 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & UINT64_C(0x8080808080808080)) break;
        i += 8;
    }
    if (n - i < 8 && ascii_tail(s + i, n - i)) return 1;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) {
            if (n - i < 2 || (s[i + 1] & 0xC0) != 0x80) return 0;
            i += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            /* surrogates (ED A0..BF) are allowed: CPython writes them with surrogatepass */
            if (n - i < 3 || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80) return 0;
            if (c == 0xE0 && s[i + 1] < 0xA0) return 0;
            i += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            if (n - i < 4 || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
                (s[i + 3] & 0xC0) != 0x80) return 0;
            if (c == 0xF0 && s[i + 1] < 0x90) return 0;
            if (c == 0xF4 && s[i + 1] > 0x8F) return 0;
            i += 4;
        } else {
            return 0;
        }
    }
    return 1;
}

size_t mpk_utf8_next(const uint8_t *s, uint32_t *cp)
{
    uint8_t c = s[0];
    if (c < 0x80) { *cp = c; return 1; }
    if (c < 0xE0) { *cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F); return 2; }
    if (c < 0xF0) {
        *cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return 3;
    }
    *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
          ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
    return 4;
}

size_t mpk_utf8_put(uint8_t *out, uint32_t cp)
{
    if (cp < 0x80) { out[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

size_t mpk_int_to_le(int64_t v, uint8_t out[8])
{
    uint64_t u = (uint64_t)v;
    size_t i;
    for (i = 0; i < 8; i++) out[i] = (uint8_t)(u >> (8 * i));
    return mpk_le_minimal(out, 8);
}

size_t mpk_le_minimal(const uint8_t *le, size_t n)
{
    /* a byte is redundant if it is pure sign extension of the byte below it */
    while (n > 0) {
        uint8_t top = le[n - 1];
        if (n == 1) { if (top == 0) n = 0; break; }
        if (top == 0x00 && !(le[n - 2] & 0x80)) n--;
        else if (top == 0xFF && (le[n - 2] & 0x80)) n--;
        else break;
    }
    return n;
}

int mpk_le_to_int(const uint8_t *le, size_t n, int64_t *out)
{
    size_t m, i;
    uint64_t u;
    if (n >= 1 && n <= 8) {
        /* fits as given: sign-extend from the top byte (LONG1 of an int64) */
        u = (le[n - 1] & 0x80) ? ~(uint64_t)0 : 0;
        for (i = n; i-- > 0;) u = (u << 8) | le[i];
        memcpy(out, &u, sizeof u);
        return 1;
    }
    m = mpk_le_minimal(le, n);
    if (m > 8) return 0;
    if (m == 0) { *out = 0; return 1; }
    u = (le[m - 1] & 0x80) ? ~(uint64_t)0 : 0;
    for (i = 0; i < m; i++) {
        u &= ~((uint64_t)0xFF << (8 * i));
        u |= (uint64_t)le[i] << (8 * i);
    }
    memcpy(out, &u, sizeof u);   /* two's complement reinterpretation without UB */
    return 1;
}
