/*
 * mpickle: Python's pickle protocol (0-5) in portable C99.
 *
 * Three layers, each usable alone:
 *   - the decoder VM (mpk_decoder_*): bytes in, objects out through host callbacks;
 *   - the opcode writer (mpk_writer_*, mpk_write_*): C calls in, CPython's exact bytes out;
 *   - the value model (mpk_value_*): a plain-C host that decodes into an arena graph
 *     and encodes a graph back, for firmware and for the `mpickle` command.
 *
 * Conventions: every function that can fail returns an mpk_err_t (MPK_OK == 0) or
 * records it in its object; errors are sticky (the first one wins, later calls do
 * nothing). The core never allocates except through an mpk_alloc_t the caller
 * passes, never prints, keeps no global mutable state and never longjmps.
 */
#ifndef MPICKLE_H
#define MPICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "mpickle_config.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MPK_VERSION "0.1.0"
#define MPK_HIGHEST_PROTOCOL 5
#define MPK_DEFAULT_PROTOCOL 4

/* ------------------------------------------------------------------ errors */

typedef enum mpk_err {
    MPK_OK = 0,
    MPK_ERR_TRUNCATED,      /* input ended before STOP (CPython: EOFError) */
    MPK_ERR_BAD_OPCODE,     /* a byte that is no opcode */
    MPK_ERR_MALFORMED,      /* an opcode's argument is invalid (bad text, bad length) */
    MPK_ERR_STACK,          /* stack underflow, or an operand of the wrong type */
    MPK_ERR_MARK,           /* no MARK where one is needed, or a MARK where none may be */
    MPK_ERR_MEMO,           /* GET of a memo key that was never PUT */
    MPK_ERR_STOP,           /* STOP with other than exactly one value on the stack */
    MPK_ERR_PROTOCOL,       /* unsupported protocol number */
    MPK_ERR_ENCODING,       /* text that does not decode (ASCII py2 str, bad escape) */
    MPK_ERR_LIMIT,          /* a configured limit was exceeded (see mpk_limits_t) */
    MPK_ERR_NOMEM,          /* the allocator returned NULL */
    MPK_ERR_IO,             /* a source or sink callback failed */
    MPK_ERR_REFUSED,        /* the host refused a global, call or feature (safety policy) */
    MPK_ERR_UNSUPPORTED,    /* the host (or this build) lacks a feature the data needs */
    MPK_ERR_ARG,            /* API misuse: bad argument, call out of order */
    MPK_ERR__COUNT
} mpk_err_t;

/* Where and why: the byte offset and opcode of the failing instruction (opcode -1
 * when none, e.g. for a writer error), and a static message. */
typedef struct mpk_error {
    mpk_err_t code;
    int opcode;
    uint64_t offset;
    const char *msg;
} mpk_error_t;

/* Short static description of an error code ("truncated input", ...). */
const char *mpk_err_str(mpk_err_t code);

/* Formats "offset 12, opcode BINPUT 'q': message" into buf (always NUL-terminated
 * when size > 0); returns the length it wanted to write. */
size_t mpk_error_format(const mpk_error_t *err, char *buf, size_t size);

/* Name of an opcode byte ("BINPUT"), or NULL when the byte is no opcode. */
const char *mpk_opcode_name(int opcode);

/* --------------------------------------------------------------- allocator */

/* All memory comes through this. realloc and free get the old size, so that pool
 * and arena allocators need no headers. free may be NULL (arena semantics). */
typedef struct mpk_alloc {
    void *(*realloc)(void *ctx, void *ptr, size_t old_size, size_t new_size);
    void (*free)(void *ctx, void *ptr, size_t size);
    void *ctx;
} mpk_alloc_t;

/* An allocator that serves from one caller buffer: bump allocation, the last block
 * can grow in place, nothing is freed until the pool is reset. */
typedef struct mpk_pool {
    uint8_t *base;
    size_t size, used, last;
} mpk_pool_t;

void mpk_pool_init(mpk_pool_t *pool, void *buf, size_t size, mpk_alloc_t *out_alloc);

#if MPK_WITH_LIBC_ALLOC
/* An allocator over libc realloc/free (only in builds with MPK_WITH_LIBC_ALLOC). */
void mpk_alloc_libc(mpk_alloc_t *out_alloc);
#endif

/* ------------------------------------------------------------------ limits */

/* Bounds for untrusted input. A zero field means "use the default". Defaults (in
 * mpickle_config.h) fit a microcontroller; the CLI raises them. */
