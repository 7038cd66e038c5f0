/*
 * mpickle json: the decoded value graph as one JSON document. The representation
 * is specified in docs/json.md; keep the two in step.
 *
 * Two walks over the graph with one stepping function: a dry walk counts how often
 * each container or object is reached and checks the nesting limit before anything
 * is printed; the second walk prints, giving nodes reached more than once an $id
 * the first time and a $ref afterwards. Both walks keep their frames on the heap
 * (no C recursion), so a deep graph costs memory bounded by --max-depth, never the
 * C stack. Output goes through a fixed buffer, so the document is streamed.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "mpickle_ndarray.h"
#include "numtext.h"

/* Ints that fit this many bytes of two's complement have at most 4299 digits
 * (CPython's default int_max_str_digits); larger ones are written in hex, which
 * costs linear time where decimal conversion is quadratic. */
#define DECIMAL_MAX_BYTES 1785u
/* Decimal texts of ints at least this long are cached per node, so that an int
 * repeated through the memo is converted once. */
#define CACHE_MIN_BYTES 64u

/* ------------------------------------------------------------ output */

/* err: 1 a write failed, OUT_TOO_LONG the document passed --max-output (a
 * pickle can repeat one long string through memo GETs of 2 bytes each: the
 * bound keeps the output, and so the time, in proportion to the input). */
#define OUT_TOO_LONG 2

typedef struct jout {
    FILE *f;
    size_t len;
    int err;
    uint64_t total, limit;  /* bytes emitted so far, and the most allowed */
    char buf[65536];
} jout_t;

/* Counts n more bytes against the limit; 0 (and the error) when over it. */
static int out_room(jout_t *o, size_t n)
{
    if (o->err) return 0;
    if (n > o->limit - o->total) { o->err = OUT_TOO_LONG; return 0; }
    o->total += n;
    return 1;
}

static void out_flush(jout_t *o)
{
    if (o->len && !o->err && fwrite(o->buf, 1, o->len, o->f) != o->len) o->err = 1;
    o->len = 0;
}

static void out_write(jout_t *o, const char *s, size_t n)
{
    if (!out_room(o, n)) return;
    while (n) {
        size_t room = sizeof o->buf - o->len, k = n < room ? n : room;
        memcpy(o->buf + o->len, s, k);
        o->len += k;
        s += k;
        n -= k;
        if (o->len == sizeof o->buf) out_flush(o);
    }
}

static void out_byte(jout_t *o, char c)
{
    if (!out_room(o, 1)) return;
    if (o->len == sizeof o->buf) out_flush(o);
    o->buf[o->len++] = c;
}

static void out_cstr(jout_t *o, const char *s) { out_write(o, s, strlen(s)); }

/* ------------------------------------------------------------ JSON writer */

/* Punctuation and layout: commas, key separators and, with --indent, the same
 * line breaks and indentation as Python's json.dumps(indent=N). */
#define LV_ITEMS 1      /* the open array or object has an item already */

typedef struct jw {
    jout_t *o;
    int indent;         /* -1: compact */
    int dry;            /* counting walk: print nothing */
    int after_key;      /* the next value follows a key: no comma */
    uint8_t *levels;    /* per open array/object: LV_* */
    size_t depth, cap;
    int nomem;
} jw_t;

static void jw_newline(jw_t *w)
{
    size_t i, n = w->depth * (size_t)w->indent;
    out_byte(w->o, '\n');
    for (i = 0; i < n; i++) out_byte(w->o, ' ');
}

/* Before any value or key: the comma and line break its position needs. */
static void jw_pre(jw_t *w)
{
    if (w->after_key) { w->after_key = 0; return; }
    if (!w->depth) return;
    if (w->levels[w->depth - 1] & LV_ITEMS) out_byte(w->o, ',');
    w->levels[w->depth - 1] |= LV_ITEMS;
    if (w->indent >= 0) jw_newline(w);
}

static void jw_begin(jw_t *w, char open)
{
    if (w->dry) return;
    jw_pre(w);
    out_byte(w->o, open);
    if (w->depth == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 64;
        uint8_t *nl = realloc(w->levels, ncap);
        if (!nl) { w->nomem = 1; return; }
        w->levels = nl;
        w->cap = ncap;
    }
    w->levels[w->depth++] = (uint8_t)(open == '{' ? 2 : 0);
}

static void jw_end(jw_t *w)
{
    uint8_t lv;
    if (w->dry || !w->depth) return;
    lv = w->levels[--w->depth];
    if ((lv & LV_ITEMS) && w->indent >= 0) jw_newline(w);
    out_byte(w->o, (lv & 2) ? '}' : ']');
}

/* A value already in JSON syntax (number, literal). */
static void jw_raw(jw_t *w, const char *s, size_t n)
{
    if (w->dry) return;
    jw_pre(w);
    out_write(w->o, s, n);
}

static void jw_int(jw_t *w, int64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%" PRId64, v);
    jw_raw(w, buf, (size_t)n);
}

/* ------------------------------------------------------------ strings */

/* Length of the well-formed UTF-8 sequence at s (surrogate code points allowed,
 * as CPython's surrogatepass writes them), 0 if malformed; *cp gets the code point. */
static size_t utf8_seq(const uint8_t *s, size_t n, uint32_t *cp)
{
    uint8_t c = s[0];
    if (c < 0x80) { *cp = c; return 1; }
    if (c >= 0xC2 && c <= 0xDF && n >= 2 && (s[1] & 0xC0) == 0x80) {
        *cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF && n >= 3 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 &&
        (c != 0xE0 || s[1] >= 0xA0)) {
        *cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4 && n >= 4 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 &&
        (s[3] & 0xC0) == 0x80 && (c != 0xF0 || s[1] >= 0x90) && (c != 0xF4 || s[1] <= 0x8F)) {
        *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
              ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        return 4;
    }
    return 0;
}

static int is_high(uint32_t cp) { return cp >= 0xD800 && cp <= 0xDBFF; }
static int is_low(uint32_t cp) { return cp >= 0xDC00 && cp <= 0xDFFF; }

/* Offset of the first place where a lone high surrogate is directly followed by a
 * lone low one, or n. JSON readers join "\ud83d\ude00" into one character, so the
 * text must be cut there to come back as two (see $str in docs/json.md). */
