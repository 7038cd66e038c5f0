/*
 * Encoding a value graph: walks the graph as CPython's pickler walks objects and
 * drives the opcode writer. Object identity (node pointers) decides memo GETs, so
 * a graph decoded from CPython's bytes encodes back to the same bytes.
 */
#include "internal.h"

#if MPK_WITH_WRITER

/* Identity map: node -> memo key and reference count, open addressing. */
typedef struct ident {
    const mpk_value_t *node;
    int64_t memo;
    uint32_t refs;
    uint16_t on_path;   /* compact pre-pass: the node is being walked (a cycle runs through it) */
    uint16_t active;    /* the node is being encoded */
} ident_t;

typedef struct enc {
    mpk_writer_t w;
    const mpk_alloc_t *alloc;
    const mpk_value_t **path;   /* compact pre-pass: the nodes being walked, outermost first */
    uint32_t path_len;
    ident_t *map;
    size_t cap, n;
    uint32_t max_depth;
    int compact;
} enc_t;

static void enc_fail(enc_t *e, mpk_err_t code, const char *msg)
{
    if (!e->w.err.code) {
        e->w.err.code = code;
        e->w.err.offset = mpk_writer_size(&e->w);
        e->w.err.opcode = -1;
        e->w.err.msg = msg;
        e->w.fast_end = 0;      /* the writer's atom fast path stops too */
    }
}

static size_t slot_of(const enc_t *e, const mpk_value_t *v)
{
    size_t mask = e->cap - 1, i = ((uintptr_t)v >> 4) * 2654435761u & mask;
    while (e->map[i].node && e->map[i].node != v) i = (i + 1) & mask;
    return i;
}

static ident_t *ident_get(enc_t *e, const mpk_value_t *v)
{
    size_t i;
    if (!e->cap) return NULL;
    i = slot_of(e, v);
    return e->map[i].node ? &e->map[i] : NULL;
}

static ident_t *ident_add(enc_t *e, const mpk_value_t *v)
{
    size_t i;
    if ((e->n + 1) * 2 > e->cap) {
        ident_t *old = e->map;
        size_t ocap = e->cap, ncap = ocap ? ocap * 2 : 256, j;
        ident_t *nm = (ident_t *)e->alloc->realloc(e->alloc->ctx, NULL, 0, ncap * sizeof *nm);
        if (!nm) { enc_fail(e, MPK_ERR_NOMEM, MPK_MSG("out of memory for the memo map")); return NULL; }
        memset(nm, 0, ncap * sizeof *nm);
        e->map = nm;
        e->cap = ncap;
        for (j = 0; j < ocap; j++)
            if (old[j].node) e->map[slot_of(e, old[j].node)] = old[j];
        if (old && e->alloc->free) e->alloc->free(e->alloc->ctx, old, ocap * sizeof *old);
    }
    i = slot_of(e, v);
    if (!e->map[i].node) {
        e->map[i].node = v;
        e->map[i].memo = -1;
        e->map[i].refs = 0;
        e->n++;
    }
    return &e->map[i];
}

/* Nodes CPython would memoize (atoms are written again each time). */
static int memoizable(const mpk_value_t *v)
{
    switch (v->type) {
    case MPK_NONE: case MPK_BOOL: case MPK_INT: case MPK_BIGINT: case MPK_FLOAT: case MPK_EXT: case MPK_BUFFER:
        return 0;
    default:
        return 1;
    }
}

/* ------------------------------------------------------------ compact: count references */

static void count_refs(enc_t *e, const mpk_value_t *v, uint32_t depth);
static void count_children(enc_t *e, const mpk_value_t *v, uint32_t depth);

static void count_all(enc_t *e, mpk_value_t *const *items, size_t n, uint32_t depth)
{
    size_t i;
    for (i = 0; i < n && !e->w.err.code; i++) count_refs(e, items[i], depth);
}

/* A cycle back to `v`: every node on the path from v down is written again before
 * it is finished unless memoized, so all of them count as shared. */
static void mark_cycle(enc_t *e, const mpk_value_t *v)
{
    uint32_t i = e->path_len;
    while (i-- > 0) {
        ident_t *id = ident_get(e, e->path[i]);
        if (id && id->refs < 2) id->refs = 2;
        if (e->path[i] == v) break;
    }
}

