#!/usr/bin/env python3
"""bench_deps.py -- bench/ stays a flow, not a tangle.

bench/ is split by concern, in folders that are layers, lowest first:

    common/            what every layer may use: messages and the error
                       convention, atomic files, paths, UTF-8, statistics
    trials/workloads/  the workloads and their table (the experiment names them)
    experiment/        parse the experiment: files, sweeps, points
    trials/            run the trials: the driver, the metric catalog,
                       microbench's and calibrate's measurements
    record/            record results: run.json, the CSV files, lockstat
    report/            report and plot
    compare/           compare runs: the gate, export
    commands/          the commands at the edge, which alone know exit codes

From the build's object files (nm: what each file defines and what it
needs) and from the sources' #include lines, this checks that

  1. no two files of bench/ use each other, directly or around a loop
     (a cycle is named, file by file, with a symbol on each edge);
  2. a file uses (calls, reads, includes) nothing from a layer above its own;
  3. no file below the commands includes a header of commands/ (that is
     where the exit codes live); the one command outside bench/,
     stress/stress.c (it defines cmd_stress), may;
  4. every file of bench/ sits in a layer's folder.

Usage: bench_deps.py --source DIR --nm NM --objects OBJ... [--objects ...]
       bench_deps.py --self-test
An --objects argument may hold a ;-separated list (CMake's TARGET_OBJECTS).
Exit 0: all holds; 1: a rule is broken (each break on a line); 2: usage.
"""

import argparse
import os
import re
import subprocess
import sys

LAYERS = [
    'common',
    'trials/workloads',
    'experiment',
    'trials',
    'record',
    'report',
    'compare',
    'commands',
]
COMMANDS = 'commands'
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def layer_of(rel):
    """The layer of a path relative to bench/ (longest folder prefix), or None."""
    best = None
    for layer in LAYERS:
        if rel.startswith(layer + '/') and (best is None or len(layer) > len(best)):
            best = layer
    return best


def rank(layer):
    return LAYERS.index(layer)


def find_cycles(graph):
    """Every strongly connected component of more than one file, each as one
    cycle through it: [a, b, ..., a].  graph: {file: {file: symbol}}."""
    index, low, on_stack, stack, sccs = {}, {}, set(), [], []
    counter = [0]

    def strongconnect(v):
        # iterative Tarjan: no recursion limit on a long chain
        work = [(v, iter(sorted(graph.get(v, {}))))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        while work:
            node, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, {})))))
                    advanced = True
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    sccs.append(set(comp))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    cycles = []
    for comp in sccs:
        # a shortest way back to the component's first file, inside it (BFS)
        start = min(comp)
        prev, frontier, found = {start: None}, [start], None
        while frontier and found is None:
            nxt = []
            for u in frontier:
                for w in sorted(graph.get(u, {})):
                    if w not in comp:
                        continue
                    if w == start:
                        found = u
                        break
                    if w not in prev:
                        prev[w] = u
                        nxt.append(w)
                if found is not None:
                    break
            frontier = nxt
        path = [start]
        u = found
        while u is not None and u != start:
            path.append(u)
            u = prev[u]
        path = [start] + list(reversed(path[1:])) + [start]
        cycles.append(path)
    return cycles


