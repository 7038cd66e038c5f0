/*
 * mpickle_ndarray: numpy arrays in plain C, on top of the value model and the
 * opcode writer of mpickle.h.
 *
 *   reading: mpk_loads() gives a value graph; mpk_ndarray_view() recognises the
 *            node of a numpy array in it (any form numpy 1.x or 2.x writes, protocols
 *            0-5, in-band or out-of-band data) and describes it: dtype, byte order,
 *            shape, strides, and a pointer to the data, which is not copied.
 *   writing: mpk_write_ndarray() emits an array described the same way, with the
 *            bytes numpy itself writes for that array and protocol.
 *
 * Supported dtypes: bool, int8-64, uint8-64, float16/32/64, complex64/128, in
 * either byte order. Object, string, structured, datetime and long double dtypes
 * are refused (MPK_ND_ERR_DTYPE). Nothing here allocates, prints or keeps state.
 */
#ifndef MPICKLE_NDARRAY_H
#define MPICKLE_NDARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "mpickle.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most dimensions an mpk_ndarray_t holds (numpy allows 32; more is MPK_ND_ERR_NDIM). */
#ifndef MPK_ND_MAXDIM
#define MPK_ND_MAXDIM 8
#endif

typedef enum mpk_nd_err {
    MPK_ND_OK = 0,
    MPK_ND_ERR_NOT_ARRAY,   /* the value is not a numpy array (no known reconstructor) */
    MPK_ND_ERR_DTYPE,       /* an array, but of a dtype this helper does not support */
    MPK_ND_ERR_MALFORMED,   /* an array form with a part of the wrong type or value */
    MPK_ND_ERR_SIZE,        /* data length is not shape x itemsize (or sizes overflow) */
    MPK_ND_ERR_NDIM,        /* more than MPK_ND_MAXDIM dimensions */
    MPK_ND_ERR_BUFFER,      /* out-of-band data, but the caller gave no such buffer */
    MPK_ND_ERR__COUNT
} mpk_nd_err_t;

/* A short static description of an error code. */
const char *mpk_nd_err_str(mpk_nd_err_t err);

/* An out-of-band buffer (protocol 5, NEXT_BUFFER), in the order the pickle takes
 * them: the same list given to pickle.loads(..., buffers=...). */
typedef struct mpk_ndbuf {
    const void *data;
    size_t len;
} mpk_ndbuf_t;

/* An array: a typed, contiguous block of memory. */
typedef struct mpk_ndarray {
    char kind;              /* numpy's kind: 'b' bool, 'i' int, 'u' uint, 'f' float, 'c' complex */
    uint8_t itemsize;       /* bytes per element: 1, 2, 4, 8 or 16 */
    char byteorder;         /* '<' little, '>' big, '|' not applicable (itemsize 1) */
    char order;             /* 'C' (row-major) or 'F' (column-major): layout of data */
    uint8_t ndim;           /* 0 for a scalar array */
    uint8_t readonly;       /* view: data is an immutable buffer; write: numpy's writeable=False */
    uint8_t out_of_band;    /* view: data came from a caller buffer (NEXT_BUFFER) */
    uint8_t pad;
    size_t shape[MPK_ND_MAXDIM];
    size_t strides[MPK_ND_MAXDIM];  /* bytes between neighbours along each axis (view only) */
    size_t size;            /* elements: the product of shape (1 when ndim == 0) */
    const uint8_t *data;    /* size * itemsize bytes, laid out in `order` */
    size_t nbytes;
} mpk_ndarray_t;

/*
 * Recognises a numpy array in a decoded value and fills *out (zeroed first).
 * Forms: numpy.core / numpy._core multiarray._reconstruct + BUILD state (the
 * protocol 0-4 form, and protocol 5 for non-contiguous arrays), and
 * numeric._frombuffer (protocol 5) with the data in-band (bytearray or bytes) or
 * out-of-band (bufs[index]; may be NULL when nbufs is 0).
 * out->data points into the graph's payload (the input or the arena) or into the
 * caller's buffer: it lives as long as they do. Returns MPK_ND_OK or an error; on
 * MPK_ND_ERR_BUFFER *out describes the array (kind, itemsize, byteorder, order,
 * ndim, shape, size) but has no data, so that a caller without the buffers can
 * still show what the array is; on other errors *out is unspecified.
 */
