/*
 * `mpickle scan [--json] [FILE]`: what a pickle would make CPython do, without
 * doing any of it. The pickle runs through the real decoder VM into the value
 * model (nothing is imported or called); a thin host in front of the value host
 * records every global the VM resolves and every call, BUILD, extension code and
 * persistent id, with the offset and opcode of the instruction. Because the VM
 * itself tracks the stack and the memo, names that reach STACK_GLOBAL through
 * the memo, from far back or in any order, are seen exactly as CPython sees them.
 *
 * Each global is classed by name (tables below); each call by its callable.
 * The pickle's verdict is the worst class seen:
 *   data     no globals, calls or ids: plain data                     exit 0
 *   safe     only reconstructions CPython writes for its own types    exit 3
 *   unknown  names outside both tables (user classes, other packages) exit 4
 *   unsafe   names that can run code, or calls through computed names exit 5
 * A pickle that does not decode (or hits a limit) exits 1 unless something
 * unknown or unsafe came before the error: CPython runs what precedes an error.
 * A file may hold several pickles back to back (pickle.load called in a loop):
 * all are scanned.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

enum verdict { V_DATA = 0, V_SAFE, V_UNKNOWN, V_UNSAFE };
static const char *const verdict_names[] = {"data", "safe", "unknown", "unsafe"};
static const int verdict_status[] = {0, 3, 4, 5};

#define SCAN_MALFORMED_STATUS 1

/* ------------------------------------------------------------ name tables */

/* Reconstructions CPython itself writes for builtin and standard value types,
 * and numpy's for arrays, dtypes and scalars: "module name" exactly. */
static const char *const safe_names[] = {
    "builtins set", "builtins frozenset", "builtins bytearray", "builtins bytes",
    "builtins complex", "builtins range", "builtins slice", "builtins object",
    "builtins list", "builtins dict", "builtins tuple", "builtins int", "builtins float",
    "builtins str", "builtins bool", "builtins type", "builtins Ellipsis",
    "builtins NotImplemented", "builtins long", "builtins xrange", "builtins unicode",
    "_codecs encode", "copyreg _reconstructor", "copyreg __newobj__", "copyreg __newobj_ex__",
    "collections OrderedDict", "collections deque", "collections defaultdict",
    "collections Counter", "datetime date", "datetime datetime", "datetime time",
    "datetime timedelta", "datetime timezone", "decimal Decimal", "fractions Fraction",
    "uuid UUID",
    "numpy ndarray", "numpy dtype",
    "numpy.core.multiarray _reconstruct", "numpy.core.multiarray scalar",
    "numpy.core.numeric _frombuffer", "numpy._core.multiarray _reconstruct",
    "numpy._core.multiarray scalar", "numpy._core.numeric _frombuffer",
    "numpy.ma.core _mareconstruct", "numpy.ma.core MaskedArray",
};

/* Modules whose every name can run code, read or write files, or reach the
 * interpreter's internals (a module and its submodules). */
static const char *const unsafe_modules[] = {
    "os", "posix", "nt", "posixpath", "ntpath", "subprocess", "_posixsubprocess", "sys",
    "shutil", "socket", "_socket", "pty", "commands", "popen2", "platform", "importlib",
    "imp", "runpy", "pickle", "_pickle", "cPickle", "pickletools", "marshal", "shelve",
    "dill", "joblib", "types", "code", "codeop", "ctypes", "_ctypes", "pdb", "bdb",
    "webbrowser", "timeit", "profile", "cProfile", "trace", "operator", "_operator",
    "functools", "asyncio", "multiprocessing", "threading", "_thread", "signal",
    "tempfile", "pathlib", "io", "_io", "codecs", "fileinput", "glob", "zipimport",
    "pkgutil", "site", "sysconfig", "gc", "inspect", "linecache", "tokenize", "ast",
    "urllib", "http", "ftplib", "smtplib", "telnetlib", "xmlrpc", "requests", "ssl",
    "select", "selectors", "mmap", "resource", "fcntl", "termios", "tty", "pwd",
    "spwd", "grp", "crypt", "distutils", "setuptools", "pip", "venv", "ensurepip",
    "sqlite3", "dbm", "logging", "antigravity", "this", "idlelib", "tkinter", "turtle",
    "numpy.testing", "numpy.f2py", "numpy.distutils", "numpy.lib.npyio", "torch",
};

