/*
 * load: the decoder VM's host for MicroPython. The VM keeps object handles
 * (mp_obj_t) in arrays taken from the GC heap, reachable from the decoder struct
 * on the C stack, so the collector sees them. Callbacks may raise (MemoryError,
 * a class's own exception): the VM holds nothing but GC memory, so jumping out
 * of it leaks nothing.
 *
 * Safety policy (find_global): a pickle may name the data-like builtins CPython
 * writes (implemented or mapped here), names the user registered, functions in
 * injected dummy modules, and classes defined in Python code in modules already
 * imported. Anything else is refused with UnpicklingError naming it, unless the
 * caller passed trusted=True (then any global is imported and used, and any
 * callable may be called: as unsafe as CPython's pickle).
 */
#include <string.h>

#include "py/runtime.h"
#include "py/objint.h"
#include "py/objlist.h"
#include "py/objstr.h"
#include "py/smallint.h"
#include "py/objtype.h"
#include "py/stream.h"
#include "py/builtin.h"
#include "mpickle_mp.h"
#include "../../src/opcodes.h"

#if MICROPY_OBJ_REPR == MICROPY_OBJ_REPR_D
#error "mpickle: MICROPY_OBJ_REPR_D (64-bit objects on a 32-bit port) is not supported"
#endif

#define TO_MP(o) ((mp_obj_t)(o))
#define TO_MPK(o) ((mpk_obj_t)(o))

/* ------------------------------------------------------------ object helpers (all builds) */

static bool eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static MP_NORETURN void unpickling_error(mp_rom_error_text_t msg)
{
    mp_raise_msg(&mpk_type_UnpicklingError, msg);
}

mp_obj_t mpk_mp_new_object(mp_obj_t cls, size_t n_args, const mp_obj_t *args, mp_obj_t kwargs)
{
    const mp_obj_type_t *t;
    mp_obj_t dest[2] = {MP_OBJ_NULL, MP_OBJ_NULL}, f = cls, *all, r;
    size_t n_kw = kwargs != MP_OBJ_NULL ? mp_obj_dict_len(kwargs) : 0, n_all, i, k = 0;
    if (!mp_obj_is_type(cls, &mp_type_type)) unpickling_error(MP_ERROR_TEXT("NEWOBJ class argument isn't a type object"));
    t = MP_OBJ_TO_PTR(cls);
    if (mp_obj_is_instance_type(t)) {
        mp_load_method_maybe(cls, MP_QSTR___new__, dest);
        #if MICROPY_CPYTHON_COMPAT
        if (dest[0] == MP_OBJ_NULL && n_kw == 0) {
            /* object.__new__(cls): a blank instance, __init__ not called; a
             * native base (list, dict, int...) is made from the arguments */
            const mp_obj_type_t *native = NULL;
            mp_obj_instance_t *o = mp_obj_new_instance(t, &native);
            if (native != NULL && MP_OBJ_TYPE_HAS_SLOT(native, make_new)) {
                o->subobj[0] = MP_OBJ_TYPE_GET_SLOT(native, make_new)(native, n_args, 0, args);
            }
            return MP_OBJ_FROM_PTR(o);
        }
        #endif
    }
    /* the class's own __new__(cls, *args, **kwargs); for a native type its
     * constructor, which is its __new__ */
    n_all = 1 + n_args + 2 * n_kw;
    all = m_new(mp_obj_t, n_all);
    if (dest[0] != MP_OBJ_NULL) {
        f = dest[0];
        all[k++] = cls;
    }
    for (i = 0; i < n_args; i++) all[k++] = args[i];
    if (n_kw) {
        mp_map_t *map = mp_obj_dict_get_map(kwargs);
        for (i = 0; i < map->alloc; i++) {
            size_t len;
            const char *s;
            qstr q;
            if (!mp_map_slot_is_filled(map, i)) continue;
            s = mp_obj_str_get_data(map->table[i].key, &len);
            /* a parameter name is a qstr already: no new qstr from pickle data */
            q = qstr_find_strn(s, len);
            if (q == MP_QSTRnull) mp_raise_TypeError(MP_ERROR_TEXT("unexpected keyword argument"));
            all[k++] = MP_OBJ_NEW_QSTR(q);
            all[k++] = map->table[i].value;
        }
    }
    r = mp_call_function_n_kw(f, k - 2 * n_kw, n_kw, all);
    m_del(mp_obj_t, all, n_all);
    return r;
}

/* copyreg._reconstructor(cls, base, state): base.__new__(cls, state) */
static mp_obj_t mpk_reconstructor(size_t n_args, const mp_obj_t *args)
{
    mp_obj_t cls = args[0], base = args[1], state = n_args > 2 ? args[2] : mp_const_none;
    if (!mp_obj_is_type(cls, &mp_type_type) || !mp_obj_is_type(base, &mp_type_type)) {
        mp_raise_TypeError(MP_ERROR_TEXT("_reconstructor needs two types"));
    }
    if (base == MP_OBJ_FROM_PTR(&mp_type_object)) return mpk_mp_new_object(cls, 0, NULL, MP_OBJ_NULL);
    if (state == mp_const_none) return mpk_mp_new_object(cls, 0, NULL, MP_OBJ_NULL);
    return mpk_mp_new_object(cls, 1, &state, MP_OBJ_NULL);
}
MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mpk_reconstructor_obj, 2, 3, mpk_reconstructor);

/* copyreg.__newobj__(cls, *args) */
static mp_obj_t mpk_newobj(size_t n_args, const mp_obj_t *args)
{
    return mpk_mp_new_object(args[0], n_args - 1, args + 1, MP_OBJ_NULL);
}
MP_DEFINE_CONST_FUN_OBJ_VAR(mpk_newobj_obj, 1, mpk_newobj);

/* copyreg.__newobj_ex__(cls, args, kwargs) */
static mp_obj_t mpk_newobj_ex(mp_obj_t cls, mp_obj_t args, mp_obj_t kwargs)
{
    size_t n;
    mp_obj_t *items;
    mp_obj_get_array(args, &n, &items);
    if (!mp_obj_is_dict_or_ordereddict(kwargs)) mp_raise_TypeError(MP_ERROR_TEXT("kwargs must be a dict"));
    return mpk_mp_new_object(cls, n, items, mp_obj_dict_len(kwargs) ? kwargs : MP_OBJ_NULL);
}
MP_DEFINE_CONST_FUN_OBJ_3(mpk_newobj_ex_obj, mpk_newobj_ex);

/* _codecs.encode(text, encoding='utf-8'): CPython writes bytes as
 * encode(latin-1 text, 'latin1') before protocol 3. */
