/*
 * dump: walks a MicroPython object graph as CPython's pickler walks objects, and
 * drives the opcode writer, which makes CPython's opcode choices. An identity
 * map (object -> memo key) turns shared and recursive references into GETs.
 *
 * What CPython does through __reduce_ex__ (instances, complex, range,
 * OrderedDict...) is done here in C, since MicroPython objects have no such
 * methods; a class's own __reduce_ex__, __reduce__, __getstate__,
 * __getnewargs__ and __getnewargs_ex__ are honoured.
 */
#include <string.h>

#include "py/runtime.h"
#include "py/objint.h"
#include "py/objtype.h"
#include "py/objfun.h"
#include "py/objmodule.h"
#include "py/stream.h"
#include "py/stackctrl.h"
#include "py/gc.h"
#if MICROPY_LONGINT_IMPL == MICROPY_LONGINT_IMPL_MPZ
#include "py/mpz.h"
#endif
#include "mpickle_mp.h"

#if MPK_WITH_WRITER

typedef mpk_mp_ident_t ident_t;

typedef struct dumper {
    mpk_writer_t w;
    ident_t *map;
    size_t cap, n;
    mp_obj_t file;                  /* MP_OBJ_NULL: the pickle stays in the buffer */
    const mp_stream_p_t *stream;    /* file's native write, or NULL: call file.write */
    mp_obj_t keep;                  /* strings the writer refers to until the end */
    mp_obj_t persistent_id;         /* the hook, or MP_OBJ_NULL */
    mp_obj_t root;                  /* the object dump() was given */
    bool pid_skip;                  /* the object being saved is an id: not asked again */
    uint32_t depth;
    void *ulab;                     /* mp_ulab.c's state for this pickle's arrays, or NULL */
} dumper_t;

/* ------------------------------------------------------------ errors */

static MP_NORETURN void pickling_error(const char *what, mp_obj_t obj)
{
    mp_raise_msg_varg(&mpk_type_PicklingError, MP_ERROR_TEXT("%s '%s' object"), what, mp_obj_get_type_str(obj));
}

static MP_NORETURN void raise_writer_error(dumper_t *d)
{
    mpk_error_t copy = d->w.err, *e = &copy;
    if (!e->msg || !e->msg[0]) e->msg = mpk_err_str(e->code);   /* a build without messages */
    switch (e->code) {
    case MPK_ERR_NOMEM:
        mp_raise_type(&mp_type_MemoryError);
    case MPK_ERR_LIMIT:
        mp_raise_msg_varg(&mpk_type_PicklingError, MP_ERROR_TEXT("%s"), e->msg);
    case MPK_ERR_IO:
        mp_raise_OSError(MP_EIO);
    default:
        mp_raise_msg_varg(&mpk_type_PicklingError, MP_ERROR_TEXT("%s"), e->msg);
    }
}

/* ------------------------------------------------------------ output */

/* The writer's buffer grows in the GC heap (mpk_writer_set_growth): dumps()
 * builds the whole pickle in it, then it becomes the bytes object without a
 * copy. A stream gets each committed frame (64 KiB at most, as CPython writes
 * them); before protocol 4 there are no frames and a small buffer is flushed
 * as it fills. If the heap cannot grow the buffer, a stream gets the rest of the
 * pickle without frames (still valid), and dumps() raises MemoryError. */
static int sink(void *ctx, const uint8_t *p, size_t n)
{
    dumper_t *d = (dumper_t *)ctx;
    if (d->stream) {
        int err = 0;
        mp_uint_t out = mp_stream_rw(d->file, (void *)p, n, &err, MP_STREAM_RW_WRITE);
        if (err) mp_raise_OSError(err);
        return out == n ? 0 : -1;
    }
    /* file.write() of bytes objects of 4 KiB at most: a frame need not be
     * copied whole into the heap at once */
    while (n) {
        size_t take = n < 4096 ? n : 4096;
        mp_call_function_1(mp_load_attr(d->file, MP_QSTR_write), mp_obj_new_bytes(p, take));
        p += take;
        n -= take;
    }
    return 0;
}

/* A stream's buffer grows towards a whole frame (CPython's exact bytes) only
 * while the heap keeps free at least as much again as the new buffer: past that
 * the rest of the pickle goes out without frames (still valid), and the heap
 * keeps room for the sink (file.write() gets bytes objects of up to 4 KiB), a
 * class's __reduce__ and the caller. Growing until the heap is full would leave
 * them a MemoryError. Small growths (the frames array) are not checked. */
static void *stream_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
    #if MICROPY_ENABLE_GC
    if (new_size > 4096 && new_size > old_size) {
        gc_info_t info;
        gc_info(&info);
        if (new_size > info.free / 2) return NULL;
    }
    #endif
    return mpk_mp_gc_alloc.realloc(ctx, ptr, old_size, new_size);
}

static const mpk_alloc_t stream_alloc = { stream_realloc, NULL, NULL };

/* ------------------------------------------------------------ identity map */

static size_t slot_of(const dumper_t *d, mp_obj_t o)
{
    size_t mask = d->cap - 1, i = (size_t)(((uintptr_t)o >> 2) * 2654435761u) & mask;
    while (d->map[i].obj != MP_OBJ_NULL && d->map[i].obj != o) i = (i + 1) & mask;
    return i;
}

static ident_t *ident_get(dumper_t *d, mp_obj_t o)
{
    size_t i;
    if (!d->cap) return NULL;
    i = slot_of(d, o);
    return d->map[i].obj != MP_OBJ_NULL ? &d->map[i] : NULL;
}

/* The first identity map: sized for a top-level container's items (each str,
 * list, dict... in it may be memoized), so that a big one is not rehashed over
 * and over (every GC allocation costs a search of the heap); 1024 slots at most. */
static size_t first_map_cap(mp_obj_t root)
{
    size_t want = 32, items = 0;
    if (mp_obj_is_type(root, &mp_type_list) || mp_obj_is_type(root, &mp_type_tuple) ||
        mp_obj_is_dict_or_ordereddict(root)) {
        items = (size_t)mp_obj_get_int(mp_obj_len(root));
    }
    while (want < 1024 && want < 2 * (items + 2)) want *= 2;
    return want;
}

