/*
 * Exact decimal text <-> binary conversions for the protocol 0/1 text opcodes.
 *
 * repr(float): the free-format shortest-digits method (Steele & White, Burger &
 * Dybvig) on small bignums kept on the stack, with the same acceptance and tie
 * rules as David Gay's dtoa in mode 0, which is what CPython's repr() runs.
 *
 * float(text): the significant digits go into a decimal digit buffer that is
 * multiplied by powers of two until the 53 bits of the result are its integer
 * part (or, for values of 2^53 and up, the integer part is converted to binary);
 * the rest decides the rounding, half to even. Every step is exact.
 *
 * Integers: schoolbook base conversion over byte arrays; quadratic in the length,
 * which the caller bounds (MPK_MAX_INT_DIGITS).
 */
#include "numtext.h"

#include <float.h>
#include <string.h>

#if FLT_RADIX != 2 || DBL_MANT_DIG != 53 || DBL_MAX_EXP != 1024
#error "numtext.c needs IEEE 754 binary64 doubles"
#endif

#define MANT_BITS 52
#define HIDDEN_BIT ((uint64_t)1 << MANT_BITS)
#define SIGN_BIT ((uint64_t)1 << 63)
#define INF_BITS ((uint64_t)0x7ff << MANT_BITS)
#define NAN_BITS (INF_BITS | ((uint64_t)1 << 51))   /* CPython's quiet NaN */
#define MIN_SHIFT 1074   /* 2^-1074 is the smallest subnormal */

