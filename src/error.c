/* Error codes to text, and the one-line error format with offset and opcode. */
#include "internal.h"
#include "opcodes.h"

const char *mpk_err_str(mpk_err_t code)
{
#if MPK_WITH_MESSAGES
    static const char *const names[MPK_ERR__COUNT] = {
        "ok", "truncated", "bad opcode", "malformed", "stack", "mark", "memo", "stop",
        "protocol", "encoding", "limit", "out of memory", "io", "refused", "unsupported",
        "bad argument"
    };
    if ((unsigned)code < MPK_ERR__COUNT) return names[code];
    return "unknown error";
#else
    (void)code;
    return "";
#endif
}

const char *mpk_opcode_name(int opcode)
{
    if (opcode < 0 || opcode > 255) return NULL;
    return mpk_opinfo[opcode].name;
}

/* Appends to a bounded buffer; counts what would have been written. */
typedef struct { char *buf; size_t size, len; } outbuf_t;

static void out_str(outbuf_t *o, const char *s)
{
    for (; *s; s++, o->len++)
        if (o->len + 1 < o->size) o->buf[o->len] = *s;
}

static void out_u64(outbuf_t *o, uint64_t v)
{
    char tmp[24];
    int i = 23;
    tmp[i] = 0;
    do { tmp[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    out_str(o, tmp + i);
}

static void out_opcode_byte(outbuf_t *o, int op)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[8];
    if (op >= 0x20 && op < 0x7f && op != '\'' && op != '\\') {
        tmp[0] = '\''; tmp[1] = (char)op; tmp[2] = '\''; tmp[3] = 0;
    } else {
        tmp[0] = '\''; tmp[1] = '\\'; tmp[2] = 'x'; tmp[3] = hex[(op >> 4) & 15];
        tmp[4] = hex[op & 15]; tmp[5] = '\''; tmp[6] = 0;
    }
    out_str(o, tmp);
}

size_t mpk_error_format(const mpk_error_t *err, char *buf, size_t size)
{
    outbuf_t o = {buf, size, 0};
    out_str(&o, mpk_err_str(err->code));
    out_str(&o, " at offset ");
    out_u64(&o, err->offset);
    if (err->opcode >= 0) {
        const char *name = mpk_opcode_name(err->opcode);
        out_str(&o, ", opcode ");
        out_str(&o, name ? name : "?");
        out_str(&o, " ");
        out_opcode_byte(&o, err->opcode);
    }
    if (err->msg && *err->msg) {
        out_str(&o, ": ");
        out_str(&o, err->msg);
    }
    if (size) buf[o.len < size ? o.len : size - 1] = 0;
    return o.len;
}