/* In builtins (and Python 2's __builtin__) everything is unsafe but the data
 * types of safe_names; these are named in the reason for clarity. */
static const char *const unsafe_builtins[] = {
    "eval", "exec", "execfile", "compile", "getattr", "setattr", "delattr", "__import__",
    "open", "file", "input", "raw_input", "globals", "locals", "vars", "breakpoint",
    "apply", "reload", "memoryview", "help", "exit", "quit", "print", "__build_class__",
};

/* Python 2 spellings that CPython maps (fix_imports) to the Python 3 names. */
static const char *py3_module(const char *m, size_t n, size_t *outn)
{
    static const struct { const char *py2, *py3; } alias[] = {
        {"__builtin__", "builtins"}, {"copy_reg", "copyreg"}, {"exceptions", "builtins"},
        {"cPickle", "pickle"}, {"cStringIO", "io"}, {"StringIO", "io"},
    };
    size_t i;
    for (i = 0; i < sizeof alias / sizeof alias[0]; i++)
        if (n == strlen(alias[i].py2) && !memcmp(m, alias[i].py2, n)) {
            *outn = strlen(alias[i].py3);
            return alias[i].py3;
        }
    *outn = n;
    return m;
}

static int span_is(const char *s, size_t n, const char *word)
{
    return n == strlen(word) && !memcmp(s, word, n);
}

/* 1 when the name has a component like __globals__ or __subclasses__: an
 * attribute walk (protocol 4 resolves dotted names) out of a harmless module. */
static int has_dunder_component(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '.') j++;
        if (j - i >= 4 && s[i] == '_' && s[i + 1] == '_' && s[j - 1] == '_' && s[j - 2] == '_') return 1;
        i = j + 1;
    }
    return 0;
}

/* The class of one global, and a static reason. */
static enum verdict class_of_name(const char *mod, size_t mn, const char *name, size_t nn, const char **why)
{
    size_t i, k;
    mod = py3_module(mod, mn, &mn);
    for (i = 0; i < sizeof safe_names / sizeof safe_names[0]; i++) {
        const char *sp = strchr(safe_names[i], ' ');
        k = (size_t)(sp - safe_names[i]);
        if (k == mn && !memcmp(safe_names[i], mod, mn) && span_is(name, nn, sp + 1)) {
            *why = "a reconstruction CPython writes for data";
            return V_SAFE;
        }
    }
    if (span_is(mod, mn, "builtins")) {
        *why = "a builtin that is not a data type";
        for (i = 0; i < sizeof unsafe_builtins / sizeof unsafe_builtins[0]; i++)
            if (span_is(name, nn, unsafe_builtins[i])) *why = "a builtin that runs code or reaches objects by name";
        return V_UNSAFE;
    }
    for (i = 0; i < sizeof unsafe_modules / sizeof unsafe_modules[0]; i++) {
        k = strlen(unsafe_modules[i]);
        if (mn >= k && !memcmp(mod, unsafe_modules[i], k) && (mn == k || mod[k] == '.')) {
            *why = "a module that can run commands, code or file operations";
            return V_UNSAFE;
        }
    }
    if (has_dunder_component(name, nn)) {
        *why = "a dunder attribute walk (reaches any object)";
        return V_UNSAFE;
    }
    *why = "not on the known-safe list (importing it runs its module)";
    return V_UNKNOWN;
}

/* ------------------------------------------------------------ events */

enum ev_type { EV_GLOBAL, EV_CALL, EV_BUILD, EV_EXT, EV_PERSID };
static const char *const ev_names[] = {"global", "call", "build", "extension", "persistent_id"};

typedef struct event {
    uint8_t type, cls;
    int opcode;
    size_t pickle;          /* which pickle of the file (0-based) */
    uint64_t offset;        /* from the start of the file */
    char *what;             /* "module name" of a global or callable, or a description */
    size_t what_len;
    size_t mod_len;         /* named: the module is what[0..mod_len), the name after one byte */
    int named;
    const char *kind;       /* call kind, or NULL */
    const char *why;        /* static reason of the class */
    int64_t code;           /* extension code */
} event_t;