typedef struct mpk_limits {
    uint32_t max_depth;     /* open MARKs of the VM; nesting depth of encoders */
    uint32_t max_stack;     /* VM stack slots */
    uint32_t max_memo;      /* memo entries */
    uint64_t max_str;       /* bytes in one string, bytes object or text line */
    uint64_t max_alloc;     /* bytes allocated in total through the allocator */
    uint64_t max_input;     /* bytes read for one pickle (0: unlimited by default) */
} mpk_limits_t;

/* The defaults, as a filled struct. */
void mpk_limits_default(mpk_limits_t *limits);

/* ================================================================ decoder */

/* Host objects are opaque to the VM: a pointer-sized handle. */
typedef void *mpk_obj_t;

typedef struct mpk_decoder mpk_decoder_t;

/* How py2 `str` payloads (STRING, BINSTRING, SHORT_BINSTRING) are decoded, as
 * CPython's `encoding=` argument. */
typedef enum mpk_py2str {
    MPK_PY2STR_ASCII = 0,   /* non-ASCII bytes are an MPK_ERR_ENCODING error (CPython default) */
    MPK_PY2STR_LATIN1,      /* every byte is one code point */
    MPK_PY2STR_BYTES        /* make bytes objects instead of str */
} mpk_py2str_t;

/* Text handed to make_str: UTF8 is the pickle's own encoding (UTF-8, with lone
 * surrogates encoded as CPython's 'surrogatepass' does); LATIN1 is one byte per
 * code point (only for py2 strings with MPK_PY2STR_LATIN1). */
typedef enum mpk_text { MPK_TEXT_UTF8 = 0, MPK_TEXT_LATIN1 } mpk_text_t;

/* A global name as the pickle gave it and as resolved (after fix_imports mapping).
 * module_obj/name_obj are the host string objects of STACK_GLOBAL, else NULL. */
typedef struct mpk_name {
    const char *module; size_t module_len;
    const char *name; size_t name_len;
    const char *raw_module; size_t raw_module_len;   /* before mapping; == module if unmapped */
    const char *raw_name; size_t raw_name_len;
    mpk_obj_t module_obj, name_obj;
} mpk_name_t;

/* Which opcode built a call (REDUCE, NEWOBJ, NEWOBJ_EX, INST or OBJ). */
typedef enum mpk_call {
    MPK_CALL_REDUCE = 0, MPK_CALL_NEWOBJ, MPK_CALL_NEWOBJ_EX, MPK_CALL_INST, MPK_CALL_OBJ
} mpk_call_t;

/*
 * The callbacks that give objects and names meaning. Each returns MPK_OK or an
 * error code (the VM adds offset and opcode; mpk_decoder_fail() can set a message
 * first). Payload pointers are valid only during the call unless `stable` is set,
 * in which case they point into the caller's input and live as long as it does.
 * Optional callbacks may be NULL: the VM then fails with MPK_ERR_UNSUPPORTED.
 */
