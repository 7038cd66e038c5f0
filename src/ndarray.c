/*
 * numpy arrays over the value model (reading) and the opcode writer (writing).
 *
 * What numpy pickles, for an array of a plain numeric dtype:
 *   protocols 0-4, and 5 for a non-contiguous array:
 *     numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')
 *     BUILD (1, shape, dtype, is_fortran, raw bytes)
 *   protocol 5, contiguous: numpy.core.numeric._frombuffer(buffer, dtype, shape, 'C'|'F')
 *     with the buffer in-band (bytearray; bytes when read-only) or out-of-band.
 *   dtype: numpy.dtype('f8', False, True) BUILD (3, '<', None, None, None, -1, -1, 0)
 * numpy 2.x spells the modules numpy._core.*. Data is never non-contiguous in a
 * pickle: numpy copies it into C order (or F order when the array is Fortran).
 */
#include <string.h>

#include "mpickle_ndarray.h"

/* ------------------------------------------------------------ small helpers */

static const char *const nd_err_text[MPK_ND_ERR__COUNT] = {
    "ok",
    "not a numpy array",
    "unsupported dtype (only bool, int, uint, float16/32/64, complex64/128)",
    "malformed numpy array (a part has the wrong type or value)",
    "array data length does not match shape and itemsize",
    "too many dimensions (MPK_ND_MAXDIM)",
    "array data is an out-of-band buffer that was not supplied"
};

const char *mpk_nd_err_str(mpk_nd_err_t err)
{
    return (unsigned)err < MPK_ND_ERR__COUNT ? nd_err_text[err] : "unknown error";
}

/* '<' on a little-endian machine, '>' on a big-endian one. */
static char host_order(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b ? '<' : '>';
}

/* The bytes of a str or bytes value (py2 pickles may give either for text). */
static const uint8_t *text_of(const mpk_value_t *v, size_t *n)
{
    if (!v || (v->type != MPK_STR && v->type != MPK_BYTES)) return NULL;
    *n = v->u.s.n;
    return v->u.s.p;
}

static int text_is(const mpk_value_t *v, const char *s)
{
    size_t n, sn = strlen(s);
    const uint8_t *p = text_of(v, &n);
    return p && n == sn && !memcmp(p, s, n);
}

/* A GLOBAL named module.name, for one of a NULL-terminated list of modules.
 * Lengths come from the nodes: names decoded in place are not NUL-terminated. */
static int global_is(const mpk_value_t *g, const char *const *modules, const char *name)
{
    if (!g || g->type != MPK_GLOBAL || g->call || !text_is(g->u.g.name, name)) return 0;
    for (; *modules; modules++)
        if (text_is(g->u.g.module, *modules)) return 1;
    return 0;
}

static const char *const multiarray_mods[] = {
    "numpy.core.multiarray", "numpy._core.multiarray",
    "numpy.core._multiarray_umath", "numpy._core._multiarray_umath", NULL
};
static const char *const numeric_mods[] = { "numpy.core.numeric", "numpy._core.numeric", NULL };
static const char *const dtype_mods[] = { "numpy", "numpy.core.multiarray", "numpy._core.multiarray", NULL };

/* A REDUCE call node, with its argument tuple of exactly nargs items (0: any). */
static const mpk_call_info_t *reduce_of(const mpk_value_t *v, size_t nargs)
{
    const mpk_call_info_t *ci = v ? v->call : NULL;
    if (!ci || v->type != MPK_OBJECT || ci->kind != MPK_CALL_REDUCE) return NULL;
    if (!ci->args || ci->args->type != MPK_TUPLE) return NULL;
    if (nargs && ci->args->u.seq.n != nargs) return NULL;
    return ci;
}

static const mpk_value_t *tuple_item(const mpk_value_t *t, size_t i)
{
    return t && t->type == MPK_TUPLE && i < t->u.seq.n ? t->u.seq.v[i] : NULL;
}

/* ------------------------------------------------------------ dtypes */