static void count_refs(enc_t *e, const mpk_value_t *v, uint32_t depth)
{
    ident_t *id;
    if (!v || !memoizable(v) || e->w.err.code) return;
    if (depth > e->max_depth) { enc_fail(e, MPK_ERR_LIMIT, MPK_MSG("nesting limit (max_depth) exceeded")); return; }
    id = ident_add(e, v);
    if (!id) return;
    if (id->on_path) mark_cycle(e, v);
    if (id->refs++ > 0) return;
    id->on_path = 1;
    e->path[e->path_len++] = v;
    count_children(e, v, depth);
    e->path_len--;
    if ((id = ident_get(e, v)) != NULL) id->on_path = 0;   /* the map may have moved */
}

static void count_children(enc_t *e, const mpk_value_t *v, uint32_t depth)
{
    if (v->call) {
        const mpk_call_info_t *c = v->call;
        count_refs(e, c->callable, depth + 1);
        count_refs(e, c->args, depth + 1);
        count_refs(e, c->kwargs, depth + 1);
        count_refs(e, c->state, depth + 1);
        count_all(e, c->listitems, c->nlist, depth + 1);
        count_all(e, c->dictitems, c->ndict, depth + 1);
    }
    switch (v->type) {
    case MPK_LIST: case MPK_TUPLE: case MPK_DICT: case MPK_SET: case MPK_FROZENSET:
        if (!v->call) count_all(e, v->u.seq.v, v->u.seq.n, depth + 1);
        break;
    case MPK_GLOBAL: count_refs(e, v->u.g.module, depth + 1); count_refs(e, v->u.g.name, depth + 1); break;
    case MPK_PERSID: count_refs(e, v->u.pid, depth + 1); break;
    default: break;
    }
}

/* ------------------------------------------------------------ encode */

static void encode(enc_t *e, const mpk_value_t *v, uint32_t depth);

static void encode_all(enc_t *e, mpk_value_t *const *items, size_t n, uint32_t depth)
{
    size_t i;
    for (i = 0; i < n && !e->w.err.code; i++) encode(e, items[i], depth);
}

/* Marks the next memoized object as shared in compact mode. */
static void share_if_needed(enc_t *e, const mpk_value_t *v)
{
    if (e->compact) {
        ident_t *id = ident_get(e, v);
        if (id && id->refs > 1) mpk_writer_share_next(&e->w);
    }
}

static void remember(enc_t *e, const mpk_value_t *v)
{
    int64_t key = mpk_writer_last_memo(&e->w);
    ident_t *id;
    if (key < 0 || e->w.err.code) return;
    id = ident_add(e, v);
    if (id) id->memo = key;
}

static void encode_tuple_items(enc_t *e, mpk_value_t *const *items, size_t n, const mpk_value_t *self, uint32_t depth)
{
    ident_t *id;
    mpk_write_tuple_begin(&e->w, n);
    encode_all(e, items, n, depth + 1);
    id = self ? ident_get(e, self) : NULL;
    if (id && id->memo >= 0) mpk_write_tuple_end_recursive(&e->w, (uint32_t)id->memo);
    else {
        mpk_write_tuple_end(&e->w);
        if (self && n) remember(e, self);
    }
}

/* cls.__new__ forms before the protocol that has their opcode: copyreg helpers. */
static void encode_newobj_fallback(enc_t *e, const mpk_call_info_t *c, uint32_t depth)
{
    const mpk_value_t *args = c->args;
    if (c->kind == MPK_CALL_NEWOBJ) {
        mpk_write_global(&e->w, "copyreg", "__newobj__");
        mpk_write_tuple_begin(&e->w, 1 + args->u.seq.n);
        encode(e, c->callable, depth + 1);
        encode_all(e, args->u.seq.v, args->u.seq.n, depth + 1);
        mpk_write_tuple_end(&e->w);
    } else {
        mpk_write_global(&e->w, "copyreg", "__newobj_ex__");
        mpk_write_tuple_begin(&e->w, 3);
        encode(e, c->callable, depth + 1);
        encode(e, c->args, depth + 1);
        encode(e, c->kwargs, depth + 1);
        mpk_write_tuple_end(&e->w);
    }
}

/* Nodes being encoded (a cycle re-enters them before they are finished). */
static void set_active(enc_t *e, const mpk_value_t *v, uint32_t on)
{
    ident_t *id = ident_add(e, v);
    if (id) id->active = on;
}

static int is_active(enc_t *e, const mpk_value_t *v)
{
    ident_t *id = ident_get(e, v);
    return id && id->active;
}

