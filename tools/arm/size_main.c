/*
 * The program tools/arm/size.py links to measure what the core costs on a
 * Cortex-M: it references every public function of the layers selected with
 * USE_DECODER, USE_WRITER, USE_LOADS, USE_DUMP (0/1), so that --gc-sections keeps
 * exactly those layers and what they call. Nothing here runs; the entry point
 * only has to keep the table alive.
 */
#include "mpickle.h"

#ifndef USE_DECODER
#define USE_DECODER 0
#endif
#ifndef USE_WRITER
#define USE_WRITER 0
#endif
#ifndef USE_LOADS
#define USE_LOADS 0
#endif
#ifndef USE_DUMP
#define USE_DUMP 0
#endif

typedef void (*any_fn)(void);
#define F(fn) (any_fn)(fn)

static const any_fn api[] = {
    0,
#if USE_DECODER || USE_WRITER || USE_LOADS || USE_DUMP
    F(mpk_err_str), F(mpk_error_format), F(mpk_pool_init),
#endif
#if USE_DECODER
    F(mpk_limits_default),
    F(mpk_decoder_opts_default), F(mpk_decoder_init), F(mpk_decoder_feed), F(mpk_decoder_finish),
    F(mpk_decoder_result), F(mpk_decoder_error), F(mpk_decoder_fail), F(mpk_decoder_reset),
    F(mpk_decoder_next), F(mpk_decoder_destroy), F(mpk_decoder_protocol),
#endif
#if USE_WRITER
    F(mpk_writer_init), F(mpk_writer_finish), F(mpk_writer_size), F(mpk_write_none),
    F(mpk_write_bool), F(mpk_write_int), F(mpk_write_bigint), F(mpk_write_float), F(mpk_write_str),
    F(mpk_write_bytes), F(mpk_write_bytearray), F(mpk_write_global), F(mpk_write_global_n),
    F(mpk_write_global_begin), F(mpk_write_global_end), F(mpk_writer_global_key),
    F(mpk_write_list_begin), F(mpk_write_list_end), F(mpk_write_tuple_begin), F(mpk_write_tuple_end),
    F(mpk_write_dict_begin), F(mpk_write_dict_end), F(mpk_write_set_begin), F(mpk_write_set_end),
    F(mpk_write_frozenset_begin), F(mpk_write_frozenset_end), F(mpk_write_set_end_recursive),
    F(mpk_write_call_begin), F(mpk_write_call), F(mpk_write_call_end), F(mpk_write_call_end_recursive),
    F(mpk_write_mark), F(mpk_write_inst), F(mpk_write_listitems_begin), F(mpk_write_listitems_end),
    F(mpk_write_dictitems_begin), F(mpk_write_dictitems_end), F(mpk_write_build),
    F(mpk_write_persid_begin), F(mpk_write_persid_end), F(mpk_write_persid_text), F(mpk_write_ext),
    F(mpk_write_next_buffer), F(mpk_writer_last_memo), F(mpk_write_memo_get), F(mpk_writer_share_next),
    F(mpk_write_tuple_end_recursive), F(mpk_write_raw),
#endif
#if USE_LOADS || USE_DUMP
    F(mpk_arena_init), F(mpk_arena_free), F(mpk_type), F(mpk_type_name), F(mpk_is_true),
    F(mpk_get_int), F(mpk_get_float), F(mpk_get_str), F(mpk_get_bytes), F(mpk_len), F(mpk_item),
    F(mpk_dict_key), F(mpk_dict_value), F(mpk_dict_get), F(mpk_global_module), F(mpk_global_name),
    F(mpk_call_info),
#endif
#if USE_LOADS
    F(mpk_load_opts_default), F(mpk_loads), F(mpk_value_ctx_init),
#endif
#if USE_DUMP
    F(mpk_new), F(mpk_new_int), F(mpk_new_float), F(mpk_new_bool), F(mpk_new_str), F(mpk_new_bytes),
    F(mpk_new_global), F(mpk_append), F(mpk_dict_set), F(mpk_dump),
#endif
};

#if USE_LOADS
/* streaming decode into values takes the host table by address */
const void *const size_value_host = &mpk_value_host;
#endif

int size_entry(void);
int size_entry(void)
{
    const any_fn *volatile p = api;
    int n = 0;
    size_t i;
    for (i = 0; i < sizeof api / sizeof api[0]; i++) n += p[i] != 0;
#if USE_LOADS
    n += *(const void *const volatile *)&size_value_host != 0;
#endif
    return n;
}
