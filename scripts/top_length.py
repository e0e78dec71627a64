#!/usr/bin/env python3
"""Function-length gate (issue 14), in the manner of curl's scripts/top-length.

  scripts/top_length.py [--top N] [--write-allow]

Measures every function definition in the product and test C sources (from the line of its
opening brace to its closing one; the style puts both alone in column 0, which .clang-format
keeps) and fails when one is longer than LIMIT lines, unless scripts/length-allow.txt lists it:
that file holds today's offenders at their current size, so they can only shrink (one that grew
fails too; one that shrank is reported so its line can be lowered or removed). --top N prints
the N longest; --write-allow rewrites the allow list from the tree as it is (for a deliberate
change, reviewed like code)."""
import os, re, subprocess, sys

LIMIT = 120
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALLOW = os.path.join(ROOT, 'scripts', 'length-allow.txt')
DIRS = ('core', 'lists', 'collector', 'detectors', 'exporters', 'tests', 'fuzz', 'bench')
NAME = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*\(')


def sources():
    try:
        out = subprocess.run(['git', 'ls-files', '--', *DIRS], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        out = [os.path.relpath(os.path.join(d, f), ROOT)
               for top in DIRS for d, _, fs in os.walk(os.path.join(ROOT, top)) for f in fs]
    return sorted(p for p in out if p.endswith('.c'))


def functions(path):
    with open(os.path.join(ROOT, path), encoding='utf-8', errors='replace') as fh:
        lines = fh.read().split('\n')
    i = 0
    while i < len(lines):
        if lines[i] != '{':
            i += 1
            continue
        # the signature: the lines above, back to the one that starts in column 0
        j, sig = i - 1, []
        while j >= 0 and lines[j] and (lines[j][0] in ' \t' or not sig):
            sig.insert(0, lines[j])
            if lines[j][0] not in ' \t':
                break
            j -= 1
        text = ' '.join(sig)
        m = NAME.search(text)
        start = i
        i += 1
        while i < len(lines) and lines[i] != '}':
            i += 1
        if m and not text.lstrip().startswith(('#', '/*', '//', 'struct ', 'enum ', 'union ')) \
                or m and '(' in text and text.rstrip().endswith(')'):
            yield m.group(1), i - start + 1
        i += 1


def main():
    args = sys.argv[1:]
    found = {}
    for p in sources():
        for name, n in functions(p):
            found[f'{p}:{name}'] = max(n, found.get(f'{p}:{name}', 0))
    if '--top' in args:
        k = int(args[args.index('--top') + 1])
        for key, n in sorted(found.items(), key=lambda kv: -kv[1])[:k]:
            print(f'{n:5d} {key}')
        return 0
    if '--write-allow' in args:
        with open(ALLOW, 'w') as fh:
            fh.write(f'# Functions longer than {LIMIT} lines today, at their current size: they may only\n'
                     '# shrink (scripts/top_length.py fails when one grows or a new one passes the limit).\n')
            for key, n in sorted(found.items()):
                if n > LIMIT:
                    fh.write(f'{key} {n}\n')
        return 0
    allow = {}
    if os.path.exists(ALLOW):
        for line in open(ALLOW):
            if line.strip() and not line.startswith('#'):
                key, n = line.split()
                allow[key] = int(n)
    bad = 0
    for key, n in sorted(found.items()):
        if n <= LIMIT:
            if key in allow:
                print(f'top-length: {key} is {n} lines now (listed at {allow[key]}): remove its line')
            continue
        if key not in allow:
            print(f'top-length: {key} is {n} lines (limit {LIMIT}): split it')
            bad += 1
        elif n > allow[key]:
            print(f'top-length: {key} grew to {n} lines (listed at {allow[key]})')
            bad += 1
        elif n < allow[key]:
            print(f'top-length: {key} shrank to {n} lines (listed at {allow[key]}): lower its line')
    for key in sorted(set(allow) - set(found)):
        print(f'top-length: {key} is gone: remove its line')
    over = sum(1 for n in found.values() if n > LIMIT)
    print(f'top-length: {len(found)} functions, {over} over {LIMIT} lines, {bad} failing')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