/* A call's arguments written again while that call is still being written (a
 * cycle through its own arguments): CPython's __reduce__ makes the argument tuple
 * and containers like list(self) afresh each time, so unfinished containers are
 * written as new ones, not as references to the unfinished originals. */
static void encode_fresh(enc_t *e, const mpk_value_t *v, uint32_t depth)
{
    size_t i, n;
    if (e->w.err.code) return;
    if (depth > e->max_depth) { enc_fail(e, MPK_ERR_LIMIT, MPK_MSG("nesting limit (max_depth) exceeded")); return; }
    if (v->call || !is_active(e, v) || (v->type != MPK_TUPLE && v->type != MPK_LIST && v->type != MPK_DICT)) {
        encode(e, v, depth);
        return;
    }
    n = v->u.seq.n;
    if (v->type == MPK_TUPLE) mpk_write_tuple_begin(&e->w, n);
    else if (v->type == MPK_LIST) mpk_write_list_begin(&e->w, n);
    else mpk_write_dict_begin(&e->w, n / 2);
    for (i = 0; i < n; i++) encode_fresh(e, v->u.seq.v[i], depth + 1);
    if (v->type == MPK_TUPLE) mpk_write_tuple_end(&e->w);
    else if (v->type == MPK_LIST) mpk_write_list_end(&e->w);
    else mpk_write_dict_end(&e->w);
}

static mpk_call_t call_opcode(const mpk_call_info_t *c, int proto)
{
    if (c->kind == MPK_CALL_NEWOBJ && proto >= 2) return MPK_CALL_NEWOBJ;
    if (c->kind == MPK_CALL_NEWOBJ_EX && proto >= 4) return MPK_CALL_NEWOBJ_EX;
    if (c->kind == MPK_CALL_INST || c->kind == MPK_CALL_OBJ) {
        if (proto >= 1) return MPK_CALL_OBJ;
        if (c->callable->type == MPK_GLOBAL) return MPK_CALL_INST;
    }
    return MPK_CALL_REDUCE;
}

/* The callable and arguments, in the layout of the opcode that calls them. */
static void encode_call_operands(enc_t *e, const mpk_call_info_t *c, mpk_call_t op, int fresh, uint32_t depth)
{
    size_t i;
    if (op == MPK_CALL_OBJ || op == MPK_CALL_INST) {
        /* Python 2 instances: MARK [class] args... OBJ, or MARK args... INST module name */
        mpk_write_mark(&e->w);
        if (op == MPK_CALL_OBJ) encode(e, c->callable, depth + 1);
        for (i = 0; i < c->args->u.seq.n; i++) encode(e, c->args->u.seq.v[i], depth + 1);
        if (op == MPK_CALL_INST) {
            const mpk_value_t *g = c->callable;
            mpk_write_inst(&e->w, (const char *)g->u.g.module->u.s.p, g->u.g.module->u.s.n,
                           (const char *)g->u.g.name->u.s.p, g->u.g.name->u.s.n);
        }
        return;
    }
    if ((c->kind == MPK_CALL_NEWOBJ || c->kind == MPK_CALL_NEWOBJ_EX) && op == MPK_CALL_REDUCE) {
        encode_newobj_fallback(e, c, depth);
        return;
    }
    encode(e, c->callable, depth + 1);
    if (fresh) encode_fresh(e, c->args, depth + 1);
    else encode(e, c->args, depth + 1);
    if (op == MPK_CALL_NEWOBJ_EX) encode(e, c->kwargs, depth + 1);
}

static void encode_call_items(enc_t *e, const mpk_call_info_t *c, uint32_t depth)
{
    if (c->nlist) {
        mpk_write_listitems_begin(&e->w, c->nlist);
        encode_all(e, c->listitems, c->nlist, depth + 1);
        mpk_write_listitems_end(&e->w);
    }
    if (c->ndict) {
        mpk_write_dictitems_begin(&e->w, c->ndict / 2);
        encode_all(e, c->dictitems, c->ndict, depth + 1);
        mpk_write_dictitems_end(&e->w);
    }
    if (c->state) {
        encode(e, c->state, depth + 1);
        mpk_write_build(&e->w);
    }
}