def check(files, graph, includes, defines):
    """The rules, over
         files:    every source file of bench/ (and stress/), relative to the tree
         graph:    {file: {file it uses: a symbol it uses}} between those files
         includes: {file: [header it includes, relative to the tree]}
         defines:  {file: set of symbols it defines}
       => a list of problems, one line each (empty: all holds)."""
    problems = []

    def bench_rel(f):
        return f[len('bench/'):] if f.startswith('bench/') else None

    for f in sorted(files):
        rel = bench_rel(f)
        if rel is not None and layer_of(rel) is None:
            problems.append('%s: in no layer folder of bench/ (%s): put it where its concern is'
                            % (f, ', '.join(LAYERS)))

    for cycle in find_cycles(graph):
        steps = ['%s -(%s)-> %s' % (a, graph[a][b], b) for a, b in zip(cycle, cycle[1:])]
        problems.append('cycle between files: ' + ';  '.join(steps))

    for f in sorted(graph):
        rel = bench_rel(f)
        if rel is None or layer_of(rel) is None:
            continue
        for g, sym in sorted(graph[f].items()):
            grel = bench_rel(g)
            if grel is None or layer_of(grel) is None:
                continue
            if rank(layer_of(grel)) > rank(layer_of(rel)):
                problems.append('%s (%s/) uses %s of %s (%s/), a layer above it'
                                % (f, layer_of(rel), sym, g, layer_of(grel)))

    def is_command(f):
        rel = bench_rel(f)
        if rel is not None and layer_of(rel) == COMMANDS:
            return True
        return any(s.startswith('cmd_') for s in defines.get(f, ()))

    for f in sorted(includes):
        rel = bench_rel(f)
        for h in includes[f]:
            hrel = bench_rel(h)
            if hrel is None or layer_of(hrel) is None:
                continue
            if layer_of(hrel) == COMMANDS and not is_command(f) and \
               not (rel is not None and layer_of(rel) == COMMANDS):
                # a header of the command layer itself may include its siblings
                problems.append('%s includes %s: a command header, below the commands' % (f, h))
            elif rel is not None and layer_of(rel) is not None and rank(layer_of(hrel)) > rank(layer_of(rel)):
                problems.append('%s (%s/) includes %s (%s/), a layer above it'
                                % (f, layer_of(rel), h, layer_of(hrel)))

    for f in sorted(defines):
        rel = bench_rel(f)
        if rel is None or layer_of(rel) in (None, COMMANDS):
            continue
        for s in sorted(defines[f]):
            if s.startswith('cmd_'):
                problems.append('%s defines %s: a command, below the commands (it belongs in bench/commands/)'
                                % (f, s))
    return problems


def source_of(obj):
    """bench/trials/driver.c from .../CMakeFiles/<target>.dir/bench/trials/driver.c.o"""
    norm = obj.replace(os.sep, '/')
    i = norm.find('.dir/')
    if i < 0 or not norm.endswith('.o'):
        return None
    return norm[i + len('.dir/'):-len('.o')]