static size_t pair_cut(const uint8_t *s, size_t n)
{
    size_t i = 0, k;
    uint32_t cp, prev = 0;
    while (i < n) {
        k = utf8_seq(s + i, n - i, &cp);
        if (!k) { k = 1; cp = 0xFFFD; }
        if (is_high(prev) && is_low(cp)) return i;
        prev = cp;
        i += k;
    }
    return n;
}

/* Writes s[0..n) quoted, escaped as Python's json.dumps(ensure_ascii=False) does;
 * surrogate code points become \udxxx escapes; malformed bytes (which the decoder
 * never hands over) would become U+FFFD so that the output stays valid UTF-8. */
static void put_string(jout_t *o, const uint8_t *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, run = 0, k;
    uint32_t cp;
    out_byte(o, '"');
    while (i < n) {
        uint8_t c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) { i++; continue; }
        k = c < 0x80 ? 1 : utf8_seq(s + i, n - i, &cp);
        if (k > 1 && !(k == 3 && cp >= 0xD800 && cp <= 0xDFFF)) { i += k; continue; }
        out_write(o, (const char *)s + run, i - run);
        if (k == 0) { out_cstr(o, "\\ufffd"); k = 1; }
        else if (k == 3) {
            char e[6] = {'\\', 'u', hex[cp >> 12], hex[(cp >> 8) & 15], hex[(cp >> 4) & 15], hex[cp & 15]};
            out_write(o, e, 6);
        } else if (c == '"') out_cstr(o, "\\\"");
        else if (c == '\\') out_cstr(o, "\\\\");
        else if (c == '\n') out_cstr(o, "\\n");
        else if (c == '\r') out_cstr(o, "\\r");
        else if (c == '\t') out_cstr(o, "\\t");
        else if (c == '\b') out_cstr(o, "\\b");
        else if (c == '\f') out_cstr(o, "\\f");
        else {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            out_write(o, e, 6);
        }
        i += k;
        run = i;
    }
    out_write(o, (const char *)s + run, n - run);
    out_byte(o, '"');
}

static void jw_key(jw_t *w, const char *s, size_t n)
{
    if (w->dry) return;
    jw_pre(w);
    put_string(w->o, (const uint8_t *)s, n);
    if (w->indent >= 0) out_write(w->o, ": ", 2);
    else out_byte(w->o, ':');
    w->after_key = 1;
}

static void jw_ckey(jw_t *w, const char *s) { jw_key(w, s, strlen(s)); }

/* A str value: a JSON string, or {"$str": [pieces]} when it has to be cut. */
static void jw_text(jw_t *w, const uint8_t *s, size_t n)
{
    size_t cut;
    if (w->dry) return;
    cut = pair_cut(s, n);
    if (cut == n) {
        jw_pre(w);
        put_string(w->o, s, n);
        return;
    }
    jw_begin(w, '{');
    jw_ckey(w, "$str");
    jw_begin(w, '[');
    while (cut < n) {
        jw_pre(w);
        put_string(w->o, s, cut);
        s += cut;
        n -= cut;
        cut = pair_cut(s, n);
    }
    jw_pre(w);
    put_string(w->o, s, n);
    jw_end(w);
    jw_end(w);
}

static void jw_base64(jw_t *w, const uint8_t *p, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char q[4];
    size_t i;
    if (w->dry) return;
    jw_pre(w);
    out_byte(w->o, '"');
    for (i = 0; i + 3 <= n; i += 3) {
        uint32_t x = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        q[0] = abc[x >> 18]; q[1] = abc[(x >> 12) & 63]; q[2] = abc[(x >> 6) & 63]; q[3] = abc[x & 63];
        out_write(w->o, q, 4);
    }
    if (n - i) {
        uint32_t x = (uint32_t)p[i] << 16 | (n - i == 2 ? (uint32_t)p[i + 1] << 8 : 0);
        q[0] = abc[x >> 18]; q[1] = abc[(x >> 12) & 63];
        q[2] = n - i == 2 ? abc[(x >> 6) & 63] : '=';
        q[3] = '=';
        out_write(w->o, q, 4);
    }
    out_byte(w->o, '"');
}

/* ------------------------------------------------------------ node map */

/* Per container/object node: how often the graph reaches it and its $id; per
 * large int: its cached decimal text. Open addressing on the node pointer. */
typedef struct entry {
    const mpk_value_t *node;
    uint32_t refs, id;
    char *text;
    size_t text_len;
} entry_t;

typedef struct nmap {
    entry_t *e;
    size_t cap, n;
} nmap_t;

static size_t nmap_slot(const nmap_t *m, const mpk_value_t *v)
{
    size_t mask = m->cap - 1, i = (size_t)(((uintptr_t)v >> 3) * 0x9E3779B97F4A7C15ull >> 17) & mask;
    while (m->e[i].node && m->e[i].node != v) i = (i + 1) & mask;
    return i;
}

static entry_t *nmap_get(const nmap_t *m, const mpk_value_t *v)
{
    size_t i;
    if (!m->cap) return NULL;
    i = nmap_slot(m, v);
    return m->e[i].node ? &m->e[i] : NULL;
}

/* The node's entry, added if new; NULL when out of memory. */
static entry_t *nmap_add(nmap_t *m, const mpk_value_t *v)
{
    size_t i;
    if ((m->n + 1) * 2 > m->cap) {
        size_t ocap = m->cap, ncap = ocap ? ocap * 2 : 1024, j;
        entry_t *old = m->e, *ne = calloc(ncap, sizeof *ne);
        if (!ne) return NULL;
        m->e = ne;
        m->cap = ncap;
        for (j = 0; j < ocap; j++)
            if (old[j].node) m->e[nmap_slot(m, old[j].node)] = old[j];
        free(old);
    }
    i = nmap_slot(m, v);
    if (!m->e[i].node) {
        m->e[i].node = v;
        m->n++;
    }
    return &m->e[i];
}

static void nmap_free(nmap_t *m)
{
    size_t i;
    for (i = 0; i < m->cap; i++) free(m->e[i].text);
    free(m->e);
    m->e = NULL;
    m->cap = m->n = 0;
}

/* ------------------------------------------------------------ walk state */

enum frame_kind {
    F_ITEMS,    /* values, each a JSON value in the open array (or after a key) */
    F_DICT_OBJ, /* key, value, ...: keys written as JSON object keys */
    F_PAIRS,    /* key, value, ...: each pair a [key, value] array */
    F_CALL      /* the parts of an object made by a call */
};

