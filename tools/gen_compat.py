#!/usr/bin/env python3
"""Generate mpickle's Python 2 <-> 3 global-name tables from CPython's own.

CPython applies these renames only for protocols < 3 with fix_imports=True:
  load: the (module, name) pair table first, else the module-only table;
  dump: the same with the reverse tables.
This script reads the running interpreter's _compat_pickle and emits them as C.

usage:
  tools/gen_compat.py            write src/compat_names.c
  tools/gen_compat.py --fixture  write tests/fixtures/compat_cases.txt
  tools/gen_compat.py --check    exit 1 if either generated file is out of date
  tools/gen_compat.py --verify   check the fixture's expectations against
                                 CPython's real pickle modules (C and Python)
Standard library only.
"""

import _compat_pickle
import argparse
import io
import pickle
import platform
import re
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
C_PATH = ROOT / "src" / "compat_names.c"
FIXTURE_PATH = ROOT / "tests" / "fixtures" / "compat_cases.txt"

NO_MODULE = 0xFFFF  # sentinel in a module row: no module-wide rename
PY_VERSION = "CPython " + platform.python_version()


# ----------------------------------------------------------------- the rules

def map_load(mod, name):
    """Where CPython's unpickler looks (mod, name) up (proto < 3, fix_imports)."""
    if (mod, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(mod, name)]
    return _compat_pickle.IMPORT_MAPPING.get(mod, mod), name


def map_dump(mod, name):
    """What CPython's pickler writes for (mod, name) (proto < 3, fix_imports)."""
    if (mod, name) in _compat_pickle.REVERSE_NAME_MAPPING:
        return _compat_pickle.REVERSE_NAME_MAPPING[(mod, name)]
    return _compat_pickle.REVERSE_IMPORT_MAPPING.get(mod, mod), name


DIRECTIONS = {
    "load": (_compat_pickle.NAME_MAPPING, _compat_pickle.IMPORT_MAPPING, map_load),
    "dump": (_compat_pickle.REVERSE_NAME_MAPPING, _compat_pickle.REVERSE_IMPORT_MAPPING, map_dump),
}


def sort_key(s):
    # The C side compares unsigned bytes, shorter-prefix first: bytes ordering.
    return s.encode("utf-8")


def validate():
    """The C encoding assumes short ASCII names without whitespace or NUL."""
    for names, imports, _ in DIRECTIONS.values():
        strings = [s for pair in list(names) + list(names.values()) for s in pair]
        strings += list(imports) + list(imports.values())
        for s in strings:
            if not s or not s.isascii() or len(s) > 255 or re.search(r"[\s\0]", s):
                sys.exit(f"gen_compat: unexpected name {s!r} in _compat_pickle")


# ------------------------------------------------------------- table layout

def direction_rows(names, imports):
    """Module rows (module, module-wide target or None, name rows) sorted for search."""
    modules = sorted(set(imports) | {m for m, _ in names}, key=sort_key)
    rows = []
    for mod in modules:
        own = sorted((n for m, n in names if m == mod), key=sort_key)
        rows.append((mod, imports.get(mod), [(n,) + tuple(names[(mod, n)]) for n in own]))
    return rows


def build_pool(strings):
    """One NUL-terminated string pool; a string that is the tail of a longer one
    (e.g. "dbm" in "_dbm") shares its bytes. Returns (pieces, offsets)."""
    by_length = sorted(set(strings), key=lambda s: (-len(s), s))
    heads = []
    tail_of = {}
    for s in by_length:
        host = next((h for h in heads if h.endswith(s)), None)
        if host is None:
            heads.append(s)
        else:
            tail_of[s] = host
    heads.sort(key=sort_key)
    offsets, pos = {}, 0
    for h in heads:
        offsets[h] = pos
        pos += len(h) + 1
    for s, host in tail_of.items():
        offsets[s] = offsets[host] + len(host) - len(s)
    if pos > 4095:  # C99 only promises string literals this long (5.2.4.1)
        sys.exit("gen_compat: string pool exceeds 4095 bytes; split it into two literals")
    return heads, offsets


