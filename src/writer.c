/*
 * The opcode writer: C calls in, the bytes CPython's C pickler (_pickle) writes out.
 *
 * Every byte goes through put(), which opens FRAMEs (protocol >= 4), flushes to
 * the sink and does nothing once an error is set. After each complete object,
 * obj_done() runs CPython's opcode-boundary rule (commit the frame once it holds
 * 64 KiB) and tells the enclosing container, which emits the batch opcodes
 * (MARK ... APPENDS every 1000 items, APPEND for a single item...).
 */
#include "internal.h"
#include "opcodes.h"
#include "numtext.h"
#include "compat.h"

#if MPK_WITH_WRITER

#define FRAME_HEADER 9
#define FRAME_TARGET 65536u
#define FRAME_MIN 4
#define BATCH 1000u
#define NO_FRAME SIZE_MAX

enum wkind {
    K_LIST, K_LIST_ITER, K_DICT, K_DICT_ITER, K_SET, K_FROZENSET, K_TUPLE,
    K_SET_EMU,      /* a set or frozenset written as builtins.set([...]) before protocol 4 */
    K_CALL,         /* callable/args/state of a reduced object: items are not counted */
    K_PERSID,
    K_GLOBAL        /* module and name strings of a STACK_GLOBAL */
};

static void fail(mpk_writer_t *w, mpk_err_t code, const char *msg)
{
    if (w->err.code == MPK_OK) {
        w->err.code = code;
        w->err.offset = w->flushed + w->len;
        w->err.opcode = -1;
        w->err.msg = msg;
    }
    w->fast_end = 0;
}
#define WFAIL(w, code, msg) fail((w), (code), MPK_MSG(msg))

/* ------------------------------------------------------------ output */

static int framing(const mpk_writer_t *w)
{
    return w->proto >= 4 && !(w->flags & MPK_WRITE_COMPACT) && !w->unframed && !w->bypass;
}

/* Recomputes fast_end after anything that changes the buffer, the frame, the
 * framing switches or the error: up to it, a small atom can be stored with no
 * other check (no error, room, a frame open and not yet due, or no frame
 * wanted). An atom that would cross it takes the general path, which does the
 * same thing more slowly, so fast_end may be low but never too high. */
static void fast_refresh(mpk_writer_t *w);

/* Large payloads and PROTO go outside frames while bypass is set. */
static void set_bypass(mpk_writer_t *w, int on)
{
    w->bypass = on;
    fast_refresh(w);
}

static void fast_refresh(mpk_writer_t *w)
{
    size_t end = 0;
    if (!w->err.code) {
        if (w->frame_start != NO_FRAME) {
            size_t due = w->frame_start + FRAME_HEADER + FRAME_TARGET;
            end = due < w->cap ? due : w->cap;
        } else if (!framing(w)) {
            end = w->cap;
        }
    }
    w->fast_end = end;
}

static void flush(mpk_writer_t *w, size_t n)
{
    if (!n || w->err.code) return;
    if (w->sink(w->sink_ctx, w->buf, n) != 0) { WFAIL(w, MPK_ERR_IO, "the sink failed"); return; }
    memmove(w->buf, w->buf + n, w->len - n);
    w->len -= n;
    w->flushed += n;
    if (w->frame_start != NO_FRAME) w->frame_start -= n;
    fast_refresh(w);
}

/* Grows buf through the growth allocator so that `want` more bytes fit, if it
 * may (a partial growth still helps the byte loop). */
static void grow(mpk_writer_t *w, size_t want)
{
    size_t target = w->len + want, ncap;
    void *nb;
    if (!w->grow.realloc || w->cap >= w->max_cap || target < w->len) return;
    ncap = w->cap + w->cap / 2 > target ? w->cap + w->cap / 2 : target;
    if (ncap > w->max_cap || ncap < w->cap) ncap = w->max_cap;
    nb = w->grow.realloc(w->grow.ctx, w->buf, w->cap, ncap);
    if (!nb) {
        /* a stream goes on in the buffer it has (frames may be dropped) */
        if (w->sink) w->max_cap = w->cap;
        else WFAIL(w, MPK_ERR_NOMEM, "out of memory for the output buffer");
        return;
    }
    w->buf = (uint8_t *)nb;
    w->cap = ncap;
    fast_refresh(w);
}

/* Makes room for `want` more bytes if it can: flushes what precedes an open
 * frame, then grows the buffer, and as a last resort drops the header of a frame
 * that fills the whole buffer (the rest of the pickle is written unframed). */
static int make_room(mpk_writer_t *w, size_t want)
{
    if (w->sink) flush(w, w->frame_start != NO_FRAME ? w->frame_start : w->len);
    if (!w->err.code && w->cap - w->len < want) grow(w, want);
    if (w->err.code) return 0;
    if (w->cap - w->len >= want) return 1;
    if (!w->sink) { WFAIL(w, MPK_ERR_LIMIT, "output buffer full"); return 0; }
    if (w->frame_start == 0) {
        memmove(w->buf, w->buf + FRAME_HEADER, w->len - FRAME_HEADER);
        w->len -= FRAME_HEADER;
        w->frame_start = NO_FRAME;
        w->unframed = 1;
        fast_refresh(w);
        flush(w, w->len);
    }
    return !w->err.code && w->cap - w->len >= want;
}

static void put_raw(mpk_writer_t *w, const uint8_t *p, size_t n)
{
    while (n && !w->err.code) {
        size_t room = w->cap - w->len, take;
        /* streams flush rather than grow; memory grows once for the whole n */
        if (!room) { if (!make_room(w, w->sink ? 1 : n)) return; continue; }
        take = n < room ? n : room;
        memcpy(w->buf + w->len, p, take);
        w->len += take;
        p += take;
        n -= take;
    }
}

static void put_slow(mpk_writer_t *w, const void *p, size_t n)
{
    if (w->err.code) return;
    if (framing(w) && w->frame_start == NO_FRAME) {
        static const uint8_t hdr[FRAME_HEADER] = {OP_FRAME, 0, 0, 0, 0, 0, 0, 0, 0};
        size_t reach = w->grow.realloc && w->max_cap > w->cap ? w->max_cap : w->cap;
        if (reach < FRAME_HEADER * 2) w->unframed = 1;
        else {
            if (w->cap - w->len < FRAME_HEADER && !make_room(w, FRAME_HEADER)) return;
            w->frame_start = w->len;
            put_raw(w, hdr, FRAME_HEADER);
        }
        fast_refresh(w);
    }
    put_raw(w, (const uint8_t *)p, n);
}

