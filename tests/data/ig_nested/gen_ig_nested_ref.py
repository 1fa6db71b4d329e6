#!/usr/bin/python3
"""Reference Integrated Gradients integrals for tests/test_ig_nested.c, by torch autograd in
float64 (Debian python3-torch 1.13.1, python3-onnx 1.12.0; run with /usr/bin/python3).

Model: tests/data/aurora/mlp.onnx (Sub/Div normalisation, Gemm-ReLU-Gemm-ReLU-Gemm, Sigmoid),
rebuilt in torch from the ONNX initializers in float64. Windows: the 20 reference windows of
explain/shap_groups_mlp.json (indices into data/windows.json). Baselines: all zeros and the
per-channel mean of explain/baselines.json (both as the float32 values whyflag uses).

The integral attr_i = (x_i - x'_i) int_0^1 df/dx_i(x' + a (x - x')) da is computed with captum's
riemann_middle rule (nodes (k + 1/2) / n, weights 1/n) at n = 2^17 and, to bound that rule's own
error, at n = 2^16; both are written (`attr`, n = 2^17, and `max_abs_diff_half`, the largest
|attr(2^17) - attr(2^16)| per window). The gradient of a ReLU network along a line is piecewise
smooth with jumps, so the midpoint rule's error falls as 1/n: the 2^17 integral is within about
max_abs_diff_half of the exact one.

usage: /usr/bin/python3 gen_ig_nested_ref.py   (writes ig_nested_ref.json beside itself)
"""
import json
import os

import numpy as np
import onnx
import onnx.numpy_helper
import torch

here = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(here, "..")
torch.set_default_dtype(torch.float64)

m = onnx.load(os.path.join(data, "aurora/mlp.onnx"))
W = {i.name: torch.tensor(onnx.numpy_helper.to_array(i).astype(np.float64)) for i in m.graph.initializer}


def f(x):  # x: (n, 8, 36) float64 -> (n,)
    h = ((x - W["norm.mean"]) / W["norm.std"]).reshape(x.shape[0], -1)
    h = torch.relu(h @ W["fc1.weight"].T + W["fc1.bias"])
    h = torch.relu(h @ W["fc2.weight"].T + W["fc2.bias"])
    return torch.sigmoid(h @ W["fc3.weight"].T + W["fc3.bias"])[:, 0]


def ig(x, xb, n, chunk=8192):
    acc = torch.zeros_like(x)
    for k0 in range(0, n, chunk):
        k = torch.arange(k0, min(n, k0 + chunk), dtype=torch.float64)
        a = ((k + 0.5) / n)[:, None, None]
        p = (xb + a * (x - xb)).requires_grad_(True)
        (g,) = torch.autograd.grad(f(p).sum(), p)
        acc += g.sum(0) / n
    return (x - xb) * acc


win = json.load(open(os.path.join(data, "data/windows.json")))["windows"]
idx = json.load(open(os.path.join(data, "explain/shap_groups_mlp.json")))["windows"]
mean = json.load(open(os.path.join(data, "explain/baselines.json")))["channel_mean_baseline"]
bases = {
    "zeros": torch.zeros(8, 36),
    "mean": torch.tensor(np.repeat(np.float32(mean)[:, None], 36, 1).astype(np.float64)),
}
out = {
    "model": "aurora/mlp.onnx",
    "tool": f"torch {torch.__version__} float64 autograd, onnx {onnx.__version__}",
    "rule": "riemann_middle (captum), n = 131072; max_abs_diff_half against n = 65536",
    "windows": idx,
    "baselines": {},
}
for bname, xb in bases.items():
    rows = []
    for i in idx:
        x = torch.tensor(np.float32(win[i]["values"]).astype(np.float64))
        a = ig(x, xb, 1 << 17)
        a2 = ig(x, xb, 1 << 16)
        with torch.no_grad():
            fx, fb = f(x[None])[0].item(), f(xb[None])[0].item()
        rows.append({
            "f_x": fx, "f_baseline": fb,
            "delta": a.sum().item() - (fx - fb),
            "max_abs_diff_half": (a - a2).abs().max().item(),
            "attr": [[float(f"{v:.12e}") for v in r] for r in a.tolist()],
        })
        print(bname, i, rows[-1]["delta"], rows[-1]["max_abs_diff_half"], flush=True)
    out["baselines"][bname] = rows
json.dump(out, open(os.path.join(here, "ig_nested_ref.json"), "w"), indent=0)
