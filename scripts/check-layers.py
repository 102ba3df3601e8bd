#!/usr/bin/env python3
"""Checks the layering of src/: no file uses an item of a file that (directly or
through others) uses one of its own, and no layer (the top-level modules: git/,
store/, release/, …) does either.

What counts as a use: every path that names an item of another file, however it is
spelt: `crate::a::b::Item`, `super::Item`, `super::super::x::f`, `self::x::Item`, a
child module's name (`walk::Walker` after `mod walk;`), an alias brought in by `use`
(`use crate::store; … store::Snapshot`), nested groups (`use super::{a::{B, C}, d}`)
and globs (`use super::*`, which uses the whole module). A re-export (`pub use
x::Item`) is followed to the file that defines the item.

What does not count: the module tree itself. A `mod.rs` that declares its children
(`mod walk;`) and re-exports their items is not using them, and a child that uses
its parent's items depends on the parent, as any other file would. So a parent and a
child are a cycle only when each uses the other's items, the same rule as for any two
files, at any depth.

`#[cfg(test)]` code, comments and string literals are ignored. Prints each cycle with
the items that make it and exits 1 when there is one; `-g` also prints the graph.

    scripts/check-layers.py [SRC_DIR] [-g]
"""
import os
import re
import sys

ITEM_KINDS = r'(?:fn|struct|enum|trait|type|const|static|union|mod)'


