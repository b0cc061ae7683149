#!/usr/bin/env python3
# Reruns every golden case (tests/data/golden/SOURCE/NAME.body with its
# .headers and .query) through `sourcegate check` at the received time the
# golden test pins, and lists the cases whose result differs from their
# .expected.json; with --write, rewrites those files. Read every diff
# against the Spec before committing it.
# Usage: tools/regen-goldens.py [--write] [BUILD_DIR]      (default: build)
# SPDX-License-Identifier: MIT
import json
import os
import subprocess
import sys

RECEIVED_AT = '2026-01-01T00:00:00Z'  # GOLDEN_RECEIVED_MS in tests/unit/mapping/test_golden.c


def main():
    args = [a for a in sys.argv[1:] if a != '--write']
    write = '--write' in sys.argv[1:]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binary = os.path.join(root, args[0] if args else 'build', 'gateway', 'sourcegate')
    gold = os.path.join(root, 'tests', 'data', 'golden')
    changed = []
    for src in sorted(os.listdir(gold)):
        d = os.path.join(gold, src)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if not f.endswith('.body'):
                continue
            name = f[:-len('.body')]
            cmd = [binary, 'check', '--rules', os.path.join(root, 'rules'), '--source', src,
                   '--received-at', RECEIVED_AT]
            hdr = os.path.join(d, name + '.headers')
            if os.path.exists(hdr):
                for line in open(hdr, encoding='utf-8').read().splitlines():
                    if ':' in line:
                        cmd += ['--header', line]
            query = os.path.join(d, name + '.query')
            if os.path.exists(query):
                cmd += ['--query', open(query, encoding='utf-8').read().strip()]
            cmd.append(os.path.join(d, f))
            out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
            expected = os.path.join(d, name + '.expected.json')
            try:
                want = json.load(open(expected, encoding='utf-8'))
            except (OSError, ValueError):
                want = None
            if json.loads(out) != want:
                changed.append(src + '/' + name)
                if write:
                    open(expected, 'w', encoding='utf-8').write(out)
    print('\n'.join(changed))
    print('%d case(s) %s' % (len(changed), 'rewritten' if write else 'differ'), file=sys.stderr)


if __name__ == '__main__':
    main()
