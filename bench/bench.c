/*
 * mpickle benchmark: our engine against msgpack-c and cJSON on equivalent data.
 *
 *   bench [--rounds R] [--target-ms T] [--callgrind K] FILE.pkl...
 *   bench --sizes FILE
 *
 * Each FILE.pkl is a pickle CPython wrote (bench/payloads.py). It is decoded once
 * into the value model; that graph is the common source of every other form: our
 * re-encoding (checked byte-identical with CPython's), the msgpack bytes and the
 * cJSON tree and text. Then, for each payload, every operation runs in batches
 * long enough to time (T ms of the thread's CPU time), R rounds, the operations interleaved round by
 * round so that a load change on the machine hits them all alike; the median and
 * the minimum per call are printed as JSON on stdout.
 *
 * With --callgrind K (run under `valgrind --tool=callgrind`), each operation runs
 * once to warm up, then K times between CALLGRIND_ZERO_STATS and
 * CALLGRIND_DUMP_STATS_AT("payload/op"): one dump per operation, whose total
 * instruction count divided by K is a repeatable per-call figure.
 *
 * With --sizes FILE (the size study), FILE holds pickles one after another; for
 * each, the sizes of our default and compact re-encodings are printed, one line
 * "default compact" per pickle.
 *
 * Operations:
 *   decode  ours_loads      mpk_loads: pickle -> value graph (arena over a pool)
 *           ours_host       decoder VM with a minimal host (no objects built)
 *           msgpack_unpack  msgpack_unpack into a zone (strings referenced in place)
 *           cjson_parse     cJSON_ParseWithLength + cJSON_Delete (+ base64 for bytes)
 *   encode  ours_dump       mpk_dump: value graph -> pickle (CPython's bytes)
 *           ours_writer     the opcode writer driven by a plain walk of the graph
 *           msgpack_pack    msgpack_pack_* driven by the same walk, into an sbuffer
 *           cjson_print     cJSON_PrintPreallocated (tree made beforehand)
 *   ref     memcpy          memcpy of as many bytes as the pickle has
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>
#include <cjson/cJSON.h>

#include "mpickle.h"

#if BENCH_CALLGRIND
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(s) ((void)(s))
#endif

#define MAX_PAYLOADS 32
#define OUT_CAP (4u << 20)

typedef struct payload {
    char name[64];
    uint8_t *pkl; size_t pkl_n;     /* CPython's bytes */
    mpk_arena_t arena;              /* holds the graph */
    mpk_value_t *graph;
    msgpack_sbuffer mp;             /* the msgpack form */
    cJSON *tree;                    /* the JSON form, as a tree and as text */
    char *json; size_t json_n;
    size_t compact_n, writer_n;
    int identical;                  /* mpk_dump gave CPython's bytes */
    int bytes_root;                 /* the payload is one bytes object (JSON: base64) */
} payload_t;

/* Scratch shared by the operations (one runs at a time). */
static uint8_t pool_mem[64u << 20];
static uint8_t out_buf[OUT_CAP];
static size_t out_len;
static uint8_t wbuf[OUT_CAP];
static char json_buf[OUT_CAP];
static uint8_t b64_buf[OUT_CAP];
static msgpack_sbuffer pack_sb;
static msgpack_zone unpack_zone;
static mpk_load_opts_t load_opts;
static volatile size_t keep;        /* results go here so no work is optimised away */

static void die(const char *what, const char *payload)
{
    fprintf(stderr, "bench: %s (payload %s)\n", what, payload);
    exit(1);
}