static mp_obj_t mpk_codecs_encode(size_t n_args, const mp_obj_t *args)
{
    size_t n, enc_n = 5, i;
    const byte *s = (const byte *)mp_obj_str_get_data(args[0], &n);
    const char *enc = n_args > 1 ? mp_obj_str_get_data(args[1], &enc_n) : "utf-8";
    vstr_t out;
    if (!mp_obj_is_str(args[0])) mp_raise_TypeError(MP_ERROR_TEXT("encode() needs a str"));
    if (eq(enc, enc_n, "utf-8") || eq(enc, enc_n, "utf8")) return mp_obj_new_bytes(s, n);
    if (!(eq(enc, enc_n, "latin1") || eq(enc, enc_n, "latin-1") || eq(enc, enc_n, "iso-8859-1") ||
          eq(enc, enc_n, "iso8859-1") || eq(enc, enc_n, "ascii"))) {
        mp_raise_ValueError(MP_ERROR_TEXT("unknown encoding"));
    }
    vstr_init_len(&out, n);
    out.len = 0;
    for (i = 0; i < n;) {
        uint32_t cp = s[i++];
        if (cp >= 0x80) {
            int more = cp >= 0xf0 ? 3 : cp >= 0xe0 ? 2 : 1;
            cp &= 0x3f >> more;
            while (more-- && i < n) cp = (cp << 6) | (s[i++] & 0x3f);
        }
        if (cp > (enc[0] == 'a' ? 0x7fu : 0xffu)) {
            vstr_clear(&out);
            mp_raise_ValueError(MP_ERROR_TEXT("character out of range for the encoding"));
        }
        vstr_add_byte(&out, (byte)cp);
    }
    return mp_obj_new_bytes_from_vstr(&out);
}
MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mpk_codecs_encode_obj, 1, 3, mpk_codecs_encode);

/* builtins.getattr as a safe loader hands it out: CPython writes
 * getattr(Outer, 'Inner') for nested classes before protocol 4. Only classes
 * (defined in Python or registered) may come out of it. */
static mp_obj_t mpk_getattr(size_t n_args, const mp_obj_t *args)
{
    size_t n;
    const char *name = mp_obj_str_get_data(args[1], &n);
    mp_obj_t r = mpk_mp_getattr_path(args[0], name, n);
    if (r == MP_OBJ_NULL || memchr(name, '.', n)) {
        if (n_args > 2) return args[2];
        mp_raise_msg_varg(&mp_type_AttributeError, MP_ERROR_TEXT("no attribute '%.*s'"), (int)n, name);
    }
    if (!mpk_mp_is_user_class(r) && !mpk_reg_knows(r)) {
        mp_raise_msg_varg(&mpk_type_UnpicklingError,
            MP_ERROR_TEXT("getattr(..., '%.*s') is forbidden: it is no class (load with trusted=True only for data you trust)"),
            (int)n, name);
    }
    return r;
}
MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mpk_getattr_obj, 2, 3, mpk_getattr);

#if MICROPY_PY_BUILTINS_SLICE && MPK_WITH_DECODER
/* builtins.slice(stop) or (start, stop[, step]): MicroPython's slice type may
 * have no constructor of its own. */
static mp_obj_t mpk_slice(size_t n_args, const mp_obj_t *args)
{
    if (n_args == 1) return mp_obj_new_slice(mp_const_none, args[0], mp_const_none);
    return mp_obj_new_slice(args[0], args[1], n_args > 2 ? args[2] : mp_const_none);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mpk_slice_obj, 1, 3, mpk_slice);
#endif

#if MPK_WITH_DECODER

typedef mpk_mp_loader_t loader_t;

#define LD(c) ((loader_t *)(c))

/* ------------------------------------------------------------ atoms */

static mpk_err_t h_none(void *c, mpk_obj_t *out) { (void)c; *out = TO_MPK(mp_const_none); return MPK_OK; }
static mpk_err_t h_bool(void *c, int v, mpk_obj_t *out) { (void)c; *out = TO_MPK(mp_obj_new_bool(v)); return MPK_OK; }
static mpk_err_t h_int(void *c, int64_t v, mpk_obj_t *out)
{
    (void)c;
    /* small ints are immediate objects; mp_obj_new_int_from_ll would make a big one */
    if (v >= MP_SMALL_INT_MIN && v <= MP_SMALL_INT_MAX) *out = TO_MPK(MP_OBJ_NEW_SMALL_INT((mp_int_t)v));
    else *out = TO_MPK(mp_obj_new_int_from_ll(v));
    return MPK_OK;
}

static mpk_err_t h_bigint(void *c, const uint8_t *le, size_t n, mpk_obj_t *out)
{
    #if MICROPY_LONGINT_IMPL == MICROPY_LONGINT_IMPL_MPZ
    /* from_bytes is unsigned: a negative value is ~(its complement) */
    bool neg = (le[n - 1] & 0x80) != 0;
    uint8_t small[32], *buf = n <= sizeof small ? small : m_new(uint8_t, n);
    size_t i;
    mp_obj_t v;
    (void)c;
    for (i = 0; i < n; i++) buf[i] = neg ? (uint8_t)~le[i] : le[i];
    v = mp_obj_int_from_bytes_impl(false, n, buf);
    if (neg) v = mp_unary_op(MP_UNARY_OP_INVERT, v);
    if (buf != small) m_del(uint8_t, buf, n);
    *out = TO_MPK(v);
    return MPK_OK;
    #else
    /* values that fit 64 bits came through make_int */
    (void)c; (void)le; (void)n; (void)out;
    mp_raise_msg(&mp_type_OverflowError, MP_ERROR_TEXT("int too large for this firmware's ints"));
    #endif
}

static mpk_err_t h_float(void *c, double v, mpk_obj_t *out)
{
    #if MICROPY_PY_BUILTINS_FLOAT
    (void)c;
    *out = TO_MPK(mp_obj_new_float_from_d(v));
    return MPK_OK;
    #else
    (void)v; (void)out;
    return mpk_decoder_fail(&LD(c)->dec, MPK_ERR_UNSUPPORTED, "this firmware has no float");
    #endif
}

/* A new str, as CPython's unpickler makes. (Looking for an existing qstr first
 * costs more than the allocation: the runtime's qstr pools are searched one by
 * one.) The VM checked the UTF-8 (surrogates pass, as CPython writes them). */
/* A name code already uses (an interned qstr: dict keys such as 'id', 'name')
 * costs no heap, as in MicroPython's json; other text is copied. */
static mp_obj_t new_str(const char *s, size_t n)
{
    qstr q = qstr_find_strn(s, n);
    return q != MP_QSTRnull ? MP_OBJ_NEW_QSTR(q) : mp_obj_new_str_copy(&mp_type_str, (const byte *)s, n);
}

