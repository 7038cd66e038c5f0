/*
 * aload: one pickle from an asyncio stream, as a native coroutine.
 *
 *   obj = await mpickle.aload(reader, **load keywords)
 *   obj = await mpickle.Unpickler(reader, **load keywords).aload()
 *
 * The object returned by aload() is what `await` drives: it has the generator
 * protocol (iternext, send, throw, close), as MicroPython's mp_resume and the
 * asyncio scheduler expect. Each step awaits `reader.read(n)` the way `yield
 * from` would (what that read yields goes up to the scheduler unchanged), feeds
 * the bytes to the decoder, and ends with StopIteration(obj) at STOP.
 *
 * Exactly the bytes of one pickle are read, never one past STOP: n is at most
 * the number of bytes that surely belong to the pickle, known from the opcode
 * table (an opcode's fixed argument plus the next opcode byte, which any opcode
 * but STOP has after it; a length-prefixed payload plus that byte; a frame's
 * content; protocol 0 text a byte at a time).
 *
 * Cancellation: bytes are fed to the decoder as soon as a read returns them, so
 * when an exception comes out of a read (CancelledError, a wait_for timeout, an
 * OSError) the decoder holds exactly the bytes consumed from the stream.
 * mpickle.aload() then drops them with itself; an Unpickler keeps them, and its
 * next aload() goes on with the same pickle from the next byte: nothing is lost.
 * A failed pickle (bad data, refused global, EOF) resets the Unpickler as load()
 * does.
 *
 * GC: while a coroutine waits, everything it needs (the decoder and its arrays,
 * the objects built so far, the stream, the read in flight) is reachable from
 * the coroutine object itself, which the task holding it keeps alive.
 */
#include <string.h>

#include "py/runtime.h"
#include "py/objexcept.h"
#include "mpickle_mp.h"
#include "../../src/opcodes.h"

#if MPK_WITH_DECODER

/* Largest read asked of the stream at once (each read is a new bytes object). */
#ifndef MPICKLE_MP_AREAD_MAX
#define MPICKLE_MP_AREAD_MAX 1024
#endif

/* ------------------------------------------------------------ where the reader stands */

/* The framer follows the opcode structure just enough to know how many bytes
 * surely come before STOP; the decoder does the real work on the same bytes. */
enum { F_OPCODE, F_ARG, F_PAYLOAD, F_LINE };

typedef struct framer {
    uint64_t left;      /* F_PAYLOAD: payload (or frame) bytes still to come */
    uint8_t mode;
    uint8_t op;         /* the opcode whose argument or payload is being read */
    uint8_t k, have;    /* F_ARG: argument size, bytes of it read */
    uint8_t lines;      /* F_LINE: newlines still to come */
    uint8_t arg[8];
    bool started;       /* a byte of this pickle was read */
} framer_t;

static size_t arg_size(uint8_t arg)
{
    switch (arg) {
    case ARG_U1: case ARG_LEN1: return 1;
    case ARG_U2: return 2;
    case ARG_I4: case ARG_U4: case ARG_LEN4: return 4;
    case ARG_U8: case ARG_F8: case ARG_LEN8: return 8;
    default: return 0;
    }
}

/* Is op's argument the length of what follows it (a payload or a frame)? */
static bool has_payload(uint8_t op)
{
    uint8_t a = mpk_opinfo[op].arg;
    return op == OP_FRAME || (mpk_opinfo[op].name && (a == ARG_LEN1 || a == ARG_LEN4 || a == ARG_LEN8));
}

static void framer_opcode(framer_t *f, uint8_t op)
{
    const mpk_opinfo_t *oi = &mpk_opinfo[op];
    f->op = op;
    f->k = (uint8_t)arg_size(oi->arg);
    f->have = 0;
    if (f->k) {
        f->mode = F_ARG;
    } else if (oi->name && (oi->arg == ARG_LINE || oi->arg == ARG_LINE2)) {
        f->mode = F_LINE;
        f->lines = oi->arg == ARG_LINE2 ? 2 : 1;
    }
    /* else the next byte is an opcode again (an unknown one fails in the decoder) */
}

