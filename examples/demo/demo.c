/* The README's demo: C writes a sensor reading that python3 loads, then reads the
 * config that python3 wrote and prints it.
 *   demo write OUT.pkl      writes {'device': 'node-7', 'seq': 42, ...} (protocol 4)
 *   demo read IN.pkl        prints the config dict python3 pickled */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mpickle.h"

static int file_sink(void *ctx, const uint8_t *p, size_t n)
{
    return fwrite(p, 1, n, (FILE *)ctx) == n ? 0 : -1;
}

static int write_reading(const char *path)
{
    static uint8_t buf[512];            /* a reading fits: no frame overflow, no malloc */
    struct mpk_wframe frames[4];
    mpk_writer_t w;
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); return 1; }
    mpk_writer_init(&w, 4, 0, buf, sizeof buf, file_sink, f, frames, 4);
    mpk_write_dict_begin(&w, 5);
    mpk_write_str(&w, "device", 6);      mpk_write_str(&w, "node-7", 6);
    mpk_write_str(&w, "seq", 3);         mpk_write_int(&w, 42);
    mpk_write_str(&w, "temp_c", 6);      mpk_write_float(&w, 21.75);
    mpk_write_str(&w, "ok", 2);          mpk_write_bool(&w, 1);
    mpk_write_str(&w, "samples", 7);
    mpk_write_list_begin(&w, 3);
    mpk_write_int(&w, 1013); mpk_write_int(&w, 1012); mpk_write_int(&w, 1015);
    mpk_write_list_end(&w);
    mpk_write_dict_end(&w);
    if (mpk_writer_finish(&w) != MPK_OK) {
        char msg[160];
        mpk_error_format(&w.err, msg, sizeof msg);
        fprintf(stderr, "demo: %s\n", msg);
        fclose(f);
        return 1;
    }
    fclose(f);
    printf("C wrote %llu bytes to %s\n", (unsigned long long)mpk_writer_size(&w), path);
    return 0;
}

static int read_config(const char *path)
{
    static uint8_t data[4096], pool_mem[16384];
    mpk_pool_t pool;
    mpk_alloc_t alloc;
    mpk_arena_t arena;
    mpk_error_t err;
    mpk_value_t *cfg, *v;
    size_t n, i, len;
    int64_t iv;
    double fv;
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 1; }
    n = fread(data, 1, sizeof data, f);
    fclose(f);
    mpk_pool_init(&pool, pool_mem, sizeof pool_mem, &alloc);   /* fixed memory, no malloc */
    mpk_arena_init(&arena, &alloc, 0);
    cfg = mpk_loads(&arena, data, n, NULL, NULL, &err);
    if (!cfg) {
        char msg[160];
        mpk_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "demo: %s\n", msg);
        return 1;
    }
    printf("C read %s (%zu bytes, %zu of %zu pool bytes used):\n", path, n, pool.used, sizeof pool_mem);
    if (mpk_get_str(mpk_dict_get(cfg, "name"), &len)) printf("  name     = %.*s\n", (int)len, mpk_get_str(mpk_dict_get(cfg, "name"), NULL));
    if (mpk_get_int(mpk_dict_get(cfg, "interval"), &iv)) printf("  interval = %lld\n", (long long)iv);
    if (mpk_get_float(mpk_dict_get(cfg, "gain"), &fv)) printf("  gain     = %g\n", fv);
    printf("  enabled  = %s\n", mpk_is_true(mpk_dict_get(cfg, "enabled")) ? "true" : "false");
    v = mpk_dict_get(cfg, "channels");
    printf("  channels = %s of %zu:", mpk_type_name(mpk_type(v)), mpk_len(v));
    for (i = 0; i < mpk_len(v); i++)
        if (mpk_get_int(mpk_item(v, i), &iv)) printf(" %lld", (long long)iv);
    printf("\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "write")) return write_reading(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "read")) return read_config(argv[2]);
    fprintf(stderr, "usage: demo write OUT.pkl | demo read IN.pkl\n");
    return 2;
}