static void ident_put(dumper_t *d, mp_obj_t o, mp_int_t memo)
{
    size_t i;
    if ((d->n + 1) * 2 > d->cap) {
        /* the new table first: a MemoryError leaves the old one intact */
        size_t ocap = d->cap, ncap = ocap ? ocap * 2 : first_map_cap(d->root), j;
        ident_t *old = d->map, *nm = m_new0(ident_t, ncap);
        d->map = nm;
        d->cap = ncap;
        for (j = 0; j < ocap; j++) {
            if (old[j].obj != MP_OBJ_NULL) d->map[slot_of(d, old[j].obj)] = old[j];
        }
        if (old) m_del(ident_t, old, ocap);
    }
    i = slot_of(d, o);
    if (d->map[i].obj == MP_OBJ_NULL) d->n++;
    d->map[i].obj = o;
    d->map[i].memo = memo;
}

/* After the writer memoized o: remember its key. */
static void remember(dumper_t *d, mp_obj_t o)
{
    int64_t key = mpk_writer_last_memo(&d->w);
    if (key >= 0 && !d->w.err.code) ident_put(d, o, (mp_int_t)key);
}

static mp_int_t memo_of(dumper_t *d, mp_obj_t o)
{
    ident_t *id = ident_get(d, o);
    return id ? id->memo : -1;
}

/* Keeps a str alive while the writer's name table points into it. */
static void keep(dumper_t *d, mp_obj_t o)
{
    size_t n, i;
    mp_obj_t *items;
    if (o == MP_OBJ_NULL || mp_obj_is_qstr(o)) return;
    if (d->keep == MP_OBJ_NULL) d->keep = mp_obj_new_list(0, NULL);
    mp_obj_list_get(d->keep, &n, &items);
    for (i = 0; i < n; i++) {
        if (items[i] == o) return;
    }
    mp_obj_list_append(d->keep, o);
}

/* ------------------------------------------------------------ names of globals */

typedef struct gname {
    const char *m, *n;
    size_t mn, nn;
    mp_obj_t src[2];        /* the str objects m and n point into (or NULL) */
} gname_t;

static void gname_set(gname_t *g, mp_obj_t mod, mp_obj_t name)
{
    g->m = mp_obj_str_get_data(mod, &g->mn);
    g->n = mp_obj_str_get_data(name, &g->nn);
    g->src[0] = mod;
    g->src[1] = name;
}

/* Splits "module.name" at the last dot (or after `module` when it is a prefix). */
static bool split_full(mp_obj_t full, mp_obj_t module, gname_t *g)
{
    size_t n, mn = 0;
    const char *s = mp_obj_str_get_data(full, &n), *m = NULL;
    if (module != mp_const_none && mp_obj_is_str(module)) m = mp_obj_str_get_data(module, &mn);
    g->src[0] = full;
    g->src[1] = MP_OBJ_NULL;
    if (m && mn < n && memcmp(s, m, mn) == 0 && s[mn] == '.') {
        g->m = s; g->mn = mn; g->n = s + mn + 1; g->nn = n - mn - 1;
        return true;
    }
    for (mn = n; mn-- > 0;) {
        if (s[mn] == '.') {
            g->m = s; g->mn = mn; g->n = s + mn + 1; g->nn = n - mn - 1;
            return true;
        }
    }
    return false;
}

static mp_obj_t attr_or_null(mp_obj_t o, qstr attr)
{
    mp_obj_t dest[2] = {MP_OBJ_NULL, MP_OBJ_NULL};
    mp_load_method_protected(o, attr, dest, true);
    return dest[1] == MP_OBJ_NULL ? dest[0] : MP_OBJ_NULL;
}

/* The module holding a Python function (its globals' __name__). */
static mp_obj_t function_module(mp_obj_t f)
{
    if (mp_obj_is_type(f, &mp_type_fun_bc)) {
        const mp_obj_fun_bc_t *fun = MP_OBJ_TO_PTR(f);
        mp_map_elem_t *e = mp_map_lookup(&fun->context->module.globals->map,
            MP_OBJ_NEW_QSTR(MP_QSTR___name__), MP_MAP_LOOKUP);
        if (e) return e->value;
    }
    return MP_OBJ_NULL;
}

/* Finds obj among a module's (or class's) attributes: its key, or a dotted path
 * through classes ("Outer.Inner", as CPython's __qualname__), up to `levels`
 * deep. With `name` (the object's __name__), the last part must be it. */
static mp_obj_t find_in_map(const mp_map_t *map, mp_obj_t obj, mp_obj_t name, int levels)
{
    size_t i;
    for (i = 0; i < map->alloc; i++) {
        if (mp_map_slot_is_filled(map, i) && map->table[i].value == obj && mp_obj_is_str(map->table[i].key) &&
            (name == MP_OBJ_NULL || mp_obj_equal(map->table[i].key, name))) {
            return map->table[i].key;
        }
    }
    if (levels <= 0) return MP_OBJ_NULL;
    for (i = 0; i < map->alloc; i++) {
        mp_obj_t v, inner;
        const mp_obj_dict_t *locals;
        if (!mp_map_slot_is_filled(map, i) || !mp_obj_is_str(map->table[i].key)) continue;
        v = map->table[i].value;
        if (!mpk_mp_is_user_class(v) || v == obj) continue;
        locals = MP_OBJ_TYPE_GET_SLOT_OR_NULL((const mp_obj_type_t *)MP_OBJ_TO_PTR(v), locals_dict);
        if (!locals) continue;
        inner = find_in_map(&locals->map, obj, name, levels - 1);
        if (inner != MP_OBJ_NULL) {
            vstr_t s;
            vstr_init(&s, 32);
            vstr_add_str(&s, mp_obj_str_get_str(map->table[i].key));
            vstr_add_char(&s, '.');
            vstr_add_str(&s, mp_obj_str_get_str(inner));
            return mp_obj_new_str_from_vstr(&s);
        }
    }
    return MP_OBJ_NULL;
}

static mp_obj_t module_find(mp_obj_t module, mp_obj_t obj, mp_obj_t name, int levels)
{
    if (!mp_obj_is_type(module, &mp_type_module)) return MP_OBJ_NULL;
    return find_in_map(&mp_obj_module_get_globals(module)->map, obj, name, levels);
}

/* Searches modules for obj (an object without __module__: a native type or
 * function): builtins, the firmware's modules, then sys.modules (where a
 * Python module may only have imported it), __main__ last. */
