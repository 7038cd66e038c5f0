/*
 * IoT client in plain C: sends sensor readings to examples/iot/server.py.
 *
 *   iot_client HOST PORT pickle|json COUNT [--device NAME] [--protocol P]
 *              [--chunk-max N] [--seed S] [--drop-at K] [--compact]
 *
 * pickle: each reading is written by mpickle's opcode writer through a 64-byte
 * buffer straight to the socket (no malloc, no whole message in memory), one
 * pickle per reading. json: one compact JSON line per reading, formatted by
 * hand into a fixed buffer, floats in their shortest round-trip form, so that
 * the server gets the same doubles from both formats.
 *
 * Readings are seq 0..COUNT-1; the values come from a small LCG seeded by the
 * device name (or --seed), the same scheme as client_mp.py. --chunk-max N sends
 * in pieces of 1..N pseudo-random bytes; --drop-at K closes the connection in
 * the middle of reading K; --compact writes no memo and no frame (smaller,
 * still loaded by any pickle reader). Prints `sent N readings, B bytes` (B: bytes after
 * the format line, the cut reading's part included).
 */
#define _POSIX_C_SOURCE 200112L
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mpickle.h"
#include "readings.h"

/* Where bytes go: the socket, cut into pieces, and cut short on the drop. */
struct link {
    int fd;
    size_t chunk_max;           /* 0: whole buffers */
    uint32_t rng;               /* piece sizes */
    unsigned long long sent;    /* payload bytes */
    size_t budget;              /* bytes this reading may still send */
    int cut_line;               /* json: send half of this reading's line */
    int dropped;
};

static uint32_t next_rand(uint32_t *s)
{
    /* xorshift32: piece sizes need only be varied and repeatable */
    uint32_t x = *s ? *s : 0x9e3779b9u;
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    return *s = x;
}

static int send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* The writer's sink (and the JSON path's): returns nonzero once the drop cut the
 * reading, which makes the writer stop with MPK_ERR_IO. */
static int link_send(void *ctx, const uint8_t *p, size_t n)
{
    struct link *l = (struct link *)ctx;
    int cut = n > l->budget;
    if (cut) n = l->budget;
    l->budget -= n;
    while (n) {
        size_t piece = n;
        if (l->chunk_max) {
            size_t want = 1 + next_rand(&l->rng) % l->chunk_max;
            if (want < piece) piece = want;
        }
        if (send_all(l->fd, p, piece)) return -1;
        l->sent += piece;
        p += piece;
        n -= piece;
    }
    if (cut) l->dropped = 1;
    return cut ? -1 : 0;
}

/* Values from the shared scheme (readings.h); ts is the wall clock. */
static void make_reading(struct reading *r, uint32_t *state, long long seq)
{
    struct timespec now;
    reading_values(r, state);
    clock_gettime(CLOCK_REALTIME, &now);
    r->seq = seq;
    r->ts = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* One reading as a pickle: the writer flushes its 64 bytes whenever they fill. */
static int send_pickle(struct link *l, const struct reading *r, int protocol, int flags)
{
    static uint8_t buf[64];
    struct mpk_wframe frames[1];
    mpk_writer_t w;
    mpk_writer_init(&w, protocol, flags, buf, sizeof buf, link_send, l, frames, 1);
    reading_write(&w, r);
    if (mpk_writer_finish(&w) != MPK_OK && !l->dropped) {
        char msg[160];
        mpk_error_format(&w.err, msg, sizeof msg);
        fprintf(stderr, "iot_client: %s\n", msg);
        return -1;
    }
    return 0;
}

/* The shortest "%.*g" that reads back as the same double (what Python's repr
 * gives), with ".0" added so that JSON readers see a float, not an int. */
static void format_float(char *out, size_t size, double v)
{
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(out, size, "%.*g", prec, v);
        if (strtod(out, NULL) == v) break;
    }
    if (!strpbrk(out, ".eEn")) strncat(out, ".0", size - strlen(out) - 1);
}

/* Device names are checked to need no JSON escaping (see parse_args). */
static int send_json(struct link *l, const struct reading *r)
{
    char line[256], t[32], h[32], b[32];
    int n;
    format_float(t, sizeof t, r->temperature);
    format_float(h, sizeof h, r->humidity);
    format_float(b, sizeof b, r->battery);
    n = snprintf(line, sizeof line,
                 "{\"device\":\"%s\",\"seq\":%lld,\"ts\":%lld,\"temperature\":%s,\"humidity\":%s,\"battery\":%s}\n",
                 r->device, (long long)r->seq, (long long)r->ts, t, h, b);
    if (n < 0 || (size_t)n >= sizeof line) return -1;
    if (l->cut_line) l->budget = (size_t)n / 2;    /* the drop: half a line */
    if (link_send(l, (const uint8_t *)line, (size_t)n) && !l->dropped) return -1;
    return 0;
}

