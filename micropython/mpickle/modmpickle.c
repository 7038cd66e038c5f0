/*
 * The `mpickle` module for MicroPython: CPython's pickle API over the portable
 * core in ../src, plus mPickle's cross-runtime layer (mp_registry.c).
 *
 *   dumps(obj, protocol=None, *, fix_imports=True) -> bytes
 *   dump(obj, file, protocol=None, *, fix_imports=True)
 *   loads(data, *, fix_imports=True, encoding="ASCII", errors="strict", buffers=None, trusted=False, persistent_load=None)
 *   load(file, *, <same keywords>)
 *   Pickler(file, protocol=None, *, fix_imports=True, persistent_id=None).dump(obj)
 *   Unpickler(file, *, <load keywords>).load()
 *   aload(stream, *, <load keywords>), Unpickler(stream).aload(): coroutines
 *
 * The module's globals are a ROM table: importing it takes no heap.
 */
#include <string.h>

#include "py/runtime.h"
#include "py/objexcept.h"
#include "py/objstr.h"
#include "mpickle_mp.h"

/* ------------------------------------------------------------ memory */

/* The core's memory (VM arrays, the writer's buffer) comes from the GC heap:
 * NULL when the heap is full, so that the core reports it (MemoryError). */
static void *gc_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
    (void)ctx;
    if (new_size == 0) {
        m_del(uint8_t, ptr, old_size);
        return NULL;
    }
    return m_renew_maybe(uint8_t, ptr, old_size, new_size, true);
}

static void gc_free(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    m_del(uint8_t, ptr, size);
}

const mpk_alloc_t mpk_mp_gc_alloc = { gc_realloc, gc_free, NULL };

/* ------------------------------------------------------------ exceptions */

MP_DEFINE_CONST_OBJ_TYPE(mpk_type_PickleError, MP_QSTR_PickleError, MP_TYPE_FLAG_NONE,
    make_new, mp_obj_exception_make_new,
    print, mp_obj_exception_print,
    attr, mp_obj_exception_attr,
    parent, &mp_type_Exception);

MP_DEFINE_CONST_OBJ_TYPE(mpk_type_PicklingError, MP_QSTR_PicklingError, MP_TYPE_FLAG_NONE,
    make_new, mp_obj_exception_make_new,
    print, mp_obj_exception_print,
    attr, mp_obj_exception_attr,
    parent, &mpk_type_PickleError);

MP_DEFINE_CONST_OBJ_TYPE(mpk_type_UnpicklingError, MP_QSTR_UnpicklingError, MP_TYPE_FLAG_NONE,
    make_new, mp_obj_exception_make_new,
    print, mp_obj_exception_print,
    attr, mp_obj_exception_attr,
    parent, &mpk_type_PickleError);

/* ------------------------------------------------------------ arguments */

/* persistent_id= / persistent_load=: None is no hook. */
static mp_obj_t hook_arg(mp_obj_t f)
{
    if (f == mp_const_none) return MP_OBJ_NULL;
    if (!mp_obj_is_callable(f)) mp_raise_TypeError(MP_ERROR_TEXT("persistent_id/persistent_load must be callable"));
    return f;
}

/* Loads or stores one hook attribute (persistent_id, persistent_load) of a
 * Pickler or Unpickler; other names go on to the methods. Reading an unset
 * hook is an AttributeError, as in CPython. */
static void hook_attr(mp_obj_t *hook, mp_obj_t *dest)
{
    if (dest[0] == MP_OBJ_NULL) {
        if (*hook != MP_OBJ_NULL) dest[0] = *hook;
    } else if (dest[0] == MP_OBJ_SENTINEL) {
        *hook = dest[1] == MP_OBJ_NULL ? MP_OBJ_NULL : hook_arg(dest[1]);
        dest[0] = MP_OBJ_NULL;
    }
}

#if MPK_WITH_WRITER
/* protocol=None: DEFAULT_PROTOCOL; negative: HIGHEST_PROTOCOL (as CPython). */
static int protocol_arg(mp_obj_t p)
{
    mp_int_t v;
    if (p == mp_const_none) return MPK_DEFAULT_PROTOCOL;
    v = mp_obj_get_int(p);
    if (v < 0) return MPK_HIGHEST_PROTOCOL;
    if (v > MPK_HIGHEST_PROTOCOL) {
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("pickle protocol must be <= %d"), MPK_HIGHEST_PROTOCOL);
    }
    return (int)v;
}

static int dump_flags(bool fix_imports)
{
    return fix_imports ? 0 : MPK_WRITE_NO_FIX_IMPORTS;
}
#endif

#if MPK_WITH_DECODER
/* The keywords every load function takes, after its positional argument. */
enum { LOAD_FIX_IMPORTS, LOAD_ENCODING, LOAD_ERRORS, LOAD_BUFFERS, LOAD_TRUSTED, LOAD_PERSISTENT_LOAD, LOAD__COUNT };

