/* The numpy helper (include/mpickle_ndarray.h) without Python: pickles numpy 1.24
 * wrote (embedded below) are read and described; the writer reproduces them byte
 * for byte; every dtype and layout round-trips through writer, decoder and view;
 * bad descriptions and non-arrays get their error codes; float16 converts exactly;
 * every one-byte mutation of the vectors reads or fails without harm (run it
 * under the sanitizers). */
#include "check.h"
#include "testutil.h"
#include "mpickle_ndarray.h"

/* Made with numpy 1.24 (python3 -c "import numpy as np, pickle; ..."):
 *   i4_p{0,2,3,4,5}: pickle.dumps(np.arange(6, dtype='<i4').reshape(2, 3), p)
 *   f8be_f_p{2,5}:   pickle.dumps(np.asfortranarray(np.array([[1.5, -2], [0.25, 8], [3, 4]], '>f8')), p)
 *   u2_oob:          pickle.dumps(np.array([1, 2, 3], '<u2'), 5, buffer_callback=...)
 *   obj_p2:          pickle.dumps(np.array([1, None], dtype=object), 2)
 *   nine_dims:       pickle.dumps(np.zeros((1,) * 9, 'u1'), 4)
 *   h_p4:            pickle.dumps(np.array([1, -2, 65504, 2**-24, inf, nan], '<f2'), 4) */
static const char i4_p0[] =
    "\x63\x6e\x75\x6d\x70\x79\x2e\x63\x6f\x72\x65\x2e\x6d\x75\x6c\x74\x69\x61\x72\x72\x61\x79\x0a\x5f"
    "\x72\x65\x63\x6f\x6e\x73\x74\x72\x75\x63\x74\x0a\x70\x30\x0a\x28\x63\x6e\x75\x6d\x70\x79\x0a\x6e"
    "\x64\x61\x72\x72\x61\x79\x0a\x70\x31\x0a\x28\x49\x30\x0a\x74\x70\x32\x0a\x63\x5f\x63\x6f\x64\x65"
    "\x63\x73\x0a\x65\x6e\x63\x6f\x64\x65\x0a\x70\x33\x0a\x28\x56\x62\x0a\x70\x34\x0a\x56\x6c\x61\x74"
    "\x69\x6e\x31\x0a\x70\x35\x0a\x74\x70\x36\x0a\x52\x70\x37\x0a\x74\x70\x38\x0a\x52\x70\x39\x0a\x28"
    "\x49\x31\x0a\x28\x49\x32\x0a\x49\x33\x0a\x74\x70\x31\x30\x0a\x63\x6e\x75\x6d\x70\x79\x0a\x64\x74"
    "\x79\x70\x65\x0a\x70\x31\x31\x0a\x28\x56\x69\x34\x0a\x70\x31\x32\x0a\x49\x30\x30\x0a\x49\x30\x31"
    "\x0a\x74\x70\x31\x33\x0a\x52\x70\x31\x34\x0a\x28\x49\x33\x0a\x56\x3c\x0a\x70\x31\x35\x0a\x4e\x4e"
    "\x4e\x49\x2d\x31\x0a\x49\x2d\x31\x0a\x49\x30\x0a\x74\x70\x31\x36\x0a\x62\x49\x30\x30\x0a\x67\x33"
    "\x0a\x28\x56\x5c\x75\x30\x30\x30\x30\x5c\x75\x30\x30\x30\x30\x5c\x75\x30\x30\x30\x30\x5c\x75\x30"
    "\x30\x30\x30\x01\x5c\x75\x30\x30\x30\x30\x5c\x75\x30\x30\x30\x30\x5c\x75\x30\x30\x30\x30\x02\x5c"
    "\x75\x30\x30\x30\x30\x5c\x75\x30\x30\x30\x30\x5c\x75\x30\x30\x30\x30\x03\x5c\x75\x30\x30\x30\x30"
    "\x5c\x75\x30\x30\x30\x30\x5c\x75\x30\x30\x30\x30\x04\x5c\x75\x30\x30\x30\x30\x5c\x75\x30\x30\x30"
    "\x30\x5c\x75\x30\x30\x30\x30\x05\x5c\x75\x30\x30\x30\x30\x5c\x75\x30\x30\x30\x30\x5c\x75\x30\x30"
    "\x30\x30\x0a\x70\x31\x37\x0a\x67\x35\x0a\x74\x70\x31\x38\x0a\x52\x70\x31\x39\x0a\x74\x70\x32\x30"
    "\x0a\x62\x2e"
    ;