def read_symbols(nm, objs):
    defines, needs = {}, {}
    for obj in objs:
        src = source_of(obj)
        if src is None:
            sys.exit('bench_deps: %s: not an object file of a CMake target' % obj)
        out = subprocess.run([nm, '-P', obj], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit('bench_deps: %s -P %s: %s' % (nm, obj, out.stderr.strip()))
        d, u = defines.setdefault(src, set()), needs.setdefault(src, set())
        for line in out.stdout.splitlines():
            parts = line.split()
            if len(parts) < 2:
                continue
            sym, kind = parts[0], parts[1]
            if kind in ('U', 'w', 'v'):
                u.add(sym)
            elif kind.isupper():  # global: text, data, read-only, bss, weak
                d.add(sym)
    return defines, needs


def read_includes(source, files):
    includes = {}
    for f in files:
        with open(os.path.join(source, f), encoding='utf-8', errors='replace') as fh:
            text = fh.read()
        found = []
        for name in INCLUDE_RE.findall(text):
            # as the compiler looks: beside the file, then the include path (bench/, stress/)
            for base in (os.path.dirname(f), 'bench', 'stress'):
                cand = os.path.normpath(os.path.join(base, name)).replace(os.sep, '/')
                if os.path.isfile(os.path.join(source, cand)):
                    found.append(cand)
                    break
        includes[f] = found
    return includes


def list_sources(source):
    files = []
    for top in ('bench', 'stress'):
        for dirpath, _, names in os.walk(os.path.join(source, top)):
            for n in names:
                if n.endswith(('.c', '.h')):
                    files.append(os.path.relpath(os.path.join(dirpath, n), source).replace(os.sep, '/'))
    return sorted(files)


def self_test():
    """The checker can fail: each rule, broken on purpose, is reported."""
    files = ['bench/common/a.c', 'bench/experiment/b.c', 'bench/trials/c.c', 'bench/commands/cmd_x.c',
             'bench/commands/exitcode.h', 'bench/record/r.c']
    clean = {'bench/trials/c.c': {'bench/experiment/b.c': 'exp_f'},
             'bench/experiment/b.c': {'bench/common/a.c': 'msg_f'},
             'bench/commands/cmd_x.c': {'bench/trials/c.c': 'trial_f'}}
    defs = {'bench/commands/cmd_x.c': {'cmd_x'}}
    inc = {'bench/commands/cmd_x.c': ['bench/commands/exitcode.h']}
    assert check(files, clean, inc, defs) == [], check(files, clean, inc, defs)
    cyc = {k: dict(v) for k, v in clean.items()}
    cyc['bench/common/a.c'] = {'bench/trials/c.c': 'trial_g'}
    p = check(files, cyc, inc, defs)
    assert any(x.startswith('cycle between files: bench/common/a.c -(trial_g)-> bench/trials/c.c') for x in p), p
    assert any('a layer above it' in x for x in p), p
    bad_inc = dict(inc)
    bad_inc['bench/record/r.c'] = ['bench/commands/exitcode.h']
    p = check(files, clean, bad_inc, defs)
    assert p == ['bench/record/r.c includes bench/commands/exitcode.h: a command header, below the commands'], p
    # the command outside bench/ (it defines a cmd_*) may include it
    ok_inc = dict(inc)
    ok_inc['stress/stress.c'] = ['bench/commands/exitcode.h']
    defs2 = dict(defs)
    defs2['stress/stress.c'] = {'cmd_stress'}
    assert check(files + ['stress/stress.c'], clean, ok_inc, defs2) == []
    bad_inc['stress/torture.c'] = ['bench/commands/exitcode.h']
    del bad_inc['bench/record/r.c']
    p = check(files + ['stress/torture.c'], clean, bad_inc, defs)
    assert p == ['stress/torture.c includes bench/commands/exitcode.h: a command header, below the commands'], p
    p = check(files + ['bench/loose.c'], clean, inc, defs)
    assert len(p) == 1 and p[0].startswith('bench/loose.c: in no layer folder'), p
    defs3 = dict(defs)
    defs3['bench/trials/c.c'] = {'cmd_y'}
    p = check(files, clean, inc, defs3)
    assert p == ['bench/trials/c.c defines cmd_y: a command, below the commands (it belongs in bench/commands/)'], p
    # a longer loop, named whole
    loop = {'bench/trials/c.c': {'bench/trials/d.c': 'd'}, 'bench/trials/d.c': {'bench/trials/e.c': 'e'},
            'bench/trials/e.c': {'bench/trials/c.c': 'c'}}
    p = check(['bench/trials/c.c', 'bench/trials/d.c', 'bench/trials/e.c'], loop, {}, {})
    assert p == ['cycle between files: bench/trials/c.c -(d)-> bench/trials/d.c;  bench/trials/d.c -(e)-> '
                 'bench/trials/e.c;  bench/trials/e.c -(c)-> bench/trials/c.c'], p
    print('bench_deps self-test: every rule broken on purpose was reported')
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--source')
    ap.add_argument('--nm', default='nm')
    ap.add_argument('--objects', action='append', default=[])
    ap.add_argument('--self-test', action='store_true')
    a = ap.parse_args()
    if a.self_test:
        return self_test()
    objs = [o for arg in a.objects for o in arg.split(';') if o]
    if a.source is None or not objs:
        ap.print_usage(sys.stderr)
        return 2
    defines, needs = read_symbols(a.nm, objs)
    owner = {}
    for f, syms in defines.items():
        for s in syms:
            owner.setdefault(s, f)
    graph = {}
    for f, syms in needs.items():
        for s in sorted(syms):
            g = owner.get(s)
            if g is not None and g != f and (g.startswith('bench/') or g.startswith('stress/')):
                graph.setdefault(f, {}).setdefault(g, s)
    files = list_sources(a.source)
    missing = [f for f in files if f.endswith('.c') and f not in defines]
    if missing:
        print('bench_deps: no object file for %s (is the build up to date?)' % ', '.join(missing), file=sys.stderr)
        return 2
    includes = read_includes(a.source, files)
    problems = check(files, graph, includes, defines)
    for p in problems:
        print(p)
    if problems:
        print('bench_deps: %d problem(s); the layers, lowest first: %s' % (len(problems), ', '.join(LAYERS)))
        return 1
    edges = sum(len(v) for v in graph.values())
    print('bench_deps: %d files, %d uses between them: no cycle, no use of a layer above, '
          'command headers included by commands only' % (len(files), edges))
    return 0


if __name__ == '__main__':
    sys.exit(main())