static mpk_err_t h_str(void *c, const char *s, size_t n, mpk_text_t text, int stable, mpk_obj_t *out)
{
    (void)c; (void)stable;
    if (text == MPK_TEXT_LATIN1) {
        vstr_t v;
        size_t i;
        vstr_init(&v, n + 8);
        for (i = 0; i < n; i++) {
            byte b = (byte)s[i];
            if (b < 0x80) {
                vstr_add_byte(&v, b);
            } else {
                vstr_add_byte(&v, (byte)(0xc0 | (b >> 6)));
                vstr_add_byte(&v, (byte)(0x80 | (b & 0x3f)));
            }
        }
        *out = TO_MPK(mp_obj_new_str_from_vstr(&v));
    } else {
        *out = TO_MPK(new_str(s, n));
    }
    return MPK_OK;
}

static mpk_err_t h_bytes(void *c, const uint8_t *p, size_t n, int stable, mpk_obj_t *out)
{
    (void)c; (void)stable;
    *out = TO_MPK(mp_obj_new_bytes(p, n));
    return MPK_OK;
}

static mpk_err_t h_bytearray(void *c, const uint8_t *p, size_t n, mpk_obj_t *out)
{
    #if MICROPY_PY_BUILTINS_BYTEARRAY
    (void)c;
    *out = TO_MPK(mp_obj_new_bytearray(n, p));
    return MPK_OK;
    #else
    (void)p; (void)n; (void)out;
    return mpk_decoder_fail(&LD(c)->dec, MPK_ERR_UNSUPPORTED, "this firmware has no bytearray");
    #endif
}

/* ------------------------------------------------------------ containers */

/* MicroPython hashes tuples and frozensets recursively in C, with no stack
 * check, and TUPLE1 nests a tuple with one byte and no MARK: a key nested a few
 * thousand levels deep (a few hundred on a microcontroller) would overflow the
 * C stack in a dict or a set. Keys are walked before they are hashed, bounded
 * in depth and in work (a shared sub-tuple is walked each time it is met). */
#ifndef MPICKLE_MP_MAX_KEY_DEPTH
#define MPICKLE_MP_MAX_KEY_DEPTH 32
#endif
#define KEY_WALK_BUDGET 512

static bool is_hashed_container(mp_obj_t o)
{
    #if MICROPY_PY_BUILTINS_FROZENSET
    if (mp_obj_is_type(o, &mp_type_frozenset)) return true;
    #endif
    return mp_obj_is_type(o, &mp_type_tuple);
}

static void walk_key(mp_obj_t k, int depth, size_t *budget)
{
    if (!is_hashed_container(k)) return;
    if (depth >= MPICKLE_MP_MAX_KEY_DEPTH || *budget == 0) {
        unpickling_error(MP_ERROR_TEXT("dict key or set item nested too deeply"));
    }
    --*budget;
    if (mp_obj_is_type(k, &mp_type_tuple)) {
        size_t n, i;
        mp_obj_t *items;
        mp_obj_tuple_get(k, &n, &items);
        for (i = 0; i < n; i++) walk_key(items[i], depth + 1, budget);
    } else {
        mp_obj_iter_buf_t buf;
        mp_obj_t it = mp_getiter(k, &buf), item;
        while ((item = mp_iternext(it)) != MP_OBJ_STOP_ITERATION) walk_key(item, depth + 1, budget);
    }
}

static void check_keys(const mpk_obj_t *keys, size_t n, size_t stride)
{
    size_t i, budget;
    for (i = 0; i < n; i++) {
        budget = KEY_WALK_BUDGET;   /* per key */
        walk_key(TO_MP(keys[i * stride]), 0, &budget);
    }
}

static mpk_err_t h_tuple(void *c, const mpk_obj_t *items, size_t n, mpk_obj_t *out)
{
    (void)c;
    *out = TO_MPK(mp_obj_new_tuple(n, (const mp_obj_t *)items));
    return MPK_OK;
}

static mpk_err_t h_list(void *c, mpk_obj_t *out) { (void)c; *out = TO_MPK(mp_obj_new_list(0, NULL)); return MPK_OK; }
static mpk_err_t h_dict(void *c, mpk_obj_t *out) { (void)c; *out = TO_MPK(mp_obj_new_dict(0)); return MPK_OK; }

static mpk_err_t h_set(void *c, mpk_obj_t *out)
{
    #if MICROPY_PY_BUILTINS_SET
    (void)c;
    *out = TO_MPK(mp_obj_new_set(0, NULL));
    return MPK_OK;
    #else
    (void)out;
    return mpk_decoder_fail(&LD(c)->dec, MPK_ERR_UNSUPPORTED, "this firmware has no set");
    #endif
}

static mpk_err_t h_frozenset(void *c, const mpk_obj_t *items, size_t n, mpk_obj_t *out)
{
    #if MICROPY_PY_BUILTINS_FROZENSET
    (void)c;
    check_keys(items, n, 1);
    *out = TO_MPK(mp_call_function_1(MP_OBJ_FROM_PTR(&mp_type_frozenset), mp_obj_new_tuple(n, (const mp_obj_t *)items)));
    return MPK_OK;
    #else
    (void)items; (void)n; (void)out;
    return mpk_decoder_fail(&LD(c)->dec, MPK_ERR_UNSUPPORTED, "this firmware has no frozenset");
    #endif
}

/* Calls obj.<name>(arg) for each item (CPython's fallback for objects that are
 * no list, dict or set: append/add). */
static void call_each(mp_obj_t obj, qstr name, const mpk_obj_t *items, size_t n)
{
    mp_obj_t dest[3];
    size_t i;
    mp_load_method(obj, name, dest);
    for (i = 0; i < n; i++) {
        mp_obj_t call[3] = { dest[0], dest[1], TO_MP(items[i]) };
        mp_call_method_n_kw(1, 0, call);
    }
}

static mpk_err_t h_extend(void *c, mpk_obj_t list, const mpk_obj_t *items, size_t n)
{
    mp_obj_t l = TO_MP(list), dest[3];
    size_t i;
    (void)c;
    if (mp_obj_is_exact_type(l, &mp_type_list)) {
        /* a batch at once, with a quarter to spare (append doubles: a loaded
         * list would take up to twice its size) */
        mp_obj_list_t *o = MP_OBJ_TO_PTR(l);
        if (o->alloc < o->len + n) {
            size_t na = o->len + n + (o->len + n) / 4;
            o->items = m_renew(mp_obj_t, o->items, o->alloc, na);
            o->alloc = na;
        }
        for (i = 0; i < n; i++) o->items[o->len + i] = TO_MP(items[i]);
        o->len += n;
        return MPK_OK;
    }
    mp_load_method_maybe(l, MP_QSTR_extend, dest);
    if (dest[0] != MP_OBJ_NULL) {
        dest[2] = mp_obj_new_list(n, (mp_obj_t *)items);
        mp_call_method_n_kw(1, 0, dest);
    } else {
        call_each(l, MP_QSTR_append, items, n);
    }
    return MPK_OK;
}