/* Inline, so that the small constant-size writes of opcodes become plain
 * stores: the bytes fit, no error, and a frame is open or none is wanted (see
 * fast_refresh; past a due frame end put_slow writes the same bytes). */
static inline void put(mpk_writer_t *w, const void *p, size_t n)
{
    if (MPK_LIKELY(w->len + n <= w->fast_end)) {
        memcpy(w->buf + w->len, p, n);
        w->len += n;
        return;
    }
    put_slow(w, p, n);
}

static void put1(mpk_writer_t *w, uint8_t op) { put(w, &op, 1); }

static void put_op_u32(mpk_writer_t *w, uint8_t op, uint32_t v)
{
    uint8_t b[5];
    b[0] = op;
    mpk_wr32(b + 1, v);
    put(w, b, 5);
}

static void put_dec(mpk_writer_t *w, uint8_t op, int64_t v, const char *suffix)
{
    char tmp[32];
    int i = 31, neg = v < 0;
    uint64_t u = neg ? 0 - (uint64_t)v : (uint64_t)v;
    size_t sl = strlen(suffix);
    do { tmp[i--] = (char)('0' + u % 10); u /= 10; } while (u);
    if (neg) tmp[i--] = '-';
    tmp[i] = (char)op;
    put(w, tmp + i, (size_t)(32 - i));
    put(w, suffix, sl);
}

static void commit_frame(mpk_writer_t *w)
{
    size_t flen;
    if (w->frame_start == NO_FRAME || w->err.code) return;
    flen = w->len - w->frame_start - FRAME_HEADER;
    if (flen >= FRAME_MIN) {
        w->buf[w->frame_start] = OP_FRAME;
        mpk_wr64(w->buf + w->frame_start + 1, flen);
    } else {
        memmove(w->buf + w->frame_start, w->buf + w->frame_start + FRAME_HEADER, flen);
        w->len -= FRAME_HEADER;
    }
    w->frame_start = NO_FRAME;
    fast_refresh(w);
}

/* CPython's opcode boundary: after every saved object, commit a frame of 64 KiB. */
static void boundary_commit(mpk_writer_t *w)
{
    commit_frame(w);
    if (w->sink) flush(w, w->len);
}

static inline void boundary(mpk_writer_t *w)
{
    if (MPK_UNLIKELY(w->frame_start != NO_FRAME && w->len - w->frame_start - FRAME_HEADER >= FRAME_TARGET))
        boundary_commit(w);
}

/* A large payload outside any frame goes straight to the sink: what the buffer
 * holds is flushed first, and the payload is not copied through the buffer. */
static void put_large(mpk_writer_t *w, const void *p, size_t n)
{
    if (!w->sink || w->frame_start != NO_FRAME || w->err.code) { put(w, p, n); return; }
    flush(w, w->len);
    if (w->err.code) return;
    if (w->sink(w->sink_ctx, (const uint8_t *)p, n) != 0) { WFAIL(w, MPK_ERR_IO, "the sink failed"); return; }
    w->flushed += n;
}

/* A payload of 64 KiB or more goes outside frames, as CPython writes it. */
static void put_payload(mpk_writer_t *w, const uint8_t *hdr, size_t hn, const void *p, size_t n)
{
    if (framing(w) && n >= FRAME_TARGET) {
        commit_frame(w);
        set_bypass(w, 1);
        put(w, hdr, hn);
        put_large(w, p, n);
        set_bypass(w, 0);
    } else {
        put(w, hdr, hn);
        if (n >= FRAME_TARGET) put_large(w, p, n);
        else put(w, p, n);
    }
}

/* ------------------------------------------------------------ init, finish */

void mpk_writer_init(mpk_writer_t *w, int protocol, int flags, void *buf, size_t cap,
                     mpk_sink_fn sink, void *sink_ctx, struct mpk_wframe *frames, uint32_t max_depth)
{
    memset(w, 0, sizeof *w);
    w->buf = (uint8_t *)buf;
    w->cap = cap;
    w->sink = sink;
    w->sink_ctx = sink_ctx;
    w->proto = protocol < 0 ? MPK_DEFAULT_PROTOCOL : protocol;
    w->flags = flags;
    w->frame_start = NO_FRAME;
    w->last_memo = -1;
    w->frames = frames;
    w->frames_cap = w->max_depth = max_depth;
    w->err.opcode = -1;
    if (w->proto > MPK_HIGHEST_PROTOCOL) { WFAIL(w, MPK_ERR_PROTOCOL, "unsupported protocol"); return; }
    if (!buf || cap < 16) { WFAIL(w, MPK_ERR_ARG, "the writer needs a buffer of at least 16 bytes"); return; }
    fast_refresh(w);
    if (w->proto >= 2) {
        uint8_t hdr[2] = {OP_PROTO, (uint8_t)w->proto};
        set_bypass(w, 1);      /* PROTO precedes the first frame */
        put(w, hdr, 2);
        set_bypass(w, 0);
    }
}

mpk_err_t mpk_writer_finish(mpk_writer_t *w)
{
    if (w->depth && !w->err.code) WFAIL(w, MPK_ERR_ARG, "a container was not ended");
    put1(w, OP_STOP);
    commit_frame(w);
    if (w->sink) flush(w, w->len);
    return w->err.code;
}

uint64_t mpk_writer_size(const mpk_writer_t *w) { return w->flushed + w->len; }
int mpk_writer_protocol(const mpk_writer_t *w) { return w->proto; }

void mpk_writer_set_growth(mpk_writer_t *w, const mpk_alloc_t *alloc, size_t max_cap, uint32_t max_depth)
{
    w->grow = *alloc;
    w->max_cap = max_cap;
    if (max_depth > w->max_depth) w->max_depth = max_depth;
}

struct mpk_wframe *mpk_writer_frames(const mpk_writer_t *w, uint32_t *cap)
{
    if (cap) *cap = w->frames_cap;
    return w->frames;
}

uint8_t *mpk_writer_buffer(const mpk_writer_t *w, size_t *len, size_t *cap)
{
    if (len) *len = w->len;
    if (cap) *cap = w->cap;
    return w->buf;
}

void mpk_writer_memo_get(const mpk_writer_t *w, mpk_writer_memo_t *memo) { *memo = w->memo; }

void mpk_writer_memo_set(mpk_writer_t *w, const mpk_writer_memo_t *memo)
{
    if (w->memo.next || w->depth) { WFAIL(w, MPK_ERR_ARG, "the memo is set before the first object"); return; }
    w->memo = *memo;
    if (w->memo.nnames > MPK_WRITER_NAMES) w->memo.nnames = MPK_WRITER_NAMES;
}
int64_t mpk_writer_last_memo(const mpk_writer_t *w) { return w->last_memo; }
void mpk_writer_share_next(mpk_writer_t *w) { w->share_next = 1; }