#define I4_P0_LEN 363
static const char i4_p2[] =
    "\x80\x02\x63\x6e\x75\x6d\x70\x79\x2e\x63\x6f\x72\x65\x2e\x6d\x75\x6c\x74\x69\x61\x72\x72\x61\x79"
    "\x0a\x5f\x72\x65\x63\x6f\x6e\x73\x74\x72\x75\x63\x74\x0a\x71\x00\x63\x6e\x75\x6d\x70\x79\x0a\x6e"
    "\x64\x61\x72\x72\x61\x79\x0a\x71\x01\x4b\x00\x85\x71\x02\x63\x5f\x63\x6f\x64\x65\x63\x73\x0a\x65"
    "\x6e\x63\x6f\x64\x65\x0a\x71\x03\x58\x01\x00\x00\x00\x62\x71\x04\x58\x06\x00\x00\x00\x6c\x61\x74"
    "\x69\x6e\x31\x71\x05\x86\x71\x06\x52\x71\x07\x87\x71\x08\x52\x71\x09\x28\x4b\x01\x4b\x02\x4b\x03"
    "\x86\x71\x0a\x63\x6e\x75\x6d\x70\x79\x0a\x64\x74\x79\x70\x65\x0a\x71\x0b\x58\x02\x00\x00\x00\x69"
    "\x34\x71\x0c\x89\x88\x87\x71\x0d\x52\x71\x0e\x28\x4b\x03\x58\x01\x00\x00\x00\x3c\x71\x0f\x4e\x4e"
    "\x4e\x4a\xff\xff\xff\xff\x4a\xff\xff\xff\xff\x4b\x00\x74\x71\x10\x62\x89\x68\x03\x58\x18\x00\x00"
    "\x00\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04\x00\x00\x00\x05\x00\x00"
    "\x00\x71\x11\x68\x05\x86\x71\x12\x52\x71\x13\x74\x71\x14\x62\x2e"
    ;
#define I4_P2_LEN 232
static const char i4_p3[] =
    "\x80\x03\x63\x6e\x75\x6d\x70\x79\x2e\x63\x6f\x72\x65\x2e\x6d\x75\x6c\x74\x69\x61\x72\x72\x61\x79"
    "\x0a\x5f\x72\x65\x63\x6f\x6e\x73\x74\x72\x75\x63\x74\x0a\x71\x00\x63\x6e\x75\x6d\x70\x79\x0a\x6e"
    "\x64\x61\x72\x72\x61\x79\x0a\x71\x01\x4b\x00\x85\x71\x02\x43\x01\x62\x71\x03\x87\x71\x04\x52\x71"
    "\x05\x28\x4b\x01\x4b\x02\x4b\x03\x86\x71\x06\x63\x6e\x75\x6d\x70\x79\x0a\x64\x74\x79\x70\x65\x0a"
    "\x71\x07\x58\x02\x00\x00\x00\x69\x34\x71\x08\x89\x88\x87\x71\x09\x52\x71\x0a\x28\x4b\x03\x58\x01"
    "\x00\x00\x00\x3c\x71\x0b\x4e\x4e\x4e\x4a\xff\xff\xff\xff\x4a\xff\xff\xff\xff\x4b\x00\x74\x71\x0c"
    "\x62\x89\x43\x18\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04\x00\x00\x00"
    "\x05\x00\x00\x00\x71\x0d\x74\x71\x0e\x62\x2e"
    ;
#define I4_P3_LEN 179
static const char i4_p4[] =
    "\x80\x04\x95\xa2\x00\x00\x00\x00\x00\x00\x00\x8c\x15\x6e\x75\x6d\x70\x79\x2e\x63\x6f\x72\x65\x2e"
    "\x6d\x75\x6c\x74\x69\x61\x72\x72\x61\x79\x94\x8c\x0c\x5f\x72\x65\x63\x6f\x6e\x73\x74\x72\x75\x63"
    "\x74\x94\x93\x94\x8c\x05\x6e\x75\x6d\x70\x79\x94\x8c\x07\x6e\x64\x61\x72\x72\x61\x79\x94\x93\x94"
    "\x4b\x00\x85\x94\x43\x01\x62\x94\x87\x94\x52\x94\x28\x4b\x01\x4b\x02\x4b\x03\x86\x94\x68\x03\x8c"
    "\x05\x64\x74\x79\x70\x65\x94\x93\x94\x8c\x02\x69\x34\x94\x89\x88\x87\x94\x52\x94\x28\x4b\x03\x8c"
    "\x01\x3c\x94\x4e\x4e\x4e\x4a\xff\xff\xff\xff\x4a\xff\xff\xff\xff\x4b\x00\x74\x94\x62\x89\x43\x18"
    "\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04\x00\x00\x00\x05\x00\x00\x00"
    "\x94\x74\x94\x62\x2e"
    ;
#define I4_P4_LEN 173
static const char i4_p5[] =
    "\x80\x05\x95\x8d\x00\x00\x00\x00\x00\x00\x00\x8c\x12\x6e\x75\x6d\x70\x79\x2e\x63\x6f\x72\x65\x2e"
    "\x6e\x75\x6d\x65\x72\x69\x63\x94\x8c\x0b\x5f\x66\x72\x6f\x6d\x62\x75\x66\x66\x65\x72\x94\x93\x94"
    "\x28\x96\x18\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00"
    "\x00\x00\x04\x00\x00\x00\x05\x00\x00\x00\x94\x8c\x05\x6e\x75\x6d\x70\x79\x94\x8c\x05\x64\x74\x79"
    "\x70\x65\x94\x93\x94\x8c\x02\x69\x34\x94\x89\x88\x87\x94\x52\x94\x28\x4b\x03\x8c\x01\x3c\x94\x4e"
    "\x4e\x4e\x4a\xff\xff\xff\xff\x4a\xff\xff\xff\xff\x4b\x00\x74\x94\x62\x4b\x02\x4b\x03\x86\x94\x8c"
    "\x01\x43\x94\x74\x94\x52\x94\x2e"
    ;