def strip(src):
    """The source with comments, string and char literals blanked out (lengths and
    newlines kept, so positions still match), and `#[cfg(test)]` items removed."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith('//', i):
            j = src.find('\n', i)
            j = n if j < 0 else j
            out.append(' ' * (j - i))
            i = j
        elif src.startswith('/*', i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith('/*', j):
                    depth, j = depth + 1, j + 2
                elif src.startswith('*/', j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r'[^\n]', ' ', src[i:j]))
            i = j
        elif re.match(r'b?r#*"', src[i:i + 20]) and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == '_')):
            m = re.match(r'b?r(#*)"', src[i:])
            end = '"' + m.group(1)
            j = src.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append('""' + re.sub(r'[^\n]', ' ', src[i + 2:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == '\\' else 1
            out.append('"' + re.sub(r'[^\n]', ' ', src[i + 1:j]) + '"')
            i = j + 1
        elif c == "'":
            m = re.match(r"'(?:\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", src[i:])
            if m:
                out.append("' '" + ' ' * (m.end() - 3))
                i += m.end()
            else:
                out.append(c)  # a lifetime
                i += 1
        else:
            out.append(c)
            i += 1
    text = ''.join(out)
    # `#[cfg(test)]` and the item after it (a `mod tests { … }` or a single item).
    while True:
        m = re.search(r'#\[cfg\(test\)\]', text)
        if not m:
            return text
        j = m.end()
        while j < len(text) and text[j] not in '{;':
            j += 1
        if j < len(text) and text[j] == '{':
            j = matching_brace(text, j)
        text = text[:m.start()] + ' ' * (j + 1 - m.start()) + text[j + 1:]


def matching_brace(text, at):
    depth = 0
    for j in range(at, len(text)):
        if text[j] == '{':
            depth += 1
        elif text[j] == '}':
            depth -= 1
            if depth == 0:
                return j
    return len(text) - 1


def split_top(inner):
    depth, cur, items = 0, '', []
    for ch in inner:
        if ch == '{':
            depth += 1
        if ch == '}':
            depth -= 1
        if ch == ',' and depth == 0:
            items.append(cur)
            cur = ''
        else:
            cur += ch
    items.append(cur)
    return [i.strip() for i in items if i.strip()]


def expand(prefix, body):
    """The paths of a use tree: [(segments, alias)]; alias None for a glob."""
    body = body.strip()
    m = re.match(r'^([\w:\s]*?)(?:::)?\s*\{(.*)\}$', body, re.S)
    if m:
        head = [s.strip() for s in m.group(1).split('::') if s.strip()]
        out = []
        for item in split_top(m.group(2)):
            out += expand(prefix + head, item)
        return out
    parts = re.split(r'\s+as\s+', body)
    segs = [s for s in re.sub(r'\s+', '', parts[0]).split('::') if s]
    alias = parts[1].strip() if len(parts) > 1 else None
    full = prefix + segs
    if full and full[-1] == 'self':
        full = full[:-1]
    if full and full[-1] == '*':
        return [(full[:-1], None)]
    return [(full, alias or (full[-1] if full else None))]


class Crate:
    def __init__(self, root):
        self.files = {}  # module path (tuple) -> file
        for dirpath, _, names in os.walk(root):
            for name in names:
                if not name.endswith('.rs'):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)[:-3]
                if rel == 'main':
                    continue  # the binary: it uses the library from outside
                parts = [] if rel == 'lib' else rel.split('/')
                if parts and parts[-1] == 'mod':
                    parts = parts[:-1]
                self.files[tuple(parts)] = path
        self.text = {m: strip(open(p).read()) for m, p in self.files.items()}
        self.defined = {}   # module (incl. inline) -> names defined there
        self.reexports = {}  # (module, name) -> absolute segments
        self.globs = {}     # module -> [absolute module segments] re-exported with *
        self.scopes = {}    # file module -> [(start, end, inline module path)]
        for m, text in self.text.items():
            self.scopes[m] = self.inline_modules(m, text)
            for d in re.finditer(r'\b' + ITEM_KINDS + r'\s+(\w+)', text):
                self.defined.setdefault(self.scope_at(m, d.start()), set()).add(d.group(1))
            for u in re.finditer(r'\bpub(?:\([\w ]+\))?\s+use\s+([^;]+);', text):
                at = self.scope_at(m, u.start())
                for segs, alias in expand([], u.group(1)):
                    full = self.absolute(at, segs)
                    if full is None:
                        continue
                    if alias is None:
                        self.globs.setdefault(at, []).append(full)
                    else:
                        self.reexports[(at, alias)] = full

    def inline_modules(self, m, text):
        spans = []
        for d in re.finditer(r'\bmod\s+(\w+)\s*\{', text):
            end = matching_brace(text, d.end() - 1)
            spans.append((d.start(), end, d.group(1)))
        return spans

    def scope_at(self, m, pos):
        """The module (with inline modules) that position `pos` of file `m` is in."""
        path = list(m)
        for start, end, name in self.scopes.get(m, []):
            if start <= pos <= end:
                path.append(name)
        return tuple(path)

    def children(self, scope):
        return {f[len(scope)] for f in self.files if len(f) == len(scope) + 1 and f[:len(scope)] == scope} | \
            {s[len(scope)] for s in self.defined if len(s) == len(scope) + 1 and s[:len(scope)] == scope}

    def absolute(self, scope, segs):
        """`segs` as written in `scope`, as a path from the crate root, or None for a
        path outside the crate (std, git2, …)."""
        if not segs:
            return None
        if segs[0] == 'crate':
            return list(segs[1:])
        if segs[0] in ('self', 'super'):
            base = list(scope)
            rest = list(segs)
            if rest[0] == 'self':
                rest = rest[1:]
            while rest and rest[0] == 'super':
                base = base[:-1]
                rest = rest[1:]
            return base + rest
        if segs[0] in self.children(scope):
            return list(scope) + list(segs)
        return None

    def file_of(self, segs, seen=0):
        """The file that defines the item at absolute path `segs`."""
        for i in range(len(segs), -1, -1):
            scope = tuple(segs[:i])
            if scope not in self.files and scope not in self.defined:
                continue
            if i == len(segs):
                return self.file_containing(scope)
            name = segs[i]
            if (scope, name) in self.reexports and seen < 20:
                return self.file_of(self.reexports[(scope, name)] + list(segs[i + 1:]), seen + 1)
            if name not in self.defined.get(scope, ()) and seen < 20:
                for glob in self.globs.get(scope, []):
                    target = self.file_of(glob + list(segs[i:]), seen + 1)
                    if target is not None and name in self.defined.get(tuple(glob), ()):
                        return target
            return self.file_containing(scope)
        return None

    def file_containing(self, scope):
        for i in range(len(scope), -1, -1):
            if tuple(scope[:i]) in self.files:
                return tuple(scope[:i])
        return None

    def is_module(self, segs):
        """Whether `segs` names a module (a file, or an inline `mod x { … }`)."""
        return tuple(segs) in self.files or tuple(segs) in self.defined

    def uses(self):
        """{file: {used file: {item paths}}}."""
        graph = {m: {} for m in self.files}
        for m, text in self.text.items():
            def add(scope, full, what):
                target = self.file_of(full)
                if target is not None and target != m:
                    graph[m].setdefault(target, set()).add(what)
            aliases = {}  # (scope, alias) -> absolute module path
            # The code without its use and mod declarations: where names are used.
            code = re.sub(r'\buse\s+[^;]+;', lambda u: ' ' * len(u.group(0)), text)
            code = re.sub(r'\bmod\s+\w+\s*;', lambda u: ' ' * len(u.group(0)), code)
            for u in re.finditer(r'\b(pub(?:\([\w ]+\))?\s+)?use\s+([^;]+);', text):
                scope = self.scope_at(m, u.start())
                reexport = bool(u.group(1))
                for segs, alias in expand([], u.group(2)):
                    full = self.absolute(scope, segs)
                    if full is None:
                        continue
                    what = '::'.join(segs) + ('::*' if alias is None else '')
                    if self.is_module(full) and alias is not None:
                        aliases[(scope, alias)] = full  # a module brought into scope
                        continue
                    # The module tree: a module re-exporting its descendants' items
                    # is not using them, unless its own code names them too.
                    if reexport and tuple(full[:len(scope)]) == scope and len(full) > len(scope):
                        if alias is None or not re.search(r'(?<![\w:])' + alias + r'\b', code):
                            continue
                    add(scope, full, what)
            # Paths in the code.
            for p in re.finditer(r'(?<![\w:])((?:\w+::)+\w+)', code):
                segs = p.group(1).split('::')
                scope = self.scope_at(m, p.start())
                full = None
                for s in [scope[:i] for i in range(len(scope), -1, -1)]:
                    if (s, segs[0]) in aliases:
                        full = aliases[(s, segs[0])] + segs[1:]
                        break
                if full is None:
                    full = self.absolute(scope, segs)
                if full is not None:
                    add(scope, full, p.group(1))
        return graph


def cycles(graph):
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in list(graph):
        if v not in index:
            visit(v)
    return found


def name(m):
    return '::'.join(m) if m else 'crate'


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('-')]
    crate = Crate(args[0] if args else 'src')
    graph = crate.uses()
    if '-g' in sys.argv:
        for m in sorted(graph):
            print(name(m), '->', ' '.join(sorted(name(d) for d in graph[m])))
    layers = {}
    for m, deps in graph.items():
        if not m:
            continue
        layer = m[0]
        layers.setdefault(layer, {})
        for d, items in deps.items():
            if d and d[0] != layer:
                layers[layer].setdefault(d[0], set()).update(f'{name(m)}: {i}' for i in items)
    found = [('module', c, graph) for c in cycles(graph)] + [('layer', c, layers) for c in cycles(layers)]
    for kind, component, g in found:
        print(f'{kind} cycle: ' + ' -> '.join(name(c) if isinstance(c, tuple) else c for c in component))
        for a in component:
            for b in component:
                if b in g.get(a, {}):
                    items = sorted(g[a][b])
                    shown = ', '.join(items[:4]) + (', …' if len(items) > 4 else '')
                    an = name(a) if isinstance(a, tuple) else a
                    bn = name(b) if isinstance(b, tuple) else b
                    print(f'    {an} uses {bn}: {shown}')
    print(f'{len(graph)} modules, {len(layers)} layers, {len(found)} cycles')
    sys.exit(1 if found else 0)


sys.setrecursionlimit(10000)
main()