void mpk_write_raw(mpk_writer_t *w, const void *p, size_t n) { put(w, p, n); }

/* ------------------------------------------------------------ memo */

static int take_share(mpk_writer_t *w)
{
    int s = w->share_next;
    w->share_next = 0;
    return s;
}

static void memoize(mpk_writer_t *w, int share)
{
    uint32_t key;
    if ((w->flags & MPK_WRITE_COMPACT) && !share) { w->last_memo = -1; return; }
    key = w->memo.next++;
    w->last_memo = key;
    if (w->proto >= 4) put1(w, OP_MEMOIZE);
    else if (w->proto >= 1) {
        if (key < 256) { uint8_t b[2] = {OP_BINPUT, (uint8_t)key}; put(w, b, 2); }
        else put_op_u32(w, OP_LONG_BINPUT, key);
    } else put_dec(w, OP_PUT, key, "\n");
}

static void put_get(mpk_writer_t *w, uint32_t key)
{
    if (w->proto == 0) put_dec(w, OP_GET, key, "\n");
    else if (key < 256) { uint8_t b[2] = {OP_BINGET, (uint8_t)key}; put(w, b, 2); }
    else put_op_u32(w, OP_LONG_BINGET, key);
}

/* Names (globals, module and 'latin1' strings) that CPython's interning makes one
 * object: remembered by content so that later uses become GETs. */
static int name_find(const mpk_writer_t *w, int kind, const char *a, size_t an, const char *b, size_t bn)
{
    uint32_t i;
    for (i = 0; i < w->memo.nnames; i++) {
        const struct mpk_wname *e = &w->memo.names[i];
        if (e->kind == kind && e->an == an && e->bn == bn && !memcmp(e->a, a, an) && (!bn || !memcmp(e->b, b, bn)))
            return (int)i;
    }
    return -1;
}

static void name_add(mpk_writer_t *w, int kind, const char *a, size_t an, const char *b, size_t bn)
{
    struct mpk_wname *e;
    if (w->last_memo < 0 || w->memo.nnames >= MPK_WRITER_NAMES) return;
    e = &w->memo.names[w->memo.nnames++];
    e->kind = (uint8_t)kind;
    e->a = a; e->an = an; e->b = b; e->bn = bn;
    e->memo = (uint32_t)w->last_memo;
}

/* ------------------------------------------------------------ containers */

/* The frames array grows through the growth allocator up to max_depth. */
static int grow_frames(mpk_writer_t *w)
{
    uint32_t ncap;
    void *nf;
    if (w->depth >= w->max_depth || !w->grow.realloc) {
        WFAIL(w, MPK_ERR_LIMIT, "nesting limit (max_depth) exceeded");
        return 0;
    }
    ncap = w->frames_cap < 8 ? 8 : w->frames_cap * 2;
    if (ncap > w->max_depth) ncap = w->max_depth;
    nf = w->grow.realloc(w->grow.ctx, w->frames, w->frames_cap * sizeof *w->frames, ncap * sizeof *w->frames);
    if (!nf) { WFAIL(w, MPK_ERR_NOMEM, "out of memory for nesting state"); return 0; }
    w->frames = (struct mpk_wframe *)nf;
    w->frames_cap = ncap;
    return 1;
}

static inline struct mpk_wframe *cur(mpk_writer_t *w) { return w->depth ? &w->frames[w->depth - 1] : NULL; }

static struct mpk_wframe *push_frame(mpk_writer_t *w, int kind, uint64_t n, int share)
{
    struct mpk_wframe *f;
    if (w->err.code) return NULL;
    if (w->depth >= w->frames_cap && !grow_frames(w)) return NULL;
    f = &w->frames[w->depth++];
    memset(f, 0, sizeof *f);
    f->kind = (uint8_t)kind;
    f->n = n;
    f->share = (uint8_t)share;
    if ((kind == K_LIST || kind == K_DICT) && w->proto) f->quiet_end = n < BATCH ? n : BATCH;
    return f;
}

/* After an item that needed an opcode decision: the count before which items
 * of an exact list or dict complete silently again (the next batch end). */
static void quiet_next(const mpk_writer_t *w, struct mpk_wframe *f)
{
    if ((f->kind == K_LIST || f->kind == K_DICT) && w->proto)
        f->quiet_end = f->n - f->done < BATCH ? f->n : f->done + BATCH;
}

/* Batches of the exact-type path (list, dict: MARK ... every 1000, a lone item
 * alone) or the iterator path (reduce items: a batch of one uses APPEND). */
static void batch_open(mpk_writer_t *w, struct mpk_wframe *f)
{
    uint64_t left = f->n - f->done;
    if (w->proto == 0 || left == 0) return;
    if (f->kind == K_LIST || f->kind == K_DICT) {
        if (f->n > 1) put1(w, OP_MARK);
    } else if (left > 1) {
        put1(w, OP_MARK);
    }
}

/* The opcode that ends a batch: `many`, or for the first batch of a compact
 * MARK ... LIST/DICT container, the opcode that makes it (f->make_first set). */
static uint8_t batch_close(struct mpk_wframe *f, uint8_t many)
{
    if (!f->make_first) return many;
    f->make_first = 0;
    return f->kind == K_LIST ? OP_LIST : OP_DICT;
}

static void batch_item(mpk_writer_t *w, struct mpk_wframe *f, uint8_t one, uint8_t many)
{
    uint64_t c = ++f->done, pos, size;
    int exact = f->kind == K_LIST || f->kind == K_DICT;
    /* the common case: inside a batch, nothing to write */
    if (MPK_LIKELY(c < f->n && c % BATCH != 0 && w->proto != 0)) return;
    if (c > f->n) { WFAIL(w, MPK_ERR_ARG, "more items than declared"); return; }
    quiet_next(w, f);
    if (w->proto == 0) { put1(w, one); return; }
    pos = (c - 1) % BATCH + 1;
    size = f->n - (c - pos);
    if (size > BATCH) size = BATCH;
    if (exact ? f->n == 1 : size == 1) { put1(w, one); return; }
    if (pos == size) {
        put1(w, batch_close(f, many));
        if (c < f->n) batch_open(w, f);
    }
}

/* The do-while batches of CPython's exact dict and set loops: after a full batch
 * another one is opened even when no item is left (an empty MARK ... pair). */