static const mp_arg_t load_args[LOAD__COUNT] = {
    { MP_QSTR_fix_imports, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = true} },
    { MP_QSTR_encoding, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_QSTR(MP_QSTR_ASCII)} },
    { MP_QSTR_errors, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_QSTR(MP_QSTR_strict)} },
    { MP_QSTR_buffers, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    { MP_QSTR_trusted, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = false} },
    { MP_QSTR_persistent_load, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
};

static bool str_in(const char *s, size_t n, const char *const *names)
{
    for (; *names; names++) {
        if (strlen(*names) == n && memcmp(s, *names, n) == 0) return true;
    }
    return false;
}

/* encoding= for Python 2 str payloads: ASCII (the default), latin1, or bytes. */
static void load_opts(const mp_arg_val_t *a, mpk_mp_load_opts_t *o)
{
    static const char *const ascii[] = {"ASCII", "ascii", "us-ascii", NULL};
    static const char *const latin1[] = {"latin1", "latin-1", "latin_1", "iso-8859-1", "iso8859-1", "l1", NULL};
    static const char *const bytes[] = {"bytes", NULL};
    static const char *const strict[] = {"strict", NULL};
    size_t n;
    const char *s = mp_obj_str_get_data(a[LOAD_ERRORS].u_obj, &n);
    if (!str_in(s, n, strict)) mp_raise_ValueError(MP_ERROR_TEXT("only errors='strict' is supported"));
    s = mp_obj_str_get_data(a[LOAD_ENCODING].u_obj, &n);
    if (str_in(s, n, ascii)) o->py2str = MPK_PY2STR_ASCII;
    else if (str_in(s, n, latin1)) o->py2str = MPK_PY2STR_LATIN1;
    else if (str_in(s, n, bytes)) o->py2str = MPK_PY2STR_BYTES;
    else mp_raise_ValueError(MP_ERROR_TEXT("encoding must be 'ASCII', 'latin1' or 'bytes'"));
    o->fix_imports = a[LOAD_FIX_IMPORTS].u_bool;
    o->trusted = a[LOAD_TRUSTED].u_bool;
    o->buffers = a[LOAD_BUFFERS].u_obj == mp_const_none ? MP_OBJ_NULL : mp_getiter(a[LOAD_BUFFERS].u_obj, NULL);
    o->persistent_load = hook_arg(a[LOAD_PERSISTENT_LOAD].u_obj);
}
#endif

/* ------------------------------------------------------------ functions */

#if MPK_WITH_WRITER
static mp_obj_t py_dumps(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args)
{
    enum { ARG_obj, ARG_protocol, ARG_fix_imports };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_obj, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_protocol, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_fix_imports, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = true} },
    };
    mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed), allowed, a);
    mpk_mp_dump_opts_t o = { protocol_arg(a[ARG_protocol].u_obj), dump_flags(a[ARG_fix_imports].u_bool), MP_OBJ_NULL };
    return mpk_mp_dump(a[ARG_obj].u_obj, MP_OBJ_NULL, &o, NULL);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(py_dumps_obj, 0, py_dumps);

static mp_obj_t py_dump(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args)
{
    enum { ARG_obj, ARG_file, ARG_protocol, ARG_fix_imports };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_obj, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_file, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_protocol, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_fix_imports, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = true} },
    };
    mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed), allowed, a);
    mpk_mp_dump_opts_t o = { protocol_arg(a[ARG_protocol].u_obj), dump_flags(a[ARG_fix_imports].u_bool), MP_OBJ_NULL };
    return mpk_mp_dump(a[ARG_obj].u_obj, a[ARG_file].u_obj, &o, NULL);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(py_dump_obj, 0, py_dump);
#endif

#if MPK_WITH_DECODER
/* loads/load/aload(x, **load keywords): the keywords into *o */
static void parse_load_call(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args, mpk_mp_load_opts_t *o)
{
    mp_arg_val_t a[LOAD__COUNT];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, LOAD__COUNT, load_args, a);
    load_opts(a, o);
}