mpk_nd_err_t mpk_ndarray_view(const mpk_value_t *v, const mpk_ndbuf_t *bufs, size_t nbufs,
                              mpk_ndarray_t *out);

/* 1 if v has the shape of a numpy array reconstructor call (whatever its dtype). */
int mpk_ndarray_is_array(const mpk_value_t *v);

/*
 * Describes a contiguous array for mpk_write_ndarray: zeroes *a and sets dtype
 * from a numpy type string ("<f4", ">i2", "|b1", "u1"; no order char means this
 * machine's order), shape (ndim entries), layout order ('C' or 'F') and data
 * (size * itemsize bytes, not copied; strides are filled). Returns MPK_ND_OK,
 * MPK_ND_ERR_DTYPE for an unknown type string, MPK_ND_ERR_NDIM or MPK_ND_ERR_SIZE.
 */
mpk_nd_err_t mpk_ndarray_init(mpk_ndarray_t *a, const char *typestr, const size_t *shape, size_t ndim,
                              char order, const void *data, size_t nbytes);

/* numpy's dtype.str of the array ("<f4", "|u1") into buf (at least 8 bytes). */
void mpk_ndarray_typestr(const mpk_ndarray_t *a, char *buf);

/* Byte offset in data of the element at flat position i in row-major (C) order,
 * whatever the layout. i must be < size. */
size_t mpk_ndarray_offset(const mpk_ndarray_t *a, size_t i);

/* Element i (row-major order) as doubles: ints and bools converted (int64 beyond
 * 2^53 rounds), float16 exact; im gets the imaginary part (0 unless complex; may
 * be NULL). Returns 0 if i is out of range. */
int mpk_ndarray_get_f64(const mpk_ndarray_t *a, size_t i, double *re, double *im);

/* Copies all elements in row-major order into dst (size * itemsize bytes), in
 * this machine's byte order, ready to use as a C array of the element type.
 * Returns the bytes written, or 0 if cap is too small. */
size_t mpk_ndarray_copy_c(const mpk_ndarray_t *a, void *dst, size_t cap);

/* ---------------------------------------------------------------- writing */

enum {
    MPK_ND_OUT_OF_BAND = 1, /* protocol 5: NEXT_BUFFER instead of the data; the caller
                               sends a->data as the next out-of-band buffer */
    MPK_ND_NUMPY2 = 2       /* name numpy 2.x's modules (numpy._core...), which numpy 1.x
                               before 1.26 cannot load */
};

/*
 * numpy reuses some objects within one pickle (the dtype of native-order arrays,
 * one-character strings, one-byte and empty bytes); to write several arrays into
 * one pickle exactly as numpy would, share one of these (zeroed by
 * mpk_ndarray_wctx_init) across the calls for that pickle. Objects the caller
 * writes outside these calls are not known to it (see docs/ndarray.md).
 */
#define MPK_ND_REMEMBER 16
#define MPK_ND_WCTX_ARRAY_KEY 1 /* mpk_ndarray_wctx_t has array_key */
typedef struct mpk_ndarray_wctx {
    struct { uint8_t what, a, b, c; uint32_t key; } seen[MPK_ND_REMEMBER];
    uint32_t n;
    int64_t array_key;      /* memo key of the last array written (-1: not memoized), so
                               that a caller meeting the same array again writes a GET */
} mpk_ndarray_wctx_t;

void mpk_ndarray_wctx_init(mpk_ndarray_wctx_t *c);

/*
 * Writes array a as one object (a sub-object of whatever is open in w) the way
 * numpy 1.x pickles an array with the writer's protocol: protocol 5 uses
 * _frombuffer with the data in-band (BYTEARRAY8, or bytes when a->readonly) or
 * out-of-band (MPK_ND_OUT_OF_BAND); protocols 0-4 use _reconstruct and BUILD.
 * ctx may be NULL when the pickle holds one array. a->data is read during the
 * call only (out-of-band: the caller keeps it to send). Returns the writer's
 * sticky error; or MPK_ERR_ARG, with nothing written and the writer untouched,
 * for an invalid description or MPK_ND_OUT_OF_BAND below protocol 5.
 */
mpk_err_t mpk_write_ndarray(mpk_writer_t *w, const mpk_ndarray_t *a, int flags, mpk_ndarray_wctx_t *ctx);

#ifdef __cplusplus
}
#endif
#endif /* MPICKLE_NDARRAY_H */