/* Parts of a $call in the order they are written. */
enum call_part { P_FUNC, P_ARGS, P_KWARGS, P_LIST, P_DICT, P_STATE, P_END };
static const uint8_t items_first[] = {P_FUNC, P_ARGS, P_KWARGS, P_LIST, P_DICT, P_STATE, P_END};
static const uint8_t state_first[] = {P_FUNC, P_ARGS, P_KWARGS, P_STATE, P_LIST, P_DICT, P_END};

typedef struct frame {
    uint8_t kind;           /* enum frame_kind */
    uint8_t node;           /* stands for a node: counts towards the nesting depth */
    uint8_t closes;         /* arrays/objects to close when done */
    uint8_t part;           /* F_CALL: index into its part order */
    const mpk_value_t *v;   /* F_CALL: the object */
    mpk_value_t *const *items;
    size_t n, i;
} frame_t;

typedef struct walk {
    jw_t w;
    nmap_t map;
    frame_t *frames;
    size_t nframes, frames_cap;
    uint32_t depth, max_depth;
    uint32_t next_id;
    size_t max_array;       /* --max-array */
    /* scratch for dict key checks and int conversion */
    uint32_t *keyset; size_t keyset_cap;
    uint8_t *work; char *digits; size_t work_cap;
    const char *fail;       /* first error, a static message */
    int too_deep;           /* the error is the nesting limit */
} walk_t;

static void walk_fail(walk_t *k, const char *msg)
{
    if (!k->fail) k->fail = msg;
}

static const char NOMEM_MSG[] = "out of memory";

static frame_t *push_frame(walk_t *k, enum frame_kind kind, int node, unsigned closes,
                           mpk_value_t *const *items, size_t n)
{
    frame_t *f;
    if (node && ++k->depth > k->max_depth) {
        walk_fail(k, "nesting deeper than --max-depth");
        k->too_deep = 1;
        return NULL;
    }
    if (k->nframes == k->frames_cap) {
        size_t ncap = k->frames_cap ? k->frames_cap * 2 : 64;
        frame_t *nf = realloc(k->frames, ncap * sizeof *nf);
        if (!nf) { walk_fail(k, NOMEM_MSG); return NULL; }
        k->frames = nf;
        k->frames_cap = ncap;
    }
    f = &k->frames[k->nframes++];
    memset(f, 0, sizeof *f);
    f->kind = (uint8_t)kind;
    f->node = (uint8_t)node;
    f->closes = (uint8_t)closes;
    f->items = items;
    f->n = n;
    return f;
}

/* ------------------------------------------------------------ atoms */

static int shown_as_call(const mpk_value_t *v)
{
    const mpk_call_info_t *c = v->call;
    /* a recognised builtin (set made by REDUCE...) that the pickle then changed
     * with APPENDS/SETITEMS/BUILD is no longer just that builtin */
    return v->type == MPK_OBJECT || (c && (c->nlist || c->ndict || c->state));
}

/* Nodes that have an identity in the output ($id/$ref): mutable or composite. */
static int has_identity(const mpk_value_t *v)
{
    switch (v->type) {
    case MPK_LIST: case MPK_TUPLE: case MPK_DICT: case MPK_SET: case MPK_FROZENSET:
    case MPK_BYTEARRAY: case MPK_OBJECT: case MPK_PERSID:
        return 1;
    default:
        return v->call != NULL && shown_as_call(v);
    }
}

/* A JSON number is -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; Python's repr of
 * a finite float always is one, but check rather than trust. */
static int json_number(const char *s, size_t n)
{
    size_t i = 0, d;
    if (i < n && s[i] == '-') i++;
    if (i < n && s[i] == '0') i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9') while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    else return 0;
    if (i < n && s[i] == '.') {
        for (d = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++) {}
        if (i == d) return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++) {}
        if (i == d) return 0;
    }
    return i == n;
}

static void emit_float(walk_t *k, double x)
{
    char buf[MPK_FLOAT_REPR_MAX];
    size_t n = mpk_float_repr(x, buf);
    if (json_number(buf, n)) { jw_raw(&k->w, buf, n); return; }
    jw_begin(&k->w, '{');
    jw_ckey(&k->w, "$float");
    jw_text(&k->w, (const uint8_t *)buf, n);
    jw_end(&k->w);
}

static int grow_work(walk_t *k, size_t n)
{
    size_t need = 3 * n + 8;
    if (need <= k->work_cap) return 0;
    free(k->work);
    free(k->digits);
    k->work = malloc(need);
    k->digits = malloc(need);
    k->work_cap = k->work && k->digits ? need : 0;
    if (!k->work_cap) { walk_fail(k, NOMEM_MSG); return -1; }
    return 0;
}

/* Hex text ("0x..." or "-0x...") of a two's complement int, into k->digits. */
static size_t bigint_hex(walk_t *k, const uint8_t *le, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t len = 0, i;
    int neg = le[n - 1] & 0x80, started = 0;
    unsigned carry = 1;
    memcpy(k->work, le, n);
    if (neg) {
        for (i = 0; i < n; i++) {
            carry += (uint8_t)~k->work[i];
            k->work[i] = (uint8_t)carry;
            carry >>= 8;
        }
        k->digits[len++] = '-';
    }
    k->digits[len++] = '0';
    k->digits[len++] = 'x';
    for (i = n; i-- > 0;) {
        uint8_t b = k->work[i];
        if (started || b >> 4) { k->digits[len++] = hex[b >> 4]; started = 1; }
        if (started || b & 15 || i == 0) { k->digits[len++] = hex[b & 15]; started = 1; }
    }
    return len;
}

/* Text of an int too big for int64: decimal up to DECIMAL_MAX_BYTES, else hex. */
static void emit_bigint(walk_t *k, const mpk_value_t *v)
{
    size_t n, len;
    const uint8_t *le = mpk_get_bytes(v, &n);
    entry_t *e = NULL;
    const char *text;
    if (n >= CACHE_MIN_BYTES && n <= DECIMAL_MAX_BYTES) {
        e = nmap_add(&k->map, v);
        if (!e) { walk_fail(k, NOMEM_MSG); return; }
    }
    if (e && e->text) {
        text = e->text;
        len = e->text_len;
    } else {
        if (grow_work(k, n)) return;
        len = n <= DECIMAL_MAX_BYTES ? mpk_bigint_to_decimal(le, n, k->digits, k->work_cap, k->work)
                                     : bigint_hex(k, le, n);
        if (!len) { walk_fail(k, "cannot convert an int to text"); return; }
        text = k->digits;
        if (e && (e->text = malloc(len))) {
            memcpy(e->text, text, len);
            e->text_len = len;
        }
    }
    jw_begin(&k->w, '{');
    jw_ckey(&k->w, "$int");
    jw_text(&k->w, (const uint8_t *)text, len);
    jw_end(&k->w);
}

