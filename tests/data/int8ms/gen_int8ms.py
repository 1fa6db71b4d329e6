#!/usr/bin/python3
"""Hand-built graphs of the com.microsoft quantized ops ONNX Runtime's quantizer emits (QGemm,
QLinearAdd, QLinearMul, QLinearSigmoid, QLinearLeakyRelu, QLinearGlobalAveragePool,
QLinearAveragePool, QLinearConcat) with onnx.helper (Debian python3-onnx 1.12.0, numpy 1.24.2),
uint8 and int8 activations, per-tensor and (QGemm) per-column scales, zero points at the
extremes, saturating scales and rounding ties; inputs from numpy default_rng(14). Writes
<case>.onnx and cases.json ({model, inputs: [{name, dtype, dims, data}]} per case);
gen_ort_int8ms.js adds ONNX Runtime's outputs (refs.json).
Usage (from this folder): /usr/bin/python3 gen_int8ms.py"""
import json

import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper as h
from onnx import numpy_helper as nh

rng = np.random.default_rng(14)
NP = {TP.FLOAT: np.float32, TP.UINT8: np.uint8, TP.INT8: np.int8, TP.INT32: np.int32}
NAME = {TP.FLOAT: "float32", TP.UINT8: "uint8", TP.INT8: "int8", TP.INT32: "int32"}
MS = "com.microsoft"
cases = []


def save(name, nodes, inputs, outputs, inits):
    g = h.make_graph(nodes, name, inputs, outputs, initializer=inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13), h.make_opsetid(MS, 1)],
                     producer_name="gen_int8ms.py")
    m.ir_version = 8
    onnx.save(m, name + ".onnx")


def vi(name, t, dims):
    return h.make_tensor_value_info(name, t, dims)


def f32(name, v):
    return nh.from_array(np.asarray(v, dtype=np.float32), name)


def q(name, t, v):
    return nh.from_array(np.asarray(v, dtype=NP[t]), name)


def case(model, **inputs):
    ins = []
    for k, (t, a) in inputs.items():
        a = np.asarray(a, dtype=NP[t])
        ins.append({"name": k, "dtype": NAME[t], "dims": list(a.shape), "data": a.ravel().tolist()})
    cases.append({"model": model + ".onnx", "inputs": ins})


def rq(t, shape):
    lo, hi = (0, 256) if t == TP.UINT8 else (-128, 128)
    return rng.integers(lo, hi, size=shape)


def every(t, shape):
    """all 256 byte values (then random ones) in the given shape"""
    n = int(np.prod(shape))
    base = np.arange(256) if t == TP.UINT8 else np.arange(-128, 128)
    v = np.concatenate([base, rq(t, max(0, n - 256))])[:n]
    return v.reshape(shape)


T8 = ((TP.UINT8, "u8", 0, 255), (TP.INT8, "s8", -128, 127))

# ---- QLinearAdd / QLinearMul: same shape (vector body + tail), scalar A or B, row and column
# broadcast; random, extreme zero points, saturating and tie-producing scales.
for op in ("QLinearAdd", "QLinearMul"):
    for t, tn, lo, hi in T8:
        mid = (lo + hi + 1) // 2
        params = [("rand", 0.05, mid + 3, 0.04, mid - 7, 0.06, mid + 1),
                  ("zext", 0.02, lo, 0.03, hi, 0.05, lo if op == "QLinearAdd" else mid),
                  ("zext2", 0.02, hi, 0.03, lo, 0.05, hi),
                  ("sat", 0.5, mid, 0.7, mid, 0.01, mid),
                  ("tie", 0.5, 0, 1.0, 0, 1.0, 0)]
        if op == "QLinearMul":
            params[-1] = ("tie", 0.5, 0, 1.0, 0, 0.5, 0) if t == TP.INT8 else ("tie", 0.5, 0, 1.0, 0, 2.0, 0)
        for shp_name, sa, sb in (("same", [2, 3, 37], [2, 3, 37]), ("bscalar", [2, 3, 37], [1]),
                                 ("ascalar", [1], [3, 37]), ("col", [2, 3, 37], [3, 1]),
                                 ("row", [2, 3, 37], [37])):
            for pn, as_, az, bs, bz, cs, cz in params:
                if shp_name != "same" and pn not in ("rand", "tie", "zext"):
                    continue
                name = "%s_%s_%s_%s" % (op[7:].lower(), tn, shp_name, pn)
                out = list(np.broadcast_shapes(tuple(sa), tuple(sb)))
                save(name, [h.make_node(op, ["A", "as", "az", "B", "bs", "bz", "cs", "cz"], ["C"],
                                        domain=MS)],
                     [vi("A", t, sa), vi("B", t, sb)], [vi("C", t, out)],
                     [f32("as", as_), q("az", t, az), f32("bs", bs), q("bz", t, bz),
                      f32("cs", cs), q("cz", t, cz)])
                if pn == "tie" and t == TP.UINT8:
                    a, b = rq(t, sa) // 2, rq(t, sb) // 2
                else:
                    a, b = rq(t, sa), rq(t, sb)
                case(name, A=(t, a), B=(t, b))

