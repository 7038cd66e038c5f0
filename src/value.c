/*
 * The value model: a plain-C host that decodes a pickle into a graph of values in
 * an arena. Nothing is imported or called: globals and calls become inspectable
 * nodes. Calls that CPython writes for builtin types in older protocols (sets and
 * frozensets before 4, bytes before 3, bytearray before 5) are recognised: the
 * node gets the builtin type, and keeps the call so that re-encoding is exact.
 */
#include "internal.h"

/* ------------------------------------------------------------ arena */

struct mpk_chunk { struct mpk_chunk *next; size_t size; };

#define ARENA_ALIGN 8u
#define CHUNK_MIN 4096u

static size_t round8(size_t n) { return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1); }

void mpk_arena_init(mpk_arena_t *a, const mpk_alloc_t *alloc, uint64_t limit)
{
    memset(a, 0, sizeof *a);
    a->alloc = *alloc;
    a->limit = limit ? limit : UINT64_MAX;
}

void mpk_arena_free(mpk_arena_t *a)
{
    struct mpk_chunk *c = a->chunks;
    while (c) {
        struct mpk_chunk *next = c->next;
        if (a->alloc.free) a->alloc.free(a->alloc.ctx, c, c->size);
        c = next;
    }
    a->chunks = NULL;
    a->cur = NULL;
    a->left = 0;
    a->last = NULL;
    a->used = 0;
}

/* Takes n (rounded) bytes from the current chunk, which has them. */
static inline void *bump(mpk_arena_t *a, size_t n)
{
    void *p = a->cur;
    a->cur += n;
    a->left -= n;
    a->last = p;
    a->last_size = n;
    return p;
}

/* Out of line: a new chunk for a block of n (rounded) bytes. */
static void *arena_alloc_chunk(mpk_arena_t *a, size_t n)
{
    size_t hdr = round8(sizeof(struct mpk_chunk));
    size_t size = a->chunks ? a->chunks->size * 2 : CHUNK_MIN;
    struct mpk_chunk *c;
    int alone;
    if (size > (1u << 20)) size = 1u << 20;
    /* A block larger than the next chunk would be (a big bytearray or text) gets
     * a chunk of its own, linked behind the current one: small values go on
     * filling the current chunk, and later chunks keep doubling from the regular
     * size instead of from the big block's. */
    alone = a->chunks && size < n + hdr;
    if (size < n + hdr) size = n + hdr;
    if (n > SIZE_MAX - hdr || a->used + size > a->limit) return NULL;
    c = (struct mpk_chunk *)a->alloc.realloc(a->alloc.ctx, NULL, 0, size);
    if (!c) return NULL;
    a->used += size;
    c->size = size;
    if (alone) {
        c->next = a->chunks->next;
        a->chunks->next = c;
        a->last = NULL;     /* not the current chunk's: it cannot grow in place */
        a->last_size = 0;
        return (uint8_t *)c + hdr;
    }
    c->next = a->chunks;
    a->chunks = c;
    a->cur = (uint8_t *)c + hdr;
    a->left = size - hdr;
    return bump(a, n);
}

/* Inline: every value of a decode is allocated here. */
static inline void *arena_alloc(mpk_arena_t *a, size_t n)
{
    n = round8(n ? n : 1);
    if (MPK_UNLIKELY(n > a->left)) return arena_alloc_chunk(a, n);
    return bump(a, n);
}

/* Grows a block; the last block of the arena grows in place. */
static void *arena_grow(mpk_arena_t *a, void *p, size_t old, size_t n)
{
    void *np;
    if (p && p == a->last && round8(n) - a->last_size <= a->left) {
        size_t extra = round8(n) - a->last_size;
        a->cur += extra;
        a->left -= extra;
        a->last_size = round8(n);
        return p;
    }
    np = arena_alloc(a, n);
    if (np && p && old) memcpy(np, p, old);
    return np;
}