#define I4_P5_LEN 152
static const char f8be_f_p2[] =
    "\x80\x02\x63\x6e\x75\x6d\x70\x79\x2e\x63\x6f\x72\x65\x2e\x6d\x75\x6c\x74\x69\x61\x72\x72\x61\x79"
    "\x0a\x5f\x72\x65\x63\x6f\x6e\x73\x74\x72\x75\x63\x74\x0a\x71\x00\x63\x6e\x75\x6d\x70\x79\x0a\x6e"
    "\x64\x61\x72\x72\x61\x79\x0a\x71\x01\x4b\x00\x85\x71\x02\x63\x5f\x63\x6f\x64\x65\x63\x73\x0a\x65"
    "\x6e\x63\x6f\x64\x65\x0a\x71\x03\x58\x01\x00\x00\x00\x62\x71\x04\x58\x06\x00\x00\x00\x6c\x61\x74"
    "\x69\x6e\x31\x71\x05\x86\x71\x06\x52\x71\x07\x87\x71\x08\x52\x71\x09\x28\x4b\x01\x4b\x03\x4b\x02"
    "\x86\x71\x0a\x63\x6e\x75\x6d\x70\x79\x0a\x64\x74\x79\x70\x65\x0a\x71\x0b\x58\x02\x00\x00\x00\x66"
    "\x38\x71\x0c\x89\x88\x87\x71\x0d\x52\x71\x0e\x28\x4b\x03\x58\x01\x00\x00\x00\x3e\x71\x0f\x4e\x4e"
    "\x4e\x4a\xff\xff\xff\xff\x4a\xff\xff\xff\xff\x4b\x00\x74\x71\x10\x62\x88\x68\x03\x58\x33\x00\x00"
    "\x00\x3f\xc3\xb8\x00\x00\x00\x00\x00\x00\x3f\xc3\x90\x00\x00\x00\x00\x00\x00\x40\x08\x00\x00\x00"
    "\x00\x00\x00\xc3\x80\x00\x00\x00\x00\x00\x00\x00\x40\x20\x00\x00\x00\x00\x00\x00\x40\x10\x00\x00"
    "\x00\x00\x00\x00\x71\x11\x68\x05\x86\x71\x12\x52\x71\x13\x74\x71\x14\x62\x2e"
    ;
#define F8BE_F_P2_LEN 259
static const char f8be_f_p5[] =
    "\x80\x05\x95\xa5\x00\x00\x00\x00\x00\x00\x00\x8c\x12\x6e\x75\x6d\x70\x79\x2e\x63\x6f\x72\x65\x2e"
    "\x6e\x75\x6d\x65\x72\x69\x63\x94\x8c\x0b\x5f\x66\x72\x6f\x6d\x62\x75\x66\x66\x65\x72\x94\x93\x94"
    "\x28\x96\x30\x00\x00\x00\x00\x00\x00\x00\x3f\xf8\x00\x00\x00\x00\x00\x00\x3f\xd0\x00\x00\x00\x00"
    "\x00\x00\x40\x08\x00\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x00\x40\x20\x00\x00\x00\x00"
    "\x00\x00\x40\x10\x00\x00\x00\x00\x00\x00\x94\x8c\x05\x6e\x75\x6d\x70\x79\x94\x8c\x05\x64\x74\x79"
    "\x70\x65\x94\x93\x94\x8c\x02\x66\x38\x94\x89\x88\x87\x94\x52\x94\x28\x4b\x03\x8c\x01\x3e\x94\x4e"
    "\x4e\x4e\x4a\xff\xff\xff\xff\x4a\xff\xff\xff\xff\x4b\x00\x74\x94\x62\x4b\x03\x4b\x02\x86\x94\x8c"
    "\x01\x46\x94\x74\x94\x52\x94\x2e"
    ;
#define F8BE_F_P5_LEN 176
static const char u2_oob[] =
    "\x80\x05\x95\x6a\x00\x00\x00\x00\x00\x00\x00\x8c\x12\x6e\x75\x6d\x70\x79\x2e\x63\x6f\x72\x65\x2e"
    "\x6e\x75\x6d\x65\x72\x69\x63\x94\x8c\x0b\x5f\x66\x72\x6f\x6d\x62\x75\x66\x66\x65\x72\x94\x93\x94"
    "\x28\x97\x8c\x05\x6e\x75\x6d\x70\x79\x94\x8c\x05\x64\x74\x79\x70\x65\x94\x93\x94\x8c\x02\x75\x32"
    "\x94\x89\x88\x87\x94\x52\x94\x28\x4b\x03\x8c\x01\x3c\x94\x4e\x4e\x4e\x4a\xff\xff\xff\xff\x4a\xff"
    "\xff\xff\xff\x4b\x00\x74\x94\x62\x4b\x03\x85\x94\x8c\x01\x43\x94\x74\x94\x52\x94\x2e"
    ;