typedef struct scan {
    mpk_value_ctx_t vc;     /* the value host underneath */
    mpk_decoder_t *dec;
    uint64_t base;          /* file offset of the current pickle */
    size_t pickle;
    event_t *ev;
    size_t nev, cap;
    int nomem;
    enum verdict worst;
} scan_t;

static event_t *add_event(scan_t *s, enum ev_type type, enum verdict cls, const char *why)
{
    event_t *e;
    if (s->nev == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 32;
        event_t *ne = realloc(s->ev, ncap * sizeof *ne);
        if (!ne) { s->nomem = 1; return NULL; }
        s->ev = ne;
        s->cap = ncap;
    }
    e = &s->ev[s->nev++];
    memset(e, 0, sizeof *e);
    e->type = (uint8_t)type;
    e->cls = (uint8_t)cls;
    e->why = why;
    e->pickle = s->pickle;
    e->opcode = mpk_decoder_current_op(s->dec, &e->offset);
    e->offset += s->base;
    if (cls > s->worst) s->worst = cls;
    return e;
}

/* Sets e->what to "module name" (copied: the VM's text is gone after the call). */
static void set_what(scan_t *s, event_t *e, const char *m, size_t mn, const char *n, size_t nn)
{
    e->what = malloc(mn + nn + 2);
    if (!e->what) { s->nomem = 1; return; }
    memcpy(e->what, m, mn);
    e->what[mn] = ' ';
    memcpy(e->what + mn + 1, n, nn);
    e->what_len = mn + 1 + nn;
    e->what[e->what_len] = 0;
    e->mod_len = mn;
    e->named = 1;
}

static void set_what_cstr(scan_t *s, event_t *e, const char *text)
{
    size_t n = strlen(text);
    e->what = malloc(n + 1);
    if (!e->what) { s->nomem = 1; return; }
    memcpy(e->what, text, n + 1);
    e->what_len = n;
}

/* What a callable or BUILD target is, and its class. */
static enum verdict describe_node(scan_t *s, event_t *e, const mpk_value_t *v, int as_callable)
{
    const char *why;
    enum verdict c;
    switch (mpk_type(v)) {
    case MPK_GLOBAL:
        set_what(s, e, (const char *)v->u.g.module->u.s.p, v->u.g.module->u.s.n,
                 (const char *)v->u.g.name->u.s.p, v->u.g.name->u.s.n);
        c = class_of_name((const char *)v->u.g.module->u.s.p, v->u.g.module->u.s.n,
                          (const char *)v->u.g.name->u.s.p, v->u.g.name->u.s.n, &why);
        e->why = why;
        if (!as_callable && c != V_UNSAFE) {
            /* BUILD on a class or function object rewrites a module's state */
            e->why = "BUILD on a class or function object changes it for the whole process";
            return V_UNSAFE;
        }
        return c;
    case MPK_OBJECT:
        if (!as_callable && v->call && mpk_type(v->call->callable) == MPK_GLOBAL) {
            /* __setstate__ of an instance: its class was classed when resolved */
            const mpk_value_t *g = v->call->callable;
            set_what(s, e, (const char *)g->u.g.module->u.s.p, g->u.g.module->u.s.n,
                     (const char *)g->u.g.name->u.s.p, g->u.g.name->u.s.n);
            e->why = "state of an object made by this callable";
            return V_SAFE;
        }
        set_what_cstr(s, e, as_callable ? "<result of a call>" : "<object of a computed callable>");
        e->why = "calls something computed at load time (getattr-style chain)";
        return V_UNSAFE;
    case MPK_EXT:
        set_what_cstr(s, e, "<extension code>");
        e->why = "calls whatever the loader's extension registry names";
        return V_UNSAFE;
    case MPK_PERSID:
        set_what_cstr(s, e, "<persistent id>");
        e->why = "calls whatever the loader's persistent_load returns";
        return V_UNSAFE;
    default:
        set_what_cstr(s, e, mpk_type_name(mpk_type(v)));
        e->why = "not an object CPython can call";
        return V_DATA;
    }
}

