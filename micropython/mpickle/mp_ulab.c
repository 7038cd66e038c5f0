/*
 * numpy arrays as ulab.numpy.ndarray (when ulab is in the firmware).
 *
 * load: the globals of numpy's array pickles resolve to the reconstructors here
 *   (safe: they only build arrays from data), for numpy 1.x and 2.x names:
 *     _reconstruct(ndarray, (0,), b'b') + BUILD (1, shape, dtype, is_fortran, data)
 *     _frombuffer(buffer, dtype, shape, 'C' or 'F')          (protocol 5)
 *     dtype(typestr, align, copy) + BUILD (3, byteorder, ...)
 *   _reconstruct gives an empty ulab array that BUILD fills in place, so that
 *   memo references to it (taken before BUILD) see the finished array. Layout and
 *   byte order are settled by the core's element helpers (src/ndarray.c); dtypes
 *   ulab lacks are converted when every value fits exactly, else ValueError.
 * dump: a ulab array is written by the core's mpk_write_ndarray, with the bytes
 *   numpy writes for the same array (views are copied into C order first).
 * Without ulab only mpk_ulab_global exists: it names the missing piece.
 */
#include <string.h>

#include "py/runtime.h"
#include "mpickle_mp.h"

#if MICROPY_PY_MPICKLE_ULAB

#include "ndarray.h"
#include "mpickle_ndarray.h"

/* ============================================================ load */
#if MPK_WITH_DECODER

/* numpy's name of a (kind, itemsize) pair, for messages. */
static const char *numpy_name(char kind, unsigned size)
{
    switch (kind) {
    case 'b': return "bool";
    case 'i': return size == 1 ? "int8" : size == 2 ? "int16" : size == 4 ? "int32" : "int64";
    case 'u': return size == 1 ? "uint8" : size == 2 ? "uint16" : size == 4 ? "uint32" : "uint64";
    case 'f': return size == 2 ? "float16" : size == 4 ? "float32" : "float64";
    default:  return size == 8 ? "complex64" : "complex128";
    }
}

/* A numpy dtype as a pickle describes it (numpy.dtype(...) + BUILD). The same
 * type, with kind 0, stands for the class numpy.ndarray (never called). */
typedef struct npdtype {
    mp_obj_base_t base;
    char kind;          /* 'b' 'i' 'u' 'f' 'c'; 0: the numpy.ndarray stand-in */
    uint8_t itemsize;
    char order;         /* '<' '>' '|' or '=' (this machine) */
} npdtype_t;

static void npdtype_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind)
{
    const npdtype_t *d = MP_OBJ_TO_PTR(self_in);
    (void)kind;
    if (!d->kind) mp_print_str(print, "<numpy.ndarray (mpickle stand-in)>");
    else mp_printf(print, "dtype('%c%c%u')", d->order, d->kind, (unsigned)d->itemsize);
}

static MP_DEFINE_CONST_OBJ_TYPE(npdtype_type, MP_QSTR_dtype, MP_TYPE_FLAG_NONE, print, npdtype_print);

static const npdtype_t ndarray_standin = {{&npdtype_type}, 0, 0, 0};

static MP_NORETURN void bad_array(const char *what)
{
    mp_raise_msg_varg(&mpk_type_UnpicklingError, MP_ERROR_TEXT("numpy array pickle: %s"), what);
}