/* ------------------------------------------------------------ base64 (JSON has no bytes) */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64_encode(const uint8_t *p, size_t n, char *out)
{
    size_t i, o = 0;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = B64[v >> 18]; out[o++] = B64[(v >> 12) & 63];
        out[o++] = B64[(v >> 6) & 63]; out[o++] = B64[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        out[o++] = B64[v >> 18]; out[o++] = B64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? B64[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = 0;
    return o;
}

static int b64_val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

static size_t b64_decode(const char *s, size_t n, uint8_t *out)
{
    size_t i, o = 0;
    for (i = 0; i + 3 < n; i += 4) {
        int a = b64_val(s[i]), b = b64_val(s[i + 1]), c = b64_val(s[i + 2]), d = b64_val(s[i + 3]);
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)(c < 0 ? 0 : c) << 6 | (uint32_t)(d < 0 ? 0 : d);
        out[o++] = (uint8_t)(v >> 16);
        if (c >= 0) out[o++] = (uint8_t)(v >> 8);
        if (d >= 0) out[o++] = (uint8_t)v;
    }
    return o;
}

/* ------------------------------------------------------------ our decode paths */

static size_t op_ours_loads(payload_t *p)
{
    mpk_pool_t pool;
    mpk_alloc_t al;
    mpk_arena_t ar;
    mpk_error_t err;
    mpk_value_t *v;
    mpk_pool_init(&pool, pool_mem, sizeof pool_mem, &al);
    mpk_arena_init(&ar, &al, 0);
    v = mpk_loads(&ar, p->pkl, p->pkl_n, &load_opts, NULL, &err);
    if (!v) die("mpk_loads failed", p->name);
    return mpk_len(v) + (size_t)ar.used;
}

/* The minimal host: objects are tags, numbers and lengths go into a checksum.
 * This is the VM's own cost, as firmware reading values one by one pays it. */
typedef struct minhost { uint64_t sum; } minhost_t;
#define MH(c) ((minhost_t *)(c))
#define TAG ((mpk_obj_t)(uintptr_t)8)

static mpk_err_t mh_none(void *c, mpk_obj_t *o) { (void)c; *o = TAG; return MPK_OK; }
static mpk_err_t mh_bool(void *c, int b, mpk_obj_t *o) { MH(c)->sum += (unsigned)b; *o = TAG; return MPK_OK; }
static mpk_err_t mh_int(void *c, int64_t i, mpk_obj_t *o) { MH(c)->sum += (uint64_t)i; *o = TAG; return MPK_OK; }
static mpk_err_t mh_float(void *c, double f, mpk_obj_t *o) { MH(c)->sum += (uint64_t)(int64_t)f; *o = TAG; return MPK_OK; }
static mpk_err_t mh_bigint(void *c, const uint8_t *le, size_t n, mpk_obj_t *o) { (void)le; MH(c)->sum += n; *o = TAG; return MPK_OK; }
static mpk_err_t mh_str(void *c, const char *s, size_t n, mpk_text_t t, int st, mpk_obj_t *o)
{
    (void)s; (void)t; (void)st;
    MH(c)->sum += n;
    *o = TAG;
    return MPK_OK;
}
static mpk_err_t mh_bytes(void *c, const uint8_t *p, size_t n, int st, mpk_obj_t *o)
{
    (void)p; (void)st;
    MH(c)->sum += n;
    *o = TAG;
    return MPK_OK;
}
static mpk_err_t mh_tuple(void *c, const mpk_obj_t *it, size_t n, mpk_obj_t *o) { (void)it; MH(c)->sum += n; *o = TAG; return MPK_OK; }
static mpk_err_t mh_empty(void *c, mpk_obj_t *o) { (void)c; *o = TAG; return MPK_OK; }
static mpk_err_t mh_extend(void *c, mpk_obj_t l, const mpk_obj_t *it, size_t n) { (void)l; (void)it; MH(c)->sum += n; return MPK_OK; }

static const mpk_host_t minimal_host = {
    mh_none, mh_bool, mh_int, mh_bigint, mh_float, mh_str, mh_bytes, NULL, mh_tuple,
    mh_empty, mh_empty, NULL, NULL, mh_extend, mh_extend, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL
};

static size_t op_ours_host(payload_t *p)
{
    mpk_pool_t pool;
    mpk_alloc_t al;
    mpk_decoder_t d;
    minhost_t mh = {0};
    mpk_pool_init(&pool, pool_mem, sizeof pool_mem, &al);
    mpk_decoder_init(&d, &minimal_host, &mh, &al, &load_opts.dec);
    if (mpk_decoder_feed(&d, p->pkl, p->pkl_n, 1, NULL) != MPK_DONE) die("decoder failed", p->name);
    mpk_decoder_destroy(&d);
    return (size_t)mh.sum;
}

/* ------------------------------------------------------------ our encode paths */

static int sink_mem(void *ctx, const uint8_t *data, size_t n)
{
    (void)ctx;
    if (out_len + n > OUT_CAP) return -1;
    memcpy(out_buf + out_len, data, n);
    out_len += n;
    return 0;
}

static size_t dump_graph(payload_t *p, int flags)
{
    mpk_pool_t pool;
    mpk_alloc_t al;
    mpk_dump_opts_t o;
    o.protocol = 4;
    o.flags = flags;
    o.max_depth = 0;
    mpk_pool_init(&pool, pool_mem, sizeof pool_mem, &al);
    out_len = 0;
    if (mpk_dump(p->graph, &o, &al, wbuf, MPK_FRAME_BUFFER, sink_mem, NULL, NULL) != MPK_OK)
        die("mpk_dump failed", p->name);
    return out_len;
}

static size_t op_ours_dump(payload_t *p) { return dump_graph(p, 0); }

/* What firmware does: write each value as it walks its own data (no identity
 * tracking, so a key object shared in Python is written again each time). */
static void walk_writer(mpk_writer_t *w, const mpk_value_t *v)
{
    size_t i, n;
    switch ((mpk_type_t)v->type) {
    case MPK_NONE: mpk_write_none(w); break;
    case MPK_BOOL: mpk_write_bool(w, (int)v->u.i); break;
    case MPK_INT: mpk_write_int(w, v->u.i); break;
    case MPK_FLOAT: mpk_write_float(w, v->u.f); break;
    case MPK_STR: mpk_write_str(w, (const char *)v->u.s.p, v->u.s.n); break;
    case MPK_BYTES: mpk_write_bytes(w, v->u.s.p, v->u.s.n); break;
    case MPK_LIST:
        n = v->u.seq.n;
        mpk_write_list_begin(w, n);
        for (i = 0; i < n; i++) walk_writer(w, v->u.seq.v[i]);
        mpk_write_list_end(w);
        break;
    case MPK_TUPLE:
        n = v->u.seq.n;
        mpk_write_tuple_begin(w, n);
        for (i = 0; i < n; i++) walk_writer(w, v->u.seq.v[i]);
        mpk_write_tuple_end(w);
        break;
    case MPK_DICT:
        n = v->u.seq.n;
        mpk_write_dict_begin(w, n / 2);
        for (i = 0; i < n; i++) walk_writer(w, v->u.seq.v[i]);
        mpk_write_dict_end(w);
        break;
    default:
        die("type not handled by the walk", mpk_type_name(mpk_type(v)));
    }
}

static size_t op_ours_writer(payload_t *p)
{
    mpk_writer_t w;
    struct mpk_wframe frames[64];
    mpk_writer_init(&w, 4, 0, wbuf, OUT_CAP, NULL, NULL, frames, 64);
    walk_writer(&w, p->graph);
    if (mpk_writer_finish(&w) != MPK_OK) die("writer failed", p->name);
    return (size_t)mpk_writer_size(&w);
}

/* ------------------------------------------------------------ msgpack-c */

static void walk_msgpack(msgpack_packer *pk, const mpk_value_t *v)
{
    size_t i, n;
    switch ((mpk_type_t)v->type) {
    case MPK_NONE: msgpack_pack_nil(pk); break;
    case MPK_BOOL: if (v->u.i) msgpack_pack_true(pk); else msgpack_pack_false(pk); break;
    case MPK_INT: msgpack_pack_int64(pk, v->u.i); break;
    case MPK_FLOAT: msgpack_pack_double(pk, v->u.f); break;
    case MPK_STR:
        msgpack_pack_str(pk, v->u.s.n);
        msgpack_pack_str_body(pk, v->u.s.p, v->u.s.n);
        break;
    case MPK_BYTES:
        msgpack_pack_bin(pk, v->u.s.n);
        msgpack_pack_bin_body(pk, v->u.s.p, v->u.s.n);
        break;
    case MPK_LIST: case MPK_TUPLE:
        n = v->u.seq.n;
        msgpack_pack_array(pk, n);
        for (i = 0; i < n; i++) walk_msgpack(pk, v->u.seq.v[i]);
        break;
    case MPK_DICT:
        n = v->u.seq.n;
        msgpack_pack_map(pk, n / 2);
        for (i = 0; i < n; i++) walk_msgpack(pk, v->u.seq.v[i]);
        break;
    default:
        die("type not handled by the walk", mpk_type_name(mpk_type(v)));
    }
}

static size_t op_msgpack_pack(payload_t *p)
{
    msgpack_packer pk;
    msgpack_sbuffer_clear(&pack_sb);
    msgpack_packer_init(&pk, &pack_sb, msgpack_sbuffer_write);
    walk_msgpack(&pk, p->graph);
    return pack_sb.size;
}

static size_t op_msgpack_unpack(payload_t *p)
{
    msgpack_object obj;
    size_t off = 0, r;
    if (msgpack_unpack(p->mp.data, p->mp.size, &off, &unpack_zone, &obj) != MSGPACK_UNPACK_SUCCESS)
        die("msgpack_unpack failed", p->name);
    r = obj.type + obj.via.array.size;
    msgpack_zone_clear(&unpack_zone);
    return r;
}

/* ------------------------------------------------------------ cJSON */

static cJSON *to_cjson(const mpk_value_t *v)
{
    static char tmp[OUT_CAP];
    size_t i, n;
    cJSON *c;
    switch ((mpk_type_t)v->type) {
    case MPK_NONE: return cJSON_CreateNull();
    case MPK_BOOL: return cJSON_CreateBool((int)v->u.i);
    case MPK_INT:
        /* cJSON numbers are doubles: beyond 2^53 the exact digits go in as raw text */
        if (v->u.i > -(1LL << 53) && v->u.i < (1LL << 53)) return cJSON_CreateNumber((double)v->u.i);
        snprintf(tmp, sizeof tmp, "%lld", (long long)v->u.i);
        return cJSON_CreateRaw(tmp);
    case MPK_FLOAT: return cJSON_CreateNumber(v->u.f);
    case MPK_STR:
        memcpy(tmp, v->u.s.p, v->u.s.n);
        tmp[v->u.s.n] = 0;
        return cJSON_CreateString(tmp);
    case MPK_BYTES:
        b64_encode(v->u.s.p, v->u.s.n, tmp);
        return cJSON_CreateString(tmp);
    case MPK_LIST: case MPK_TUPLE:
        c = cJSON_CreateArray();
        for (i = 0, n = v->u.seq.n; i < n; i++) cJSON_AddItemToArray(c, to_cjson(v->u.seq.v[i]));
        return c;
    case MPK_DICT:
        c = cJSON_CreateObject();
        for (i = 0, n = v->u.seq.n; i < n; i += 2) {
            const mpk_value_t *k = v->u.seq.v[i];
            cJSON *item = to_cjson(v->u.seq.v[i + 1]);
            memcpy(tmp, k->u.s.p, k->u.s.n);
            tmp[k->u.s.n] = 0;
            cJSON_AddItemToObject(c, tmp, item);
        }
        return c;
    default:
        die("type not handled by the JSON form", mpk_type_name(mpk_type(v)));
        return NULL;
    }
}

static size_t op_cjson_print(payload_t *p)
{
    if (!cJSON_PrintPreallocated(p->tree, json_buf, (int)sizeof json_buf, 0)) die("cJSON print failed", p->name);
    return (size_t)(unsigned char)json_buf[0];
}

static size_t op_cjson_parse(payload_t *p)
{
    cJSON *t = cJSON_ParseWithLength(p->json, p->json_n);
    size_t r;
    if (!t) die("cJSON parse failed", p->name);
    r = (size_t)t->type;
    if (p->bytes_root) r += b64_decode(t->valuestring, strlen(t->valuestring), b64_buf);
    cJSON_Delete(t);
    return r;
}

static size_t op_memcpy(payload_t *p)
{
    memcpy(out_buf, p->pkl, p->pkl_n);
    return out_buf[p->pkl_n / 2];
}

/* ------------------------------------------------------------ the operations */

typedef struct op {
    const char *name;
    size_t (*fn)(payload_t *);
} op_t;

static const op_t OPS[] = {
    {"ours_loads", op_ours_loads},
    {"ours_host", op_ours_host},
    {"msgpack_unpack", op_msgpack_unpack},
    {"cjson_parse", op_cjson_parse},
    {"ours_dump", op_ours_dump},
    {"ours_writer", op_ours_writer},
    {"msgpack_pack", op_msgpack_pack},
    {"cjson_print", op_cjson_print},
    {"memcpy", op_memcpy},
};
#define NOPS (sizeof OPS / sizeof OPS[0])

/* ------------------------------------------------------------ set-up */

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long len;
    if (!f) die("cannot open", path);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = (uint8_t *)malloc((size_t)len + 1);
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) die("cannot read", path);
    fclose(f);
    *n = (size_t)len;
    return buf;
}

