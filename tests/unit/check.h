/* A minimal test harness: CHECK(cond) counts and reports; each test program ends
 * with CHECK_DONE(), which prints "<file>: N passed, M failed" and sets the exit
 * status. Byte comparisons print both sides in hex. */
#ifndef MPK_CHECK_H
#define MPK_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond) do { if (cond) check_passed++; else { check_failed++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)

#define CHECK_MSG(cond, ...) do { if (cond) check_passed++; else { check_failed++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static void check_hex(const char *label, const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    size_t i;
    fprintf(stderr, "  %s (%zu):", label, n);
    for (i = 0; i < n && i < 256; i++) fprintf(stderr, " %02x", b[i]);
    fputc('\n', stderr);
}

#define CHECK_BYTES(got, gotn, want, wantn) do { \
    if ((size_t)(gotn) == (size_t)(wantn) && memcmp((got), (want), (wantn)) == 0) check_passed++; \
    else { check_failed++; fprintf(stderr, "%s:%d: bytes differ\n", __FILE__, __LINE__); \
        check_hex("got ", (got), (gotn)); check_hex("want", (want), (wantn)); } } while (0)

#define CHECK_DONE() do { printf("%s: %d passed, %d failed\n", __FILE__, check_passed, check_failed); \
    return check_failed ? 1 : 0; } while (0)

#endif