typedef struct mpk_host {
    mpk_err_t (*make_none)(void *ctx, mpk_obj_t *out);
    mpk_err_t (*make_bool)(void *ctx, int value, mpk_obj_t *out);
    mpk_err_t (*make_int)(void *ctx, int64_t value, mpk_obj_t *out);
    /* little-endian two's complement, n >= 1, minimal or not (LONG1/LONG4 payloads) */
    mpk_err_t (*make_bigint)(void *ctx, const uint8_t *le, size_t n, mpk_obj_t *out);
    mpk_err_t (*make_float)(void *ctx, double value, mpk_obj_t *out);
    mpk_err_t (*make_str)(void *ctx, const char *s, size_t n, mpk_text_t text, int stable, mpk_obj_t *out);
    mpk_err_t (*make_bytes)(void *ctx, const uint8_t *p, size_t n, int stable, mpk_obj_t *out);
    mpk_err_t (*make_bytearray)(void *ctx, const uint8_t *p, size_t n, mpk_obj_t *out);
    mpk_err_t (*make_tuple)(void *ctx, const mpk_obj_t *items, size_t n, mpk_obj_t *out);
    mpk_err_t (*make_list)(void *ctx, mpk_obj_t *out);          /* empty */
    mpk_err_t (*make_dict)(void *ctx, mpk_obj_t *out);          /* empty */
    mpk_err_t (*make_set)(void *ctx, mpk_obj_t *out);           /* empty */
    mpk_err_t (*make_frozenset)(void *ctx, const mpk_obj_t *items, size_t n, mpk_obj_t *out);
    /* APPEND/APPENDS: on a list, or anything else (CPython calls extend/append) */
    mpk_err_t (*list_extend)(void *ctx, mpk_obj_t list, const mpk_obj_t *items, size_t n);
    /* SETITEM/SETITEMS: kv holds key, value, key, value... (n pairs) */
    mpk_err_t (*dict_setitems)(void *ctx, mpk_obj_t dict, const mpk_obj_t *kv, size_t n);
    mpk_err_t (*set_add)(void *ctx, mpk_obj_t set, const mpk_obj_t *items, size_t n);
    /* the text of a str object (for STACK_GLOBAL); fails if obj is no str */
    mpk_err_t (*get_str)(void *ctx, mpk_obj_t obj, const char **s, size_t *n);
    /* GLOBAL, STACK_GLOBAL, INST's class and OBJ... : the safety policy lives here */
    mpk_err_t (*find_global)(void *ctx, const mpk_name_t *name, mpk_obj_t *out);
    /* REDUCE (args), NEWOBJ (cls, args), NEWOBJ_EX (cls, args, kwargs), INST/OBJ (cls, args) */
    mpk_err_t (*call)(void *ctx, mpk_call_t kind, mpk_obj_t callable, mpk_obj_t args,
                      mpk_obj_t kwargs, mpk_obj_t *out);
    /* BUILD: *out starts as obj, the object left on the stack; a host may put
     * another object there instead (mPickle's setstate_func may return one) */
    mpk_err_t (*build)(void *ctx, mpk_obj_t obj, mpk_obj_t state, mpk_obj_t *out);
    mpk_err_t (*persistent_load)(void *ctx, mpk_obj_t pid, mpk_obj_t *out);
    mpk_err_t (*extension)(void *ctx, uint32_t code, mpk_obj_t *out);
    mpk_err_t (*next_buffer)(void *ctx, mpk_obj_t *out);
    mpk_err_t (*readonly_buffer)(void *ctx, mpk_obj_t obj, mpk_obj_t *out);
} mpk_host_t;

typedef struct mpk_decoder_opts {
    mpk_limits_t limits;
    int fix_imports;        /* map Python 2 names for protocols < 3 (default on: see init) */
    mpk_py2str_t py2str;
} mpk_decoder_opts_t;

/* Defaults: default limits, fix_imports on, ASCII py2 strings. */
void mpk_decoder_opts_default(mpk_decoder_opts_t *opts);

/* Result of feeding input. */
typedef enum mpk_status {
    MPK_NEED_MORE = 0,      /* all input consumed, STOP not yet reached */
    MPK_DONE = 1,           /* STOP reached: the object is ready, later bytes untouched */
    MPK_FAILED = -1         /* an error: see mpk_decoder_error() */
} mpk_status_t;

/* Opaque but sized so that callers can place it on the stack or in static memory. */
struct mpk_decoder {
    /* public to read */
    mpk_error_t err;
    /* private */
    const mpk_host_t *host;
    void *host_ctx;
    mpk_alloc_t alloc;
    mpk_decoder_opts_t opts;
    uint64_t offset;            /* bytes consumed in this pickle */
    uint64_t op_offset;         /* offset of the instruction being executed */
    int op;                     /* its opcode, -1 between instructions */
    uint64_t allocated;         /* bytes currently allocated through alloc */
    uint64_t frame_left;        /* bytes left in the current FRAME, 0 outside one */
    mpk_obj_t *stack; size_t sp, stack_cap;
    size_t *marks; size_t nmarks, marks_cap;
    mpk_obj_t *memo; size_t memo_cap;       /* dense part: keys 0..memo_cap-1 */
    uint8_t *memo_set; size_t memo_set_bytes; /* bit per dense key: present */
    uint64_t *sparse_keys; mpk_obj_t *sparse_vals; size_t sparse_n, sparse_cap;
    size_t memo_count;                      /* entries in total (MEMOIZE's next key) */
    uint8_t *scratch; size_t scratch_len, scratch_cap; /* a partial instruction */
    uint8_t *text; size_t text_cap;         /* decoded text (protocol 0 escapes, latin-1) */
    size_t need;                /* bytes the partial instruction needs in total, 0 = unknown */
    size_t scanned;             /* bytes of a partial text line already searched for '\n' */
    int partial;                /* an instruction is split across feeds */
    int lines_seen;             /* newlines already in a split two-line argument */
    int proto;                  /* from PROTO, 0 before it */
    int max_op_proto;           /* highest protocol among the opcodes seen */
    int done;
    mpk_obj_t result;
};

/* Prepares a decoder. opts may be NULL (defaults). No memory is taken yet. */
void mpk_decoder_init(mpk_decoder_t *d, const mpk_host_t *host, void *host_ctx,
                      const mpk_alloc_t *alloc, const mpk_decoder_opts_t *opts);