static void *arena_copy(mpk_arena_t *a, const void *p, size_t n)
{
    void *c = arena_alloc(a, n + 1);
    if (!c) return NULL;
    if (n) memcpy(c, p, n);
    ((uint8_t *)c)[n] = 0;   /* strings stay NUL-terminated for C callers */
    return c;
}

/* ------------------------------------------------------------ builders */

mpk_value_t *mpk_new(mpk_arena_t *a, mpk_type_t type)
{
    mpk_value_t *v = (mpk_value_t *)arena_alloc(a, sizeof *v);
    if (!v) return NULL;
    memset(v, 0, sizeof *v);
    v->type = (uint8_t)type;
    return v;
}

mpk_value_t *mpk_new_int(mpk_arena_t *a, int64_t i)
{
    mpk_value_t *v = mpk_new(a, MPK_INT);
    if (v) v->u.i = i;
    return v;
}

mpk_value_t *mpk_new_bool(mpk_arena_t *a, int b)
{
    mpk_value_t *v = mpk_new(a, MPK_BOOL);
    if (v) v->u.i = b != 0;
    return v;
}

mpk_value_t *mpk_new_float(mpk_arena_t *a, double f)
{
    mpk_value_t *v = mpk_new(a, MPK_FLOAT);
    if (v) v->u.f = f;
    return v;
}

static mpk_value_t *new_payload(mpk_arena_t *a, mpk_type_t type, const void *p, size_t n, int copy)
{
    mpk_value_t *v = mpk_new(a, type);
    if (!v) return NULL;
    v->u.s.n = n;
    if (!copy) { v->u.s.p = (const uint8_t *)p; return v; }
    v->u.s.p = (const uint8_t *)arena_copy(a, p, n);
    return v->u.s.p ? v : NULL;
}

mpk_value_t *mpk_new_str(mpk_arena_t *a, const char *s, size_t n) { return new_payload(a, MPK_STR, s, n, 1); }

mpk_value_t *mpk_new_bytes(mpk_arena_t *a, mpk_type_t type, const void *p, size_t n)
{
    return new_payload(a, type, p, n, 1);
}

mpk_value_t *mpk_new_global(mpk_arena_t *a, const char *module, const char *name)
{
    mpk_value_t *v = mpk_new(a, MPK_GLOBAL);
    if (!v) return NULL;
    v->u.g.module = mpk_new_str(a, module, strlen(module));
    v->u.g.name = mpk_new_str(a, name, strlen(name));
    return v->u.g.module && v->u.g.name ? v : NULL;
}

/* Appends n pointers to a growable array. */
static int array_push(mpk_arena_t *a, mpk_value_t ***arr, size_t *len, size_t *cap,
                      mpk_value_t *const *items, size_t n)
{
    if (*len + n > *cap) {
        size_t ncap = *cap ? *cap : 4;
        mpk_value_t **na;
        while (ncap < *len + n) ncap *= 2;
        if (ncap > SIZE_MAX / sizeof *na) return -1;
        na = (mpk_value_t **)arena_grow(a, *arr, *len * sizeof *na, ncap * sizeof *na);
        if (!na) return -1;
        *arr = na;
        *cap = ncap;
    }
    memcpy(*arr + *len, items, n * sizeof *items);
    *len += n;
    return 0;
}

int mpk_append(mpk_arena_t *a, mpk_value_t *seq, mpk_value_t *item)
{
    return array_push(a, &seq->u.seq.v, &seq->u.seq.n, &seq->u.seq.cap, &item, 1);
}

int mpk_dict_set(mpk_arena_t *a, mpk_value_t *dict, mpk_value_t *key, mpk_value_t *value)
{
    mpk_value_t *kv[2];
    kv[0] = key;
    kv[1] = value;
    return array_push(a, &dict->u.seq.v, &dict->u.seq.n, &dict->u.seq.cap, kv, 2);
}