#define U2_OOB_LEN 117
static const char obj_p2[] =
    "\x80\x02\x63\x6e\x75\x6d\x70\x79\x2e\x63\x6f\x72\x65\x2e\x6d\x75\x6c\x74\x69\x61\x72\x72\x61\x79"
    "\x0a\x5f\x72\x65\x63\x6f\x6e\x73\x74\x72\x75\x63\x74\x0a\x71\x00\x63\x6e\x75\x6d\x70\x79\x0a\x6e"
    "\x64\x61\x72\x72\x61\x79\x0a\x71\x01\x4b\x00\x85\x71\x02\x63\x5f\x63\x6f\x64\x65\x63\x73\x0a\x65"
    "\x6e\x63\x6f\x64\x65\x0a\x71\x03\x58\x01\x00\x00\x00\x62\x71\x04\x58\x06\x00\x00\x00\x6c\x61\x74"
    "\x69\x6e\x31\x71\x05\x86\x71\x06\x52\x71\x07\x87\x71\x08\x52\x71\x09\x28\x4b\x01\x4b\x02\x85\x71"
    "\x0a\x63\x6e\x75\x6d\x70\x79\x0a\x64\x74\x79\x70\x65\x0a\x71\x0b\x58\x02\x00\x00\x00\x4f\x38\x71"
    "\x0c\x89\x88\x87\x71\x0d\x52\x71\x0e\x28\x4b\x03\x58\x01\x00\x00\x00\x7c\x71\x0f\x4e\x4e\x4e\x4a"
    "\xff\xff\xff\xff\x4a\xff\xff\xff\xff\x4b\x3f\x74\x71\x10\x62\x89\x5d\x71\x11\x28\x4b\x01\x4e\x65"
    "\x74\x71\x12\x62\x2e"
    ;
#define OBJ_P2_LEN 197
static const char nine_dims[] =
    "\x80\x04\x95\x9a\x00\x00\x00\x00\x00\x00\x00\x8c\x15\x6e\x75\x6d\x70\x79\x2e\x63\x6f\x72\x65\x2e"
    "\x6d\x75\x6c\x74\x69\x61\x72\x72\x61\x79\x94\x8c\x0c\x5f\x72\x65\x63\x6f\x6e\x73\x74\x72\x75\x63"
    "\x74\x94\x93\x94\x8c\x05\x6e\x75\x6d\x70\x79\x94\x8c\x07\x6e\x64\x61\x72\x72\x61\x79\x94\x93\x94"
    "\x4b\x00\x85\x94\x43\x01\x62\x94\x87\x94\x52\x94\x28\x4b\x01\x28\x4b\x01\x4b\x01\x4b\x01\x4b\x01"
    "\x4b\x01\x4b\x01\x4b\x01\x4b\x01\x4b\x01\x74\x94\x68\x03\x8c\x05\x64\x74\x79\x70\x65\x94\x93\x94"
    "\x8c\x02\x75\x31\x94\x89\x88\x87\x94\x52\x94\x28\x4b\x03\x8c\x01\x7c\x94\x4e\x4e\x4e\x4a\xff\xff"
    "\xff\xff\x4a\xff\xff\xff\xff\x4b\x00\x74\x94\x62\x89\x43\x01\x00\x94\x74\x94\x62\x2e"
    ;
#define NINE_DIMS_LEN 165
static const char h_p4[] =
    "\x80\x04\x95\x94\x00\x00\x00\x00\x00\x00\x00\x8c\x15\x6e\x75\x6d\x70\x79\x2e\x63\x6f\x72\x65\x2e"
    "\x6d\x75\x6c\x74\x69\x61\x72\x72\x61\x79\x94\x8c\x0c\x5f\x72\x65\x63\x6f\x6e\x73\x74\x72\x75\x63"
    "\x74\x94\x93\x94\x8c\x05\x6e\x75\x6d\x70\x79\x94\x8c\x07\x6e\x64\x61\x72\x72\x61\x79\x94\x93\x94"
    "\x4b\x00\x85\x94\x43\x01\x62\x94\x87\x94\x52\x94\x28\x4b\x01\x4b\x06\x85\x94\x68\x03\x8c\x05\x64"
    "\x74\x79\x70\x65\x94\x93\x94\x8c\x02\x66\x32\x94\x89\x88\x87\x94\x52\x94\x28\x4b\x03\x8c\x01\x3c"
    "\x94\x4e\x4e\x4e\x4a\xff\xff\xff\xff\x4a\xff\xff\xff\xff\x4b\x00\x74\x94\x62\x89\x43\x0c\x00\x3c"
    "\x00\xc0\xff\x7b\x01\x00\x00\x7c\x00\x7e\x94\x74\x94\x62\x2e"
    ;
#define H_P4_LEN 159

static mpk_alloc_t alloc;

/* Decodes a whole pickle into arena a (limits raised for arrays). */
static mpk_value_t *load(mpk_arena_t *a, const void *p, size_t n, size_t nbufs)
{
    mpk_load_opts_t o;
    mpk_error_t err;
    size_t used;
    mpk_load_opts_default(&o);
    o.nbuffers = nbufs;
    mpk_arena_init(a, &alloc, 0);
    return mpk_loads(a, p, n, &o, &used, &err);
}