/* ------------------------------------------------------------ the host */

#define SCAN(c) ((scan_t *)(c))
#define VC(c) (&SCAN(c)->vc)

static mpk_err_t s_global(void *c, const mpk_name_t *nm, mpk_obj_t *out)
{
    scan_t *s = SCAN(c);
    const char *why, *why_raw;
    enum verdict v = class_of_name(nm->module, nm->module_len, nm->name, nm->name_len, &why);
    enum verdict vr = class_of_name(nm->raw_module, nm->raw_module_len, nm->raw_name, nm->raw_name_len, &why_raw);
    event_t *e;
    /* the worse of the name as written and as CPython maps it (fix_imports) */
    if (vr > v) { v = vr; why = why_raw; }
    e = add_event(s, EV_GLOBAL, v, why);
    if (e) set_what(s, e, nm->raw_module, nm->raw_module_len, nm->raw_name, nm->raw_name_len);
    return mpk_value_host.find_global(VC(c), nm, out);
}

static const char *call_kind_name(mpk_call_t kind)
{
    static const char *const names[] = {"reduce", "newobj", "newobj_ex", "inst", "obj"};
    return (unsigned)kind < 5 ? names[kind] : "call";
}

static mpk_err_t s_call(void *c, mpk_call_t kind, mpk_obj_t callable, mpk_obj_t args, mpk_obj_t kwargs,
                        mpk_obj_t *out)
{
    scan_t *s = SCAN(c);
    event_t *e = add_event(s, EV_CALL, V_DATA, NULL);
    if (e) {
        enum verdict v = describe_node(s, e, (const mpk_value_t *)callable, 1);
        e->cls = (uint8_t)v;
        e->kind = call_kind_name(kind);
        if (v > s->worst) s->worst = v;
    }
    return mpk_value_host.call(VC(c), kind, callable, args, kwargs, out);
}

static mpk_err_t s_build(void *c, mpk_obj_t obj, mpk_obj_t state, mpk_obj_t *out)
{
    scan_t *s = SCAN(c);
    event_t *e = add_event(s, EV_BUILD, V_DATA, NULL);
    if (e) {
        enum verdict v = describe_node(s, e, (const mpk_value_t *)obj, 0);
        e->cls = (uint8_t)v;
        if (v > s->worst) s->worst = v;
    }
    return mpk_value_host.build(VC(c), obj, state, out);
}

static mpk_err_t s_persid(void *c, mpk_obj_t pid, mpk_obj_t *out)
{
    scan_t *s = SCAN(c);
    event_t *e = add_event(s, EV_PERSID, V_UNKNOWN, "the loader's persistent_load decides what it becomes");
    if (e) set_what_cstr(s, e, mpk_type_name(mpk_type((const mpk_value_t *)pid)));
    return mpk_value_host.persistent_load(VC(c), pid, out);
}

static mpk_err_t s_ext(void *c, uint32_t code, mpk_obj_t *out)
{
    scan_t *s = SCAN(c);
    event_t *e = add_event(s, EV_EXT, V_UNKNOWN, "names whatever the loader's copyreg registry maps it to");
    if (e) e->code = code;
    return mpk_value_host.extension(VC(c), code, out);
}