static void emit_str_node(walk_t *k, const mpk_value_t *v)
{
    size_t n;
    const char *s = mpk_get_str(v, &n);
    if (!s) { walk_fail(k, "a global's name is not a str"); return; }
    jw_text(&k->w, (const uint8_t *)s, n);
}

/* Values printed in place each time they are reached. */
static void emit_atom(walk_t *k, const mpk_value_t *v)
{
    jw_t *w = &k->w;
    int64_t i;
    size_t n;
    const uint8_t *p;
    switch (v->type) {
    case MPK_NONE: jw_raw(w, "null", 4); break;
    case MPK_BOOL: if (mpk_is_true(v)) jw_raw(w, "true", 4); else jw_raw(w, "false", 5); break;
    case MPK_INT: case MPK_BIGINT:
        if (mpk_get_int(v, &i)) jw_int(w, i);
        else emit_bigint(k, v);
        break;
    case MPK_FLOAT: emit_float(k, v->u.f); break;
    case MPK_STR: p = (const uint8_t *)mpk_get_str(v, &n); jw_text(w, p, n); break;
    case MPK_BYTES:
        p = mpk_get_bytes(v, &n);
        jw_begin(w, '{'); jw_ckey(w, "$bytes"); jw_base64(w, p, n); jw_end(w);
        break;
    case MPK_GLOBAL:
        jw_begin(w, '{'); jw_ckey(w, "$global"); jw_begin(w, '[');
        emit_str_node(k, v->u.g.module);
        emit_str_node(k, v->u.g.name);
        jw_end(w); jw_end(w);
        break;
    case MPK_EXT:
        jw_begin(w, '{'); jw_ckey(w, "$ext"); jw_int(w, v->u.i); jw_end(w);
        break;
    case MPK_BUFFER:
        jw_begin(w, '{'); jw_ckey(w, "$buffer"); jw_int(w, (int64_t)v->u.buf.index);
        jw_ckey(w, "readonly");
        if (v->u.buf.readonly) jw_raw(w, "true", 4); else jw_raw(w, "false", 5);
        jw_end(w);
        break;
    default:
        walk_fail(k, "a value of unknown type");
        break;
    }
}

/* ------------------------------------------------------------ dict keys */

static uint32_t hash_bytes(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static int same_key(const mpk_value_t *a, const mpk_value_t *b)
{
    return a->u.s.n == b->u.s.n && !memcmp(a->u.s.p, b->u.s.p, a->u.s.n);
}

/* 1 when a dict can be a plain JSON object: every key a str that does not start
 * with '$', needs no $str cut, and appears once. */
static int dict_as_object(walk_t *k, const mpk_value_t *d)
{
    size_t n = d->u.seq.n / 2, i, j, cap = 16;
    mpk_value_t *const *kv = d->u.seq.v;
    for (i = 0; i < n; i++) {
        const mpk_value_t *key = kv[2 * i];
        if (key->type != MPK_STR || (key->u.s.n && key->u.s.p[0] == '$') ||
            pair_cut(key->u.s.p, key->u.s.n) != key->u.s.n)
            return 0;
    }
    if (n <= 8) {
        for (i = 0; i < n; i++)
            for (j = 0; j < i; j++)
                if (same_key(kv[2 * i], kv[2 * j])) return 0;
        return 1;
    }
    while (cap < 2 * n) cap *= 2;
    if (cap > k->keyset_cap) {
        uint32_t *ns = realloc(k->keyset, cap * sizeof *ns);
        if (!ns) { walk_fail(k, NOMEM_MSG); return 0; }
        k->keyset = ns;
        k->keyset_cap = cap;
    }
    /* slots hold key index + 1; 0 is empty */
    memset(k->keyset, 0, cap * sizeof *k->keyset);
    for (i = 0; i < n; i++) {
        const mpk_value_t *key = kv[2 * i];
        size_t s = hash_bytes(key->u.s.p, key->u.s.n) & (cap - 1);
        while (k->keyset[s]) {
            if (same_key(kv[2 * (k->keyset[s] - 1)], key)) return 0;
            s = (s + 1) & (cap - 1);
        }
        k->keyset[s] = (uint32_t)(i + 1);
    }
    return 1;
}

/* ------------------------------------------------------------ numpy */

/* numpy arrays, scalars and dtypes are shown by what they hold ($ndarray,
 * $npscalar, $dtype in docs/json.md), not as the calls that rebuild them. The
 * helper (mpickle_ndarray.h) reads every numpy form; this only prints. */

/* Default --max-array: the most elements of one array printed. */
#define MAX_ARRAY_DEFAULT 1000000u

static int text_eq(const mpk_value_t *v, const char *s)
{
    return v && v->type == MPK_STR && v->u.s.n == strlen(s) && !memcmp(v->u.s.p, s, v->u.s.n);
}

/* The arguments of a REDUCE of numpy's `name` (numpy.dtype or the multiarray
 * module's) with nargs of them and no items applied, or NULL. */
static mpk_value_t *const *numpy_call(const mpk_value_t *v, const char *name, size_t nargs)
{
    const mpk_call_info_t *c = v->call;
    const mpk_value_t *g = c->callable;
    if (c->kind != MPK_CALL_REDUCE || c->nlist || c->ndict || !g || g->type != MPK_GLOBAL || g->call ||
        !text_eq(g->u.g.name, name) || !c->args || c->args->type != MPK_TUPLE || c->args->u.seq.n != nargs)
        return NULL;
    if (!text_eq(g->u.g.module, "numpy") && !text_eq(g->u.g.module, "numpy.core.multiarray") &&
        !text_eq(g->u.g.module, "numpy._core.multiarray"))
        return NULL;
    return c->args->u.seq.v;
}

static void set_text(mpk_value_t *v, mpk_type_t type, const char *s)
{
    v->type = (uint8_t)type;
    v->u.s.p = (const uint8_t *)s;
    v->u.s.n = strlen(s);
}

/* Reads dtype d through the helper by handing it the documented form
 * numpy.core.numeric._frombuffer(data, d, shape, 'C'), built on the stack:
 * shape () with data a scalar's bytes, or shape (0,) and no data for a dtype. */
static mpk_nd_err_t view_as(mpk_value_t *d, mpk_value_t *data, mpk_ndarray_t *a)
{
    mpk_value_t mod, fn, glob, zero, shape, order, empty, args, call;
    mpk_value_t *argv[4], *dims[1];
    mpk_call_info_t ci;
    memset(&mod, 0, sizeof mod);
    fn = glob = zero = shape = order = empty = args = call = mod;
    memset(&ci, 0, sizeof ci);
    set_text(&mod, MPK_STR, "numpy.core.numeric");
    set_text(&fn, MPK_STR, "_frombuffer");
    set_text(&order, MPK_STR, "C");
    set_text(&empty, MPK_BYTES, "");
    glob.type = MPK_GLOBAL;
    glob.u.g.module = &mod;
    glob.u.g.name = &fn;
    zero.type = MPK_INT;
    dims[0] = &zero;
    shape.type = MPK_TUPLE;
    shape.u.seq.v = dims;
    shape.u.seq.n = data ? 0 : 1;
    argv[0] = data ? data : &empty;
    argv[1] = d;
    argv[2] = &shape;
    argv[3] = &order;
    args.type = MPK_TUPLE;
    args.u.seq.v = argv;
    args.u.seq.n = 4;
    ci.kind = MPK_CALL_REDUCE;
    ci.callable = &glob;
    ci.args = &args;
    call.type = MPK_OBJECT;
    call.call = &ci;
    return mpk_ndarray_view(&call, NULL, 0, a);
}

/* The IEEE half nearest to finite x (ties to even), from the double's bits. */
static uint16_t to_half(double x)
{
    uint64_t b, man, rem, half;
    int e;
    unsigned shift;
    uint16_t sign, r;
    memcpy(&b, &x, sizeof b);
    sign = (uint16_t)((b >> 48) & 0x8000u);
    e = (int)((b >> 52) & 0x7ff) - 1023;
    man = (b & 0xFFFFFFFFFFFFFull) | ((uint64_t)1 << 52);
    if (e > 15) return (uint16_t)(sign | 0x7c00u);
    shift = 42u + (e < -14 ? (unsigned)(-14 - e) : 0u);    /* keep 10 bits, or fewer when subnormal */
    if (shift > 53) return sign;
    r = (uint16_t)(man >> shift);
    rem = man & (((uint64_t)1 << shift) - 1);
    half = (uint64_t)1 << (shift - 1);
    if (rem > half || (rem == half && (r & 1))) r++;
    /* a normal's r is 1024..2048: adding it carries into the exponent as needed */
    return (uint16_t)(sign | (e < -14 ? r : (unsigned)((e + 14) << 10) + r));
}

/* Does the p-digit decimal nearest v read back as v in its own width? *x gets it. */
static int reads_back(double v, unsigned size, int p, double *x)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.*e", p - 1, v);
    *x = strtod(buf, NULL);
    if (size == 2) return to_half(*x) == to_half(v);
    return (float)*x == (float)v && strtof(buf, NULL) == (float)v;
}

