/*
 * mPickle's cross-runtime layer: register_pickle(), injected dummy modules, and
 * the name lookups shared by the dump and load sides.
 *
 * The registry is one GC object reached from a root pointer, created on first
 * use (importing the module allocates nothing). It has a finaliser: ports run
 * every finaliser at soft reset (gc_sweep_all), which clears the root pointer
 * before the heap it points into is reinitialised.
 */
#include <string.h>

#include "py/runtime.h"
#include "py/objmodule.h"
#include "py/objtype.h"
#include "mpickle_mp.h"

typedef struct _mpk_registry_t {
    mp_obj_base_t base;
    mp_obj_t entries;       /* list of REG__COUNT-tuples, oldest first */
    mp_obj_t dummies;       /* dict: module path (str) -> dict name -> function */
} registry_t;

MP_REGISTER_ROOT_POINTER(struct _mpk_registry_t *mpickle_registry);

static mp_obj_t registry_del(mp_obj_t self_in)
{
    if (MP_STATE_VM(mpickle_registry) == MP_OBJ_TO_PTR(self_in)) MP_STATE_VM(mpickle_registry) = NULL;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(registry_del_obj, registry_del);

static const mp_rom_map_elem_t registry_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___del__), MP_ROM_PTR(&registry_del_obj) },
};
static MP_DEFINE_CONST_DICT(registry_locals, registry_locals_table);

static MP_DEFINE_CONST_OBJ_TYPE(registry_type, MP_QSTR_registry, MP_TYPE_FLAG_NONE,
    locals_dict, &registry_locals);

static registry_t *registry(bool create)
{
    registry_t *r = MP_STATE_VM(mpickle_registry);
    if (r || !create) return r;
    r = mp_obj_malloc_with_finaliser(registry_t, &registry_type);
    r->entries = mp_obj_new_list(0, NULL);
    r->dummies = mp_obj_new_dict(0);
    MP_STATE_VM(mpickle_registry) = r;
    return r;
}

/* ------------------------------------------------------------ small helpers */

static bool str_is(mp_obj_t s, const char *p, size_t n)
{
    size_t len;
    const char *d;
    if (!mp_obj_is_str(s)) return false;
    d = mp_obj_str_get_data(s, &len);
    return len == n && memcmp(d, p, n) == 0;
}

/* s == mod + "." + name */
static bool str_is_full(mp_obj_t s, const char *mod, size_t mn, const char *name, size_t nn)
{
    size_t len;
    const char *d;
    if (!mp_obj_is_str(s)) return false;
    d = mp_obj_str_get_data(s, &len);
    return len == mn + 1 + nn && memcmp(d, mod, mn) == 0 && d[mn] == '.' && memcmp(d + mn + 1, name, nn) == 0;
}

bool mpk_mp_is_user_class(mp_obj_t o)
{
    return mp_obj_is_type(o, &mp_type_type) && mp_obj_is_instance_type((const mp_obj_type_t *)MP_OBJ_TO_PTR(o));
}

