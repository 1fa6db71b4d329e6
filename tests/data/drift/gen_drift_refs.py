#!/usr/bin/env python3
"""Write tests/data/drift/drift_refs.txt: expected drift numbers from scipy and numpy.

Run with Debian's python3-scipy 1.10.1 and python3-numpy 1.24.2 (bookworm):
    /usr/bin/python3 tests/data/drift/gen_drift_refs.py > tests/data/drift/drift_refs.txt

Samples are not stored value by value. Each is a recipe the C test replays bit for bit:
    dist:n:seed:loc:scale:quant:nan_every
drawn from splitmix64 (u = (z >> 11) * 2^-53, exact), shaped with IEEE operations in a fixed order
(no libm), quantized when quant > 0 (floor(x/quant + 0.5)*quant, which makes ties), rounded to
float32, and with every nan_every-th value replaced by NaN (an empty cell) when nan_every > 0.
    unif : loc + scale*u
    norm4: loc + scale*((((u1 + u2) + u3) + u4) - 2.0)   (Irwin-Hall, bell-shaped)
    cube : loc + scale*((u*u)*u)                          (skewed)
The file also carries each sample's count, first value and sum so the test can check the replay.

Lines (whitespace-separated, numbers in repr/%.17g):
    kstwo <n> <d> <scipy.stats.kstwo.sf(d, n)>
    smirnov <n> <d> <scipy.special.smirnov(n, d)>
    ksauto <n1> <n2> <d> <p>: ks_2samp's method="auto" p-value for statistic d, i.e. scipy's own
        _attempt_exact_2kssamp (falling back to kstwo.sf as ks_2samp does)
    quantile <recipe> <q> <numpy.quantile(x without NaN, q)>
    case <name> <ref recipe> <cur recipe> <n_ref> <n_cur> <ks D> <ks p asymp> <wasserstein>
         <numpy.std(ref)> <wasserstein normed> <psi> <drifted> <method 1=KS 2=Wasserstein>
         <ks p auto (scipy's default method)> <drifted when the KS rule uses the auto p>
    check <recipe> <n without NaN> <first value> <sum in float64, in order, NaN skipped>
    oor_ref <C> <T> <R> <recipe of the R*C*T reference cells, laid out (R, C, T)>
    oor_win <recipe of one window's C*T cells> then per channel:
        <mean> <percentileofscore weak> <share outside> <channel out 0/1>, then <outside 0/1>
    period <unix t> <day start> <week start> <month start> <day label> <ISO week label>
        <month label>   (Python's datetime in UTC; weeks start on Monday, ISO 8601 week-year)
"""
import datetime as dt
import math
import sys

import numpy as np
import scipy
from scipy import special, stats

M64 = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.s = seed & M64

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def u(self):
        return (self.next() >> 11) * (2.0 ** -53)


def sample(recipe):
    dist, n, seed, loc, scale, quant, nan_every = recipe.split(":")
    n, seed, nan_every = int(n), int(seed), int(nan_every)
    loc, scale, quant = float(loc), float(scale), float(quant)
    g = SplitMix64(seed)
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        if dist == "unif":
            x = loc + scale * g.u()
        elif dist == "norm4":
            u1 = g.u()
            u2 = g.u()
            u3 = g.u()
            u4 = g.u()
            x = loc + scale * ((((u1 + u2) + u3) + u4) - 2.0)
        elif dist == "cube":
            u = g.u()
            x = loc + scale * ((u * u) * u)
        else:
            raise ValueError(dist)
        if quant > 0:
            x = math.floor(x / quant + 0.5) * quant
        x = float(np.float32(x))
        if nan_every > 0 and i % nan_every == nan_every - 1:
            x = float("nan")
        out[i] = x
    return out


def clean(x):
    return x[~np.isnan(x)]


def psi(ref, cur, bins=10, eps=1e-4):
    edges = np.quantile(ref, [k / bins for k in range(1, bins)])
    r = np.bincount(np.searchsorted(edges, ref, side="left"), minlength=bins) / len(ref)
    c = np.bincount(np.searchsorted(edges, cur, side="left"), minlength=bins) / len(cur)
    r = np.where(r == 0, eps, r)
    c = np.where(c == 0, eps, c)
    return float(np.sum((c - r) * np.log(c / r)))


def r(x):
    return repr(float(x))


def emit_check(recipe, seen):
    if recipe in seen:
        return
    seen.add(recipe)
    x = sample(recipe)
    s = 0.0
    first = None
    k = 0
    for v in x:
        if not math.isnan(v):
            s += v
            k += 1
            if first is None:
                first = v
    print("check", recipe, k, r(first if first is not None else float("nan")), r(s))