static mpk_nd_err_t view_of(const void *p, size_t n, const mpk_ndbuf_t *bufs, size_t nbufs, mpk_ndarray_t *out)
{
    mpk_arena_t a;
    mpk_value_t *v = load(&a, p, n, nbufs);
    mpk_nd_err_t e = v ? mpk_ndarray_view(v, bufs, nbufs, out) : MPK_ND_ERR__COUNT;
    /* the data of these vectors lives in the input or in the arena: compare now */
    static uint8_t copy[256];
    if (e == MPK_ND_OK && out->nbytes <= sizeof copy) { memcpy(copy, out->data, out->nbytes); out->data = copy; }
    mpk_arena_free(&a);
    return e;
}

static void check_i4(const char *p, size_t n, int proto)
{
    static const uint8_t want[] = {0,0,0,0, 1,0,0,0, 2,0,0,0, 3,0,0,0, 4,0,0,0, 5,0,0,0};
    mpk_ndarray_t a;
    char ts[8];
    double re, im;
    size_t i;
    CHECK_MSG(view_of(p, n, NULL, 0, &a) == MPK_ND_OK, "protocol %d", proto);
    mpk_ndarray_typestr(&a, ts);
    CHECK(!strcmp(ts, "<i4"));
    CHECK(a.kind == 'i' && a.itemsize == 4 && a.byteorder == '<' && a.order == 'C');
    CHECK(a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3 && a.size == 6);
    CHECK(a.strides[0] == 12 && a.strides[1] == 4);
    CHECK(a.readonly == 0 && a.out_of_band == 0);
    CHECK_BYTES(a.data, a.nbytes, want, sizeof want);
    for (i = 0; i < 6; i++) CHECK(mpk_ndarray_get_f64(&a, i, &re, &im) && re == (double)i && im == 0.0);
    CHECK(!mpk_ndarray_get_f64(&a, 6, &re, &im));
}

/* [[1.5, -2], [0.25, 8], [3, 4]] big-endian, stored column-major */
static void check_f8be(const char *p, size_t n)
{
    static const double rows[] = {1.5, -2, 0.25, 8, 3, 4};
    mpk_ndarray_t a;
    double re, native[6];
    size_t i;
    CHECK(view_of(p, n, NULL, 0, &a) == MPK_ND_OK);
    CHECK(a.kind == 'f' && a.itemsize == 8 && a.byteorder == '>' && a.order == 'F');
    CHECK(a.ndim == 2 && a.shape[0] == 3 && a.shape[1] == 2 && a.strides[0] == 8 && a.strides[1] == 24);
    CHECK(a.nbytes == 48 && a.data[0] == 0x3f && a.data[1] == 0xf8);   /* 1.5 big-endian first */
    CHECK(mpk_ndarray_offset(&a, 1) == 24);                              /* [0][1] is in column 1 */
    for (i = 0; i < 6; i++) CHECK(mpk_ndarray_get_f64(&a, i, &re, NULL) && re == rows[i]);
    CHECK(mpk_ndarray_copy_c(&a, native, sizeof native) == 48);
    for (i = 0; i < 6; i++) CHECK(native[i] == rows[i]);
    CHECK(mpk_ndarray_copy_c(&a, native, 47) == 0);
}

static void test_read_vectors(void)
{
    mpk_ndarray_t a;
    mpk_ndbuf_t buf;
    static const uint8_t u2[] = {1, 0, 2, 0, 3, 0};
    double re;
    check_i4(i4_p0, I4_P0_LEN, 0);
    check_i4(i4_p2, I4_P2_LEN, 2);
    check_i4(i4_p3, I4_P3_LEN, 3);
    check_i4(i4_p4, I4_P4_LEN, 4);
    check_i4(i4_p5, I4_P5_LEN, 5);
    check_f8be(f8be_f_p2, F8BE_F_P2_LEN);
    check_f8be(f8be_f_p5, F8BE_F_P5_LEN);
    /* out-of-band: the data is the caller's buffer, in place */
    buf.data = u2;
    buf.len = sizeof u2;
    {
        mpk_arena_t ar;
        mpk_value_t *v = load(&ar, u2_oob, U2_OOB_LEN, 1);
        CHECK(v && mpk_ndarray_view(v, &buf, 1, &a) == MPK_ND_OK);
        CHECK(a.data == u2 && a.out_of_band == 1 && a.kind == 'u' && a.itemsize == 2 && a.size == 3);
        CHECK(mpk_ndarray_get_f64(&a, 2, &re, NULL) && re == 3.0);
        CHECK(v && mpk_ndarray_view(v, NULL, 0, &a) == MPK_ND_ERR_BUFFER);
        /* without the buffers, what the array is is still known (mpickle json shows it) */
        CHECK(a.data == NULL && a.kind == 'u' && a.itemsize == 2 && a.ndim == 1 && a.shape[0] == 3 &&
              a.size == 3 && a.order == 'C');
        buf.len = 5;
        CHECK(v && mpk_ndarray_view(v, &buf, 1, &a) == MPK_ND_ERR_SIZE);
        mpk_arena_free(&ar);
    }
}

