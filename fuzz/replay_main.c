/* A main() for the fuzz targets without libFuzzer: runs the target on every file
 * named (directories: every file inside), so that any compiler with any
 * sanitizer can replay a corpus or the regressions. Exit status 0 when every
 * input ran; a finding aborts, as under libFuzzer. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "fuzz_common.h"

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long len;
    size_t got;
    if (!f) { fprintf(stderr, "replay: cannot open %s\n", path); return 1; }
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = (uint8_t *)malloc(len > 0 ? (size_t)len : 1);
    got = buf ? fread(buf, 1, (size_t)len, f) : 0;
    fclose(f);
    if (!buf || got != (size_t)len) { free(buf); fprintf(stderr, "replay: cannot read %s\n", path); return 1; }
    LLVMFuzzerTestOneInput(buf, got);
    free(buf);
    return 0;
}

static int run_path(const char *path, long *count)
{
    struct stat st;
    DIR *dir;
    struct dirent *e;
    int bad = 0;
    if (stat(path, &st) != 0) { fprintf(stderr, "replay: no such file %s\n", path); return 1; }
    if (!S_ISDIR(st.st_mode)) { ++*count; return run_file(path); }
    if (!(dir = opendir(path))) return 1;
    while ((e = readdir(dir)) != NULL) {
        char sub[4096];
        if (e->d_name[0] == '.') continue;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        bad |= run_path(sub, count);
    }
    closedir(dir);
    return bad;
}

int main(int argc, char **argv)
{
    long count = 0;
    int i, bad = 0;
    for (i = 1; i < argc; i++) bad |= run_path(argv[i], &count);
    fprintf(stderr, "replay: %ld inputs ran\n", count);
    return bad;
}