def main():
    print(f"# drift references: scipy {scipy.__version__}, numpy {np.__version__}, "
          f"python {sys.version.split()[0]}; written by gen_drift_refs.py")
    # --- the KS distributions over a grid that reaches every branch of kstwo.sf / smirnov
    ns = [1, 2, 3, 5, 10, 30, 100, 140, 141, 500, 1000, 2500, 10000, 100000, 100001, 400000,
          1000001]
    ds = [0.0, 1e-4, 0.001, 0.004, 0.01, 0.02, 0.03, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3, 0.45,
          0.5, 0.6, 0.75, 0.9, 0.99, 1.0]
    for n in ns:
        for d in ds + [0.5 / n, 1.0 / n, 0.7 / n, 1.0 - 1.0 / n if n > 1 else 0.25]:
            print("kstwo", n, r(d), r(stats.kstwo.sf(d, n)))
    for n in [1, 2, 5, 10, 20, 100, 1000, 10000, 1000001]:
        for d in [0.0, 0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0, 1.0 / n]:
            print("smirnov", n, r(d), r(special.smirnov(n, d)))

    # --- the auto (exact) two-sample p-value over a grid of sizes and statistics
    from scipy.stats._stats_py import _attempt_exact_2kssamp
    sizes = [1, 2, 3, 7, 10, 13, 50, 64, 100, 128, 333, 1000]
    for n1 in sizes:
        for n2 in sizes:
            g = math.gcd(n1, n2)
            lcm = (n1 // g) * n2
            for frac in [0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.8, 1.0]:
                d = round(frac * lcm) / lcm
                ok, _, prob = _attempt_exact_2kssamp(n1, n2, g, d, "two-sided")
                if not ok:
                    m, n = sorted([float(n1), float(n2)], reverse=True)
                    prob = stats.kstwo.sf(d, np.round(m * n / (m + n)))
                print("ksauto", n1, n2, r(d), r(np.clip(prob, 0, 1)))

    # --- two-sample drift cases
    cases = [
        ("one_vs_one", "unif:1:1:0:1:0:0", "unif:1:2:0:1:0:0"),
        ("one_vs_50", "unif:1:3:0:1:0:0", "norm4:50:4:0.5:1:0:0"),
        ("fifty_vs_one", "norm4:50:5:0:1:0:0", "unif:1:6:0:1:0:0"),
        ("identical", "norm4:700:7:10:2:0:0", "norm4:700:7:10:2:0:0"),
        ("disjoint", "unif:300:8:0:1:0:0", "unif:200:9:5:1:0:0"),
        ("ties_q05", "norm4:400:10:0:3:0.5:0", "norm4:350:11:0.2:3:0.5:0"),
        ("ties_heavy", "unif:900:12:0:3:1:0", "unif:600:13:0:3.4:1:0"),
        ("small_shift_100", "norm4:100:14:0:1:0:0", "norm4:120:15:0.3:1:0:0"),
        ("small_same_60", "norm4:60:16:0:1:0:0", "norm4:70:17:0:1:0:0"),
        ("unequal_5_20000", "norm4:5:18:0:1:0:0", "norm4:20000:19:0:1:0:0"),
        ("unequal_20000_7", "norm4:20000:20:0:1:0:0", "norm4:7:21:0.1:1:0:0"),
        ("ref_1000_ks", "norm4:1000:22:0:1:0:0", "norm4:800:23:0.1:1:0:0"),
        ("ref_1001_w", "norm4:1001:24:0:1:0:0", "norm4:900:25:0.1:1:0:0"),
        ("same_5000", "norm4:5000:26:0:1:0:0", "norm4:5000:27:0:1:0:0"),
        ("shift_5000", "norm4:5000:28:0:1:0:0", "norm4:5000:29:0.05:1:0:0"),
        ("skew_3000_2000", "cube:3000:30:0:1:0:0", "norm4:2000:31:0.3:0.2:0:0"),
        ("scale_2000", "norm4:2000:32:0:1:0:0", "norm4:2500:33:0:1.3:0:0"),
        ("nan_cells", "norm4:1200:34:5:1:0:7", "norm4:1100:35:5.02:1:0:5"),
        ("const_ref", "unif:500:36:3:0:0:0", "norm4:400:37:3:0.0005:0:0"),
        ("exact_near_005", "norm4:40:70:0:1:0:0", "norm4:45:71:0.35:1:0:0"),
        ("exact_eq_300", "norm4:300:72:0:1:0:0", "norm4:300:73:0.2:1:0:0"),
        ("exact_eq_9000", "norm4:9000:74:0:1:0:0", "norm4:9000:75:0.01:1:0:0"),
        ("exact_10000_7000", "norm4:10000:76:0:1:0:0", "norm4:7000:77:0.03:1:0:0"),
        ("exact_3_4", "unif:3:78:0:1:0:0", "unif:4:79:0.5:1:0:0"),
        ("big_250k", "norm4:250000:38:0:1:0:0", "norm4:250000:39:0.004:1:0:0"),
    ]
    seen = set()
    for name, rr, cr in cases:
        emit_check(rr, seen)
        emit_check(cr, seen)
        ref = clean(sample(rr))
        cur = clean(sample(cr))
        asymp = stats.ks_2samp(ref, cur, method="asymp")
        ks_d = asymp.statistic
        ks_p = asymp.pvalue
        ks_pa = stats.ks_2samp(ref, cur).pvalue
        w = stats.wasserstein_distance(ref, cur)
        sd = np.std(ref)
        wn = w / max(sd, 0.001)
        p = psi(ref, cur)
        if len(ref) <= 1000:
            method, drifted, drifted_a = 1, int(ks_p < 0.05), int(ks_pa < 0.05)
        else:
            method, drifted = 2, int(wn >= 0.1)
            drifted_a = drifted
        print("case", name, rr, cr, len(ref), len(cur), r(ks_d), r(ks_p), r(w), r(sd), r(wn),
              r(p), drifted, method, r(ks_pa), drifted_a)

    # --- numpy.quantile, linear
    for rec in ["norm4:1000:40:0:1:0:0", "unif:7:41:0:1:0:0", "unif:1:42:0:1:0:0",
                "unif:200:43:0:4:1:0", "norm4:999:44:0:1:0:3"]:
        emit_check(rec, seen)
        x = clean(sample(rec))
        for q in [0.0, 0.005, 0.1, 0.2, 0.25, 0.3, 0.5, 0.7, 0.9, 0.995, 1.0]:
            print("quantile", rec, r(q), r(np.quantile(x, q)))

    # --- out-of-reference windows: R reference windows of C channels x T steps
    C, T, R = 3, 12, 400
    rec = f"norm4:{R * C * T}:50:0:1:0:0"
    emit_check(rec, seen)
    cells = sample(rec).reshape(R, C, T)
    # per-channel shifts so the channels differ
    shift = np.array([0.0, 10.0, -5.0])
    scalec = np.array([1.0, 2.0, 0.5])
    print("oor_ref", C, T, R, rec, " ".join(r(v) for v in shift), " ".join(r(v) for v in scalec))

    def shape(w):  # (C, T) -> per-channel affine, rounded to float32 as whyflag's windows are
        out = np.empty_like(w)
        for c in range(C):
            for t in range(T):
                v = w[c, t]
                out[c, t] = v if math.isnan(v) else float(np.float32(shift[c] + scalec[c] * v))
        return out

    ref_w = np.stack([shape(cells[i]) for i in range(R)])

    def means(w):  # sequential sum in float64, NaN left out (whyflag's definition)
        m = np.empty(C)
        for c in range(C):
            s, k = 0.0, 0
            for v in w[c]:
                if not math.isnan(v):
                    s += v
                    k += 1
            m[c] = s / k if k else float("nan")
        return m

    ref_means = np.stack([means(ref_w[i]) for i in range(R)])  # (R, C)
    wins = ["norm4:36:60:0:1:0:0", "norm4:36:61:0:1:0:5", "norm4:36:62:2.5:1:0:0",
            "norm4:36:63:-3:1:0:0", "norm4:36:64:0:4:0:0", "unif:36:65:-0.2:0.4:0:4"]
    for wr in wins:
        emit_check(wr, seen)
        w = shape(sample(wr).reshape(C, T))
        m = means(w)
        fields = []
        outside = 0
        for c in range(C):
            vals = ref_w[:, c, :].ravel()
            lo, hi = np.quantile(vals, [0.005, 0.995])
            mlo, mhi = np.quantile(ref_means[:, c], [0.005, 0.995])
            x = w[c][~np.isnan(w[c])]
            share = float(np.mean((x < lo) | (x > hi)))
            pct = stats.percentileofscore(ref_means[:, c], m[c], kind="weak")
            cout = int(m[c] < mlo or m[c] > mhi)
            outside |= cout
            fields += [r(m[c]), r(pct), r(share), str(cout)]
        print("oor_win", wr, " ".join(fields), outside)

    # --- UTC periods, from Python's datetime
    utc = dt.timezone.utc
    for t in [0, -1, 86399, 86400, 1764547200, 1764633599, 1609632000, 1609718399, 1609718400,
              -86400 * 365 - 7, 951782400, 4102444800 - 1, 1798675200, 1767225599]:
        d = dt.datetime.fromtimestamp(t, utc)
        day = dt.datetime(d.year, d.month, d.day, tzinfo=utc)
        week = day - dt.timedelta(days=day.weekday())
        month = dt.datetime(d.year, d.month, 1, tzinfo=utc)
        iy, iw, _ = d.isocalendar()
        print("period", t, int(day.timestamp()), int(week.timestamp()), int(month.timestamp()),
              day.strftime("%Y-%m-%d"), f"{iy:04d}-W{iw:02d}", month.strftime("%Y-%m"))


if __name__ == "__main__":
    main()