/* ------------------------------------------------------------ accessors */

static const char *const type_names[MPK_TYPE__COUNT] = {
    "None", "bool", "int", "int", "float", "str", "bytes", "bytearray", "list", "tuple",
    "dict", "set", "frozenset", "global", "object", "persistent_id", "extension", "buffer"
};

mpk_type_t mpk_type(const mpk_value_t *v) { return v ? (mpk_type_t)v->type : MPK_NONE; }

const char *mpk_type_name(mpk_type_t t) { return (unsigned)t < MPK_TYPE__COUNT ? type_names[t] : "?"; }

int mpk_is_true(const mpk_value_t *v) { return v && v->type == MPK_BOOL && v->u.i; }

int mpk_get_int(const mpk_value_t *v, int64_t *out)
{
    if (!v) return 0;
    if (v->type == MPK_INT || v->type == MPK_BOOL) { *out = v->u.i; return 1; }
    if (v->type == MPK_BIGINT) return mpk_le_to_int(v->u.s.p, v->u.s.n, out);
    return 0;
}

int mpk_get_float(const mpk_value_t *v, double *out)
{
    if (!v) return 0;
    if (v->type == MPK_FLOAT) { *out = v->u.f; return 1; }
    if (v->type == MPK_INT || v->type == MPK_BOOL) { *out = (double)v->u.i; return 1; }
    return 0;
}

const char *mpk_get_str(const mpk_value_t *v, size_t *n)
{
    if (!v || v->type != MPK_STR) return NULL;
    if (n) *n = v->u.s.n;
    return (const char *)v->u.s.p;
}

const uint8_t *mpk_get_bytes(const mpk_value_t *v, size_t *n)
{
    if (!v || (v->type != MPK_BYTES && v->type != MPK_BYTEARRAY && v->type != MPK_BIGINT)) return NULL;
    if (n) *n = v->u.s.n;
    return v->u.s.p;
}

static int is_seq(const mpk_value_t *v)
{
    return v && (v->type == MPK_LIST || v->type == MPK_TUPLE || v->type == MPK_SET ||
                 v->type == MPK_FROZENSET || v->type == MPK_DICT);
}

size_t mpk_len(const mpk_value_t *v)
{
    if (!is_seq(v)) return 0;
    return v->type == MPK_DICT ? v->u.seq.n / 2 : v->u.seq.n;
}

mpk_value_t *mpk_item(const mpk_value_t *v, size_t i)
{
    if (!is_seq(v) || v->type == MPK_DICT || i >= v->u.seq.n) return NULL;
    return v->u.seq.v[i];
}

mpk_value_t *mpk_dict_key(const mpk_value_t *v, size_t i)
{
    if (!v || v->type != MPK_DICT || i >= v->u.seq.n / 2) return NULL;
    return v->u.seq.v[2 * i];
}

mpk_value_t *mpk_dict_value(const mpk_value_t *v, size_t i)
{
    if (!v || v->type != MPK_DICT || i >= v->u.seq.n / 2) return NULL;
    return v->u.seq.v[2 * i + 1];
}

mpk_value_t *mpk_dict_get(const mpk_value_t *v, const char *key)
{
    size_t i, kn = strlen(key);
    if (!v || v->type != MPK_DICT) return NULL;
    for (i = v->u.seq.n / 2; i-- > 0;) {
        const mpk_value_t *k = v->u.seq.v[2 * i];
        if (k->type == MPK_STR && k->u.s.n == kn && !memcmp(k->u.s.p, key, kn)) return v->u.seq.v[2 * i + 1];
    }
    return NULL;
}

const char *mpk_global_module(const mpk_value_t *v)
{
    return v && v->type == MPK_GLOBAL ? (const char *)v->u.g.module->u.s.p : NULL;
}

const char *mpk_global_name(const mpk_value_t *v)
{
    return v && v->type == MPK_GLOBAL ? (const char *)v->u.g.name->u.s.p : NULL;
}