static mp_obj_t py_loads(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args)
{
    mpk_mp_load_opts_t o;
    parse_load_call(n_args, pos_args, kw_args, &o);
    return mpk_mp_loads(pos_args[0], &o);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(py_loads_obj, 1, py_loads);

static mp_obj_t py_load(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args)
{
    mpk_mp_load_opts_t o;
    parse_load_call(n_args, pos_args, kw_args, &o);
    return mpk_mp_load_file(pos_args[0], &o);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(py_load_obj, 1, py_load);

/* aload(stream, **load keywords): a coroutine; `await` it for the next pickle
 * of an asyncio stream (mp_aload.c) */
static mp_obj_t py_aload(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args)
{
    mpk_mp_load_opts_t o;
    parse_load_call(n_args, pos_args, kw_args, &o);
    return mpk_mp_aload_new(pos_args[0], NULL, MP_OBJ_NULL, &o);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(py_aload_obj, 1, py_aload);
#endif

/* ------------------------------------------------------------ Pickler */

#if MPK_WITH_WRITER
typedef struct pickler {
    mp_obj_base_t base;
    mp_obj_t file;
    mpk_mp_dump_opts_t opts;    /* protocol, flags, persistent_id */
    mpk_mp_dump_memo_t memo;    /* kept from one dump() to the next, as CPython's */
} pickler_t;

static mp_obj_t pickler_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args)
{
    enum { ARG_file, ARG_protocol, ARG_fix_imports, ARG_persistent_id };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_file, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_protocol, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_fix_imports, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = true} },
        { MP_QSTR_persistent_id, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
    pickler_t *self;
    mp_arg_parse_all_kw_array(n_args, n_kw, args, MP_ARRAY_SIZE(allowed), allowed, a);
    self = mp_obj_malloc(pickler_t, type);
    memset(&self->memo, 0, sizeof self->memo);
    self->memo.keep = MP_OBJ_NULL;
    self->file = a[ARG_file].u_obj;
    self->opts.protocol = protocol_arg(a[ARG_protocol].u_obj);
    self->opts.flags = dump_flags(a[ARG_fix_imports].u_bool);
    self->opts.persistent_id = hook_arg(a[ARG_persistent_id].u_obj);
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t pickler_dump(mp_obj_t self_in, mp_obj_t obj)
{
    pickler_t *self = MP_OBJ_TO_PTR(self_in);
    return mpk_mp_dump(obj, self->file, &self->opts, &self->memo);
}
static MP_DEFINE_CONST_FUN_OBJ_2(pickler_dump_obj, pickler_dump);

/* Forgets the objects pickled so far: the next dump() starts a fresh memo. */
static mp_obj_t pickler_clear_memo(mp_obj_t self_in)
{
    pickler_t *self = MP_OBJ_TO_PTR(self_in);
    bool busy = self->memo.busy;    /* a dump() running keeps its own copy of the memo */
    memset(&self->memo, 0, sizeof self->memo);
    self->memo.keep = MP_OBJ_NULL;
    self->memo.busy = busy;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(pickler_clear_memo_obj, pickler_clear_memo);

static const mp_rom_map_elem_t pickler_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_dump), MP_ROM_PTR(&pickler_dump_obj) },
    { MP_ROM_QSTR(MP_QSTR_clear_memo), MP_ROM_PTR(&pickler_clear_memo_obj) },
};
static MP_DEFINE_CONST_DICT(pickler_locals, pickler_locals_table);

/* p.persistent_id = f, as in CPython (a subclass passes persistent_id= to
 * Pickler.__init__ instead: MicroPython's native base does not see its methods) */
static void pickler_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest)
{
    pickler_t *self = MP_OBJ_TO_PTR(self_in);
    if (attr == MP_QSTR_persistent_id) hook_attr(&self->opts.persistent_id, dest);
    else dest[1] = MP_OBJ_SENTINEL;
}

static MP_DEFINE_CONST_OBJ_TYPE(mpk_type_Pickler, MP_QSTR_Pickler, MP_TYPE_FLAG_NONE,
    make_new, pickler_make_new,
    attr, pickler_attr,
    locals_dict, &pickler_locals);
#endif

/* ------------------------------------------------------------ Unpickler */

#if MPK_WITH_DECODER
typedef struct unpickler {
    mp_obj_base_t base;
    mp_obj_t file;
    mpk_mp_loader_t loader;     /* the decoder, and its memo across load() calls */
} unpickler_t;

static mp_obj_t unpickler_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args)
{
    mp_arg_val_t a[LOAD__COUNT];
    unpickler_t *self;
    mp_arg_check_num(n_args, n_kw, 1, 1, true);
    {
        mp_map_t kw;
        mp_map_init_fixed_table(&kw, n_kw, args + n_args);
        mp_arg_parse_all(0, NULL, &kw, LOAD__COUNT, load_args, a);
    }
    self = mp_obj_malloc(unpickler_t, type);
    self->file = args[0];
    memset(&self->loader, 0, sizeof self->loader);
    load_opts(a, &self->loader.opts);
    return MP_OBJ_FROM_PTR(self);
}

/* Reads the next pickle of the stream (only its bytes). */
static mp_obj_t unpickler_load(mp_obj_t self_in)
{
    unpickler_t *self = MP_OBJ_TO_PTR(self_in);
    return mpk_mp_load_next(&self->loader, self->file);
}
static MP_DEFINE_CONST_FUN_OBJ_1(unpickler_load_obj, unpickler_load);

