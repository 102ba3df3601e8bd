#!/usr/bin/env python3
"""Checks the layering of src/: no module uses a module that (directly or through
others) uses it back, and no layer directory (git/, release/, …) does either.

Reads `use crate::…` and `crate::…` paths (re-exports resolved to the module that
defines the item; `#[cfg(test)]` code and comments ignored). Prints each cycle and
exits 1 when there is one. `-g` also prints the module graph.

    scripts/check-layers.py [SRC_DIR] [-g]
"""
import re, os, sys
args = [a for a in sys.argv[1:] if not a.startswith('-')]
root = args[0] if args else 'src'
mods = {}
for dp, dn, fn in os.walk(root):
    for f in fn:
        if not f.endswith('.rs'): continue
        p = os.path.join(dp, f)
        rel = os.path.relpath(p, root)[:-3]
        if rel in ('main', 'lib') or rel.startswith('cli'): continue
        parts = rel.split('/')
        if parts[-1] == 'mod': parts = parts[:-1]
        mods['::'.join(parts)] = p
def strip_tests(src):
    src = re.sub(r'//[^\n]*', '', src)
    i = src.find('#[cfg(test)]')
    return src if i < 0 else src[:i]
def split_top(inner):
    depth = 0; cur = ''; items = []
    for ch in inner:
        if ch == '{': depth += 1
        if ch == '}': depth -= 1
        if ch == ',' and depth == 0: items.append(cur); cur = ''
        else: cur += ch
    items.append(cur)
    return [i.strip() for i in items if i.strip()]
def expand(prefix, body):
    body = body.strip()
    m = re.match(r'^([\w:]*?)(?:::)?\{(.*)\}$', body, re.S)
    if m:
        head = [s for s in m.group(1).split('::') if s]
        out = []
        for it in split_top(m.group(2)):
            out += expand(prefix + head, it)
        return out
    segs = [s for s in body.split(' as ')[0].strip().split('::') if s]
    alias = body.split(' as ')[1].strip() if ' as ' in body else None
    full = prefix + segs
    if full and full[-1] == 'self': full = full[:-1]
    return [(full, alias or (full[-1] if full else None))]
src_of = {m: strip_tests(open(p).read()) for m, p in mods.items()}
# re-exports: (module, name) -> module defining it
reexp = {}
for m, src in src_of.items():
    for u in re.finditer(r'\bpub use\s+((?:self::|super::|crate::)?[\w:{}, \n]+);', src):
        for full, alias in expand([], u.group(1)):
            if not full: continue
            if full[0] == 'crate': base = full[1:]
            elif full[0] == 'self': base = (m.split('::') if m else []) + full[1:]
            else: base = (m.split('::') if m else []) + full
            reexp[(m, alias)] = base
def resolve(segs, depth=0):
    for i in range(len(segs), 0, -1):
        cand = '::'.join(segs[:i])
        if cand in mods:
            if i < len(segs) and (cand, segs[i]) in reexp and depth < 10:
                return resolve(reexp[(cand, segs[i])] + segs[i+1:], depth + 1)
            return cand
    return None
graph = {}
for m, src in src_of.items():
    deps = set(); aliases = {}
    for u in re.finditer(r'\b(?:pub(?:\(crate\))? )?use\s+crate::(.*?);', src, re.S):
        for full, alias in expand([], u.group(1)):
            t = resolve(full)
            if t: deps.add(t)
            if full and '::'.join(full) in mods and alias: aliases[alias] = full
    for path in re.findall(r'crate::([\w:]+)', re.sub(r'\buse\s+crate::.*?;', '', src, flags=re.S)):
        t = resolve(path.split('::'))
        if t: deps.add(t)
    for alias, full in aliases.items():
        for name in re.findall(r'(?<![\w:])' + alias + r'::(\w+)', src):
            t = resolve(full + [name])
            if t: deps.add(t)
    deps.discard(m)
    graph[m] = deps
if '-g' in sys.argv:
    for m in sorted(graph): print(m, '->', ' '.join(sorted(graph[m])))
def cycles(graph):
    idx = {}; low = {}; st = []; on = set(); sccs = []; c = [0]
    def sc(v):
        idx[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
        for w in graph.get(v, ()):
            if w not in idx: sc(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], idx[w])
        if low[v] == idx[v]:
            comp = []
            while True:
                w = st.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: sccs.append(sorted(comp))
    for v in list(graph):
        if v not in idx: sc(v)
    return sccs
sys.setrecursionlimit(10000)
layers = {}
for m, deps in graph.items():
    top = m.split('::')[0]
    layers.setdefault(top, set()).update(d.split('::')[0] for d in deps if d.split('::')[0] != top)
found = [('module', c) for c in cycles(graph)] + [('layer', c) for c in cycles(layers)]
for kind, c in found:
    print(f'{kind} cycle: ' + ' -> '.join(c))
print(f'{len(graph)} modules, {len(layers)} layers, {len(found)} cycles')
sys.exit(1 if found else 0)