const mpk_call_info_t *mpk_call_info(const mpk_value_t *v) { return v ? v->call : NULL; }

/* ------------------------------------------------------------ the host */

#define CTX(c) ((mpk_value_ctx_t *)(c))
#define NOMEM(c) mpk_decoder_fail(CTX(c)->dec, MPK_ERR_NOMEM, MPK_MSG("value arena is full (memory limit)"))

static mpk_err_t done(void *c, mpk_value_t *v, mpk_obj_t *out)
{
    if (!v) return NOMEM(c);
    *out = v;
    return MPK_OK;
}

static mpk_err_t h_none(void *c, mpk_obj_t *out) { return done(c, mpk_new(CTX(c)->arena, MPK_NONE), out); }
static mpk_err_t h_bool(void *c, int b, mpk_obj_t *out) { return done(c, mpk_new_bool(CTX(c)->arena, b), out); }
static mpk_err_t h_int(void *c, int64_t i, mpk_obj_t *out) { return done(c, mpk_new_int(CTX(c)->arena, i), out); }
static mpk_err_t h_float(void *c, double f, mpk_obj_t *out) { return done(c, mpk_new_float(CTX(c)->arena, f), out); }

static mpk_err_t h_bigint(void *c, const uint8_t *le, size_t n, mpk_obj_t *out)
{
    return done(c, new_payload(CTX(c)->arena, MPK_BIGINT, le, mpk_le_minimal(le, n), 1), out);
}

/* Latin-1 text to UTF-8 in the arena. */
static mpk_value_t *str_from_latin1(mpk_arena_t *a, const uint8_t *p, size_t n)
{
    size_t i, len = n;
    uint8_t *s;
    mpk_value_t *v;
    for (i = 0; i < n; i++) len += p[i] >> 7;
    s = (uint8_t *)arena_alloc(a, len + 1);
    v = s ? mpk_new(a, MPK_STR) : NULL;
    if (!v) return NULL;
    for (i = 0, len = 0; i < n; i++) len += mpk_utf8_put(s + len, p[i]);
    s[len] = 0;
    v->u.s.p = s;
    v->u.s.n = len;
    return v;
}

static mpk_err_t h_str(void *c, const char *s, size_t n, mpk_text_t text, int stable, mpk_obj_t *out)
{
    mpk_arena_t *a = CTX(c)->arena;
    if (text == MPK_TEXT_LATIN1) return done(c, str_from_latin1(a, (const uint8_t *)s, n), out);
    /* referenced in place only when the input outlives the graph; C callers also
     * get NUL-terminated copies otherwise */
    return done(c, new_payload(a, MPK_STR, s, n, !stable), out);
}

static mpk_err_t h_bytes(void *c, const uint8_t *p, size_t n, int stable, mpk_obj_t *out)
{
    return done(c, new_payload(CTX(c)->arena, MPK_BYTES, p, n, !stable), out);
}

static mpk_err_t h_bytearray(void *c, const uint8_t *p, size_t n, mpk_obj_t *out)
{
    return done(c, new_payload(CTX(c)->arena, MPK_BYTEARRAY, p, n, 1), out);
}

static mpk_err_t new_seq(void *c, mpk_type_t t, const mpk_obj_t *items, size_t n, mpk_obj_t *out)
{
    mpk_value_t *v = mpk_new(CTX(c)->arena, t);
    if (!v) return NOMEM(c);
    if (n && array_push(CTX(c)->arena, &v->u.seq.v, &v->u.seq.n, &v->u.seq.cap,
                        (mpk_value_t *const *)items, n) != 0) return NOMEM(c);
    *out = v;
    return MPK_OK;
}