static void framer_arg_done(framer_t *f)
{
    f->mode = F_OPCODE;
    if (has_payload(f->op)) {
        uint64_t len = 0;
        size_t i;
        for (i = f->k; i-- > 0;) len = (len << 8) | f->arg[i];
        if (len) {
            f->left = len;
            f->mode = F_PAYLOAD;
        }
    }
}

/* Moves the framer over n bytes read from the stream. */
static void framer_advance(framer_t *f, const uint8_t *p, size_t n)
{
    while (n) {
        if (f->mode == F_PAYLOAD) {
            size_t take = f->left < n ? (size_t)f->left : n;
            f->left -= take;
            p += take;
            n -= take;
            if (!f->left) f->mode = F_OPCODE;
            continue;
        }
        switch (f->mode) {
        case F_OPCODE:
            framer_opcode(f, *p);
            break;
        case F_ARG:
            f->arg[f->have++] = *p;
            if (f->have == f->k) framer_arg_done(f);
            break;
        default:    /* F_LINE */
            if (*p == '\n' && --f->lines == 0) f->mode = F_OPCODE;
            break;
        }
        p++;
        n--;
    }
}

/* Bytes that surely belong to the pickle from here (at least 1). An opcode
 * other than STOP is followed by another opcode, so its argument and the next
 * opcode byte come in one read; a frame may end with STOP, so not after it. */
static uint64_t framer_sure(const framer_t *f)
{
    switch (f->mode) {
    case F_ARG: return (uint64_t)(f->k - f->have) + (has_payload(f->op) ? 0 : 1);
    case F_PAYLOAD: return f->left + (f->op == OP_FRAME ? 0 : 1);
    default: return 1;      /* the next opcode; a text line a byte at a time */
    }
}

/* ------------------------------------------------------------ the coroutine object */

enum { ST_NEW, ST_READING, ST_INTERRUPTED, ST_DONE };

typedef struct aload {
    mp_obj_base_t base;
    mp_obj_t read;          /* the stream's bound read() */
    mp_obj_t inner;         /* the awaitable of the read in flight, or MP_OBJ_NULL */
    mp_obj_t owner;         /* the Unpickler, or MP_OBJ_NULL for mpickle.aload() */
    mpk_mp_loader_t *ld;    /* the Unpickler's loader, or own[0] */
    size_t asked;           /* n of the read in flight */
    framer_t fr;
    uint8_t state;
    bool running;           /* a step runs (a nested send would corrupt it) */
    bool claimed;           /* this coroutine owns the loader's pickle */
    bool decoding;          /* in the decoder: an exception now fails the pickle */
    mpk_mp_loader_t own[];  /* mpickle.aload()'s own decoder */
} aload_t;

static MP_NORETURN void ran_out(void)
{
    mp_raise_msg(&mp_type_EOFError, MP_ERROR_TEXT("Ran out of input"));
}

/* Gives the Unpickler's pickle back: the next aload() or load() starts anew. */
static void release(aload_t *a)
{
    if (a->owner != MP_OBJ_NULL && a->claimed && a->ld->aload == MP_OBJ_FROM_PTR(a)) {
        a->ld->aload = MP_OBJ_NULL;
        a->ld->busy = false;
    }
    a->claimed = false;
}

/* First step: takes the decoder. An Unpickler's aload() goes on with a pickle
 * an interrupted aload() left; load() and a live aload() on it are refused. */