static void loop_batch_item(mpk_writer_t *w, struct mpk_wframe *f, uint8_t many)
{
    if (++f->done > f->n) { WFAIL(w, MPK_ERR_ARG, "more items than declared"); return; }
    quiet_next(w, f);
    if (f->done % BATCH == 0) {
        put1(w, batch_close(f, many));
        put1(w, OP_MARK);
    } else if (f->done == f->n) {
        put1(w, batch_close(f, many));
    }
}

static void notify_parent(mpk_writer_t *w)
{
    struct mpk_wframe *f = cur(w);
    if (!f || w->err.code) return;
    switch (f->kind) {
    case K_LIST: case K_LIST_ITER:
        batch_item(w, f, OP_APPEND, OP_APPENDS);
        break;
    case K_DICT: case K_DICT_ITER:
        /* keys and values alternate; a pair completes on the value */
        f->half ^= 1;
        if (f->half) break;
        if (f->kind == K_DICT && w->proto > 0 && f->n > 1) loop_batch_item(w, f, OP_SETITEMS);
        else batch_item(w, f, OP_SETITEM, OP_SETITEMS);
        break;
    case K_SET:
        loop_batch_item(w, f, OP_ADDITEMS);
        break;
    case K_FROZENSET: case K_TUPLE:
        if (++f->done > f->n) WFAIL(w, MPK_ERR_ARG, "more items than declared");
        break;
    default:
        break;
    }
}

/* CPython checks the frame at the start of every save(): before each object and
 * each object a reduction saves on the way. */
static inline void obj_start(mpk_writer_t *w) { boundary(w); }

/* Called after every complete object. */
static inline void obj_done(mpk_writer_t *w)
{
    /* the common case inline: an item inside a list batch, where nothing is written */
    struct mpk_wframe *f = w->depth ? &w->frames[w->depth - 1] : NULL;
    if (MPK_LIKELY(f && f->done + 1 < f->quiet_end)) {
        if (f->kind == K_LIST) { f->done++; return; }
        /* a dict: the key, or the value that completes a pair inside a batch */
        if (!f->half) { f->half = 1; return; }
        f->half = 0;
        f->done++;
        return;
    }
    if (f && f->kind == K_DICT && !f->half && !w->err.code) {
        f->half = 1;    /* a key: the pair completes on its value */
        return;
    }
    notify_parent(w);
}

static int end_frame(mpk_writer_t *w, int kind, struct mpk_wframe *out)
{
    struct mpk_wframe *f = cur(w);
    if (w->err.code) return 0;
    if (!f || f->kind != kind) { WFAIL(w, MPK_ERR_ARG, "end does not match begin"); return 0; }
    if (f->kind == K_DICT || f->kind == K_DICT_ITER ? (f->done != f->n || f->half) : f->done != f->n) {
        WFAIL(w, MPK_ERR_ARG, "fewer items than declared");
        return 0;
    }
    *out = *f;
    w->depth--;
    return 1;
}

static void begin_list_like(mpk_writer_t *w, int kind, size_t n, int share)
{
    struct mpk_wframe *f;
    if (w->proto == 0) { uint8_t b[2] = {OP_MARK, kind == K_LIST ? OP_LIST : OP_DICT}; put(w, b, 2); }
    else if ((w->flags & MPK_WRITE_COMPACT) && !share && n > 1) {
        /* compact: MARK items LIST (or DICT) makes the container in one go, a
         * byte shorter than EMPTY_LIST MARK items APPENDS; only for unshared
         * ones, which nothing inside can refer to before they are complete */
        put1(w, OP_MARK);
        memoize(w, share);
        f = push_frame(w, kind, n, share);
        if (f) f->make_first = 1;      /* the first batch closes with LIST or DICT */
        return;
    }
    else put1(w, kind == K_LIST ? OP_EMPTY_LIST : OP_EMPTY_DICT);
    memoize(w, share);
    f = push_frame(w, kind, n, share);
    if (f) batch_open(w, f);
}

void mpk_write_list_begin(mpk_writer_t *w, size_t n) { obj_start(w); begin_list_like(w, K_LIST, n, take_share(w)); }
void mpk_write_dict_begin(mpk_writer_t *w, size_t n) { obj_start(w); begin_list_like(w, K_DICT, n, take_share(w)); }

void mpk_write_list_end(mpk_writer_t *w)
{
    struct mpk_wframe f;
    if (end_frame(w, K_LIST, &f)) obj_done(w);
}

void mpk_write_dict_end(mpk_writer_t *w)
{
    struct mpk_wframe f;
    if (!end_frame(w, K_DICT, &f)) return;
    if (w->proto > 0 && f.n > 1 && f.n % BATCH == 0) put1(w, OP_SETITEMS);
    obj_done(w);
}

void mpk_write_tuple_begin(mpk_writer_t *w, size_t n)
{
    int share = take_share(w);
    obj_start(w);
    if (n > 0 && !(w->proto >= 2 && n <= 3)) put1(w, OP_MARK);
    push_frame(w, K_TUPLE, n, share);
}

void mpk_write_tuple_end(mpk_writer_t *w)
{
    struct mpk_wframe f;
    if (!end_frame(w, K_TUPLE, &f)) return;
    if (f.n == 0) {
        /* the empty tuple is a singleton CPython never memoizes */
        if (w->proto == 0) { uint8_t b[2] = {OP_MARK, OP_TUPLE}; put(w, b, 2); }
        else put1(w, OP_EMPTY_TUPLE);
    } else {
        if (w->proto >= 2 && f.n <= 3) put1(w, (uint8_t)(OP_TUPLE1 + f.n - 1));
        else put1(w, OP_TUPLE);
        memoize(w, f.share);
    }
    obj_done(w);
}

void mpk_write_tuple_end_recursive(mpk_writer_t *w, uint32_t key)
{
    struct mpk_wframe f;
    uint64_t i;
    if (!end_frame(w, K_TUPLE, &f)) return;
    if (w->proto >= 2 && f.n <= 3) for (i = 0; i < f.n; i++) put1(w, OP_POP);
    else if (w->proto >= 1) put1(w, OP_POP_MARK);
    else for (i = 0; i <= f.n; i++) put1(w, OP_POP);
    put_get(w, key);
    w->last_memo = key;
    obj_done(w);
}

static void write_global_names(mpk_writer_t *w, const char *module, size_t mn, const char *name, size_t nn);
static void write_global_level(mpk_writer_t *w, const char *module, size_t mn, const char *name, size_t nn, int levels);
static void write_interned_str(mpk_writer_t *w, const char *s, size_t n);
static void put_name_lines(mpk_writer_t *w, uint8_t op, const char *module, size_t mn, const char *name, size_t nn);

/* Before protocol 4, sets are builtins.set(list) reductions; the list and its
 * argument tuple are fresh objects that get memo keys of their own. */