# ---- QLinearAdd with random scales and zero points for each span kind (the float rounding of
# the fixed part and of a scalar operand's term shows only for some scale ratios).
for t, tn, lo, hi in T8:
    for shp_name, sa, sb in (("same", [4, 40], [4, 40]), ("ascalar", [1], [4, 40]),
                             ("bscalar", [4, 40], [1]), ("col", [4, 40], [4, 1])):
        for r in range(6):
            name = "add_%s_%s_r%d" % (tn, shp_name, r)
            sc = rng.uniform(0.01, 0.1, 3)
            z = rq(t, 3)
            save(name, [h.make_node("QLinearAdd", ["A", "as", "az", "B", "bs", "bz", "cs", "cz"],
                                    ["C"], domain=MS)],
                 [vi("A", t, sa), vi("B", t, sb)],
                 [vi("C", t, list(np.broadcast_shapes(tuple(sa), tuple(sb))))],
                 [f32("as", sc[0]), q("az", t, z[0]), f32("bs", sc[1]), q("bz", t, z[1]),
                  f32("cs", sc[2]), q("cz", t, z[2])])
            for k in range(3 if "scalar" in shp_name else 1):
                case(name, A=(t, rq(t, sa)), B=(t, rq(t, sb)))

# ---- QLinearSigmoid / QLinearLeakyRelu: every byte value through the 256-entry table;
# zero points at the extremes; a scale reaching the +-18 clamp of the logistic; saturation.
for op in ("QLinearSigmoid", "QLinearLeakyRelu"):
    for t, tn, lo, hi in T8:
        mid = (lo + hi + 1) // 2
        for pn, xs, xz, ys, yz, alpha in (("rand", 0.05, mid + 5, 1 / 256, lo, 0.1),
                                          ("zlo", 0.2, lo, 0.004, lo, 0.01),
                                          ("zhi", 0.2, hi, 0.003, hi, 0.3),
                                          ("wide", 0.3, mid, 0.02, mid, 0.2),
                                          ("sat", 0.01, mid, 0.0005, mid, 0.5)):
            name = "%s_%s_%s" % (op[7:].lower(), tn, pn)
            attrs = {}
            if op == "QLinearLeakyRelu" and pn != "rand":
                attrs["alpha"] = alpha
            save(name, [h.make_node(op, ["X", "xs", "xz", "ys", "yz"], ["Y"], domain=MS, **attrs)],
                 [vi("X", t, [2, 160])], [vi("Y", t, [2, 160])],
                 [f32("xs", xs), q("xz", t, xz), f32("ys", ys), q("yz", t, yz)])
            case(name, X=(t, every(t, [2, 160])))

# ---- QLinearGlobalAveragePool (NCHW): 1-D and 2-D spatial, image sizes below and above the
# 8/32-wide loops, extreme zero points, a saturating output scale.
for t, tn, lo, hi in T8:
    mid = (lo + hi + 1) // 2
    for pn, shape, xs, xz, ys, yz in (("1d", [2, 5, 7], 0.05, mid + 9, 0.03, mid - 4),
                                      ("2d", [1, 11, 6, 7], 0.02, lo, 0.01, hi),
                                      ("long", [2, 3, 45], 0.04, hi, 0.05, lo),
                                      ("sat", [1, 9, 12], 0.1, mid, 0.01, mid)):
        name = "gap_%s_%s" % (tn, pn)
        out = shape[:2] + [1] * (len(shape) - 2)
        save(name, [h.make_node("QLinearGlobalAveragePool", ["X", "xs", "xz", "ys", "yz"], ["Y"],
                                domain=MS, channels_last=0)],
             [vi("X", t, shape)], [vi("Y", t, out)],
             [f32("xs", xs), q("xz", t, xz), f32("ys", ys), q("yz", t, yz)])
        case(name, X=(t, rq(t, shape)))

