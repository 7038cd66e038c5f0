/* The pickle opcodes: byte values, how each argument is laid out, and the
 * protocol that introduced it. Shared by the decoder, the writer and `dis`. */
#ifndef MPK_OPCODES_H
#define MPK_OPCODES_H

#include <stdint.h>

enum mpk_opcode {
    OP_MARK = '(', OP_STOP = '.', OP_POP = '0', OP_POP_MARK = '1', OP_DUP = '2',
    OP_FLOAT = 'F', OP_INT = 'I', OP_BININT = 'J', OP_BININT1 = 'K', OP_LONG = 'L',
    OP_BININT2 = 'M', OP_NONE = 'N', OP_PERSID = 'P', OP_BINPERSID = 'Q', OP_REDUCE = 'R',
    OP_STRING = 'S', OP_BINSTRING = 'T', OP_SHORT_BINSTRING = 'U', OP_UNICODE = 'V',
    OP_BINUNICODE = 'X', OP_APPEND = 'a', OP_BUILD = 'b', OP_GLOBAL = 'c', OP_DICT = 'd',
    OP_EMPTY_DICT = '}', OP_APPENDS = 'e', OP_GET = 'g', OP_BINGET = 'h', OP_INST = 'i',
    OP_LONG_BINGET = 'j', OP_LIST = 'l', OP_EMPTY_LIST = ']', OP_OBJ = 'o', OP_PUT = 'p',
    OP_BINPUT = 'q', OP_LONG_BINPUT = 'r', OP_SETITEM = 's', OP_TUPLE = 't',
    OP_EMPTY_TUPLE = ')', OP_SETITEMS = 'u', OP_BINFLOAT = 'G',
    OP_PROTO = 0x80, OP_NEWOBJ = 0x81, OP_EXT1 = 0x82, OP_EXT2 = 0x83, OP_EXT4 = 0x84,
    OP_TUPLE1 = 0x85, OP_TUPLE2 = 0x86, OP_TUPLE3 = 0x87, OP_NEWTRUE = 0x88,
    OP_NEWFALSE = 0x89, OP_LONG1 = 0x8a, OP_LONG4 = 0x8b,
    OP_BINBYTES = 'B', OP_SHORT_BINBYTES = 'C',
    OP_SHORT_BINUNICODE = 0x8c, OP_BINUNICODE8 = 0x8d, OP_BINBYTES8 = 0x8e,
    OP_EMPTY_SET = 0x8f, OP_ADDITEMS = 0x90, OP_FROZENSET = 0x91, OP_NEWOBJ_EX = 0x92,
    OP_STACK_GLOBAL = 0x93, OP_MEMOIZE = 0x94, OP_FRAME = 0x95,
    OP_BYTEARRAY8 = 0x96, OP_NEXT_BUFFER = 0x97, OP_READONLY_BUFFER = 0x98
};

/* How an opcode's argument is laid out after the opcode byte. */
enum mpk_arg {
    ARG_NONE = 0,
    ARG_U1, ARG_U2, ARG_I4, ARG_U4, ARG_U8,      /* fixed little-endian */
    ARG_F8,                                       /* big-endian IEEE double */
    ARG_LEN1, ARG_LEN4, ARG_LEN8,                 /* length (1, 4 or 8 bytes LE) then payload */
    ARG_LINE,                                     /* text up to '\n' */
    ARG_LINE2                                     /* two lines (GLOBAL, INST) */
};

typedef struct mpk_opinfo {
    const char *name;   /* NULL: not an opcode */
    uint8_t arg;        /* enum mpk_arg */
    uint8_t proto;      /* protocol that introduced it */
} mpk_opinfo_t;

/* Table indexed by opcode byte. */
extern const mpk_opinfo_t mpk_opinfo[256];

#endif
