#!/usr/bin/python3
"""Gradient references for the straight-through surrogate of the com.microsoft quantized ops and
of DynamicQuantizeLinear/MatMulInteger/ConvInteger: small graphs x (float) -> QuantizeLinear ->
op -> DequantizeLinear -> y (onnx.helper, Debian python3-onnx 1.12.0, numpy 1.24.2, inputs from
numpy default_rng(15)), and d(sum dy * y)/dx by torch autograd in float64 (Debian python3-torch
1.13.1) on the float graph the quantized one stands for, evaluated at the dequantized input
(QuantizeLinear -> DequantizeLinear in float32, round half to even) where the op is nonlinear.
Every output is checked here to stay strictly inside the 8-bit range (no saturation, where the
surrogate's gradient is 0). Writes grad_*.onnx and grad_refs.json.
Usage (from this folder): /usr/bin/python3 gen_grad.py"""
import json

import numpy as np
import onnx
import torch
from onnx import TensorProto as TP
from onnx import helper as h
from onnx import numpy_helper as nh

rng = np.random.default_rng(15)
MS = "com.microsoft"
NP = {TP.UINT8: np.uint8, TP.INT8: np.int8}
refs = []


def save(name, nodes, shape, oshape, inits):
    g = h.make_graph(nodes, name, [h.make_tensor_value_info("x", TP.FLOAT, shape)],
                     [h.make_tensor_value_info("y", TP.FLOAT, oshape)], initializer=inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13), h.make_opsetid(MS, 1)],
                     producer_name="gen_grad.py")
    m.ir_version = 8
    onnx.save(m, name + ".onnx")


def f32(name, v):
    return nh.from_array(np.asarray(v, dtype=np.float32), name)


def qi(name, t, v):
    return nh.from_array(np.asarray(v, dtype=NP[t]), name)


def lim(t):
    return (0, 255) if t == TP.UINT8 else (-128, 127)


def quant(x, s, z, t):
    lo, hi = lim(t)
    return np.clip(np.rint(x.astype(np.float32) / np.float32(s)) + z, lo, hi)


def deq(q, s, z):
    return np.float32(s) * (q - z).astype(np.float32)


def ref(name, x, fn, yq=None, t=None):
    """fn: torch float64 function of the (dequantized) input; yq: the quantized output to check"""
    if yq is not None:
        lo, hi = lim(t)
        assert (yq > lo).all() and (yq < hi).all(), name + ": an output saturates"
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    y = fn(xt)
    dy = rng.normal(0, 1, tuple(y.shape))
    (y * torch.tensor(dy)).sum().backward()
    refs.append({"model": name + ".onnx", "dims": list(x.shape), "x": x.ravel().tolist(),
                 "dy": dy.ravel().tolist(), "dx": xt.grad.numpy().ravel().tolist()})


def wrap(op_nodes, t, sx, zx, sy, zy, qout="q"):
    return ([h.make_node("QuantizeLinear", ["x", "sx", "zx"], ["xq"])] + op_nodes +
            [h.make_node("DequantizeLinear", [qout, "sy", "zy"], ["y"])])


def qinits(t, sx, zx, sy, zy):
    return [f32("sx", sx), qi("zx", t, zx), f32("sy", sy), qi("zy", t, zy)]