static mpk_err_t h_setitems(void *c, mpk_obj_t dict, const mpk_obj_t *kv, size_t n)
{
    mp_obj_t d = TO_MP(dict);
    size_t i;
    (void)c;
    check_keys(kv, n, 2);
    for (i = 0; i < n; i++) {
        if (mp_obj_is_dict_or_ordereddict(d)) mp_obj_dict_store(d, TO_MP(kv[2 * i]), TO_MP(kv[2 * i + 1]));
        else mp_obj_subscr(d, TO_MP(kv[2 * i]), TO_MP(kv[2 * i + 1]));
    }
    return MPK_OK;
}

static mpk_err_t h_add(void *c, mpk_obj_t set, const mpk_obj_t *items, size_t n)
{
    mp_obj_t s = TO_MP(set);
    (void)c;
    check_keys(items, n, 1);
    #if MICROPY_PY_BUILTINS_SET
    if (mp_obj_is_exact_type(s, &mp_type_set)) {
        size_t i;
        for (i = 0; i < n; i++) mp_obj_set_store(s, TO_MP(items[i]));
        return MPK_OK;
    }
    #endif
    call_each(s, MP_QSTR_add, items, n);
    return MPK_OK;
}

static mpk_err_t h_get_str(void *c, mpk_obj_t obj, const char **s, size_t *n)
{
    (void)c;
    if (!mp_obj_is_str(TO_MP(obj))) return MPK_ERR_STACK;
    *s = mp_obj_str_get_data(TO_MP(obj), n);
    return MPK_OK;
}

/* ------------------------------------------------------------ globals: the safety policy */

static const qstr_short_t safe_builtins[] = {
    MP_QSTR_set, MP_QSTR_frozenset, MP_QSTR_bytearray, MP_QSTR_bytes, MP_QSTR_complex,
    MP_QSTR_range, MP_QSTR_slice, MP_QSTR_object, MP_QSTR_list, MP_QSTR_dict, MP_QSTR_tuple,
    MP_QSTR_int, MP_QSTR_float, MP_QSTR_str, MP_QSTR_bool, MP_QSTR_Ellipsis, MP_QSTR_NotImplemented,
};

static MP_NORETURN void not_available(const char *m, size_t mn, const char *n, size_t nn)
{
    mp_raise_msg_varg(&mpk_type_UnpicklingError, MP_ERROR_TEXT("%.*s.%.*s is not available in this firmware"),
        (int)mn, m, (int)nn, n);
}

/* The data-like globals CPython writes, implemented or mapped here. */
static mp_obj_t known_global(bool trusted, const char *m, size_t mn, const char *n, size_t nn)
{
    size_t i;
    if (eq(m, mn, "builtins")) {
        if (eq(n, nn, "getattr")) return trusted ? MP_OBJ_FROM_PTR(&mp_builtin_getattr_obj) : MP_OBJ_FROM_PTR(&mpk_getattr_obj);
        #if MICROPY_PY_BUILTINS_SLICE
        if (eq(n, nn, "slice") && !MP_OBJ_TYPE_HAS_SLOT(&mp_type_slice, make_new)) return MP_OBJ_FROM_PTR(&mpk_slice_obj);
        #endif
        for (i = 0; i < MP_ARRAY_SIZE(safe_builtins); i++) {
            size_t ql;
            const char *qs = (const char *)qstr_data(safe_builtins[i], &ql);
            if (ql == nn && memcmp(qs, n, nn) == 0) {
                mp_obj_t o = mpk_mp_getattr_path(mpk_mp_find_module("builtins", 8, false), n, nn);
                if (o == MP_OBJ_NULL) not_available(m, mn, n, nn);
                return o;
            }
        }
    } else if (eq(m, mn, "copyreg")) {
        if (eq(n, nn, "_reconstructor")) return MP_OBJ_FROM_PTR(&mpk_reconstructor_obj);
        if (eq(n, nn, "__newobj__")) return MP_OBJ_FROM_PTR(&mpk_newobj_obj);
        if (eq(n, nn, "__newobj_ex__")) return MP_OBJ_FROM_PTR(&mpk_newobj_ex_obj);
    } else if (eq(m, mn, "_codecs") && eq(n, nn, "encode")) {
        return MP_OBJ_FROM_PTR(&mpk_codecs_encode_obj);
    } else if (eq(m, mn, "collections") && eq(n, nn, "OrderedDict")) {
        #if MICROPY_PY_COLLECTIONS_ORDEREDDICT
        return MP_OBJ_FROM_PTR(&mp_type_ordereddict);
        #else
        not_available(m, mn, n, nn);
        #endif
    }
    return MP_OBJ_NULL;
}

/* A name the user registered ("module.name" in a str), resolved on the device. */
static mp_obj_t resolve_registered(mp_obj_t full, mp_obj_t module)
{
    size_t n, mn = 0, cut;
    const char *s = mp_obj_str_get_data(full, &n), *m = NULL;
    mp_obj_t o, mod;
    if (module != mp_const_none) m = mp_obj_str_get_data(module, &mn);
    if (m && mn < n && memcmp(s, m, mn) == 0 && s[mn] == '.') {
        cut = mn;
    } else {
        for (cut = n; cut > 0 && s[cut - 1] != '.'; cut--) {
        }
        if (cut == 0) mp_raise_msg_varg(&mpk_type_UnpicklingError, MP_ERROR_TEXT("registered name '%s' has no module"), s);
        cut--;
    }
    o = mpk_reg_dummy_get(s, cut, s + cut + 1, n - cut - 1);
    if (o != MP_OBJ_NULL) return o;
    mod = mpk_mp_find_module(s, cut, true);
    o = mod != MP_OBJ_NULL ? mpk_mp_getattr_path(mod, s + cut + 1, n - cut - 1) : MP_OBJ_NULL;
    if (o == MP_OBJ_NULL) mp_raise_msg_varg(&mpk_type_UnpicklingError, MP_ERROR_TEXT("registered name '%s' not found"), s);
    return o;
}

/* mPickle's find_class order: registered mappings and reconstructors, then
 * injected dummy modules. */