/* Feeds the next n bytes. *used (may be NULL) receives how many were consumed:
 * all of them unless DONE (then the rest belongs to what follows the pickle) or
 * FAILED. Pieces of any size, down to one byte, give the same result. If `stable`
 * is set, data stays valid and unchanged until the decoder is destroyed, so that
 * payloads can be referenced in place. */
mpk_status_t mpk_decoder_feed(mpk_decoder_t *d, const void *data, size_t n, int stable, size_t *used);

/* Declares the end of input: MPK_ERR_TRUNCATED unless the pickle is complete. */
mpk_status_t mpk_decoder_finish(mpk_decoder_t *d);

/* The object of a DONE pickle. */
mpk_obj_t mpk_decoder_result(const mpk_decoder_t *d);

/* The first error (code MPK_OK while there is none). */
const mpk_error_t *mpk_decoder_error(const mpk_decoder_t *d);

/* Sets the sticky error (first one wins) with a static message; for host callbacks,
 * which then return the same code. Returns code. */
mpk_err_t mpk_decoder_fail(mpk_decoder_t *d, mpk_err_t code, const char *msg);

/* In a host callback: the opcode being executed (-1 between instructions) and,
 * in *offset (may be NULL), its byte offset in this pickle. For reports and
 * scanners that say where a global or a call came from. */
int mpk_decoder_current_op(const mpk_decoder_t *d, uint64_t *offset);

/* Makes the decoder ready for the next pickle of a stream (keeps no memo). */
void mpk_decoder_reset(mpk_decoder_t *d);

/* Like mpk_decoder_reset but keeps the memo, so that the next pickle may GET what
 * earlier ones PUT: CPython's Unpickler.load() called again on one stream. */
void mpk_decoder_next(mpk_decoder_t *d);

/* Returns the VM's working memory to the allocator. */
void mpk_decoder_destroy(mpk_decoder_t *d);

/* The protocol the pickle declared with PROTO; without one, 1 if it used any
 * binary opcode and 0 if not (the protocol CPython would have used to write it). */
int mpk_decoder_protocol(const mpk_decoder_t *d);

/* ======================================================= opcode writer */

typedef struct mpk_writer mpk_writer_t;

/* Receives output; returns 0 on success, nonzero to fail the writer with MPK_ERR_IO. */
typedef int (*mpk_sink_fn)(void *ctx, const uint8_t *data, size_t n);

enum {
    MPK_WRITE_COMPACT = 1,      /* memoize only objects marked shared; no FRAME */
    MPK_WRITE_NO_FIX_IMPORTS = 2/* protocols < 3: keep Python 3 names (CPython fix_imports=False) */
};

#define MPK_WRITER_NAMES 32     /* globals and names remembered for memo reuse */

/* Nesting state of one open container (callers provide an array of these). */
struct mpk_wframe {
    uint8_t kind, share, half;
    uint8_t make_first;         /* compact: the first batch ends with LIST/DICT (made by MARK) */
    uint64_t n, done;           /* items declared and written (dict: pairs) */
    uint64_t quiet_end;         /* list: items before this count need no opcode (inside a batch) */
};

struct mpk_wname {              /* a name written once and reused by GET */
    uint8_t kind;
    const char *a, *b; size_t an, bn;
    uint32_t memo;
};

/* What a writer remembers of earlier objects: the next memo key and the names
 * already written. CPython's Pickler keeps this across dump() calls. */
typedef struct mpk_writer_memo {
    uint32_t next;
    uint32_t nnames;
    struct mpk_wname names[MPK_WRITER_NAMES];
} mpk_writer_memo_t;

struct mpk_writer {
    mpk_error_t err;
    /* private */
    uint8_t *buf; size_t cap, len;
    size_t fast_end;            /* an atom ending at or before this offset is stored directly */
    mpk_sink_fn sink; void *sink_ctx;
    mpk_alloc_t grow; size_t max_cap; /* growth of buf, when grow.realloc is set */
    uint64_t flushed;           /* bytes handed to the sink */
    int proto, flags;
    int share_next;             /* the next object is referenced again (compact mode) */
    int unframed;               /* frames are off for the rest of this pickle */
    int bypass;                 /* a large payload is being written outside frames */
    int64_t last_memo;          /* key given to the last memoized object, -1 none */
    size_t frame_start;         /* offset in buf of the open frame's header, or SIZE_MAX */
    uint32_t depth, max_depth, frames_cap;
    struct mpk_wframe *frames;
    mpk_writer_memo_t memo;
};

