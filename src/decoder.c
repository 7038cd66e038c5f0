/*
 * The decoder VM: a resumable pickle machine. Input arrives in pieces of any
 * size; an instruction (opcode + argument) that is complete in the piece runs in
 * place, one that is split is gathered in a scratch buffer first. Objects are made
 * by the host; the VM keeps only handles (stack, marks, memo).
 *
 * Invariants: a declared length is checked against the limits before anything is
 * kept, and memory grows only with bytes actually received; every stack access is
 * checked against the fence of the innermost MARK; the first error sticks.
 */
#include "internal.h"
#include "opcodes.h"
#include "numtext.h"
#include "compat.h"

/* Declared for every build (limits also bound the value model's encoder), so
 * outside the decoder's switch. */
void mpk_limits_default(mpk_limits_t *l)
{
    l->max_depth = MPK_DEFAULT_MAX_DEPTH;
    l->max_stack = MPK_DEFAULT_MAX_STACK;
    l->max_memo = MPK_DEFAULT_MAX_MEMO;
    l->max_str = MPK_DEFAULT_MAX_STR;
    l->max_alloc = MPK_DEFAULT_MAX_ALLOC;
    l->max_input = 0;
}

#if MPK_WITH_DECODER

/* ------------------------------------------------------------ errors, memory */

mpk_err_t mpk_decoder_fail(mpk_decoder_t *d, mpk_err_t code, const char *msg)
{
    if (d->err.code == MPK_OK && code != MPK_OK) {
        d->err.code = code;
        d->err.offset = d->op >= 0 ? d->op_offset : d->offset;
        d->err.opcode = d->op;
        d->err.msg = msg ? msg : mpk_err_str(code);
    }
    return code;
}

#define FAIL(d, code, msg) mpk_decoder_fail((d), (code), MPK_MSG(msg))

/* A host callback failed: keep its message if it set one. */
static mpk_err_t host_failed(mpk_decoder_t *d, mpk_err_t code)
{
    return mpk_decoder_fail(d, code == MPK_OK ? MPK_ERR_ARG : code, NULL);
}

#define HOST(d, call) do { mpk_err_t e_ = (call); if (e_ != MPK_OK) return host_failed((d), e_); } while (0)
#define TRY(x) do { mpk_err_t e_ = (x); if (e_ != MPK_OK) return e_; } while (0)

/* Resizes a block, counting against max_alloc. */
static mpk_err_t vm_realloc(mpk_decoder_t *d, void **p, size_t old_size, size_t new_size)
{
    void *np;
    if (new_size > old_size && d->allocated + (new_size - old_size) > d->opts.limits.max_alloc)
        return FAIL(d, MPK_ERR_LIMIT, "memory limit (max_alloc) exceeded");
    np = d->alloc.realloc(d->alloc.ctx, *p, old_size, new_size);
    if (!np && new_size) return FAIL(d, MPK_ERR_NOMEM, "out of memory");
    d->allocated = d->allocated - old_size + new_size;
    *p = np;
    return MPK_OK;
}

static void vm_free(mpk_decoder_t *d, void *p, size_t size)
{
    if (!p) return;
    if (d->alloc.free) d->alloc.free(d->alloc.ctx, p, size);
    d->allocated -= size;
}

/* Grows an array of elements of `elem` bytes so that it holds at least `need`. */
static mpk_err_t grow(mpk_decoder_t *d, void **p, size_t *cap, size_t need, size_t elem, size_t first)
{
    size_t ncap = *cap ? *cap : first;
    if (need <= *cap) return MPK_OK;
    while (ncap < need) ncap = ncap * 2;
    if (ncap / 2 > SIZE_MAX / elem) return FAIL(d, MPK_ERR_LIMIT, "size overflow");
    TRY(vm_realloc(d, p, *cap * elem, ncap * elem));
    *cap = ncap;
    return MPK_OK;
}

/* ------------------------------------------------------------ init and reset */

void mpk_decoder_opts_default(mpk_decoder_opts_t *o)
{
    mpk_limits_default(&o->limits);
    o->fix_imports = 1;
    o->py2str = MPK_PY2STR_ASCII;
}

static void fill_limits(mpk_limits_t *l)
{
    mpk_limits_t def;
    mpk_limits_default(&def);
    if (!l->max_depth) l->max_depth = def.max_depth;
    if (!l->max_stack) l->max_stack = def.max_stack;
    if (!l->max_memo) l->max_memo = def.max_memo;
    if (!l->max_str) l->max_str = def.max_str;
    if (!l->max_alloc) l->max_alloc = def.max_alloc;
    if (!l->max_input) l->max_input = UINT64_MAX;
}

void mpk_decoder_init(mpk_decoder_t *d, const mpk_host_t *host, void *host_ctx,
                      const mpk_alloc_t *alloc, const mpk_decoder_opts_t *opts)
{
    memset(d, 0, sizeof *d);
    d->host = host;
    d->host_ctx = host_ctx;
    d->alloc = *alloc;
    if (opts) d->opts = *opts;
    else mpk_decoder_opts_default(&d->opts);
    fill_limits(&d->opts.limits);
    d->op = -1;
}

static void free_working(mpk_decoder_t *d)
{
    vm_free(d, d->stack, d->stack_cap * sizeof *d->stack);
    vm_free(d, d->marks, d->marks_cap * sizeof *d->marks);
    vm_free(d, d->memo, d->memo_cap * sizeof *d->memo);
    vm_free(d, d->memo_set, d->memo_set_bytes);
    vm_free(d, d->sparse_keys, d->sparse_cap * sizeof *d->sparse_keys);
    vm_free(d, d->sparse_vals, d->sparse_cap * sizeof *d->sparse_vals);
    vm_free(d, d->scratch, d->scratch_cap);
    vm_free(d, d->text, d->text_cap);
}

/* Ready for the next pickle of the same stream with the memo kept: the working
 * arrays are freed (one large pickle must not pin memory for the next), the memo
 * and its accounting stay. */
void mpk_decoder_next(mpk_decoder_t *d)
{
    mpk_decoder_t m = *d;
    d->memo = NULL; d->memo_cap = 0; d->memo_set = NULL; d->memo_set_bytes = 0;
    d->sparse_keys = NULL; d->sparse_vals = NULL; d->sparse_n = d->sparse_cap = 0;
    mpk_decoder_reset(d);
    d->memo = m.memo; d->memo_cap = m.memo_cap;
    d->memo_set = m.memo_set; d->memo_set_bytes = m.memo_set_bytes;
    d->sparse_keys = m.sparse_keys; d->sparse_vals = m.sparse_vals;
    d->sparse_n = m.sparse_n; d->sparse_cap = m.sparse_cap;
    d->memo_count = m.memo_count;
    d->allocated = m.memo_cap * sizeof *m.memo + m.memo_set_bytes +
                   m.sparse_cap * (sizeof *m.sparse_keys + sizeof *m.sparse_vals);
}