static uint64_t double_bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static double bits_double(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static int bitlen64(uint64_t v)
{
    int n = 0;
    while (v) { n++; v >>= 1; }
    return n;
}

static const uint32_t pow10_u32[10] = {
    1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u, 1000000000u
};

/* ------------------------------------------------------------------------- */
/* Natural numbers in base 2^32, little-endian; n limbs in use, no zero top limb.
 * The peak is in repr of a subnormal: a 2^1076 denominator, up to 100 times that
 * before the scale is fixed, then normalised (31 bits) and times 10: under 1130
 * bits, so 40 limbs leave a margin. The integer part parsed for values >= 2^53
 * stays under 1030 bits. Writes past BN_LIMBS are dropped, never made. */

#define BN_LIMBS 40

typedef struct {
    int n;
    uint32_t w[BN_LIMBS];
} bn_t;

static void bn_trim(bn_t *a)
{
    while (a->n > 0 && a->w[a->n - 1] == 0) a->n--;
}

static void bn_set(bn_t *a, uint64_t v)
{
    a->n = 0;
    while (v) {
        a->w[a->n++] = (uint32_t)v;
        v >>= 32;
    }
}

/* a = a * m + add */
static void bn_mul_add(bn_t *a, uint32_t m, uint32_t add)
{
    uint64_t carry = add;
    int i;
    for (i = 0; i < a->n; i++) {
        uint64_t t = (uint64_t)a->w[i] * m + carry;
        a->w[i] = (uint32_t)t;
        carry = t >> 32;
    }
    if (carry && a->n < BN_LIMBS) a->w[a->n++] = (uint32_t)carry;
    bn_trim(a);
}

static void bn_mul_pow10(bn_t *a, int k)
{
    for (; k >= 9; k -= 9) bn_mul_add(a, pow10_u32[9], 0);
    if (k > 0) bn_mul_add(a, pow10_u32[k], 0);
}

/* a = a * 2^sh */
static void bn_shl(bn_t *a, int sh)
{
    int limbs = sh / 32, bits = sh % 32, i;
    if (a->n == 0 || sh <= 0 || a->n + limbs >= BN_LIMBS) return;
    a->w[a->n + limbs] = bits ? a->w[a->n - 1] >> (32 - bits) : 0;
    for (i = a->n - 1; i > 0; i--)
        a->w[i + limbs] = bits ? (a->w[i] << bits) | (a->w[i - 1] >> (32 - bits)) : a->w[i];
    a->w[limbs] = a->w[0] << bits;
    for (i = 0; i < limbs; i++) a->w[i] = 0;
    a->n += limbs + 1;
    bn_trim(a);
}

static int bn_cmp(const bn_t *a, const bn_t *b)
{
    int i;
    if (a->n != b->n) return a->n < b->n ? -1 : 1;
    for (i = a->n - 1; i >= 0; i--)
        if (a->w[i] != b->w[i]) return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

/* r = a + b; r may be a or b */
static void bn_add(bn_t *r, const bn_t *a, const bn_t *b)
{
    const bn_t *hi = a->n >= b->n ? a : b, *lo = a->n >= b->n ? b : a;
    int n = hi->n, m = lo->n, i;
    uint64_t c = 0;
    for (i = 0; i < n; i++) {
        c += (uint64_t)hi->w[i] + (i < m ? lo->w[i] : 0);
        r->w[i] = (uint32_t)c;
        c >>= 32;
    }
    r->n = n;
    if (c && n < BN_LIMBS) r->w[r->n++] = (uint32_t)c;
}

/* a = a - q * b, where q * b <= a */
static void bn_submul(bn_t *a, const bn_t *b, uint32_t q)
{
    uint64_t carry = 0, borrow = 0;
    int i;
    for (i = 0; i < a->n; i++) {
        uint64_t p = (i < b->n ? (uint64_t)b->w[i] * q : 0) + carry;
        uint64_t t = (uint64_t)a->w[i] - (uint32_t)p - borrow;
        carry = p >> 32;
        a->w[i] = (uint32_t)t;
        borrow = (t >> 63) & 1;
    }
    bn_trim(a);
}

/* Returns floor(r / s) and leaves r mod s, for r < 10 * s where the top limb of
 * s is at least 2^27: the estimate from the top limbs is then at most one short
 * (the same normalisation dtoa's quorem relies on). */
static uint32_t bn_divmod_digit(bn_t *r, const bn_t *s)
{
    uint32_t q = 0;
    if (r->n == s->n && s->n > 0) {
        q = r->w[s->n - 1] / (s->w[s->n - 1] + 1);
        if (q) bn_submul(r, s, q);
    }
    while (bn_cmp(r, s) >= 0) {
        bn_submul(r, s, 1);
        q++;
    }
    return q;
}

static int bn_bitlen(const bn_t *a)
{
    return a->n ? (a->n - 1) * 32 + bitlen64(a->w[a->n - 1]) : 0;
}

static int bn_bit(const bn_t *a, int i)
{
    return (int)((a->w[i / 32] >> (i % 32)) & 1);
}

/* ------------------------------------------------------------------------- */
/* repr */

static long floor_div(long a, long b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Shortest digits of f * 2^e (f > 0) that read back as the same double: writes
 * the digit values to dig (at most 17; 20 bytes), returns their count and sets
 * *decpt so that the value is 0.DIGITS * 10^decpt. lower_closer: the next double
 * below is half as far as the next one above (f is the smallest significand of a
 * binade above the first). A boundary is acceptable when f is even, because an
 * exact tie then rounds back to f. */
static int shortest_digits(uint64_t f, int e, int lower_closer, char *dig, int *decpt)
{
    /* value = r / s, the gap to each neighbour's midpoint is mm / s below and
     * mp / s (mp = mm << extra) above */
    bn_t r, s, mm, t;
    int even = (f & 1) == 0, extra = lower_closer ? 1 : 0, nd = 0, sh, top;
    long p = bitlen64(f) - 1 + e, k;

    bn_set(&r, f);
    bn_set(&s, 1);
    bn_set(&mm, 1);
    if (e >= 0) {
        bn_shl(&r, e + 1 + extra);
        bn_shl(&s, 1 + extra);
        bn_shl(&mm, e);
    } else {
        bn_shl(&r, 1 + extra);
        bn_shl(&s, 1 + extra - e);
    }

    /* k: the least power of ten above the high boundary. 78913 / 2^18 is just
     * under log10(2), so this guess is never too high; the loop corrects it. */
    k = floor_div(p * 78913L, 262144L) + (p >= 0 ? 1 : 0);
    if (k >= 0) {
        bn_mul_pow10(&s, (int)k);
    } else {
        bn_mul_pow10(&r, (int)-k);
        bn_mul_pow10(&mm, (int)-k);
    }
    for (;;) {
        int c;
        bn_add(&t, &r, &mm);
        if (extra) bn_add(&t, &t, &mm);
        c = bn_cmp(&t, &s);
        if (c < 0 || (c == 0 && !even)) break;
        bn_mul_add(&s, 10, 0);
        k++;
    }
    *decpt = (int)k;

    /* normalise so that the top limb of s is in [2^27, 2^28) */
    top = bitlen64(s.w[s.n - 1]);
    sh = top <= 28 ? 28 - top : 60 - top;
    bn_shl(&r, sh);
    bn_shl(&s, sh);
    bn_shl(&mm, sh);

    for (;;) {
        int lo, hi;
        uint32_t d;
        bn_mul_add(&r, 10, 0);
        bn_mul_add(&mm, 10, 0);
        d = bn_divmod_digit(&r, &s);
        lo = bn_cmp(&r, &mm);            /* r < mm: dropping the rest reads back */
        bn_add(&t, &r, &mm);
        if (extra) bn_add(&t, &t, &mm);
        hi = bn_cmp(&t, &s);             /* r + mp > s: rounding up reads back */
        if (hi == 0 && even) {
            /* dtoa's order: d + 1 lands exactly on the high boundary; keep d if
             * it reads back too (it is then no farther, as mm <= mp) */
            dig[nd++] = (char)(lo > 0 ? d + 1 : d);
            break;
        }
        if (lo < 0 || (lo == 0 && even)) {
            if (hi > 0) {                /* both read back: take the nearer */
                int c;
                bn_add(&t, &r, &r);
                c = bn_cmp(&t, &s);
                if (c > 0 || (c == 0 && (d & 1))) d++;
            }
            dig[nd++] = (char)d;
            break;
        }
        if (hi > 0) {
            dig[nd++] = (char)(d + 1);
            break;
        }
        dig[nd++] = (char)d;
        if (nd == 20) break;             /* cannot happen: 17 digits always suffice */
    }
    return nd;
}

static size_t put_zeros(char *buf, size_t pos, int count)
{
    while (count-- > 0) buf[pos++] = '0';
    return pos;
}

static size_t put_digits(char *buf, size_t pos, const char *dig, int from, int to)
{
    while (from < to) buf[pos++] = (char)('0' + dig[from++]);
    return pos;
}

/* Python's layout for repr: scientific when the exponent is < -4 or >= 16 */
static size_t layout(char *buf, size_t pos, const char *dig, int nd, int decpt)
{
    if (decpt <= -4 || decpt > 16) {
        int x = decpt - 1;
        pos = put_digits(buf, pos, dig, 0, 1);
        if (nd > 1) {
            buf[pos++] = '.';
            pos = put_digits(buf, pos, dig, 1, nd);
        }
        buf[pos++] = 'e';
        buf[pos++] = x < 0 ? '-' : '+';
        if (x < 0) x = -x;
        if (x >= 100) buf[pos++] = (char)('0' + x / 100);
        buf[pos++] = (char)('0' + x / 10 % 10);
        buf[pos++] = (char)('0' + x % 10);
    } else if (decpt <= 0) {
        buf[pos++] = '0';
        buf[pos++] = '.';
        pos = put_zeros(buf, pos, -decpt);
        pos = put_digits(buf, pos, dig, 0, nd);
    } else if (decpt >= nd) {
        pos = put_digits(buf, pos, dig, 0, nd);
        pos = put_zeros(buf, pos, decpt - nd);
        buf[pos++] = '.';
        buf[pos++] = '0';
    } else {
        pos = put_digits(buf, pos, dig, 0, decpt);
        buf[pos++] = '.';
        pos = put_digits(buf, pos, dig, decpt, nd);
    }
    return pos;
}

size_t mpk_float_repr(double x, char *buf)
{
    uint64_t u = double_bits(x), frac = u & (HIDDEN_BIT - 1);
    int be = (int)((u >> MANT_BITS) & 0x7ff), nd, decpt;
    size_t pos = 0;
    char dig[20];

    if (be == 0x7ff) {
        if (frac) {
            memcpy(buf, "nan", 3);       /* Python never shows a NaN's sign */
            return 3;
        }
        if (u & SIGN_BIT) buf[pos++] = '-';
        memcpy(buf + pos, "inf", 3);
        return pos + 3;
    }
    if (u & SIGN_BIT) buf[pos++] = '-';
    if (be == 0 && frac == 0) {
        memcpy(buf + pos, "0.0", 3);
        return pos + 3;
    }
    if (be == 0)
        nd = shortest_digits(frac, -MIN_SHIFT, 0, dig, &decpt);
    else
        nd = shortest_digits(frac | HIDDEN_BIT, be - 1075, frac == 0 && be > 1, dig, &decpt);
    return layout(buf, pos, dig, nd, decpt);
}

/* ------------------------------------------------------------------------- */
/* float parsing */

/* Significant digits kept from the input. Every midpoint between neighbouring
 * doubles has at most 768 significant digits, so cutting the input after KEEP
 * digits and appending a 1 when anything nonzero was cut leaves the input on the
 * same side of every midpoint: the rounding stays exact. */
#define DEC_KEEP 800
/* Below 10^-324 everything rounds to zero, so at most 323 zeros precede the
 * digits; multiplying by 2^k never lengthens the fraction, the integer part
 * stays under 2^53 (16 digits), and one shift writes up to 9 digits ahead. */
#define DEC_CAP (DEC_KEEP + 1 + 323 + 16 + 9)

/* value = 0.d[0] d[1] ... d[nd-1] * 10^dp, digit values, d[0] != 0 */
typedef struct {
    int nd, dp;
    uint8_t d[DEC_CAP];
} dec_t;

static void dec_trim(dec_t *a)
{
    while (a->nd > 0 && a->d[a->nd - 1] == 0) a->nd--;
}

/* a = a * 2^k for 1 <= k <= 28: digit * 2^k + carry stays under 2^32. The
 * result is built right to left 9 places further on (the carry has at most 9
 * digits), which never overwrites a digit still to be read, then moved back. */
static void dec_shl(dec_t *a, int k)
{
    int i = a->nd, w = a->nd + 9, count;
    uint32_t carry = 0;
    if (a->nd + 9 > DEC_CAP) return;     /* cannot happen: see DEC_CAP */
    while (i > 0) {
        uint32_t v = ((uint32_t)a->d[--i] << k) + carry;
        a->d[--w] = (uint8_t)(v % 10);
        carry = v / 10;
    }
    while (carry) {
        a->d[--w] = (uint8_t)(carry % 10);
        carry /= 10;
    }
    count = a->nd + 9 - w;
    a->dp += count - a->nd;
    memmove(a->d, a->d + w, (size_t)count);
    a->nd = count;
    dec_trim(a);
}

/* The integer part, for dp <= 19 */
static uint64_t dec_int_part(const dec_t *a)
{
    uint64_t v = 0;
    int i;
    for (i = 0; i < a->dp; i++) v = v * 10 + (i < a->nd ? a->d[i] : 0);
    return v;
}

/* Bits of a value below 2^53: scale by 2^s until the integer part N has 53 bits
 * (or s reaches 1074, the subnormal scale), round N on the fraction, and the
 * double is N * 2^-s. */
static uint64_t dec_small_to_bits(dec_t *a)
{
    int s = 0, f1, rest;
    uint64_t n;
    for (;;) {
        int k = 28;
        if (a->dp > 0) {
            n = dec_int_part(a);
            if (n >= HIDDEN_BIT) break;
            k = 53 - bitlen64(n);        /* keeps the integer part under 2^53 */
            if (k > 28) k = 28;
        }
        if (k > MIN_SHIFT - s) k = MIN_SHIFT - s;
        if (k == 0) break;
        dec_shl(a, k);
        s += k;
    }
    n = a->dp > 0 ? dec_int_part(a) : 0;
    f1 = a->dp >= 0 && a->dp < a->nd ? a->d[a->dp] : 0;
    rest = a->dp >= 0 && a->nd > a->dp + 1;
    if (f1 > 5 || (f1 == 5 && (rest || (n & 1)))) n++;
    if (n == HIDDEN_BIT << 1) {
        n = HIDDEN_BIT;
        s--;
    }
    /* the hidden bit of n adds the 1 that the biased exponent lacks here */
    return ((uint64_t)(MIN_SHIFT - s) << MANT_BITS) + n;
}

/* Bits of a value of at least 2^53 (dp <= 309): the binary integer part has 54+
 * bits; the bits below the top 53 and any fraction decide the rounding. Returns
 * INF_BITS on overflow. */
static uint64_t dec_large_to_bits(const dec_t *a)
{
    bn_t b;
    uint64_t n = 0;
    int i, len, top, sticky = a->nd > a->dp;
    bn_set(&b, 0);
    for (i = 0; i < a->dp; i += 9) {
        uint32_t chunk = 0;
        int j, m = a->dp - i < 9 ? a->dp - i : 9;
        for (j = i; j < i + m; j++) chunk = chunk * 10 + (j < a->nd ? a->d[j] : 0);
        bn_mul_add(&b, pow10_u32[m], chunk);
    }
    len = bn_bitlen(&b);
    for (i = len - 1; i >= len - 53; i--) n = (n << 1) | (uint64_t)bn_bit(&b, i);
    top = len - 54;                      /* the rounding bit */
    for (i = 0; i < top && !sticky; i++) sticky = bn_bit(&b, i);
    if (bn_bit(&b, top) && (sticky || (n & 1))) n++;
    if (n == HIDDEN_BIT << 1) {
        n = HIDDEN_BIT;
        len++;
    }
    if (len > 1024) return INF_BITS;
    return ((uint64_t)(len + 1021) << MANT_BITS) + n;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Case-insensitive match of s[0..n) against a lowercase word */
static int word_is(const char *s, size_t n, const char *word)
{
    size_t i;
    if (n != strlen(word)) return 0;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != word[i]) return 0;
    }
    return 1;
}

static void dec_push(dec_t *a, char c, int *sticky)
{
    if (a->nd < DEC_KEEP) a->d[a->nd++] = (uint8_t)(c - '0');
    else if (c != '0') *sticky = 1;
}

/* Reads the digits of a number into a, skipping leading zeros. Returns the
 * index after the number, or 0 if there is no digit. *dp gets the decimal point
 * position before the exponent is applied. */
static size_t scan_mantissa(const char *s, size_t i, size_t n, dec_t *a, int64_t *dp)
{
    int sticky = 0, any = 0;
    a->nd = 0;
    *dp = 0;
    for (; i < n && is_digit(s[i]); i++, any = 1) {
        if (a->nd == 0 && s[i] == '0') continue;   /* leading zero */
        dec_push(a, s[i], &sticky);
        (*dp)++;
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && is_digit(s[i]); i++, any = 1) {
            if (a->nd == 0 && s[i] == '0') (*dp)--;
            else dec_push(a, s[i], &sticky);
        }
    }
    if (!any) return 0;
    if (sticky) a->d[a->nd++] = 1;       /* stands for the nonzero digits cut off */
    else dec_trim(a);
    return i;
}

/* Reads [eE][sign]digits if present; returns the index after it, or 0 if an 'e'
 * has no digits. Huge exponents saturate (the result is then 0 or inf anyway). */
static size_t scan_exponent(const char *s, size_t i, size_t n, int64_t *exp)
{
    int neg = 0, any = 0;
    *exp = 0;
    if (i >= n || (s[i] != 'e' && s[i] != 'E')) return i;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    for (; i < n && is_digit(s[i]); i++, any = 1)
        if (*exp < 1000000000000LL) *exp = *exp * 10 + (s[i] - '0');
    if (!any) return 0;
    if (neg) *exp = -*exp;
    return i;
}

int mpk_float_parse(const char *s, size_t n, double *out)
{
    dec_t a;
    size_t i = 0;
    int64_t dp, exp;
    uint64_t sign = 0, bits;

    if (i < n && (s[i] == '+' || s[i] == '-')) sign = s[i++] == '-' ? SIGN_BIT : 0;
    if (i < n && !is_digit(s[i]) && s[i] != '.') {
        if (word_is(s + i, n - i, "inf") || word_is(s + i, n - i, "infinity")) bits = INF_BITS;
        else if (word_is(s + i, n - i, "nan")) bits = NAN_BITS;
        else return -1;
        *out = bits_double(sign | bits);
        return 0;
    }
    i = scan_mantissa(s, i, n, &a, &dp);
    if (i == 0) return -1;
    i = scan_exponent(s, i, n, &exp);
    if (i != n) return -1;

    dp += exp;
    if (a.nd == 0 || dp < -323) {
        bits = 0;                        /* below 10^-324: rounds to zero */
    } else if (dp > 309) {
        return -1;                       /* at least 10^309: overflow */
    } else {
        a.dp = (int)dp;
        if (a.dp >= 17 || (a.dp > 0 && dec_int_part(&a) >= HIDDEN_BIT << 1))
            bits = dec_large_to_bits(&a);
        else
            bits = dec_small_to_bits(&a);
        if (bits == INF_BITS) return -1;
    }
    *out = bits_double(sign | bits);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* integers */

/* Divides the little-endian magnitude mag[0..*len) by 10000 in place, trims it
 * and returns the remainder. */
static uint32_t mag_divmod_10000(uint8_t *mag, size_t *len)
{
    uint32_t rem = 0;
    size_t i = *len;
    while (i-- > 0) {
        rem = (rem << 8) | mag[i];
        mag[i] = (uint8_t)(rem / 10000u);
        rem %= 10000u;
    }
    while (*len > 0 && mag[*len - 1] == 0) (*len)--;
    return rem;
}

/* two's complement negation of le[0..n) in place */
static void le_negate(uint8_t *le, size_t n)
{
    unsigned carry = 1;
    size_t i;
    for (i = 0; i < n; i++) {
        carry += (uint8_t)~le[i];
        le[i] = (uint8_t)carry;
        carry >>= 8;
    }
}

size_t mpk_bigint_to_decimal(const uint8_t *le, size_t n, char *out, size_t cap, uint8_t *work)
{
    size_t len = n, start = 0, w, i;
    int neg = n > 0 && (le[n - 1] & 0x80);
    if (cap == 0) return 0;
    if (n) memcpy(work, le, n);
    if (neg) {
        le_negate(work, n);
        out[start++] = '-';
    }
    while (len > 0 && work[len - 1] == 0) len--;
    /* digits come least significant first: write them reversed, then flip */
    w = start;
    do {
        uint32_t rem = mag_divmod_10000(work, &len);
        int k;
        for (k = 0; k < 4 && (len > 0 || rem > 0 || w == start); k++) {
            if (w >= cap) return 0;
            out[w++] = (char)('0' + rem % 10);
            rem /= 10;
        }
    } while (len > 0);
    for (i = start; i < (start + w) / 2; i++) {
        char c = out[i];
        out[i] = out[start + w - 1 - i];
        out[start + w - 1 - i] = c;
    }
    return w;
}

/* mag[0..*len) = mag * mul + add, growing within cap; 0 or -1 if full */
static int mag_mul_add(uint8_t *mag, size_t *len, size_t cap, uint32_t mul, uint32_t add)
{
    uint32_t carry = add;
    size_t i;
    for (i = 0; i < *len; i++) {
        carry += (uint32_t)mag[i] * mul;
        mag[i] = (uint8_t)carry;
        carry >>= 8;
    }
    for (; carry; carry >>= 8) {
        if (*len >= cap) return -1;
        mag[(*len)++] = (uint8_t)carry;
    }
    return 0;
}

int mpk_decimal_to_bigint(const char *s, size_t n, uint8_t *out, size_t cap, size_t *outn)
{
    size_t i = 0, len = 0;
    int neg = 0, count = 0;
    uint32_t chunk = 0;

    if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    if (i >= n || !is_digit(s[i])) return -1;
    for (; i < n; i++) {
        if (s[i] == '_') {
            /* only a single '_' between two digits */
            if (i + 1 >= n || !is_digit(s[i + 1])) return -1;
            continue;
        }
        if (!is_digit(s[i])) return -1;
        chunk = chunk * 10 + (uint32_t)(s[i] - '0');
        if (++count == 4) {
            if (mag_mul_add(out, &len, cap, 10000u, chunk)) return -1;
            chunk = 0;
            count = 0;
        }
    }
    if (count && mag_mul_add(out, &len, cap, pow10_u32[count], chunk)) return -1;

    if (len > 0) {
        if (neg) le_negate(out, len);
        /* add a sign byte when the top bit says the wrong sign */
        if (((out[len - 1] & 0x80) != 0) != neg) {
            if (len >= cap) return -1;
            out[len++] = neg ? 0xff : 0x00;
        }
    }
    *outn = len;
    return 0;
}
