#!/usr/bin/env python3
"""lint_alloc.py — no raw heap allocator calls outside <pmapstorm/alloc.h>.

malloc() and calloc() align to 16 bytes; the model's per-CPU types are
64-byte aligned, and a calloc()'d array of them is misaligned whenever the
heap says so (issue 14: struct drv_cpu, bench/trials/driver.c).  The project's rule
(core/include/pmapstorm/alloc.h): host objects are allocated with
mem_alloc/mem_zalloc/mem_zalloc_flex/mem_realloc(T, ...), which take the
allocator from _Alignof(T).  A textual check cannot tell the type behind
sizeof(*p), so this fails on every call of a raw allocator in C code of
core/, bench/, stress/ and tests/ (comments and string literals excluded),
wherever it is, with file:line.

Usage: lint_alloc.py SOURCE_DIR    scan the tree; exit 1 and list offenders
       lint_alloc.py --self-test   the scanner finds what it must, and only that
"""
import os
import re
import sys

RAW = re.compile(r'(?<![A-Za-z0-9_])(malloc|calloc|realloc|reallocarray|aligned_alloc|posix_memalign|memalign'
                 r'|valloc|pvalloc)\s*\(')
DIRS = ('core', 'bench', 'stress', 'tests')
HELPER = os.path.join('core', 'include', 'pmapstorm', 'alloc.h')


def code_only(text):
    """text with comments and string/char literals blanked (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j]))
            i = j
        elif text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            out.append(' ' * (j - i))
            i = j
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            j = min(j + 1, n)
            out.append(c + ' ' * (j - i - 2) + (c if j - i >= 2 else ''))
            i = j
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def offenders(path, text):
    code = code_only(text)
    found = []
    for m in RAW.finditer(code):
        line = code.count('\n', 0, m.start()) + 1
        found.append((path, line, m.group(1)))
    return found


def scan(root):
    found = []
    for d in DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, d)):
            dirnames.sort()
            for f in sorted(filenames):
                if not f.endswith(('.c', '.h')):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, root)
                if rel == HELPER:
                    continue
                with open(path, encoding='utf-8', errors='replace') as fh:
                    found += offenders(rel, fh.read())
    return found


def self_test():
    sample = '\n'.join([
        '/* calloc(1, 2) in a comment */',
        'struct drv_cpu *c = calloc(n, sizeof(*c));',   # line 2: caught
        'const char *s = "malloc(3)";  // realloc(p, 4)',
        'p = my_malloc(8); q = mem_zalloc(struct x, 1);',
        'r = realloc (p, 9);',                           # line 5: caught
        "char c = '\\''; if (posix_memalign(&v, 64, 128)) {}",  # line 6: caught
    ])
    got = [(line, fn) for _, line, fn in offenders('sample.c', sample)]
    want = [(2, 'calloc'), (5, 'realloc'), (6, 'posix_memalign')]
    if got != want:
        print(f'lint_alloc self-test: found {got}, expected {want}')
        return 1
    print('lint_alloc self-test: ok')
    return 0


def main(argv):
    if len(argv) == 2 and argv[1] == '--self-test':
        return self_test()
    if len(argv) != 2:
        print(__doc__.strip().split('\n\n')[-1], file=sys.stderr)
        return 2
    if self_test() != 0:
        return 1
    found = scan(argv[1])
    for path, line, fn in found:
        print(f'{path}:{line}: {fn}() called directly: allocate with mem_alloc/mem_zalloc(T, n) '
              f'from <pmapstorm/alloc.h>, which takes the allocator from _Alignof(T)')
    if found:
        print(f'lint_alloc: {len(found)} raw allocator call(s)')
        return 1
    print('lint_alloc: no raw allocator calls outside pmapstorm/alloc.h')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