/* An object made by a call, as CPython's save_reduce writes it. */
static void encode_call(enc_t *e, const mpk_value_t *v, uint32_t depth)
{
    const mpk_call_info_t *c = v->call;
    mpk_call_t op = call_opcode(c, e->w.proto);
    int fresh = is_active(e, v);
    ident_t *id;
    share_if_needed(e, v);
    mpk_write_call_begin(&e->w);
    set_active(e, v, 1);
    encode_call_operands(e, c, op, fresh, depth);
    id = ident_get(e, v);
    if (id && id->memo >= 0) {
        /* reached through its own arguments and memoized meanwhile */
        mpk_write_call_end_recursive(&e->w, op, (uint32_t)id->memo);
    } else {
        if (op != MPK_CALL_INST) mpk_write_call(&e->w, op);
        remember(e, v);
        encode_call_items(e, c, depth);
        mpk_write_call_end(&e->w);
    }
    if (!fresh) set_active(e, v, 0);
}

/* A module or qualified name string of a global: by identity, as CPython does
 * (whether two globals share a module string depends on how their __module__ was
 * made, which the decoded graph records and a name does not). */
static void encode_name(enc_t *e, const mpk_value_t *s)
{
    ident_t *id = ident_get(e, s);
    if (id && id->memo >= 0) {
        mpk_write_memo_get(&e->w, (uint32_t)id->memo);
        return;
    }
    mpk_writer_share_next(&e->w);
    mpk_write_str(&e->w, (const char *)s->u.s.p, s->u.s.n);
    remember(e, s);
}

static void encode_global(enc_t *e, const mpk_value_t *v)
{
    const char *m = (const char *)v->u.g.module->u.s.p, *n = (const char *)v->u.g.name->u.s.p;
    size_t mn = v->u.g.module->u.s.n, nn = v->u.g.name->u.s.n;
    int64_t key = mpk_writer_global_key(&e->w, m, mn, n, nn);
    if (e->w.proto < 4 || key >= 0) {
        mpk_write_global_n(&e->w, m, mn, n, nn);
    } else {
        mpk_write_global_begin(&e->w);
        encode_name(e, v->u.g.module);
        encode_name(e, v->u.g.name);
        mpk_write_global_end(&e->w, m, mn, n, nn);
    }
    remember(e, v);
}

/* After a set's items: the set itself may have been reached through them. */
static void end_set_like(enc_t *e, const mpk_value_t *v)
{
    ident_t *id = ident_get(e, v);
    if (id && id->memo >= 0) mpk_write_set_end_recursive(&e->w, (uint32_t)id->memo);
    else if (v->type == MPK_SET) mpk_write_set_end(&e->w);
    else mpk_write_frozenset_end(&e->w);
    remember(e, v);
}

static void encode_container(enc_t *e, const mpk_value_t *v, uint32_t depth)
{
    size_t n = v->u.seq.n;
    int was_active = is_active(e, v);
    share_if_needed(e, v);
    set_active(e, v, 1);
    switch (v->type) {
    case MPK_LIST:
        mpk_write_list_begin(&e->w, n);
        remember(e, v);
        encode_all(e, v->u.seq.v, n, depth + 1);
        mpk_write_list_end(&e->w);
        break;
    case MPK_DICT:
        mpk_write_dict_begin(&e->w, n / 2);
        remember(e, v);
        encode_all(e, v->u.seq.v, n, depth + 1);
        mpk_write_dict_end(&e->w);
        break;
    case MPK_SET:
        mpk_write_set_begin(&e->w, n);
        if (e->w.proto >= 4) remember(e, v);
        encode_all(e, v->u.seq.v, n, depth + 1);
        if (e->w.proto >= 4) mpk_write_set_end(&e->w);
        else end_set_like(e, v);
        break;
    case MPK_FROZENSET:
        mpk_write_frozenset_begin(&e->w, n);
        encode_all(e, v->u.seq.v, n, depth + 1);
        end_set_like(e, v);
        break;
    default: /* MPK_TUPLE */
        encode_tuple_items(e, v->u.seq.v, n, v, depth);
        break;
    }
    if (!was_active) set_active(e, v, 0);
}