static void begin_set_emulated(mpk_writer_t *w, const char *name, size_t n, int share)
{
    obj_start(w);
    write_global_names(w, "builtins", 8, name, strlen(name));
    obj_start(w);                       /* the argument tuple */
    if (w->proto < 2) put1(w, OP_MARK);
    if (!push_frame(w, K_SET_EMU, 0, share)) return;
    obj_start(w);                       /* the list in it */
    begin_list_like(w, K_LIST, n, 0);
}

/* key >= 0: the set was reached through its own items and memoized meanwhile;
 * CPython then drops the new one (POP) and fetches the memoized one. */
static void end_set_emulated(mpk_writer_t *w, int64_t key)
{
    struct mpk_wframe f;
    if (!end_frame(w, K_LIST, &f)) return;
    if (!end_frame(w, K_SET_EMU, &f)) return;
    put1(w, w->proto >= 2 ? OP_TUPLE1 : OP_TUPLE);
    memoize(w, 0);
    put1(w, OP_REDUCE);
    if (key >= 0) {
        put1(w, OP_POP);
        put_get(w, (uint32_t)key);
        w->last_memo = key;
    } else {
        memoize(w, f.share);
    }
    obj_done(w);
}

void mpk_write_set_begin(mpk_writer_t *w, size_t n)
{
    int share = take_share(w);
    struct mpk_wframe *f;
    obj_start(w);
    if (w->proto < 4) { begin_set_emulated(w, "set", n, share); return; }
    put1(w, OP_EMPTY_SET);
    memoize(w, share);
    f = push_frame(w, K_SET, n, share);
    if (f && n) put1(w, OP_MARK);
}

void mpk_write_set_end(mpk_writer_t *w)
{
    struct mpk_wframe f;
    if (w->proto < 4) { end_set_emulated(w, -1); return; }
    if (!end_frame(w, K_SET, &f)) return;
    if (f.n && f.n % BATCH == 0) put1(w, OP_ADDITEMS);
    obj_done(w);
}

void mpk_write_frozenset_begin(mpk_writer_t *w, size_t n)
{
    int share = take_share(w);
    obj_start(w);
    if (w->proto < 4) { begin_set_emulated(w, "frozenset", n, share); return; }
    put1(w, OP_MARK);
    push_frame(w, K_FROZENSET, n, share);
}

void mpk_write_frozenset_end(mpk_writer_t *w)
{
    struct mpk_wframe f;
    if (w->proto < 4) { end_set_emulated(w, -1); return; }
    if (!end_frame(w, K_FROZENSET, &f)) return;
    put1(w, OP_FROZENSET);
    memoize(w, f.share);
    obj_done(w);
}

void mpk_write_set_end_recursive(mpk_writer_t *w, uint32_t key)
{
    struct mpk_wframe f;
    if (w->proto < 4) { end_set_emulated(w, key); return; }
    if (!end_frame(w, K_FROZENSET, &f)) return;
    put1(w, OP_POP_MARK);
    put_get(w, key);
    w->last_memo = key;
    obj_done(w);
}

void mpk_write_listitems_begin(mpk_writer_t *w, size_t n)
{
    struct mpk_wframe *f = push_frame(w, K_LIST_ITER, n, 0);
    if (f) batch_open(w, f);
}

void mpk_write_listitems_end(mpk_writer_t *w)
{
    struct mpk_wframe f;
    end_frame(w, K_LIST_ITER, &f);
}

void mpk_write_dictitems_begin(mpk_writer_t *w, size_t n)
{
    struct mpk_wframe *f = push_frame(w, K_DICT_ITER, n, 0);
    if (f) batch_open(w, f);
}

void mpk_write_dictitems_end(mpk_writer_t *w)
{
    struct mpk_wframe f;
    end_frame(w, K_DICT_ITER, &f);
}

/* ------------------------------------------------------------ calls */

void mpk_write_call_begin(mpk_writer_t *w) { obj_start(w); push_frame(w, K_CALL, 0, take_share(w)); }

void mpk_write_call(mpk_writer_t *w, mpk_call_t kind)
{
    struct mpk_wframe *f = cur(w);
    static const uint8_t ops[] = {OP_REDUCE, OP_NEWOBJ, OP_NEWOBJ_EX, OP_INST, OP_OBJ};
    if (w->err.code) return;
    if (!f || f->kind != K_CALL) { WFAIL(w, MPK_ERR_ARG, "mpk_write_call outside call_begin/end"); return; }
    if ((kind == MPK_CALL_NEWOBJ && w->proto < 2) || (kind == MPK_CALL_NEWOBJ_EX && w->proto < 4) ||
        kind == MPK_CALL_INST || (kind == MPK_CALL_OBJ && w->proto < 1)) {
        WFAIL(w, MPK_ERR_ARG, "this call opcode is not available in this protocol");
        return;
    }
    put1(w, ops[kind]);
    memoize(w, f->share);
}

void mpk_write_call_end(mpk_writer_t *w)
{
    struct mpk_wframe f;
    if (end_frame(w, K_CALL, &f)) obj_done(w);
}

void mpk_write_call_end_recursive(mpk_writer_t *w, mpk_call_t kind, uint32_t key)
{
    struct mpk_wframe f;
    static const uint8_t ops[] = {OP_REDUCE, OP_NEWOBJ, OP_NEWOBJ_EX, OP_INST, OP_OBJ};
    if (!end_frame(w, K_CALL, &f)) return;
    if (kind != MPK_CALL_INST) put1(w, ops[kind]);
    put1(w, OP_POP);
    put_get(w, key);
    w->last_memo = key;
    obj_done(w);
}

void mpk_write_mark(mpk_writer_t *w) { put1(w, OP_MARK); }

void mpk_write_inst(mpk_writer_t *w, const char *module, size_t mn, const char *name, size_t nn)
{
    struct mpk_wframe *f = cur(w);
    if (w->err.code) return;
    if (!f || f->kind != K_CALL) { WFAIL(w, MPK_ERR_ARG, "mpk_write_inst outside call_begin/end"); return; }
    put_name_lines(w, OP_INST, module, mn, name, nn);
    memoize(w, f->share);
}

void mpk_write_build(mpk_writer_t *w) { put1(w, OP_BUILD); }

void mpk_write_persid_begin(mpk_writer_t *w) { obj_start(w); push_frame(w, K_PERSID, 0, 0); }

void mpk_write_persid_end(mpk_writer_t *w)
{
    struct mpk_wframe f;
    if (w->proto == 0) { WFAIL(w, MPK_ERR_ARG, "protocol 0 needs mpk_write_persid_text"); return; }
    if (!end_frame(w, K_PERSID, &f)) return;
    put1(w, OP_BINPERSID);
    obj_done(w);
}