/* Is (kind, itemsize) a dtype this helper handles? */
static int dtype_ok(char kind, unsigned itemsize)
{
    switch (kind) {
    case 'b': return itemsize == 1;
    case 'i': case 'u': return itemsize == 1 || itemsize == 2 || itemsize == 4 || itemsize == 8;
    case 'f': return itemsize == 2 || itemsize == 4 || itemsize == 8;
    case 'c': return itemsize == 8 || itemsize == 16;
    default: return 0;
    }
}

/* "f8", "<i4", "|b1": kind and itemsize, and the order char if there is one
 * (0 if not). Returns 0 unless the text has that form and the dtype is handled. */
static int parse_typestr(const uint8_t *p, size_t n, char *order, char *kind, uint8_t *itemsize)
{
    unsigned size = 0;
    size_t i = 0;
    *order = 0;
    if (n && (p[0] == '<' || p[0] == '>' || p[0] == '|' || p[0] == '=')) *order = (char)p[i++];
    if (i >= n) return 0;
    *kind = (char)p[i++];
    if (i == n || n - i > 2) return 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return 0;
        size = size * 10 + (unsigned)(p[i] - '0');
    }
    if (!dtype_ok(*kind, size)) return 0;
    *itemsize = (uint8_t)size;
    return 1;
}

/* Resolves an order char against the itemsize: '|' for one byte, host for '='. */
static int settle_order(char given, uint8_t itemsize, char *out)
{
    if (itemsize == 1) { *out = '|'; return 1; }
    if (given == 0 || given == '=') { *out = host_order(); return 1; }
    if (given != '<' && given != '>') return 0;
    *out = given;
    return 1;
}

/* numpy.dtype(typestr, align, copy) with its BUILD state. */
static mpk_nd_err_t view_dtype(const mpk_value_t *d, mpk_ndarray_t *out)
{
    const mpk_call_info_t *ci = reduce_of(d, 0);
    const mpk_value_t *st;
    const uint8_t *p;
    size_t n, i;
    char given, endian = 0;
    if (!ci || !global_is(ci->callable, dtype_mods, "dtype")) return MPK_ND_ERR_MALFORMED;
    p = text_of(tuple_item(ci->args, 0), &n);
    if (!p) return MPK_ND_ERR_MALFORMED;
    if (!parse_typestr(p, n, &given, &out->kind, &out->itemsize)) return MPK_ND_ERR_DTYPE;
    st = ci->state;
    if (st) {
        /* (version, endian, subarray, names, fields, elsize, alignment, flags[, metadata]) */
        if (st->type != MPK_TUPLE || st->u.seq.n < 2) return MPK_ND_ERR_MALFORMED;
        p = text_of(st->u.seq.v[1], &n);
        if (!p || n != 1) return MPK_ND_ERR_MALFORMED;
        endian = (char)p[0];
        for (i = 2; i < 5 && i < st->u.seq.n; i++)  /* subarray or fields: structured */
            if (st->u.seq.v[i]->type != MPK_NONE) return MPK_ND_ERR_DTYPE;
    }
    if (endian == '|' && out->itemsize > 1) return MPK_ND_ERR_MALFORMED;
    if (!settle_order(endian ? endian : given, out->itemsize, &out->byteorder)) return MPK_ND_ERR_MALFORMED;
    return MPK_ND_OK;
}

/* ------------------------------------------------------------ shapes */