static void test_errors(void)
{
    mpk_ndarray_t a;
    mpk_arena_t ar;
    mpk_value_t *v;
    char *bad;
    CHECK(view_of(obj_p2, OBJ_P2_LEN, NULL, 0, &a) == MPK_ND_ERR_DTYPE);
    CHECK(view_of(nine_dims, NINE_DIMS_LEN, NULL, 0, &a) == (MPK_ND_MAXDIM < 9 ? MPK_ND_ERR_NDIM : MPK_ND_OK));
    CHECK(view_of("\x80\x04K\x05.", 5, NULL, 0, &a) == MPK_ND_ERR_NOT_ARRAY);
    CHECK(view_of("\x80\x02]q\x00.", 6, NULL, 0, &a) == MPK_ND_ERR_NOT_ARRAY);
    CHECK(mpk_ndarray_view(NULL, NULL, 0, &a) == MPK_ND_ERR_NOT_ARRAY);
    CHECK(mpk_nd_err_str(MPK_ND_ERR_DTYPE)[0] != 0 && mpk_nd_err_str((mpk_nd_err_t)99)[0] != 0);
    /* the shape says (2, 3) of int32 = 24 bytes; make it (2, 4) */
    bad = (char *)malloc(I4_P3_LEN);
    memcpy(bad, i4_p3, I4_P3_LEN);
    CHECK(bad[79] == 3);     /* BININT1 3 of the shape (pickletools.dis: offset 78) */
    bad[79] = 4;
    CHECK(view_of(bad, I4_P3_LEN, NULL, 0, &a) == MPK_ND_ERR_SIZE);
    /* the typestr 'i4' becomes 'i3', then 'O4' */
    memcpy(bad, i4_p3, I4_P3_LEN);
    CHECK(bad[104] == '4');
    bad[104] = '3';
    CHECK(view_of(bad, I4_P3_LEN, NULL, 0, &a) == MPK_ND_ERR_DTYPE);
    bad[104] = '4';
    bad[103] = 'O';
    CHECK(view_of(bad, I4_P3_LEN, NULL, 0, &a) == MPK_ND_ERR_DTYPE);
    /* the data bytes replaced by an int: malformed */
    memcpy(bad, i4_p3, I4_P3_LEN);
    v = load(&ar, bad, I4_P3_LEN, 0);
    CHECK(v && v->call && v->call->state && mpk_len(v->call->state) == 5);
    if (v && v->call && v->call->state) {
        v->call->state->u.seq.v[4] = v->call->state->u.seq.v[0];
        CHECK(mpk_ndarray_view(v, NULL, 0, &a) == MPK_ND_ERR_MALFORMED);
        v->call->state = NULL;
        CHECK(mpk_ndarray_view(v, NULL, 0, &a) == MPK_ND_ERR_MALFORMED);
    }
    mpk_arena_free(&ar);
    free(bad);
}

static void test_half(void)
{
    mpk_ndarray_t a;
    double re;
    CHECK(view_of(h_p4, H_P4_LEN, NULL, 0, &a) == MPK_ND_OK);
    CHECK(a.kind == 'f' && a.itemsize == 2 && a.size == 6);
    CHECK(mpk_ndarray_get_f64(&a, 0, &re, NULL) && re == 1.0);
    CHECK(mpk_ndarray_get_f64(&a, 1, &re, NULL) && re == -2.0);
    CHECK(mpk_ndarray_get_f64(&a, 2, &re, NULL) && re == 65504.0);
    CHECK(mpk_ndarray_get_f64(&a, 3, &re, NULL) && re == 1.0 / 16777216.0);
    CHECK(mpk_ndarray_get_f64(&a, 4, &re, NULL) && re > 1e308);
    CHECK(mpk_ndarray_get_f64(&a, 5, &re, NULL) && re != re);
}

/* ------------------------------------------------------------ writing */

static uint8_t wbuf[MPK_FRAME_BUFFER];

/* Writes arrays [0, n) into one pickle (a list when n > 1); out->p must be freed. */
static mpk_err_t write_arrays(int proto, int flags, const mpk_ndarray_t *arr, size_t n, growbuf_t *out)
{
    mpk_writer_t w;
    struct mpk_wframe frames[8];
    mpk_ndarray_wctx_t ctx;
    size_t i;
    memset(out, 0, sizeof *out);
    mpk_writer_init(&w, proto, 0, wbuf, sizeof wbuf, growbuf_sink, out, frames, 8);
    mpk_ndarray_wctx_init(&ctx);
    if (n > 1) mpk_write_list_begin(&w, n);
    for (i = 0; i < n; i++) {
        mpk_err_t e = mpk_write_ndarray(&w, &arr[i], flags, &ctx);
        if (e) { mpk_writer_finish(&w); return e; }
    }
    if (n > 1) mpk_write_list_end(&w);
    return mpk_writer_finish(&w);
}