void mpk_write_persid_text(mpk_writer_t *w, const char *pid, size_t n)
{
    size_t i;
    obj_start(w);
    for (i = 0; i < n; i++)
        if ((pid[i] & 0x80) || pid[i] == '\n') { WFAIL(w, MPK_ERR_ARG, "persistent id text must be ASCII without newline"); return; }
    put1(w, OP_PERSID);
    put(w, pid, n);
    put1(w, '\n');
    obj_done(w);
}

void mpk_write_ext(mpk_writer_t *w, uint32_t code)
{
    uint8_t b[5];
    obj_start(w);
    /* EXT opcodes came with protocol 2, but every unpickler reads them in any
     * protocol, and a code cannot be turned back into its name here */
    if (code == 0 || code > 0x7fffffffu) { WFAIL(w, MPK_ERR_ARG, "extension code out of range"); return; }
    if (code <= 0xff) { b[0] = OP_EXT1; b[1] = (uint8_t)code; put(w, b, 2); }
    else if (code <= 0xffff) { b[0] = OP_EXT2; b[1] = (uint8_t)code; b[2] = (uint8_t)(code >> 8); put(w, b, 3); }
    else put_op_u32(w, OP_EXT4, code);
    obj_done(w);
}

void mpk_write_next_buffer(mpk_writer_t *w, int readonly)
{
    obj_start(w);
    if (w->proto < 5) { WFAIL(w, MPK_ERR_ARG, "out-of-band buffers need protocol 5"); return; }
    put1(w, OP_NEXT_BUFFER);
    if (readonly) put1(w, OP_READONLY_BUFFER);
    obj_done(w);
}

void mpk_write_memo_get(mpk_writer_t *w, uint32_t key)
{
    obj_start(w);
    put_get(w, key);
    obj_done(w);
}

/* ------------------------------------------------------------ atoms */

void mpk_write_none(mpk_writer_t *w) { obj_start(w); put1(w, OP_NONE); obj_done(w); }

void mpk_write_bool(mpk_writer_t *w, int value)
{
    obj_start(w);
    if (w->proto >= 2) put1(w, value ? OP_NEWTRUE : OP_NEWFALSE);
    else put(w, value ? "I01\n" : "I00\n", 4);
    obj_done(w);
}

/* The shortest BININT form of a 32-bit int into p (5 bytes of room): its length. */
static inline size_t binint(uint8_t *p, int64_t v)
{
    if (v >= 0 && v < 256) { p[0] = OP_BININT1; p[1] = (uint8_t)v; return 2; }
    if (v >= 0 && v < 65536) { p[0] = OP_BININT2; p[1] = (uint8_t)v; p[2] = (uint8_t)(v >> 8); return 3; }
    p[0] = OP_BININT;
    mpk_wr32(p + 1, (uint32_t)v);
    return 5;
}

static void write_int_atom(mpk_writer_t *w, int64_t v)
{
    if (v >= -2147483647 - 1 && v <= 2147483647) {
        if (w->proto == 0) put_dec(w, OP_INT, v, "\n");
        else { uint8_t b[5]; put(w, b, binint(b, v)); }
    } else if (w->proto >= 2) {
        uint8_t b[10];
        size_t n = mpk_int_to_le(v, b + 2);
        b[0] = OP_LONG1;
        b[1] = (uint8_t)n;
        put(w, b, n + 2);
    } else {
        put_dec(w, OP_LONG, v, "L\n");
    }
}

/* Where a small atom of up to n bytes can be stored with nothing else to do:
 * no error, room in the buffer, and a frame open and not yet due for its
 * commit (or no frame wanted). NULL sends the caller down the general path.
 * Numbers dominate large containers, so they skip the separate checks of
 * obj_start() and put(). */
static inline uint8_t *atom_room(mpk_writer_t *w, size_t n)
{
    return MPK_LIKELY(w->len + n <= w->fast_end) ? w->buf + w->len : NULL;
}

void mpk_write_int(mpk_writer_t *w, int64_t v)
{
    uint8_t *p = w->proto ? atom_room(w, 5) : NULL;
    if (MPK_LIKELY(p && v >= -2147483647 - 1 && v <= 2147483647)) {
        w->len += binint(p, v);
    } else {
        obj_start(w);
        write_int_atom(w, v);
    }
    obj_done(w);
}

void mpk_write_bigint(mpk_writer_t *w, const uint8_t *le, size_t n)
{
    int64_t v;
    size_t m = mpk_le_minimal(le, n);
    if (mpk_le_to_int(le, m, &v)) { mpk_write_int(w, v); return; }
    obj_start(w);
    if (w->proto >= 2) {
        uint8_t hdr[5];
        if (m < 256) { hdr[0] = OP_LONG1; hdr[1] = (uint8_t)m; put(w, hdr, 2); }
        else if (m <= 0x7fffffff) { hdr[0] = OP_LONG4; mpk_wr32(hdr + 1, (uint32_t)m); put(w, hdr, 5); }
        else { WFAIL(w, MPK_ERR_LIMIT, "int too large to pickle"); return; }
        put(w, le, m);
    } else {
#if MPK_WITH_TEXT_NUMBERS
        /* decimal text, converted in free buffer space */
        size_t need = 3 * m + 2 + m + 4, dn;
        if (w->cap - w->len < need + FRAME_HEADER + 2 && !make_room(w, need + FRAME_HEADER + 2)) {
            WFAIL(w, MPK_ERR_LIMIT, "int too large for the output buffer in protocol 0/1");
            return;
        }
        put1(w, OP_LONG);
        dn = mpk_bigint_to_decimal(le, m, (char *)w->buf + w->len, 3 * m + 2, w->buf + w->len + 3 * m + 2);
        if (!dn) { WFAIL(w, MPK_ERR_LIMIT, "int conversion failed"); return; }
        w->len += dn;
        put(w, "L\n", 2);
#else
        WFAIL(w, MPK_ERR_UNSUPPORTED, "protocol 0/1 big ints are not in this build");
        return;
#endif
    }
    obj_done(w);
}

