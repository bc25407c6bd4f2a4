#!/usr/bin/env python3
"""Draws the crate's module graph from its `crate::` and `super::` paths, and checks it.

The modules of `src/lib.rs` are declared in flow order (ARCHITECTURE.md): a module may use only
modules declared above it. Within a module, sibling files must not use each other in a circle.

    scripts/module-graph.py            # the graph between top-level modules, as Graphviz DOT
    scripts/module-graph.py --files    # the graph between the files inside each module
    scripts/module-graph.py --check    # exit 1 on an upward edge or a cycle, naming file and line
    scripts/module-graph.py --src DIR --check   # the same for another source tree (tests)

Only the standard library: CI runs it on a fresh machine.
"""

import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SRC = os.path.join(ROOT, "src")

MOD_DECL = re.compile(r"^\s*pub\s+mod\s+(\w+)\s*;", re.M)
# `crate::name` or `crate::{a, b::c}` (the braces are expanded below).
CRATE_PATH = re.compile(r"\bcrate::(\{|\w+)")
SUPER_PATH = re.compile(r"\bsuper::(\{|\w+)")


def strip_comments(line):
    """The code of one line, without a trailing `//` comment (not inside a string)."""
    in_str = False
    i = 0
    while i < len(line):
        c = line[i]
        if c == "\\" and in_str:
            i += 2
            continue
        if c == '"':
            in_str = not in_str
        elif not in_str and line.startswith("//", i):
            return line[:i]
        i += 1
    return line


def brace_names(text, start):
    """The first path segment of each item in the `{...}` group that opens at `start`."""
    depth = 0
    names = []
    token = ""
    at_item_start = True
    for c in text[start:]:
        if c == "{":
            depth += 1
            if depth == 1:
                at_item_start = True
                token = ""
            continue
        if c == "}":
            depth -= 1
            if depth == 0:
                if token:
                    names.append(token)
                break
            continue
        if depth == 1:
            if c == ",":
                if token:
                    names.append(token)
                token = ""
                at_item_start = True
            elif at_item_start and (c.isalnum() or c == "_"):
                token += c
            elif token and not (c.isalnum() or c == "_"):
                names.append(token)
                token = ""
                at_item_start = False
    return names


def references(text, pattern):
    """(line number, first segment) for each path that `pattern` finds in `text`."""
    lines = [strip_comments(l) for l in text.split("\n")]
    code = "\n".join(lines)
    found = []
    for m in pattern.finditer(code):
        line_no = code.count("\n", 0, m.start()) + 1
        if m.group(1) == "{":
            for name in brace_names(code, m.end() - 1):
                found.append((line_no, name))
        else:
            found.append((line_no, m.group(1)))
    return found


def module_order():
    with open(os.path.join(SRC, "lib.rs"), encoding="utf-8") as f:
        return MOD_DECL.findall(f.read())


def rust_files():
    for dirpath, _, files in os.walk(SRC):
        for name in sorted(files):
            if name.endswith(".rs"):
                path = os.path.join(dirpath, name)
                yield os.path.relpath(path, SRC)


def owner(rel):
    """The top-level module a file belongs to (`None` for lib.rs and main.rs)."""
    parts = rel.split(os.sep)
    if len(parts) == 1:
        stem = parts[0][:-3]
        return None if stem in ("lib", "main") else stem
    return parts[0]


def unit(rel):
    """The file's unit inside its module: `client` for src/github/client.rs, None for mod.rs."""
    parts = rel.split(os.sep)
    if len(parts) < 2:
        return None
    second = parts[1]
    if second == "mod.rs":
        return None
    return second[:-3] if second.endswith(".rs") else second


def graph():
    order = module_order()
    rank = {m: i for i, m in enumerate(order)}
    edges = {}  # (from, to) -> [(file, line)]
    file_edges = {}  # module -> {(from unit, to unit): [(file, line)]}
    for rel in rust_files():
        mod = owner(rel)
        if mod is None:
            continue
        with open(os.path.join(SRC, rel), encoding="utf-8") as f:
            text = f.read()
        me = unit(rel)
        units = sibling_units(mod)
        for line, target in references(text, CRATE_PATH):
            if target in rank and target != mod:
                edges.setdefault((mod, target), []).append((rel, line))
        # Sibling use inside a module: `crate::mod::unit` or `super::unit` from a direct child.
        if me is None:
            continue
        for line, name in own_module_refs(text, mod):
            if name in units and name != me:
                file_edges.setdefault(mod, {}).setdefault((me, name), []).append((rel, line))
        if len(rel.split(os.sep)) == 2:
            for line, name in references(text, SUPER_PATH):
                if name in units and name != me:
                    file_edges.setdefault(mod, {}).setdefault((me, name), []).append((rel, line))
    return order, rank, edges, file_edges


def sibling_units(mod):
    folder = os.path.join(SRC, mod)
    if not os.path.isdir(folder):
        return set()
    units = set()
    for name in os.listdir(folder):
        if name.endswith(".rs") and name != "mod.rs":
            units.add(name[:-3])
        elif os.path.isdir(os.path.join(folder, name)):
            units.add(name)
    return units


def own_module_refs(text, mod):
    pattern = re.compile(r"\bcrate::" + re.escape(mod) + r"::(\{|\w+)")
    return references(text, pattern)


def cycles(nodes, edges):
    """Strongly connected components with more than one node (Tarjan)."""
    index = {}
    low = {}
    stack = []
    on_stack = set()
    found = []
    counter = [0]
    succ = {n: sorted({b for (a, b) in edges if a == n}) for n in nodes}

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in succ.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for n in sorted(nodes):
        if n not in index:
            visit(n)
    return found


def check():
    order, rank, edges, file_edges = graph()
    problems = []
    for (a, b), sites in sorted(edges.items()):
        if rank[b] > rank[a]:
            file, line = sites[0]
            problems.append(
                f"src/{file}:{line}: upward edge {a} -> {b} "
                f"({b} is declared after {a} in src/lib.rs; {len(sites)} use(s))"
            )
    for comp in cycles(order, edges):
        problems.append("cycle between modules: " + " -> ".join(comp))
    for mod, fe in sorted(file_edges.items()):
        nodes = {a for a, _ in fe} | {b for _, b in fe}
        for comp in cycles(nodes, fe):
            sites = [
                f"src/{f}:{l}"
                for (a, b), ss in sorted(fe.items())
                if a in comp and b in comp
                for f, l in ss[:1]
            ]
            problems.append(
                f"cycle between files of {mod}: " + " <-> ".join(comp) + " (" + ", ".join(sites) + ")"
            )
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in the module graph", file=sys.stderr)
        return 1
    print(f"module graph ok: {len(order)} modules, {len(edges)} edges, all downward, no cycles")
    return 0


def dot(files):
    order, rank, edges, file_edges = graph()
    print("digraph modules {")
    print("  rankdir=LR; node [shape=box];")
    if files:
        for mod, fe in sorted(file_edges.items()):
            print(f'  subgraph "cluster_{mod}" {{ label="{mod}";')
            for (a, b) in sorted(fe):
                print(f'    "{mod}::{a}" -> "{mod}::{b}";')
            print("  }")
    else:
        for m in order:
            print(f'  "{m}";')
        for (a, b) in sorted(edges, key=lambda e: (rank[e[0]], rank[e[1]])):
            print(f'  "{a}" -> "{b}";')
    print("}")
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "--src":
        SRC = os.path.abspath(args[1])
        args = args[2:]
    if args == ["--check"]:
        sys.exit(check())
    if args in ([], ["--files"]):
        sys.exit(dot(files=bool(args)))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