static int connect_to(const char *host, const char *port)
{
    struct addrinfo hints, *res, *ai;
    int fd = -1, one = 1;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0) return -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    /* small pieces should leave as small segments, to exercise the server */
    if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

struct options {
    const char *host, *port, *format, *device;
    long long count, drop_at;
    int protocol, flags;
    size_t chunk_max;
    uint32_t seed;
    int has_seed;
};

static int usage(void)
{
    fprintf(stderr, "usage: iot_client HOST PORT pickle|json COUNT [--device NAME] [--protocol P]\n"
                    "                  [--chunk-max N] [--seed S] [--drop-at K] [--compact]\n");
    return 2;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    int i;
    const char *c;
    if (argc < 5) return -1;
    o->host = argv[1]; o->port = argv[2]; o->format = argv[3];
    o->count = atoll(argv[4]);
    o->device = "c-1"; o->drop_at = -1; o->protocol = MPK_DEFAULT_PROTOCOL;
    o->chunk_max = 0; o->seed = 0; o->has_seed = 0; o->flags = 0;
    if (strcmp(o->format, "pickle") && strcmp(o->format, "json")) return -1;
    for (i = 5; i < argc; i += 2) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(opt, "--device")) o->device = val;
        else if (!strcmp(opt, "--protocol")) o->protocol = atoi(val);
        else if (!strcmp(opt, "--chunk-max")) o->chunk_max = (size_t)atol(val);
        else if (!strcmp(opt, "--seed")) { o->seed = (uint32_t)strtoul(val, NULL, 0); o->has_seed = 1; }
        else if (!strcmp(opt, "--drop-at")) o->drop_at = atoll(val);
        else if (!strcmp(opt, "--compact")) { o->flags = MPK_WRITE_COMPACT; i--; }  /* takes no value */
        else return -1;
    }
    if (i != argc || o->count < 0 || o->protocol < 0 || o->protocol > MPK_HIGHEST_PROTOCOL) return -1;
    if (strlen(o->device) == 0 || strlen(o->device) > MAX_DEVICE) return -1;
    for (c = o->device; *c; c++)    /* printable ASCII without quote or backslash */
        if (*c < 0x20 || *c > 0x7e || *c == '"' || *c == '\\') return -1;
    return 0;
}

int main(int argc, char **argv)
{
    struct options o;
    struct link l;
    struct reading r;
    uint32_t state;
    long long seq, done = 0;
    int is_pickle;
    if (parse_args(argc, argv, &o)) return usage();
    is_pickle = !strcmp(o.format, "pickle");
    memset(&l, 0, sizeof l);
    l.chunk_max = o.chunk_max;
    state = o.has_seed ? o.seed : reading_seed(o.device);
    l.rng = state ^ 0xa5a5a5a5u;
    l.fd = connect_to(o.host, o.port);
    if (l.fd < 0) { fprintf(stderr, "iot_client: cannot connect to %s:%s\n", o.host, o.port); return 1; }
    if (send_all(l.fd, (const uint8_t *)(is_pickle ? "pickle\n" : "json\n"), is_pickle ? 7 : 5)) goto io_error;
    strcpy(r.device, o.device);     /* its length was checked */
    for (seq = 0; seq < o.count; seq++) {
        make_reading(&r, &state, seq);
        /* the drop: a pickle of a reading is longer than 40 bytes in every protocol */
        l.budget = (size_t)-1;
        if (seq == o.drop_at) {
            if (is_pickle) l.budget = 8 + next_rand(&l.rng) % 32;
            else l.cut_line = 1;
        }
        if (is_pickle ? send_pickle(&l, &r, o.protocol, o.flags) : send_json(&l, &r)) goto io_error;
        if (l.dropped) break;
        if (seq == o.drop_at) {
            fprintf(stderr, "iot_client: reading %lld was shorter than the cut\n", seq);
            return 1;
        }
        done++;
    }
    close(l.fd);
    printf("sent %lld readings, %llu bytes\n", done, l.sent);
    return 0;
io_error:
    fprintf(stderr, "iot_client: send failed: %s\n", strerror(errno));
    close(l.fd);
    return 1;
}
