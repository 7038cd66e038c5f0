/*
 * Build switches and defaults. Every option is `#ifndef X / #define X default`:
 * override with -D or by defining MPK_USER_CONFIG to a header of yours.
 */
#ifndef MPICKLE_CONFIG_H
#define MPICKLE_CONFIG_H

#ifdef MPK_USER_CONFIG
#include MPK_USER_CONFIG
#endif

/* Compile the decoder VM (mpk_decoder_*). */
#ifndef MPK_WITH_DECODER
#define MPK_WITH_DECODER 1
#endif

/* Compile the opcode writer (mpk_writer_*, mpk_write_*). */
#ifndef MPK_WITH_WRITER
#define MPK_WITH_WRITER 1
#endif

/* Protocol 0 and 1 text forms that need decimal conversion (INT, LONG, FLOAT
 * text, protocol 0 float output). Off: such opcodes fail with MPK_ERR_UNSUPPORTED. */
#ifndef MPK_WITH_TEXT_NUMBERS
#define MPK_WITH_TEXT_NUMBERS 1
#endif

/* Error messages: off to save flash (mpk_error_t.msg is then "").*/
#ifndef MPK_WITH_MESSAGES
#define MPK_WITH_MESSAGES 1
#endif

/* mpk_alloc_libc(): an allocator over libc realloc/free. */
#ifndef MPK_WITH_LIBC_ALLOC
#define MPK_WITH_LIBC_ALLOC 1
#endif

/* Default limits (mpk_limits_t), sized for a microcontroller. */
#ifndef MPK_DEFAULT_MAX_DEPTH
#define MPK_DEFAULT_MAX_DEPTH 128          /* open MARKs of the VM; encoder nesting */
#endif
#ifndef MPK_DEFAULT_MAX_STACK
#define MPK_DEFAULT_MAX_STACK 4096         /* VM stack slots (CPython pushes 1000 per batch) */
#endif
#ifndef MPK_DEFAULT_MAX_MEMO
#define MPK_DEFAULT_MAX_MEMO 4096          /* memo entries */
#endif
#ifndef MPK_DEFAULT_MAX_STR
#define MPK_DEFAULT_MAX_STR (64u * 1024u)  /* one string, bytes object or text line */
#endif
#ifndef MPK_DEFAULT_MAX_ALLOC
#define MPK_DEFAULT_MAX_ALLOC (256u * 1024u) /* all memory taken by one decode */
#endif

/* Largest decimal digit count of an int in protocol 0/1 text (CPython's own
 * int<->str limit is 4300 digits). */
#ifndef MPK_MAX_INT_DIGITS
#define MPK_MAX_INT_DIGITS 4300
#endif

#endif /* MPICKLE_CONFIG_H */
