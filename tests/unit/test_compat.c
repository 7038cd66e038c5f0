/* Checks mpk_compat_load/mpk_compat_dump against CPython's fix_imports renames:
 * every case of tests/fixtures/compat_cases.txt (generated from CPython's
 * _compat_pickle by tools/gen_compat.py --fixture), plus hand-written cases.
 * Run from the repository root, or pass the fixture's path as argv[1]. */
#include <stdlib.h>

#include "check.h"
#include "compat.h"

#define FIXTURE_DEFAULT "tests/fixtures/compat_cases.txt"

typedef int (*compat_fn)(const char *, size_t, const char *, size_t,
                         const char **, size_t *, const char **, size_t *);

static int span_eq(const char *p, size_t n, const char *want)
{
    return n == strlen(want) && (n == 0 || memcmp(p, want, n) == 0);
}

/* Copies s into a heap block of exactly its length (no NUL), so that the sanitizer
 * catches any read past the counted input. */
static char *exact_copy(const char *s, size_t n)
{
    char *p = (char *)malloc(n ? n : 1);
    if (p != NULL && n)
        memcpy(p, s, n);
    return p;
}

/* Runs fn on (mod, name) and checks the result against (wmod, wname). A rename
 * must return 1; no rename must return 0 with the inputs passed through. Renamed
 * outputs come from static storage and must be NUL-terminated too. */
static void check_map(compat_fn fn, const char *what, const char *mod, const char *name,
                      const char *wmod, const char *wname)
{
    size_t modn = strlen(mod), namen = strlen(name);
    char *m = exact_copy(mod, modn), *n = exact_copy(name, namen);
    const char *om = NULL, *on = NULL;
    size_t omn = (size_t)-1, onn = (size_t)-1;
    int renamed = strcmp(mod, wmod) != 0 || strcmp(name, wname) != 0;
    int rc;

    if (m == NULL || n == NULL) {
        CHECK_MSG(0, "out of memory");
        free(m);
        free(n);
        return;
    }
    rc = fn(m, modn, n, namen, &om, &omn, &on, &onn);
    CHECK_MSG(rc == renamed && om != NULL && on != NULL && span_eq(om, omn, wmod) &&
                  span_eq(on, onn, wname),
              "%s %s.%s: want %s.%s (rc %d), got %.*s.%.*s (rc %d)", what, mod, name, wmod,
              wname, renamed, om ? (int)omn : 0, om ? om : "", on ? (int)onn : 0,
              on ? on : "", rc);
    if (rc == 0)
        CHECK_MSG(om == m && on == n, "%s %s.%s: unrenamed output must be the input", what,
                  mod, name);
    if (rc == 1 && om != m)
        CHECK_MSG(om[omn] == '\0', "%s %s.%s: static module not NUL-terminated", what, mod,
                  name);
    if (rc == 1 && on != n)
        CHECK_MSG(on[onn] == '\0', "%s %s.%s: static name not NUL-terminated", what, mod,
                  name);
    free(m);
    free(n);
}

/* Splits line into up to max whitespace-separated fields, in place. */
static int split_fields(char *line, char **field, int max)
{
    int count = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            *p++ = '\0';
        if (*p == '\0' || count == max)
            return *p == '\0' ? count : max + 1;
        field[count++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
    }
}

/* Returns the number of cases run, or -1 when the file cannot be read. */
static long run_fixture(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];
    long cases = 0, declared = -1, per_dir[2] = {0, 0};
    int lineno = 0;

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        char *field[5];
        int nf;
        lineno++;
        CHECK_MSG(strchr(line, '\n') != NULL || feof(f), "%s:%d: line too long", path, lineno);
        if (line[0] == '#') {
            if (strncmp(line, "# cases: ", 9) == 0)
                declared = strtol(line + 9, NULL, 10);
            continue;
        }
        nf = split_fields(line, field, 5);
        if (nf == 0)
            continue;
        if (nf != 5 || (strcmp(field[0], "load") != 0 && strcmp(field[0], "dump") != 0)) {
            CHECK_MSG(0, "%s:%d: malformed case", path, lineno);
            continue;
        }
        if (field[0][0] == 'l') {
            check_map(mpk_compat_load, "load", field[1], field[2], field[3], field[4]);
            per_dir[0]++;
        } else {
            check_map(mpk_compat_dump, "dump", field[1], field[2], field[3], field[4]);
            per_dir[1]++;
        }
        cases++;
    }
    fclose(f);
    CHECK_MSG(declared == cases, "%s: declares %ld cases, holds %ld", path, declared, cases);
    CHECK_MSG(per_dir[0] > 0 && per_dir[1] > 0, "%s: needs both load and dump cases", path);
    return cases;
}