static bool search_modules(mp_obj_t obj, mp_obj_t *mod, mp_obj_t *name)
{
    const mp_map_t *maps[3];
    size_t nmaps = 0, k, i;
    /* an object that knows its name is only found under it (not as some
     * variable that happens to refer to it) */
    mp_obj_t want = *name != MP_OBJ_NULL && mp_obj_is_str(*name) ? *name : MP_OBJ_NULL;
    mp_obj_t b = mpk_mp_find_module("builtins", 8, false);
    if (b != MP_OBJ_NULL && (*name = module_find(b, obj, want, 0)) != MP_OBJ_NULL) {
        *mod = MP_OBJ_NEW_QSTR(MP_QSTR_builtins);
        return true;
    }
    maps[nmaps++] = &mp_builtin_module_map;
    #if MICROPY_HAVE_REGISTERED_EXTENSIBLE_MODULES
    maps[nmaps++] = &mp_builtin_extensible_module_map;
    #endif
    maps[nmaps++] = &MP_STATE_VM(mp_loaded_modules_dict).map;
    for (k = 0; k < nmaps; k++) {
        for (i = 0; i < maps[k]->alloc; i++) {
            mp_obj_t key;
            if (!mp_map_slot_is_filled(maps[k], i)) continue;
            key = maps[k]->table[i].key;
            if (key == MP_OBJ_NEW_QSTR(MP_QSTR___main__)) continue;
            if ((*name = module_find(maps[k]->table[i].value, obj, want, 0)) != MP_OBJ_NULL) {
                *mod = key;
                return true;
            }
        }
    }
    *mod = MP_OBJ_NEW_QSTR(MP_QSTR___main__);
    /* __main__ holds the user's variables: only objects with a name are looked up */
    *name = want != MP_OBJ_NULL ? module_find(mpk_mp_find_module("__main__", 8, false), obj, want, 1) : MP_OBJ_NULL;
    return *name != MP_OBJ_NULL;
}

/* CPython's names for the helpers this module implements. */
static bool helper_name(mp_obj_t obj, gname_t *g)
{
    static const struct { const void *fn; const char *m, *n; } helpers[] = {
        { &mpk_reconstructor_obj, "copyreg", "_reconstructor" },
        { &mpk_newobj_obj, "copyreg", "__newobj__" },
        { &mpk_newobj_ex_obj, "copyreg", "__newobj_ex__" },
        { &mpk_codecs_encode_obj, "_codecs", "encode" },
        { &mpk_getattr_obj, "builtins", "getattr" },
    };
    size_t i;
    if (obj == MP_OBJ_FROM_PTR(&mp_const_ellipsis_obj)) { g->m = "builtins"; g->n = "Ellipsis"; }
    #if MICROPY_PY_BUILTINS_NOTIMPLEMENTED
    else if (obj == mp_const_notimplemented) { g->m = "builtins"; g->n = "NotImplemented"; }
    #endif
    else {
        for (i = 0; i < MP_ARRAY_SIZE(helpers); i++) {
            if (MP_OBJ_TO_PTR(obj) == helpers[i].fn) break;
        }
        if (i == MP_ARRAY_SIZE(helpers)) return false;
        g->m = helpers[i].m;
        g->n = helpers[i].n;
    }
    g->mn = strlen(g->m);
    g->nn = strlen(g->n);
    g->src[0] = g->src[1] = MP_OBJ_NULL;
    return true;
}

/* A registered mapping for obj, the object known on the device: its name on the
 * other side (map_obj_full_name, map_reconstructor_func). */
static bool mapped_name(mp_obj_t obj, gname_t *g)
{
    const mp_obj_t *e = mpk_reg_find_obj(REG_OBJ_TYPE, obj);
    if (e && e[REG_MAP_OBJ_FULL_NAME] != mp_const_none) return split_full(e[REG_MAP_OBJ_FULL_NAME], e[REG_MAP_OBJ_MODULE], g);
    e = mpk_reg_find_obj(REG_RECONSTRUCT_FUNC, obj);
    if (e && e[REG_MAP_RECONSTRUCTOR_FUNC] != mp_const_none) return split_full(e[REG_MAP_RECONSTRUCTOR_FUNC], mp_const_none, g);
    return false;
}

/* A name found on the device, mapped when a registration names it. */
static void map_found(const gname_t *found, gname_t *g)
{
    const mp_obj_t *e = mpk_reg_find_name(REG_OBJ_FULL_NAME, found->m, found->mn, found->n, found->nn);
    *g = *found;
    if (e && e[REG_MAP_OBJ_FULL_NAME] != mp_const_none && split_full(e[REG_MAP_OBJ_FULL_NAME], e[REG_MAP_OBJ_MODULE], g)) return;
    e = mpk_reg_find_name(REG_OBJ_RECONSTRUCTOR_FUNC, found->m, found->mn, found->n, found->nn);
    if (e && e[REG_MAP_RECONSTRUCTOR_FUNC] != mp_const_none) split_full(e[REG_MAP_RECONSTRUCTOR_FUNC], mp_const_none, g);
}

/* mPickle's whichmodule: the module and qualified name to write for a class or
 * function. name_override: the string a __reduce__ returned, or MP_OBJ_NULL. */
static void global_name(dumper_t *d, mp_obj_t obj, mp_obj_t name_override, gname_t *g)
{
    mp_obj_t mod = MP_OBJ_NULL, name = name_override, found;
    gname_t f;
    if (name_override == MP_OBJ_NULL && (helper_name(obj, g) || mapped_name(obj, g))) return;
    if (name_override == MP_OBJ_NULL && mpk_reg_dummy_find(obj, &mod, &name)) {
        gname_set(&f, mod, name);
        map_found(&f, g);
        return;
    }
    if (name == MP_OBJ_NULL) name = attr_or_null(obj, MP_QSTR___name__);
    mod = function_module(obj);
    if (mod == MP_OBJ_NULL) mod = attr_or_null(obj, MP_QSTR___module__);
    if (mod != MP_OBJ_NULL && mp_obj_is_str(mod) && name != MP_OBJ_NULL && mp_obj_is_str(name)) {
        size_t mn, nn;
        const char *ms = mp_obj_str_get_data(mod, &mn), *ns = mp_obj_str_get_data(name, &nn);
        mp_obj_t module = mpk_mp_find_module(ms, mn, false);
        if (module == MP_OBJ_NULL || mpk_mp_getattr_path(module, ns, nn) != obj) {
            /* a nested class: its __qualname__ lacks the outer names */
            found = module != MP_OBJ_NULL ? module_find(module, obj, name, 2) : MP_OBJ_NULL;
            if (found == MP_OBJ_NULL) {
                mp_raise_msg_varg(&mpk_type_PicklingError, MP_ERROR_TEXT("Can't pickle %s: it's not found as %.*s.%.*s"),
                    mp_obj_get_type_str(obj), (int)mn, ms, (int)nn, ns);
            }
            name = found;
        }
    } else if (!search_modules(obj, &mod, &name)) {
        mp_raise_msg_varg(&mpk_type_PicklingError, MP_ERROR_TEXT("Can't pickle %s object: attribute lookup failed"),
            mp_obj_get_type_str(obj));
    }
    gname_set(&f, mod, name);
    map_found(&f, g);
}