/* Writes into buf[0..cap) (cap >= 16). Without a sink the whole pickle must fit
 * (else MPK_ERR_LIMIT); with a sink, buf is flushed whenever it fills. For
 * protocols >= 4 without MPK_WRITE_COMPACT, a whole frame (up to 64 KiB plus one
 * object of under 64 KiB: MPK_FRAME_BUFFER bytes) must fit in buf for CPython's
 * exact bytes; with a smaller buffer, the rest of a pickle whose frame overflows
 * is written without frames (still valid). `frames` holds the nesting state of
 * begin/end pairs: max_depth entries. Names given to mpk_write_global must stay
 * valid until mpk_writer_finish. */
#define MPK_FRAME_BUFFER (2u * 65536u + 64u)
void mpk_writer_init(mpk_writer_t *w, int protocol, int flags, void *buf, size_t cap,
                     mpk_sink_fn sink, void *sink_ctx, struct mpk_wframe *frames, uint32_t max_depth);

/* Lets buf grow through alloc (buf must then come from it) up to max_cap bytes,
 * and the frames array (then from alloc too, or NULL with max_depth 0 at init) up
 * to max_depth entries. Without a sink the whole pickle is built in memory; with
 * one, buf grows only until a whole frame fits (max_cap MPK_FRAME_BUFFER gives
 * CPython's exact frames from a small start). Call right after init. If alloc
 * fails, a writer without a sink fails with MPK_ERR_NOMEM; one with a sink goes
 * on in the buffer it has, as if max_cap had been reached. The caller frees
 * both (mpk_writer_buffer, mpk_writer_frames). */
void mpk_writer_set_growth(mpk_writer_t *w, const mpk_alloc_t *alloc, size_t max_cap, uint32_t max_depth);

/* The frames array (it may have moved by growth) and its capacity in entries. */
struct mpk_wframe *mpk_writer_frames(const mpk_writer_t *w, uint32_t *cap);

/* The buffer (it may have moved by growth), its used length and capacity. After
 * mpk_writer_finish without a sink it holds the whole pickle. The caller owns it. */
uint8_t *mpk_writer_buffer(const mpk_writer_t *w, size_t *len, size_t *cap);

/* Save and restore the memo between pickles, as CPython's Pickler does across
 * dump() calls on one stream: set it right after init, before any object.
 * Names passed to mpk_write_global must then outlive every later pickle. */
void mpk_writer_memo_get(const mpk_writer_t *w, mpk_writer_memo_t *memo);
void mpk_writer_memo_set(mpk_writer_t *w, const mpk_writer_memo_t *memo);

/* Writes STOP, closes the frame and flushes. Returns the sticky error. */
mpk_err_t mpk_writer_finish(mpk_writer_t *w);

/* The protocol being written. */
int mpk_writer_protocol(const mpk_writer_t *w);

/* Bytes written so far (flushed and buffered). */
uint64_t mpk_writer_size(const mpk_writer_t *w);

/* Atoms: exactly the opcodes CPython's pickler chooses for the protocol. */
void mpk_write_none(mpk_writer_t *w);
void mpk_write_bool(mpk_writer_t *w, int value);
void mpk_write_int(mpk_writer_t *w, int64_t value);
void mpk_write_bigint(mpk_writer_t *w, const uint8_t *le, size_t n);   /* two's complement */
void mpk_write_float(mpk_writer_t *w, double value);
void mpk_write_str(mpk_writer_t *w, const char *utf8, size_t n);
void mpk_write_bytes(mpk_writer_t *w, const void *p, size_t n);
void mpk_write_bytearray(mpk_writer_t *w, const void *p, size_t n);
/* A class or function by reference, e.g. ("collections", "OrderedDict"); always
 * memoized, and written once per pickle (later uses are GETs), as CPython does. */
void mpk_write_global(mpk_writer_t *w, const char *module, const char *name);
void mpk_write_global_n(mpk_writer_t *w, const char *module, size_t mn, const char *name, size_t nn);
/* For encoders that track object identity (protocol >= 4): begin, write the
 * module and name str objects (or GETs of them), end: STACK_GLOBAL, memoized and
 * remembered by name. mpk_writer_global_key gives the memo key of a global
 * written before (-1 if none). */
void mpk_write_global_begin(mpk_writer_t *w);
void mpk_write_global_end(mpk_writer_t *w, const char *module, size_t mn, const char *name, size_t nn);
int64_t mpk_writer_global_key(const mpk_writer_t *w, const char *module, size_t mn, const char *name, size_t nn);