# ---- QLinearAveragePool: 1-D padded with and without count_include_pad, 2-D strided, a kernel
# covering the whole image (ONNX Runtime's global-pool path), ceil_mode.
for t, tn, lo, hi in T8:
    mid = (lo + hi + 1) // 2
    for pn, shape, attrs, out in (
            ("1d_pad", [2, 3, 11], dict(kernel_shape=[3], strides=[2], pads=[1, 1]), [2, 3, 6]),
            ("1d_incl", [2, 3, 11], dict(kernel_shape=[3], strides=[2], pads=[1, 1],
                                         count_include_pad=1), [2, 3, 6]),
            ("2d", [1, 4, 7, 8], dict(kernel_shape=[2, 3], strides=[2, 2], pads=[0, 1, 1, 0]),
             [1, 4, 4, 4]),
            ("whole", [2, 3, 9], dict(kernel_shape=[9]), [2, 3, 1]),
            ("ceil", [1, 2, 10], dict(kernel_shape=[3], strides=[2], ceil_mode=1), [1, 2, 5])):
        name = "avgpool_%s_%s" % (tn, pn)
        zx, zy = (lo, hi) if pn in ("1d_incl", "whole") else (mid + 3, mid - 2)
        save(name, [h.make_node("QLinearAveragePool", ["X", "xs", "xz", "ys", "yz"], ["Y"],
                                domain=MS, **attrs)],
             [vi("X", t, shape)], [vi("Y", t, out)],
             [f32("xs", 0.05), q("xz", t, zx), f32("ys", 0.03), q("yz", t, zy)])
        case(name, X=(t, rq(t, shape)))

# ---- QLinearConcat: three inputs, one with the output's own scale and zero point (copied),
# the others requantized through a table; axis 1 and the last axis; extreme zero points.
for t, tn, lo, hi in T8:
    mid = (lo + hi + 1) // 2
    for pn, axis, shapes, out in (("ax1", 1, [[2, 3, 5], [2, 1, 5], [2, 4, 5]], [2, 8, 5]),
                                  ("last", -1, [[2, 3, 4], [2, 3, 1], [2, 3, 6]], [2, 3, 11])):
        name = "concat_%s_%s" % (tn, pn)
        ins, inits, vis = ["ys", "yz"], [f32("ys", 0.04), q("yz", t, mid)], []
        qp = [(0.04, mid), (0.1, lo), (0.013, hi)]
        for i, (s, z) in enumerate(qp):
            ins += ["X%d" % i, "s%d" % i, "z%d" % i]
            inits += [f32("s%d" % i, s), q("z%d" % i, t, z)]
            vis.append(vi("X%d" % i, t, shapes[i]))
        save(name, [h.make_node("QLinearConcat", ins, ["Y"], domain=MS, axis=axis)], vis,
             [vi("Y", t, out)], inits)
        case(name, **{"X%d" % i: (t, rq(t, shapes[i])) for i in range(3)})

