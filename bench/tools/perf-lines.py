#!/usr/bin/env python3
"""Attribute perf samples to the innermost RaftCore source line on each stack.

Costs spent in the runtime (retain/release, malloc, memmove, page faults) land on the
RaftCore line that caused them, with inlined frames expanded (llvm-symbolizer).

    perf record -g -o /tmp/perf.data .build/release/shoal-bench raft-core --batch-sizes 64 --runs 1
    python3 bench/tools/perf-lines.py /tmp/perf.data .build/release/shoal-bench [top-N]

Environment: MODULE=RaftStorage attributes to that module's lines instead; UNDER=<text>
keeps only the stacks with a symbol containing <text> (a mangled Swift name works, e.g.
UNDER=SnapshotBenchmarkV7recover for the recovery phase of `shoal-bench snapshot`).
"""
import collections, json, os, re, subprocess, sys

MODULE_DIR = 'Sources/' + os.environ.get('MODULE', 'RaftCore') + '/'
UNDER = os.environ.get('UNDER')


def read_stacks(data):
    out = subprocess.run(['perf', 'script', '-i', data, '-F', 'ip,sym,dso'],
                         capture_output=True, text=True, check=True).stdout
    stacks, current = [], []
    for line in out.split('\n'):
        if not line.strip():
            if current:
                stacks.append(current)
            current = []
            continue
        match = re.match(r'\s*([0-9a-f]+)\s+(.*)\((.*)\)\s*$', line)
        if match:
            current.append((int(match.group(1), 16), match.group(3), match.group(2)))
    if current:
        stacks.append(current)
    if UNDER:
        stacks = [stack for stack in stacks if any(UNDER in symbol for _, _, symbol in stack)]
    return [[(address, dso) for address, dso, _ in stack] for stack in stacks]


def symbolize(binary, addresses):
    query = '\n'.join(hex(a) for a in addresses) + '\n'
    out = subprocess.run(['llvm-symbolizer', '--output-style=JSON', '--inlining', '--obj=' + binary],
                         input=query, capture_output=True, text=True, check=True).stdout
    frames = {}
    for line in out.split('\n'):
        if line.strip():
            record = json.loads(line)
            frames[int(record['Address'], 16)] = [
                (f['FunctionName'], f"{f['FileName']}:{f['Line']}") for f in record['Symbol']]
    return frames


def main():
    data, binary = sys.argv[1], sys.argv[2]
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    stacks = read_stacks(data)
    # A caller's address is a return address: look up the call instruction before it.
    lookup = lambda depth, address: address if depth == 0 else address - 1
    addresses = sorted({lookup(d, a) for st in stacks for d, (a, dso) in enumerate(st) if dso.endswith(binary.split('/')[-1])})
    frames = symbolize(binary, addresses)
    lines = collections.Counter()
    for st in stacks:
        found = None
        for depth, (address, dso) in enumerate(st):
            for _, location in frames.get(lookup(depth, address), []) if dso.endswith(binary.split('/')[-1]) else []:
                if MODULE_DIR in location:
                    found = location[location.index(MODULE_DIR):]
                    break
            if found:
                break
        lines[found or f'(outside {MODULE_DIR}: {st[0][1].split("/")[-1] if st else "?"})'] += 1
    total = len(stacks)
    print(f'{total} samples; share of samples by innermost {MODULE_DIR} line on the stack')
    for location, count in lines.most_common(top):
        print(f'{100 * count / total:6.2f}%  {location}')


if __name__ == '__main__':
    main()