/* ------------------------------------------------------------ the walker */

static void save(dumper_t *d, mp_obj_t obj);

static void save_global(dumper_t *d, mp_obj_t obj, mp_obj_t name_override)
{
    gname_t g;
    global_name(d, obj, name_override, &g);
    keep(d, g.src[0]);
    keep(d, g.src[1]);
    mpk_write_global_n(&d->w, g.m, g.mn, g.n, g.nn);
    remember(d, obj);
}

static void save_bigint(dumper_t *d, mp_obj_t obj)
{
    #if MICROPY_LONGINT_IMPL == MICROPY_LONGINT_IMPL_MPZ
    const mp_obj_int_t *o = MP_OBJ_TO_PTR(obj);
    size_t n = (o->mpz.len * MPZ_DIG_SIZE + 7) / 8 + 1;
    uint8_t small[32], *buf = n <= sizeof small ? small : m_new(uint8_t, n);
    mp_obj_int_to_bytes(obj, n, buf, false, true, false);
    mpk_write_bigint(&d->w, buf, n);
    if (buf != small) m_del(uint8_t, buf, n);
    #elif MICROPY_LONGINT_IMPL == MICROPY_LONGINT_IMPL_LONGLONG
    uint8_t buf[8];
    mp_obj_int_to_bytes(obj, 8, buf, false, true, false);
    mpk_write_bigint(&d->w, buf, 8);
    #else
    (void)d;
    (void)obj;
    #endif
}

static void save_text(dumper_t *d, mp_obj_t obj, int kind)
{
    size_t n;
    const char *p;
    mp_buffer_info_t bi;
    if (kind == 2) {
        mp_get_buffer_raise(obj, &bi, MP_BUFFER_READ);
        p = bi.buf;
        n = bi.len;
        /* a stream's write() runs while the payload is copied out and may
         * resize the bytearray (moving its buffer): it gets a snapshot, whose
         * data block `p` keeps alive */
        if (d->file != MP_OBJ_NULL && n > 0) p = mp_obj_str_get_data(mp_obj_new_bytes(bi.buf, n), &n);
    } else {
        p = mp_obj_str_get_data(obj, &n);
    }
    /* protocol 0 escapes a byte as \u00XX; older protocols write bytes as
     * latin-1 text (two UTF-8 bytes at most) */
    if (kind == 0) mpk_write_str(&d->w, p, n);
    else if (kind == 1) mpk_write_bytes(&d->w, p, n);
    else mpk_write_bytearray(&d->w, p, n);
    remember(d, obj);
}

static void save_tuple(dumper_t *d, mp_obj_t obj)
{
    size_t n, i;
    mp_obj_t *items;
    mp_int_t key;
    mp_obj_tuple_get(obj, &n, &items);
    mpk_write_tuple_begin(&d->w, n);
    for (i = 0; i < n; i++) save(d, items[i]);
    /* reached through its own items (via a list or dict) and memoized meanwhile */
    key = memo_of(d, obj);
    if (key >= 0) {
        mpk_write_tuple_end_recursive(&d->w, (uint32_t)key);
    } else {
        mpk_write_tuple_end(&d->w);
        if (n) remember(d, obj);
    }
}

static MP_NORETURN void changed_size(void)
{
    mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("container changed size during pickling"));
}

static void save_list_items(dumper_t *d, mp_obj_t list, size_t n)
{
    size_t i, len;
    mp_obj_t *items;
    for (i = 0; i < n; i++) {
        mp_obj_list_get(list, &len, &items);   /* again each time: the list may move */
        if (i >= len) changed_size();
        save(d, items[i]);
    }
}

static void save_list(dumper_t *d, mp_obj_t obj)
{
    size_t n;
    mp_obj_t *items;
    mp_obj_list_get(obj, &n, &items);
    mpk_write_list_begin(&d->w, n);
    remember(d, obj);
    save_list_items(d, obj, n);
    mpk_write_list_end(&d->w);
}

/* The pairs of a map (a dict's, an instance's attributes), in its order. */
static void save_map_items(dumper_t *d, const mp_map_t *map, size_t n)
{
    size_t i, done = 0;
    for (i = 0; i < map->alloc && done < n; i++) {
        if (!mp_map_slot_is_filled(map, i)) continue;
        save(d, map->table[i].key);
        save(d, map->table[i].value);
        done++;
    }
    if (done != n || map->used != n) changed_size();
}

static void save_dict(dumper_t *d, mp_obj_t obj)
{
    mp_map_t *map = mp_obj_dict_get_map(obj);
    size_t n = map->used;
    mpk_write_dict_begin(&d->w, n);
    remember(d, obj);
    save_map_items(d, map, n);
    mpk_write_dict_end(&d->w);
}

/* A map written as a dict that is no object of its own (an instance __dict__). */
static void save_map_as_dict(dumper_t *d, const mp_map_t *map)
{
    mpk_write_dict_begin(&d->w, map->used);
    save_map_items(d, map, map->used);
    mpk_write_dict_end(&d->w);
}

#if MICROPY_PY_BUILTINS_SET || MICROPY_PY_BUILTINS_FROZENSET
static void save_iterable_items(dumper_t *d, mp_obj_t obj, size_t n)
{
    mp_obj_iter_buf_t iter_buf;
    mp_obj_t it = mp_getiter(obj, &iter_buf), item;
    size_t done = 0;
    while ((item = mp_iternext(it)) != MP_OBJ_STOP_ITERATION) {
        if (done++ == n) changed_size();
        save(d, item);
    }
    if (done != n) changed_size();
}

static void save_set(dumper_t *d, mp_obj_t obj, bool frozen)
{
    size_t n = (size_t)mp_obj_get_int(mp_obj_len(obj));
    mp_int_t key;
    if (frozen) {
        mpk_write_frozenset_begin(&d->w, n);
    } else {
        mpk_write_set_begin(&d->w, n);
        if (mpk_writer_protocol(&d->w) >= 4) remember(d, obj);
    }
    save_iterable_items(d, obj, n);
    if (!frozen && mpk_writer_protocol(&d->w) >= 4) {
        mpk_write_set_end(&d->w);
        return;
    }
    key = memo_of(d, obj);
    if (key >= 0) mpk_write_set_end_recursive(&d->w, (uint32_t)key);
    else if (frozen) mpk_write_frozenset_end(&d->w);
    else mpk_write_set_end(&d->w);
    remember(d, obj);
}
#endif

/* ------------------------------------------------------------ reduce */

/* After a call's operands: the call opcode and the object's memo entry, or, when
 * the object was reached through its own operands and memoized meanwhile,
 * CPython's drop-and-GET. Returns 1 when the object is complete (recursive). */