void mpk_decoder_destroy(mpk_decoder_t *d)
{
    free_working(d);
    d->stack = NULL; d->marks = NULL; d->memo = NULL; d->memo_set = NULL;
    d->sparse_keys = NULL; d->sparse_vals = NULL; d->scratch = NULL; d->text = NULL;
    d->stack_cap = d->marks_cap = d->memo_cap = d->sparse_cap = d->scratch_cap = d->text_cap = 0;
    d->memo_set_bytes = 0;
}

void mpk_decoder_reset(mpk_decoder_t *d)
{
    const mpk_host_t *host = d->host;
    void *ctx = d->host_ctx;
    mpk_alloc_t alloc = d->alloc;
    mpk_decoder_opts_t opts = d->opts;
    mpk_decoder_destroy(d);
    mpk_decoder_init(d, host, ctx, &alloc, &opts);
}

mpk_obj_t mpk_decoder_result(const mpk_decoder_t *d) { return d->done ? d->result : NULL; }
const mpk_error_t *mpk_decoder_error(const mpk_decoder_t *d) { return &d->err; }
int mpk_decoder_current_op(const mpk_decoder_t *d, uint64_t *offset)
{
    if (offset) *offset = d->op_offset;
    return d->op;
}

int mpk_decoder_protocol(const mpk_decoder_t *d)
{
    if (d->proto) return d->proto;
    return d->max_op_proto >= 1 ? 1 : 0;
}

/* ------------------------------------------------------------ stack and marks */

static inline size_t fence(const mpk_decoder_t *d) { return d->nmarks ? d->marks[d->nmarks - 1] : 0; }

/* Out of line: the stack is full (grow it) or at its limit. */
static mpk_err_t push_slow(mpk_decoder_t *d, mpk_obj_t o)
{
    /* exact limit, though the array grows in powers of two */
    if (d->sp >= d->opts.limits.max_stack)
        return FAIL(d, MPK_ERR_LIMIT, "stack limit (max_stack) exceeded");
    /* a small max_stack is a small device: its first array need not be bigger */
    TRY(grow(d, (void **)&d->stack, &d->stack_cap, d->sp + 1, sizeof *d->stack,
             d->opts.limits.max_stack < 32 ? d->opts.limits.max_stack : 32));
    d->stack[d->sp++] = o;
    return MPK_OK;
}

/* Inline: every value goes through here. */
static inline mpk_err_t push(mpk_decoder_t *d, mpk_obj_t o)
{
    if (MPK_UNLIKELY(d->sp >= d->stack_cap || d->sp >= d->opts.limits.max_stack)) return push_slow(d, o);
    d->stack[d->sp++] = o;
    return MPK_OK;
}

/* Pops n values (above the fence) and returns a pointer to the first. */
static mpk_err_t pop_n(mpk_decoder_t *d, size_t n, mpk_obj_t **items)
{
    if (d->sp - fence(d) < n) return FAIL(d, MPK_ERR_STACK, "unpickling stack underflow");
    d->sp -= n;
    *items = d->stack + d->sp;
    return MPK_OK;
}

static inline mpk_err_t top(mpk_decoder_t *d, mpk_obj_t *o)
{
    if (d->sp <= fence(d)) return FAIL(d, MPK_ERR_STACK, "unpickling stack underflow");
    *o = d->stack[d->sp - 1];
    return MPK_OK;
}

static mpk_err_t push_mark(mpk_decoder_t *d)
{
    if (d->nmarks >= d->opts.limits.max_depth)
        return FAIL(d, MPK_ERR_LIMIT, "nesting limit (max_depth) exceeded");
    if (d->nmarks >= d->marks_cap)
        TRY(grow(d, (void **)&d->marks, &d->marks_cap, d->nmarks + 1, sizeof *d->marks, 8));
    d->marks[d->nmarks++] = d->sp;
    return MPK_OK;
}

/* Pops the innermost mark: the items above it are items[0..*n); they stay in the
 * stack memory (valid until the next push) but are no longer on the stack. */
static mpk_err_t pop_mark(mpk_decoder_t *d, mpk_obj_t **items, size_t *n)
{
    size_t m;
    if (!d->nmarks) return FAIL(d, MPK_ERR_MARK, "could not find MARK");
    m = d->marks[--d->nmarks];
    /* no stack array yet when nothing was ever pushed: NULL + 0 is undefined */
    *items = d->stack ? d->stack + m : NULL;
    *n = d->sp - m;
    d->sp = m;
    return MPK_OK;
}

/* ------------------------------------------------------------ memo */

static inline int dense_has(const mpk_decoder_t *d, size_t k)
{
    return k < d->memo_cap && (d->memo_set[k / 8] >> (k % 8)) & 1;
}

static size_t sparse_slot(const mpk_decoder_t *d, uint32_t key)
{
    size_t mask = d->sparse_cap - 1, i = (key * 2654435761u) & mask;
    while (d->sparse_keys[i] != 0) {
        if (d->sparse_keys[i] == (uint64_t)key + 1) return i;
        i = (i + 1) & mask;
    }
    return i;
}

/* Sparse keys live in an open-addressing table (key+1 stored; 0 = empty) so that a
 * huge key costs one slot, not an array up to it. */
static mpk_err_t sparse_put(mpk_decoder_t *d, uint32_t key, mpk_obj_t o, int *added)
{
    size_t i;
    if ((d->sparse_n + 1) * 2 > d->sparse_cap) {
        uint64_t *ok = d->sparse_keys;
        mpk_obj_t *ov = d->sparse_vals;
        size_t ocap = d->sparse_cap, ncap = ocap ? ocap * 2 : 16, j;
        uint64_t *nk = NULL;
        mpk_obj_t *nv = NULL;
        TRY(vm_realloc(d, (void **)&nk, 0, ncap * sizeof *nk));
        if (vm_realloc(d, (void **)&nv, 0, ncap * sizeof *nv) != MPK_OK) {
            vm_free(d, nk, ncap * sizeof *nk);
            return d->err.code;
        }
        memset(nk, 0, ncap * sizeof *nk);
        for (j = 0; j < ncap; j++) nv[j] = NULL;
        d->sparse_keys = nk; d->sparse_vals = nv; d->sparse_cap = ncap;
        for (j = 0; j < ocap; j++) {
            if (ok[j]) {
                size_t s = sparse_slot(d, (uint32_t)(ok[j] - 1));
                nk[s] = ok[j];
                nv[s] = ov[j];
            }
        }
        vm_free(d, ok, ocap * sizeof *ok);
        vm_free(d, ov, ocap * sizeof *ov);
    }
    i = sparse_slot(d, key);
    *added = d->sparse_keys[i] == 0;
    d->sparse_keys[i] = (uint64_t)key + 1;
    d->sparse_vals[i] = o;
    if (*added) d->sparse_n++;
    return MPK_OK;
}