/* The value host's object makers, called through with its own context. */
static mpk_err_t f_none(void *c, mpk_obj_t *o) { return mpk_value_host.make_none(VC(c), o); }
static mpk_err_t f_bool(void *c, int b, mpk_obj_t *o) { return mpk_value_host.make_bool(VC(c), b, o); }
static mpk_err_t f_int(void *c, int64_t i, mpk_obj_t *o) { return mpk_value_host.make_int(VC(c), i, o); }
static mpk_err_t f_bigint(void *c, const uint8_t *le, size_t n, mpk_obj_t *o)
{
    return mpk_value_host.make_bigint(VC(c), le, n, o);
}
static mpk_err_t f_float(void *c, double f, mpk_obj_t *o) { return mpk_value_host.make_float(VC(c), f, o); }
static mpk_err_t f_str(void *c, const char *p, size_t n, mpk_text_t t, int st, mpk_obj_t *o)
{
    return mpk_value_host.make_str(VC(c), p, n, t, st, o);
}
static mpk_err_t f_bytes(void *c, const uint8_t *p, size_t n, int st, mpk_obj_t *o)
{
    return mpk_value_host.make_bytes(VC(c), p, n, st, o);
}
static mpk_err_t f_bytearray(void *c, const uint8_t *p, size_t n, mpk_obj_t *o)
{
    return mpk_value_host.make_bytearray(VC(c), p, n, o);
}
static mpk_err_t f_tuple(void *c, const mpk_obj_t *it, size_t n, mpk_obj_t *o)
{
    return mpk_value_host.make_tuple(VC(c), it, n, o);
}
static mpk_err_t f_list(void *c, mpk_obj_t *o) { return mpk_value_host.make_list(VC(c), o); }
static mpk_err_t f_dict(void *c, mpk_obj_t *o) { return mpk_value_host.make_dict(VC(c), o); }
static mpk_err_t f_set(void *c, mpk_obj_t *o) { return mpk_value_host.make_set(VC(c), o); }
static mpk_err_t f_frozenset(void *c, const mpk_obj_t *it, size_t n, mpk_obj_t *o)
{
    return mpk_value_host.make_frozenset(VC(c), it, n, o);
}
static mpk_err_t f_extend(void *c, mpk_obj_t l, const mpk_obj_t *it, size_t n)
{
    return mpk_value_host.list_extend(VC(c), l, it, n);
}
static mpk_err_t f_setitems(void *c, mpk_obj_t d, const mpk_obj_t *kv, size_t n)
{
    return mpk_value_host.dict_setitems(VC(c), d, kv, n);
}
static mpk_err_t f_add(void *c, mpk_obj_t set, const mpk_obj_t *it, size_t n)
{
    return mpk_value_host.set_add(VC(c), set, it, n);
}
static mpk_err_t f_get_str(void *c, mpk_obj_t o, const char **p, size_t *n)
{
    return mpk_value_host.get_str(VC(c), o, p, n);
}
static mpk_err_t f_next_buffer(void *c, mpk_obj_t *o) { return mpk_value_host.next_buffer(VC(c), o); }
static mpk_err_t f_readonly(void *c, mpk_obj_t b, mpk_obj_t *o) { return mpk_value_host.readonly_buffer(VC(c), b, o); }

static const mpk_host_t scan_host = {
    f_none, f_bool, f_int, f_bigint, f_float, f_str, f_bytes, f_bytearray, f_tuple,
    f_list, f_dict, f_set, f_frozenset, f_extend, f_setitems, f_add, f_get_str, s_global,
    s_call, s_build, s_persid, s_ext, f_next_buffer, f_readonly
};

/* ------------------------------------------------------------ output */

/* Length and code point of the UTF-8 sequence at s (surrogates allowed, as
 * the decoder's names may hold them), or 0 when malformed. */
static size_t utf8_at(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len, i;
    if (s[0] < 0xC2 || s[0] > 0xF4) return 0;
    len = s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : 4;
    if (n < len) return 0;
    *cp = s[0] & (0x7F >> len);
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && *cp < 0x800) || (len == 4 && (*cp < 0x10000 || *cp > 0x10FFFF))) return 0;
    return len;
}

/* Writes s[0..n) with everything but printable ASCII escaped, so that a name
 * cannot forge report lines or terminal escapes: \xNN per byte in text, and in
 * JSON \uXXXX per code point (a surrogate pair above U+FFFF; a malformed byte
 * as its Latin-1 code point). */