for t, tn in ((TP.UINT8, "u8"), (TP.INT8, "s8")):
    mid = 128 if t == TP.UINT8 else 0
    # Add and Mul with a constant operand B (per-tensor), broadcast over rows
    for op in ("QLinearAdd", "QLinearMul"):
        sx, zx, sb, zb, sy, zy = 0.02, mid + 5, 0.03, mid - 9, 0.05, mid - 3
        x = rng.uniform(-1.5, 1.5, (2, 3, 8)).astype(np.float32)
        bq = rng.integers(mid - 40, mid + 40, (3, 1))
        name = "grad_%s_%s" % (op[7:].lower(), tn)
        save(name, wrap([h.make_node(op, ["xq", "sx", "zx", "bq", "sb", "zb", "sy", "zy"], ["q"],
                                     domain=MS)], t, sx, zx, sy, zy), [2, 3, 8], [2, 3, 8],
             qinits(t, sx, zx, sy, zy) + [qi("bq", t, bq), f32("sb", sb), qi("zb", t, zb)])
        b = torch.tensor(deq(bq, sb, zb).astype(np.float64))
        xd = deq(quant(x, sx, zx, t), sx, zx)
        yv = (xd + b.numpy()) if op == "QLinearAdd" else xd * b.numpy()
        ref(name, x, (lambda v: v + b) if op == "QLinearAdd" else (lambda v: v * b),
            quant(yv, sy, zy, t), t)
    # Sigmoid and LeakyRelu: nonlinear, differentiated at the dequantized input
    for op, sy, zy in (("QLinearSigmoid", 1 / 200, (0 if t == TP.UINT8 else -128) + 20),
                       ("QLinearLeakyRelu", 0.03, mid)):
        sx, zx = 0.03, mid + 3
        x = rng.uniform(-3, 3, (2, 20)).astype(np.float32)
        name = "grad_%s_%s" % (op[7:].lower(), tn)
        attrs = {"alpha": 0.2} if op == "QLinearLeakyRelu" else {}
        save(name, wrap([h.make_node(op, ["xq", "sx", "zx", "sy", "zy"], ["q"], domain=MS,
                                     **attrs)], t, sx, zx, sy, zy), [2, 20], [2, 20],
             qinits(t, sx, zx, sy, zy))
        xd = deq(quant(x, sx, zx, t), sx, zx).astype(np.float64)
        yv = 1 / (1 + np.exp(-xd)) if op == "QLinearSigmoid" else np.where(xd >= 0, xd, 0.2 * xd)
        fn = (lambda v: torch.sigmoid(v)) if op == "QLinearSigmoid" else \
            (lambda v: torch.nn.functional.leaky_relu(v, 0.2))
        ref(name, xd.astype(np.float32), fn, quant(yv, sy, zy, t), t)
        refs[-1]["x"] = x.ravel().tolist()  # the engine is fed x; torch saw its dequantized value
    # pools and concat (linear)
    sx, zx, sy, zy = 0.02, mid + 1, 0.01, mid - 2
    x = rng.uniform(-1, 1, (2, 3, 10)).astype(np.float32)
    for op, attrs, fn in (
            ("QLinearGlobalAveragePool", {}, lambda v: v.mean(dim=2, keepdim=True)),
            ("QLinearAveragePool", dict(kernel_shape=[3], strides=[2], pads=[1, 1]),
             lambda v: torch.nn.functional.avg_pool1d(v, 3, 2, 1, count_include_pad=False))):
        name = "grad_%s_%s" % ("gap" if "Global" in op else "avgpool", tn)
        yv = fn(torch.tensor(deq(quant(x, sx, zx, t), sx, zx).astype(np.float64))).numpy()
        save(name, wrap([h.make_node(op, ["xq", "sx", "zx", "sy", "zy"], ["q"], domain=MS,
                                     **attrs)], t, sx, zx, sy, zy), [2, 3, 10], list(yv.shape),
             qinits(t, sx, zx, sy, zy))
        ref(name, x, fn, quant(yv, sy, zy, t), t)
    cq = rng.integers(mid - 30, mid + 30, (2, 2, 10))
    name = "grad_concat_%s" % tn
    save(name, wrap([h.make_node("QLinearConcat", ["sy", "zy", "cq", "sc", "zc", "xq", "sx", "zx"],
                                 ["q"], domain=MS, axis=1)], t, sx, zx, sy, zy),
         [2, 3, 10], [2, 5, 10], qinits(t, sx, zx, sy, zy) + [qi("cq", t, cq), f32("sc", 0.015),
                                                             qi("zc", t, mid)])
    cd = torch.tensor(deq(cq, 0.015, mid).astype(np.float64))
    yv = np.concatenate([cd.numpy(), deq(quant(x, sx, zx, t), sx, zx)], 1)
    ref(name, x, lambda v: torch.cat([cd, v], 1), quant(yv, sy, zy, t), t)
    # QGemm, per-column B scales, float output and quantized output
    for yq in (0, 1):
        M, K, N = 3, 6, 4
        ta, tb = t, TP.INT8
        sa, za = 0.02, mid + 4
        bq = rng.integers(-100, 100, (N, K))
        bs = rng.uniform(0.005, 0.02, N)
        x = rng.uniform(-1, 1, (M, K)).astype(np.float32)
        name = "grad_qgemm_%s_%s" % (tn, "q" if yq else "f")
        ins = ["xq", "sx", "zx", "bq", "bs", "bz", "C"] + (["sy", "zy"] if yq else [])
        sy, zy = 0.04, mid
        nodes = [h.make_node("QuantizeLinear", ["x", "sx", "zx"], ["xq"]),
                 h.make_node("QGemm", ins, ["q" if yq else "y"], domain=MS, transB=1, alpha=0.5)]
        if yq:
            nodes.append(h.make_node("DequantizeLinear", ["q", "sy", "zy"], ["y"]))
        inits = [f32("sx", sa), qi("zx", ta, za), qi("bq", tb, bq), f32("bs", bs),
                 qi("bz", tb, np.zeros(N)),
                 nh.from_array(cb := rng.integers(-500, 500, N).astype(np.int32), "C")]
        if yq:
            inits += [f32("sy", sy), qi("zy", ta, zy)]
        save(name, nodes, [M, K], [M, N], inits)
        W = torch.tensor((bq * bs[:, None].astype(np.float32)).astype(np.float64))
        xd = deq(quant(x, sa, za, t), sa, za).astype(np.float64)
        yv = 0.5 * (xd @ W.numpy().T + cb * sa * bs)
        ref(name, x, lambda v: 0.5 * v @ W.T, quant(yv, sy, zy, t) if yq else None, t)