static mpk_err_t memo_put_slow(mpk_decoder_t *d, uint64_t key)
{
    mpk_obj_t o;
    int added = 0;
    TRY(top(d, &o));
    if (key > UINT32_MAX) return FAIL(d, MPK_ERR_LIMIT, "memo key too large");
    if (!dense_has(d, (size_t)key) && d->memo_count >= d->opts.limits.max_memo)
        return FAIL(d, MPK_ERR_LIMIT, "memo limit (max_memo) exceeded");
    /* keys CPython writes are dense (0, 1, 2...): an array; others go sparse */
    if (key < d->memo_cap || key <= 2 * (uint64_t)d->memo_count + 64) {
        size_t k = (size_t)key;
        if (k >= d->memo_cap) {
            size_t first = d->opts.limits.max_memo < 64 ? 8 : 64;  /* small devices: small memo */
            size_t old = d->memo_cap, ncap = old ? old : first, newb;
            while (ncap <= k) ncap *= 2;
            newb = (ncap + 7) / 8;
            /* the bitmap may end up larger than memo_cap needs if the second step fails */
            if (newb > d->memo_set_bytes) {
                TRY(vm_realloc(d, (void **)&d->memo_set, d->memo_set_bytes, newb));
                memset(d->memo_set + d->memo_set_bytes, 0, newb - d->memo_set_bytes);
                d->memo_set_bytes = newb;
            }
            TRY(vm_realloc(d, (void **)&d->memo, old * sizeof *d->memo, ncap * sizeof *d->memo));
            d->memo_cap = ncap;
        }
        if (!dense_has(d, k)) {
            if (d->sparse_n) {
                /* the key may have been stored sparsely before the array reached it */
                size_t s = sparse_slot(d, (uint32_t)k);
                if (d->sparse_keys[s]) { d->sparse_vals[s] = o; return MPK_OK; }
            }
            d->memo_set[k / 8] |= (uint8_t)(1u << (k % 8));
            d->memo_count++;
        }
        d->memo[k] = o;
        return MPK_OK;
    }
    TRY(sparse_put(d, (uint32_t)key, o, &added));
    if (added) d->memo_count++;
    return MPK_OK;
}

/* Inline: the common case of a new key inside the dense array (what MEMOIZE and
 * CPython's BINPUTs give); anything else goes the careful way. */
static inline mpk_err_t memo_put(mpk_decoder_t *d, uint64_t key)
{
    if (MPK_LIKELY(key < d->memo_cap && !d->sparse_n && d->sp > fence(d) &&
                   d->memo_count < d->opts.limits.max_memo && !dense_has(d, (size_t)key))) {
        d->memo_set[key / 8] |= (uint8_t)(1u << (key % 8));
        d->memo_count++;
        d->memo[key] = d->stack[d->sp - 1];
        return MPK_OK;
    }
    return memo_put_slow(d, key);
}

static mpk_err_t memo_get(mpk_decoder_t *d, uint64_t key)
{
    if (key < d->memo_cap && dense_has(d, (size_t)key)) return push(d, d->memo[key]);
    if (d->sparse_n && key <= UINT32_MAX) {
        size_t s = sparse_slot(d, (uint32_t)key);
        if (d->sparse_keys[s]) return push(d, d->sparse_vals[s]);
    }
    return FAIL(d, MPK_ERR_MEMO, "memo value not found");
}

/* ------------------------------------------------------------ text arguments */

static mpk_err_t text_room(mpk_decoder_t *d, size_t n)
{
    if (n <= d->text_cap) return MPK_OK;
    return grow(d, (void **)&d->text, &d->text_cap, n, 1, 64);
}

/* Parses an unsigned decimal (PUT/GET keys). */
static int parse_udec(const uint8_t *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;
    if (n == 0 || n > 19) return 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 1;
}

/* Makes an int object from decimal text ([sign] digits, '_' allowed between digits
 * as in Python's int()), choosing make_int or make_bigint by size. */
static mpk_err_t make_decimal_int(mpk_decoder_t *d, const uint8_t *s, size_t n, mpk_obj_t *out)
{
#if MPK_WITH_TEXT_NUMBERS
    size_t digits = 0, i, bn;
    for (i = 0; i < n; i++) digits += s[i] >= '0' && s[i] <= '9';
    if (digits > MPK_MAX_INT_DIGITS)
        return FAIL(d, MPK_ERR_LIMIT, "integer text longer than MPK_MAX_INT_DIGITS");
    /* sized by the digits, not the text: '_' and spaces do not make the int longer */
    TRY(text_room(d, digits / 2 + 2));
    if (mpk_decimal_to_bigint((const char *)s, n, d->text, d->text_cap, &bn) != 0)
        return FAIL(d, MPK_ERR_MALFORMED, "invalid literal for int");
    {
        int64_t v;
        if (mpk_le_to_int(d->text, bn, &v)) HOST(d, d->host->make_int(d->host_ctx, v, out));
        else HOST(d, d->host->make_bigint(d->host_ctx, d->text, bn, out));
    }
    return MPK_OK;
#else
    (void)s; (void)n; (void)out;
    return FAIL(d, MPK_ERR_UNSUPPORTED, "text integers are not in this build");
#endif
}

/* Strips optional ASCII whitespace around text as int() and float() do. */
static void strip_ws(const uint8_t **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) { (*s)++; (*n)--; }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r')) (*n)--;
}

static mpk_err_t op_int_text(mpk_decoder_t *d, const uint8_t *s, size_t n)
{
    mpk_obj_t o;
    /* Python 2 wrote True/False as I01/I00 */
    if (n == 2 && s[0] == '0' && (s[1] == '0' || s[1] == '1')) {
        HOST(d, d->host->make_bool(d->host_ctx, s[1] == '1', &o));
        return push(d, o);
    }
    strip_ws(&s, &n);
    TRY(make_decimal_int(d, s, n, &o));
    return push(d, o);
}

static mpk_err_t op_long_text(mpk_decoder_t *d, const uint8_t *s, size_t n)
{
    mpk_obj_t o;
    strip_ws(&s, &n);
    if (n && s[n - 1] == 'L') n--;
    TRY(make_decimal_int(d, s, n, &o));
    return push(d, o);
}