# ---- QGemm: u8 x s8 per tensor and per column, bias, transB, alpha, quantized or float output;
# u8 x u8; s8 x s8 with s8 output; zero points at the extremes; a saturating output scale.
for pn, ta, tb, M, K, N, col, bias, transA, transB, alpha, yq, azp, bzp, ys in (
        ("u8s8_tensor", TP.UINT8, TP.INT8, 5, 12, 7, 0, 1, 0, 1, 1.0, 1, 131, 3, 0.02),
        ("u8s8_col", TP.UINT8, TP.INT8, 5, 12, 7, 1, 1, 0, 0, 0.5, 1, 255, 0, 0.02),
        ("u8s8_float", TP.UINT8, TP.INT8, 4, 9, 6, 1, 1, 0, 1, 1.0, 0, 7, 0, 0),
        ("u8u8", TP.UINT8, TP.UINT8, 3, 20, 5, 0, 0, 1, 0, 1.0, 1, 0, 128, 0.05),
        ("s8s8", TP.INT8, TP.INT8, 6, 10, 4, 1, 1, 0, 1, 2.0, 1, -128, 0, 0.03),
        ("s8s8_sat", TP.INT8, TP.INT8, 3, 16, 3, 0, 1, 0, 0, 1.0, 1, 127, 5, 0.001)):
    name = "qgemm_" + pn
    ash = [K, M] if transA else [M, K]
    bsh = [N, K] if transB else [K, N]
    inits = [f32("as", 0.05), q("az", ta, azp),
             q("B", tb, rq(tb, bsh)),
             f32("bs", rng.uniform(0.005, 0.02, N) if col else 0.01),
             q("bz", tb, np.full(N, bzp) if col else bzp)]
    if col:  # ONNX Runtime needs the zero point per column too: per column with 0 (symmetric)
        inits[-1] = q("bz", tb, np.zeros(N) if tb == TP.INT8 else np.full(N, bzp))
    ins = ["A", "as", "az", "B", "bs", "bz"]
    if bias:
        inits.append(q("C", TP.INT32, rng.integers(-3000, 3000, N)))
        ins.append("C")
    else:
        ins.append("")
    yt = TP.FLOAT
    if yq:
        yt = ta
        inits += [f32("ys", ys), q("yz", ta, 0 if ta == TP.INT8 else 120)]
        ins += ["ys", "yz"]
    save(name, [h.make_node("QGemm", ins, ["Y"], domain=MS, transA=transA, transB=transB,
                            alpha=alpha)],
         [vi("A", ta, ash)], [vi("Y", yt, [M, N])], inits)
    case(name, A=(ta, rq(ta, ash)))

# ---- QLinearAdd over many short rows (issue 12: rows narrower than 64 run side by side as one
# long row, whole blocks plus a rest): the 32-wide hidden layer and the 1-wide score of the
# QLinearMatMul twin, bias row and scalar B. Drawn last, so the cases above keep their inputs.
for t, tn, lo, hi in T8:
    for shp_name, sa, sb in (("rows32", [75, 32], [32]), ("rows1", [300, 1], [1]),
                             ("rows5s", [61, 5], [1])):
        name = "add_%s_%s" % (tn, shp_name)
        sc = rng.uniform(0.01, 0.1, 3)
        z = rq(t, 3)
        save(name, [h.make_node("QLinearAdd", ["A", "as", "az", "B", "bs", "bz", "cs", "cz"],
                                ["C"], domain=MS)],
             [vi("A", t, sa), vi("B", t, sb)], [vi("C", t, sa)],
             [f32("as", sc[0]), q("az", t, z[0]), f32("bs", sc[1]), q("bz", t, z[1]),
              f32("cs", sc[2]), q("cz", t, z[2])])
        case(name, A=(t, every(t, sa)), B=(t, rq(t, sb)))

# ---- QGemm with K max|a| max|b| >= 2^24 (K 600, codes at the ends): the int32 loop instead of
# float sums, B stored either way (issue 12: B is converted to (K, N) for the direct kernel).
for pn, transB in (("longk", 0), ("longk_tb", 1)):
    M, K, N = 3, 600, 5
    name = "qgemm_u8s8_" + pn
    a = rng.integers(200, 256, size=(M, K))
    b = rng.choice(np.array([-128, -127, 126, 127]), size=(N, K) if transB else (K, N))
    save(name, [h.make_node("QGemm", ["A", "as", "az", "B", "bs", "bz", "", "ys", "yz"], ["Y"],
                            domain=MS, transB=transB)],
         [vi("A", TP.UINT8, [M, K])], [vi("Y", TP.UINT8, [M, N])],
         [f32("as", 0.05), q("az", TP.UINT8, 0), q("B", TP.INT8, b), f32("bs", 0.01),
          q("bz", TP.INT8, 0), f32("ys", 40.0), q("yz", TP.UINT8, 128)])
    case(name, A=(TP.UINT8, a))

