/*
 * mpickle for MicroPython: declarations shared by the module's files.
 *
 *   modmpickle.c   the module: API functions, Pickler/Unpickler, exceptions
 *   mp_registry.c  mPickle's layer: register_pickle, dummy modules, name lookups
 *   mp_dump.c      the walker: mp_obj_t graph -> opcode writer (CPython's bytes)
 *   mp_load.c      the decoder host: VM callbacks -> mp_obj_t, safety policy
 *   core_*.c       the portable core from ../src, one translation unit each
 *
 * All memory of a call comes from the GC heap (m_new/m_renew), reachable from
 * structs on the C stack while the call runs: an exception that jumps out leaves
 * only garbage for the collector, never a leak.
 */
#ifndef MPICKLE_MP_H
#define MPICKLE_MP_H

#include "py/obj.h"
#include "mpickle.h"

/* ------------------------------------------------------------ switches */

/* Nesting depth of dump (walker levels) before RuntimeError; each level reached
 * may hold three writer frames (24 bytes each, grown as the depth is reached). */
#ifndef MPICKLE_MP_MAX_DEPTH
#define MPICKLE_MP_MAX_DEPTH 200
#endif

/* Decoder limits for MicroPython: memory is bounded by the heap (MemoryError),
 * so the limits only stop absurd declared lengths and nesting early. */
#ifndef MPICKLE_MP_LOAD_MAX_DEPTH
#define MPICKLE_MP_LOAD_MAX_DEPTH 1000
#endif
#ifndef MPICKLE_MP_LOAD_MAX_STR
#define MPICKLE_MP_LOAD_MAX_STR 0x7fffffffu
#endif

/* Bytes read from a stream at a time (C stack buffer). */
#ifndef MPICKLE_MP_READ_CHUNK
#define MPICKLE_MP_READ_CHUNK 256
#endif

/* The GC heap as the core's allocator (modmpickle.c). */
extern const mpk_alloc_t mpk_mp_gc_alloc;

/* ------------------------------------------------------------ exceptions */

extern const mp_obj_type_t mpk_type_PickleError;
extern const mp_obj_type_t mpk_type_PicklingError;
extern const mp_obj_type_t mpk_type_UnpicklingError;

/* ------------------------------------------------------------ helpers made public to Python
 * copyreg's and _codecs' functions that CPython writes by name; the dump side
 * writes them under those names. */
MP_DECLARE_CONST_FUN_OBJ_VAR_BETWEEN(mpk_reconstructor_obj);
MP_DECLARE_CONST_FUN_OBJ_VAR(mpk_newobj_obj);
MP_DECLARE_CONST_FUN_OBJ_3(mpk_newobj_ex_obj);
MP_DECLARE_CONST_FUN_OBJ_VAR_BETWEEN(mpk_codecs_encode_obj);
MP_DECLARE_CONST_FUN_OBJ_VAR_BETWEEN(mpk_getattr_obj);

/* cls.__new__(cls, *args, **kwargs) without __init__ (kwargs: a dict or MP_OBJ_NULL). */
mp_obj_t mpk_mp_new_object(mp_obj_t cls, size_t n_args, const mp_obj_t *args, mp_obj_t kwargs);

/* ------------------------------------------------------------ names */

/* A module by name: sys.modules, then the firmware's built-in modules (which
 * include __main__). With do_import, imports it otherwise. MP_OBJ_NULL if none. */
mp_obj_t mpk_mp_find_module(const char *name, size_t n, bool do_import);

/* getattr along a dotted path ("Outer.Inner"); MP_OBJ_NULL if a part is missing. */
mp_obj_t mpk_mp_getattr_path(mp_obj_t base, const char *path, size_t n);

/* Is o a class defined in Python code? */
bool mpk_mp_is_user_class(mp_obj_t o);

/* ------------------------------------------------------------ registry (mp_registry.c) */