/* numpy.dtype(typestr, align=False, copy=False): "f8", "<i2", "b1"... */
static mp_obj_t np_dtype(size_t n_args, const mp_obj_t *args)
{
    size_t n, i = 0;
    const char *s;
    unsigned size = 0;
    npdtype_t *d;
    char order = '=', kind;
    bool ok;
    (void)n_args;
    if (!mp_obj_is_str(args[0])) bad_array("dtype needs a type string");
    s = mp_obj_str_get_data(args[0], &n);
    if (n && (s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '=')) order = s[i++];
    kind = i < n ? s[i++] : 0;
    ok = i < n && n - i <= 2;
    for (; ok && i < n; i++) {
        ok = s[i] >= '0' && s[i] <= '9';
        size = size * 10 + (unsigned)(s[i] - '0');
    }
    switch (kind) {
    case 'b': ok = ok && size == 1; break;
    case 'i': case 'u': ok = ok && (size == 1 || size == 2 || size == 4 || size == 8); break;
    case 'f': ok = ok && (size == 2 || size == 4 || size == 8); break;
    case 'c': ok = ok && (size == 8 || size == 16); break;
    default: ok = false; break;
    }
    if (!ok) {
        mp_raise_msg_varg(&mp_type_ValueError,
            MP_ERROR_TEXT("numpy dtype '%.*s' has no ulab equivalent (bool, int, uint, float, complex only)"), (int)n, s);
    }
    d = mp_obj_malloc(npdtype_t, &npdtype_type);
    d->kind = kind;
    d->itemsize = (uint8_t)size;
    d->order = size == 1 ? '|' : order;
    return MP_OBJ_FROM_PTR(d);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(np_dtype_obj, 1, 3, np_dtype);

/* BUILD on a dtype: (version, byteorder, subarray, names, fields, ...) */
static void build_dtype(npdtype_t *d, mp_obj_t state)
{
    size_t n, i, len;
    mp_obj_t *items;
    const char *s;
    if (d == &ndarray_standin) bad_array("BUILD on numpy.ndarray");
    if (!mp_obj_is_type(state, &mp_type_tuple)) bad_array("dtype state is not a tuple");
    mp_obj_tuple_get(state, &n, &items);
    if (n < 2 || !mp_obj_is_str(items[1])) bad_array("dtype state has no byte order");
    for (i = 2; i < 5 && i < n; i++) {
        if (items[i] != mp_const_none) mp_raise_ValueError(MP_ERROR_TEXT("structured numpy dtypes have no ulab equivalent"));
    }
    s = mp_obj_str_get_data(items[1], &len);
    if (len != 1 || !(s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '=')) bad_array("bad dtype byte order");
    if (d->itemsize > 1) {
        if (s[0] == '|') bad_array("bad dtype byte order");
        d->order = s[0];
    }
}

/* The ulab dtype an array of numpy's (kind, size) becomes. */
static uint8_t ulab_dtype_for(char kind, unsigned size)
{
    switch (kind) {
    case 'b': return NDARRAY_BOOL;
    case 'i': if (size <= 2) return size == 1 ? NDARRAY_INT8 : NDARRAY_INT16; break;
    case 'u': if (size <= 2) return size == 1 ? NDARRAY_UINT8 : NDARRAY_UINT16; break;
    case 'c':
        #if ULAB_SUPPORTS_COMPLEX
        return NDARRAY_COMPLEX;
        #else
        mp_raise_ValueError(MP_ERROR_TEXT("numpy complex arrays need ulab built with complex support"));
        #endif
    default: break;
    }
    return NDARRAY_FLOAT;   /* floats, and the ints wider than ulab's (exact values only) */
}

static MP_NORETURN void does_not_fit(const mpk_ndarray_t *a, size_t i, mp_obj_t value)
{
    vstr_t v;
    mp_print_t print;
    vstr_init_print(&v, 24, &print);
    mp_obj_print_helper(&print, value, PRINT_REPR);
    mp_raise_msg_varg(&mp_type_ValueError,
        MP_ERROR_TEXT("numpy %s value %s (element %u) does not fit ulab's float%u exactly"),
        numpy_name(a->kind, a->itemsize), vstr_null_terminated_str(&v), (unsigned)i, (unsigned)(8 * sizeof(mp_float_t)));
}

/* Element i (row-major) of an int array of 4 or 8 bytes, exactly. */
static void int_element(const mpk_ndarray_t *a, size_t i, int64_t *sv, uint64_t *uv)
{
    const uint8_t *p = a->data + mpk_ndarray_offset(a, i);
    uint64_t u = 0;
    size_t k;
    bool big = a->byteorder == '>';
    for (k = 0; k < a->itemsize; k++) u |= (uint64_t)p[big ? a->itemsize - 1 - k : k] << (8 * k);
    *uv = u;
    if (a->itemsize == 4) *sv = (int32_t)(uint32_t)u;
    else *sv = (int64_t)u;
}

/* A double as the port's float, if that is exact (NaN stays NaN). */
static bool float_exact(double d, mp_float_t *out)
{
    *out = (mp_float_t)d;
    return (double)*out == d || d != d;
}

/* One element converted to the port's float, or ValueError. */
static mp_float_t to_float(const mpk_ndarray_t *a, size_t i, double d)
{
    mp_float_t f;
    if (a->kind == 'i' || a->kind == 'u') {
        int64_t sv;
        uint64_t uv;
        int_element(a, i, &sv, &uv);
        if (a->kind == 'u' && a->itemsize == 8) {
            /* 2^64 rounds to itself in a double: below it, the round trip tells */
            f = (mp_float_t)uv;
            if ((double)f < 18446744073709551616.0 && (uint64_t)f == uv) return f;
            does_not_fit(a, i, mp_obj_new_int_from_ull(uv));
        }
        if (a->kind == 'u') sv = (int64_t)(uint32_t)uv;
        f = (mp_float_t)sv;
        if ((double)f < 9223372036854775808.0 && (int64_t)f == sv) return f;
        does_not_fit(a, i, mp_obj_new_int_from_ll(sv));
    }
    if (!float_exact(d, &f)) does_not_fit(a, i, mp_obj_new_float_from_d(d));
    return f;
}

/* Fills ulab array u (dense, C order) from the numpy array a. */
static void fill(ndarray_obj_t *u, const mpk_ndarray_t *a)
{
    size_t i;
    uint8_t *dst = u->array;
    bool direct = (a->kind == 'b' || a->kind == 'i' || a->kind == 'u') ? a->itemsize <= 2
                  : a->itemsize == u->itemsize;   /* floats, complex of the port's width */
    if (direct) {
        /* layout and byte order by the core; bools normalised to 0/1 as numpy reads them */
        mpk_ndarray_copy_c(a, dst, a->nbytes);
        if (a->kind == 'b') {
            for (i = 0; i < a->size; i++) dst[i] = dst[i] != 0;
        }
        return;
    }
    for (i = 0; i < a->size; i++) {
        double re, im;
        mpk_ndarray_get_f64(a, i, &re, &im);
        #if ULAB_SUPPORTS_COMPLEX
        if (a->kind == 'c') {
            mp_float_t *out = (mp_float_t *)(void *)dst + 2 * i;
            if (!float_exact(re, &out[0]) || !float_exact(im, &out[1])) {
                does_not_fit(a, i, mp_obj_new_complex((mp_float_t)re, (mp_float_t)im));
            }
            continue;
        }
        #endif
        ((mp_float_t *)(void *)dst)[i] = to_float(a, i, re);
    }
}

/* The bytes of the data argument: any buffer (bytes, bytearray, an out-of-band
 * buffer), or an ASCII str (a Python 2 pickle). */
static void data_of(mp_obj_t data, const uint8_t **p, size_t *n)
{
    mp_buffer_info_t bi;
    if (mp_obj_is_str(data)) {
        size_t i;
        *p = (const uint8_t *)mp_obj_str_get_data(data, n);
        for (i = 0; i < *n; i++) {
            if ((*p)[i] & 0x80) bad_array("array data is a non-ASCII str (load with encoding='bytes')");
        }
        return;
    }
    if (!mp_get_buffer(data, &bi, MP_BUFFER_READ)) bad_array("array data is not a buffer");
    *p = bi.buf;
    *n = bi.len;
}

/* Describes the data of a numpy pickle (shape[0..n), dtype, layout order) in *a
 * for the core's element helpers, which check its length. */
static void describe(mpk_ndarray_t *a, const size_t *shape, size_t n, mp_obj_t dtype_in, char order, mp_obj_t data)
{
    const npdtype_t *dt = MP_OBJ_TO_PTR(dtype_in);
    const uint8_t *p;
    size_t nbytes, k = 0;
    char ts[6];
    mpk_nd_err_t e;
    if (!mp_obj_is_type(dtype_in, &npdtype_type) || !dt->kind) bad_array("no dtype");
    data_of(data, &p, &nbytes);
    ts[k++] = dt->order;
    ts[k++] = dt->kind;
    if (dt->itemsize >= 10) ts[k++] = '1';
    ts[k++] = (char)('0' + dt->itemsize % 10);
    ts[k] = 0;
    e = mpk_ndarray_init(a, ts, shape, n, order, p, nbytes);
    if (e == MPK_ND_ERR_SIZE) bad_array("data length does not match shape and dtype");
    if (e != MPK_ND_OK) bad_array(mpk_nd_err_str(e));
}

/* A new ulab array from the parts of a numpy pickle. */
static ndarray_obj_t *make_array(mp_obj_t shape_in, mp_obj_t dtype_in, char order, mp_obj_t data)
{
    size_t n, i, shape[MPK_ND_MAXDIM], ushape[ULAB_MAX_DIMS];
    mp_obj_t *items;
    mpk_ndarray_t a;
    ndarray_obj_t *u;
    if (!mp_obj_is_type(shape_in, &mp_type_tuple)) bad_array("shape is not a tuple");
    mp_obj_tuple_get(shape_in, &n, &items);
    if (n > ULAB_MAX_DIMS) {
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("numpy array has %u dimensions; this ulab has at most %d"),
            (unsigned)n, ULAB_MAX_DIMS);
    }
    for (i = 0; i < n; i++) {
        mp_int_t d;
        if (!mp_obj_is_int(items[i]) || (d = mp_obj_get_int(items[i])) < 0) bad_array("bad shape");
        shape[i] = (size_t)d;
    }
    describe(&a, shape, n, dtype_in, order, data);
    /* ulab keeps the shape right-aligned in ULAB_MAX_DIMS slots; it has no 0-d
     * arrays (its ndim 0 means empty): a numpy scalar array becomes shape (1,) */
    memset(ushape, 0, sizeof ushape);
    for (i = 0; i < n; i++) ushape[ULAB_MAX_DIMS - n + i] = shape[i];
    if (n == 0) ushape[ULAB_MAX_DIMS - 1] = 1;
    u = ndarray_new_dense_ndarray(n ? (uint8_t)n : 1, ushape, ulab_dtype_for(a.kind, a.itemsize));
    fill(u, &a);
    return u;
}