static void put_escaped(FILE *f, const char *str, size_t n, int json)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, k;
    uint32_t cp;
    while (i < n) {
        unsigned char ch = s[i];
        /* text: a space too, so that "module name" splits one way only */
        if (ch > 0x20 && ch < 0x7f && ch != '\\' && ch != '"') { fputc(ch, f); i++; continue; }
        if (ch == ' ' && json) { fputc(ch, f); i++; continue; }
        if (!json) { fprintf(f, "\\x%02x", ch); i++; continue; }
        if (ch == '"' || ch == '\\') { fprintf(f, "\\%c", ch); i++; continue; }
        k = ch >= 0x80 ? utf8_at(s + i, n - i, &cp) : 0;
        if (!k) { cp = ch; k = 1; }
        if (cp > 0xFFFF) fprintf(f, "\\u%04x\\u%04x", (unsigned)(0xD800 + ((cp - 0x10000) >> 10)),
                                (unsigned)(0xDC00 + (cp & 0x3FF)));
        else fprintf(f, "\\u%04x", (unsigned)cp);
        i += k;
    }
}

static const char *opname(int op)
{
    const char *n = op >= 0 ? mpk_opcode_name(op) : NULL;
    return n ? n : "?";
}

static void print_text(const scan_t *s, const mpk_error_t *err, uint64_t err_base, size_t npickles, int status)
{
    size_t i;
    for (i = 0; i < s->nev; i++) {
        const event_t *e = &s->ev[i];
        printf("%" PRIu64 ": %s %s ", e->offset, opname(e->opcode), ev_names[e->type]);
        if (e->kind) printf("%s ", e->kind);
        if (e->type == EV_EXT) printf("%" PRId64, e->code);
        else if (e->named) {
            put_escaped(stdout, e->what, e->mod_len, 0);
            putchar(' ');
            put_escaped(stdout, e->what + e->mod_len + 1, e->what_len - e->mod_len - 1, 0);
        } else if (e->what) fputs(e->what, stdout);
        if (npickles > 1) printf(" (pickle %zu)", e->pickle + 1);
        printf(" -- %s: %s\n", verdict_names[e->cls], e->why ? e->why : "");
    }
    if (err->code) {
        char msg[256];
        mpk_error_t at = *err;
        at.offset += err_base;
        mpk_error_format(&at, msg, sizeof msg);
        printf("malformed: %s (nothing after this point was scanned)\n", msg);
    }
    printf("verdict: %s%s (exit status %d, %zu event%s, %zu pickle%s)\n", verdict_names[s->worst],
           err->code ? ", malformed" : "", status, s->nev, s->nev == 1 ? "" : "s", npickles,
           npickles == 1 ? "" : "s");
}

static void print_json(const scan_t *s, const mpk_error_t *err, uint64_t err_base, size_t npickles, int status)
{
    size_t i;
    printf("{\"verdict\": \"%s\", \"malformed\": %s, \"exit_status\": %d, \"pickles\": %zu,\n",
           verdict_names[s->worst], err->code ? "true" : "false", status, npickles);
    if (err->code) {
        printf(" \"error\": {\"offset\": %" PRIu64 ", \"opcode\": \"%s\", \"code\": \"", err->offset + err_base,
               err->opcode >= 0 ? opname(err->opcode) : "");
        put_escaped(stdout, mpk_err_str(err->code), strlen(mpk_err_str(err->code)), 1);
        printf("\", \"message\": \"");
        put_escaped(stdout, err->msg ? err->msg : "", err->msg ? strlen(err->msg) : 0, 1);
        printf("\"},\n");
    } else {
        printf(" \"error\": null,\n");
    }
    printf(" \"events\": [");
    for (i = 0; i < s->nev; i++) {
        const event_t *e = &s->ev[i];
        printf("%s\n  {\"offset\": %" PRIu64 ", \"pickle\": %zu, \"opcode\": \"%s\", \"type\": \"%s\", ",
               i ? "," : "", e->offset, e->pickle, opname(e->opcode), ev_names[e->type]);
        if (e->kind) printf("\"kind\": \"%s\", ", e->kind);
        if (e->type == EV_EXT) printf("\"code\": %" PRId64 ", ", e->code);
        else if (e->named) {
            printf("\"module\": \"");
            put_escaped(stdout, e->what, e->mod_len, 1);
            printf("\", \"name\": \"");
            put_escaped(stdout, e->what + e->mod_len + 1, e->what_len - e->mod_len - 1, 1);
            printf("\", ");
        } else if (e->what) {
            printf("\"what\": \"");
            put_escaped(stdout, e->what, e->what_len, 1);
            printf("\", ");
        }
        printf("\"class\": \"%s\", \"reason\": \"%s\"}", verdict_names[e->cls], e->why ? e->why : "");
    }
    printf("%s]}\n", s->nev ? "\n " : "");
}