static void claim(aload_t *a)
{
    mpk_mp_loader_t *ld = a->ld;
    if (a->owner != MP_OBJ_NULL) {
        aload_t *prev = ld->aload != MP_OBJ_NULL ? (aload_t *)MP_OBJ_TO_PTR(ld->aload) : NULL;
        if (prev && prev->state == ST_INTERRUPTED) {
            a->fr = prev->fr;
            ld->aload = MP_OBJ_FROM_PTR(a);
            a->claimed = true;
            return;
        }
        if (prev || ld->busy) {
            mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("Unpickler.aload() called while a load of it runs"));
        }
        /* the memo of the pickles before, as load() keeps it */
        mpk_mp_loader_begin(ld, NULL);
        ld->busy = true;
        ld->aload = MP_OBJ_FROM_PTR(a);
    }
    a->claimed = true;
}

/* Starts reader.read(n): its awaitable goes into a->inner; a stream whose
 * read() returns bytes at once (a plain stream) gives them back directly. */
static mp_obj_t start_read(aload_t *a)
{
    uint64_t sure = framer_sure(&a->fr);
    mp_obj_t r;
    mp_buffer_info_t bi;
    a->asked = sure < MPICKLE_MP_AREAD_MAX ? (size_t)sure : MPICKLE_MP_AREAD_MAX;
    r = mp_call_function_1(a->read, MP_OBJ_NEW_SMALL_INT(a->asked));
    if (mp_get_buffer(r, &bi, MP_BUFFER_READ)) return r;
    a->inner = mp_getiter(r, NULL);
    return MP_OBJ_NULL;
}

/* Resumes the read in flight, as the VM's yield-from does; a StopIteration
 * raised by a Python-level send() or __next__ is its return value. */
static mp_vm_return_kind_t resume_inner(aload_t *a, mp_obj_t send, mp_obj_t thrown, mp_obj_t *ret)
{
    nlr_buf_t nlr;
    mp_vm_return_kind_t k;
    if (nlr_push(&nlr) == 0) {
        k = thrown != MP_OBJ_NULL ? mp_resume(a->inner, MP_OBJ_NULL, thrown, ret)
                                  : mp_resume(a->inner, send, MP_OBJ_NULL, ret);
        nlr_pop();
        return k;
    }
    if (mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(MP_OBJ_FROM_PTR(nlr.ret_val))),
        MP_OBJ_FROM_PTR(&mp_type_StopIteration))) {
        *ret = mp_obj_exception_get_value(MP_OBJ_FROM_PTR(nlr.ret_val));
        return MP_VM_RETURN_NORMAL;
    }
    *ret = MP_OBJ_FROM_PTR(nlr.ret_val);
    return MP_VM_RETURN_EXCEPTION;
}

/* Feeds what a read returned. True with *ret set when the pickle is complete;
 * the end of the stream raises what load() raises. */
static bool take(aload_t *a, mp_obj_t data, mp_obj_t *ret)
{
    mp_buffer_info_t bi;
    mpk_status_t st;
    bool keep = a->owner != MP_OBJ_NULL;
    mp_get_buffer_raise(data, &bi, MP_BUFFER_READ);
    a->decoding = true;
    if (bi.len > a->asked) mp_raise_ValueError(MP_ERROR_TEXT("read() returned more bytes than asked for"));
    if (bi.len == 0) {
        /* the end of the stream: load()'s EOFError (truncated) */
        if (!a->fr.started) ran_out();
        st = MPK_NEED_MORE;
    } else {
        if (!mp_obj_is_exact_type(data, &mp_type_bytes)) {
            /* a mutable buffer could change while classes run: decode a copy */
            data = mp_obj_new_bytes(bi.buf, bi.len);
            mp_get_buffer_raise(data, &bi, MP_BUFFER_READ);
        }
        a->fr.started = true;
        framer_advance(&a->fr, bi.buf, bi.len);
        st = mpk_decoder_feed(&a->ld->dec, bi.buf, bi.len, 0, NULL);
        if (st == MPK_NEED_MORE) {
            a->decoding = false;
            return false;
        }
    }
    *ret = mpk_mp_loader_end(a->ld, st, keep);     /* raises unless DONE */
    a->decoding = false;
    release(a);
    a->state = ST_DONE;
    return true;
}