/* Fields of one register_pickle() entry (a tuple). */
enum {
    REG_OBJ_TYPE, REG_OBJ_FULL_NAME, REG_OBJ_MODULE, REG_OBJ_RECONSTRUCTOR_FUNC,
    REG_REDUCE_FUNC, REG_RECONSTRUCT_FUNC, REG_SETSTATE_FUNC, REG_MAP_OBJ_MODULE,
    REG_MAP_OBJ_FULL_NAME, REG_MAP_RECONSTRUCTOR_FUNC, REG__COUNT
};

MP_DECLARE_CONST_FUN_OBJ_KW(mpk_register_pickle_obj);
MP_DECLARE_CONST_FUN_OBJ_VAR_BETWEEN(mpk_inject_dummy_module_func_obj);
MP_DECLARE_CONST_FUN_OBJ_2(mpk_revert_dummy_module_func_obj);

/* Newest entry whose field `field` is `value` (identity), or NULL. */
const mp_obj_t *mpk_reg_find_obj(int field, mp_obj_t value);

/* Newest entry whose str field `field` equals "module.name", or NULL. */
const mp_obj_t *mpk_reg_find_name(int field, const char *mod, size_t mn, const char *name, size_t nn);

/* A function in an injected dummy module, or MP_OBJ_NULL. */
mp_obj_t mpk_reg_dummy_get(const char *mod, size_t mn, const char *name, size_t nn);

/* Where obj lives among the dummy modules: true and the (module, name) str objects. */
bool mpk_reg_dummy_find(mp_obj_t obj, mp_obj_t *module, mp_obj_t *name);

/* Did the user register obj as a type, a reconstruct_func or a dummy-module
 * function? Those may be called by a safe load (a setstate_func or reduce_func
 * is called by the module itself, never named by a pickle). */
bool mpk_reg_knows(mp_obj_t obj);

/* ------------------------------------------------------------ ulab (mp_ulab.c)
 * numpy arrays load as ulab.numpy.ndarray and ulab arrays dump as numpy arrays,
 * when ulab is in the firmware: ulab's own build files (micropython.mk and
 * micropython.cmake) define MODULE_ULAB_ENABLED=1 for every file of the firmware.
 * -DMICROPY_PY_MPICKLE_ULAB=0 leaves the glue out all the same. */
#ifndef MICROPY_PY_MPICKLE_ULAB
#if defined(MODULE_ULAB_ENABLED) && MODULE_ULAB_ENABLED
#define MICROPY_PY_MPICKLE_ULAB (1)
#else
#define MICROPY_PY_MPICKLE_ULAB (0)
#endif
#endif

/* The numpy globals of an array pickle resolved to the reconstructors (any other
 * name: MP_OBJ_NULL). Without ulab they raise UnpicklingError saying so. */
mp_obj_t mpk_ulab_global(const char *m, size_t mn, const char *n, size_t nn);
#if MICROPY_PY_MPICKLE_ULAB
/* load: is f one of those reconstructors (callable in a safe load)? */
bool mpk_ulab_is_helper(mp_obj_t f);
/* load: BUILD on an array or dtype of theirs (filled in place); false: not theirs. */
bool mpk_ulab_build(mp_obj_t obj, mp_obj_t state);
/* dump: a ulab array, written as numpy writes it; *ctx (NULL at the start of a
 * pickle) keeps numpy's shared objects across the arrays of one pickle.
 * Returns the array's memo key, or -1 when unknown. */
bool mpk_ulab_is_array(mp_obj_t obj);
int64_t mpk_ulab_save(mpk_writer_t *w, mp_obj_t obj, void **ctx);
#endif

/* ------------------------------------------------------------ dump (mp_dump.c) */

/* The memo a Pickler keeps from one dump() to the next, as CPython's does: later
 * pickles continue its keys and GET objects pickled before. */
typedef struct mpk_mp_ident {
    mp_obj_t obj;           /* MP_OBJ_NULL: empty slot */
    mp_int_t memo;          /* memo key, -1 while unknown */
} mpk_mp_ident_t;