static mpk_err_t h_tuple(void *c, const mpk_obj_t *items, size_t n, mpk_obj_t *out) { return new_seq(c, MPK_TUPLE, items, n, out); }
static mpk_err_t h_list(void *c, mpk_obj_t *out) { return new_seq(c, MPK_LIST, NULL, 0, out); }
static mpk_err_t h_dict(void *c, mpk_obj_t *out) { return new_seq(c, MPK_DICT, NULL, 0, out); }
static mpk_err_t h_set(void *c, mpk_obj_t *out) { return new_seq(c, MPK_SET, NULL, 0, out); }
static mpk_err_t h_frozenset(void *c, const mpk_obj_t *items, size_t n, mpk_obj_t *out) { return new_seq(c, MPK_FROZENSET, items, n, out); }

static mpk_err_t wrong(void *c, const char *msg)
{
    return mpk_decoder_fail(CTX(c)->dec, MPK_ERR_STACK, msg);
}

/* Items arriving after BUILD: remembered so that `mpickle json` shows them in
 * the pickle's order (CPython writes items first). */
static void note_items(mpk_call_info_t *ci)
{
    if (ci->state && !ci->nlist && !ci->ndict) ci->order |= 1;
}

static mpk_err_t h_extend(void *c, mpk_obj_t o, const mpk_obj_t *items, size_t n)
{
    mpk_value_t *v = (mpk_value_t *)o;
    mpk_value_t *const *it = (mpk_value_t *const *)items;
    int r;
    if (v->type == MPK_LIST && !v->call) r = array_push(CTX(c)->arena, &v->u.seq.v, &v->u.seq.n, &v->u.seq.cap, it, n);
    else if (v->call) {
        note_items(v->call);
        r = array_push(CTX(c)->arena, &v->call->listitems, &v->call->nlist, &v->call->list_cap, it, n);
    }
    else return wrong(c, MPK_MSG("APPEND to a value that is not a list"));
    return r ? NOMEM(c) : MPK_OK;
}

static mpk_err_t h_setitems(void *c, mpk_obj_t o, const mpk_obj_t *kv, size_t n)
{
    mpk_value_t *v = (mpk_value_t *)o;
    mpk_value_t *const *it = (mpk_value_t *const *)kv;
    int r;
    if (v->type == MPK_DICT && !v->call) r = array_push(CTX(c)->arena, &v->u.seq.v, &v->u.seq.n, &v->u.seq.cap, it, 2 * n);
    else if (v->call) {
        note_items(v->call);
        r = array_push(CTX(c)->arena, &v->call->dictitems, &v->call->ndict, &v->call->dict_cap, it, 2 * n);
    }
    else return wrong(c, MPK_MSG("SETITEM on a value that is not a dict"));
    return r ? NOMEM(c) : MPK_OK;
}

static mpk_err_t h_add(void *c, mpk_obj_t o, const mpk_obj_t *items, size_t n)
{
    mpk_value_t *v = (mpk_value_t *)o;
    if (v->type != MPK_SET || v->call) return wrong(c, MPK_MSG("ADDITEMS on a value that is not a set"));
    if (array_push(CTX(c)->arena, &v->u.seq.v, &v->u.seq.n, &v->u.seq.cap, (mpk_value_t *const *)items, n))
        return NOMEM(c);
    return MPK_OK;
}

static mpk_err_t h_get_str(void *c, mpk_obj_t o, const char **s, size_t *n)
{
    const mpk_value_t *v = (const mpk_value_t *)o;
    (void)c;
    if (v->type != MPK_STR) return MPK_ERR_STACK;
    *s = (const char *)v->u.s.p;
    *n = v->u.s.n;
    return MPK_OK;
}

/* Names of text GLOBALs are interned per decode, as CPython interns them: the
 * same module string becomes one node (one memo entry when re-encoded). */