static mp_obj_t registered_global(const char *m, size_t mn, const char *n, size_t nn)
{
    const mp_obj_t *e = mpk_reg_find_name(REG_MAP_RECONSTRUCTOR_FUNC, m, mn, n, nn);
    if (e) {
        if (e[REG_RECONSTRUCT_FUNC] != mp_const_none) return e[REG_RECONSTRUCT_FUNC];
        if (e[REG_OBJ_RECONSTRUCTOR_FUNC] != mp_const_none) return resolve_registered(e[REG_OBJ_RECONSTRUCTOR_FUNC], mp_const_none);
    }
    e = mpk_reg_find_name(REG_MAP_OBJ_FULL_NAME, m, mn, n, nn);
    if (e) {
        if (e[REG_OBJ_TYPE] != mp_const_none) return e[REG_OBJ_TYPE];
        if (e[REG_OBJ_FULL_NAME] != mp_const_none) return resolve_registered(e[REG_OBJ_FULL_NAME], e[REG_OBJ_MODULE]);
    }
    e = mpk_reg_find_name(REG_OBJ_FULL_NAME, m, mn, n, nn);
    if (e && e[REG_OBJ_TYPE] != mp_const_none) return e[REG_OBJ_TYPE];
    e = mpk_reg_find_name(REG_OBJ_RECONSTRUCTOR_FUNC, m, mn, n, nn);
    if (e && e[REG_RECONSTRUCT_FUNC] != mp_const_none) return e[REG_RECONSTRUCT_FUNC];
    return mpk_reg_dummy_get(m, mn, n, nn);
}

static mp_obj_t runtime_global(loader_t *ld, const char *m, size_t mn, const char *n, size_t nn)
{
    bool trusted = ld->opts.trusted;
    mp_obj_t mod = mpk_mp_find_module(m, mn, trusted), o;
    if (mod == MP_OBJ_NULL) {
        mp_raise_msg_varg(&mpk_type_UnpicklingError,
            MP_ERROR_TEXT("global '%.*s.%.*s': module '%.*s' is not imported (import it first; a safe load imports nothing)"),
            (int)mn, m, (int)nn, n, (int)mn, m);
    }
    o = mpk_mp_getattr_path(mod, n, nn);
    if (o == MP_OBJ_NULL) {
        mp_raise_msg_varg(&mp_type_AttributeError, MP_ERROR_TEXT("Can't get attribute '%.*s' on module '%.*s'"),
            (int)nn, n, (int)mn, m);
    }
    if (trusted || mpk_mp_is_user_class(o) || mpk_reg_knows(o)) return o;
    mp_raise_msg_varg(&mpk_type_UnpicklingError,
        MP_ERROR_TEXT("global '%.*s.%.*s' is forbidden: it is no data type, registered name or Python class "
                      "(load with trusted=True only for data you trust)"),
        (int)mn, m, (int)nn, n);
}

static mpk_err_t h_global(void *c, const mpk_name_t *nm, mpk_obj_t *out)
{
    loader_t *ld = LD(c);
    mp_obj_t o = registered_global(nm->module, nm->module_len, nm->name, nm->name_len);
    if (o == MP_OBJ_NULL && (nm->module != nm->raw_module || nm->name != nm->raw_name)) {
        /* names registered as a Python 2 pickle spells them */
        o = registered_global(nm->raw_module, nm->raw_module_len, nm->raw_name, nm->raw_name_len);
    }
    if (o != MP_OBJ_NULL && mp_obj_is_obj(o) && !mpk_reg_knows(o)) {
        /* a name registered as a string (obj_reconstructor_func="mod.func"):
         * what it resolves to may be called, as the user asked */
        if (ld->granted == MP_OBJ_NULL) ld->granted = mp_obj_new_list(0, NULL);
        mp_obj_list_append(ld->granted, o);
    }
    /* numpy arrays (mp_ulab.c): data reconstructors, in any load */
    if (o == MP_OBJ_NULL) o = mpk_ulab_global(nm->module, nm->module_len, nm->name, nm->name_len);
    if (o == MP_OBJ_NULL) o = known_global(ld->opts.trusted, nm->module, nm->module_len, nm->name, nm->name_len);
    if (o == MP_OBJ_NULL) o = runtime_global(ld, nm->module, nm->module_len, nm->name, nm->name_len);
    *out = TO_MPK(o);
    return MPK_OK;
}

/* ------------------------------------------------------------ calls */

static bool is_helper(mp_obj_t f)
{
    const void *p = MP_OBJ_TO_PTR(f);
    #if MICROPY_PY_BUILTINS_SLICE
    if (p == &mpk_slice_obj) return true;
    #endif
    #if MICROPY_PY_MPICKLE_ULAB
    if (mpk_ulab_is_helper(f)) return true;
    #endif
    return p == &mpk_reconstructor_obj || p == &mpk_newobj_obj || p == &mpk_newobj_ex_obj ||
           p == &mpk_codecs_encode_obj || p == &mpk_getattr_obj;
}

/* set(x), frozenset(x), dict(x), OrderedDict(x) hash the items of x */
static bool hashes_items(mp_obj_t f)
{
    const void *t = MP_OBJ_TO_PTR(f);
    #if MICROPY_PY_BUILTINS_SET
    if (t == &mp_type_set) return true;
    #endif
    #if MICROPY_PY_BUILTINS_FROZENSET
    if (t == &mp_type_frozenset) return true;
    #endif
    #if MICROPY_PY_COLLECTIONS_ORDEREDDICT
    if (t == &mp_type_ordereddict) return true;
    #endif
    return t == &mp_type_dict;
}

static void check_iterable_keys(mp_obj_t arg)
{
    size_t n;
    mp_obj_t *items;
    if (mp_obj_is_type(arg, &mp_type_list)) mp_obj_list_get(arg, &n, &items);
    else if (mp_obj_is_type(arg, &mp_type_tuple)) mp_obj_tuple_get(arg, &n, &items);
    else return;    /* other iterables come from classes, which are trusted */
    check_keys((const mpk_obj_t *)items, n, 1);
}

/* In a safe load only what find_global hands out may be called: types (each one
 * came through the policy), this module's helpers and registered functions. */
static bool granted(loader_t *ld, mp_obj_t f)
{
    size_t n, i;
    mp_obj_t *items;
    if (ld->granted == MP_OBJ_NULL) return false;
    mp_obj_list_get(ld->granted, &n, &items);
    for (i = 0; i < n; i++) {
        if (items[i] == f) return true;
    }
    return false;
}

static void check_callable(loader_t *ld, mp_obj_t f)
{
    if (ld->opts.trusted || mp_obj_is_type(f, &mp_type_type)) return;
    if (mp_obj_is_obj(f) && (is_helper(f) || mpk_reg_knows(f) || granted(ld, f))) return;
    mp_raise_msg_varg(&mpk_type_UnpicklingError,
        MP_ERROR_TEXT("calling a '%s' object is forbidden (load with trusted=True only for data you trust)"),
        mp_obj_get_type_str(f));
}

