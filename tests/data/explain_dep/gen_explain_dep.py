#!/usr/bin/env python3
"""Reference values for tests/test_explain_dependence.c (issue 13), written by numpy/scipy and by
brute-force enumeration in float64, never by whyflag.

  linkage:    scipy.cluster.hierarchy.complete on fixed dissimilarity matrices, fcluster at 0.3
  dependence: windows (n, C, T) stored as float32 values with weights; numpy's weighted Pearson
              correlation of the cell values, np.linalg.lstsq (weighted) of each constructed
              dependent channel on the channels before it, residual RMS; the same on window means
  owen:       a small tanh MLP with sigmoid output over C=5 channel players, a weighted
              background; v(S) = sum_b w_b f(x_S, b_notS) in float64; Owen values over the binary
              hierarchy scipy's complete linkage gives on 1 - |r| of the background cells, by
              averaging marginal contributions over every player order that keeps each cluster
              together (all 120 orders enumerated and filtered); Shapley values over all orders.
              This is the quantity shap's PartitionExplainer converges to (shap is not packaged
              in Debian; this is its definition, enumerated).

Run: /usr/bin/python3 gen_explain_dep.py > explain_dep_ref.json  (numpy 1.24.2, scipy 1.10.1)
"""
import itertools
import json

import numpy as np
import scipy
import scipy.cluster.hierarchy as sch
import scipy.spatial.distance as ssd

rng = np.random.default_rng(20261201)
out = {"generator": "gen_explain_dep.py numpy %s scipy %s" % (np.__version__, scipy.__version__)}

# ---- linkage ----
cases = []
for n in (6, 9):
    pts = rng.normal(size=(n, 3))
    D = ssd.squareform(ssd.pdist(pts))
    Z = sch.complete(ssd.squareform(D, checks=False))
    lab = sch.fcluster(Z, t=1.0, criterion="distance")
    cases.append({"D": D.tolist(), "Z": Z.tolist(), "cut": 1.0, "labels": lab.tolist()})
out["linkage"] = cases

# ---- dependence ----
n, C, T = 10, 6, 4
X = np.zeros((n, C, T))
X[:, 0] = rng.normal(5, 2, size=(n, T))
X[:, 1] = rng.normal(-1, 0.5, size=(n, T))
X[:, 3] = rng.normal(20, 4, size=(n, T))
X = X.astype(np.float32).astype(np.float64)
X[:, 2] = (X[:, 0].astype(np.float32) - X[:, 1].astype(np.float32)).astype(np.float64)  # exact
noise = rng.normal(size=(n, T))
c5 = X[:, 0] + 2 * X[:, 3] + 1e-5 * np.std(X[:, 0] + 2 * X[:, 3]) * noise / np.std(noise)
X[:, 5] = c5.astype(np.float32).astype(np.float64)  # dependent with a small residual
X[:, 4] = rng.normal(0, 1, size=(n, T)).astype(np.float32)  # independent
w = rng.uniform(0.5, 2.0, size=n)
w = w / w.sum()


def weighted_stats(rows, rw):
    rw = rw / rw.sum()
    mean = rw @ rows
    Zc = rows - mean
    cov = (Zc * rw[:, None]).T @ Zc
    sd = np.sqrt(np.diag(cov))
    return mean, cov / np.outer(sd, sd), sd


def relation(rows, rw, j, basis):
    rw = rw / rw.sum()
    A = np.column_stack([rows[:, basis], np.ones(len(rows))])
    s = np.sqrt(rw)
    coef, *_ = np.linalg.lstsq(A * s[:, None], rows[:, j] * s, rcond=None)
    res = rows[:, j] - A @ coef
    rms = np.sqrt(rw @ (res * res))
    sd = np.sqrt(rw @ (rows[:, j] - rw @ rows[:, j]) ** 2)
    return {"channel": j, "basis": basis, "coef": coef[:-1].tolist(), "intercept": coef[-1],
            "residual_rms": rms, "residual_rel": rms / sd}