static int mul_ok(size_t a, size_t b, size_t *out)
{
    if (a && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}

static mpk_nd_err_t view_shape(const mpk_value_t *t, mpk_ndarray_t *out)
{
    size_t i;
    if (!t || t->type != MPK_TUPLE) return MPK_ND_ERR_MALFORMED;
    if (t->u.seq.n > MPK_ND_MAXDIM) return MPK_ND_ERR_NDIM;
    out->ndim = (uint8_t)t->u.seq.n;
    out->size = 1;
    for (i = 0; i < t->u.seq.n; i++) {
        int64_t d;
        const mpk_value_t *item = t->u.seq.v[i];
        if (item->type != MPK_INT && item->type != MPK_BIGINT) return MPK_ND_ERR_MALFORMED;
        if (!mpk_get_int(item, &d) || d < 0) return MPK_ND_ERR_MALFORMED;
        if ((uint64_t)d > SIZE_MAX) return MPK_ND_ERR_SIZE;
        out->shape[i] = (size_t)d;
        if (!mul_ok(out->size, out->shape[i], &out->size)) return MPK_ND_ERR_SIZE;
    }
    return MPK_ND_OK;
}

/* Byte strides of a contiguous layout. */
static void fill_strides(mpk_ndarray_t *a)
{
    size_t i, s = a->itemsize;
    if (a->order == 'F') {
        for (i = 0; i < a->ndim; i++) { a->strides[i] = s; s *= a->shape[i] ? a->shape[i] : 1; }
    } else {
        for (i = a->ndim; i-- > 0;) { a->strides[i] = s; s *= a->shape[i] ? a->shape[i] : 1; }
    }
}

/* The data must hold exactly size elements. */
static mpk_nd_err_t finish_view(mpk_ndarray_t *out)
{
    size_t want;
    if (!mul_ok(out->size, out->itemsize, &want) || want != out->nbytes) return MPK_ND_ERR_SIZE;
    fill_strides(out);
    return MPK_ND_OK;
}

/* ------------------------------------------------------------ reading */

/* Raw data in a reconstruct state: bytes (protocol 3+, or _codecs.encode before,
 * which the value model turns into bytes), or an ASCII-only str (a py2 pickle
 * loaded as text: identical bytes; otherwise decode with MPK_PY2STR_BYTES). */
static mpk_nd_err_t raw_data(const mpk_value_t *v, mpk_ndarray_t *out)
{
    size_t i;
    if (!v) return MPK_ND_ERR_MALFORMED;
    if (v->type == MPK_STR) {
        for (i = 0; i < v->u.s.n; i++)
            if (v->u.s.p[i] & 0x80) return MPK_ND_ERR_MALFORMED;
    } else if (v->type != MPK_BYTES && v->type != MPK_BYTEARRAY) {
        return MPK_ND_ERR_MALFORMED;
    }
    out->data = v->u.s.p;
    out->nbytes = v->u.s.n;
    return MPK_ND_OK;
}

/* _reconstruct(subtype, (0,), b'b') BUILD (version, shape, dtype, is_fortran, data);
 * numpy also reads the 4-item state of old pickles (no version). */
static mpk_nd_err_t view_reconstruct(const mpk_call_info_t *ci, mpk_ndarray_t *out)
{
    const mpk_value_t *st = ci->state;
    mpk_nd_err_t e;
    size_t base;
    if (ci->args->u.seq.n != 3 || ci->args->u.seq.v[0]->type != MPK_GLOBAL) return MPK_ND_ERR_NOT_ARRAY;
    if (!st || st->type != MPK_TUPLE || (st->u.seq.n != 5 && st->u.seq.n != 4)) return MPK_ND_ERR_MALFORMED;
    base = st->u.seq.n - 4;
    if (base && st->u.seq.v[0]->type != MPK_INT) return MPK_ND_ERR_MALFORMED;
    /* the dtype first: an object array's data is a list, which is a dtype matter */
    if ((e = view_dtype(st->u.seq.v[base + 1], out)) != MPK_ND_OK) return e;
    if ((e = view_shape(st->u.seq.v[base], out)) != MPK_ND_OK) return e;
    if (st->u.seq.v[base + 2]->type != MPK_BOOL && st->u.seq.v[base + 2]->type != MPK_INT)
        return MPK_ND_ERR_MALFORMED;
    out->order = st->u.seq.v[base + 2]->u.i ? 'F' : 'C';
    if ((e = raw_data(st->u.seq.v[base + 3], out)) != MPK_ND_OK) return e;
    out->readonly = 0;
    return finish_view(out);
}

/* The buffer argument of _frombuffer. */
static mpk_nd_err_t buffer_data(const mpk_value_t *b, const mpk_ndbuf_t *bufs, size_t nbufs, mpk_ndarray_t *out)
{
    if (b->type == MPK_BUFFER) {
        if (!bufs || b->u.buf.index >= nbufs) return MPK_ND_ERR_BUFFER;
        out->data = (const uint8_t *)bufs[b->u.buf.index].data;
        out->nbytes = bufs[b->u.buf.index].len;
        out->readonly = b->u.buf.readonly != 0;
        out->out_of_band = 1;
        return MPK_ND_OK;
    }
    if (b->type != MPK_BYTES && b->type != MPK_BYTEARRAY) return MPK_ND_ERR_MALFORMED;
    out->data = b->u.s.p;
    out->nbytes = b->u.s.n;
    out->readonly = b->type == MPK_BYTES;
    return MPK_ND_OK;
}

/* _frombuffer(buffer, dtype, shape, order) */
static mpk_nd_err_t view_frombuffer(const mpk_call_info_t *ci, const mpk_ndbuf_t *bufs, size_t nbufs,
                                    mpk_ndarray_t *out)
{
    const mpk_value_t *const *arg = (const mpk_value_t *const *)ci->args->u.seq.v;
    mpk_nd_err_t e;
    if (ci->args->u.seq.n != 4) return MPK_ND_ERR_MALFORMED;
    if ((e = view_dtype(arg[1], out)) != MPK_ND_OK) return e;
    if ((e = view_shape(arg[2], out)) != MPK_ND_OK) return e;
    if (text_is(arg[3], "C")) out->order = 'C';
    else if (text_is(arg[3], "F")) out->order = 'F';
    else return MPK_ND_ERR_MALFORMED;
    if ((e = buffer_data(arg[0], bufs, nbufs, out)) != MPK_ND_OK) return e;
    return finish_view(out);
}

int mpk_ndarray_is_array(const mpk_value_t *v)
{
    const mpk_call_info_t *ci = reduce_of(v, 0);
    return ci && (global_is(ci->callable, multiarray_mods, "_reconstruct") ||
                  global_is(ci->callable, numeric_mods, "_frombuffer"));
}

mpk_nd_err_t mpk_ndarray_view(const mpk_value_t *v, const mpk_ndbuf_t *bufs, size_t nbufs, mpk_ndarray_t *out)
{
    const mpk_call_info_t *ci = reduce_of(v, 0);
    memset(out, 0, sizeof *out);
    if (!ci) return MPK_ND_ERR_NOT_ARRAY;
    if (global_is(ci->callable, multiarray_mods, "_reconstruct")) return view_reconstruct(ci, out);
    if (global_is(ci->callable, numeric_mods, "_frombuffer")) return view_frombuffer(ci, bufs, nbufs, out);
    return MPK_ND_ERR_NOT_ARRAY;
}

/* ------------------------------------------------------------ elements */

mpk_nd_err_t mpk_ndarray_init(mpk_ndarray_t *a, const char *typestr, const size_t *shape, size_t ndim,
                              char order, const void *data, size_t nbytes)
{
    char given;
    size_t i;
    memset(a, 0, sizeof *a);
    if (!typestr || !parse_typestr((const uint8_t *)typestr, strlen(typestr), &given, &a->kind, &a->itemsize) ||
        !settle_order(given, a->itemsize, &a->byteorder))
        return MPK_ND_ERR_DTYPE;
    if (ndim > MPK_ND_MAXDIM) return MPK_ND_ERR_NDIM;
    if (order != 'C' && order != 'F') return MPK_ND_ERR_MALFORMED;
    a->ndim = (uint8_t)ndim;
    a->order = order;
    a->size = 1;
    for (i = 0; i < ndim; i++) {
        a->shape[i] = shape[i];
        if (!mul_ok(a->size, shape[i], &a->size)) return MPK_ND_ERR_SIZE;
    }
    a->data = (const uint8_t *)data;
    a->nbytes = nbytes;
    return finish_view(a);
}

void mpk_ndarray_typestr(const mpk_ndarray_t *a, char *buf)
{
    size_t n = 0;
    buf[n++] = a->byteorder ? a->byteorder : '|';
    buf[n++] = a->kind ? a->kind : '?';
    if (a->itemsize >= 10) buf[n++] = (char)('0' + a->itemsize / 10);
    buf[n++] = (char)('0' + a->itemsize % 10);
    buf[n] = 0;
}

size_t mpk_ndarray_offset(const mpk_ndarray_t *a, size_t i)
{
    size_t d = a->ndim, off = 0;
    while (d-- > 0) {
        size_t len = a->shape[d] ? a->shape[d] : 1;
        off += (i % len) * a->strides[d];
        i /= len;
    }
    return off;
}

/* Copies one element, reversing the bytes of each scalar part (complex numbers
 * have two) when its order is not this machine's. */
static void load_element(const mpk_ndarray_t *a, const uint8_t *src, uint8_t *dst)
{
    size_t parts = a->kind == 'c' ? 2 : 1, part = a->itemsize / parts, p, k;
    if (a->byteorder == '|' || a->byteorder == host_order()) { memcpy(dst, src, a->itemsize); return; }
    for (p = 0; p < parts; p++)
        for (k = 0; k < part; k++) dst[p * part + k] = src[p * part + part - 1 - k];
}

/* IEEE half to double, exactly, without libm: rebuild the bit pattern. */
static double half_to_double(uint16_t h)
{
    uint64_t sign = (uint64_t)(h >> 15) << 63, exp = (h >> 10) & 31u, man = h & 1023u, bits;
    double d;
    if (exp == 0) {                 /* zero or subnormal: man * 2^-24 */
        d = (double)man / 16777216.0;
        return sign ? -d : d;
    }
    if (exp == 31) bits = sign | ((uint64_t)0x7ff << 52) | (man << 42);
    else bits = sign | ((exp - 15 + 1023) << 52) | (man << 42);
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* One native scalar of the given kind and size as a double. */
static double scalar_to_double(char kind, size_t size, const uint8_t *p)
{
    union { uint8_t b[8]; int8_t i8; uint8_t u8; int16_t i16; uint16_t u16; int32_t i32;
            uint32_t u32; int64_t i64; uint64_t u64; float f; double d; } u;
    memcpy(u.b, p, size);
    switch (kind) {
    case 'b': return u.u8 ? 1.0 : 0.0;
    case 'i': return size == 1 ? u.i8 : size == 2 ? u.i16 : size == 4 ? u.i32 : (double)u.i64;
    case 'u': return size == 1 ? u.u8 : size == 2 ? u.u16 : size == 4 ? u.u32 : (double)u.u64;
    default:  return size == 2 ? half_to_double(u.u16) : size == 4 ? (double)u.f : u.d;
    }
}

int mpk_ndarray_get_f64(const mpk_ndarray_t *a, size_t i, double *re, double *im)
{
    uint8_t e[16];
    if (i >= a->size || !a->data || a->itemsize > sizeof e) return 0;
    load_element(a, a->data + mpk_ndarray_offset(a, i), e);
    if (a->kind == 'c') {
        *re = scalar_to_double('f', a->itemsize / 2u, e);
        if (im) *im = scalar_to_double('f', a->itemsize / 2u, e + a->itemsize / 2u);
    } else {
        *re = scalar_to_double(a->kind, a->itemsize, e);
        if (im) *im = 0.0;
    }
    return 1;
}

size_t mpk_ndarray_copy_c(const mpk_ndarray_t *a, void *dst, size_t cap)
{
    uint8_t *out = (uint8_t *)dst;
    size_t i;
    if (a->nbytes > cap || (a->size && !a->data)) return 0;
    for (i = 0; i < a->size; i++) load_element(a, a->data + mpk_ndarray_offset(a, i), out + i * a->itemsize);
    return a->nbytes;
}

/* ------------------------------------------------------------ writing */
#if MPK_WITH_WRITER

/* Kinds of objects numpy reuses within a pickle (see mpk_ndarray_wctx_t). */
enum { SEEN_STR1 = 1, SEEN_BYTES1, SEEN_BYTES0, SEEN_DTYPE };

void mpk_ndarray_wctx_init(mpk_ndarray_wctx_t *c)
{
    memset(c, 0, sizeof *c);
    c->array_key = -1;
}

static int seen_find(const mpk_ndarray_wctx_t *c, int what, int a, int b, int ch, uint32_t *key)
{
    uint32_t i;
    for (i = 0; i < c->n; i++)
        if (c->seen[i].what == what && c->seen[i].a == a && c->seen[i].b == b && c->seen[i].c == ch) {
            *key = c->seen[i].key;
            return 1;
        }
    return 0;
}

/* Remembers the object just written, if the writer memoized it (compact mode may
 * not) and there is room (without room the output stays valid, only longer). */
static void seen_add(mpk_ndarray_wctx_t *c, mpk_writer_t *w, int what, int a, int b, int ch)
{
    int64_t key = mpk_writer_last_memo(w);
    if (key < 0 || c->n >= MPK_ND_REMEMBER) return;
    c->seen[c->n].what = (uint8_t)what;
    c->seen[c->n].a = (uint8_t)a;
    c->seen[c->n].b = (uint8_t)b;
    c->seen[c->n].c = (uint8_t)ch;
    c->seen[c->n].key = (uint32_t)key;
    c->n++;
}

/* A one-character str: CPython has one object per Latin-1 character. */
static void write_char(mpk_writer_t *w, mpk_ndarray_wctx_t *c, char ch)
{
    uint32_t key;
    if (seen_find(c, SEEN_STR1, (uint8_t)ch, 0, 0, &key)) { mpk_write_memo_get(w, key); return; }
    mpk_write_str(w, &ch, 1);
    seen_add(c, w, SEEN_STR1, (uint8_t)ch, 0, 0);
}

/* A bytes object: CPython has one object for b'' and one per one-byte value,
 * which numpy's tobytes() returns for contiguous data. */
static void write_bytes_obj(mpk_writer_t *w, mpk_ndarray_wctx_t *c, const uint8_t *p, size_t n)
{
    int what = n == 0 ? SEEN_BYTES0 : SEEN_BYTES1, b = n == 1 ? p[0] : 0;
    uint32_t key;
    if (n > 1) { mpk_write_bytes(w, p, n); return; }
    if (seen_find(c, what, b, 0, 0, &key)) { mpk_write_memo_get(w, key); return; }
    mpk_write_bytes(w, p, n);
    seen_add(c, w, what, b, 0, 0);
}

static void write_shape(mpk_writer_t *w, const mpk_ndarray_t *a)
{
    size_t i;
    mpk_write_tuple_begin(w, a->ndim);
    for (i = 0; i < a->ndim; i++) mpk_write_int(w, (int64_t)a->shape[i]);
    mpk_write_tuple_end(w);
}

/* numpy.dtype(typestr, False, True) BUILD (3, order, None, None, None, -1, -1, 0).
 * The dtypes of native order are singletons in numpy (we write as a little-endian
 * machine does), so a second array of the same dtype refers to the first. */
static void write_dtype(mpk_writer_t *w, mpk_ndarray_wctx_t *c, const mpk_ndarray_t *a)
{
    char ts[8];
    int shared = a->byteorder != '>';
    uint32_t key;
    if (shared && seen_find(c, SEEN_DTYPE, a->kind, a->itemsize, a->byteorder, &key)) {
        mpk_write_memo_get(w, key);
        return;
    }
    mpk_ndarray_typestr(a, ts);
    mpk_write_call_begin(w);
    mpk_write_global(w, "numpy", "dtype");
    mpk_write_tuple_begin(w, 3);
    mpk_write_str(w, ts + 1, strlen(ts + 1));
    mpk_write_bool(w, 0);
    mpk_write_bool(w, 1);
    mpk_write_tuple_end(w);
    mpk_write_call(w, MPK_CALL_REDUCE);
    if (shared) seen_add(c, w, SEEN_DTYPE, a->kind, a->itemsize, a->byteorder);
    mpk_write_tuple_begin(w, 8);
    mpk_write_int(w, 3);
    write_char(w, c, a->byteorder);
    mpk_write_none(w);
    mpk_write_none(w);
    mpk_write_none(w);
    mpk_write_int(w, -1);
    mpk_write_int(w, -1);
    mpk_write_int(w, 0);
    mpk_write_tuple_end(w);
    mpk_write_build(w);
    mpk_write_call_end(w);
}

/* numpy's flags: an array is C-contiguous too when at most one axis is longer than
 * one (or it is empty); only a Fortran array that is not is written as Fortran. */
static int is_fortran(const mpk_ndarray_t *a)
{
    size_t i, long_axes = 0;
    if (a->order != 'F' || a->size == 0) return 0;
    for (i = 0; i < a->ndim; i++) long_axes += a->shape[i] > 1;
    return long_axes > 1;
}

static void write_reconstruct(mpk_writer_t *w, mpk_ndarray_wctx_t *c, const mpk_ndarray_t *a, int numpy2)
{
    mpk_write_call_begin(w);
    mpk_write_global(w, numpy2 ? "numpy._core.multiarray" : "numpy.core.multiarray", "_reconstruct");
    mpk_write_tuple_begin(w, 3);
    mpk_write_global(w, "numpy", "ndarray");
    mpk_write_tuple_begin(w, 1);
    mpk_write_int(w, 0);
    mpk_write_tuple_end(w);
    write_bytes_obj(w, c, (const uint8_t *)"b", 1);
    mpk_write_tuple_end(w);
    mpk_write_call(w, MPK_CALL_REDUCE);
    c->array_key = mpk_writer_last_memo(w);
    mpk_write_tuple_begin(w, 5);
    mpk_write_int(w, 1);
    write_shape(w, a);
    write_dtype(w, c, a);
    mpk_write_bool(w, is_fortran(a));
    write_bytes_obj(w, c, a->data, a->nbytes);
    mpk_write_tuple_end(w);
    mpk_write_build(w);
    mpk_write_call_end(w);
}

static void write_frombuffer(mpk_writer_t *w, mpk_ndarray_wctx_t *c, const mpk_ndarray_t *a, int flags)
{
    mpk_write_call_begin(w);
    mpk_write_global(w, flags & MPK_ND_NUMPY2 ? "numpy._core.numeric" : "numpy.core.numeric", "_frombuffer");
    mpk_write_tuple_begin(w, 4);
    /* pickle's PickleBuffer: read-only data in-band is a bytes copy (a new object) */
    if (flags & MPK_ND_OUT_OF_BAND) mpk_write_next_buffer(w, a->readonly);
    else if (a->readonly) mpk_write_bytes(w, a->data, a->nbytes);
    else mpk_write_bytearray(w, a->data, a->nbytes);
    write_dtype(w, c, a);
    write_shape(w, a);
    write_char(w, c, is_fortran(a) ? 'F' : 'C');
    mpk_write_tuple_end(w);
    mpk_write_call(w, MPK_CALL_REDUCE);
    c->array_key = mpk_writer_last_memo(w);
    mpk_write_call_end(w);
}

/* The description is consistent: a handled dtype, a shape whose size matches. */
static int valid_for_writing(const mpk_ndarray_t *a)
{
    size_t i, size = 1, nbytes;
    if (!dtype_ok(a->kind, a->itemsize) || a->ndim > MPK_ND_MAXDIM) return 0;
    if (a->itemsize == 1 ? a->byteorder != '|' : (a->byteorder != '<' && a->byteorder != '>')) return 0;
    if (a->order != 'C' && a->order != 'F') return 0;
    for (i = 0; i < a->ndim; i++)
        if (!mul_ok(size, a->shape[i], &size)) return 0;
    if (!mul_ok(size, a->itemsize, &nbytes)) return 0;
    return size == a->size && nbytes == a->nbytes && (a->data || !nbytes);
}

mpk_err_t mpk_write_ndarray(mpk_writer_t *w, const mpk_ndarray_t *a, int flags, mpk_ndarray_wctx_t *ctx)
{
    mpk_ndarray_wctx_t local;
    int proto = mpk_writer_protocol(w);
    if (w->err.code) return w->err.code;
    if (!a || !valid_for_writing(a)) return MPK_ERR_ARG;
    if ((flags & MPK_ND_OUT_OF_BAND) && proto < 5) return MPK_ERR_ARG;
    if (!ctx) { mpk_ndarray_wctx_init(&local); ctx = &local; }
    ctx->array_key = -1;
    if (proto >= 5) write_frombuffer(w, ctx, a, flags);
    else write_reconstruct(w, ctx, a, flags & MPK_ND_NUMPY2);
    return w->err.code;
}

#endif /* MPK_WITH_WRITER */
