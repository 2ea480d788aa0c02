#!/usr/bin/env python3
"""Compares two `strata analyze` outputs: summary.json key by key and tokens.csv row by row.

   compare_analyses.py <dir a> <dir b>

Numbers in summary.json must agree within 1e-9 relative (1e-12 absolute near zero); strings,
booleans and shapes exactly. The power-law fits' parameters within 1e-6: their least-squares
minimum over beta is flat to second order, so means that differ by float rounding (1e-16)
move the located beta by up to sqrt(machine epsilon), about 1e-8. Skipped: what legitimately differs between one process and
several ranks -- wall times and rates, what the sweep spent (each shard also runs the passes
before its first target), the state in flight, and the record of the ranks (distributed) or
pieces (pieces). tokens.csv: the
same rows in the same order; text fields exactly, numbers within the printed precision.
Prints the first differences and exits 1 when there are any.
"""
import csv
import json
import math
import sys

SKIPPED = {"seconds", "gram_seconds", "token_forwards_per_second", "wall_time_ratio_seq_to_hier",
           "spent", "paths", "sharing_factor", "in_flight", "distributed", "pieces"}


WORST = [0.0]  # the largest relative difference outside the fits


def tolerance(path):
    return 1e-6 if ".power_law" in path else 1e-9


def compare(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        keys_a = [k for k in a if k not in SKIPPED]
        keys_b = [k for k in b if k not in SKIPPED]
        if keys_a != keys_b:
            out.append(f"{path}: keys {keys_a} vs {keys_b}")
            return
        for k in keys_a:
            compare(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} vs {len(b)} entries")
            return
        for i, (x, y) in enumerate(zip(a, b)):
            compare(x, y, f"{path}[{i}]", out)
    elif isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        if a != b:
            out.append(f"{path}: {a!r} vs {b!r}")
    else:
        if a != b and ".power_law" not in path:
            WORST[0] = max(WORST[0], abs(a - b) / max(abs(a), abs(b)))
        if not math.isclose(a, b, rel_tol=tolerance(path), abs_tol=1e-12):
            out.append(f"{path}: {a!r} vs {b!r} (relative difference {abs(a - b) / max(abs(a), abs(b)):.3g})")


def compare_csv(path_a, path_b, out):
    with open(path_a, newline="") as fa, open(path_b, newline="") as fb:
        rows_a, rows_b = list(csv.reader(fa)), list(csv.reader(fb))
    if len(rows_a) != len(rows_b):
        out.append(f"{path_a}: {len(rows_a)} vs {len(rows_b)} rows")
        return 0
    header = rows_a[0]
    identical = 0
    for i, (ra, rb) in enumerate(zip(rows_a, rows_b)):
        if ra == rb:
            identical += 1
            continue
        for name, x, y in zip(header, ra, rb):
            try:
                same = math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=2e-6)
            except ValueError:
                same = x == y
            if not same:
                out.append(f"{path_a} row {i} {name}: {x!r} vs {y!r}")
    return identical


def main():
    a, b = sys.argv[1], sys.argv[2]
    out = []
    with open(f"{a}/summary.json") as fa, open(f"{b}/summary.json") as fb:
        compare(json.load(fa), json.load(fb), "summary", out)
    identical = compare_csv(f"{a}/tokens.csv", f"{b}/tokens.csv", out)
    if out:
        print(f"compare_analyses: {len(out)} differences between {a} and {b}:")
        for line in out[:20]:
            print("  " + line)
        return 1
    print(f"compare_analyses: {a} and {b} agree (summary.json within 1e-9 relative, fits 1e-6; "
          f"largest relative difference outside the fits {WORST[0]:.2g}; tokens.csv {identical} rows identical as text)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