static mpk_value_t *name_node(mpk_value_ctx_t *vc, const char *s, size_t n)
{
    size_t i;
    mpk_value_t *v;
    for (i = 0; i < vc->nnames; i++) {
        v = vc->names[i];
        if (v->u.s.n == n && !memcmp(v->u.s.p, s, n)) return v;
    }
    v = mpk_new_str(vc->arena, s, n);
    if (v && vc->nnames < MPK_VALUE_NAMES) vc->names[vc->nnames++] = v;
    return v;
}

static const char *raw_copy(mpk_arena_t *a, const char *s, size_t n, const char *resolved, size_t rn)
{
    if (n == rn && !memcmp(s, resolved, n)) return NULL;
    return (const char *)arena_copy(a, s, n);
}

/* A STACK_GLOBAL's str node becomes the global's name: its text may point into
 * the input, unterminated; mpk_global_module/name promise C strings, so the node
 * gets a NUL-terminated copy (the node itself stays, for memo identity). */
static int terminate(mpk_arena_t *a, mpk_value_t *s)
{
    const uint8_t *p = (const uint8_t *)arena_copy(a, s->u.s.p, s->u.s.n);
    if (!p) return -1;
    s->u.s.p = p;
    return 0;
}

static mpk_err_t h_global(void *c, const mpk_name_t *nm, mpk_obj_t *out)
{
    mpk_value_ctx_t *vc = CTX(c);
    mpk_value_t *v = mpk_new(vc->arena, MPK_GLOBAL);
    if (!v) return NOMEM(c);
    if (nm->module_obj && nm->module == nm->raw_module) v->u.g.module = (mpk_value_t *)nm->module_obj;
    else v->u.g.module = name_node(vc, nm->module, nm->module_len);
    if (nm->name_obj && nm->name == nm->raw_name) v->u.g.name = (mpk_value_t *)nm->name_obj;
    else v->u.g.name = name_node(vc, nm->name, nm->name_len);
    if (!v->u.g.module || !v->u.g.name) return NOMEM(c);
    if ((v->u.g.module == nm->module_obj && terminate(vc->arena, v->u.g.module)) ||
        (v->u.g.name == nm->name_obj && terminate(vc->arena, v->u.g.name))) return NOMEM(c);
    v->u.g.raw_module = raw_copy(vc->arena, nm->raw_module, nm->raw_module_len, nm->module, nm->module_len);
    v->u.g.raw_name = raw_copy(vc->arena, nm->raw_name, nm->raw_name_len, nm->name, nm->name_len);
    *out = v;
    return MPK_OK;
}

static int global_is(const mpk_value_t *g, const char *module, const char *name)
{
    return g->type == MPK_GLOBAL && !g->call &&
           g->u.g.module->u.s.n == strlen(module) && !memcmp(g->u.g.module->u.s.p, module, g->u.g.module->u.s.n) &&
           g->u.g.name->u.s.n == strlen(name) && !memcmp(g->u.g.name->u.s.p, name, g->u.g.name->u.s.n);
}

static int str_is(const mpk_value_t *v, const char *s)
{
    return v->type == MPK_STR && v->u.s.n == strlen(s) && !memcmp(v->u.s.p, s, v->u.s.n);
}

/* UTF-8 text whose code points are all < 256, as Latin-1 bytes in the arena. */
static const uint8_t *latin1_bytes(mpk_arena_t *a, const mpk_value_t *s, size_t *n)
{
    uint8_t *out = (uint8_t *)arena_alloc(a, s->u.s.n + 1);
    size_t i = 0, o = 0;
    if (!out) return NULL;
    while (i < s->u.s.n) {
        uint32_t cp;
        i += mpk_utf8_next(s->u.s.p + i, &cp);
        if (cp > 255) return NULL;
        out[o++] = (uint8_t)cp;
    }
    *n = o;
    return out;
}

/* Gives a call node the builtin type CPython meant, when it is one of the forms
 * CPython's own pickler writes for builtins. */