static mpk_err_t h_call(void *c, mpk_call_t kind, mpk_obj_t callable, mpk_obj_t args, mpk_obj_t kwargs, mpk_obj_t *out)
{
    loader_t *ld = LD(c);
    mp_obj_t f = TO_MP(callable), a = TO_MP(args), kw = TO_MP(kwargs);
    size_t n;
    mp_obj_t *items;
    if (!mp_obj_is_type(a, &mp_type_tuple)) {
        return mpk_decoder_fail(&ld->dec, MPK_ERR_STACK, kind == MPK_CALL_REDUCE ? "REDUCE needs an argument tuple"
                                                                                 : "NEWOBJ needs an argument tuple");
    }
    mp_obj_tuple_get(a, &n, &items);
    check_callable(ld, f);
    if (n && hashes_items(f)) check_iterable_keys(items[0]);
    switch (kind) {
    case MPK_CALL_REDUCE:
        *out = TO_MPK(mp_call_function_n_kw(f, n, 0, items));
        break;
    case MPK_CALL_NEWOBJ_EX:
        if (!mp_obj_is_dict_or_ordereddict(kw)) {
            return mpk_decoder_fail(&ld->dec, MPK_ERR_STACK, "NEWOBJ_EX kwargs must be a dict");
        }
        *out = TO_MPK(mpk_mp_new_object(f, n, items, mp_obj_dict_len(kw) ? kw : MP_OBJ_NULL));
        break;
    case MPK_CALL_NEWOBJ:
        *out = TO_MPK(mpk_mp_new_object(f, n, items, MP_OBJ_NULL));
        break;
    default:
        /* INST, OBJ (Python 2): the class called with the arguments, or a bare
         * instance when there are none */
        if (n) *out = TO_MPK(mp_call_function_n_kw(f, n, 0, items));
        else *out = TO_MPK(mpk_mp_new_object(f, 0, NULL, MP_OBJ_NULL));
        break;
    }
    return MPK_OK;
}

static bool has_setattr(mp_obj_t inst)
{
    #if MICROPY_PY_DELATTR_SETATTR
    mp_obj_t dest[2];
    mp_load_method_maybe(MP_OBJ_FROM_PTR(mp_obj_get_type(inst)), MP_QSTR___setattr__, dest);
    return dest[0] != MP_OBJ_NULL;
    #else
    (void)inst;
    return false;
    #endif
}

/* Sets an attribute in the instance's __dict__ (no __setattr__), or with
 * setattr. A str key becomes a qstr only if that qstr exists (any name code
 * uses does): qstrs are never freed, and pickles must not grow them. Other keys
 * (encoding='bytes' makes bytes of Python 2 str) go into the __dict__ as they
 * are, as CPython does. */
static void set_attr(mp_obj_t inst, mp_obj_t key, mp_obj_t value, bool dict_update)
{
    mp_obj_t k = key;
    if (mp_obj_is_str(key) && !mp_obj_is_qstr(key)) {
        size_t n;
        const char *s = mp_obj_str_get_data(key, &n);
        qstr q = qstr_find_strn(s, n);
        if (q != MP_QSTRnull) {
            k = MP_OBJ_NEW_QSTR(q);
        } else if (!dict_update) {
            /* no code names this attribute (its qstr does not exist): an
             * instance takes it in its __dict__, as setattr would without a
             * __setattr__; only a trusted load of another object makes one */
            if (mp_obj_is_instance_type(mp_obj_get_type(inst)) && !has_setattr(inst)) dict_update = true;
            else k = MP_OBJ_NEW_QSTR(qstr_from_strn(s, n));
        }
    } else if (!mp_obj_is_str(key) && !dict_update) {
        unpickling_error(MP_ERROR_TEXT("state keys must be str"));
    }
    if (dict_update) {
        mp_obj_instance_t *o = MP_OBJ_TO_PTR(inst);
        mp_map_lookup(&o->members, k, MP_MAP_LOOKUP_ADD_IF_NOT_FOUND)->value = value;
    } else {
        mp_store_attr(inst, MP_OBJ_QSTR_VALUE(k), value);
    }
}

static void set_attrs(mp_obj_t inst, mp_obj_t state, bool dict_update)
{
    mp_map_t *map;
    size_t i;
    if (!mp_obj_is_dict_or_ordereddict(state)) unpickling_error(MP_ERROR_TEXT("state is not a dictionary"));
    map = mp_obj_dict_get_map(state);
    for (i = 0; i < map->alloc; i++) {
        if (mp_map_slot_is_filled(map, i)) set_attr(inst, map->table[i].key, map->table[i].value, dict_update);
    }
}

/* BUILD: a registered setstate_func, else __setstate__, else the instance
 * __dict__ updated, else setattr per item; (state, slotstate) pairs too. */
static mpk_err_t h_build(void *c, mpk_obj_t obj, mpk_obj_t st, mpk_obj_t *out)
{
    loader_t *ld = LD(c);
    mp_obj_t inst = TO_MP(obj), state = TO_MP(st), slotstate = mp_const_none, dest[3];
    const mp_obj_t *e = mpk_reg_find_obj(REG_OBJ_TYPE, MP_OBJ_FROM_PTR(mp_obj_get_type(inst)));
    if (e && e[REG_SETSTATE_FUNC] != mp_const_none) {
        mp_obj_t r = mp_call_function_2(e[REG_SETSTATE_FUNC], inst, state);
        /* as mPickle: a setstate_func may return a new object that replaces it */
        if (r != mp_const_none) *out = TO_MPK(r);
        return MPK_OK;
    }
    #if MICROPY_PY_MPICKLE_ULAB
    /* a numpy array or dtype (mp_ulab.c): filled in place from its data */
    if (mpk_ulab_build(inst, state)) return MPK_OK;
    #endif
    /* a state for anything but an instance would set attributes of a class, a
     * module or a function: refused unless trusted */
    if (!ld->opts.trusted && !mp_obj_is_instance_type(mp_obj_get_type(inst))) {
        mp_raise_msg_varg(&mpk_type_UnpicklingError,
            MP_ERROR_TEXT("BUILD on a '%s' object is forbidden (load with trusted=True only for data you trust)"),
            mp_obj_get_type_str(inst));
    }
    mp_load_method_maybe(inst, MP_QSTR___setstate__, dest);
    if (dest[0] != MP_OBJ_NULL) {
        dest[2] = state;
        mp_call_method_n_kw(1, 0, dest);
        return MPK_OK;
    }
    if (mp_obj_is_type(state, &mp_type_tuple) && mp_obj_get_int(mp_obj_len(state)) == 2) {
        mp_obj_t *items;
        size_t n;
        mp_obj_tuple_get(state, &n, &items);
        state = items[0];
        slotstate = items[1];
    }
    if (mp_obj_is_true(state)) set_attrs(inst, state, mp_obj_is_instance_type(mp_obj_get_type(inst)));
    if (mp_obj_is_true(slotstate)) set_attrs(inst, slotstate, false);
    return MPK_OK;
}

