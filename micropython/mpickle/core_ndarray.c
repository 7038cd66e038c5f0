/* The portable core's src/ndarray.c (numpy arrays: writer and element helpers),
 * compiled as part of the MicroPython module only when ulab is in the firmware
 * (mp_ulab.c uses it). Its value-model reader (mpk_ndarray_view) is not used
 * here; the one value-model function it calls lives in src/value.c, which the
 * module does not build, so a local stand-in keeps every port's link closed. */
#include "mpickle_mp.h"

#if MICROPY_PY_MPICKLE_ULAB
#include "mpickle.h"
int mpk_ulab_value_int(const mpk_value_t *v, int64_t *out);
#define mpk_get_int mpk_ulab_value_int
#include "../../src/ndarray.c"
#undef mpk_get_int

int mpk_ulab_value_int(const mpk_value_t *v, int64_t *out)
{
    if (v->type != MPK_INT && v->type != MPK_BOOL) return 0;
    *out = v->u.i;
    return 1;
}
#endif