void mpk_write_float(mpk_writer_t *w, double value)
{
    uint8_t *p = w->proto ? atom_room(w, 9) : NULL;
    if (MPK_LIKELY(p != NULL)) {
        p[0] = OP_BINFLOAT;
        mpk_wr_double_be(p + 1, value);
        w->len += 9;
        obj_done(w);
        return;
    }
    obj_start(w);
    if (w->proto >= 1) {
        uint8_t b[9];
        b[0] = OP_BINFLOAT;
        mpk_wr_double_be(b + 1, value);
        put(w, b, 9);
    } else {
#if MPK_WITH_TEXT_NUMBERS
        char txt[MPK_FLOAT_REPR_MAX];
        size_t n = mpk_float_repr(value, txt);
        put1(w, OP_FLOAT);
        put(w, txt, n);
        put1(w, '\n');
#else
        WFAIL(w, MPK_ERR_UNSUPPORTED, "protocol 0 floats are not in this build");
        return;
#endif
    }
    obj_done(w);
}

/* Text from UTF-8 (latin1 = 0) or Latin-1 bytes (latin1 = 1, for bytes written as
 * str before protocol 3). */
static size_t text_utf8_len(const uint8_t *p, size_t n, int latin1)
{
    size_t i, len = n;
    if (latin1) for (i = 0; i < n; i++) len += p[i] >> 7;
    return len;
}

static void put_text_utf8(mpk_writer_t *w, const uint8_t *p, size_t n, int latin1)
{
    uint8_t tmp[128];
    size_t i = 0, t;
    if (!latin1) { put(w, p, n); return; }
    while (i < n) {
        for (t = 0; i < n && t + 2 <= sizeof tmp; i++) t += mpk_utf8_put(tmp + t, p[i]);
        put(w, tmp, t);
    }
}

/* Protocol 0 UNICODE: raw-unicode-escape with \, \n, \r, \0 and \x1a escaped too. */
static void put_text_raw_escape(mpk_writer_t *w, const uint8_t *p, size_t n, int latin1)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;
    while (i < n && !w->err.code) {
        uint32_t cp;
        uint8_t esc[10];
        int k, digits;
        if (latin1) cp = p[i++];
        else i += mpk_utf8_next(p + i, &cp);
        if (cp < 256 && cp != '\\' && cp != '\n' && cp != '\r' && cp != 0 && cp != 0x1a) {
            uint8_t c = (uint8_t)cp;
            put(w, &c, 1);
            continue;
        }
        digits = cp > 0xFFFF ? 8 : 4;
        esc[0] = '\\';
        esc[1] = digits == 8 ? 'U' : 'u';
        for (k = 0; k < digits; k++) esc[2 + k] = (uint8_t)hex[(cp >> (4 * (digits - 1 - k))) & 15];
        put(w, esc, (size_t)(2 + digits));
    }
}

static void write_text(mpk_writer_t *w, const uint8_t *p, size_t n, int latin1)
{
    int share = take_share(w);
    if (w->proto == 0) {
        put1(w, OP_UNICODE);
        put_text_raw_escape(w, p, n, latin1);
        put1(w, '\n');
    } else {
        size_t len = text_utf8_len(p, n, latin1);
        uint8_t hdr[9];
        size_t hn;
        if (w->proto >= 4 && len <= 0xff) { hdr[0] = OP_SHORT_BINUNICODE; hdr[1] = (uint8_t)len; hn = 2; }
        else if (len <= 0xffffffffu) { hdr[0] = OP_BINUNICODE; mpk_wr32(hdr + 1, (uint32_t)len); hn = 5; }
        else if (w->proto >= 4) { hdr[0] = OP_BINUNICODE8; mpk_wr64(hdr + 1, len); hn = 9; }
        else { WFAIL(w, MPK_ERR_LIMIT, "cannot serialize a string larger than 4 GiB"); return; }
        if (latin1 && len != n) {
            /* converted on the fly: the bypass rule still applies to the length */
            if (framing(w) && len >= FRAME_TARGET) {
                commit_frame(w);
                set_bypass(w, 1);
                put(w, hdr, hn);
                put_text_utf8(w, p, n, 1);
                set_bypass(w, 0);
            } else {
                put(w, hdr, hn);
                put_text_utf8(w, p, n, 1);
            }
        } else {
            put_payload(w, hdr, hn, p, n);
        }
    }
    memoize(w, share);
}

void mpk_write_str(mpk_writer_t *w, const char *utf8, size_t n)
{
    uint8_t *p;
    if (!mpk_utf8_valid((const uint8_t *)utf8, n)) { WFAIL(w, MPK_ERR_ARG, "string is not UTF-8"); return; }
    /* short text in protocol 4+, the bulk of dict keys: header, bytes and
     * MEMOIZE stored at once (the same bytes write_text() produces) */
    p = w->proto >= 4 && n <= 0xff ? atom_room(w, n + 3) : NULL;
    if (MPK_LIKELY(p != NULL)) {
        int share = take_share(w);
        p[0] = OP_SHORT_BINUNICODE;
        p[1] = (uint8_t)n;
        memcpy(p + 2, utf8, n);
        w->len += n + 2;
        memoize(w, share);      /* room for its MEMOIZE was reserved above */
        obj_done(w);
        return;
    }
    obj_start(w);
    write_text(w, (const uint8_t *)utf8, n, 0);
    obj_done(w);
}

/* A str CPython interns (module and global names, 'latin1'): GET if written before. */
static void write_interned_str(mpk_writer_t *w, const char *s, size_t n)
{
    int i = name_find(w, 1, s, n, "", 0);
    obj_start(w);
    if (i >= 0) { put_get(w, w->memo.names[i].memo); return; }
    w->share_next = 1;  /* the name may be reused: keep it in the memo even when compact */
    write_text(w, (const uint8_t *)s, n, 0);
    name_add(w, 1, s, n, "", 0);
}

/* GLOBAL or INST: the opcode and two lines, with Python 2 names below protocol 3. */
static void put_name_lines(mpk_writer_t *w, uint8_t op, const char *module, size_t mn, const char *name, size_t nn)
{
    const char *m = module, *nm = name;
    size_t ml = mn, nl = nn;
    if (w->proto < 3 && !(w->flags & MPK_WRITE_NO_FIX_IMPORTS))
        mpk_compat_dump(module, mn, name, nn, &m, &ml, &nm, &nl);
    if ((ml && memchr(m, '\n', ml)) || (nl && memchr(nm, '\n', nl))) {
        WFAIL(w, MPK_ERR_ARG, "a global name with a newline cannot be written");
        return;
    }
    put1(w, op);
    put(w, m, ml);
    put1(w, '\n');
    put(w, nm, nl);
    put1(w, '\n');
}

static const char *last_dot(const char *s, size_t n)
{
    while (n--) if (s[n] == '.') return s + n;
    return NULL;
}

/* A nested name (Outer.Inner) before protocol 4, which has no way to spell it:
 * getattr(<Outer>, 'Inner'), as CPython writes it; the parent is a global too. */