static void encode(enc_t *e, const mpk_value_t *v, uint32_t depth)
{
    ident_t *id;
    if (e->w.err.code) return;
    if (!v) { enc_fail(e, MPK_ERR_ARG, MPK_MSG("NULL value in the graph")); return; }
    if (depth > e->max_depth) { enc_fail(e, MPK_ERR_LIMIT, MPK_MSG("nesting limit (max_depth) exceeded")); return; }
    if (memoizable(v) && (id = ident_get(e, v)) != NULL && id->memo >= 0) {
        mpk_write_memo_get(&e->w, (uint32_t)id->memo);
        return;
    }
    /* only objects are written as their call: the builtins CPython writes as calls
     * in older protocols are rebuilt by the writer, which makes their argument
     * list and tuple afresh, as CPython's __reduce__ does each time */
    if (v->type == MPK_OBJECT) {
        if (v->call) encode_call(e, v, depth);
        else enc_fail(e, MPK_ERR_ARG, MPK_MSG("object node without a call"));
        return;
    }
    switch (v->type) {
    case MPK_NONE: mpk_write_none(&e->w); break;
    case MPK_BOOL: mpk_write_bool(&e->w, v->u.i != 0); break;
    case MPK_INT: mpk_write_int(&e->w, v->u.i); break;
    case MPK_BIGINT: mpk_write_bigint(&e->w, v->u.s.p, v->u.s.n); break;
    case MPK_FLOAT: mpk_write_float(&e->w, v->u.f); break;
    case MPK_STR:
        share_if_needed(e, v);
        mpk_write_str(&e->w, (const char *)v->u.s.p, v->u.s.n);
        remember(e, v);
        break;
    case MPK_BYTES:
        share_if_needed(e, v);
        mpk_write_bytes(&e->w, v->u.s.p, v->u.s.n);
        remember(e, v);
        break;
    case MPK_BYTEARRAY:
        share_if_needed(e, v);
        mpk_write_bytearray(&e->w, v->u.s.p, v->u.s.n);
        remember(e, v);
        break;
    case MPK_GLOBAL:
        encode_global(e, v);
        break;
    case MPK_PERSID:
        if (e->w.proto == 0) {
            if (v->u.pid->type != MPK_STR) { enc_fail(e, MPK_ERR_ARG, MPK_MSG("protocol 0 persistent ids must be str")); return; }
            mpk_write_persid_text(&e->w, (const char *)v->u.pid->u.s.p, v->u.pid->u.s.n);
        } else {
            mpk_write_persid_begin(&e->w);
            encode(e, v->u.pid, depth + 1);
            mpk_write_persid_end(&e->w);
        }
        break;
    case MPK_EXT: mpk_write_ext(&e->w, (uint32_t)v->u.i); break;
    case MPK_BUFFER: mpk_write_next_buffer(&e->w, v->u.buf.readonly); break;

    default: encode_container(e, v, depth); break;
    }
}

mpk_err_t mpk_dump(const mpk_value_t *v, const mpk_dump_opts_t *opts, const mpk_alloc_t *alloc,
                   void *buf, size_t cap, mpk_sink_fn sink, void *sink_ctx, mpk_error_t *err)
{
    enc_t e;
    mpk_dump_opts_t def = {-1, 0, 0};
    struct mpk_wframe *frames;
    size_t fsize;
    mpk_err_t rc;
    if (!opts) opts = &def;
    memset(&e, 0, sizeof e);
    e.alloc = alloc;
    e.max_depth = opts->max_depth ? opts->max_depth : MPK_DEFAULT_MAX_DEPTH;
    e.compact = (opts->flags & MPK_WRITE_COMPACT) != 0;
    /* each graph level can open two writer frames (a set's list, a call) */
    fsize = (size_t)(2 * e.max_depth + 8) * sizeof *frames;
    frames = (struct mpk_wframe *)alloc->realloc(alloc->ctx, NULL, 0, fsize);
    if (!frames) {
        if (err) { memset(err, 0, sizeof *err); err->code = MPK_ERR_NOMEM; err->opcode = -1; err->msg = MPK_MSG("out of memory"); }
        return MPK_ERR_NOMEM;
    }
    mpk_writer_init(&e.w, opts->protocol, opts->flags, buf, cap, sink, sink_ctx, frames, 2 * e.max_depth + 8);
    if (e.compact) {
        size_t psize = (size_t)(e.max_depth + 2) * sizeof *e.path;
        e.path = (const mpk_value_t **)alloc->realloc(alloc->ctx, NULL, 0, psize);
        if (!e.path) enc_fail(&e, MPK_ERR_NOMEM, MPK_MSG("out of memory"));
        else count_refs(&e, v, 0);
        /* the counts stay; memo keys are assigned while encoding */
        if (e.path && alloc->free) alloc->free(alloc->ctx, (void *)e.path, psize);
    }
    encode(&e, v, 0);
    rc = mpk_writer_finish(&e.w);
    if (err) *err = e.w.err;
    if (alloc->free) {
        alloc->free(alloc->ctx, frames, fsize);
        if (e.map) alloc->free(alloc->ctx, e.map, e.cap * sizeof *e.map);
    }
    return rc;
}

#endif