/* One resumption: runs until a read must wait (YIELD, *ret: what it yields)
 * or the pickle is complete (NORMAL, *ret: the object). Raises otherwise. */
static mp_vm_return_kind_t step(aload_t *a, mp_obj_t send, mp_obj_t thrown, mp_obj_t *ret)
{
    if (a->state == ST_NEW) {
        if (thrown != MP_OBJ_NULL) nlr_raise(mp_make_raise_obj(thrown));
        if (send != mp_const_none) mp_raise_TypeError(MP_ERROR_TEXT("can't send non-None value to a just-started generator"));
        claim(a);
        a->state = ST_READING;
    }
    for (;;) {
        mp_obj_t data;
        if (a->inner == MP_OBJ_NULL) {
            if (thrown != MP_OBJ_NULL) nlr_raise(mp_make_raise_obj(thrown));
            data = start_read(a);
            send = mp_const_none;
            if (data == MP_OBJ_NULL) continue;
        } else {
            mp_vm_return_kind_t k = resume_inner(a, send, thrown, &data);
            send = mp_const_none;
            thrown = MP_OBJ_NULL;
            if (k == MP_VM_RETURN_YIELD) {
                *ret = data;
                return MP_VM_RETURN_YIELD;
            }
            a->inner = MP_OBJ_NULL;
            if (k == MP_VM_RETURN_EXCEPTION) nlr_raise(data);
        }
        if (take(a, data, ret)) return MP_VM_RETURN_NORMAL;
    }
}

/* step() with the bookkeeping of its exceptions: one from the decoder (or the
 * first step) ends the pickle; one from a read interrupts it, and an
 * Unpickler keeps what was read for its next aload(). */
static mp_vm_return_kind_t resume(aload_t *a, mp_obj_t send, mp_obj_t thrown, mp_obj_t *ret)
{
    nlr_buf_t nlr;
    mp_vm_return_kind_t k;
    if (a->running) mp_raise_ValueError(MP_ERROR_TEXT("generator already executing"));
    if (a->state >= ST_INTERRUPTED) {
        /* finished, as a generator after its end */
        if (thrown != MP_OBJ_NULL) {
            *ret = mp_make_raise_obj(thrown);
            return MP_VM_RETURN_EXCEPTION;
        }
        *ret = mp_const_none;
        return MP_VM_RETURN_NORMAL;
    }
    a->running = true;
    if (nlr_push(&nlr) == 0) {
        k = step(a, send, thrown, ret);
        nlr_pop();
        a->running = false;
        return k;
    }
    a->running = false;
    a->inner = MP_OBJ_NULL;
    if (a->claimed && !a->decoding) {
        a->state = ST_INTERRUPTED;      /* an Unpickler keeps its claim */
    } else {
        a->decoding = false;
        release(a);
        a->state = ST_DONE;
    }
    *ret = MP_OBJ_FROM_PTR(nlr.ret_val);
    return MP_VM_RETURN_EXCEPTION;
}

static mp_obj_t aload_iternext(mp_obj_t self_in)
{
    mp_obj_t ret;
    switch (resume(MP_OBJ_TO_PTR(self_in), mp_const_none, MP_OBJ_NULL, &ret)) {
    case MP_VM_RETURN_YIELD: return ret;
    case MP_VM_RETURN_NORMAL: return mp_make_stop_iteration(ret);
    default: nlr_raise(ret);
    }
}

static mp_obj_t send_or_throw(mp_obj_t self_in, mp_obj_t send, mp_obj_t thrown)
{
    mp_obj_t ret;
    switch (resume(MP_OBJ_TO_PTR(self_in), send, thrown, &ret)) {
    case MP_VM_RETURN_YIELD: return ret;
    case MP_VM_RETURN_NORMAL: mp_raise_StopIteration(ret == mp_const_none ? MP_OBJ_NULL : ret);
    default: nlr_raise(ret);
    }
}