# ---- QGemm and QLinearMatMul at the twins' widths (N 32, K 64), where the engine packs B once
# and the direct kernel sums (issue 12): B stored either way, per-tensor and per-column
# scales, u8 and s8 activations; 40 rows (three 12-row tiles and a rest).
for pn, ta, transB, col in (("u8_tb", TP.UINT8, 1, 0), ("u8_col", TP.UINT8, 0, 1),
                            ("s8_tb_col", TP.INT8, 1, 1)):
    M, K, N = 40, 64, 32
    bsh = [N, K] if transB else [K, N]
    name = "qgemm_n32_" + pn
    azp = 3 if ta == TP.UINT8 else -5
    save(name, [h.make_node("QGemm", ["A", "as", "az", "B", "bs", "bz", "C", "ys", "yz"], ["Y"],
                            domain=MS, transB=transB)],
         [vi("A", ta, [M, K])], [vi("Y", ta, [M, N])],
         [f32("as", 0.05), q("az", ta, azp), q("B", TP.INT8, rq(TP.INT8, bsh)),
          f32("bs", rng.uniform(0.004, 0.012, N) if col else 0.008),
          q("bz", TP.INT8, np.zeros(N) if col else 0),
          q("C", TP.INT32, rng.integers(-3000, 3000, N)), f32("ys", 0.6),
          q("yz", ta, 100 if ta == TP.UINT8 else 0)])
    case(name, A=(ta, rq(ta, [M, K])))
    name = "qlmm_n32_" + pn
    if transB:
        continue
    save(name, [h.make_node("QLinearMatMul", ["A", "as", "az", "B", "bs", "bz", "ys", "yz"],
                            ["Y"])],
         [vi("A", ta, [M, K])], [vi("Y", ta, [M, N])],
         [f32("as", 0.05), q("az", ta, azp), q("B", TP.INT8, rq(TP.INT8, [K, N])),
          f32("bs", rng.uniform(0.004, 0.012, N) if col else 0.008),
          q("bz", TP.INT8, np.zeros(N) if col else 0), f32("ys", 0.5),
          q("yz", ta, 110 if ta == TP.UINT8 else 2)])
    case(name, A=(ta, rq(ta, [M, K])))
for pn, ta in (("u8", TP.UINT8), ("s8", TP.INT8)):  # QLinearMatMul per tensor, both types
    M, K, N = 40, 64, 32
    name = "qlmm_n32_tensor_" + pn
    azp = 3 if ta == TP.UINT8 else -5
    save(name, [h.make_node("QLinearMatMul", ["A", "as", "az", "B", "bs", "bz", "ys", "yz"],
                            ["Y"])],
         [vi("A", ta, [M, K])], [vi("Y", ta, [M, N])],
         [f32("as", 0.05), q("az", ta, azp), q("B", TP.INT8, rq(TP.INT8, [K, N])),
          f32("bs", 0.008), q("bz", TP.INT8, 4), f32("ys", 0.5),
          q("yz", ta, 110 if ta == TP.UINT8 else 2)])
    case(name, A=(ta, rq(ta, [M, K])))

# ---- the fused QOperator tail (issue 12, ops_qtail.c): QLinearMatMul -> QLinearAdd (a bias row)
# -> DequantizeLinear -> QuantizeLinear as the QLinearMatMul twin's layers, which a forward-only
# engine runs in one pass from the sums. Rows of 64 and of 32 (side by side, with a rest),
# per-tensor and per-column scales, u8 and s8 (the last QuantizeLinear to the other type too),
# the tail without its QLinearAdd, and "tie": scales of 0.5 and 1 that put the requantization,
# the sum and the code map on exact rounding ties.
for pn, ta, to_, N, M, col, bias, tie in (("u8_n64", TP.UINT8, TP.UINT8, 64, 70, 0, 1, 0),
                                          ("s8_n32_col", TP.INT8, TP.INT8, 32, 41, 1, 1, 0),
                                          ("s8u8_n64_col", TP.INT8, TP.UINT8, 64, 23, 1, 1, 0),
                                          ("u8_n32_nobias", TP.UINT8, TP.UINT8, 32, 40, 0, 0, 0),
                                          ("u8_n64_tie", TP.UINT8, TP.UINT8, 64, 30, 0, 1, 1),
                                          ("s8_n32_tie", TP.INT8, TP.INT8, 32, 33, 0, 1, 1)):
    K = 64
    name = "qtail_" + pn
    azp, yz = (3, 110) if ta == TP.UINT8 else (-5, 2)
    if tie:  # m = 0.5 exactly: every odd sum is a tie; the add and the map halve again
        a_s, b_s, y_s, s_s, o_s = 0.5, np.float32(1.0), 1.0, 0.5, 1.0
        b = rng.integers(-3, 4, size=(K, N))
    else:
        a_s, y_s, s_s, o_s = 0.05, 0.5, 0.45, 0.12
        b_s = rng.uniform(0.004, 0.012, N) if col else np.float32(0.008)
        b = rq(TP.INT8, [K, N])
    nodes = [h.make_node("QLinearMatMul", ["A", "as", "az", "B", "bs", "bz", "ys", "yz"], ["mm"])]
    inits = [f32("as", a_s), q("az", ta, azp), q("B", TP.INT8, b), f32("bs", b_s),
             q("bz", TP.INT8, np.zeros(N) if col else 0), f32("ys", y_s), q("yz", ta, yz)]
    last = "mm"
    if bias:
        nodes.append(h.make_node("QLinearAdd", ["mm", "ys", "yz", "bq", "bqs", "bqz", "ss", "sz"],
                                 ["s"], domain=MS))
        inits += [q("bq", ta, rq(ta, [N])), f32("bqs", 0.5 if tie else 0.03), q("bqz", ta, 1),
                  f32("ss", s_s), q("sz", ta, 0 if ta == TP.INT8 else 7)]
        last = "s"
    nodes += [h.make_node("DequantizeLinear", [last, "ss" if bias else "ys", "sz" if bias else "yz"],
                          ["f"]),
              h.make_node("QuantizeLinear", ["f", "os", "oz"], ["Y"])]
    inits += [f32("os", o_s), q("oz", to_, 0 if to_ == TP.UINT8 else -3)]
    if not bias:
        inits = [i for i in inits if i.name not in ("ss", "sz")]
    save(name, nodes, [vi("A", ta, [M, K])], [vi("Y", to_, [M, N])], inits)
    case(name, A=(ta, rq(ta, [M, K])))