static void recognise(mpk_arena_t *a, mpk_value_t *v)
{
    const mpk_call_info_t *ci = v->call;
    const mpk_value_t *f = ci->callable, *args = ci->args;
    size_t nargs = args->type == MPK_TUPLE ? args->u.seq.n : 0;
    if (ci->kind != MPK_CALL_REDUCE || args->type != MPK_TUPLE) return;
    if (global_is(f, "builtins", "set") || global_is(f, "builtins", "frozenset")) {
        const mpk_value_t *l = nargs == 1 ? args->u.seq.v[0] : NULL;
        if (nargs > 1 || (l && (l->type != MPK_LIST || l->call))) return;
        v->type = f->u.g.name->u.s.n == 3 ? MPK_SET : MPK_FROZENSET;
        if (l) v->u.seq = l->u.seq;
    } else if (global_is(f, "_codecs", "encode")) {
        const uint8_t *p;
        size_t n;
        if (nargs != 2 || args->u.seq.v[0]->type != MPK_STR || !str_is(args->u.seq.v[1], "latin1")) return;
        p = latin1_bytes(a, args->u.seq.v[0], &n);
        if (!p) return;
        v->type = MPK_BYTES;
        v->u.s.p = p;
        v->u.s.n = n;
    } else if (global_is(f, "builtins", "bytes") && nargs == 0) {
        v->type = MPK_BYTES;
        v->u.s.p = (const uint8_t *)"";
    } else if (global_is(f, "builtins", "bytearray")) {
        const mpk_value_t *b = nargs == 1 ? args->u.seq.v[0] : NULL;
        if (nargs > 1 || (b && b->type != MPK_BYTES)) return;
        v->type = MPK_BYTEARRAY;
        v->u.s.p = b ? b->u.s.p : (const uint8_t *)"";
        v->u.s.n = b ? b->u.s.n : 0;
    }
}

/* Only names, results of calls and ids resolved by the reader can be callables;
 * CPython would fail calling a None, a number, a string or a container. */
static int may_be_callable(const mpk_value_t *v)
{
    return v->type == MPK_GLOBAL || v->type == MPK_OBJECT || v->type == MPK_EXT || v->type == MPK_PERSID;
}

static mpk_err_t h_call(void *c, mpk_call_t kind, mpk_obj_t callable, mpk_obj_t args, mpk_obj_t kwargs, mpk_obj_t *out)
{
    mpk_arena_t *a = CTX(c)->arena;
    mpk_value_t *v, *ar = (mpk_value_t *)args;
    mpk_call_info_t *ci;
    if (ar->type != MPK_TUPLE)
        return wrong(c, kind == MPK_CALL_REDUCE ? MPK_MSG("REDUCE needs an argument tuple")
                                                : MPK_MSG("NEWOBJ needs an argument tuple"));
    if (kwargs && ((mpk_value_t *)kwargs)->type != MPK_DICT)
        return wrong(c, MPK_MSG("NEWOBJ_EX needs keyword arguments in a dict"));
    if (!may_be_callable((const mpk_value_t *)callable))
        return wrong(c, MPK_MSG("the callable of a call is a plain value"));
    v = mpk_new(a, MPK_OBJECT);
    ci = v ? (mpk_call_info_t *)arena_alloc(a, sizeof *ci) : NULL;
    if (!ci) return NOMEM(c);
    memset(ci, 0, sizeof *ci);
    ci->kind = kind;
    ci->callable = (mpk_value_t *)callable;
    ci->args = ar;
    ci->kwargs = (mpk_value_t *)kwargs;
    v->call = ci;
    recognise(a, v);
    *out = v;
    return MPK_OK;
}

static mpk_err_t h_build(void *c, mpk_obj_t o, mpk_obj_t state, mpk_obj_t *out)
{
    (void)out;
    mpk_value_t *v = (mpk_value_t *)o;
    if (!v->call || v->type != MPK_OBJECT) return wrong(c, MPK_MSG("BUILD on a value that is not an object"));
    v->call->state = (mpk_value_t *)state;
    return MPK_OK;
}