/* aload(): load() for an asyncio stream, as a coroutine (mp_aload.c) */
static mp_obj_t unpickler_aload(mp_obj_t self_in)
{
    unpickler_t *self = MP_OBJ_TO_PTR(self_in);
    return mpk_mp_aload_new(self->file, &self->loader, self_in, NULL);
}
static MP_DEFINE_CONST_FUN_OBJ_1(unpickler_aload_obj, unpickler_aload);

static const mp_rom_map_elem_t unpickler_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_load), MP_ROM_PTR(&unpickler_load_obj) },
    { MP_ROM_QSTR(MP_QSTR_aload), MP_ROM_PTR(&unpickler_aload_obj) },
};
static MP_DEFINE_CONST_DICT(unpickler_locals, unpickler_locals_table);

/* u.persistent_load = f, as in CPython (or persistent_load= to __init__) */
static void unpickler_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest)
{
    unpickler_t *self = MP_OBJ_TO_PTR(self_in);
    if (attr == MP_QSTR_persistent_load) hook_attr(&self->loader.opts.persistent_load, dest);
    else dest[1] = MP_OBJ_SENTINEL;
}

static MP_DEFINE_CONST_OBJ_TYPE(mpk_type_Unpickler, MP_QSTR_Unpickler, MP_TYPE_FLAG_NONE,
    make_new, unpickler_make_new,
    attr, unpickler_attr,
    locals_dict, &unpickler_locals);
#endif

/* ------------------------------------------------------------ the module */

static const MP_DEFINE_STR_OBJ(mpk_version_obj, MPK_VERSION);

static const mp_rom_map_elem_t mpickle_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_mpickle) },
    { MP_ROM_QSTR(MP_QSTR___version__), MP_ROM_PTR(&mpk_version_obj) },
    { MP_ROM_QSTR(MP_QSTR_HIGHEST_PROTOCOL), MP_ROM_INT(MPK_HIGHEST_PROTOCOL) },
    { MP_ROM_QSTR(MP_QSTR_DEFAULT_PROTOCOL), MP_ROM_INT(MPK_DEFAULT_PROTOCOL) },
    #if MPK_WITH_WRITER
    { MP_ROM_QSTR(MP_QSTR_dumps), MP_ROM_PTR(&py_dumps_obj) },
    { MP_ROM_QSTR(MP_QSTR_dump), MP_ROM_PTR(&py_dump_obj) },
    { MP_ROM_QSTR(MP_QSTR_Pickler), MP_ROM_PTR(&mpk_type_Pickler) },
    #endif
    #if MPK_WITH_DECODER
    { MP_ROM_QSTR(MP_QSTR_loads), MP_ROM_PTR(&py_loads_obj) },
    { MP_ROM_QSTR(MP_QSTR_load), MP_ROM_PTR(&py_load_obj) },
    { MP_ROM_QSTR(MP_QSTR_aload), MP_ROM_PTR(&py_aload_obj) },
    { MP_ROM_QSTR(MP_QSTR_Unpickler), MP_ROM_PTR(&mpk_type_Unpickler) },
    #endif
    { MP_ROM_QSTR(MP_QSTR_PickleError), MP_ROM_PTR(&mpk_type_PickleError) },
    { MP_ROM_QSTR(MP_QSTR_PicklingError), MP_ROM_PTR(&mpk_type_PicklingError) },
    { MP_ROM_QSTR(MP_QSTR_UnpicklingError), MP_ROM_PTR(&mpk_type_UnpicklingError) },
    { MP_ROM_QSTR(MP_QSTR_register_pickle), MP_ROM_PTR(&mpk_register_pickle_obj) },
    { MP_ROM_QSTR(MP_QSTR_inject_dummy_module_func), MP_ROM_PTR(&mpk_inject_dummy_module_func_obj) },
    { MP_ROM_QSTR(MP_QSTR_revert_dummy_module_func), MP_ROM_PTR(&mpk_revert_dummy_module_func_obj) },
    /* copyreg's helpers, for __reduce__ methods: written under copyreg's names */
    { MP_ROM_QSTR(MP_QSTR__reconstructor), MP_ROM_PTR(&mpk_reconstructor_obj) },
    { MP_ROM_QSTR(MP_QSTR___newobj__), MP_ROM_PTR(&mpk_newobj_obj) },
    { MP_ROM_QSTR(MP_QSTR___newobj_ex__), MP_ROM_PTR(&mpk_newobj_ex_obj) },
};
static MP_DEFINE_CONST_DICT(mpickle_globals, mpickle_globals_table);

const mp_obj_module_t mpk_module_mpickle = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&mpickle_globals,
};

MP_REGISTER_MODULE(MP_QSTR_mpickle, mpk_module_mpickle);