# ---- the requantization's order on ties (issue 12): ONNX Runtime rounds float(acc) * m, then adds
# y_zp (MlasRequantizeOutput); ONNX's numpy reference adds first. acc 7 and 22 with multipliers 0.5
# and 0.25 and y_zp 11 (odd) tell them apart: 15 and 17 against 14 and 16.
name = "qlmm_tie_order"
save(name, [h.make_node("QLinearMatMul", ["A", "as", "az", "B", "bs", "bz", "ys", "yz"], ["Y"])],
     [vi("A", TP.UINT8, [2, 3])], [vi("Y", TP.UINT8, [2, 2])],
     [f32("as", 1.0), q("az", TP.UINT8, 10), q("B", TP.INT8, [[1, 4], [2, 2], [3, 0]]),
      f32("bs", [0.5, 0.25]), q("bz", TP.INT8, [0, 0]), f32("ys", 1.0), q("yz", TP.UINT8, 11)])
case(name, A=(TP.UINT8, [[12, 10, 8], [15, 11, 10]]))

# ---- QLinearConv's requantization on ties (issue 12): ONNX Runtime rounds float(acc) * m before
# adding y_zp here too (a 1-D conv, u8 activations, s8 and u8 weights, per-tensor and per-channel
# scales; x_scale 0.5 and integer weights put about half the outputs on exact ties, y_zp 11).
for pn, wt, wscale in (("u8s8", TP.INT8, 1.0), ("u8u8", TP.UINT8, 1.0),
                       ("u8s8_col", TP.INT8, [1.0, 0.5, 0.25, 0.75])):
    C, L, K, Co = 2, 9, 3, 4
    name = "qconv_tie_" + pn
    col = isinstance(wscale, list)
    w = rng.integers(-3, 4, size=(Co, C, K)) if wt == TP.INT8 else rng.integers(0, 7, size=(Co, C, K))
    wz = np.zeros(Co) if col else (0 if wt == TP.INT8 else 2)
    save(name, [h.make_node("QLinearConv", ["X", "xs", "xz", "W", "ws", "wz", "ys", "yz", "B"],
                            ["Y"], pads=[1, 1])],
         [vi("X", TP.UINT8, [1, C, L])], [vi("Y", TP.UINT8, [1, Co, L])],
         [f32("xs", 0.5), q("xz", TP.UINT8, 3), q("W", wt, w), f32("ws", wscale), q("wz", wt, wz),
          f32("ys", 1.0), q("yz", TP.UINT8, 11), q("B", TP.INT32, rng.integers(-5, 6, size=Co))])
    case(name, X=(TP.UINT8, rng.integers(0, 12, size=(1, C, L))))

json.dump({"cases": cases}, open("cases.json", "w"))
print(len(cases), "cases")
