#!/usr/bin/python3
"""The peers of bench_explain, timed on this machine in the same run: shap's KernelExplainer and
captum's IntegratedGradients on the Aurora mlp and cnn1d, at the settings bench_explain uses
(8 channel groups with a 50-window background, every coalition; 288 cells with nsamples 2048;
IG 50 Gauss-Legendre steps from the channel-mean baseline, 20 windows per call). Then runs
bench_explain (when its path is given) and prints whyflag's speed-up over each peer.

usage: /usr/bin/python3 tests/bench/bench_peers.py [build-bench/tests/bench/bench_explain]

Needs Debian's python3-torch, python3-onnx and python3-numpy, plus shap and captum on PYTHONPATH
(neither is packaged by Debian; see tests/bench/README.md, "Against shap and captum", for how they
were put there). The models run in torch, float32, built from the ONNX files' own weights by the
small interpreter below (the ops of these two graphs only). Peers and whyflag get the same thread
count (torch.set_num_threads); each figure is the median of 3 repeats.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np
import onnx
import torch
from onnx import numpy_helper

warnings.filterwarnings("ignore")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class OnnxTorch(torch.nn.Module):
    """Runs a small ONNX graph (Sub, Div, Flatten, Gemm, Conv, Relu, MaxPool,
    GlobalAveragePool, Sigmoid) in torch."""

    def __init__(self, path):
        super().__init__()
        m = onnx.load(path)
        self.g = m.graph
        self.w = {i.name: torch.tensor(numpy_helper.to_array(i).astype(np.float32)) for i in self.g.initializer}
        for n in self.g.node:
            if n.op_type == "Constant":
                self.w[n.output[0]] = torch.tensor(numpy_helper.to_array(n.attribute[0].t).astype(np.float32))

    def forward(self, x):
        v = dict(self.w)
        v[self.g.input[0].name] = x
        for n in self.g.node:
            a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
            i = [v[k] for k in n.input if k]
            op = n.op_type
            if op == "Constant":
                continue
            if op == "Sub":
                y = i[0] - i[1]
            elif op == "Div":
                y = i[0] / i[1]
            elif op == "Flatten":
                y = torch.flatten(i[0], a.get("axis", 1))
            elif op == "Gemm":
                A = i[0].t() if a.get("transA", 0) else i[0]
                B = i[1].t() if a.get("transB", 0) else i[1]
                y = a.get("alpha", 1.0) * (A @ B)
                if len(i) > 2:
                    y = y + a.get("beta", 1.0) * i[2]
            elif op == "Conv":
                pads = list(a.get("pads", [0, 0]))
                y = torch.nn.functional.conv1d(i[0], i[1], i[2] if len(i) > 2 else None,
                                               stride=a.get("strides", [1])[0], padding=pads[0],
                                               dilation=a.get("dilations", [1])[0], groups=a.get("group", 1))
                assert pads[0] == pads[len(pads) // 2], "asymmetric pads"
            elif op == "Relu":
                y = torch.relu(i[0])
            elif op == "MaxPool":
                y = torch.nn.functional.max_pool1d(i[0], a["kernel_shape"][0], a.get("strides", a["kernel_shape"])[0])
            elif op == "GlobalAveragePool":
                y = i[0].mean(dim=2, keepdim=True)
            elif op == "Sigmoid":
                y = torch.sigmoid(i[0])
            else:
                raise SystemExit("bench_peers: op %s of %s not in the interpreter" % (op, n.name))
            v[n.output[0]] = y
        return v[self.g.output[0].name]


def median_time(fn, repeats=3):
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    import shap
    from captum.attr import IntegratedGradients

    bench = sys.argv[1] if len(sys.argv) > 1 else None
    wins = json.load(open(os.path.join(ROOT, "tests/data/data/windows.json")))["windows"]
    X = np.array([w["values"] for w in wins], dtype=np.float32)  # (1716, 8, 36)
    bg = np.array(json.load(open(os.path.join(ROOT, "tests/data/explain/background.json")))["values"], dtype=np.float32)
    base = np.array(json.load(open(os.path.join(ROOT, "tests/data/explain/baselines.json")))["channel_mean_baseline"],
                    dtype=np.float32)
    C, T = X.shape[1], X.shape[2]
    peers = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for name in ("mlp", "cnn1d"):
            net = OnnxTorch(os.path.join(ROOT, "tests/data/aurora/%s.onnx" % name)).eval()

            def f_cells(z):
                with torch.no_grad():
                    return net(torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32)).reshape(-1, C, T)).numpy()[:, 0]

            # 8 channel groups: feature c of a row is -1 (the window's channel) or a background
            # index b (background window b's channel); shap masks by putting background rows'
            # values in, so its coalition rows are exactly v(S) = mean_b f(x_S, b_notS).
            x_now = {"x": X[0]}

            def f_groups(z):
                z = z.astype(np.int64)
                rows = np.empty((z.shape[0], C, T), dtype=np.float32)
                for c in range(C):
                    keep = z[:, c] < 0
                    rows[keep, c] = x_now["x"][c]
                    rows[~keep, c] = bg[z[~keep, c], c]
                return f_cells(rows)

            ex_g = shap.KernelExplainer(f_groups, np.arange(len(bg), dtype=np.float64)[:, None].repeat(C, 1))
            ng = 3

            def run_groups():
                for k in range(ng):
                    x_now["x"] = X[k]
                    ex_g.shap_values(-np.ones((1, C)), nsamples=2048, silent=True, l1_reg=False)

            peers[(name, "groups", threads)] = median_time(run_groups) / ng * 1e3
            ex_c = shap.KernelExplainer(f_cells, bg.reshape(len(bg), -1))
            nc = 1

            def run_cells():
                for k in range(nc):
                    ex_c.shap_values(X[k].reshape(1, -1), nsamples=2048, silent=True, l1_reg=False)

            peers[(name, "cells", threads)] = median_time(run_cells) / nc * 1e3
            ig = IntegratedGradients(net)
            xb = torch.from_numpy(X[:20].copy())
            bb = torch.from_numpy(np.broadcast_to(base[:, None] if base.ndim == 1 else base, (C, T)).copy())[None].repeat(20, 1, 1)

            def run_ig():
                for _ in range(10):
                    ig.attribute(xb, baselines=bb, n_steps=50, method="gausslegendre")

            peers[(name, "ig", threads)] = median_time(run_ig) / 200 * 1e3
            for kind in ("groups", "cells", "ig"):
                print("peer %-6s %-7s threads %d: %10.3f ms per explanation" % (name, kind, threads,
                                                                              peers[(name, kind, threads)]),
                      flush=True)
    if not bench:
        return
    out = subprocess.run([bench], capture_output=True, text=True, check=True).stdout
    print(out)
    kinds = {"KernelSHAP 8 groups": "groups", "KernelSHAP 288 cells": "cells", "IG 50 steps": "ig"}
    print("whyflag speed-up over the peer (peer ms / whyflag ms, same thread count):")
    for line in out.splitlines():
        m = re.match(r"^(mlp|cnn1d)\s+(.*?)\s+(\d)\s+([0-9.]+)\s", line)
        if not m:
            continue
        kind = next((v for k, v in kinds.items() if m.group(2).startswith(k)), None)
        if kind is None:
            continue
        p = peers[(m.group(1), kind, int(m.group(3)))]
        ours = float(m.group(4))
        print("  %-6s %-7s threads %s: peer %9.3f ms, whyflag %8.3f ms: %7.1fx" % (
            m.group(1), kind, m.group(3), p, ours, p / ours))


if __name__ == "__main__":
    main()