/* Containers: begin with the item count, write the items (dict: key, value,
 * key, value...), then end. */
void mpk_write_list_begin(mpk_writer_t *w, size_t n);
void mpk_write_list_end(mpk_writer_t *w);
void mpk_write_tuple_begin(mpk_writer_t *w, size_t n);
void mpk_write_tuple_end(mpk_writer_t *w);
void mpk_write_dict_begin(mpk_writer_t *w, size_t n);
void mpk_write_dict_end(mpk_writer_t *w);
void mpk_write_set_begin(mpk_writer_t *w, size_t n);
void mpk_write_set_end(mpk_writer_t *w);
void mpk_write_frozenset_begin(mpk_writer_t *w, size_t n);
void mpk_write_frozenset_end(mpk_writer_t *w);
/* Instead of mpk_write_frozenset_end (or mpk_write_set_end before protocol 4,
 * where a set is a call): the set was memoized while its items were written (it
 * is reachable from them); drops the new one and GETs key, as CPython does. */
void mpk_write_set_end_recursive(mpk_writer_t *w, uint32_t key);

/* An object made by a call, as CPython's save_reduce writes it:
 *   mpk_write_call_begin; callable (or class); args tuple [; kwargs dict];
 *   mpk_write_call(kind)         -- REDUCE, NEWOBJ (proto >= 2), NEWOBJ_EX (>= 4); memoizes
 *   [listitems] [dictitems] [state object, mpk_write_build]
 *   mpk_write_call_end. */
void mpk_write_call_begin(mpk_writer_t *w);
void mpk_write_call(mpk_writer_t *w, mpk_call_t kind);
void mpk_write_call_end(mpk_writer_t *w);
/* Instead of mpk_write_call + end: the object was memoized while its arguments
 * were written (it is reachable from them): the call opcode, then POP and a GET of
 * key, as CPython's save_reduce does. */
void mpk_write_call_end_recursive(mpk_writer_t *w, mpk_call_t kind, uint32_t key);
/* Python 2 instances: call_begin, mpk_write_mark, then the class and arguments
 * and mpk_write_call(OBJ) (protocols >= 1); or (any protocol) the arguments only
 * and mpk_write_inst with the class name (INST). */
void mpk_write_mark(mpk_writer_t *w);
void mpk_write_inst(mpk_writer_t *w, const char *module, size_t mn, const char *name, size_t nn);
/* Items of a reduced object (the 4th and 5th items of a reduce value): begin with
 * the count, write items (pairs for dictitems), end. Batches as CPython's iterator path. */
void mpk_write_listitems_begin(mpk_writer_t *w, size_t n);
void mpk_write_listitems_end(mpk_writer_t *w);
void mpk_write_dictitems_begin(mpk_writer_t *w, size_t n);
void mpk_write_dictitems_end(mpk_writer_t *w);
/* After writing a state object: BUILD. */
void mpk_write_build(mpk_writer_t *w);
/* Persistent id: begin, the pid object, end (BINPERSID; protocols >= 1); or, in
 * protocol 0, the pid's ASCII text (PERSID). */
void mpk_write_persid_begin(mpk_writer_t *w);
void mpk_write_persid_end(mpk_writer_t *w);
void mpk_write_persid_text(mpk_writer_t *w, const char *pid, size_t n);
/* Extension code (EXT1/2/4). CPython writes them from protocol 2 on; below, it
 * would write the registered name instead, which only the caller knows. */
void mpk_write_ext(mpk_writer_t *w, uint32_t code);
/* Protocol 5 out-of-band buffer: NEXT_BUFFER (+ READONLY_BUFFER). */
void mpk_write_next_buffer(mpk_writer_t *w, int readonly);

/* Memo: the key the last memoized object got (-1 if it was not memoized), and a
 * reference to an object written before (GET). */
int64_t mpk_writer_last_memo(const mpk_writer_t *w);
void mpk_write_memo_get(mpk_writer_t *w, uint32_t key);
/* In compact mode, marks the next object as referenced again, so it is memoized. */
void mpk_writer_share_next(mpk_writer_t *w);
/* For an encoder that finds a tuple among its own items (a recursive tuple):
 * instead of mpk_write_tuple_end, drop the pushed items and GET the memoized tuple. */
void mpk_write_tuple_end_recursive(mpk_writer_t *w, uint32_t key);
/* Writes raw bytes (an opcode sequence the caller vouches for). */
void mpk_write_raw(mpk_writer_t *w, const void *p, size_t n);

/* ============================================================ value model */