static void payload_name(const char *path, char *name, size_t cap)
{
    const char *b = strrchr(path, '/');
    size_t n;
    b = b ? b + 1 : path;
    n = strcspn(b, ".");
    if (n >= cap) n = cap - 1;
    memcpy(name, b, n);
    name[n] = 0;
}

static void setup(payload_t *p, const char *path)
{
    mpk_alloc_t al;
    mpk_error_t err;
    size_t n;
    memset(p, 0, sizeof *p);
    payload_name(path, p->name, sizeof p->name);
    p->pkl = read_file(path, &p->pkl_n);
    mpk_alloc_libc(&al);
    mpk_arena_init(&p->arena, &al, 0);
    p->graph = mpk_loads(&p->arena, p->pkl, p->pkl_n, &load_opts, NULL, &err);
    if (!p->graph) die("cannot decode the payload", p->name);
    p->bytes_root = mpk_type(p->graph) == MPK_BYTES;
    /* our default output must be CPython's own bytes */
    n = dump_graph(p, 0);
    p->identical = n == p->pkl_n && !memcmp(out_buf, p->pkl, n);
    p->compact_n = dump_graph(p, MPK_WRITE_COMPACT);
    p->writer_n = op_ours_writer(p);
    msgpack_sbuffer_init(&p->mp);
    {
        msgpack_packer pk;
        msgpack_packer_init(&pk, &p->mp, msgpack_sbuffer_write);
        walk_msgpack(&pk, p->graph);
    }
    p->tree = to_cjson(p->graph);
    if (!cJSON_PrintPreallocated(p->tree, json_buf, (int)sizeof json_buf, 0)) die("cJSON print failed", p->name);
    p->json_n = strlen(json_buf);
    p->json = (char *)malloc(p->json_n + 1);
    memcpy(p->json, json_buf, p->json_n + 1);
}