def all_strings(layouts):
    for rows in layouts.values():
        for mod, target, name_rows in rows:
            yield mod
            if target is not None:
                yield target
            for row in name_rows:
                yield from row


# ------------------------------------------------------------- C emission

def c_pool(heads, offsets):
    lines = ["static const char compat_pool[] ="]
    for i, h in enumerate(heads):
        end = "" if i == len(heads) - 1 else "\\0"  # the literal supplies the last NUL
        lines.append(f'    /* {offsets[h]:4d} */ "{h}{end}"')
    lines[-1] += ";"
    return lines


def c_direction(dname, rows, offsets):
    out = []
    nnames = sum(len(r[2]) for r in rows)
    if nnames > 255:
        sys.exit("gen_compat: more than 255 renamed names; widen compat_module.first")
    out.append(f"static const compat_name {dname}_names[{max(nnames, 1)}] = {{")
    for mod, _, name_rows in rows:
        for name, omod, oname in name_rows:
            out.append(f"    {{ {offsets[name]:4d}, {offsets[omod]:4d}, {offsets[oname]:4d} }},"
                       f" /* {mod}.{name} -> {omod}.{oname} */")
    if nnames == 0:
        out.append("    { 0, 0, 0 }")
    out.append("};")
    out.append("")
    out.append(f"static const compat_module {dname}_modules[{len(rows)}] = {{")
    first = 0
    for mod, target, name_rows in rows:
        to = f"{offsets[target]:4d}" if target is not None else "COMPAT_NO_MODULE"
        note = f"{mod} -> {target}" if target is not None else f"{mod} (names only)"
        out.append(f"    {{ {offsets[mod]:4d}, {to}, {first:3d}, {len(name_rows):3d} }}, /* {note} */")
        first += len(name_rows)
    out.append("};")
    return out


C_FUNCTIONS = r"""
/* Compares the counted string s[0..n) with the pool string at off, as bytes. */
static int pool_cmp(const char *s, size_t n, uint16_t off)
{
    const unsigned char *p = (const unsigned char *)compat_pool + off;
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (p[i] == 0)
            return 1; /* the pool string is a proper prefix of s */
        if (c != p[i])
            return c < p[i] ? -1 : 1;
    }
    return p[n] == 0 ? 0 : -1;
}

static const compat_module *find_module(const compat_module *modules, size_t count,
                                        const char *s, size_t n)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = pool_cmp(s, n, modules[mid].mod);
        if (c == 0)
            return &modules[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static const compat_name *find_name(const compat_name *names, size_t count,
                                    const char *s, size_t n)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = pool_cmp(s, n, names[mid].name);
        if (c == 0)
            return &names[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static void pool_out(uint16_t off, const char **out, size_t *outn)
{
    *out = compat_pool + off;
    *outn = strlen(compat_pool + off);
}

/* The pair table wins over the module table, as in CPython. The tables are passed
 * in, not bundled in a struct of pointers, so that they stay in read-only memory
 * without relocations. */
static int compat_map(const compat_module *modules, size_t nmodules, const compat_name *names,
                      const char *mod, size_t modn, const char *name, size_t namen,
                      const char **omod, size_t *omodn, const char **oname, size_t *onamen)
{
    const compat_module *m = find_module(modules, nmodules, mod, modn);
    const compat_name *hit;

    *omod = mod;
    *omodn = modn;
    *oname = name;
    *onamen = namen;
    if (m == NULL)
        return 0;
    hit = find_name(names + m->first, m->count, name, namen);
    if (hit != NULL) {
        pool_out(hit->omod, omod, omodn);
        pool_out(hit->oname, oname, onamen);
        return 1;
    }
    if (m->to == COMPAT_NO_MODULE)
        return 0;
    pool_out(m->to, omod, omodn);
    return 1;
}

int mpk_compat_load(const char *mod, size_t modn, const char *name, size_t namen,
                    const char **omod, size_t *omodn, const char **oname, size_t *onamen)
{
    return compat_map(load_modules, COMPAT_COUNT(load_modules), load_names,
                      mod, modn, name, namen, omod, omodn, oname, onamen);
}

int mpk_compat_dump(const char *mod, size_t modn, const char *name, size_t namen,
                    const char **omod, size_t *omodn, const char **oname, size_t *onamen)
{
    return compat_map(dump_modules, COMPAT_COUNT(dump_modules), dump_names,
                      mod, modn, name, namen, omod, omodn, oname, onamen);
}
"""