# dynamic quantization: DynamicQuantizeLinear -> ConvInteger -> Cast -> Mul(x scale * w scale)
wq = rng.integers(0, 256, (4, 3, 3))
ws, wz = 0.01, 131
save("grad_dyn_conv", [
    h.make_node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"]),
    h.make_node("ConvInteger", ["xq", "wq", "xz", "wz"], ["acc"], pads=[1, 1]),
    h.make_node("Cast", ["acc"], ["accf"], to=TP.FLOAT),
    h.make_node("Mul", ["xs", "ws"], ["s"]),
    h.make_node("Mul", ["accf", "s"], ["y"])], [1, 3, 12], [1, 4, 12],
    [qi("wq", TP.UINT8, wq), f32("ws", ws), qi("wz", TP.UINT8, wz)])
Wc = torch.tensor((np.float32(ws) * (wq - wz).astype(np.float32)).astype(np.float64))
ref("grad_dyn_conv", rng.normal(0, 1, (1, 3, 12)).astype(np.float32),
    lambda v: torch.nn.functional.conv1d(v, Wc, padding=1))
# DynamicQuantizeLinear -> MatMulInteger (int8 weights, u8 x s8) -> Cast -> Mul -> Add
wm = rng.integers(-127, 128, (8, 5))
save("grad_dyn_mm", [
    h.make_node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"]),
    h.make_node("MatMulInteger", ["xq", "wm", "xz"], ["acc"]),
    h.make_node("Cast", ["acc"], ["accf"], to=TP.FLOAT),
    h.make_node("Mul", ["xs", "ws"], ["s"]),
    h.make_node("Mul", ["accf", "s"], ["z"]),
    h.make_node("Add", ["z", "b"], ["y"])], [1, 8], [1, 5],
    [qi("wm", TP.INT8, wm), f32("ws", 0.02), f32("b", rng.normal(0, 0.1, 5))])
Wm = torch.tensor((np.float32(0.02) * wm.astype(np.float32)).astype(np.float64))
ref("grad_dyn_mm", rng.normal(0, 2, (1, 8)).astype(np.float32), lambda v: v @ Wm)

json.dump({"tool": "torch 1.13.1 autograd, float64", "cases": refs}, open("grad_refs.json", "w"))
print(len(refs), "gradient cases")
