#!/usr/bin/env python3
"""No circle in any folder (issue 14): from the object files of the product libraries, which file
calls a function or reads data another file defines. Fails when (a) a library reaches one above
it (core <- lists <- detectors, exporters <- collector), or (b) the files of one folder call each
other in a circle (a strongly connected set of two or more files). Prints the layering it found.

  tests/integration/no_circles.py BUILD_DIR SOURCE_DIR

Objects whose source file no longer exists (left in an incremental build) are ignored."""
import os, subprocess, sys
from collections import defaultdict

LIBS = {'core': 0, 'lists': 1, 'detectors': 2, 'exporters': 2, 'collector': 3}


def objects(build, src):
    for lib in LIBS:
        top = os.path.join(build, lib, 'CMakeFiles', f'tw_{lib}.dir')
        for d, _, fs in os.walk(top):
            for f in fs:
                if f.endswith('.c.o'):
                    rel = os.path.relpath(os.path.join(d, f[:-4]), top)
                    if os.path.exists(os.path.join(src, lib, rel + '.c')):
                        yield lib, os.path.join(lib, rel), os.path.join(d, f)


def nm(args, path):
    out = subprocess.run(['nm', *args, path], check=True, capture_output=True, text=True).stdout
    return [l.split() for l in out.splitlines() if l.strip()]


def sccs(nodes, edges):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            out.append(comp)
    sys.setrecursionlimit(10000)
    for v in nodes:
        if v not in index:
            visit(v)
    return out


def main():
    build, src = sys.argv[1], sys.argv[2]
    owner, files = {}, {}
    for lib, name, path in objects(build, src):
        files[name] = (lib, path)
        for parts in nm(['--defined-only', '-g'], path):
            if len(parts) == 3 and parts[1] in 'TDBRGSV':
                owner[parts[2]] = name
    if len(files) < 20:
        print(f'no_circles: only {len(files)} objects under {build}: build the libraries first')
        return 77
    edges, bad, refs = defaultdict(set), 0, 0
    for name, (lib, path) in files.items():
        for parts in nm(['-u'], path):
            d = owner.get(parts[-1])
            if not d or d == name:
                continue
            refs += 1
            dlib = files[d][0]
            if LIBS[dlib] > LIBS[lib] or (LIBS[dlib] == LIBS[lib] and dlib != lib):
                print(f'no_circles: {name}.c ({lib}) uses {parts[-1]} of {d}.c ({dlib}): a library above')
                bad += 1
            if os.path.dirname(d) == os.path.dirname(name):
                edges[name].add(d)
    for comp in sccs(sorted(files), edges):
        if len(comp) > 1:
            print('no_circles: files of one folder call each other in a circle: ' +
                  ', '.join(sorted(c + '.c' for c in comp)))
            bad += 1
    print(f'no_circles: {len(files)} files, {refs} cross-file references, {bad} problems')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