/* numpy.core.multiarray.scalar(dtype, data): a numpy scalar (np.float64(0.5),
 * np.int64(3)...) becomes the Python bool, int, float or complex of its value
 * (ints exactly; floats when the port's float holds them exactly). */
static mp_obj_t np_scalar(mp_obj_t dtype_in, mp_obj_t data)
{
    mpk_ndarray_t a;
    double re, im;
    mp_float_t f;
    describe(&a, NULL, 0, dtype_in, 'C', data);
    if (a.kind == 'b') return mp_obj_new_bool(a.data[0] != 0);
    if (a.kind == 'i' || a.kind == 'u') {
        uint64_t u = 0;
        size_t k;
        for (k = 0; k < a.itemsize; k++) u |= (uint64_t)a.data[a.byteorder == '>' ? a.itemsize - 1 - k : k] << (8 * k);
        if (a.kind == 'u') return mp_obj_new_int_from_ull(u);
        if (a.itemsize < 8 && (u >> (8 * a.itemsize - 1))) u |= ~(uint64_t)0 << (8 * a.itemsize);  /* sign */
        return mp_obj_new_int_from_ll((int64_t)u);
    }
    mpk_ndarray_get_f64(&a, 0, &re, &im);
    #if MICROPY_PY_BUILTINS_COMPLEX
    if (a.kind == 'c') {
        mp_float_t fi;
        bool exact = float_exact(re, &f);
        if (!float_exact(im, &fi) || !exact) does_not_fit(&a, 0, mp_obj_new_complex(f, fi));
        return mp_obj_new_complex(f, fi);
    }
    #endif
    if (a.kind == 'c') mp_raise_ValueError(MP_ERROR_TEXT("this firmware has no complex numbers"));
    if (!float_exact(re, &f)) does_not_fit(&a, 0, mp_obj_new_float(f));
    return mp_obj_new_float(f);
}
static MP_DEFINE_CONST_FUN_OBJ_2(np_scalar_obj, np_scalar);