static mp_obj_t aload_send(mp_obj_t self_in, mp_obj_t value)
{
    return send_or_throw(self_in, value, MP_OBJ_NULL);
}
static MP_DEFINE_CONST_FUN_OBJ_2(aload_send_obj, aload_send);

/* throw(type[, value[, traceback]]), reduced to one exception as MicroPython's
 * generators do */
static mp_obj_t aload_throw(size_t n_args, const mp_obj_t *args)
{
    mp_obj_t exc = n_args > 2 && args[2] != mp_const_none ? args[2] : args[1];
    return send_or_throw(args[0], MP_OBJ_NULL, exc);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(aload_throw_obj, 2, 4, aload_throw);

/* close(): the read in flight is closed; what was read stays with an
 * Unpickler, as after a cancellation. */
static mp_obj_t aload_close(mp_obj_t self_in)
{
    aload_t *a = MP_OBJ_TO_PTR(self_in);
    mp_obj_t ret;
    if (a->state >= ST_INTERRUPTED) return mp_const_none;
    if (a->state == ST_NEW) {
        a->state = ST_DONE;
        return mp_const_none;
    }
    switch (resume(a, MP_OBJ_NULL, MP_OBJ_FROM_PTR(&mp_const_GeneratorExit_obj), &ret)) {
    case MP_VM_RETURN_YIELD:
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("generator ignored GeneratorExit"));
    case MP_VM_RETURN_EXCEPTION:
        /* GeneratorExit out of the read is a good close; anything else goes on */
        if (!mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(ret)), MP_OBJ_FROM_PTR(&mp_type_GeneratorExit))) {
            nlr_raise(ret);
        }
        return mp_const_none;
    default:
        return mp_const_none;
    }
}
static MP_DEFINE_CONST_FUN_OBJ_1(aload_close_obj, aload_close);

static const mp_rom_map_elem_t aload_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_send), MP_ROM_PTR(&aload_send_obj) },
    { MP_ROM_QSTR(MP_QSTR_throw), MP_ROM_PTR(&aload_throw_obj) },
    { MP_ROM_QSTR(MP_QSTR_close), MP_ROM_PTR(&aload_close_obj) },
};
static MP_DEFINE_CONST_DICT(aload_locals, aload_locals_table);

static MP_DEFINE_CONST_OBJ_TYPE(mpk_type_aload, MP_QSTR_aload, MP_TYPE_FLAG_ITER_IS_ITERNEXT,
    iter, aload_iternext,
    locals_dict, &aload_locals);

mp_obj_t mpk_mp_aload_new(mp_obj_t stream, mpk_mp_loader_t *ld, mp_obj_t owner, const mpk_mp_load_opts_t *opts)
{
    mp_obj_t dest[2];
    aload_t *a;
    mp_load_method_maybe(stream, MP_QSTR_read, dest);
    if (dest[0] == MP_OBJ_NULL) mp_raise_TypeError(MP_ERROR_TEXT("file must have a 'read' attribute"));
    a = mp_obj_malloc_var(aload_t, own, mpk_mp_loader_t, ld ? 0 : 1, &mpk_type_aload);
    memset((char *)a + sizeof(mp_obj_base_t), 0, sizeof(aload_t) - sizeof(mp_obj_base_t));
    a->read = mp_load_attr(stream, MP_QSTR_read);
    a->inner = MP_OBJ_NULL;
    a->owner = owner;
    a->state = ST_NEW;
    if (ld) {
        a->ld = ld;
    } else {
        a->ld = &a->own[0];
        memset(a->ld, 0, sizeof *a->ld);
        mpk_mp_loader_begin(a->ld, opts);
    }
    return MP_OBJ_FROM_PTR(a);
}

#endif /* MPK_WITH_DECODER */
