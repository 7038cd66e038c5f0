#!/usr/bin/env python3
"""Flash, RAM and stack cost of the mpickle core on Cortex-M0+ and Cortex-M4.

For each CPU and configuration, compiles src/*.c with arm-none-eabi-gcc -Os
-ffunction-sections -fdata-sections -fstack-usage -fcallgraph-info=su and the
feature switches of include/mpickle_config.h, links tools/arm/size_main.c (which
references every public function of the chosen layers) with --gc-sections, and
prints a markdown table:

  .text core   bytes of code and read-only data from the core's own objects that
               the linker kept (from the link map)
  + helpers    the same plus what the core pulls from newlib and libgcc (memcpy,
               64-bit division, soft-float double arithmetic): the image minus an
               image that references nothing
  .data/.bss   the core's writable data (zero: it keeps no global state)
  stack        worst-case bytes of stack of one call into the API, summed along the
               deepest call chain of gcc's call graph (-fcallgraph-info) with each
               function's frame from -fstack-usage. Indirect calls (host callbacks,
               allocator, sink) count as the deepest callback the core itself
               provides in that configuration (value-model host, pool allocator);
               an application's own callbacks come on top. newlib/libgcc leaf
               helpers are not in the graph (a few dozen bytes). Recursion is
               reported separately: the encoder of the value model (mpk_dump)
               recurses once per nesting level, bounded by max_depth.

Usage: tools/arm/size.py [--keep DIR] [--verbose]
Needs arm-none-eabi-gcc and newlib (Debian: gcc-arm-none-eabi libnewlib-arm-none-eabi).
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CC = os.environ.get('CC_ARM', 'arm-none-eabi-gcc')
SIZE = CC.replace('gcc', 'size')

CPUS = [
    ('Cortex-M0+', ['-mcpu=cortex-m0plus', '-mthumb']),
    ('Cortex-M4', ['-mcpu=cortex-m4', '-mthumb']),
]

# (label, config switches, layers referenced by size_main.c)
CONFIGS = [
    ('decoder VM', {'MPK_WITH_WRITER': 0}, {'USE_DECODER'}),
    ('decoder + value model (mpk_loads)', {'MPK_WITH_WRITER': 0}, {'USE_DECODER', 'USE_LOADS'}),
    ('writer', {'MPK_WITH_DECODER': 0}, {'USE_WRITER'}),
    ('writer + value model (mpk_dump)', {'MPK_WITH_DECODER': 0}, {'USE_WRITER', 'USE_DUMP'}),
    ('decoder + writer', {}, {'USE_DECODER', 'USE_WRITER'}),
    ('both + value model', {}, {'USE_DECODER', 'USE_WRITER', 'USE_LOADS', 'USE_DUMP'}),
    ('both + value model, no text numbers, no messages',
     {'MPK_WITH_TEXT_NUMBERS': 0, 'MPK_WITH_MESSAGES': 0},
     {'USE_DECODER', 'USE_WRITER', 'USE_LOADS', 'USE_DUMP'}),
]

CFLAGS = ['-Os', '-std=c99', '-ffunction-sections', '-fdata-sections', '-fstack-usage',
          '-fcallgraph-info=su', '-Wall', '-Wextra']


def sh(cmd, cwd=None):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        sys.exit('command failed: %s\n%s' % (' '.join(cmd), p.stdout))
    return p.stdout


# ------------------------------------------------------------------ building

def compile_core(out, cpu_flags, switches):
    """Compiles src/*.c into out/; returns the object paths."""
    os.makedirs(out, exist_ok=True)
    defs = ['-D%s=%d' % kv for kv in sorted(switches.items())]
    objs = []
    for src in sorted(glob.glob(os.path.join(ROOT, 'src', '*.c'))):
        obj = os.path.join(out, os.path.basename(src)[:-2] + '.o')
        # -fcallgraph-info and -fstack-usage write <obj without .o>.ci/.su beside the object
        sh([CC] + cpu_flags + CFLAGS + defs + ['-I' + os.path.join(ROOT, 'include'),
                                               '-I' + os.path.join(ROOT, 'src'), '-c', src, '-o', obj])
        objs.append(obj)
    return objs


def link(out, cpu_flags, switches, layers, objs, name):
    """Links size_main.c with the core objects; returns (elf, map)."""
    defs = ['-D%s=%d' % kv for kv in sorted(switches.items())]
    defs += ['-D%s=1' % layer for layer in sorted(layers)]
    elf = os.path.join(out, name + '.elf')
    mapf = os.path.join(out, name + '.map')
    sh([CC] + cpu_flags + ['-Os', '-std=c99', '-ffunction-sections', '-fdata-sections'] + defs +
       ['-I' + os.path.join(ROOT, 'include'), os.path.join(ROOT, 'tools', 'arm', 'size_main.c')] +
       objs + ['-nostartfiles', '-nostdlib', '-Wl,-e,size_entry', '-Wl,--gc-sections',
               '-Wl,-Map,' + mapf, '-lc', '-lgcc', '-lc', '-o', elf])
    return elf, mapf


def berkeley_size(elf):
    """text, data, bss of an image (arm-none-eabi-size's Berkeley format)."""
    line = sh([SIZE, elf]).splitlines()[1].split()
    return int(line[0]), int(line[1]), int(line[2])


SECTION_KIND = [('.text', 'text'), ('.rodata', 'text'), ('.data', 'data'), ('.bss', 'bss'),
                ('COMMON', 'bss')]


def core_sizes(mapf, core_objs):
    """Sums the input sections the linker kept from the core's objects."""
    names = set(os.path.abspath(o) for o in core_objs)
    text = open(mapf).read()
    start = text.find('Linker script and memory map')
    sizes = {'text': 0, 'data': 0, 'bss': 0}
    # an input section: " .text.name [newline] 0xADDR 0xSIZE file" (one or two lines)
    pat = re.compile(r'^ (\.\S+|COMMON)\s*\n?\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+)', re.M)
    for m in pat.finditer(text, start):
        sec, size, path = m.group(1), int(m.group(2), 16), m.group(3)
        if os.path.abspath(path) not in names:
            continue
        for prefix, kind in SECTION_KIND:
            if sec.startswith(prefix):
                sizes[kind] += size
                break
    return sizes


# ------------------------------------------------------------------- stack

def read_callgraph(out):
    """Nodes (title -> (name, frame bytes or None, file)) and edges from the .ci files."""
    nodes, edges = {}, {}
    node_re = re.compile(r'node: \{ title: "([^"]+)" label: "([^"]*)"')
    edge_re = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')
    for ci in glob.glob(os.path.join(out, '*.ci')):
        for line in open(ci):
            m = node_re.match(line)
            if m:
                title, label = m.group(1), m.group(2).split('\\n')
                frame = None
                if len(label) >= 3:
                    fm = re.match(r'(\d+) bytes', label[2])
                    frame = int(fm.group(1)) if fm else None
                if frame is not None or title not in nodes:
                    nodes[title] = (label[0], frame, os.path.basename(ci)[:-3])
                continue
            m = edge_re.match(line)
            if m:
                edges.setdefault(m.group(1), set()).add(m.group(2))
    return nodes, edges


def sccs(nodes, succ):
    """Tarjan's strongly connected components (iteratively) of the graph given by
    succ(node): node -> component id."""
    index, low, comp, stack, on = {}, {}, {}, [], set()
    counter = [0]
    ncomp = [0]
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(succ(root))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in nodes:
                    continue
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(succ(w)))))
                    advanced = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp[w] = ncomp[0]
                    if w == v:
                        break
                ncomp[0] += 1
    return comp


class Stack:
    """Worst-case stack over the call graph. A recursive component (functions that
    call each other) is entered once; its deepest cycle is reported per level."""

    def __init__(self, nodes, edges, indirect_targets):
        self.nodes, self.edges = nodes, edges
        self.indirect = indirect_targets
        self.comp = sccs(nodes, self.succ)
        self.memo = {}
        self.recursive = {}     # component id -> (cycle bytes, member names)
        members = {}
        for n, c in self.comp.items():
            members.setdefault(c, []).append(n)
        self.members = members
        for c, ms in members.items():
            if len(ms) > 1 or any(m in self.succ(m) for m in ms):
                self.recursive[c] = (self.max_cycle(ms), sorted(self.nodes[m][0] for m in ms))

    def frame(self, n):
        f = self.nodes.get(n, (None, None, None))[1]
        return f or 0

    def succ(self, n):
        out = set()
        for t in self.edges.get(n, ()):
            if t == '__indirect_call':
                where = self.nodes.get(n, (None, None, None))[2]
                out.update(self.indirect.get(where, self.indirect['*']))
            elif t in self.nodes and self.nodes[t][1] is not None:
                out.add(t)
        return out

    def max_cycle(self, ms):
        """Heaviest simple cycle among the members (small components: brute force)."""
        ms = set(ms)
        best = 0

        def dfs(start, v, seen, acc):
            nonlocal best
            for w in self.succ(v):
                if w == start:
                    best = max(best, acc)
                elif w in ms and w not in seen:
                    seen.add(w)
                    dfs(start, w, seen, acc + self.frame(w))
                    seen.discard(w)
        for s in ms:
            dfs(s, s, {s}, self.frame(s))
        return best

    def depth(self, n, inside=frozenset()):
        """Deepest chain from n, entering each recursive component once (by the
        heaviest simple path inside it)."""
        key = (n, inside)
        if key in self.memo:
            return self.memo[key][0]
        c = self.comp.get(n)
        best, step = 0, None
        for w in sorted(self.succ(n)):
            if w == n or w in inside:
                continue    # a recursive component is walked once, by simple paths
            nxt = inside | {n} if self.comp.get(w) == c and c in self.recursive else frozenset()
            d = self.depth(w, nxt)
            if d > best:
                best, step = d, (w, nxt)
        r = self.frame(n) + best
        self.memo[key] = (r, step)
        return r

    def chain(self, n):
        """The deepest chain from n as 'name (frame)' strings."""
        out, key = [], (n, frozenset())
        self.depth(n)
        while key:
            out.append('%s %d' % (self.nodes[key[0]][0], self.frame(key[0])))
            key = self.memo[key][1]
        return out

    def recursion_from(self, n):
        """Recursive components reachable from n: [(cycle bytes, members)]."""
        seen, todo, found = {n}, [n], {}
        while todo:
            v = todo.pop()
            c = self.comp.get(v)
            if c in self.recursive:
                found[c] = self.recursive[c]
            for w in self.succ(v):
                if w not in seen:
                    seen.add(w)
                    todo.append(w)
        return list(found.values())


def kept_part(mapf):
    """The link map after its list of discarded sections."""
    text = open(mapf).read()
    return text[text.find('Linker script and memory map'):]


def api_roots(nodes, mapf):
    """The public functions kept in the image (the entry points of the table)."""
    kept = set(re.findall(r'^ \.text\.(mpk_\w+)', kept_part(mapf), re.M))
    return sorted(t for t, (name, frame, _) in nodes.items()
                  if frame is not None and ':' not in t and name in kept)


def callback_targets(nodes, edges, mapf):
    """Functions the core calls only through pointers and that this image keeps
    (static functions that nothing calls directly), as {calling file: targets}:
    the decoder VM calls host callbacks (the value model's, if linked) and the
    allocator; every other file calls only the allocator (and the application's
    sink). Sorting them so keeps the graph free of false cycles (a host callback
    allocates, but an allocator never calls a host callback)."""
    called = set()
    for targets in edges.values():
        called.update(targets)
    kept = set(re.findall(r'^ \.text\.(\w+)', kept_part(mapf), re.M))
    cbs = [t for t, (name, frame, _) in nodes.items()
           if ':' in t and frame is not None and t not in called and name in kept]
    alloc = [t for t in cbs if nodes[t][2] == 'alloc']
    host = [t for t in cbs if nodes[t][2] == 'value']
    return {'decoder': sorted(alloc + host), '*': sorted(alloc)}


def stack_report(out, mapf):
    """(deepest chain without recursion, that chain, {recursive members: bytes a
    level}, deepest at the recursions' bounds or None if one is unknown, callbacks)."""
    nodes, edges = read_callgraph(out)
    indirect = callback_targets(nodes, edges, mapf)
    st = Stack(nodes, edges, indirect)
    roots = api_roots(nodes, mapf)
    worst = max(roots, key=lambda r: st.depth(r))
    rec = {}
    bounded = 0
    for r in roots:
        extra = 0
        for cyc, ms in st.recursion_from(r):
            rec[tuple(ms)] = cyc
            levels = recursion_levels(ms)
            if levels is None:
                bounded = None
            else:
                # depth() counted one level; the deepest chain may sit at the bottom
                extra = max(extra, (levels - 1) * cyc)
        if bounded is not None:
            bounded = max(bounded, st.depth(r) + extra)
    return (st.depth(worst), ' > '.join(st.chain(worst)), rec, bounded,
            [nodes[t][0] for t in indirect['decoder']])


# -------------------------------------------------------------------- main

def recursion_levels(members):
    """Most levels a known recursion of the core can take with default limits."""
    if 'encode' in members or 'count_refs' in members:
        return default_depth()
    if 'write_global_level' in members:
        return 33
    return None


def recursion_bound(members):
    """What bounds a recursion of the core (known ones; else a warning)."""
    if 'encode' in members or 'count_refs' in members:
        return ('mpk_dump recurses once per nesting level of the value graph, at most '
                'mpk_dump_opts.max_depth levels (default MPK_DEFAULT_MAX_DEPTH = %d)' % default_depth())
    if 'write_global_level' in members:
        return ('a dotted global name before protocol 4 nests one level per dot, at most 33 '
                '(more fails with MPK_ERR_LIMIT)')
    return 'UNBOUNDED? not a recursion this script knows: check it'


def default_depth():
    text = open(os.path.join(ROOT, 'include', 'mpickle_config.h')).read()
    m = re.search(r'#define MPK_DEFAULT_MAX_DEPTH (\d+)', text)
    return int(m.group(1)) if m else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--keep', help='build in this directory and keep it (default: a temporary one)')
    ap.add_argument('--verbose', action='store_true', help='also print the deepest entry points')
    args = ap.parse_args()
    if not shutil.which(CC):
        print('size: SKIPPED (%s not found)' % CC)
        return 0
    work = args.keep or tempfile.mkdtemp(prefix='mpk-size-')
    rows = []
    notes = {}          # recursive functions -> {cpu: bytes per level}
    compiled = {}       # object directory -> objects
    try:
        for cpu, cpu_flags in CPUS:
            base_dir = os.path.join(work, 'base-' + cpu_flags[0].split('=')[1])
            os.makedirs(base_dir, exist_ok=True)
            base_elf, _ = link(base_dir, cpu_flags, {}, set(), [], 'empty')
            base = berkeley_size(base_elf)
            for i, (label, switches, layers) in enumerate(CONFIGS):
                key = '-'.join('%s%d' % (k[4:].lower(), v) for k, v in sorted(switches.items()))
                objdir = os.path.join(work, '%s-core-%s' % (cpu_flags[0].split('=')[1], key or 'default'))
                if objdir not in compiled:
                    compiled[objdir] = compile_core(objdir, cpu_flags, switches)
                objs = compiled[objdir]
                out = os.path.join(work, '%s-%d' % (cpu_flags[0].split('=')[1], i))
                os.makedirs(out, exist_ok=True)
                elf, mapf = link(out, cpu_flags, switches, layers, objs, 'size')
                whole = berkeley_size(elf)
                core = core_sizes(mapf, objs)
                depth, where, rec, bounded, callbacks = stack_report(objdir, mapf)
                rows.append((label, cpu, core, whole[0] - base[0], whole[1] - base[1],
                             whole[2] - base[2], depth, where, rec, bounded))
                for members, per_level in rec.items():
                    notes.setdefault(members, {})[cpu] = per_level
                if args.verbose:
                    print('%s / %s: deepest chain %s; callbacks counted: %s' %
                          (cpu, label, where, ', '.join(callbacks) or '-'), file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    gcc = sh([CC, '-dumpfullversion']).strip()
    print('Cortex-M footprint (%s %s -Os -ffunction-sections -fdata-sections, '
          'linked with --gc-sections; bytes):' % (os.path.basename(CC), gcc))
    print()
    print('| configuration | CPU | .text core | .text with libc/libgcc | .data | .bss | stack | '
          'stack at default limits |')
    print('|---|---|---:|---:|---:|---:|---:|---:|')
    for label, cpu, core, text_all, data_all, bss_all, depth, where, rec, bounded in rows:
        stack = str(depth)
        if rec:
            stack += ' + %d/level' % max(rec.values())
        print('| %s | %s | %d | %d | %d | %d | %s | %s |' % (
            label, cpu, core['text'], text_all, core['data'], core['bss'], stack,
            'unbounded?' if bounded is None else bounded))
    print()
    print('.text core: the core\'s own code and read-only data that the linker kept; with '
          'libc/libgcc: plus the memcpy, 64-bit division and soft-float double helpers it '
          'pulls in. .data/.bss: the core\'s own (it keeps no global state). stack: the deepest '
          'chain of one API call, from gcc\'s call graph (-fcallgraph-info) and frame sizes '
          '(-fstack-usage), + bytes per extra level of a recursion it can enter; at default '
          'limits: with every recursion at its default bound (a conservative sum). Callbacks '
          'the core provides (value-model host, pool allocator) are counted; an application\'s '
          'own host, sink and allocator callbacks come on top, as do newlib/libgcc leaf helpers '
          '(not in the graph; a few dozen bytes).')
    for members, per_cpu in sorted(notes.items()):
        print()
        print('Recursion (+x/level above): %s (%s bytes a level): %s.' %
              (', '.join(members), ', '.join('%s %d' % kv for kv in sorted(per_cpu.items())),
               recursion_bound(members)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