/* The origin (ulab's base of views) of an array _reconstruct made and no BUILD
 * filled yet: only such an array takes a numpy state, not one of the program's
 * (from persistent_load, say) nor one filled already. */
#define UNFILLED ((void *)(uintptr_t)&ndarray_standin)

/* numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b'): an empty
 * array, filled by the BUILD that follows. */
static mp_obj_t np_reconstruct(mp_obj_t subtype, mp_obj_t shape, mp_obj_t typecode)
{
    size_t zero[ULAB_MAX_DIMS] = {0};
    ndarray_obj_t *u;
    (void)shape; (void)typecode;
    if (subtype != MP_OBJ_FROM_PTR(&ndarray_standin)) bad_array("_reconstruct of something other than numpy.ndarray");
    u = ndarray_new_dense_ndarray(1, zero, NDARRAY_UINT8);
    u->origin = UNFILLED;
    return MP_OBJ_FROM_PTR(u);
}
static MP_DEFINE_CONST_FUN_OBJ_3(np_reconstruct_obj, np_reconstruct);

static char order_arg(mp_obj_t o)
{
    size_t n;
    const char *s;
    if (!mp_obj_is_str(o)) bad_array("order is not 'C' or 'F'");
    s = mp_obj_str_get_data(o, &n);
    if (n != 1 || (s[0] != 'C' && s[0] != 'F')) bad_array("order is not 'C' or 'F'");
    return s[0];
}