/* float32 and float16 values print as the shortest decimal that reads back as
 * the same value of their own width (as numpy shows them: 0.1, not
 * 0.10000000149011612), written as the double nearest that decimal. If p digits
 * read back, so do p+1 (the nearest p+1-digit decimal is at least as close):
 * a binary search over 1..9 digits (float16: 1..5) finds the fewest. */
static double narrow_shortest(double v, unsigned size)
{
    int lo = 1, hi = size == 2 ? 5 : 9;
    double best = v, x;
    if (v != v || v - v != 0) return v;     /* nan, inf */
    while (lo <= hi) {
        int p = (lo + hi) / 2;
        if (reads_back(v, size, p, &x)) { best = x; hi = p - 1; }
        else lo = p + 1;
    }
    return best;
}

typedef struct ndprint {
    const mpk_ndarray_t *a;
    mpk_ndarray_t one;      /* a 0-d view moved from element to element */
    size_t next;            /* flat C-order index of the next element */
} ndprint_t;

static void emit_native_int(walk_t *k, const uint8_t *e, unsigned size, int is_signed)
{
    union { uint8_t b[8]; int8_t i8; uint8_t u8; int16_t i16; uint16_t u16;
            int32_t i32; uint32_t u32; int64_t i64; uint64_t u64; } u;
    char buf[24];
    int n;
    memcpy(u.b, e, size);
    if (is_signed) {
        jw_int(&k->w, size == 1 ? u.i8 : size == 2 ? u.i16 : size == 4 ? u.i32 : u.i64);
        return;
    }
    n = snprintf(buf, sizeof buf, "%" PRIu64, size == 1 ? u.u8 : size == 2 ? u.u16 : size == 4 ? u.u32 : u.u64);
    jw_raw(&k->w, buf, (size_t)n);
}

static void emit_element(walk_t *k, ndprint_t *p)
{
    const mpk_ndarray_t *a = p->a;
    uint8_t e[16];
    double re, im;
    p->one.data = a->data + mpk_ndarray_offset(a, p->next++);
    if (a->kind == 'f' || a->kind == 'c') {
        unsigned part = a->kind == 'c' ? a->itemsize / 2u : a->itemsize;
        mpk_ndarray_get_f64(&p->one, 0, &re, &im);
        if (part < 8) { re = narrow_shortest(re, part); im = narrow_shortest(im, part); }
        if (a->kind == 'f') { emit_float(k, re); return; }
        jw_begin(&k->w, '[');
        emit_float(k, re);
        emit_float(k, im);
        jw_end(&k->w);
        return;
    }
    mpk_ndarray_copy_c(&p->one, e, sizeof e);   /* this machine's order; ints stay exact */
    if (a->kind == 'b') jw_raw(&k->w, e[0] ? "true" : "false", e[0] ? 4 : 5);
    else emit_native_int(k, e, a->itemsize, a->kind == 'i');
}

static int printing_stopped(const walk_t *k) { return k->w.o->err || k->w.nomem; }