typedef enum mpk_type {
    MPK_NONE = 0, MPK_BOOL, MPK_INT, MPK_BIGINT, MPK_FLOAT, MPK_STR, MPK_BYTES,
    MPK_BYTEARRAY, MPK_LIST, MPK_TUPLE, MPK_DICT, MPK_SET, MPK_FROZENSET,
    MPK_GLOBAL,     /* a class or function by name: nothing is imported */
    MPK_OBJECT,     /* the result of a call (REDUCE, NEWOBJ...): callable, args, state... */
    MPK_PERSID,     /* a persistent id: pid */
    MPK_EXT,        /* an extension code (EXT1/2/4) */
    MPK_BUFFER,     /* a protocol 5 out-of-band buffer (NEXT_BUFFER) */
    MPK_TYPE__COUNT
} mpk_type_t;

typedef struct mpk_value mpk_value_t;

/* How an object was made, for MPK_OBJECT and for the types CPython writes as a
 * call in older protocols (set/frozenset < 4, bytes < 3, bytearray < 5), which keep
 * it so that re-encoding gives the same bytes. */
typedef struct mpk_call_info {
    mpk_call_t kind;
    mpk_value_t *callable;      /* REDUCE: the callable; NEWOBJ*, INST, OBJ: the class */
    mpk_value_t *args;          /* a tuple */
    mpk_value_t *kwargs;        /* NEWOBJ_EX only */
    mpk_value_t *state;         /* BUILD argument, or NULL (of several BUILDs, the last) */
    mpk_value_t **listitems; size_t nlist, list_cap;  /* APPENDS on the object */
    mpk_value_t **dictitems; size_t ndict, dict_cap;  /* SETITEMS on it: key, value pairs */
    int order;                  /* items/state order seen: bit 0 state seen before items */
} mpk_call_info_t;

struct mpk_value {
    uint8_t type;               /* mpk_type_t */
    uint8_t flags;              /* MPK_VF_* */
    uint16_t pad;
    uint32_t refs;              /* references seen while decoding/encoding (scratch) */
    union {
        int64_t i;              /* BOOL, INT, EXT (code) */
        double f;               /* FLOAT */
        struct { const uint8_t *p; size_t n; } s;   /* STR (UTF-8), BYTES, BYTEARRAY, BIGINT (LE) */
        struct { mpk_value_t **v; size_t n, cap; } seq; /* LIST, TUPLE, SET, FROZENSET; DICT: 2n */
        struct { mpk_value_t *module, *name; const char *raw_module, *raw_name; } g; /* GLOBAL */
        mpk_value_t *pid;       /* PERSID */
        struct { size_t index; int readonly; } buf;  /* BUFFER */
    } u;
    mpk_call_info_t *call;      /* non-NULL when made by a call */
};

#define MPK_VF_TEXT_PID  1      /* PERSID from protocol 0's text form */
#define MPK_VF_PY2STR    2      /* STR or BYTES decoded from a py2 string opcode */

/* An arena: values and their arrays, all freed at once. */
typedef struct mpk_arena {
    mpk_alloc_t alloc;
    struct mpk_chunk *chunks;
    uint8_t *cur; size_t left;
    void *last; size_t last_size;   /* last block, can grow in place */
    uint64_t used, limit;
} mpk_arena_t;

/* limit: most bytes the arena may take (0: unlimited). */
void mpk_arena_init(mpk_arena_t *a, const mpk_alloc_t *alloc, uint64_t limit);
void mpk_arena_free(mpk_arena_t *a);

typedef struct mpk_load_opts {
    mpk_decoder_opts_t dec;
    /* the protocol 5 out-of-band buffers (NEXT_BUFFER takes them in order) */
    size_t nbuffers;
    /* extension codes and persistent ids are kept as nodes; nothing is called */
} mpk_load_opts_t;

void mpk_load_opts_default(mpk_load_opts_t *opts);

/* Decodes one whole pickle from data into the arena (payloads are referenced in
 * place: data must outlive the values). limits.max_alloc bounds the VM's working
 * memory and, separately, what the arena may grow by. *used receives the bytes consumed (the
 * pickle may be followed by more). Returns NULL on error, with err filled. */
mpk_value_t *mpk_loads(mpk_arena_t *arena, const void *data, size_t n, const mpk_load_opts_t *opts,
                       size_t *used, mpk_error_t *err);

/* The host that builds values into an arena, for streaming use with the decoder:
 *   mpk_value_ctx_init(&vc, &arena, &dec, 0);
 *   mpk_decoder_init(&dec, &mpk_value_host, &vc, &alloc, &opts);  then feed. */