static int write_call_or_get(dumper_t *d, mp_obj_t obj, mpk_call_t kind)
{
    mp_int_t key = memo_of(d, obj);
    if (key >= 0) {
        mpk_write_call_end_recursive(&d->w, kind, (uint32_t)key);
        return 1;
    }
    mpk_write_call(&d->w, kind);
    remember(d, obj);
    return 0;
}

/* After the callable and arguments: the call opcode (or POP and GET when obj
 * was memoized meanwhile), then listitems, dictitems and state. */
static void finish_call(dumper_t *d, mp_obj_t obj, mpk_call_t kind, mp_obj_t listitems, mp_obj_t dictitems, mp_obj_t state)
{
    if (write_call_or_get(d, obj, kind)) return;
    if (listitems != mp_const_none) {
        size_t n;
        mp_obj_t *items;
        mp_obj_t list = mp_obj_is_exact_type(listitems, &mp_type_list) ? listitems
                        : mp_call_function_1(MP_OBJ_FROM_PTR(&mp_type_list), listitems);
        mp_obj_list_get(list, &n, &items);
        mpk_write_listitems_begin(&d->w, n);
        save_list_items(d, list, n);
        mpk_write_listitems_end(&d->w);
    }
    if (dictitems != mp_const_none) {
        if (mp_obj_is_dict_or_ordereddict(dictitems)) {
            /* this module's own calls pass the dict itself */
            mp_map_t *map = mp_obj_dict_get_map(dictitems);
            mpk_write_dictitems_begin(&d->w, map->used);
            save_map_items(d, map, map->used);
        } else {
            size_t n, i, len;
            mp_obj_t *items, *pair;
            mp_obj_t list = mp_call_function_1(MP_OBJ_FROM_PTR(&mp_type_list), dictitems);
            mp_obj_list_get(list, &n, &items);
            mpk_write_dictitems_begin(&d->w, n);
            for (i = 0; i < n; i++) {
                mp_obj_list_get(list, &len, &items);
                if (!mp_obj_is_type(items[i], &mp_type_tuple)) goto bad_pair;
                mp_obj_tuple_get(items[i], &len, &pair);
                if (len != 2) goto bad_pair;
                save(d, pair[0]);
                save(d, pair[1]);
            }
        }
        mpk_write_dictitems_end(&d->w);
    }
    if (state != mp_const_none) {
        save(d, state);
        mpk_write_build(&d->w);
    }
    mpk_write_call_end(&d->w);
    return;
bad_pair:
    mp_raise_msg(&mpk_type_PicklingError, MP_ERROR_TEXT("dictitems must yield (key, value) pairs"));
}

static bool is_func(mp_obj_t f, const void *helper, qstr name)
{
    mp_obj_t n;
    if (MP_OBJ_TO_PTR(f) == helper) return true;
    n = attr_or_null(f, MP_QSTR___name__);
    return n != MP_OBJ_NULL && mp_obj_is_qstr(n) && MP_OBJ_QSTR_VALUE(n) == name;
}

/* CPython's save_reduce, for the value of a __reduce__ or a registered reduce_func. */
static void save_reduce(dumper_t *d, mp_obj_t obj, size_t len, const mp_obj_t *rv)
{
    mp_obj_t func = rv[0], args = rv[1];
    mp_obj_t state = len > 2 ? rv[2] : mp_const_none;
    mp_obj_t listitems = len > 3 ? rv[3] : mp_const_none;
    mp_obj_t dictitems = len > 4 ? rv[4] : mp_const_none;
    size_t n;
    mp_obj_t *a;
    mpk_call_t kind = MPK_CALL_REDUCE;
    if (len > 5 && rv[5] != mp_const_none) {
        mp_raise_msg(&mpk_type_PicklingError, MP_ERROR_TEXT("a state_setter (6th item of __reduce__) is not supported"));
    }
    if (!mp_obj_is_type(args, &mp_type_tuple)) {
        mp_raise_msg(&mpk_type_PicklingError, MP_ERROR_TEXT("second item of the tuple returned by __reduce__ must be a tuple"));
    }
    if (!mp_obj_is_callable(func)) {
        mp_raise_msg(&mpk_type_PicklingError, MP_ERROR_TEXT("first item of the tuple returned by __reduce__ must be callable"));
    }
    mp_obj_tuple_get(args, &n, &a);
    mpk_write_call_begin(&d->w);
    if (mpk_writer_protocol(&d->w) >= 4 && is_func(func, &mpk_newobj_ex_obj, MP_QSTR___newobj_ex__)) {
        if (n != 3) mp_raise_msg(&mpk_type_PicklingError, MP_ERROR_TEXT("__newobj_ex__ needs (cls, args, kwargs)"));
        save(d, a[0]);
        save(d, a[1]);
        save(d, a[2]);
        kind = MPK_CALL_NEWOBJ_EX;
    } else if (mpk_writer_protocol(&d->w) >= 2 && is_func(func, &mpk_newobj_obj, MP_QSTR___newobj__)) {
        if (n < 1 || !mp_obj_is_type(a[0], &mp_type_type)) {
            mp_raise_msg(&mpk_type_PicklingError, MP_ERROR_TEXT("args[0] from __newobj__ args is not a type"));
        }
        save(d, a[0]);
        save(d, mp_obj_new_tuple(n - 1, a + 1));
        kind = MPK_CALL_NEWOBJ;
    } else {
        save(d, func);
        save(d, args);
    }
    finish_call(d, obj, kind, listitems, dictitems, state);
}

static void save_reduce_value(dumper_t *d, mp_obj_t obj, mp_obj_t rv)
{
    size_t n;
    mp_obj_t *items;
    if (mp_obj_is_str(rv)) {
        save_global(d, obj, rv);
        return;
    }
    if (!mp_obj_is_type(rv, &mp_type_tuple)) {
        mp_raise_msg(&mpk_type_PicklingError, MP_ERROR_TEXT("__reduce__ must return a string or tuple"));
    }
    mp_obj_tuple_get(rv, &n, &items);
    if (n < 2 || n > 6) {
        mp_raise_msg(&mpk_type_PicklingError, MP_ERROR_TEXT("tuple returned by __reduce__ must contain 2 through 6 elements"));
    }
    save_reduce(d, obj, n, items);
}

/* A call of a builtin type: cls(*args) [+ dictitems], as the types' own
 * __reduce__ in CPython (complex, range, slice, OrderedDict). */