mp_obj_t mpk_mp_find_module(const char *name, size_t n, bool do_import)
{
    qstr q = qstr_find_strn(name, n);
    mp_map_elem_t *e;
    mp_obj_t m;
    if (q == MP_QSTRnull) {
        /* no object anywhere has this name yet: only an import could make one */
        if (!do_import) return MP_OBJ_NULL;
        q = qstr_from_strn(name, n);
    }
    e = mp_map_lookup(&MP_STATE_VM(mp_loaded_modules_dict).map, MP_OBJ_NEW_QSTR(q), MP_MAP_LOOKUP);
    if (e) return e->value;
    m = mp_module_get_builtin(q, false);
    #if MICROPY_HAVE_REGISTERED_EXTENSIBLE_MODULES
    if (m == MP_OBJ_NULL) m = mp_module_get_builtin(q, true);
    #endif
    if (m == MP_OBJ_NULL && do_import) m = mp_import_name(q, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
    return m;
}

mp_obj_t mpk_mp_getattr_path(mp_obj_t base, const char *path, size_t n)
{
    while (base != MP_OBJ_NULL) {
        const char *dot = memchr(path, '.', n);
        size_t len = dot ? (size_t)(dot - path) : n;
        qstr q = qstr_find_strn(path, len);
        mp_obj_t dest[2];
        if (q == MP_QSTRnull) return MP_OBJ_NULL;   /* no attribute has this name */
        dest[0] = dest[1] = MP_OBJ_NULL;
        mp_load_method_protected(base, q, dest, false);
        if (dest[0] == MP_OBJ_NULL) return MP_OBJ_NULL;
        /* a method looked up on an instance: the function itself is not what the
         * name refers to (CPython would give a bound method) */
        if (dest[1] != MP_OBJ_NULL) return MP_OBJ_NULL;
        base = dest[0];
        if (!dot) break;
        path = dot + 1;
        n -= len + 1;
    }
    return base;
}

/* ------------------------------------------------------------ queries */

static const mp_obj_t *entry_items(mp_obj_t entry)
{
    size_t n;
    mp_obj_t *items;
    mp_obj_tuple_get(entry, &n, &items);
    return items;
}

const mp_obj_t *mpk_reg_find_obj(int field, mp_obj_t value)
{
    registry_t *r = registry(false);
    size_t n, i;
    mp_obj_t *list;
    if (!r) return NULL;
    mp_obj_list_get(r->entries, &n, &list);
    for (i = n; i-- > 0;) {
        const mp_obj_t *e = entry_items(list[i]);
        if (e[field] == value) return e;
    }
    return NULL;
}

const mp_obj_t *mpk_reg_find_name(int field, const char *mod, size_t mn, const char *name, size_t nn)
{
    registry_t *r = registry(false);
    size_t n, i;
    mp_obj_t *list;
    if (!r) return NULL;
    mp_obj_list_get(r->entries, &n, &list);
    for (i = n; i-- > 0;) {
        const mp_obj_t *e = entry_items(list[i]);
        if (str_is_full(e[field], mod, mn, name, nn)) return e;
    }
    return NULL;
}

/* The dict of one dummy module, by path. */
static mp_obj_t dummy_module(registry_t *r, const char *mod, size_t mn)
{
    mp_map_t *map = mp_obj_dict_get_map(r->dummies);
    size_t i;
    for (i = 0; i < map->alloc; i++) {
        if (mp_map_slot_is_filled(map, i) && str_is(map->table[i].key, mod, mn)) return map->table[i].value;
    }
    return MP_OBJ_NULL;
}

mp_obj_t mpk_reg_dummy_get(const char *mod, size_t mn, const char *name, size_t nn)
{
    registry_t *r = registry(false);
    mp_obj_t m;
    mp_map_t *map;
    size_t i;
    if (!r || (m = dummy_module(r, mod, mn)) == MP_OBJ_NULL) return MP_OBJ_NULL;
    map = mp_obj_dict_get_map(m);
    for (i = 0; i < map->alloc; i++) {
        if (mp_map_slot_is_filled(map, i) && str_is(map->table[i].key, name, nn)) return map->table[i].value;
    }
    return MP_OBJ_NULL;
}

bool mpk_reg_dummy_find(mp_obj_t obj, mp_obj_t *module, mp_obj_t *name)
{
    registry_t *r = registry(false);
    mp_map_t *mods;
    size_t i, j;
    if (!r) return false;
    mods = mp_obj_dict_get_map(r->dummies);
    for (i = 0; i < mods->alloc; i++) {
        mp_map_t *fns;
        if (!mp_map_slot_is_filled(mods, i)) continue;
        fns = mp_obj_dict_get_map(mods->table[i].value);
        for (j = 0; j < fns->alloc; j++) {
            if (mp_map_slot_is_filled(fns, j) && fns->table[j].value == obj) {
                *module = mods->table[i].key;
                *name = fns->table[j].key;
                return true;
            }
        }
    }
    return false;
}

bool mpk_reg_knows(mp_obj_t obj)
{
    mp_obj_t m, n;
    if (obj == mp_const_none) return false;
    return mpk_reg_find_obj(REG_OBJ_TYPE, obj) || mpk_reg_find_obj(REG_RECONSTRUCT_FUNC, obj) ||
           mpk_reg_dummy_find(obj, &m, &n);
}

/* ------------------------------------------------------------ dummy modules */

/* A stand-in function for inject_dummy_module_func(path, name) without func:
 * calling it returns "Dummy function 'name'", as mPickle's does. */
typedef struct dummy_fun {
    mp_obj_base_t base;
    mp_obj_t name;
} dummy_fun_t;

static mp_obj_t dummy_fun_call(mp_obj_t self_in, size_t n_args, size_t n_kw, const mp_obj_t *args)
{
    dummy_fun_t *self = MP_OBJ_TO_PTR(self_in);
    vstr_t v;
    (void)n_args; (void)n_kw; (void)args;
    vstr_init(&v, 32);
    vstr_add_str(&v, "Dummy function '");
    vstr_add_str(&v, mp_obj_str_get_str(self->name));
    vstr_add_char(&v, '\'');
    return mp_obj_new_str_from_vstr(&v);
}

static void dummy_fun_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest)
{
    if (dest[0] == MP_OBJ_NULL && attr == MP_QSTR___name__) {
        dest[0] = ((dummy_fun_t *)MP_OBJ_TO_PTR(self_in))->name;
    }
}

static MP_DEFINE_CONST_OBJ_TYPE(dummy_fun_type, MP_QSTR_function, MP_TYPE_FLAG_NONE,
    call, dummy_fun_call,
    attr, dummy_fun_attr);

static mp_obj_t inject_dummy(mp_obj_t path, mp_obj_t name, mp_obj_t func)
{
    registry_t *r = registry(true);
    size_t pn;
    const char *p = mp_obj_str_get_data(path, &pn);
    mp_obj_t mod;
    mp_obj_str_get_str(name);   /* TypeError unless a str */
    if (func == mp_const_none || !mp_obj_is_callable(func)) {
        dummy_fun_t *f = mp_obj_malloc(dummy_fun_t, &dummy_fun_type);
        f->name = name;
        func = MP_OBJ_FROM_PTR(f);
    }
    mod = dummy_module(r, p, pn);
    if (mod == MP_OBJ_NULL) {
        mod = mp_obj_new_dict(0);
        mp_obj_dict_store(r->dummies, path, mod);
    }
    mp_obj_dict_store(mod, name, func);
    return func;
}