#define MPK_VALUE_NAMES 32
typedef struct mpk_value_ctx {
    mpk_arena_t *arena;
    mpk_decoder_t *dec;         /* for error messages */
    size_t next_buffer;         /* NEXT_BUFFER counter */
    size_t nbuffers;            /* out-of-band buffers the caller has */
    mpk_value_t *names[MPK_VALUE_NAMES];  /* interned global names */
    size_t nnames;
} mpk_value_ctx_t;
extern const mpk_host_t mpk_value_host;
void mpk_value_ctx_init(mpk_value_ctx_t *vc, mpk_arena_t *arena, mpk_decoder_t *dec, size_t nbuffers);

/* Accessors. All accept NULL and wrong types gracefully (returning 0/NULL). */
mpk_type_t mpk_type(const mpk_value_t *v);
const char *mpk_type_name(mpk_type_t t);
int mpk_is_true(const mpk_value_t *v);              /* BOOL value */
/* INT/BOOL (and BIGINT that fits): 1 and *out set; else 0 */
int mpk_get_int(const mpk_value_t *v, int64_t *out);
/* FLOAT, INT, BOOL as double: 1 and *out set; else 0 */
int mpk_get_float(const mpk_value_t *v, double *out);
/* STR: UTF-8 bytes (not NUL-terminated) and length; NULL if not a str */
const char *mpk_get_str(const mpk_value_t *v, size_t *n);
/* BYTES, BYTEARRAY, BIGINT: the bytes; NULL otherwise */
const uint8_t *mpk_get_bytes(const mpk_value_t *v, size_t *n);
/* LIST, TUPLE, SET, FROZENSET: item count and items; DICT: entry count */
size_t mpk_len(const mpk_value_t *v);
mpk_value_t *mpk_item(const mpk_value_t *v, size_t i);      /* sequences */
mpk_value_t *mpk_dict_key(const mpk_value_t *v, size_t i);
mpk_value_t *mpk_dict_value(const mpk_value_t *v, size_t i);
/* DICT lookup by str key (the last entry with that key wins, as in Python) */
mpk_value_t *mpk_dict_get(const mpk_value_t *v, const char *key);
/* GLOBAL: module and qualified name (NUL-terminated) */
const char *mpk_global_module(const mpk_value_t *v);
const char *mpk_global_name(const mpk_value_t *v);
/* OBJECT (and types made by a call): how it was made, or NULL */
const mpk_call_info_t *mpk_call_info(const mpk_value_t *v);

/* Builders for graphs to encode. Strings are copied into the arena. */
mpk_value_t *mpk_new(mpk_arena_t *a, mpk_type_t type);
mpk_value_t *mpk_new_int(mpk_arena_t *a, int64_t i);
mpk_value_t *mpk_new_float(mpk_arena_t *a, double f);
mpk_value_t *mpk_new_bool(mpk_arena_t *a, int b);
mpk_value_t *mpk_new_str(mpk_arena_t *a, const char *s, size_t n);
mpk_value_t *mpk_new_bytes(mpk_arena_t *a, mpk_type_t type, const void *p, size_t n);
mpk_value_t *mpk_new_global(mpk_arena_t *a, const char *module, const char *name);
/* Appends to a LIST/TUPLE/SET/FROZENSET; returns 0 on success, -1 out of memory */
int mpk_append(mpk_arena_t *a, mpk_value_t *seq, mpk_value_t *item);
int mpk_dict_set(mpk_arena_t *a, mpk_value_t *dict, mpk_value_t *key, mpk_value_t *value);

typedef struct mpk_dump_opts {
    int protocol;               /* 0..5, -1 for MPK_DEFAULT_PROTOCOL */
    int flags;                  /* MPK_WRITE_* */
    uint32_t max_depth;         /* nesting bound, 0: default. The encoder recurses once per
                                 * level (about 100-150 bytes of C stack each, 2-3x that
                                 * under sanitizers): size it for the stack you have */
} mpk_dump_opts_t;

/* Encodes the graph rooted at v through sink (buffered in buf[0..cap), which for
 * protocols >= 4 should hold 64 KiB + 9 to frame as CPython does). Shared and
 * recursive references become memo GETs. Scratch memory for the identity map comes
 * from alloc. Returns the sticky error, details in *err (may be NULL). */
mpk_err_t mpk_dump(const mpk_value_t *v, const mpk_dump_opts_t *opts, const mpk_alloc_t *alloc,
                   void *buf, size_t cap, mpk_sink_fn sink, void *sink_ctx, mpk_error_t *err);

#ifdef __cplusplus
}
#endif
#endif /* MPICKLE_H */