static void save_builtin_call(dumper_t *d, mp_obj_t obj, const mp_obj_type_t *cls, size_t n, const mp_obj_t *args, mp_obj_t dictitems)
{
    mp_obj_t rv[5];
    rv[0] = MP_OBJ_FROM_PTR(cls);
    rv[1] = mp_obj_new_tuple(n, args);
    rv[2] = rv[3] = mp_const_none;
    rv[4] = dictitems;
    save_reduce(d, obj, 5, rv);
}

/* The first native (C) base of a Python class, as MicroPython keeps in subobj[0]. */
static const mp_obj_type_t *native_base(const mp_obj_type_t *t)
{
    while (t) {
        const void *parent = MP_OBJ_TYPE_GET_SLOT_OR_NULL(t, parent);
        if (!parent || parent == &mp_type_object) return NULL;
        if (((const mp_obj_base_t *)parent)->type == &mp_type_tuple) {
            const mp_obj_tuple_t *bases = parent;
            size_t i;
            for (i = 0; i < bases->len; i++) {
                const mp_obj_type_t *b = MP_OBJ_TO_PTR(bases->items[i]);
                if (b == &mp_type_object) continue;
                if (!mp_obj_is_instance_type(b)) return b;
                if ((b = native_base(b)) != NULL) return b;
            }
            return NULL;
        }
        if (!mp_obj_is_instance_type((const mp_obj_type_t *)parent)) return parent;
        t = parent;
    }
    return NULL;
}

static mp_obj_t call_method(mp_obj_t obj, qstr name, size_t n_args, mp_obj_t arg, bool *found)
{
    mp_obj_t dest[3];
    mp_load_method_maybe(obj, name, dest);
    *found = dest[0] != MP_OBJ_NULL;
    if (!*found) return MP_OBJ_NULL;
    dest[2] = arg;
    return mp_call_method_n_kw(n_args, 0, dest);
}

/* The state CPython's object.__reduce_ex__ gives: __getstate__() if the class
 * defines it, else the instance __dict__ (None when empty). `state_map` is set
 * instead of returning a dict when the __dict__ itself is the state. */
static mp_obj_t default_state(mp_obj_t obj, const mp_map_t **state_map)
{
    bool found;
    mp_obj_t st = call_method(obj, MP_QSTR___getstate__, 0, MP_OBJ_NULL, &found);
    mp_obj_instance_t *inst = MP_OBJ_TO_PTR(obj);
    *state_map = NULL;
    if (found) return st;
    if (inst->members.used == 0) return mp_const_none;
    *state_map = &inst->members;
    return mp_const_none;
}

static void write_state(dumper_t *d, mp_obj_t state, const mp_map_t *state_map)
{
    if (state_map) save_map_as_dict(d, state_map);
    else save(d, state);
    mpk_write_build(&d->w);
}

/* Protocol >= 2: copyreg.__newobj__ (NEWOBJ) or __newobj_ex__ (NEWOBJ_EX). */
static void save_object_newobj(dumper_t *d, mp_obj_t obj, const mp_obj_type_t *t, const mp_obj_type_t *base, mp_obj_t native)
{
    mp_obj_t args = mp_const_empty_tuple, kwargs = MP_OBJ_NULL, ret, state;
    mp_obj_t listitems = mp_const_none, dictitems = mp_const_none;
    const mp_map_t *state_map;
    bool found;
    mpk_call_t kind = MPK_CALL_NEWOBJ;
    ret = call_method(obj, MP_QSTR___getnewargs_ex__, 0, MP_OBJ_NULL, &found);
    if (found) {
        size_t n;
        mp_obj_t *pair;
        if (!mp_obj_is_type(ret, &mp_type_tuple)) goto bad_newargs;
        mp_obj_tuple_get(ret, &n, &pair);
        if (n != 2 || !mp_obj_is_type(pair[0], &mp_type_tuple) || !mp_obj_is_dict_or_ordereddict(pair[1])) goto bad_newargs;
        args = pair[0];
        if (mp_obj_dict_len(pair[1])) kwargs = pair[1];
    } else {
        ret = call_method(obj, MP_QSTR___getnewargs__, 0, MP_OBJ_NULL, &found);
        if (found) {
            if (!mp_obj_is_type(ret, &mp_type_tuple)) goto bad_newargs;
            args = ret;
        } else if (native != MP_OBJ_NULL && (base == &mp_type_int || base == &mp_type_str || base == &mp_type_bytes
                                             || base == &mp_type_tuple
                                             #if MICROPY_PY_BUILTINS_FLOAT
                                             || base == &mp_type_float
                                             #endif
                                             )) {
            args = mp_obj_new_tuple(1, &native);
        }
    }
    if (kwargs != MP_OBJ_NULL) {
        if (mpk_writer_protocol(&d->w) < 4) {
            mp_raise_msg(&mpk_type_PicklingError, MP_ERROR_TEXT("keyword arguments of __getnewargs_ex__ need protocol 4"));
        }
        kind = MPK_CALL_NEWOBJ_EX;
    }
    if (native != MP_OBJ_NULL && base == &mp_type_list) listitems = native;
    if (native != MP_OBJ_NULL && base == &mp_type_dict) dictitems = native;
    mpk_write_call_begin(&d->w);
    save(d, MP_OBJ_FROM_PTR(t));
    save(d, args);
    if (kind == MPK_CALL_NEWOBJ_EX) save(d, kwargs);
    if (write_call_or_get(d, obj, kind)) return;
    state = default_state(obj, &state_map);
    if (listitems != mp_const_none || dictitems != mp_const_none) {
        /* a list's or dict's items come before the state, batched as CPython's
         * iterator path does */
        size_t n;
        mp_obj_t *items;
        if (listitems != mp_const_none) {
            mp_obj_list_get(listitems, &n, &items);
            mpk_write_listitems_begin(&d->w, n);
            save_list_items(d, listitems, n);
            mpk_write_listitems_end(&d->w);
        } else {
            mp_map_t *map = mp_obj_dict_get_map(dictitems);
            mpk_write_dictitems_begin(&d->w, map->used);
            save_map_items(d, map, map->used);
            mpk_write_dictitems_end(&d->w);
        }
    }
    if (state_map || state != mp_const_none) write_state(d, state, state_map);
    mpk_write_call_end(&d->w);
    return;
bad_newargs:
    mp_raise_msg(&mpk_type_PicklingError, MP_ERROR_TEXT("__getnewargs__ must return a tuple (__getnewargs_ex__: (tuple, dict))"));
}

/* A copy of the native part of an instance, as CPython's base(self). */
static mp_obj_t native_copy(const mp_obj_type_t *base, mp_obj_t native)
{
    if (base == &mp_type_list || base == &mp_type_dict) return mp_call_function_1(MP_OBJ_FROM_PTR(base), native);
    return native;
}