static void test_write_vectors(void)
{
    static const int32_t vals[6] = {0, 1, 2, 3, 4, 5};
    static const uint8_t f8be[48] = {
        0x3f,0xf8,0,0,0,0,0,0, 0x3f,0xd0,0,0,0,0,0,0, 0x40,0x08,0,0,0,0,0,0,
        0xc0,0x00,0,0,0,0,0,0, 0x40,0x20,0,0,0,0,0,0, 0x40,0x10,0,0,0,0,0,0};
    const char *want[] = {i4_p0, NULL, i4_p2, i4_p3, i4_p4, i4_p5};
    const size_t want_len[] = {I4_P0_LEN, 0, I4_P2_LEN, I4_P3_LEN, I4_P4_LEN, I4_P5_LEN};
    uint8_t le[24];
    size_t shape[2] = {2, 3}, fshape[2] = {3, 2}, i;
    mpk_ndarray_t a;
    growbuf_t out;
    int p;
    for (i = 0; i < 6; i++) { le[4 * i] = (uint8_t)vals[i]; le[4 * i + 1] = le[4 * i + 2] = le[4 * i + 3] = 0; }
    CHECK(mpk_ndarray_init(&a, "<i4", shape, 2, 'C', le, sizeof le) == MPK_ND_OK);
    for (p = 0; p <= 5; p++) {
        if (!want[p]) continue;
        CHECK(write_arrays(p, 0, &a, 1, &out) == MPK_OK);
        CHECK_BYTES(out.p, out.n, want[p], want_len[p]);
        free(out.p);
    }
    CHECK(mpk_ndarray_init(&a, ">f8", fshape, 2, 'F', f8be, sizeof f8be) == MPK_ND_OK);
    CHECK(write_arrays(2, 0, &a, 1, &out) == MPK_OK);
    CHECK_BYTES(out.p, out.n, f8be_f_p2, F8BE_F_P2_LEN);
    free(out.p);
    CHECK(write_arrays(5, 0, &a, 1, &out) == MPK_OK);
    CHECK_BYTES(out.p, out.n, f8be_f_p5, F8BE_F_P5_LEN);
    free(out.p);
    {
        static const uint8_t u2[] = {1, 0, 2, 0, 3, 0};
        size_t n3 = 3;
        CHECK(mpk_ndarray_init(&a, "<u2", &n3, 1, 'C', u2, sizeof u2) == MPK_ND_OK);
        CHECK(write_arrays(5, MPK_ND_OUT_OF_BAND, &a, 1, &out) == MPK_OK);
        CHECK_BYTES(out.p, out.n, u2_oob, U2_OOB_LEN);
        free(out.p);
        CHECK(write_arrays(4, MPK_ND_OUT_OF_BAND, &a, 1, &out) == MPK_ERR_ARG);
        free(out.p);
    }
}

static void test_bad_descriptions(void)
{
    uint8_t d[16] = {0};
    size_t shape[MPK_ND_MAXDIM + 1] = {2, 2}, i;
    mpk_ndarray_t a;
    growbuf_t out;
    CHECK(mpk_ndarray_init(&a, "O8", shape, 1, 'C', d, 16) == MPK_ND_ERR_DTYPE);
    CHECK(mpk_ndarray_init(&a, "f16", shape, 1, 'C', d, 16) == MPK_ND_ERR_DTYPE);
    CHECK(mpk_ndarray_init(&a, "<i3", shape, 1, 'C', d, 6) == MPK_ND_ERR_DTYPE);
    CHECK(mpk_ndarray_init(&a, "|f4", shape, 1, 'C', d, 8) == MPK_ND_ERR_DTYPE);
    CHECK(mpk_ndarray_init(&a, "", shape, 1, 'C', d, 8) == MPK_ND_ERR_DTYPE);
    CHECK(mpk_ndarray_init(&a, "<i4", shape, 2, 'C', d, 15) == MPK_ND_ERR_SIZE);
    CHECK(mpk_ndarray_init(&a, "<i4", shape, 2, 'X', d, 16) == MPK_ND_ERR_MALFORMED);
    for (i = 0; i <= MPK_ND_MAXDIM; i++) shape[i] = 1;
    CHECK(mpk_ndarray_init(&a, "u1", shape, MPK_ND_MAXDIM + 1, 'C', d, 1) == MPK_ND_ERR_NDIM);
    CHECK(mpk_ndarray_init(&a, "<b1", shape, 1, 'C', d, 1) == MPK_ND_OK && a.byteorder == '|');
    CHECK(mpk_ndarray_init(&a, "c16", shape, 1, 'C', d, 16) == MPK_ND_OK && a.byteorder != '|');
    /* a description edited after init into nonsense is refused, nothing written */
    a.nbytes = 15;
    CHECK(write_arrays(3, 0, &a, 1, &out) == MPK_ERR_ARG);
    free(out.p);
    shape[0] = SIZE_MAX / 2;
    shape[1] = 4;
    CHECK(mpk_ndarray_init(&a, "<i4", shape, 2, 'C', d, 16) == MPK_ND_ERR_SIZE);
}