/* Nested lists along axis d and the ones after it (depth at most MPK_ND_MAXDIM). */
static void emit_axes(walk_t *k, ndprint_t *p, unsigned d)
{
    size_t j;
    jw_begin(&k->w, '[');
    for (j = 0; j < p->a->shape[d] && !printing_stopped(k); j++) {
        if (d + 1u == p->a->ndim) emit_element(k, p);
        else emit_axes(k, p, d + 1u);
    }
    jw_end(&k->w);
}

/* What the data costs to print, in values: its elements, or for an empty array
 * the empty lists its leading axes make ([[], [], ...]). Saturates. */
static size_t data_cost(const mpk_ndarray_t *a)
{
    size_t n = 1, d;
    if (a->size) return a->size;
    for (d = 0; d < a->ndim && a->shape[d]; d++) n = a->shape[d] > SIZE_MAX / n ? SIZE_MAX : n * a->shape[d];
    return n;
}

/* The values: nested lists in C order (a bare value for 0-d), or, past
 * --max-array, "truncated": true and the first ones in one flat list. */
static void emit_array_data(walk_t *k, const mpk_ndarray_t *a)
{
    jw_t *w = &k->w;
    ndprint_t p;
    size_t i;
    p.a = a;
    p.one = *a;
    p.one.ndim = 0;
    p.one.size = 1;
    p.one.nbytes = a->itemsize;
    p.next = 0;
    if (data_cost(a) > k->max_array) {
        jw_ckey(w, "truncated");
        jw_raw(w, "true", 4);
        jw_ckey(w, "data");
        jw_begin(w, '[');
        for (i = 0; i < k->max_array && i < a->size && !printing_stopped(k); i++) emit_element(k, &p);
        jw_end(w);
        return;
    }
    jw_ckey(w, "data");
    if (a->ndim == 0) emit_element(k, &p);
    else emit_axes(k, &p, 0);
}

static void emit_typestr(walk_t *k, const mpk_ndarray_t *a)
{
    char ts[8];
    mpk_ndarray_typestr(a, ts);
    jw_text(&k->w, (const uint8_t *)ts, strlen(ts));
}

/* {"$ndarray": {"dtype", "shape", "order", ["subtype",] ["truncated",] "data"}};
 * out-of-band data (no buffers here) is its {"$buffer": N, ...} placeholder. */
static void emit_ndarray(walk_t *k, const mpk_value_t *v, const mpk_ndarray_t *a, int out_of_band)
{
    jw_t *w = &k->w;
    const mpk_value_t *first = v->call->args->u.seq.v[0];
    size_t d;
    jw_begin(w, '{'); jw_ckey(w, "$ndarray"); jw_begin(w, '{');
    jw_ckey(w, "dtype"); emit_typestr(k, a);
    jw_ckey(w, "shape"); jw_begin(w, '[');
    for (d = 0; d < a->ndim; d++) jw_int(w, (int64_t)a->shape[d]);
    jw_end(w);
    jw_ckey(w, "order"); jw_text(w, (const uint8_t *)(a->order == 'F' ? "F" : "C"), 1);
    /* _reconstruct's first argument is the class: say so when not a plain ndarray */
    if (first->type == MPK_GLOBAL && !(text_eq(first->u.g.module, "numpy") && text_eq(first->u.g.name, "ndarray"))) {
        jw_ckey(w, "subtype");
        emit_atom(k, first);
    }
    if (out_of_band) { jw_ckey(w, "data"); emit_atom(k, first); }
    else emit_array_data(k, a);
    jw_end(w); jw_end(w);
}

/* numpy nodes shown by content. Returns 1 when v was written whole (with its
 * `closes` wrappers closed); 0 to show it as a $call, after opening
 * {"$ndarray": {"error": ..., "call": (*closes += 2) for an array that the
 * helper cannot read (unsupported dtype, hostile shape or data...). */
static int open_numpy(walk_t *k, const mpk_value_t *v, unsigned *closes)
{
    jw_t *w = &k->w;
    mpk_ndarray_t a;
    mpk_value_t *const *arg;
    mpk_nd_err_t e;
    if (v->type != MPK_OBJECT || !v->call) return 0;
    if (mpk_ndarray_is_array(v)) {
        if (v->call->nlist || v->call->ndict) return 0;     /* crafted: show what it is */
        e = mpk_ndarray_view(v, NULL, 0, &a);
        /* out-of-band: the helper read dtype and shape before asking for the buffer */
        if (e == MPK_ND_OK || e == MPK_ND_ERR_BUFFER) {
            if (!w->dry) emit_ndarray(k, v, &a, e != MPK_ND_OK);
        } else {
            const char *msg = mpk_nd_err_str(e);
            jw_begin(w, '{'); jw_ckey(w, "$ndarray"); jw_begin(w, '{');
            jw_ckey(w, "error"); jw_text(w, (const uint8_t *)msg, strlen(msg));
            jw_ckey(w, "call");
            *closes += 2;
            return 0;
        }
    } else if ((arg = numpy_call(v, "scalar", 2)) && !v->call->state && view_as(arg[0], arg[1], &a) == MPK_ND_OK) {
        ndprint_t p;
        p.a = &a;
        p.one = a;
        p.next = 0;
        jw_begin(w, '{'); jw_ckey(w, "$npscalar"); jw_begin(w, '{');
        jw_ckey(w, "dtype"); emit_typestr(k, &a);
        jw_ckey(w, "value"); if (!w->dry) emit_element(k, &p);
        jw_end(w); jw_end(w);
    } else if (numpy_call(v, "dtype", 3) && view_as((mpk_value_t *)v, NULL, &a) == MPK_ND_OK) {
        jw_begin(w, '{'); jw_ckey(w, "$dtype"); emit_typestr(k, &a); jw_end(w);
    } else {
        return 0;
    }
    for (; *closes; --*closes) jw_end(w);
    return 1;
}

/* ------------------------------------------------------------ nodes */

static const char *call_kind(mpk_call_t kind)
{
    switch (kind) {
    case MPK_CALL_REDUCE: return "reduce";
    case MPK_CALL_NEWOBJ: return "newobj";
    case MPK_CALL_NEWOBJ_EX: return "newobj_ex";
    case MPK_CALL_INST: return "inst";
    default: return "obj";
    }
}

/* Starts a node with an identity: writes its opening and pushes the frame that
 * walks its parts. `closes` counts wrappers already opened ($id). `plain`: a
 * tuple in a $call's args position, written as a bare array. */
