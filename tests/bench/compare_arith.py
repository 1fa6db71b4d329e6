#!/usr/bin/env python3
"""KernelSHAP values of two audits of the same config, explain.arithmetic "shortcut" (A) and
"exact" (B): max |phi_A - phi_B| over all explained windows and players, and on how many windows
the players' order (by value, descending) is the same. Usage: compare_arith.py A/results.json
B/results.json"""
import json
import sys

a = {(w["turbine_id"], w["start"]): w for w in json.load(open(sys.argv[1]))["windows"]}
b = {(w["turbine_id"], w["start"]): w for w in json.load(open(sys.argv[2]))["windows"]}
assert a.keys() == b.keys(), "the two audits explained different windows"
maxd, same, n = 0.0, 0, 0
for k in a:
    va, vb = a[k]["kernelshap"]["values"], b[k]["kernelshap"]["values"]
    maxd = max(maxd, max(abs(x - y) for x, y in zip(va, vb)))
    order = lambda v: sorted(range(len(v)), key=lambda i: (-v[i], i))
    same += order(va) == order(vb)
    n += 1
print(f"{n} windows: max |phi_shortcut - phi_exact| {maxd:.3g}, ranking unchanged on {same} of {n}")