cells = X.transpose(0, 2, 1).reshape(n * T, C)  # rows (window, step)
cw = np.repeat(w, T) / T
means = X.mean(axis=2)
_, corr, _ = weighted_stats(cells, cw)
out["dependence"] = {
    "n": n, "C": C, "T": T, "x": X.reshape(-1).tolist(), "w": w.tolist(),
    "corr": corr.reshape(-1).tolist(),
    "cells": [relation(cells, cw, 2, [0, 1]), relation(cells, cw, 5, [0, 1, 3, 4])],
    "means": [relation(means, w, 2, [0, 1]), relation(means, w, 5, [0, 1, 3, 4])],
}

# ---- Owen values on a small model ----
C, T, H, NB = 5, 3, 4, 6
A = rng.normal(0, 0.6, size=(H, C * T)).astype(np.float32)
a0 = rng.normal(0, 0.3, size=H).astype(np.float32)
v = rng.normal(0, 1.5, size=H)
v0 = -0.1
bg = rng.normal(size=(NB, C, T)).astype(np.float32)
bg[:, 1] = bg[:, 0] * 0.9 + 0.1 * bg[:, 1]  # channels 0 and 1 close
bg[:, 3] = -bg[:, 2] + 0.05 * bg[:, 3]  # 2 and 3 anti-correlated
bw = rng.uniform(0.5, 2, size=NB)
bw = bw / bw.sum()
x = rng.normal(size=(C, T)).astype(np.float32)


def f(z):  # z (C*T,) float64
    h = A.astype(np.float64) @ z + a0.astype(np.float64)
    s = v0 + v @ np.tanh(h)
    return 1 / (1 + np.exp(-s))


def val(S):
    tot = 0.0
    for b in range(NB):
        z = bg[b].astype(np.float64).copy()
        for p in S:
            z[p] = x[p]
        tot += bw[b] * f(z.reshape(-1))
    return tot


cellrows = bg.transpose(0, 2, 1).reshape(NB * T, C).astype(np.float64)
_, r, _ = weighted_stats(cellrows, np.repeat(bw, T))
Dh = 1 - np.abs(r)
np.fill_diagonal(Dh, 0)
Zh = sch.complete(ssd.squareform(Dh, checks=False))
# tree: leaves of each node
leaves = {i: {i} for i in range(C)}
for k, row in enumerate(Zh):
    leaves[C + k] = leaves[int(row[0])] | leaves[int(row[1])]


def admissible(order):
    pos = {p: i for i, p in enumerate(order)}
    for k in range(C - 1):
        ps = sorted(pos[p] for p in leaves[C + k])
        if ps[-1] - ps[0] + 1 != len(ps):
            return False
    return True


cache = {}


def vc(S):
    key = frozenset(S)
    if key not in cache:
        cache[key] = val(key)
    return cache[key]


owen = np.zeros(C)
shap = np.zeros(C)
n_adm = 0
n_all = 0
for order in itertools.permutations(range(C)):
    contrib = np.zeros(C)
    S = []
    prev = vc(S)
    for p in order:
        S.append(p)
        cur = vc(S)
        contrib[p] = cur - prev
        prev = cur
    shap += contrib
    n_all += 1
    if admissible(order):
        owen += contrib
        n_adm += 1
out["owen"] = {
    "C": C, "T": T, "H": H, "A": A.reshape(-1).tolist(), "a0": a0.tolist(), "v": v.tolist(),
    "v0": v0, "bg": bg.reshape(-1).tolist(), "bw": bw.tolist(), "x": x.reshape(-1).tolist(),
    "Z": Zh.tolist(), "admissible_orders": n_adm, "owen": (owen / n_adm).tolist(),
    "shapley": (shap / n_all).tolist(), "base": vc([]), "fx": vc(range(C)),
}
print(json.dumps(out, indent=None))