/* ------------------------------------------------------------ the rest */

static mpk_err_t h_persid(void *c, mpk_obj_t pid, mpk_obj_t *out)
{
    loader_t *ld = LD(c);
    if (ld->opts.persistent_load == MP_OBJ_NULL) {
        unpickling_error(MP_ERROR_TEXT("A load persistent id instruction was encountered,\nbut no persistent_load function was specified."));
    }
    *out = TO_MPK(mp_call_function_1(ld->opts.persistent_load, TO_MP(pid)));
    return MPK_OK;
}

static mpk_err_t h_ext(void *c, uint32_t code, mpk_obj_t *out)
{
    (void)c; (void)out;
    mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("unregistered extension code %u"), (unsigned)code);
}

static mpk_err_t h_next_buffer(void *c, mpk_obj_t *out)
{
    loader_t *ld = LD(c);
    mp_obj_t b;
    if (ld->opts.buffers == MP_OBJ_NULL) {
        unpickling_error(MP_ERROR_TEXT("pickle stream refers to out-of-band data but no *buffers* argument was given"));
    }
    b = mp_iternext(ld->opts.buffers);
    if (b == MP_OBJ_STOP_ITERATION) unpickling_error(MP_ERROR_TEXT("not enough out-of-band buffers"));
    *out = TO_MPK(b);
    return MPK_OK;
}

static mpk_err_t h_readonly(void *c, mpk_obj_t obj, mpk_obj_t *out)
{
    (void)c;
    *out = obj;
    return MPK_OK;
}

static const mpk_host_t mp_host = {
    h_none, h_bool, h_int, h_bigint, h_float, h_str, h_bytes, h_bytearray, h_tuple,
    h_list, h_dict, h_set, h_frozenset, h_extend, h_setitems, h_add, h_get_str, h_global,
    h_call, h_build, h_persid, h_ext, h_next_buffer, h_readonly
};

/* ------------------------------------------------------------ running the VM */

static void loader_init(loader_t *ld, const mpk_mp_load_opts_t *opts)
{
    mpk_decoder_opts_t o;
    mpk_decoder_opts_default(&o);
    o.fix_imports = opts->fix_imports;
    o.py2str = opts->py2str;
    /* memory is bounded by the heap (MemoryError); these stop absurd values early */
    o.limits.max_depth = MPICKLE_MP_LOAD_MAX_DEPTH;
    o.limits.max_str = MPICKLE_MP_LOAD_MAX_STR;
    o.limits.max_stack = 0x10000000u;
    o.limits.max_memo = 0x10000000u;
    o.limits.max_alloc = (uint64_t)1 << 40;
    if (&ld->opts != opts) ld->opts = *opts;
    ld->has_memo = false;
    ld->granted = MP_OBJ_NULL;
    mpk_decoder_init(&ld->dec, &mp_host, ld, &mpk_mp_gc_alloc, &o);
}

static MP_NORETURN void raise_decoder_error(loader_t *ld)
{
    mpk_error_t e = ld->dec.err;
    char msg[192];
    mpk_decoder_destroy(&ld->dec);
    switch (e.code) {
    case MPK_ERR_NOMEM:
        mp_raise_type(&mp_type_MemoryError);
    case MPK_ERR_TRUNCATED:
        mp_raise_msg_varg(&mp_type_EOFError, MP_ERROR_TEXT("%s"), e.msg);
    case MPK_ERR_PROTOCOL:
        mpk_error_format(&e, msg, sizeof msg);
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%s"), msg);
    default:
        mpk_error_format(&e, msg, sizeof msg);
        mp_raise_msg_varg(&mpk_type_UnpicklingError, MP_ERROR_TEXT("%s"), msg);
    }
}

/* The result, or the error raised; the decoder is destroyed unless keep_memo
 * (an Unpickler after a good pickle). */
static mp_obj_t loader_result(loader_t *ld, mpk_status_t st, bool keep_memo)
{
    mp_obj_t r;
    if (st == MPK_NEED_MORE) st = mpk_decoder_finish(&ld->dec);
    if (st != MPK_DONE) raise_decoder_error(ld);
    r = TO_MP(mpk_decoder_result(&ld->dec));
    if (keep_memo) ld->has_memo = true;
    else mpk_decoder_destroy(&ld->dec);
    return r;
}

static MP_NORETURN void ran_out(void)
{
    mp_raise_msg(&mp_type_EOFError, MP_ERROR_TEXT("Ran out of input"));
}

mp_obj_t mpk_mp_loads(mp_obj_t data, const mpk_mp_load_opts_t *opts)
{
    loader_t ld;
    mp_buffer_info_t bi;
    mpk_status_t st;
    if (mp_obj_is_str(data)) mp_raise_TypeError(MP_ERROR_TEXT("a bytes-like object is required, not 'str'"));
    mp_get_buffer_raise(data, &bi, MP_BUFFER_READ);
    if (bi.len == 0) ran_out();
    loader_init(&ld, opts);
    if (mp_obj_is_exact_type(data, &mp_type_bytes)) {
        /* immutable: instructions run in place */
        st = mpk_decoder_feed(&ld.dec, bi.buf, bi.len, 1, NULL);
    } else {
        /* a mutable buffer may change (or move) while classes run: feed copies */
        uint8_t chunk[MPICKLE_MP_READ_CHUNK];
        size_t pos = 0, take;
        st = MPK_NEED_MORE;
        while (st == MPK_NEED_MORE) {
            mp_get_buffer_raise(data, &bi, MP_BUFFER_READ);
            if (pos >= bi.len) break;
            take = bi.len - pos < sizeof chunk ? bi.len - pos : sizeof chunk;
            memcpy(chunk, (const uint8_t *)bi.buf + pos, take);
            st = mpk_decoder_feed(&ld.dec, chunk, take, 0, NULL);
            pos += take;
        }
    }
    return loader_result(&ld, st, false);
}

/* ------------------------------------------------------------ streams */

typedef struct reader {
    mp_obj_t file;
    const mp_stream_p_t *stream;    /* native read, or NULL: file.read(n) */
    mp_obj_t read;
} reader_t;