/* numpy.core.numeric._frombuffer(buffer, dtype, shape, order) */
static mp_obj_t np_frombuffer(size_t n_args, const mp_obj_t *args)
{
    (void)n_args;
    return MP_OBJ_FROM_PTR(make_array(args[2], args[1], order_arg(args[3]), args[0]));
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(np_frombuffer_obj, 4, 4, np_frombuffer);

/* BUILD on an array: (version, shape, dtype, is_fortran, data), or the old
 * 4-item state without the version. */
static void build_array(ndarray_obj_t *target, mp_obj_t state)
{
    size_t n, b;
    mp_obj_t *items;
    ndarray_obj_t *u;
    if (!mp_obj_is_type(state, &mp_type_tuple)) bad_array("state is not a tuple");
    mp_obj_tuple_get(state, &n, &items);
    if (n != 4 && n != 5) bad_array("state is not (version, shape, dtype, is_fortran, data)");
    b = n - 4;
    u = make_array(items[b], items[b + 1], mp_obj_is_true(items[b + 2]) ? 'F' : 'C', items[b + 3]);
    /* in place: the object stays the one the memo (and the pickle) refer to */
    *target = *u;
}

bool mpk_ulab_build(mp_obj_t obj, mp_obj_t state)
{
    if (mp_obj_is_type(obj, &ulab_ndarray_type)) {
        ndarray_obj_t *u = MP_OBJ_TO_PTR(obj);
        if (u->origin != UNFILLED) return false;    /* the load's usual rules refuse it */
        build_array(u, state);
    } else if (mp_obj_is_type(obj, &npdtype_type)) {
        build_dtype(MP_OBJ_TO_PTR(obj), state);
    } else {
        return false;
    }
    return true;
}

bool mpk_ulab_is_helper(mp_obj_t f)
{
    const void *p = MP_OBJ_TO_PTR(f);
    return p == &np_dtype_obj || p == &np_reconstruct_obj || p == &np_frombuffer_obj || p == &np_scalar_obj;
}

#endif /* MPK_WITH_DECODER */

/* ============================================================ dump */
#if MPK_WITH_WRITER

bool mpk_ulab_is_array(mp_obj_t obj)
{
    return mp_obj_is_type(obj, &ulab_ndarray_type);
}

/* numpy's type string of a ulab array, in this machine's byte order. */
static const char *typestr_of(const ndarray_obj_t *u)
{
    if (u->boolean) return "|b1";
    switch (u->dtype) {
    case NDARRAY_UINT8: return "|u1";
    case NDARRAY_INT8: return "|i1";
    case NDARRAY_UINT16: return "u2";
    case NDARRAY_INT16: return "i2";
    #if ULAB_SUPPORTS_COMPLEX
    case NDARRAY_COMPLEX: return sizeof(mp_float_t) == 8 ? "c16" : "c8";
    #endif
    default: return sizeof(mp_float_t) == 8 ? "f8" : "f4";
    }
}

/* Is the array laid out contiguously in C order (or F order)? Axes of length
 * one may have any stride, as in numpy's flags. */
static bool contiguous(const ndarray_obj_t *u, bool fortran)
{
    int32_t want = u->itemsize;
    size_t k;
    for (k = 0; k < u->ndim; k++) {
        size_t axis = fortran ? ULAB_MAX_DIMS - u->ndim + k : ULAB_MAX_DIMS - 1 - k;
        if (u->shape[axis] != 1 && u->strides[axis] != want) return false;
        want *= (int32_t)u->shape[axis];
    }
    return true;
}

/* The logical values of a strided view, in C order, into a new buffer (bools
 * as 0/1). */
static uint8_t *copy_c_order(const ndarray_obj_t *u)
{
    uint8_t *out = m_new(uint8_t, u->len * u->itemsize), *q = out;
    size_t idx[ULAB_MAX_DIMS] = {0}, i, k, first = ULAB_MAX_DIMS - u->ndim;
    for (i = 0; i < u->len; i++) {
        const uint8_t *p = (const uint8_t *)u->array;
        for (k = first; k < ULAB_MAX_DIMS; k++) p += (ptrdiff_t)idx[k] * u->strides[k];
        memcpy(q, p, u->itemsize);
        if (u->boolean) *q = *q != 0;
        q += u->itemsize;
        for (k = ULAB_MAX_DIMS; k-- > first;) {     /* next index, last axis fastest */
            if (++idx[k] < u->shape[k]) break;
            idx[k] = 0;
        }
    }
    return out;
}

static bool bools_clean(const ndarray_obj_t *u)
{
    const uint8_t *p = u->array;
    size_t i;
    for (i = 0; u->boolean && i < u->len; i++) {
        if (p[i] > 1) return false;
    }
    return true;
}

int64_t mpk_ulab_save(mpk_writer_t *w, mp_obj_t obj, void **ctx)
{
    const ndarray_obj_t *u = MP_OBJ_TO_PTR(obj);
    size_t shape[ULAB_MAX_DIMS], k, ndim = u->ndim, nbytes = u->len * u->itemsize;
    const uint8_t *data = u->array;
    uint8_t *copy = NULL;
    char order = 'C';
    mpk_ndarray_t a;
    mpk_err_t e;
    if (*ctx == NULL) {
        /* numpy's shared objects (dtypes, one-character strings) for this pickle */
        *ctx = m_new(mpk_ndarray_wctx_t, 1);
        mpk_ndarray_wctx_init(*ctx);
    }
    for (k = 0; k < u->ndim; k++) shape[k] = u->shape[ULAB_MAX_DIMS - u->ndim + k];
    if (u->ndim == 0) {
        /* ulab's ndim 0 is an empty array (its shape reads (0,)), not a numpy scalar */
        shape[0] = 0;
        ndim = 1;
    }
    if (u->len && !(contiguous(u, false) && bools_clean(u))) {
        if (contiguous(u, true) && bools_clean(u)) {
            order = 'F';    /* a transposed array: numpy writes it as Fortran data */
        } else {
            data = copy = copy_c_order(u);
        }
    }
    if (mpk_ndarray_init(&a, typestr_of(u), shape, ndim, order, data, nbytes) != MPK_ND_OK) {
        mp_raise_msg(&mpk_type_PicklingError, MP_ERROR_TEXT("cannot describe this ulab array to numpy"));
    }
    e = mpk_write_ndarray(w, &a, 0, *ctx);
    if (copy) m_del(uint8_t, copy, nbytes);
    if (e == MPK_ERR_ARG) mp_raise_msg(&mpk_type_PicklingError, MP_ERROR_TEXT("cannot write this ulab array"));
    #ifdef MPK_ND_WCTX_ARRAY_KEY
    /* the dumper remembers it: the same array met again is a memo GET, as numpy writes */
    return ((mpk_ndarray_wctx_t *)*ctx)->array_key;
    #else
    /* the core does not tell the array's memo key: an array met twice is written twice */
    return -1;
    #endif
}

#endif /* MPK_WITH_WRITER */
#endif /* MICROPY_PY_MPICKLE_ULAB */

/* ============================================================ names (load) */
#if MPK_WITH_DECODER

static bool is(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* Which numpy global of an array pickle (module m, name n) is this:
 * 'r' _reconstruct, 'f' _frombuffer, 'd' dtype, 's' scalar, 'a' ndarray, 0 none. */
static char numpy_global(const char *m, size_t mn, const char *n, size_t nn)
{
    bool core1 = mn > 11 && memcmp(m, "numpy.core.", 11) == 0;
    bool core2 = mn > 12 && memcmp(m, "numpy._core.", 12) == 0;
    const char *sub = core1 ? m + 11 : core2 ? m + 12 : NULL;
    size_t sn = core1 ? mn - 11 : core2 ? mn - 12 : 0;
    bool multiarray = sub && (is(sub, sn, "multiarray") || is(sub, sn, "_multiarray_umath"));
    if (is(m, mn, "numpy")) {
        if (is(n, nn, "dtype")) return 'd';
        if (is(n, nn, "ndarray")) return 'a';
    }
    if (multiarray && is(n, nn, "_reconstruct")) return 'r';
    if (multiarray && is(n, nn, "dtype")) return 'd';
    if (multiarray && is(n, nn, "scalar")) return 's';
    if (sub && is(sub, sn, "numeric") && is(n, nn, "_frombuffer")) return 'f';
    return 0;
}

mp_obj_t mpk_ulab_global(const char *m, size_t mn, const char *n, size_t nn)
{
    char which = numpy_global(m, mn, n, nn);
    if (!which) return MP_OBJ_NULL;
    #if MICROPY_PY_MPICKLE_ULAB
    switch (which) {
    case 'r': return MP_OBJ_FROM_PTR(&np_reconstruct_obj);
    case 'f': return MP_OBJ_FROM_PTR(&np_frombuffer_obj);
    case 'd': return MP_OBJ_FROM_PTR(&np_dtype_obj);
    case 's': return MP_OBJ_FROM_PTR(&np_scalar_obj);
    default:  return MP_OBJ_FROM_PTR(&ndarray_standin);
    }
    #else
    mp_raise_msg_varg(&mpk_type_UnpicklingError,
        MP_ERROR_TEXT("%.*s.%.*s: numpy arrays and scalars load with ulab, which is not available in this firmware"),
        (int)mn, m, (int)nn, n);
    #endif
}

#endif /* MPK_WITH_DECODER */
