/* Fuzz target: mpk_loads, the one-call decoder into the value model, as a
 * firmware user calls it (default microcontroller limits, a counting
 * allocator). The input's hash picks the decoder options, so that one corpus
 * covers fix_imports on/off and the three py2 str modes. Checks: no crash or
 * sanitizer report, an error always names a code and message, memory stays
 * under the limits and is all returned, every node of the result is readable. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mpk_alloc_t alloc;
    fuzz_count_t count;
    mpk_arena_t arena;
    mpk_load_opts_t lo;
    mpk_error_t err;
    mpk_value_t *v;
    size_t used = 0;
    uint64_t seed = fuzz_seed(data, size);

    fuzz_count_init(&count, &alloc);
    mpk_load_opts_default(&lo);
    lo.dec.fix_imports = (int)(seed & 1);
    lo.dec.py2str = (mpk_py2str_t)((seed >> 1) % 3);
    lo.nbuffers = (size_t)((seed >> 3) & 3);
    mpk_arena_init(&arena, &alloc, 0);
    v = mpk_loads(&arena, data, size, &lo, &used, &err);
    FUZZ_ASSERT((v != NULL) == (err.code == MPK_OK), "result %p with error %d", (void *)v, (int)err.code);
    FUZZ_ASSERT(used <= size, "used %zu of %zu", used, size);
    FUZZ_ASSERT(err.code < MPK_ERR__COUNT, "error code %d", (int)err.code);
    if (err.code) {
        char msg[160];
        FUZZ_ASSERT(err.msg != NULL, "no message");
        FUZZ_ASSERT(err.offset <= size, "error offset %llu beyond %zu", (unsigned long long)err.offset, size);
        mpk_error_format(&err, msg, sizeof msg);
    } else {
        fuzz_touch(v, 100000);
    }
    /* the VM and the graph may each take max_alloc (plus the arena's chunk rounding) */
    FUZZ_ASSERT(count.peak <= 2 * (size_t)MPK_DEFAULT_MAX_ALLOC + 8192, "peak %zu bytes", count.peak);
    mpk_arena_free(&arena);
    FUZZ_ASSERT(count.now == 0, "%zu bytes leaked", count.now);
    return 0;
}