/* ------------------------------------------------------------ command */

static void scan_usage(FILE *f)
{
    fputs("usage: mpickle scan [--json] [--no-fix-imports] [--max-depth N] [--max-stack N]\n"
          "                    [--max-memo N] [--max-str N] [--max-alloc N] [FILE]\n"
          "Lists every global the pickle resolves and every call it would make (nothing is\n"
          "imported or called) and classifies it. Exit status: 0 data only, 3 known-safe\n"
          "reconstructions, 4 unknown globals, 5 unsafe (can run code), 1 malformed (with\n"
          "nothing unknown or unsafe before the error), 2 usage error. See docs/security.md.\n", f);
}

/* Decodes the pickles of data one after the other, as Unpickler.load() called
 * again on one stream does (the memo carries over); returns the error of the
 * failing one (code MPK_OK if all decoded) and its start in *err_base. */
static mpk_error_t scan_all(scan_t *s, const uint8_t *data, size_t n, const mpk_load_opts_t *lo,
                            mpk_arena_t *arena, size_t *npickles, uint64_t *err_base)
{
    mpk_decoder_t d;
    mpk_error_t err;
    size_t pos = 0;
    memset(&err, 0, sizeof err);
    *npickles = 0;
    s->dec = &d;
    mpk_value_ctx_init(&s->vc, arena, &d, lo->nbuffers);
    mpk_decoder_init(&d, &scan_host, s, &arena->alloc, &lo->dec);
    do {
        mpk_status_t st;
        size_t used = 0;
        if (*npickles) mpk_decoder_next(&d);
        s->base = pos;
        s->pickle = *npickles;
        st = mpk_decoder_feed(&d, data + pos, n - pos, 1, &used);
        if (st == MPK_NEED_MORE) st = mpk_decoder_finish(&d);
        ++*npickles;
        if (st != MPK_DONE) err = d.err;
        if (s->nomem && !err.code) {
            err.code = MPK_ERR_NOMEM;
            err.msg = "out of memory for the scan report";
            err.opcode = -1;
            err.offset = used;
        }
        *err_base = pos;
        pos += used;
    } while (!err.code && pos < n);
    mpk_decoder_destroy(&d);
    return err;
}

int cli_scan(int argc, char **argv)
{
    mpk_load_opts_t lo;
    const char *in = NULL;
    int i, json = 0, status;
    uint8_t *data = NULL;
    size_t n, npickles = 0;
    uint64_t err_base = 0;
    mpk_alloc_t alloc;
    mpk_arena_t arena;
    mpk_error_t err;
    scan_t s;

    cli_load_opts(&lo);
    for (i = 0; i < argc; i++) {
        int r = cli_decode_option(argc, argv, &i, &lo);
        if (r < 0) return 2;
        if (r) continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { scan_usage(stdout); return 0; }
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "mpickle: scan: unknown option '%s'\n", argv[i]);
            scan_usage(stderr);
            return 2;
        } else if (!in) in = argv[i];
        else { scan_usage(stderr); return 2; }
    }
    if (cli_read_file(in, &data, &n)) return 1;
    memset(&s, 0, sizeof s);
    mpk_alloc_libc(&alloc);
    mpk_arena_init(&arena, &alloc, lo.dec.limits.max_alloc);
    err = scan_all(&s, data, n, &lo, &arena, &npickles, &err_base);
    status = verdict_status[s.worst];
    /* a malformed pickle is never vouched for as data or safe */
    if (err.code && s.worst < V_UNKNOWN) status = SCAN_MALFORMED_STATUS;
    if (json) print_json(&s, &err, err_base, npickles, status);
    else print_text(&s, &err, err_base, npickles, status);
    fflush(stdout);
    if (err.code) {
        err.offset += err_base;
        cli_print_error("scan", &err);
    }
    for (i = 0; (size_t)i < s.nev; i++) free(s.ev[i].what);
    free(s.ev);
    free(data);
    mpk_arena_free(&arena);
    return status;
}