static void write_nested_global(mpk_writer_t *w, const char *module, size_t mn, const char *name, size_t nn,
                                const char *dot, int levels)
{
    size_t pn = (size_t)(dot - name);
    write_global_names(w, "builtins", 8, "getattr", 7);
    obj_start(w);                               /* the argument tuple */
    if (w->proto < 2) put1(w, OP_MARK);
    obj_start(w);
    write_global_level(w, module, mn, name, pn, levels + 1);
    write_interned_str(w, dot + 1, nn - pn - 1);
    put1(w, w->proto >= 2 ? OP_TUPLE2 : OP_TUPLE);
    memoize(w, 0);
    put1(w, OP_REDUCE);
}

/* A global, as a sub-object (no parent notification): a GET when it was written
 * before, else GLOBAL or STACK_GLOBAL; memoized and remembered by name. */
static void write_global_level(mpk_writer_t *w, const char *module, size_t mn, const char *name, size_t nn, int levels)
{
    int i = name_find(w, 0, module, mn, name, nn);
    const char *dot = w->proto < 4 ? last_dot(name, nn) : NULL;
    if (i >= 0) { put_get(w, w->memo.names[i].memo); w->last_memo = w->memo.names[i].memo; return; }
    if (levels > 32) { WFAIL(w, MPK_ERR_LIMIT, "global name nested too deeply"); return; }
    if (w->proto >= 4) {
        write_interned_str(w, module, mn);
        write_interned_str(w, name, nn);
        put1(w, OP_STACK_GLOBAL);
    } else if (dot) {
        write_nested_global(w, module, mn, name, nn, dot, levels);
    } else {
        put_name_lines(w, OP_GLOBAL, module, mn, name, nn);
    }
    w->share_next = 1;
    memoize(w, take_share(w));
    name_add(w, 0, module, mn, name, nn);
}

static void write_global_names(mpk_writer_t *w, const char *module, size_t mn, const char *name, size_t nn)
{
    write_global_level(w, module, mn, name, nn, 0);
}

int64_t mpk_writer_global_key(const mpk_writer_t *w, const char *module, size_t mn, const char *name, size_t nn)
{
    int i = name_find(w, 0, module, mn, name, nn);
    return i < 0 ? -1 : (int64_t)w->memo.names[i].memo;
}

void mpk_write_global_begin(mpk_writer_t *w)
{
    if (w->proto < 4) { WFAIL(w, MPK_ERR_ARG, "STACK_GLOBAL needs protocol 4"); return; }
    take_share(w);
    obj_start(w);
    push_frame(w, K_GLOBAL, 0, 0);
}

void mpk_write_global_end(mpk_writer_t *w, const char *module, size_t mn, const char *name, size_t nn)
{
    struct mpk_wframe f;
    if (!end_frame(w, K_GLOBAL, &f)) return;
    put1(w, OP_STACK_GLOBAL);
    memoize(w, 1);
    name_add(w, 0, module, mn, name, nn);
    obj_done(w);
}

void mpk_write_global(mpk_writer_t *w, const char *module, const char *name)
{
    mpk_write_global_n(w, module, strlen(module), name, strlen(name));
}

void mpk_write_global_n(mpk_writer_t *w, const char *module, size_t mn, const char *name, size_t nn)
{
    take_share(w);
    obj_start(w);
    write_global_names(w, module, mn, name, nn);
    obj_done(w);
}

/* bytes before protocol 3: _codecs.encode(latin-1 text, 'latin1'), or bytes() when
 * empty; each part memoized as CPython's save_reduce does. */
static void write_bytes_emulated(mpk_writer_t *w, const uint8_t *p, size_t n, int share)
{
    obj_start(w);
    if (n == 0) {
        write_global_names(w, "builtins", 8, "bytes", 5);
        obj_start(w);
        if (w->proto == 0) put(w, "(t", 2);
        else put1(w, OP_EMPTY_TUPLE);
    } else {
        write_global_names(w, "_codecs", 7, "encode", 6);
        obj_start(w);
        if (w->proto < 2) put1(w, OP_MARK);
        obj_start(w);
        write_text(w, p, n, 1);
        write_interned_str(w, "latin1", 6);
        put1(w, w->proto >= 2 ? OP_TUPLE2 : OP_TUPLE);
        memoize(w, 0);
    }
    put1(w, OP_REDUCE);
    memoize(w, share);
}

static void write_bytes_atom(mpk_writer_t *w, const uint8_t *p, size_t n, int share)
{
    uint8_t hdr[9];
    size_t hn;
    if (w->proto < 3) { write_bytes_emulated(w, p, n, share); return; }
    if (n < 256) { hdr[0] = OP_SHORT_BINBYTES; hdr[1] = (uint8_t)n; hn = 2; }
    else if (n <= 0xffffffffu) { hdr[0] = OP_BINBYTES; mpk_wr32(hdr + 1, (uint32_t)n); hn = 5; }
    else if (w->proto >= 4) { hdr[0] = OP_BINBYTES8; mpk_wr64(hdr + 1, n); hn = 9; }
    else { WFAIL(w, MPK_ERR_LIMIT, "cannot serialize a bytes object larger than 4 GiB"); return; }
    put_payload(w, hdr, hn, p, n);
    memoize(w, share);
}

void mpk_write_bytes(mpk_writer_t *w, const void *p, size_t n)
{
    int share = take_share(w);
    obj_start(w);
    write_bytes_atom(w, (const uint8_t *)p, n, share);
    obj_done(w);
}

/* bytearray: BYTEARRAY8 in protocol 5, else builtins.bytearray(bytes) or
 * bytearray() when empty. */
void mpk_write_bytearray(mpk_writer_t *w, const void *p, size_t n)
{
    int share = take_share(w);
    obj_start(w);
    if (w->proto >= 5) {
        uint8_t hdr[9];
        hdr[0] = OP_BYTEARRAY8;
        mpk_wr64(hdr + 1, n);
        put_payload(w, hdr, 9, p, n);
        memoize(w, share);
    } else {
        obj_start(w);
        write_global_names(w, "builtins", 8, "bytearray", 9);
        obj_start(w);
        if (n == 0) {
            if (w->proto == 0) put(w, "(t", 2);
            else put1(w, OP_EMPTY_TUPLE);
        } else {
            if (w->proto < 2) put1(w, OP_MARK);
            obj_start(w);
            write_bytes_atom(w, (const uint8_t *)p, n, 0);
            put1(w, w->proto >= 2 ? OP_TUPLE1 : OP_TUPLE);
            memoize(w, 0);
        }
        put1(w, OP_REDUCE);
        memoize(w, share);
    }
    obj_done(w);
}

#endif /* MPK_WITH_WRITER */