typedef struct mpk_mp_dump_memo {
    mpk_mp_ident_t *map;    /* identity map: object -> memo key (GC heap) */
    size_t cap, n;
    mpk_writer_memo_t wmemo;  /* the writer's next key and names written */
    mp_obj_t keep;          /* str objects the names point into, or MP_OBJ_NULL */
    bool busy;              /* a dump() runs: a nested one would grow (and free) map under it */
} mpk_mp_dump_memo_t;

typedef struct mpk_mp_dump_opts {
    int protocol;           /* 0..5, already checked */
    int flags;              /* MPK_WRITE_* */
    mp_obj_t persistent_id; /* CPython's hook: obj -> id or None; MP_OBJ_NULL: none */
} mpk_mp_dump_opts_t;

/* file: MP_OBJ_NULL to return bytes, else the pickle is written to it and None
 * returned. memo: a Pickler's memo (zeroed for a fresh one), or NULL for a
 * one-off pickle. */
mp_obj_t mpk_mp_dump(mp_obj_t obj, mp_obj_t file, const mpk_mp_dump_opts_t *opts, mpk_mp_dump_memo_t *memo);

/* ------------------------------------------------------------ load (mp_load.c) */

typedef struct mpk_mp_load_opts {
    bool fix_imports;
    bool trusted;
    mpk_py2str_t py2str;
    mp_obj_t buffers;       /* iterator over out-of-band buffers, or MP_OBJ_NULL */
    mp_obj_t persistent_load; /* CPython's hook: id -> object; MP_OBJ_NULL: none */
} mpk_mp_load_opts_t;

/* The decoder and options of one load, or of an Unpickler across its loads. */
typedef struct mpk_mp_loader {
    mpk_decoder_t dec;
    mpk_mp_load_opts_t opts;
    bool has_memo;          /* dec holds the memo of earlier pickles of the stream */
    bool busy;              /* a load() runs: a nested one would re-initialise dec under it */
    mp_obj_t granted;       /* list of what registered names resolved to, or MP_OBJ_NULL */
    mp_obj_t aload;         /* Unpickler.aload(): the coroutine reading (or interrupted in) a pickle, or MP_OBJ_NULL */
} mpk_mp_loader_t;

/* One pickle from a buffer (bytes after STOP are ignored, as CPython does). */
mp_obj_t mpk_mp_loads(mp_obj_t data, const mpk_mp_load_opts_t *opts);

/* One pickle from a file-like object, reading exactly the pickle's bytes, so
 * that several pickles can be read one after another. */
mp_obj_t mpk_mp_load_file(mp_obj_t file, const mpk_mp_load_opts_t *opts);

/* Unpickler.load(): the next pickle of the stream; the memo carries over from
 * the pickles before it (as CPython's Unpickler keeps it). ld->opts is set and
 * ld->has_memo false before the first call. */
mp_obj_t mpk_mp_load_next(mpk_mp_loader_t *ld, mp_obj_t file);

/* For aload (mp_aload.c): readies ld for its next pickle as load() does (opts
 * NULL: ld->opts), and gives the object of the pickle fed (or raises as load()). */
void mpk_mp_loader_begin(mpk_mp_loader_t *ld, const mpk_mp_load_opts_t *opts);
mp_obj_t mpk_mp_loader_end(mpk_mp_loader_t *ld, mpk_status_t st, bool keep_memo);

/* ------------------------------------------------------------ aload (mp_aload.c) */

/* The coroutine of one pickle read from an asyncio stream (await reader.read(n)).
 * ld NULL: mpickle.aload() with opts; else owner's (an Unpickler's) loader. */
mp_obj_t mpk_mp_aload_new(mp_obj_t stream, mpk_mp_loader_t *ld, mp_obj_t owner, const mpk_mp_load_opts_t *opts);

#endif /* MPICKLE_MP_H */