static void open_node(walk_t *k, const mpk_value_t *v, unsigned closes, int plain)
{
    jw_t *w = &k->w;
    mpk_value_t *const *items = v->u.seq.v;
    size_t n = v->u.seq.n;
    frame_t *f;
    if (open_numpy(k, v, &closes)) return;
    if (shown_as_call(v)) {
        if (!v->call) { walk_fail(k, "an object without its call"); return; }
        jw_begin(w, '{'); jw_ckey(w, "$call"); jw_begin(w, '{');
        jw_ckey(w, "kind"); jw_text(w, (const uint8_t *)call_kind(v->call->kind), strlen(call_kind(v->call->kind)));
        f = push_frame(k, F_CALL, 1, closes + 2, NULL, 0);
        if (f) f->v = v;
        return;
    }
    switch (v->type) {
    case MPK_LIST:
        jw_begin(w, '[');
        push_frame(k, F_ITEMS, 1, closes + 1, items, n);
        break;
    case MPK_TUPLE: case MPK_SET: case MPK_FROZENSET:
        if (plain && v->type == MPK_TUPLE) {
            jw_begin(w, '[');
            push_frame(k, F_ITEMS, 1, closes + 1, items, n);
            break;
        }
        jw_begin(w, '{');
        jw_ckey(w, v->type == MPK_TUPLE ? "$tuple" : v->type == MPK_SET ? "$set" : "$frozenset");
        jw_begin(w, '[');
        push_frame(k, F_ITEMS, 1, closes + 2, items, n);
        break;
    case MPK_DICT:
        if (!w->dry && dict_as_object(k, v)) {
            jw_begin(w, '{');
            push_frame(k, F_DICT_OBJ, 1, closes + 1, items, n);
        } else {
            jw_begin(w, '{'); jw_ckey(w, "$dict"); jw_begin(w, '[');
            push_frame(k, F_PAIRS, 1, closes + 2, items, n);
        }
        break;
    case MPK_PERSID:
        jw_begin(w, '{'); jw_ckey(w, "$persid");
        push_frame(k, F_ITEMS, 1, closes + 1, &v->u.pid, 1);
        break;
    case MPK_BYTEARRAY: {
        size_t len;
        const uint8_t *p = mpk_get_bytes(v, &len);
        jw_begin(w, '{'); jw_ckey(w, "$bytearray"); jw_base64(w, p, len); jw_end(w);
        while (closes--) jw_end(w);
        break;
    }
    default:
        walk_fail(k, "a value of unknown type");
        break;
    }
}

/* A value reached from its parent (or the root). */
static void reach(walk_t *k, const mpk_value_t *v, int plain)
{
    entry_t *e;
    if (!v) { walk_fail(k, "a missing value in the graph"); return; }
    if (!has_identity(v)) {
        if (!k->w.dry) emit_atom(k, v);
        return;
    }
    if (k->w.dry) {
        e = nmap_add(&k->map, v);
        if (!e) { walk_fail(k, NOMEM_MSG); return; }
        if (e->refs++ == 0) open_node(k, v, 0, plain);
        return;
    }
    e = nmap_get(&k->map, v);
    if (!e || e->refs <= 1) { open_node(k, v, 0, plain); return; }
    jw_begin(&k->w, '{');
    if (e->id) {
        jw_ckey(&k->w, "$ref");
        jw_int(&k->w, e->id);
        jw_end(&k->w);
        return;
    }
    e->id = ++k->next_id;
    jw_ckey(&k->w, "$id");
    jw_int(&k->w, e->id);
    jw_ckey(&k->w, "$value");
    open_node(k, v, 1, 0);
}

enum step { STEP_DONE, STEP_CHILD, STEP_PUSHED };

/* The next part of a $call: writes its key and gives the child, or opens its
 * items array and pushes a frame for them. */
static enum step step_call(walk_t *k, frame_t *f, const mpk_value_t **child, int *plain)
{
    const mpk_call_info_t *c = f->v->call;
    /* order bit 0: the pickle applied BUILD before the items */
    const uint8_t *order = (c->order & 1) ? state_first : items_first;
    jw_t *w = &k->w;
    for (;;) {
        switch (order[f->part++]) {
        case P_FUNC: jw_ckey(w, "func"); *child = c->callable; return STEP_CHILD;
        case P_ARGS: jw_ckey(w, "args"); *child = c->args; *plain = 1; return STEP_CHILD;
        case P_KWARGS:
            if (!c->kwargs) break;
            jw_ckey(w, "kwargs"); *child = c->kwargs; return STEP_CHILD;
        case P_STATE:
            if (!c->state) break;
            jw_ckey(w, "state"); *child = c->state; return STEP_CHILD;
        case P_LIST:
            if (!c->nlist) break;
            jw_ckey(w, "listitems"); jw_begin(w, '[');
            push_frame(k, F_ITEMS, 0, 1, c->listitems, c->nlist);
            return STEP_PUSHED;
        case P_DICT:
            if (!c->ndict) break;
            jw_ckey(w, "dictitems"); jw_begin(w, '[');
            push_frame(k, F_PAIRS, 0, 1, c->dictitems, c->ndict);
            return STEP_PUSHED;
        default:
            f->part--;
            return STEP_DONE;
        }
    }
}

/* Advances the top frame: the next child to reach, a pushed sub-frame, or done. */
static enum step step(walk_t *k, frame_t *f, const mpk_value_t **child, int *plain)
{
    const mpk_value_t *key;
    switch (f->kind) {
    case F_CALL:
        return step_call(k, f, child, plain);
    case F_ITEMS:
        if (f->i >= f->n) return STEP_DONE;
        *child = f->items[f->i++];
        return STEP_CHILD;
    case F_DICT_OBJ:
        if (f->i + 1 >= f->n) return STEP_DONE;
        key = f->items[f->i];
        jw_key(&k->w, (const char *)key->u.s.p, key->u.s.n);
        *child = f->items[f->i + 1];
        f->i += 2;
        return STEP_CHILD;
    default: /* F_PAIRS: at a key, close the previous pair and open the next */
        if (!(f->i & 1)) {
            if (f->i) jw_end(&k->w);
            if (f->i + 1 >= f->n) return STEP_DONE;
            jw_begin(&k->w, '[');
        }
        *child = f->items[f->i++];
        return STEP_CHILD;
    }
}