/* Reads up to n bytes; fewer only at the end of the stream. */
static size_t read_some(reader_t *r, uint8_t *buf, size_t n)
{
    size_t got = 0;
    if (r->stream) {
        int err = 0;
        got = mp_stream_rw(r->file, buf, n, &err, MP_STREAM_RW_READ);
        if (err) mp_raise_OSError(err);
        return got;
    }
    while (got < n) {
        mp_buffer_info_t bi;
        mp_obj_t b = mp_call_function_1(r->read, MP_OBJ_NEW_SMALL_INT(n - got));
        mp_get_buffer_raise(b, &bi, MP_BUFFER_READ);
        if (bi.len == 0) break;
        if (bi.len > n - got) mp_raise_ValueError(MP_ERROR_TEXT("read() returned more bytes than asked for"));
        memcpy(buf + got, bi.buf, bi.len);
        got += bi.len;
    }
    return got;
}

/* Feeds `len` bytes of the stream, a chunk at a time (a frame, a payload). */
static mpk_status_t feed_from_stream(loader_t *ld, reader_t *r, uint8_t *chunk, uint64_t len)
{
    mpk_status_t st = MPK_NEED_MORE;
    while (len && st == MPK_NEED_MORE) {
        size_t take = len < MPICKLE_MP_READ_CHUNK ? (size_t)len : MPICKLE_MP_READ_CHUNK, got;
        got = read_some(r, chunk, take);
        if (got == 0) return MPK_NEED_MORE;     /* the caller finds the truncation */
        st = mpk_decoder_feed(&ld->dec, chunk, got, 0, NULL);
        len -= got;
        if (got < take) break;
    }
    return st;
}

/* Reads exactly the bytes of one pickle: each opcode, then its argument as the
 * opcode table says; a FRAME's whole content at once (a frame never runs past
 * STOP in a valid pickle). */
static mpk_status_t load_stream(loader_t *ld, reader_t *r)
{
    uint8_t chunk[MPICKLE_MP_READ_CHUNK];
    mpk_status_t st = MPK_NEED_MORE;
    bool first = true;
    while (st == MPK_NEED_MORE) {
        const mpk_opinfo_t *oi;
        size_t k = 0, got;
        if (read_some(r, chunk, 1) == 0) {
            if (first) ran_out();
            return MPK_NEED_MORE;
        }
        first = false;
        oi = &mpk_opinfo[chunk[0]];
        switch (oi->arg) {
        case ARG_U1: k = 1; break;
        case ARG_U2: k = 2; break;
        case ARG_I4: case ARG_U4: k = 4; break;
        case ARG_U8: case ARG_F8: k = 8; break;
        case ARG_LEN1: k = 1; break;
        case ARG_LEN4: k = 4; break;
        case ARG_LEN8: k = 8; break;
        default: k = 0; break;
        }
        got = k ? read_some(r, chunk + 1, k) : 0;
        st = mpk_decoder_feed(&ld->dec, chunk, 1 + got, 0, NULL);
        if (st != MPK_NEED_MORE || got < k) break;
        if (oi->name && (oi->arg == ARG_LEN1 || oi->arg == ARG_LEN4 || oi->arg == ARG_LEN8 || chunk[0] == OP_FRAME)) {
            uint64_t len = 0;
            size_t i;
            for (i = k; i-- > 0;) len = (len << 8) | chunk[1 + i];
            st = feed_from_stream(ld, r, chunk, len);
        } else if (oi->name && (oi->arg == ARG_LINE || oi->arg == ARG_LINE2)) {
            /* protocol 0 text: a byte at a time up to the newline(s) */
            int lines = oi->arg == ARG_LINE2 ? 2 : 1;
            while (lines && st == MPK_NEED_MORE) {
                if (read_some(r, chunk, 1) == 0) return MPK_NEED_MORE;
                if (chunk[0] == '\n') lines--;
                st = mpk_decoder_feed(&ld->dec, chunk, 1, 0, NULL);
            }
        }
    }
    return st;
}

static void reader_init(reader_t *r, mp_obj_t file)
{
    const mp_stream_p_t *s = MP_OBJ_TYPE_GET_SLOT_OR_NULL(mp_obj_get_type(file), protocol);
    r->file = file;
    r->stream = s && s->read && !s->is_text ? s : NULL;
    if (r->stream) {
        r->read = MP_OBJ_NULL;
    } else {
        mp_obj_t dest[2];
        mp_load_method_maybe(file, MP_QSTR_read, dest);
        if (dest[0] == MP_OBJ_NULL) mp_raise_TypeError(MP_ERROR_TEXT("file must have a 'read' attribute"));
        r->read = mp_load_attr(file, MP_QSTR_read);
    }
}

mp_obj_t mpk_mp_load_file(mp_obj_t file, const mpk_mp_load_opts_t *opts)
{
    loader_t ld;
    reader_t r;
    reader_init(&r, file);
    loader_init(&ld, opts);
    return loader_result(&ld, load_stream(&ld, &r), false);
}

mp_obj_t mpk_mp_load_next(mpk_mp_loader_t *ld, mp_obj_t file)
{
    reader_t r;
    nlr_buf_t nlr;
    mp_obj_t res;
    /* a class or persistent_load calling load() on this same Unpickler would
     * re-initialise the decoder under the running one, which still holds
     * pointers into its old stack */
    if (ld->busy) mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("Unpickler.load() called while it runs"));
    reader_init(&r, file);
    if (ld->has_memo) {
        mpk_decoder_next(&ld->dec);
    } else {
        /* first load, or the one before failed: a fresh decoder */
        loader_init(ld, &ld->opts);
    }
    /* a failure (an exception from anywhere) leaves has_memo false */
    ld->has_memo = false;
    ld->busy = true;
    if (nlr_push(&nlr) == 0) {
        res = loader_result(ld, load_stream(ld, &r), true);
        nlr_pop();
        ld->busy = false;
        return res;
    }
    ld->busy = false;
    nlr_jump(nlr.ret_val);
}

/* ------------------------------------------------------------ for aload (mp_aload.c) */

/* Readies ld for its next pickle as load() does: the decoder with the memo of
 * the pickle before (has_memo), else a fresh one with opts (NULL: ld->opts). */
void mpk_mp_loader_begin(mpk_mp_loader_t *ld, const mpk_mp_load_opts_t *opts)
{
    if (ld->has_memo) mpk_decoder_next(&ld->dec);
    else loader_init(ld, opts ? opts : &ld->opts);
    ld->has_memo = false;
}

/* The object of the pickle fed to ld (st: the last feed's status, MPK_NEED_MORE
 * at the end of the stream), or the exception load() raises; keep_memo as an
 * Unpickler. */
mp_obj_t mpk_mp_loader_end(mpk_mp_loader_t *ld, mpk_status_t st, bool keep_memo)
{
    return loader_result(ld, st, keep_memo);
}

#endif /* MPK_WITH_DECODER */