static mpk_err_t h_persid(void *c, mpk_obj_t pid, mpk_obj_t *out)
{
    mpk_value_t *v = mpk_new(CTX(c)->arena, MPK_PERSID);
    if (!v) return NOMEM(c);
    v->u.pid = (mpk_value_t *)pid;
    *out = v;
    return MPK_OK;
}

static mpk_err_t h_ext(void *c, uint32_t code, mpk_obj_t *out)
{
    mpk_value_t *v = mpk_new(CTX(c)->arena, MPK_EXT);
    if (!v) return NOMEM(c);
    v->u.i = code;
    *out = v;
    return MPK_OK;
}

static mpk_err_t h_next_buffer(void *c, mpk_obj_t *out)
{
    mpk_value_ctx_t *vc = CTX(c);
    mpk_value_t *v;
    if (vc->next_buffer >= vc->nbuffers)
        return mpk_decoder_fail(vc->dec, MPK_ERR_UNSUPPORTED, MPK_MSG("not enough out-of-band buffers"));
    v = mpk_new(vc->arena, MPK_BUFFER);
    if (!v) return NOMEM(c);
    v->u.buf.index = vc->next_buffer++;
    *out = v;
    return MPK_OK;
}

static mpk_err_t h_readonly(void *c, mpk_obj_t o, mpk_obj_t *out)
{
    mpk_value_t *v = (mpk_value_t *)o;
    if (v->type != MPK_BUFFER) return wrong(c, MPK_MSG("READONLY_BUFFER needs an out-of-band buffer"));
    v->u.buf.readonly = 1;
    *out = v;
    return MPK_OK;
}

const mpk_host_t mpk_value_host = {
    h_none, h_bool, h_int, h_bigint, h_float, h_str, h_bytes, h_bytearray, h_tuple,
    h_list, h_dict, h_set, h_frozenset, h_extend, h_setitems, h_add, h_get_str, h_global,
    h_call, h_build, h_persid, h_ext, h_next_buffer, h_readonly
};

/* ------------------------------------------------------------ loads */

void mpk_load_opts_default(mpk_load_opts_t *opts)
{
    memset(opts, 0, sizeof *opts);
    mpk_decoder_opts_default(&opts->dec);
}

void mpk_value_ctx_init(mpk_value_ctx_t *vc, mpk_arena_t *arena, mpk_decoder_t *dec, size_t nbuffers)
{
    memset(vc, 0, sizeof *vc);
    vc->arena = arena;
    vc->dec = dec;
    vc->nbuffers = nbuffers;
}

mpk_value_t *mpk_loads(mpk_arena_t *arena, const void *data, size_t n, const mpk_load_opts_t *opts,
                       size_t *used, mpk_error_t *err)
{
    mpk_decoder_t d;
    mpk_value_ctx_t vc;
    mpk_load_opts_t def;
    mpk_status_t st;
    mpk_value_t *result = NULL;
    uint64_t old_limit = arena->limit;
    if (!opts) { mpk_load_opts_default(&def); opts = &def; }
    mpk_value_ctx_init(&vc, arena, &d, opts->nbuffers);
    /* the VM's working memory shares the arena's allocator and limit */
    mpk_decoder_init(&d, &mpk_value_host, &vc, &arena->alloc, &opts->dec);
    /* the graph may grow by max_alloc too */
    if (arena->limit - arena->used > d.opts.limits.max_alloc) arena->limit = arena->used + d.opts.limits.max_alloc;
    st = mpk_decoder_feed(&d, data, n, 1, used);
    if (st == MPK_NEED_MORE) st = mpk_decoder_finish(&d);
    if (st == MPK_DONE) result = (mpk_value_t *)mpk_decoder_result(&d);
    if (err) *err = d.err;
    mpk_decoder_destroy(&d);
    arena->limit = old_limit;
    return result;
}