/* One walk over the graph (dry or printing). Returns 0, or -1 with k->fail set. */
static int walk(walk_t *k, const mpk_value_t *root)
{
    k->depth = 0;
    k->nframes = 0;
    reach(k, root, 0);
    while (k->nframes && !k->fail && !k->w.nomem && !k->w.o->err) {
        frame_t *f = &k->frames[k->nframes - 1];
        const mpk_value_t *child = NULL;
        int plain = 0;
        enum step r = step(k, f, &child, &plain);
        if (r == STEP_CHILD) reach(k, child, plain);
        else if (r == STEP_DONE) {
            unsigned closes = f->closes;
            if (f->node) k->depth--;
            k->nframes--;
            while (closes--) jw_end(&k->w);
        }
    }
    if (k->w.nomem) walk_fail(k, NOMEM_MSG);
    if (k->w.o->err == OUT_TOO_LONG) walk_fail(k, "output longer than --max-output");
    else if (k->w.o->err) walk_fail(k, "write error");
    return k->fail ? -1 : 0;
}

/* ------------------------------------------------------------ command */

static void json_usage(FILE *f)
{
    fputs("usage: mpickle json [--indent N] [--no-fix-imports] [--encoding ascii|latin1|bytes]\n"
          "                    [--max-depth N] [--max-stack N] [--max-memo N] [--max-str N] [--max-alloc N]\n"
          "                    [--max-output N] [--max-array N] [FILE]\n"
          "Prints the pickle's data as one JSON document (nothing is imported or called).\n"
          "Tuples, sets, bytes, big ints, nan, globals, calls and shared references have\n"
          "a documented form: see docs/json.md. Compact unless --indent N is given.\n"
          "--max-output N bounds the document's bytes (default: 256 times the input, at\n"
          "least 64 MiB): a pickle can repeat a long string through 2-byte memo references.\n"
          "numpy arrays show their dtype, shape and values: --max-array N (default 1000000)\n"
          "prints at most N values of each, marked \"truncated\".\n", f);
}

/* Default --max-output: generous for real data (repeated keys and strings print
 * in full each time), yet in proportion to the input. */
#define OUTPUT_FLOOR ((uint64_t)64 << 20)
#define OUTPUT_PER_INPUT_BYTE 256u

/* Prints the graph; returns the exit status. */
static int print_json(const mpk_value_t *root, int indent, uint32_t max_depth, uint64_t max_output,
                      size_t max_array)
{
    static jout_t out;      /* 64 KiB: off the stack */
    walk_t k;
    int rc = 1;
    memset(&k, 0, sizeof k);
    out.f = stdout;
    out.len = 0;
    out.err = 0;
    out.total = 0;
    out.limit = max_output;
    k.w.o = &out;
    k.w.indent = indent;
    k.max_depth = max_depth;
    k.max_array = max_array;
    k.w.dry = 1;
    if (walk(&k, root) == 0) {
        k.w.dry = 0;
        if (walk(&k, root) == 0) {
            out_byte(&out, '\n');
            out_flush(&out);
            if (!out.err && fflush(stdout) == 0) rc = 0;
            else if (out.err == OUT_TOO_LONG) walk_fail(&k, "output longer than --max-output");
            else fprintf(stderr, "mpickle: json: write error\n");
        }
    }
    if (rc && k.fail) {
        if (k.too_deep) fprintf(stderr, "mpickle: json: %s (%" PRIu32 ")\n", k.fail, max_depth);
        else if (out.err == OUT_TOO_LONG)
            fprintf(stderr, "mpickle: json: %s (%" PRIu64 " bytes)\n", k.fail, max_output);
        else fprintf(stderr, "mpickle: json: %s\n", k.fail);
    }
    nmap_free(&k.map);
    free(k.frames);
    free(k.w.levels);
    free(k.keyset);
    free(k.work);
    free(k.digits);
    return rc;
}

int cli_json(int argc, char **argv)
{
    mpk_load_opts_t lo;
    const char *in = NULL;
    int i, rc = 1, indent = -1;
    uint64_t max_output = 0;
    size_t max_array = MAX_ARRAY_DEFAULT;
    uint8_t *data = NULL;
    size_t n;
    mpk_alloc_t alloc;
    mpk_arena_t arena;
    mpk_value_t *v;

    cli_load_opts(&lo);
    for (i = 0; i < argc; i++) {
        int r = cli_decode_option(argc, argv, &i, &lo);
        if (r < 0) return 2;
        if (r) continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { json_usage(stdout); return 0; }
        if (!strcmp(argv[i], "--indent")) {
            char *end;
            long m = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : -1;
            if (m < 0 || m > 64 || *end || !argv[i + 1][0]) {
                fprintf(stderr, "mpickle: --indent takes 0..64\n");
                return 2;
            }
            indent = (int)m;
            i++;
        } else if (!strcmp(argv[i], "--max-output")) {
            char *end;
            const char *a = i + 1 < argc ? argv[i + 1] : "";
            unsigned long long m = strtoull(a, &end, 10);
            if (!*a || *a == '-' || *end || m == 0) {
                fprintf(stderr, "mpickle: --max-output needs a positive number\n");
                return 2;
            }
            max_output = m;
            i++;
        } else if (!strcmp(argv[i], "--max-array")) {
            char *end;
            const char *a = i + 1 < argc ? argv[i + 1] : "";
            unsigned long long m = strtoull(a, &end, 10);
            if (!*a || *a == '-' || *end || m > SIZE_MAX) {
                fprintf(stderr, "mpickle: --max-array needs a number\n");
                return 2;
            }
            max_array = (size_t)m;
            i++;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "mpickle: json: unknown option '%s'\n", argv[i]);
            json_usage(stderr);
            return 2;
        } else if (!in) in = argv[i];
        else { json_usage(stderr); return 2; }
    }
    if (cli_read_file(in, &data, &n)) return 1;
    mpk_alloc_libc(&alloc);
    mpk_arena_init(&arena, &alloc, lo.dec.limits.max_alloc);
    if (!max_output) {
        max_output = (uint64_t)n * OUTPUT_PER_INPUT_BYTE;
        if (max_output < OUTPUT_FLOOR) max_output = OUTPUT_FLOOR;
    }
    if (cli_decode(data, n, &lo, &arena, &v, NULL) == 0)
        rc = print_json(v, indent, lo.dec.limits.max_depth, max_output, max_array);
    free(data);
    mpk_arena_free(&arena);
    return rc;
}
