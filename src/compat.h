/*
 * Python 2 <-> 3 global-name renames (CPython's fix_imports), for protocols < 3.
 *
 * CPython's unpickler, reading a pickle whose protocol is below 3 with
 * fix_imports=True (the default), renames each global before importing it: a
 * renamed (module, name) pair first (__builtin__.xrange -> builtins.range), else
 * a renamed module alone (copy_reg -> copyreg). Its pickler does the reverse when
 * writing GLOBAL with protocol < 3. The tables (src/compat_names.c) are generated
 * from CPython's _compat_pickle by tools/gen_compat.py.
 *
 * The caller decides when these apply: only for protocol < 3 and fix_imports, and
 * on dump only for a top-level name (CPython writes nested qualnames otherwise).
 */
#ifndef MPK_COMPAT_H
#define MPK_COMPAT_H

#include <stddef.h>

/* Maps a Python 2 global name to Python 3 for loading (protocol < 3, fix_imports).
 * Inputs are counted strings (need not be NUL-terminated; may be NULL when the
 * length is 0). Returns 1 and sets *omod, *oname (static strings or the inputs) if a
 * mapping applies, else 0. The outputs are always set: to the inputs when nothing
 * is renamed. A static output string is also NUL-terminated. */
int mpk_compat_load(const char *mod, size_t modn, const char *name, size_t namen,
                    const char **omod, size_t *omodn, const char **oname, size_t *onamen);

/* The reverse, for dumping with protocol < 3 and fix_imports. Same contract. */
int mpk_compat_dump(const char *mod, size_t modn, const char *name, size_t namen,
                    const char **omod, size_t *omodn, const char **oname, size_t *onamen);

#endif