/* Protocols 0 and 1: copyreg._reconstructor(cls, base, base_state) [+ state]. */
static void save_object_reconstructor(dumper_t *d, mp_obj_t obj, const mp_obj_type_t *t, const mp_obj_type_t *base, mp_obj_t native)
{
    const mp_map_t *state_map;
    mp_obj_t state;
    mpk_write_call_begin(&d->w);
    save(d, MP_OBJ_FROM_PTR(&mpk_reconstructor_obj));
    mpk_write_tuple_begin(&d->w, 3);
    save(d, MP_OBJ_FROM_PTR(t));
    save(d, MP_OBJ_FROM_PTR(base ? base : &mp_type_object));
    save(d, base ? native_copy(base, native) : mp_const_none);
    mpk_write_tuple_end(&d->w);
    if (write_call_or_get(d, obj, MPK_CALL_REDUCE)) return;
    state = default_state(obj, &state_map);
    /* copyreg._reduce_ex adds the state only when it is true */
    if (state_map || mp_obj_is_true(state)) write_state(d, state, state_map);
    mpk_write_call_end(&d->w);
}

static void save_instance(dumper_t *d, mp_obj_t obj, const mp_obj_type_t *t)
{
    const mp_obj_type_t *base = native_base(t);
    mp_obj_t native = MP_OBJ_NULL, rv;
    bool found;
    rv = call_method(obj, MP_QSTR___reduce_ex__, 1, MP_OBJ_NEW_SMALL_INT(mpk_writer_protocol(&d->w)), &found);
    if (!found) rv = call_method(obj, MP_QSTR___reduce__, 0, MP_OBJ_NULL, &found);
    if (found) {
        save_reduce_value(d, obj, rv);
        return;
    }
    if (base) {
        native = ((mp_obj_instance_t *)MP_OBJ_TO_PTR(obj))->subobj[0];
        if (native == MP_OBJ_FROM_PTR(&mp_native_base_init_wrapper_obj)) native = MP_OBJ_NULL;
        if (native == MP_OBJ_NULL || !(base == &mp_type_list || base == &mp_type_dict || base == &mp_type_int ||
                                       base == &mp_type_str || base == &mp_type_bytes || base == &mp_type_tuple
                                       #if MICROPY_PY_BUILTINS_FLOAT
                                       || base == &mp_type_float
                                       #endif
                                       )) {
            pickling_error("cannot pickle", obj);
        }
    }
    if (mpk_writer_protocol(&d->w) >= 2) save_object_newobj(d, obj, t, base, native);
    else save_object_reconstructor(d, obj, t, base, native);
}

#if MICROPY_PY_BUILTINS_RANGE_ATTRS || MICROPY_PY_BUILTINS_SLICE
static void save_attrs_call(dumper_t *d, mp_obj_t obj, const mp_obj_type_t *cls)
{
    mp_obj_t args[3];
    args[0] = mp_load_attr(obj, MP_QSTR_start);
    args[1] = mp_load_attr(obj, MP_QSTR_stop);
    args[2] = mp_load_attr(obj, MP_QSTR_step);
    save_builtin_call(d, obj, cls, 3, args, mp_const_none);
}
#endif

/* Everything CPython writes through a reduction. */
static void save_other(dumper_t *d, mp_obj_t obj, const mp_obj_type_t *t)
{
    const mp_obj_t *e = mpk_reg_find_obj(REG_OBJ_TYPE, MP_OBJ_FROM_PTR(t));
    if (e && e[REG_REDUCE_FUNC] != mp_const_none) {
        save_reduce_value(d, obj, mp_call_function_1(e[REG_REDUCE_FUNC], obj));
        return;
    }
    #if MICROPY_PY_MPICKLE_ULAB
    if (mpk_ulab_is_array(obj)) {
        /* a ulab array, as numpy pickles an array (mp_ulab.c) */
        int64_t key = mpk_ulab_save(&d->w, obj, &d->ulab);
        if (key >= 0 && !d->w.err.code) ident_put(d, obj, (mp_int_t)key);
        return;
    }
    #endif
    #if MICROPY_PY_BUILTINS_COMPLEX
    if (t == &mp_type_complex) {
        mp_float_t re, im;
        mp_obj_t args[2];
        mp_obj_complex_get(obj, &re, &im);
        args[0] = mp_obj_new_float(re);
        args[1] = mp_obj_new_float(im);
        save_builtin_call(d, obj, t, 2, args, mp_const_none);
        return;
    }
    #endif
    #if MICROPY_PY_BUILTINS_RANGE_ATTRS
    if (t == &mp_type_range) { save_attrs_call(d, obj, t); return; }
    #endif
    #if MICROPY_PY_BUILTINS_SLICE && MICROPY_PY_BUILTINS_SLICE_ATTRS
    if (t == &mp_type_slice) { save_attrs_call(d, obj, t); return; }
    #endif
    #if MICROPY_PY_COLLECTIONS_ORDEREDDICT
    if (t == &mp_type_ordereddict) { save_builtin_call(d, obj, t, 0, NULL, obj); return; }
    #endif
    if (mp_obj_is_instance_type(t)) { save_instance(d, obj, t); return; }
    if (obj == MP_OBJ_FROM_PTR(&mp_const_ellipsis_obj) || mp_obj_is_callable(obj)
        #if MICROPY_PY_BUILTINS_NOTIMPLEMENTED
        || obj == mp_const_notimplemented
        #endif
        ) {
        save_global(d, obj, MP_OBJ_NULL);
        return;
    }
    pickling_error("cannot pickle", obj);
}

static void save_inner(dumper_t *d, mp_obj_t obj)
{
    const mp_obj_type_t *t;
    mp_int_t key;
    if (obj == mp_const_none) { mpk_write_none(&d->w); return; }
    if (obj == mp_const_false || obj == mp_const_true) { mpk_write_bool(&d->w, obj == mp_const_true); return; }
    if (mp_obj_is_small_int(obj)) { mpk_write_int(&d->w, MP_OBJ_SMALL_INT_VALUE(obj)); return; }
    t = mp_obj_get_type(obj);
    if (t == &mp_type_int) { save_bigint(d, obj); return; }
    #if MICROPY_PY_BUILTINS_FLOAT
    if (t == &mp_type_float) { mpk_write_float(&d->w, (double)mp_obj_float_get(obj)); return; }
    #endif
    key = memo_of(d, obj);
    if (key >= 0) { mpk_write_memo_get(&d->w, (uint32_t)key); return; }
    if (t == &mp_type_str) save_text(d, obj, 0);
    else if (t == &mp_type_bytes) save_text(d, obj, 1);
    #if MICROPY_PY_BUILTINS_BYTEARRAY
    else if (t == &mp_type_bytearray) save_text(d, obj, 2);
    #endif
    else if (t == &mp_type_tuple) save_tuple(d, obj);
    else if (t == &mp_type_list) save_list(d, obj);
    else if (t == &mp_type_dict) save_dict(d, obj);
    #if MICROPY_PY_BUILTINS_SET
    else if (t == &mp_type_set) save_set(d, obj, false);
    #endif
    #if MICROPY_PY_BUILTINS_FROZENSET
    else if (t == &mp_type_frozenset) save_set(d, obj, true);
    #endif
    else if (t == &mp_type_type) save_global(d, obj, MP_OBJ_NULL);
    else save_other(d, obj, t);
}