static void init_globals(void)
{
    mpk_load_opts_default(&load_opts);
    /* limits out of the way (they cost nothing), as in the CLI */
    load_opts.dec.limits.max_depth = 10000;
    load_opts.dec.limits.max_stack = 1u << 24;
    load_opts.dec.limits.max_memo = 1u << 24;
    load_opts.dec.limits.max_str = (uint64_t)1 << 32;
    load_opts.dec.limits.max_alloc = (uint64_t)1 << 32;
    msgpack_sbuffer_init(&pack_sb);
    msgpack_zone_init(&unpack_zone, 2048);
}

/* ------------------------------------------------------------ timing */

/* CPU time of this thread: the machine may be shared, and wall time would count
 * the time the benchmark was not running at all. */
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double time_batch(const op_t *op, payload_t *p, long iters)
{
    double t0 = now_ns();
    long i;
    size_t acc = 0;
    for (i = 0; i < iters; i++) acc += op->fn(p);
    keep += acc;
    return (now_ns() - t0) / (double)iters;
}

/* Iterations per batch so that a batch lasts about target_ns. */
static long calibrate(const op_t *op, payload_t *p, double target_ns)
{
    long iters = 1;
    for (;;) {
        double per = time_batch(op, p, iters);
        if (per * (double)iters >= target_ns / 4 || iters > (1L << 26)) {
            long want = (long)(target_ns / (per > 1 ? per : 1));
            return want < 1 ? 1 : want;
        }
        iters *= 2;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void measure(payload_t *p, int rounds, double target_ns, int first)
{
    static double t[NOPS][1024];
    long iters[NOPS];
    size_t k;
    int r;
    for (k = 0; k < NOPS; k++) iters[k] = calibrate(&OPS[k], p, target_ns);
    for (r = 0; r < rounds; r++)
        for (k = 0; k < NOPS; k++) t[k][r] = time_batch(&OPS[k], p, iters[k]);
    printf("%s    {\"name\": \"%s\", \"identical\": %s,\n", first ? "" : ",\n", p->name, p->identical ? "true" : "false");
    printf("     \"sizes\": {\"pickle\": %zu, \"compact\": %zu, \"writer\": %zu, \"msgpack\": %zu, \"json\": %zu},\n",
           p->pkl_n, p->compact_n, p->writer_n, p->mp.size, p->json_n);
    printf("     \"ns\": {");
    for (k = 0; k < NOPS; k++) {
        qsort(t[k], (size_t)rounds, sizeof t[k][0], cmp_double);
        printf("%s\"%s\": {\"median\": %.1f, \"min\": %.1f, \"iters\": %ld}", k ? ", " : "",
               OPS[k].name, t[k][rounds / 2], t[k][0], iters[k]);
    }
    printf("}}");
}

static void callgrind(payload_t *p, int k_iters)
{
    size_t k;
    char label[128];
    for (k = 0; k < NOPS; k++) {
        int i;
        keep += OPS[k].fn(p);
        snprintf(label, sizeof label, "%.60s/%.60s", p->name, OPS[k].name);
        CALLGRIND_ZERO_STATS;
        for (i = 0; i < k_iters; i++) keep += OPS[k].fn(p);
        CALLGRIND_DUMP_STATS_AT(label);
    }
}

/* Re-encodes each pickle of a concatenated stream: default and compact sizes. */
static int sizes(const char *path)
{
    size_t n, pos = 0, used;
    uint8_t *data = read_file(path, &n);
    payload_t p;
    while (pos < n) {
        mpk_alloc_t al;
        mpk_error_t err;
        memset(&p, 0, sizeof p);
        snprintf(p.name, sizeof p.name, "offset %zu", pos);
        mpk_alloc_libc(&al);
        mpk_arena_init(&p.arena, &al, 0);
        p.graph = mpk_loads(&p.arena, data + pos, n - pos, &load_opts, &used, &err);
        if (!p.graph) die("cannot decode", p.name);
        printf("%zu %zu\n", dump_graph(&p, 0), dump_graph(&p, MPK_WRITE_COMPACT));
        mpk_arena_free(&p.arena);
        pos += used;
    }
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    static payload_t payloads[MAX_PAYLOADS];
    int i, np = 0, rounds = 21, cg = 0;
    double target_ms = 3;
    init_globals();
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--target-ms") && i + 1 < argc) target_ms = atof(argv[++i]);
        else if (!strcmp(argv[i], "--callgrind") && i + 1 < argc) cg = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--sizes") && i + 1 < argc) return sizes(argv[i + 1]);
        else if (argv[i][0] == '-') { fprintf(stderr, "usage: bench [--rounds R] [--target-ms T] [--callgrind K] FILE.pkl...\n"); return 2; }
        else if (np < MAX_PAYLOADS) setup(&payloads[np++], argv[i]);
    }
    if (rounds < 1 || rounds > 1024) rounds = 21;
    if (cg > 0) {
        for (i = 0; i < np; i++) callgrind(&payloads[i], cg);
        return 0;
    }
    printf("{\"rounds\": %d, \"target_ms\": %.1f, \"payloads\": [\n", rounds, target_ms);
    for (i = 0; i < np; i++) {
        measure(&payloads[i], rounds, target_ms * 1e6, i == 0);
        fflush(stdout);
    }
    printf("\n]}\n");
    for (i = 0; i < np; i++)
        if (!payloads[i].identical) { fprintf(stderr, "bench: %s: mpk_dump differs from CPython\n", payloads[i].name); return 1; }
    return 0;
}