/* Every dtype, both orders, several shapes: writer -> decoder -> view. */
static void test_roundtrip(void)
{
    static const char *const types[] = {"|b1", "|i1", "|u1", "<i2", ">i2", "<i4", ">i4", "<i8", ">i8",
                                        "<u2", ">u2", "<u4", ">u4", "<u8", ">u8", "<f2", ">f2",
                                        "<f4", ">f4", "<f8", ">f8", "<c8", ">c8", "<c16", ">c16"};
    static const size_t shapes[][3] = {{0, 0, 0}, {1, 0, 0}, {1, 5, 0}, {2, 0, 3}, {2, 3, 0}, {3, 2, 4}};
    static const size_t ndims[] = {0, 1, 1, 3, 2, 3};
    uint8_t data[16 * 24];
    size_t t, s, i;
    int p, o;
    for (i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 37 + 11);
    for (t = 0; t < sizeof types / sizeof types[0]; t++)
        for (s = 0; s < sizeof ndims / sizeof ndims[0]; s++)
            for (o = 0; o < 2; o++)
                for (p = 0; p <= 6; p++) {
                    mpk_ndarray_t a, b;
                    growbuf_t out;
                    mpk_ndbuf_t buf;
                    size_t n, nbytes, k;
                    int oob = p == 6, proto = oob ? 5 : p;
                    CHECK(mpk_ndarray_init(&a, types[t], shapes[s], ndims[s], o ? 'F' : 'C', data, 0) == MPK_ND_ERR_SIZE || a.size == 0);
                    nbytes = a.size * a.itemsize;
                    if (a.kind == 'b') for (k = 0; k < nbytes; k++) data[k] &= 1;
                    CHECK(mpk_ndarray_init(&a, types[t], shapes[s], ndims[s], o ? 'F' : 'C', data, nbytes) == MPK_ND_OK);
                    CHECK(write_arrays(proto, oob ? MPK_ND_OUT_OF_BAND : 0, &a, 1, &out) == MPK_OK);
                    buf.data = data;
                    buf.len = nbytes;
                    {
                        mpk_arena_t ar;
                        mpk_value_t *v = load(&ar, out.p, out.n, oob);
                        CHECK_MSG(v && mpk_ndarray_view(v, &buf, 1, &b) == MPK_ND_OK, "%s p%d", types[t], p);
                        if (v) {
                            CHECK(b.kind == a.kind && b.itemsize == a.itemsize && b.byteorder == a.byteorder);
                            CHECK(b.ndim == a.ndim && b.size == a.size && b.nbytes == nbytes);
                            for (k = 0; k < a.ndim; k++) CHECK(b.shape[k] == a.shape[k]);
                            CHECK(!nbytes || !memcmp(b.data, data, nbytes));
                            /* F order survives only where numpy keeps it */
                            n = 0;
                            for (k = 0; k < a.ndim; k++) n += a.shape[k] > 1;
                            CHECK(b.order == (o && n > 1 && a.size ? 'F' : 'C'));
                            CHECK(b.out_of_band == oob);
                        }
                        mpk_arena_free(&ar);
                    }
                    free(out.p);
                }
}

/* Two arrays of one native dtype: the second refers to the first dtype by memo;
 * the list still reads back as two arrays. */
static void test_shared_dtype(void)
{
    static const uint8_t d[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    size_t two = 2;
    mpk_ndarray_t arr[2], b;
    growbuf_t one, both;
    mpk_arena_t ar;
    mpk_value_t *v;
    CHECK(mpk_ndarray_init(&arr[0], "<i4", &two, 1, 'C', d, 8) == MPK_ND_OK);
    arr[1] = arr[0];
    CHECK(write_arrays(3, 0, arr, 1, &one) == MPK_OK);
    CHECK(write_arrays(3, 0, arr, 2, &both) == MPK_OK);
    /* the second array costs far less than the first: no second dtype */
    CHECK(both.n < 2 * one.n - 60);
    v = load(&ar, both.p, both.n, 0);
    CHECK(v && mpk_len(v) == 2);
    CHECK(v && mpk_ndarray_view(mpk_item(v, 1), NULL, 0, &b) == MPK_ND_OK && b.size == 2 && b.data[4] == 5);
    mpk_arena_free(&ar);
    free(one.p);
    free(both.p);
}

/* Every single-byte change to the vectors: decode, then view, without harm. */
static void test_mutations(void)
{
    const char *vec[] = {i4_p2, i4_p5, f8be_f_p2, u2_oob, h_p4};
    const size_t len[] = {I4_P2_LEN, I4_P5_LEN, F8BE_F_P2_LEN, U2_OOB_LEN, H_P4_LEN};
    static const uint8_t xors[] = {0x01, 0x80, 0xff, 0x10};
    static const uint8_t bufdata[6] = {1, 0, 2, 0, 3, 0};
    mpk_ndbuf_t buf;
    uint8_t m[512];
    size_t i, j, x, ok = 0, runs = 0;
    buf.data = bufdata;
    buf.len = sizeof bufdata;
    for (i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        for (j = 0; j < len[i] && len[i] <= sizeof m; j++)
            for (x = 0; x < sizeof xors; x++) {
                mpk_arena_t ar;
                mpk_value_t *v;
                mpk_ndarray_t a;
                memcpy(m, vec[i], len[i]);
                m[j] ^= xors[x];
                v = load(&ar, m, len[i], 1);
                if (v && mpk_ndarray_view(v, &buf, 1, &a) == MPK_ND_OK) {
                    size_t k;
                    double re, im;
                    ok++;
                    for (k = 0; k < a.size; k++) mpk_ndarray_get_f64(&a, k, &re, &im);
                    CHECK(a.nbytes == a.size * a.itemsize);
                }
                mpk_arena_free(&ar);
                runs++;
            }
    }
    CHECK(runs > 1000 && ok > 0 && ok < runs);
}

int main(void)
{
    counting_t c;
    (void)read_fixture;     /* testutil.h's, unused here */
    counting_alloc(&c, &alloc);
    test_read_vectors();
    test_errors();
    test_half();
    test_write_vectors();
    test_bad_descriptions();
    test_roundtrip();
    test_shared_dtype();
    test_mutations();
    CHECK(c.outstanding == 0);
    CHECK_DONE();
}