/* CPython's persistent_id hook: an object it names (not None) is written as
 * that id (PERSID text in protocol 0, else the id pickled and BINPERSID). */
static bool save_persistent(dumper_t *d, mp_obj_t obj)
{
    mp_obj_t pid = mp_call_function_1(d->persistent_id, obj);
    if (pid == mp_const_none) return false;
    if (mpk_writer_protocol(&d->w) == 0) {
        /* CPython writes str(pid), which must be ASCII (and one line) */
        size_t n, i;
        mp_obj_t text = mp_obj_is_str(pid) ? pid : mp_call_function_1(MP_OBJ_FROM_PTR(&mp_type_str), pid);
        const char *s = mp_obj_str_get_data(text, &n);
        for (i = 0; i < n; i++) {
            if ((s[i] & 0x80) || s[i] == '\n') {
                mp_raise_msg(&mpk_type_PicklingError, MP_ERROR_TEXT("persistent IDs in protocol 0 must be ASCII strings"));
            }
        }
        mpk_write_persid_text(&d->w, s, n);
        return true;
    }
    mpk_write_persid_begin(&d->w);
    d->pid_skip = true;
    save(d, pid);
    mpk_write_persid_end(&d->w);
    return true;
}

static void save(dumper_t *d, mp_obj_t obj)
{
    bool ask = d->persistent_id != MP_OBJ_NULL && !d->pid_skip;
    if (d->w.err.code) return;
    if (++d->depth > MPICKLE_MP_MAX_DEPTH) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("maximum recursion depth exceeded while pickling"));
    }
    MP_STACK_CHECK();
    d->pid_skip = false;
    if (!ask || !save_persistent(d, obj)) save_inner(d, obj);
    d->depth--;
}

/* ------------------------------------------------------------ entry point */

static void memo_in(dumper_t *d, const mpk_mp_dump_memo_t *m)
{
    d->map = m->map;
    d->cap = m->cap;
    d->n = m->n;
    d->keep = m->keep;
    mpk_writer_memo_set(&d->w, &m->wmemo);
}

static void memo_out(const dumper_t *d, mpk_mp_dump_memo_t *m)
{
    m->map = d->map;
    m->cap = d->cap;
    m->n = d->n;
    m->keep = d->keep;
    mpk_writer_memo_get(&d->w, &m->wmemo);
}

static void free_frames(const mpk_writer_t *w)
{
    uint32_t n;
    struct mpk_wframe *frames = mpk_writer_frames(w, &n);
    m_del(struct mpk_wframe, frames, n);
}

static mp_obj_t run(dumper_t *d, mp_obj_t obj, mpk_mp_dump_memo_t *memo)
{
    size_t len, cap;
    uint8_t *buf;
    save(d, obj);
    if (mpk_writer_finish(&d->w) != MPK_OK) raise_writer_error(d);
    free_frames(&d->w);
    if (!memo && d->map) m_del(ident_t, d->map, d->cap);
    buf = mpk_writer_buffer(&d->w, &len, &cap);
    if (d->file != MP_OBJ_NULL) {
        m_del(uint8_t, buf, cap);
        return mp_const_none;
    } else {
        /* the buffer becomes the bytes object (shrunk in place, not copied) */
        vstr_t v;
        v.alloc = cap;
        v.len = len;
        v.buf = (char *)buf;
        v.fixed_buf = false;
        return mp_obj_new_bytes_from_vstr(&v);
    }
}

mp_obj_t mpk_mp_dump(mp_obj_t obj, mp_obj_t file, const mpk_mp_dump_opts_t *opts, mpk_mp_dump_memo_t *memo)
{
    dumper_t d;
    nlr_buf_t nlr;
    mp_obj_t r;
    size_t cap = 256;   /* grows as needed; dumps() shrinks it to the pickle at the end */
    memset(&d, 0, sizeof d);
    d.file = file;
    d.keep = MP_OBJ_NULL;
    d.persistent_id = opts->persistent_id;
    d.root = obj;
    if (file != MP_OBJ_NULL) {
        const mp_obj_type_t *ft = mp_obj_get_type(file);
        const mp_stream_p_t *s = MP_OBJ_TYPE_GET_SLOT_OR_NULL(ft, protocol);
        if (s && s->write && !s->is_text) d.stream = s;
        else {
            mp_obj_t dest[2];
            mp_load_method_maybe(file, MP_QSTR_write, dest);
            if (dest[0] == MP_OBJ_NULL) mp_raise_TypeError(MP_ERROR_TEXT("file must have a 'write' attribute"));
        }
    }
    /* the writer's nesting state grows with the depth reached: each walker
     * level may hold three writer frames */
    mpk_writer_init(&d.w, opts->protocol, opts->flags, m_new(uint8_t, cap), cap, file != MP_OBJ_NULL ? sink : NULL, &d, NULL, 0);
    mpk_writer_set_growth(&d.w, file != MP_OBJ_NULL ? &stream_alloc : &mpk_mp_gc_alloc,
        file != MP_OBJ_NULL ? MPK_FRAME_BUFFER : SIZE_MAX,
        3 * MPICKLE_MP_MAX_DEPTH + 8);
    if (!memo) return run(&d, obj, NULL);
    /* persistent_id or a __reduce__ calling dump() on this same Pickler would
     * grow (and m_del) the map this dump still writes to */
    if (memo->busy) mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("Pickler.dump() called while it runs"));
    memo_in(&d, memo);
    memo->busy = true;
    /* the Pickler's memo must follow even a failed dump (its map may have moved) */
    if (nlr_push(&nlr) == 0) {
        r = run(&d, obj, memo);
        nlr_pop();
        memo_out(&d, memo);
        memo->busy = false;
        return r;
    }
    memo_out(&d, memo);
    memo->busy = false;
    nlr_jump(nlr.ret_val);
}

#endif /* MPK_WITH_WRITER */