def render_c():
    validate()
    layouts = {d: direction_rows(names, imports) for d, (names, imports, _) in DIRECTIONS.items()}
    heads, offsets = build_pool(all_strings(layouts))
    lines = [
        f"/* GENERATED by tools/gen_compat.py from {PY_VERSION}'s _compat_pickle; do not edit. */",
        "/*",
        " * Python 2 <-> 3 global-name renames applied by CPython's pickle for protocols < 3",
        " * with fix_imports=True. Per direction, a sorted module table (binary search) whose",
        " * rows hold an optional module-wide rename and a sorted run of renamed names; all",
        " * strings live once in a NUL-terminated pool, referenced by 16-bit offsets.",
        " */",
        '#include "compat.h"',
        "",
        "#include <stdint.h>",
        "#include <string.h>",
        "",
        f"#define COMPAT_NO_MODULE {NO_MODULE:#06x}u /* module row without a module-wide rename */",
        "",
        "typedef struct compat_name {",
        "    uint16_t name;  /* pool offset of the name looked up */",
        "    uint16_t omod;  /* pool offset of the module it maps to */",
        "    uint16_t oname; /* pool offset of the name it maps to */",
        "} compat_name;",
        "",
        "typedef struct compat_module {",
        "    uint16_t mod;   /* pool offset of the module looked up */",
        "    uint16_t to;    /* module-wide rename, or COMPAT_NO_MODULE */",
        "    uint8_t first;  /* its names: names[first .. first + count) */",
        "    uint8_t count;",
        "} compat_module;",
        "",
        "#define COMPAT_COUNT(a) (sizeof(a) / sizeof((a)[0]))",
        "",
    ]
    lines += c_pool(heads, offsets)
    for dname in ("load", "dump"):
        lines.append("")
        lines.append(f"/* {dname}: " + ("Python 2 names -> Python 3" if dname == "load"
                                         else "Python 3 names -> Python 2") + " */")
        lines += c_direction(dname, layouts[dname], offsets)
    return "\n".join(lines) + "\n" + C_FUNCTIONS


# ------------------------------------------------------------------ fixture

def fixture_inputs(names, imports):
    """Every table entry, plus near misses that must fall through correctly."""
    cases = set(names)
    for mod in imports:
        cases.add((mod, "mpk_unlisted"))
    for mod, name in list(names):
        cases.add((mod, name[:-1] or "x"))      # truncated name: a prefix, not a match
        cases.add((mod, name + "_"))            # longer name
        cases.add((mod[:-1] or "x", name))      # truncated module
        cases.add((mod + "_", name))            # longer module
    for mod in list(imports):
        cases.add((mod[:-1] or "x", "y"))
        cases.add((mod + "x", "y"))
    return sorted(cases, key=lambda c: (sort_key(c[0]), sort_key(c[1])))


def fixture_cases():
    for dname, (names, imports, rule) in DIRECTIONS.items():
        for mod, name in fixture_inputs(names, imports):
            omod, oname = rule(mod, name)
            yield dname, mod, name, omod, oname


def render_fixture():
    validate()
    cases = list(fixture_cases())
    head = [
        f"# GENERATED by tools/gen_compat.py --fixture from {PY_VERSION}'s _compat_pickle; do not edit.",
        "# direction input-module input-name expected-module expected-name",
        "# (what CPython's pickle resolves for protocol < 3 with fix_imports=True)",
        f"# cases: {len(cases)}",
    ]
    return "\n".join(head + [" ".join(c) for c in cases]) + "\n"


# ------------------------------------------------------------------ --check

def strip_version(text):
    return re.sub(r"from CPython [0-9][^' ]*'s", "from CPython ?'s", text)