static void test_hand_written(void)
{
    /* pair renames win over module renames */
    check_map(mpk_compat_load, "load", "__builtin__", "xrange", "builtins", "range");
    check_map(mpk_compat_load, "load", "__builtin__", "reduce", "functools", "reduce");
    check_map(mpk_compat_load, "load", "__builtin__", "set", "builtins", "set");
    check_map(mpk_compat_load, "load", "copy_reg", "_reconstructor", "copyreg", "_reconstructor");
    check_map(mpk_compat_load, "load", "exceptions", "StandardError", "builtins", "Exception");
    check_map(mpk_compat_load, "load", "UserDict", "UserDict", "collections", "UserDict");
    check_map(mpk_compat_load, "load", "UserDict", "IterableUserDict", "collections", "UserDict");
    check_map(mpk_compat_load, "load", "cPickle", "loads", "pickle", "loads");
    /* "exceptions" has renamed names but no module-wide rename */
    check_map(mpk_compat_load, "load", "exceptions", "NoSuchError", "exceptions", "NoSuchError");
    /* Python 3 names are left alone on load */
    check_map(mpk_compat_load, "load", "collections", "OrderedDict", "collections", "OrderedDict");
    check_map(mpk_compat_load, "load", "builtins", "xrange", "builtins", "xrange");
    check_map(mpk_compat_load, "load", "numpy.core.multiarray", "_reconstruct",
              "numpy.core.multiarray", "_reconstruct");

    check_map(mpk_compat_dump, "dump", "builtins", "set", "__builtin__", "set");
    check_map(mpk_compat_dump, "dump", "builtins", "range", "__builtin__", "xrange");
    check_map(mpk_compat_dump, "dump", "builtins", "str", "__builtin__", "unicode");
    check_map(mpk_compat_dump, "dump", "builtins", "Exception", "exceptions", "Exception");
    check_map(mpk_compat_dump, "dump", "builtins", "ConnectionError", "exceptions", "OSError");
    check_map(mpk_compat_dump, "dump", "builtins", "ModuleNotFoundError", "exceptions",
              "ImportError");
    check_map(mpk_compat_dump, "dump", "copyreg", "_reconstructor", "copy_reg", "_reconstructor");
    check_map(mpk_compat_dump, "dump", "collections", "UserDict", "UserDict", "IterableUserDict");
    check_map(mpk_compat_dump, "dump", "collections", "OrderedDict", "collections", "OrderedDict");
    check_map(mpk_compat_dump, "dump", "_pickle", "x", "pickle", "x");
    check_map(mpk_compat_dump, "dump", "__builtin__", "xrange", "__builtin__", "xrange");

    /* near misses: prefixes, extensions, case */
    check_map(mpk_compat_load, "load", "__builtin", "xrange", "__builtin", "xrange");
    check_map(mpk_compat_load, "load", "__builtin__x", "xrange", "__builtin__x", "xrange");
    check_map(mpk_compat_load, "load", "__builtin__", "xrang", "builtins", "xrang");
    check_map(mpk_compat_load, "load", "__BUILTIN__", "xrange", "__BUILTIN__", "xrange");
    check_map(mpk_compat_dump, "dump", "builtin", "set", "builtin", "set");
    check_map(mpk_compat_load, "load", "", "", "", "");
    check_map(mpk_compat_dump, "dump", "", "", "", "");
}

/* Inputs the text fixture cannot express: NULL with length 0, embedded NUL bytes,
 * bytes >= 0x80, and counted inputs that run on past their length. */
static void test_raw_inputs(void)
{
    const char *om, *on;
    size_t omn, onn;
    static const char padded[] = "__builtin__xrangeZZ";
    static const char nul_mod[] = "__builtin__\0";
    static const char high[] = "\xff\xfe";

    CHECK(mpk_compat_load(NULL, 0, NULL, 0, &om, &omn, &on, &onn) == 0);
    CHECK(om == NULL && omn == 0 && on == NULL && onn == 0);
    CHECK(mpk_compat_dump(NULL, 0, NULL, 0, &om, &omn, &on, &onn) == 0);

    /* counted slices of one longer buffer */
    CHECK(mpk_compat_load(padded, 11, padded + 11, 6, &om, &omn, &on, &onn) == 1);
    CHECK_BYTES(om, omn, "builtins", 8);
    CHECK_BYTES(on, onn, "range", 5);
    CHECK(mpk_compat_load(padded, 11, padded + 11, 7, &om, &omn, &on, &onn) == 1);
    CHECK(span_eq(om, omn, "builtins") && on == padded + 11 && onn == 7);

    CHECK(mpk_compat_load(nul_mod, 12, "xrange", 6, &om, &omn, &on, &onn) == 0);
    CHECK(om == nul_mod && omn == 12);
    CHECK(mpk_compat_load("__builtin__", 11, "xrange\0", 7, &om, &omn, &on, &onn) == 1);
    CHECK(span_eq(om, omn, "builtins") && onn == 7);
    CHECK(mpk_compat_load(high, 2, high, 2, &om, &omn, &on, &onn) == 0);
    CHECK(mpk_compat_dump(high, 2, "x", 1, &om, &omn, &on, &onn) == 0);
    CHECK(mpk_compat_dump("builtins", 8, high, 2, &om, &omn, &on, &onn) == 1);
    CHECK_BYTES(om, omn, "__builtin__", 11);
    CHECK(on == high && onn == 2);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : FIXTURE_DEFAULT;
    long cases = run_fixture(path);

    CHECK_MSG(cases > 0, "cannot read fixture %s (run from the repository root, or pass its "
                         "path; regenerate with tools/gen_compat.py --fixture)", path);
    if (cases > 0)
        printf("test_compat: %ld fixture cases from %s\n", cases, path);
    test_hand_written();
    test_raw_inputs();
    CHECK_DONE();
}