static mpk_err_t op_float_text(mpk_decoder_t *d, const uint8_t *s, size_t n)
{
#if MPK_WITH_TEXT_NUMBERS
    double v;
    mpk_obj_t o;
    if (mpk_float_parse((const char *)s, n, &v) != 0)
        return FAIL(d, MPK_ERR_MALFORMED, "could not convert string to float");
    HOST(d, d->host->make_float(d->host_ctx, v, &o));
    return push(d, o);
#else
    (void)s; (void)n;
    return FAIL(d, MPK_ERR_UNSUPPORTED, "text floats are not in this build");
#endif
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Protocol 0 UNICODE: raw-unicode-escape. Bytes are Latin-1 code points; a
 * backslash that ends an odd run of backslashes and is followed by u or U starts a
 * \uXXXX or \UXXXXXXXX escape. Output: UTF-8 (surrogates kept) in d->text. */
static mpk_err_t decode_raw_unicode(mpk_decoder_t *d, const uint8_t *s, size_t n, size_t *outn)
{
    size_t i = 0, o = 0;
    TRY(text_room(d, 2 * n + 4));
    while (i < n) {
        size_t run = 0, k, digits;
        uint32_t cp = 0;
        if (s[i] != '\\') { o += mpk_utf8_put(d->text + o, s[i++]); continue; }
        while (i < n && s[i] == '\\') { d->text[o++] = '\\'; i++; run++; }
        if (!(run & 1) || i >= n || (s[i] != 'u' && s[i] != 'U')) continue;
        o--;    /* the last backslash belongs to the escape */
        digits = s[i] == 'u' ? 4 : 8;
        i++;
        if (n - i < digits) return FAIL(d, MPK_ERR_ENCODING, "truncated \\uXXXX escape");
        for (k = 0; k < digits; k++) {
            int h = hexval(s[i + k]);
            if (h < 0) return FAIL(d, MPK_ERR_ENCODING, "truncated \\uXXXX escape");
            cp = cp * 16 + (uint32_t)h;
            if (cp > 0x10FFFF) return FAIL(d, MPK_ERR_ENCODING, "\\Uxxxxxxxx out of range");
        }
        i += digits;
        o += mpk_utf8_put(d->text + o, cp);
    }
    *outn = o;
    return MPK_OK;
}

/* Protocol 0 STRING: a quoted Python 2 repr. Escapes as bytes literals; writes the
 * raw bytes to d->text. */
static mpk_err_t decode_py2_repr(mpk_decoder_t *d, const uint8_t *s, size_t n, size_t *outn)
{
    size_t i, o = 0;
    if (n < 2 || (s[0] != '\'' && s[0] != '"') || s[n - 1] != s[0])
        return FAIL(d, MPK_ERR_MALFORMED, "the STRING opcode argument must be quoted");
    s++; n -= 2;
    TRY(text_room(d, n + 1));
    for (i = 0; i < n;) {
        uint8_t c = s[i++];
        if (c != '\\') { d->text[o++] = c; continue; }
        if (i >= n) return FAIL(d, MPK_ERR_ENCODING, "trailing \\ in string");
        c = s[i++];
        switch (c) {
        case '\n': break;
        case '\\': case '\'': case '"': d->text[o++] = c; break;
        case 'a': d->text[o++] = 7; break;
        case 'b': d->text[o++] = 8; break;
        case 'f': d->text[o++] = 12; break;
        case 'n': d->text[o++] = 10; break;
        case 'r': d->text[o++] = 13; break;
        case 't': d->text[o++] = 9; break;
        case 'v': d->text[o++] = 11; break;
        case 'x': {
            int h1 = i < n ? hexval(s[i]) : -1, h2 = i + 1 < n ? hexval(s[i + 1]) : -1;
            if (h1 < 0 || h2 < 0) return FAIL(d, MPK_ERR_ENCODING, "invalid \\x escape");
            d->text[o++] = (uint8_t)(h1 * 16 + h2);
            i += 2;
            break;
        }
        default:
            if (c >= '0' && c <= '7') {
                unsigned v = (unsigned)(c - '0'), k;
                for (k = 0; k < 2 && i < n && s[i] >= '0' && s[i] <= '7'; k++) v = v * 8 + (unsigned)(s[i++] - '0');
                d->text[o++] = (uint8_t)v;
            } else {
                /* unknown escapes stay as written */
                d->text[o++] = '\\';
                d->text[o++] = c;
            }
        }
    }
    *outn = o;
    return MPK_OK;
}

/* A py2 str payload, as the `encoding=` option says. */
static mpk_err_t make_py2str(mpk_decoder_t *d, const uint8_t *p, size_t n, int stable, mpk_obj_t *o)
{
    size_t i;
    switch (d->opts.py2str) {
    case MPK_PY2STR_BYTES:
        HOST(d, d->host->make_bytes(d->host_ctx, p, n, stable, o));
        return MPK_OK;
    case MPK_PY2STR_LATIN1:
        HOST(d, d->host->make_str(d->host_ctx, (const char *)p, n, MPK_TEXT_LATIN1, stable, o));
        return MPK_OK;
    default:
        for (i = 0; i < n; i++)
            if (p[i] & 0x80) return FAIL(d, MPK_ERR_ENCODING, "py2 str is not ASCII (use encoding latin1 or bytes)");
        HOST(d, d->host->make_str(d->host_ctx, (const char *)p, n, MPK_TEXT_UTF8, stable, o));
        return MPK_OK;
    }
}

static mpk_err_t make_utf8(mpk_decoder_t *d, const uint8_t *p, size_t n, int stable, mpk_obj_t *o)
{
    if (!mpk_utf8_valid(p, n)) return FAIL(d, MPK_ERR_ENCODING, "invalid UTF-8 in string");
    HOST(d, d->host->make_str(d->host_ctx, (const char *)p, n, MPK_TEXT_UTF8, stable, o));
    return MPK_OK;
}

/* ------------------------------------------------------------ globals */

static mpk_err_t find_global(mpk_decoder_t *d, mpk_name_t *nm)
{
    mpk_obj_t o;
    nm->raw_module = nm->module; nm->raw_module_len = nm->module_len;
    nm->raw_name = nm->name; nm->raw_name_len = nm->name_len;
    if (d->opts.fix_imports && d->proto < 3) {
        mpk_compat_load(nm->raw_module, nm->raw_module_len, nm->raw_name, nm->raw_name_len,
                        &nm->module, &nm->module_len, &nm->name, &nm->name_len);
    }
    if (!d->host->find_global) return FAIL(d, MPK_ERR_UNSUPPORTED, "globals are not supported by this host");
    HOST(d, d->host->find_global(d->host_ctx, nm, &o));
    return push(d, o);
}

/* GLOBAL/INST argument: "module\nname\n" (arg excludes the final newline). */
static mpk_err_t split_name_lines(mpk_decoder_t *d, const uint8_t *arg, size_t n, mpk_name_t *nm)
{
    const uint8_t *nl = memchr(arg, '\n', n);
    memset(nm, 0, sizeof *nm);
    if (!nl) return FAIL(d, MPK_ERR_MALFORMED, "GLOBAL needs two lines");
    nm->module = (const char *)arg;
    nm->module_len = (size_t)(nl - arg);
    nm->name = (const char *)nl + 1;
    nm->name_len = n - nm->module_len - 1;
    if (!mpk_utf8_valid((const uint8_t *)nm->module, nm->module_len) ||
        !mpk_utf8_valid((const uint8_t *)nm->name, nm->name_len))
        return FAIL(d, MPK_ERR_ENCODING, "invalid UTF-8 in global name");
    return MPK_OK;
}

static mpk_err_t op_stack_global(mpk_decoder_t *d)
{
    mpk_obj_t *two;
    mpk_name_t nm;
    memset(&nm, 0, sizeof nm);
    TRY(pop_n(d, 2, &two));
    nm.module_obj = two[0];
    nm.name_obj = two[1];
    if (!d->host->get_str ||
        d->host->get_str(d->host_ctx, two[0], &nm.module, &nm.module_len) != MPK_OK ||
        d->host->get_str(d->host_ctx, two[1], &nm.name, &nm.name_len) != MPK_OK)
        return FAIL(d, MPK_ERR_STACK, "STACK_GLOBAL requires str");
    return find_global(d, &nm);
}

/* ------------------------------------------------------------ instructions */

static mpk_err_t need_host(mpk_decoder_t *d, const void *fn)
{
    return fn ? MPK_OK : FAIL(d, MPK_ERR_UNSUPPORTED, "this host does not support the opcode");
}

static mpk_err_t op_call(mpk_decoder_t *d, mpk_call_t kind, mpk_obj_t callable, mpk_obj_t args, mpk_obj_t kw)
{
    mpk_obj_t o;
    TRY(need_host(d, (const void *)d->host->call));
    HOST(d, d->host->call(d->host_ctx, kind, callable, args, kw, &o));
    return push(d, o);
}

static mpk_err_t op_marked(mpk_decoder_t *d, int op)
{
    mpk_obj_t *items, target, o;
    size_t n;
    TRY(pop_mark(d, &items, &n));
    switch (op) {
    case OP_TUPLE:
        HOST(d, d->host->make_tuple(d->host_ctx, items, n, &o));
        return push(d, o);
    case OP_LIST:
        HOST(d, d->host->make_list(d->host_ctx, &o));
        if (n) HOST(d, d->host->list_extend(d->host_ctx, o, items, n));
        return push(d, o);
    case OP_DICT:
        if (n & 1) return FAIL(d, MPK_ERR_STACK, "odd number of items for DICT");
        HOST(d, d->host->make_dict(d->host_ctx, &o));
        if (n) HOST(d, d->host->dict_setitems(d->host_ctx, o, items, n / 2));
        return push(d, o);
    case OP_FROZENSET:
        TRY(need_host(d, (const void *)d->host->make_frozenset));
        HOST(d, d->host->make_frozenset(d->host_ctx, items, n, &o));
        return push(d, o);
    case OP_POP_MARK:
        return MPK_OK;
    case OP_OBJ: {
        mpk_obj_t args;
        if (n < 1) return FAIL(d, MPK_ERR_STACK, "OBJ needs a class after MARK");
        HOST(d, d->host->make_tuple(d->host_ctx, items + 1, n - 1, &args));
        return op_call(d, MPK_CALL_OBJ, items[0], args, NULL);
    }
    default: break;
    }
    /* APPENDS, SETITEMS, ADDITEMS: the target sits just below the mark */
    if (d->sp == 0) return FAIL(d, MPK_ERR_STACK, "unpickling stack underflow");
    target = d->stack[d->sp - 1];
    if (op == OP_APPENDS) {
        if (n) HOST(d, d->host->list_extend(d->host_ctx, target, items, n));
    } else if (op == OP_SETITEMS) {
        if (n & 1) return FAIL(d, MPK_ERR_STACK, "odd number of items for SETITEMS");
        if (n) HOST(d, d->host->dict_setitems(d->host_ctx, target, items, n / 2));
    } else {
        TRY(need_host(d, (const void *)d->host->set_add));
        if (n) HOST(d, d->host->set_add(d->host_ctx, target, items, n));
    }
    return MPK_OK;
}

static mpk_err_t op_inst(mpk_decoder_t *d, const uint8_t *arg, size_t n)
{
    mpk_name_t nm;
    mpk_obj_t cls, *items, args;
    size_t k;
    /* the class is resolved first, then the marked arguments become a tuple */
    TRY(split_name_lines(d, arg, n, &nm));
    if (!d->nmarks) return FAIL(d, MPK_ERR_MARK, "could not find MARK");
    TRY(find_global(d, &nm));
    cls = d->stack[--d->sp];
    TRY(pop_mark(d, &items, &k));
    HOST(d, d->host->make_tuple(d->host_ctx, items, k, &args));
    return op_call(d, MPK_CALL_INST, cls, args, NULL);
}

static mpk_err_t op_simple(mpk_decoder_t *d, int op)
{
    mpk_obj_t o, *v;
    const mpk_host_t *h = d->host;
    void *c = d->host_ctx;
    switch (op) {
    case OP_NONE: HOST(d, h->make_none(c, &o)); return push(d, o);
    case OP_NEWTRUE: HOST(d, h->make_bool(c, 1, &o)); return push(d, o);
    case OP_NEWFALSE: HOST(d, h->make_bool(c, 0, &o)); return push(d, o);
    case OP_EMPTY_LIST: HOST(d, h->make_list(c, &o)); return push(d, o);
    case OP_EMPTY_DICT: HOST(d, h->make_dict(c, &o)); return push(d, o);
    case OP_EMPTY_TUPLE: HOST(d, h->make_tuple(c, NULL, 0, &o)); return push(d, o);
    case OP_EMPTY_SET:
        TRY(need_host(d, (const void *)h->make_set));
        HOST(d, h->make_set(c, &o));
        return push(d, o);
    case OP_TUPLE1: case OP_TUPLE2: case OP_TUPLE3: {
        size_t n = (size_t)(op - OP_TUPLE1 + 1);
        TRY(pop_n(d, n, &v));
        HOST(d, h->make_tuple(c, v, n, &o));
        return push(d, o);
    }
    case OP_MARK: return push_mark(d);
    case OP_POP:
        /* at the fence, POP removes the mark itself (as CPython does) */
        if (d->nmarks && d->marks[d->nmarks - 1] == d->sp) { d->nmarks--; return MPK_OK; }
        return pop_n(d, 1, &v);
    case OP_DUP: TRY(top(d, &o)); return push(d, o);
    case OP_APPEND:
        TRY(pop_n(d, 1, &v));
        TRY(top(d, &o));
        HOST(d, h->list_extend(c, o, v, 1));
        return MPK_OK;
    case OP_SETITEM:
        TRY(pop_n(d, 2, &v));
        TRY(top(d, &o));
        HOST(d, h->dict_setitems(c, o, v, 1));
        return MPK_OK;
    case OP_MEMOIZE: return memo_put(d, d->memo_count);
    case OP_STACK_GLOBAL: return op_stack_global(d);
    case OP_REDUCE:
        TRY(pop_n(d, 2, &v));
        return op_call(d, MPK_CALL_REDUCE, v[0], v[1], NULL);
    case OP_NEWOBJ:
        TRY(pop_n(d, 2, &v));
        return op_call(d, MPK_CALL_NEWOBJ, v[0], v[1], NULL);
    case OP_NEWOBJ_EX:
        TRY(pop_n(d, 3, &v));
        return op_call(d, MPK_CALL_NEWOBJ_EX, v[0], v[1], v[2]);
    case OP_BUILD:
        TRY(pop_n(d, 1, &v));
        TRY(top(d, &o));
        TRY(need_host(d, (const void *)h->build));
        HOST(d, h->build(c, o, v[0], &d->stack[d->sp - 1]));
        return MPK_OK;
    case OP_BINPERSID:
        TRY(pop_n(d, 1, &v));
        TRY(need_host(d, (const void *)h->persistent_load));
        HOST(d, h->persistent_load(c, v[0], &o));
        return push(d, o);
    case OP_NEXT_BUFFER:
        TRY(need_host(d, (const void *)h->next_buffer));
        HOST(d, h->next_buffer(c, &o));
        return push(d, o);
    case OP_READONLY_BUFFER:
        TRY(pop_n(d, 1, &v));
        TRY(need_host(d, (const void *)h->readonly_buffer));
        HOST(d, h->readonly_buffer(c, v[0], &o));
        return push(d, o);
    case OP_STOP:
        if (d->nmarks) return FAIL(d, MPK_ERR_STOP, "STOP inside a MARK");
        if (d->sp != 1) return FAIL(d, MPK_ERR_STOP, d->sp ? "STOP with more than one value on the stack"
                                                          : "STOP with an empty stack");
        d->result = d->stack[0];
        d->sp = 0;
        d->done = 1;
        return MPK_OK;
    default:
        return op_marked(d, op);
    }
}

static mpk_err_t op_ext(mpk_decoder_t *d, int64_t code)
{
    mpk_obj_t o;
    if (code <= 0) return FAIL(d, MPK_ERR_MALFORMED, "EXT specifies code <= 0");
    TRY(need_host(d, (const void *)d->host->extension));
    HOST(d, d->host->extension(d->host_ctx, (uint32_t)code, &o));
    return push(d, o);
}

static mpk_err_t op_bigint(mpk_decoder_t *d, const uint8_t *p, size_t n)
{
    int64_t v;
    mpk_obj_t o;
    if (mpk_le_to_int(p, n, &v)) HOST(d, d->host->make_int(d->host_ctx, v, &o));
    else HOST(d, d->host->make_bigint(d->host_ctx, p, n, &o));
    return push(d, o);
}

/* Fixed-size argument opcodes. */
static mpk_err_t op_fixed(mpk_decoder_t *d, int op, const uint8_t *a)
{
    mpk_obj_t o;
    switch (op) {
    case OP_BININT1: HOST(d, d->host->make_int(d->host_ctx, a[0], &o)); return push(d, o);
    case OP_BININT2: HOST(d, d->host->make_int(d->host_ctx, mpk_rd16(a), &o)); return push(d, o);
    case OP_BININT: {
        uint32_t u = mpk_rd32(a);
        int64_t v = (u & 0x80000000u) ? (int64_t)u - ((int64_t)1 << 32) : (int64_t)u;
        HOST(d, d->host->make_int(d->host_ctx, v, &o));
        return push(d, o);
    }
    case OP_BINFLOAT: HOST(d, d->host->make_float(d->host_ctx, mpk_rd_double_be(a), &o)); return push(d, o);
    case OP_BINGET: return memo_get(d, a[0]);
    case OP_LONG_BINGET: return memo_get(d, mpk_rd32(a));
    case OP_BINPUT: return memo_put(d, a[0]);
    case OP_LONG_BINPUT: return memo_put(d, mpk_rd32(a));
    case OP_EXT1: return op_ext(d, a[0]);
    case OP_EXT2: return op_ext(d, mpk_rd16(a));
    case OP_EXT4: {
        uint32_t u = mpk_rd32(a);
        return op_ext(d, (u & 0x80000000u) ? -1 : (int64_t)u);
    }
    case OP_PROTO:
        if (a[0] > MPK_HIGHEST_PROTOCOL) return FAIL(d, MPK_ERR_PROTOCOL, "unsupported pickle protocol");
        d->proto = a[0];
        return MPK_OK;
    case OP_FRAME:
        /* frames only help a reader prefetch; a streaming VM needs nothing from them */
        return MPK_OK;
    default:
        return FAIL(d, MPK_ERR_BAD_OPCODE, "invalid load key");
    }
}

/* Length-prefixed payload opcodes. */
static mpk_err_t op_payload(mpk_decoder_t *d, int op, const uint8_t *p, size_t n, int stable)
{
    mpk_obj_t o;
    switch (op) {
    case OP_SHORT_BINUNICODE: case OP_BINUNICODE: case OP_BINUNICODE8:
        TRY(make_utf8(d, p, n, stable, &o));
        return push(d, o);
    case OP_SHORT_BINBYTES: case OP_BINBYTES: case OP_BINBYTES8:
        HOST(d, d->host->make_bytes(d->host_ctx, p, n, stable, &o));
        return push(d, o);
    case OP_BYTEARRAY8:
        TRY(need_host(d, (const void *)d->host->make_bytearray));
        HOST(d, d->host->make_bytearray(d->host_ctx, p, n, &o));
        return push(d, o);
    case OP_SHORT_BINSTRING: case OP_BINSTRING:
        TRY(make_py2str(d, p, n, stable, &o));
        return push(d, o);
    case OP_LONG1: case OP_LONG4:
        return op_bigint(d, p, n);
    default:
        return FAIL(d, MPK_ERR_BAD_OPCODE, "invalid load key");
    }
}

/* Text-line opcodes; s excludes the final newline. */
static mpk_err_t op_line(mpk_decoder_t *d, int op, const uint8_t *s, size_t n)
{
    mpk_obj_t o;
    size_t m = 0;
    uint64_t key;
    switch (op) {
    case OP_INT: return op_int_text(d, s, n);
    case OP_LONG: return op_long_text(d, s, n);
    case OP_FLOAT: return op_float_text(d, s, n);
    case OP_STRING:
        TRY(decode_py2_repr(d, s, n, &m));
        TRY(make_py2str(d, d->text, m, 0, &o));
        return push(d, o);
    case OP_UNICODE:
        TRY(decode_raw_unicode(d, s, n, &m));
        HOST(d, d->host->make_str(d->host_ctx, (const char *)d->text, m, MPK_TEXT_UTF8, 0, &o));
        return push(d, o);
    case OP_PUT: case OP_GET:
        if (!parse_udec(s, n, &key)) return FAIL(d, MPK_ERR_MALFORMED, "invalid memo key");
        return op == OP_PUT ? memo_put(d, key) : memo_get(d, key);
    case OP_PERSID: {
        size_t i;
        for (i = 0; i < n; i++)
            if (s[i] & 0x80) return FAIL(d, MPK_ERR_ENCODING, "persistent IDs in protocol 0 must be ASCII strings");
        TRY(need_host(d, (const void *)d->host->persistent_load));
        HOST(d, d->host->make_str(d->host_ctx, (const char *)s, n, MPK_TEXT_UTF8, 0, &o));
        HOST(d, d->host->persistent_load(d->host_ctx, o, &o));
        return push(d, o);
    }
    case OP_GLOBAL: {
        mpk_name_t nm;
        TRY(split_name_lines(d, s, n, &nm));
        return find_global(d, &nm);
    }
    case OP_INST: return op_inst(d, s, n);
    default: return FAIL(d, MPK_ERR_BAD_OPCODE, "invalid load key");
    }
}

/* ------------------------------------------------------------ instruction framing */

/* How long the instruction at p (avail bytes) is. Returns 1 with *len when it is
 * complete; 0 when more bytes are needed, with *len the total if already known
 * (else 0); -1 on error. For text lines, bytes before `scan_from` were searched
 * already and held `lines_seen` newlines. */
static int instr_length(mpk_decoder_t *d, const uint8_t *p, size_t avail, size_t scan_from,
                        int lines_seen, size_t *len)
{
    const mpk_opinfo_t *oi = &mpk_opinfo[p[0]];
    uint64_t plen;
    size_t hdr;
    *len = 0;
    d->op = p[0];
    d->op_offset = d->offset;
    if (!oi->name) { FAIL(d, MPK_ERR_BAD_OPCODE, "invalid load key"); return -1; }
    switch (oi->arg) {
    case ARG_NONE: *len = 1; return 1;
    case ARG_U1: *len = 2; return avail >= 2;
    case ARG_U2: *len = 3; return avail >= 3;
    case ARG_I4: case ARG_U4: *len = 5; return avail >= 5;
    case ARG_U8: case ARG_F8: *len = 9; return avail >= 9;
    case ARG_LEN1: case ARG_LEN4: case ARG_LEN8:
        hdr = oi->arg == ARG_LEN1 ? 1 : oi->arg == ARG_LEN4 ? 4 : 8;
        if (avail < 1 + hdr) return 0;
        plen = hdr == 1 ? p[1] : hdr == 4 ? mpk_rd32(p + 1) : mpk_rd64(p + 1);
        if (hdr == 4 && (p[0] == OP_BINSTRING || p[0] == OP_LONG4) && (plen & 0x80000000u)) {
            FAIL(d, MPK_ERR_MALFORMED, "negative byte count");
            return -1;
        }
        if (plen > d->opts.limits.max_str || plen > SIZE_MAX - 16) {
            FAIL(d, MPK_ERR_LIMIT, "payload longer than the limit (max_str)");
            return -1;
        }
        *len = 1 + hdr + (size_t)plen;
        return avail >= *len;
    default: {  /* ARG_LINE, ARG_LINE2 */
        int lines = (oi->arg == ARG_LINE2 ? 2 : 1) - lines_seen;
        size_t i = scan_from > 1 ? scan_from : 1;
        for (; i < avail; i++) {
            if (p[i] == '\n' && --lines == 0) {
                /* the same bound whether the line came whole or in pieces: the
                 * i - 1 bytes between the opcode and its last newline */
                if (i - 1 > d->opts.limits.max_str) break;
                *len = i + 1;
                return 1;
            }
        }
        if (avail - 1 > d->opts.limits.max_str) {
            FAIL(d, MPK_ERR_LIMIT, "text line longer than the limit (max_str)");
            return -1;
        }
        return 0;
    }
    }
}

/* Runs one complete instruction. */
static mpk_err_t execute(mpk_decoder_t *d, const uint8_t *p, size_t len, int stable)
{
    const mpk_opinfo_t *oi = &mpk_opinfo[p[0]];
    mpk_err_t e;
    d->op = p[0];
    d->op_offset = d->offset;
    if (oi->proto > d->max_op_proto) d->max_op_proto = oi->proto;
    switch (oi->arg) {
    case ARG_NONE: e = op_simple(d, p[0]); break;
    case ARG_U1: case ARG_U2: case ARG_I4: case ARG_U4: case ARG_U8: case ARG_F8:
        e = op_fixed(d, p[0], p + 1);
        break;
    case ARG_LEN1: e = op_payload(d, p[0], p + 2, len - 2, stable); break;
    case ARG_LEN4: e = op_payload(d, p[0], p + 5, len - 5, stable); break;
    case ARG_LEN8: e = op_payload(d, p[0], p + 9, len - 9, stable); break;
    default: e = op_line(d, p[0], p + 1, len - 2); break;
    }
    if (e == MPK_OK) {
        d->offset += len;
        d->op = -1;
    }
    return e;
}

/* Adds bytes to the split instruction in the scratch buffer; runs it once it is
 * whole. Returns the bytes consumed from p (0 after an error). */
static size_t gather(mpk_decoder_t *d, const uint8_t *p, size_t n)
{
    const mpk_opinfo_t *oi = &mpk_opinfo[d->scratch[0]];
    int is_line = oi->arg == ARG_LINE || oi->arg == ARG_LINE2;
    size_t len = 0, take, had = d->scratch_len;
    int r;
    if (d->need) {
        take = d->need - d->scratch_len;
    } else if (is_line) {
        const uint8_t *nl = memchr(p, '\n', n);
        take = nl ? (size_t)(nl - p) + 1 : n;
    } else {
        take = 9 - d->scratch_len;  /* enough for the longest header (opcode + 8) */
    }
    if (take > n) take = n;
    if (d->scratch_len + take > d->scratch_cap &&
        grow(d, (void **)&d->scratch, &d->scratch_cap, d->scratch_len + take, 1, 64) != MPK_OK)
        return 0;
    memcpy(d->scratch + d->scratch_len, p, take);
    d->scratch_len += take;
    r = instr_length(d, d->scratch, d->scratch_len, d->scanned, d->lines_seen, &len);
    if (r < 0) return 0;
    if (r == 0) {
        d->need = len;
        if (is_line) {
            d->lines_seen += d->scratch_len > 1 && d->scratch[d->scratch_len - 1] == '\n';
            d->scanned = d->scratch_len;
        }
        return take;
    }
    /* a header's worth may overshoot a short instruction: give the rest back */
    take = len - had;
    d->partial = 0;
    d->need = 0;
    d->scanned = 0;
    d->lines_seen = 0;
    d->scratch_len = 0;
    if (execute(d, d->scratch, len, 0) != MPK_OK) return 0;
    return take;
}

/* ------------------------------------------------------------ fast path */

/* The opcodes binary pickles are mostly made of, run straight from the input
 * while whole instructions are there: one dispatch on the opcode byte, instead
 * of the general path's length pass, argument-kind switch and per-opcode switch.
 * Returns the bytes consumed. It stops before anything else (a split or rarer
 * instruction, a payload over a limit, text to reject), which the general path
 * then runs or reports; an error it sets itself sticks as usual. */
static size_t run_fast(mpk_decoder_t *d, const uint8_t *p, size_t n, int stable)
{
    const mpk_host_t *h = d->host;
    void *c = d->host_ctx;
    size_t pos = 0;
    /* the highest opcode protocol only matters without a PROTO opcode (0 or 1) */
    const int track_proto = !d->proto;
    while (pos < n) {
        const uint8_t *q = p + pos;
        size_t left = n - pos, len;
        uint8_t op = q[0];
        mpk_err_t e;
        mpk_obj_t o;
        d->op = op;
        d->op_offset = d->offset;
        switch (op) {
        case OP_BININT1:
            if (left < 2) return pos;
            len = 2;
            e = h->make_int(c, q[1], &o);
            break;
        case OP_BININT2:
            if (left < 3) return pos;
            len = 3;
            e = h->make_int(c, mpk_rd16(q + 1), &o);
            break;
        case OP_BININT: {
            uint32_t u;
            if (left < 5) return pos;
            u = mpk_rd32(q + 1);
            len = 5;
            e = h->make_int(c, (u & 0x80000000u) ? (int64_t)u - ((int64_t)1 << 32) : (int64_t)u, &o);
            break;
        }
        case OP_BINFLOAT:
            if (left < 9) return pos;
            len = 9;
            e = h->make_float(c, mpk_rd_double_be(q + 1), &o);
            break;
        case OP_SHORT_BINUNICODE:
            if (left < 2 || left - 2 < q[1] || q[1] > d->opts.limits.max_str || !mpk_utf8_valid(q + 2, q[1]))
                return pos;
            len = 2 + (size_t)q[1];
            e = h->make_str(c, (const char *)q + 2, q[1], MPK_TEXT_UTF8, stable, &o);
            break;
        case OP_SHORT_BINBYTES:
            if (left < 2 || left - 2 < q[1] || q[1] > d->opts.limits.max_str) return pos;
            len = 2 + (size_t)q[1];
            e = h->make_bytes(c, q + 2, q[1], stable, &o);
            break;
        case OP_LONG1:
            if (left < 2 || left - 2 < q[1] || q[1] > d->opts.limits.max_str) return pos;
            len = 2 + (size_t)q[1];
            if (q[1] == 8) {
                /* an int64 beyond 32 bits, the common LONG1: two's complement as is */
                uint64_t u = mpk_rd64(q + 2);
                int64_t v;
                memcpy(&v, &u, sizeof v);
                e = h->make_int(c, v, &o);
                break;
            }
            if (op_bigint(d, q + 2, q[1]) != MPK_OK) return pos;
            goto next;
        case OP_NONE: len = 1; e = h->make_none(c, &o); break;
        case OP_NEWTRUE: case OP_NEWFALSE: len = 1; e = h->make_bool(c, op == OP_NEWTRUE, &o); break;
        case OP_EMPTY_LIST: len = 1; e = h->make_list(c, &o); break;
        case OP_EMPTY_DICT: len = 1; e = h->make_dict(c, &o); break;
        case OP_MEMOIZE:
            len = 1;
            if (memo_put(d, d->memo_count) != MPK_OK) return pos;
            goto next;
        case OP_BINPUT: case OP_BINGET:
            if (left < 2) return pos;
            len = 2;
            if ((op == OP_BINPUT ? memo_put(d, q[1]) : memo_get(d, q[1])) != MPK_OK) return pos;
            goto next;
        case OP_FRAME:
            if (left < 9) return pos;
            len = 9;
            goto next;
        case OP_MARK: case OP_APPEND: case OP_APPENDS: case OP_SETITEM: case OP_SETITEMS:
        case OP_TUPLE1: case OP_TUPLE2: case OP_TUPLE3: case OP_EMPTY_TUPLE: case OP_TUPLE:
            len = 1;
            if (op_simple(d, op) != MPK_OK) return pos;
            goto next;
        default:
            return pos;
        }
        if (MPK_UNLIKELY(e != MPK_OK)) { host_failed(d, e); return pos; }
        if (push(d, o) != MPK_OK) return pos;
    next:
        if (track_proto && mpk_opinfo[op].proto > d->max_op_proto) d->max_op_proto = mpk_opinfo[op].proto;
        d->offset += len;
        d->op = -1;
        pos += len;
    }
    return pos;
}

mpk_status_t mpk_decoder_feed(mpk_decoder_t *d, const void *data, size_t n, int stable, size_t *used)
{
    const uint8_t *p = (const uint8_t *)data;
    uint64_t room = d->opts.limits.max_input - (d->offset + d->scratch_len);
    size_t pos = 0;
    if (used) *used = 0;
    if (d->err.code) return MPK_FAILED;
    if (d->done) return MPK_DONE;
    if (n > room) n = (size_t)room;
    while (pos < n && !d->done) {
        if (d->partial) {
            pos += gather(d, p + pos, n - pos);
        } else {
            size_t len;
            int r;
            pos += run_fast(d, p + pos, n - pos, stable);
            if (d->err.code || pos >= n) break;
            r = instr_length(d, p + pos, n - pos, 0, 0, &len);
            if (r > 0) {
                if (execute(d, p + pos, len, stable) == MPK_OK) pos += len;
            } else if (r == 0) {
                /* split instruction: start gathering with the opcode byte */
                if (grow(d, (void **)&d->scratch, &d->scratch_cap, 1, 1, 64) != MPK_OK) break;
                d->partial = 1;
                d->need = 0;
                d->scanned = 0;
                d->lines_seen = 0;
                d->scratch[0] = p[pos];
                d->scratch_len = 1;
                pos++;
            }
        }
        if (d->err.code) break;
    }
    if (!d->err.code && !d->done && pos == n && room <= pos) {
        d->op = -1;
        FAIL(d, MPK_ERR_LIMIT, "input longer than the limit (max_input)");
    }
    if (used) *used = pos;
    if (d->err.code) return MPK_FAILED;
    return d->done ? MPK_DONE : MPK_NEED_MORE;
}

mpk_status_t mpk_decoder_finish(mpk_decoder_t *d)
{
    if (d->err.code) return MPK_FAILED;
    if (d->done) return MPK_DONE;
    d->op = d->partial ? d->scratch[0] : -1;
    d->op_offset = d->offset;
    FAIL(d, MPK_ERR_TRUNCATED, d->partial ? "pickle data was truncated inside an instruction"
                                          : "pickle data was truncated (no STOP)");
    return MPK_FAILED;
}

#endif /* MPK_WITH_DECODER */