def check():
    stale = 0
    for path, render in ((C_PATH, render_c), (FIXTURE_PATH, render_fixture)):
        want = render()
        have = path.read_text() if path.exists() else None
        rel = path.relative_to(ROOT)
        if have is None:
            print(f"gen_compat: {rel} is missing")
            stale = 1
        elif have != want:
            if strip_version(have) == strip_version(want):
                print(f"gen_compat: {rel} is current (made by another Python version)")
            else:
                print(f"gen_compat: {rel} is out of date; run tools/gen_compat.py"
                      + (" --fixture" if path == FIXTURE_PATH else ""))
                stale = 1
        else:
            print(f"gen_compat: {rel} is current")
    return stale


# ----------------------------------------------------------------- --verify
# Ask CPython itself: plant stand-in modules in sys.modules so that any name can be
# loaded and dumped, and compare what the real picklers do with the rules above.

class _Planted:
    """Temporarily puts stand-in modules (and missing parents) into sys.modules."""

    def __init__(self, module_name, attrs=None):
        self.module_name, self.attrs, self.saved = module_name, attrs or {}, {}

    def _put(self, name, module):
        self.saved.setdefault(name, sys.modules.get(name))
        sys.modules[name] = module

    def __enter__(self):
        parts = self.module_name.split(".")
        for i in range(1, len(parts)):
            parent = ".".join(parts[:i])
            if parent not in sys.modules:
                self._put(parent, types.ModuleType(parent))
        stand_in = types.ModuleType(self.module_name)
        # Any attribute read yields a marker naming the module and attribute.
        stand_in.__getattr__ = self._marker
        stand_in.__dict__.update(self.attrs)
        self._put(self.module_name, stand_in)
        return stand_in

    def _marker(self, attr):
        if attr.startswith("__"):  # leave the import machinery's probes alone
            raise AttributeError(attr)
        return ("marker", self.module_name, attr)

    def __exit__(self, *exc):
        for name, old in self.saved.items():
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old


def _resolve_load(loads, mod, name, omod):
    data = b"\x80\x02c" + mod.encode() + b"\n" + name.encode() + b"\n."
    with _Planted(omod):
        try:
            return loads(data)
        except Exception as e:  # a wrong rename would send it elsewhere
            return repr(e)


def _resolve_dump(pickler_cls, mod, name):
    cls = type(name, (), {})
    cls.__module__, cls.__qualname__ = mod, name
    with _Planted(mod, {name: cls}):
        buf = io.BytesIO()
        pickler_cls(buf, 2).dump(cls)
    data = buf.getvalue()
    if not data.startswith(b"\x80\x02c"):
        return ("unexpected pickle", data)
    omod, oname, _ = data[3:].split(b"\n", 2)
    return omod.decode(), oname.decode()


def verify():
    implementations = [("C _pickle", pickle.loads, pickle.Pickler),
                       ("pure-Python pickle", pickle._loads, pickle._Pickler)]
    cases = list(fixture_cases())
    failed = 0
    for direction, mod, name, omod, oname in cases:
        for label, loads, pickler_cls in implementations:
            if direction == "load":
                got = _resolve_load(loads, mod, name, omod)
                ok = got == ("marker", omod, oname)
            else:
                got = _resolve_dump(pickler_cls, mod, name)
                ok = got == (omod, oname)
            if not ok:
                failed += 1
                print(f"MISMATCH {label} {direction} {mod}.{name}: rules say "
                      f"{omod}.{oname}, CPython gives {got!r}")
    checks = len(cases) * len(implementations)
    print(f"gen_compat --verify: {checks - failed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--fixture", action="store_true", help="write the test fixture")
    group.add_argument("--check", action="store_true", help="fail if generated files are stale")
    group.add_argument("--verify", action="store_true", help="check the rules against CPython")
    args = ap.parse_args()
    if args.check:
        return check()
    if args.verify:
        return verify()
    path, text = (FIXTURE_PATH, render_fixture()) if args.fixture else (C_PATH, render_c())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"gen_compat: wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
