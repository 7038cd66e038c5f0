/* The portable core's src/opcodes.c, compiled as part of the MicroPython module.
 * (A wrapper keeps object paths inside this folder for every port's build.) */
#if defined(__GNUC__) && !defined(__clang__)
/* gcc -Os sees a false "may be used uninitialized" in the core (MicroPython builds with -Werror) */
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "../../src/opcodes.c"