static mp_obj_t mpk_inject_dummy_module_func(size_t n_args, const mp_obj_t *args)
{
    return inject_dummy(args[0], args[1], n_args > 2 ? args[2] : mp_const_none);
}
MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mpk_inject_dummy_module_func_obj, 2, 3, mpk_inject_dummy_module_func);

/* Removes the function, then the module if nothing is left in it. Dummy modules
 * are flat (keyed by their whole dotted path), so no parent is left behind. */
static mp_obj_t mpk_revert_dummy_module_func(mp_obj_t path, mp_obj_t name)
{
    registry_t *r = registry(false);
    size_t pn;
    const char *p = mp_obj_str_get_data(path, &pn);
    mp_obj_t mod;
    mp_map_t *fns;
    mp_obj_str_get_str(name);
    if (!r || (mod = dummy_module(r, p, pn)) == MP_OBJ_NULL) return mp_const_none;
    fns = mp_obj_dict_get_map(mod);
    mp_map_lookup(fns, name, MP_MAP_LOOKUP_REMOVE_IF_FOUND);
    if (fns->used == 0) mp_map_lookup(mp_obj_dict_get_map(r->dummies), path, MP_MAP_LOOKUP_REMOVE_IF_FOUND);
    return mp_const_none;
}
MP_DEFINE_CONST_FUN_OBJ_2(mpk_revert_dummy_module_func_obj, mpk_revert_dummy_module_func);

/* ------------------------------------------------------------ register_pickle */

static void check_str_or_none(mp_obj_t o, qstr what)
{
    if (o != mp_const_none && !mp_obj_is_str(o)) {
        mp_raise_msg_varg(&mp_type_TypeError, MP_ERROR_TEXT("%q must be a str or None"), what);
    }
}

static mp_obj_t mpk_register_pickle(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args)
{
    static const mp_arg_t allowed[REG__COUNT] = {
        { MP_QSTR_obj_type, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_obj_full_name, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_obj_module, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_obj_reconstructor_func, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_reduce_func, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_reconstruct_func, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_setstate_func, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_map_obj_module, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_map_obj_full_name, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_map_reconstructor_func, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mp_arg_val_t a[REG__COUNT];
    mp_obj_t items[REG__COUNT];
    registry_t *r;
    int i;
    mp_arg_parse_all(n_args, pos_args, kw_args, REG__COUNT, allowed, a);
    for (i = 0; i < REG__COUNT; i++) items[i] = a[i].u_obj;
    check_str_or_none(items[REG_OBJ_FULL_NAME], MP_QSTR_obj_full_name);
    check_str_or_none(items[REG_OBJ_MODULE], MP_QSTR_obj_module);
    check_str_or_none(items[REG_OBJ_RECONSTRUCTOR_FUNC], MP_QSTR_obj_reconstructor_func);
    check_str_or_none(items[REG_MAP_OBJ_MODULE], MP_QSTR_map_obj_module);
    check_str_or_none(items[REG_MAP_OBJ_FULL_NAME], MP_QSTR_map_obj_full_name);
    check_str_or_none(items[REG_MAP_RECONSTRUCTOR_FUNC], MP_QSTR_map_reconstructor_func);
    /* as mPickle: a reconstruct function given as a callable lives in the dummy
     * module "internal_reconstruct" under its own name; a name given instead wins */
    if (items[REG_OBJ_RECONSTRUCTOR_FUNC] == mp_const_none && items[REG_RECONSTRUCT_FUNC] != mp_const_none &&
        mp_obj_is_callable(items[REG_RECONSTRUCT_FUNC])) {
        mp_obj_t fname = mp_load_attr(items[REG_RECONSTRUCT_FUNC], MP_QSTR___name__);
        vstr_t v;
        vstr_init(&v, 40);
        vstr_add_str(&v, "internal_reconstruct.");
        vstr_add_str(&v, mp_obj_str_get_str(fname));
        items[REG_OBJ_RECONSTRUCTOR_FUNC] = mp_obj_new_str_from_vstr(&v);
        inject_dummy(MP_OBJ_NEW_QSTR(MP_QSTR_internal_reconstruct), fname, items[REG_RECONSTRUCT_FUNC]);
    } else if (items[REG_OBJ_RECONSTRUCTOR_FUNC] != mp_const_none) {
        items[REG_RECONSTRUCT_FUNC] = mp_const_none;
    }
    r = registry(true);
    mp_obj_list_append(r->entries, mp_obj_new_tuple(REG__COUNT, items));
    return mp_const_none;
}
MP_DEFINE_CONST_FUN_OBJ_KW(mpk_register_pickle_obj, 0, mpk_register_pickle);
