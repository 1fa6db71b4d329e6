#!/usr/bin/python3
"""Single-op (and shape-folding) graphs for the ops issue 10 added, built with onnx.helper
(Debian python3-onnx 1.12.0). Writes <name>.onnx, <name>.x.f32 (input x) and ops.txt
("name rank dims..."); gen_ort.js (one directory up) then writes <name>.ort0.f32 with ONNX
Runtime. Run from this directory: /usr/bin/python3 gen_ops.py
"""
import numpy as np
import onnx
from onnx import TensorProto as TP, helper as h, numpy_helper as nh

rng = np.random.default_rng(11)
cases = []


def add(name, nodes, xshape, inits=(), opset=13, x=None, out="y"):
    if x is None:
        x = rng.standard_normal(xshape).astype(np.float32)
    inits = [nh.from_array(np.asarray(v), k) for k, v in inits]
    g = h.make_graph(nodes, name, [h.make_tensor_value_info("x", TP.FLOAT, list(xshape))],
                     [h.make_tensor_value_info(out, TP.FLOAT, None)], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)], producer_name="onnx.helper")
    m.ir_version = 8
    onnx.shape_inference.infer_shapes(m, strict_mode=True)  # a type check (outputs have no shape)
    onnx.save(m, f"{name}.onnx")
    x.astype(np.float32).tofile(f"{name}.x.f32")
    cases.append((name, xshape))


S = (2, 3, 5)
pos = np.abs(rng.standard_normal(S)).astype(np.float32) + 0.3
f32 = lambda a: np.asarray(a, dtype=np.float32)
i64 = lambda a: np.asarray(a, dtype=np.int64)
N = h.make_node
for op in ["Erf", "Exp", "Abs", "Neg", "Softplus", "Selu"]:
    add(op.lower(), [N(op, ["x"], ["y"])], S)
for op in ["Sqrt", "Log", "Reciprocal"]:
    add(op.lower(), [N(op, ["x"], ["y"])], S, x=pos)
add("elu", [N("Elu", ["x"], ["y"], alpha=0.7)], S)
add("hardsigmoid", [N("HardSigmoid", ["x"], ["y"], alpha=0.3, beta=0.4)], S, x=f32(rng.standard_normal(S) * 2))
add("hardswish", [N("HardSwish", ["x"], ["y"])], S, x=f32(rng.standard_normal(S) * 3), opset=14)
add("clip", [N("Clip", ["x", "lo", "hi"], ["y"])], S, [("lo", f32(-0.5)), ("hi", f32(0.8))])
add("clip_min_only", [N("Clip", ["x", "lo"], ["y"])], S, [("lo", f32(-0.2))])
add("prelu", [N("PRelu", ["x", "sl"], ["y"])], S, [("sl", f32(rng.uniform(0.05, 0.5, (5,))))])
add("pow", [N("Pow", ["x", "p"], ["y"])], S, [("p", f32(2.5))], x=pos)
add("pow_sq", [N("Pow", ["x", "p"], ["y"])], S, [("p", f32(2.0))])
add("min", [N("Min", ["x", "c"], ["y"])], S, [("c", f32(rng.standard_normal((3, 1))))])
add("max3", [N("Max", ["x", "c", "d"], ["y"])], S, [("c", f32(rng.standard_normal((5,)))), ("d", f32(rng.standard_normal((2, 1, 1))))])
add("where", [N("Where", ["cond", "x", "c"], ["y"])], S, [("cond", rng.standard_normal((3, 5)) > 0), ("c", f32(rng.standard_normal((2, 1, 5))))])
add("gather", [N("Gather", ["x", "ix"], ["y"], axis=1)], S, [("ix", i64([2, 0, 2, -1]))])
add("gather_scalar", [N("Gather", ["x", "ix"], ["y"], axis=2)], S, [("ix", i64(3))])
add("slice_step", [N("Slice", ["x", "st", "en", "ax", "sp"], ["y"])], S,
    [("st", i64([0, 4])), ("en", i64([2, -6])), ("ax", i64([1, 2])), ("sp", i64([1, -2]))])
add("slice_chomp", [N("Slice", ["x", "st", "en", "ax"], ["y"])], S, [("st", i64([0])), ("en", i64([-2])), ("ax", i64([-1]))])
add("expand", [N("Expand", ["x", "sh"], ["y"])], (2, 1, 5), [("sh", i64([3, 2, 4, 5]))])
add("cast_chain", [N("Cast", ["x"], ["xi"], to=TP.INT64), N("Cast", ["xi"], ["xf"], to=TP.FLOAT),
                   N("Add", ["x", "xf"], ["y"])], S, x=f32(rng.standard_normal(S) * 4))
for op, nm in [("ReduceMax", "reducemax"), ("ReduceMin", "reducemin"), ("ReduceSumSquare", "reducesumsquare"), ("ReduceL2", "reducel2")]:
    add(nm, [N(op, ["x"], ["y"], axes=[2], keepdims=1)], S)
    add(nm + "_all", [N(op, ["x"], ["y"], keepdims=0)], S)
add("reducesum", [N("ReduceSum", ["x", "ax"], ["y"], keepdims=0)], S, [("ax", i64([0, 2]))])
add("layernorm", [N("LayerNormalization", ["x", "sc", "b"], ["y"], axis=-1, epsilon=1e-5)], S,
    [("sc", f32(rng.uniform(0.5, 1.5, (5,)))), ("b", f32(rng.standard_normal((5,))))], opset=17)
add("layernorm_axis1", [N("LayerNormalization", ["x", "sc"], ["y"], axis=1)], S,
    [("sc", f32(rng.uniform(0.5, 1.5, (3, 5))))], opset=17)
add("instancenorm", [N("InstanceNormalization", ["x", "sc", "b"], ["y"], epsilon=1e-4)], S,
    [("sc", f32(rng.uniform(0.5, 1.5, (3,)))), ("b", f32(rng.standard_normal((3,))))])
add("logsoftmax_axis1", [N("LogSoftmax", ["x"], ["y"], axis=1)], S)
add("logsoftmax_last", [N("LogSoftmax", ["x"], ["y"])], S)
add("softmax_axis0", [N("Softmax", ["x"], ["y"], axis=0)], S)
# attention: batched MatMul with broadcasting, scaled scores, softmax over keys
add("attention", [N("Transpose", ["x"], ["k"], perm=[0, 2, 1]), N("MatMul", ["x", "k"], ["s"]),
                  N("Div", ["s", "sc"], ["ss"]), N("Softmax", ["ss"], ["p"], axis=-1),
                  N("MatMul", ["p", "x"], ["y"])], (2, 4, 3), [("sc", f32(1.7))])
add("matmul_bcast4", [N("MatMul", ["x", "w"], ["y"])], (2, 1, 3, 5), [("w", f32(rng.standard_normal((1, 2, 5, 4))))])
# ConvTranspose 1-D (stride, pad, output_padding, dilation, groups) and 2-D
add("convt1d", [N("ConvTranspose", ["x", "w", "b"], ["y"], strides=[2], pads=[1, 0], output_padding=[1], dilations=[2], group=3)],
    (2, 3, 6), [("w", f32(rng.standard_normal((3, 2, 3)))), ("b", f32(rng.standard_normal((6,))))])
add("convt2d", [N("ConvTranspose", ["x", "w"], ["y"], strides=[2, 1], pads=[0, 1, 1, 0], kernel_shape=[2, 3])],
    (1, 2, 3, 4), [("w", f32(rng.standard_normal((2, 3, 2, 3))))])
# shape folding: what torch emits for x.view(x.size(0), -1) and for states built from the batch
add("fold_view", [N("Shape", ["x"], ["s"]), N("Gather", ["s", "i0"], ["n"], axis=0),
                  N("Unsqueeze", ["n", "a0"], ["nu"]), N("Concat", ["nu", "m1"], ["sh"], axis=0),
                  N("Reshape", ["x", "sh"], ["y"])], S, [("i0", i64(0)), ("a0", i64([0])), ("m1", i64([-1]))])
add("fold_state", [N("Shape", ["x"], ["s"]), N("Slice", ["s", "z", "one", "z"], ["n"]),
                   N("Concat", ["n", "k5"], ["sh"], axis=0),
                   N("ConstantOfShape", ["sh"], ["zeros"], value=h.make_tensor("v", TP.FLOAT, [1], [0.5])),
                   N("Size", ["x"], ["sz"]), N("Cast", ["sz"], ["szf"], to=TP.FLOAT),
                   N("Range", ["r0", "r5", "r1"], ["rg"]), N("Cast", ["rg"], ["rgf"], to=TP.FLOAT),
                   N("Equal", ["rg", "r2"], ["eq"]), N("Where", ["eq", "m1f", "rgf"], ["w"]),
                   N("Expand", ["w", "sh"], ["we"]), N("Mul", ["zeros", "we"], ["zw"]),
                   N("ReduceSum", ["x", "ax1"], ["xs"], keepdims=0), N("Div", ["xs", "szf"], ["xd"]),
                   N("Add", ["xd", "zw"], ["y"])], S,
    [("z", i64([0])), ("one", i64([1])), ("k5", i64([5])), ("r0", i64(0)), ("r5", i64(5)), ("r1", i64(1)),
     ("r2", i64(2)), ("m1f", f32(-1.0)), ("ax1", i64([1]))])

# masks and selection: comparisons, Not/And/Or into Where; ArgMax; Split; Tile
add("mask_where", [N("Greater", ["x", "z0"], ["gt"]), N("Less", ["x", "c1"], ["lt"]),
                   N("And", ["gt", "lt"], ["band"]), N("LessOrEqual", ["x", "cm"], ["le"]),
                   N("Or", ["band", "le"], ["bor"]), N("Not", ["bor"], ["nb"]),
                   N("GreaterOrEqual", ["x", "c1"], ["ge"]), N("Or", ["nb", "ge"], ["m"]),
                   N("Where", ["m", "x", "y0"], ["y"])], S,
    [("z0", f32(0.0)), ("c1", f32(0.7)), ("cm", f32(-0.8)), ("y0", f32(rng.standard_normal((5,))))])
add("argmax", [N("ArgMax", ["x"], ["am"], axis=1, keepdims=1), N("ArgMin", ["x"], ["an"], axis=-1, keepdims=0),
               N("Cast", ["am"], ["amf"], to=TP.FLOAT), N("Cast", ["an"], ["anf"], to=TP.FLOAT),
               N("Unsqueeze", ["anf", "a1"], ["anu"]), N("Add", ["amf", "anu"], ["s"]), N("Mul", ["x", "s"], ["y"])], S,
    [("a1", i64([2]))])
add("split", [N("Split", ["x", "sp"], ["p0", "p1", "p2"], axis=2), N("Sigmoid", ["p1"], ["q1"]),
              N("Concat", ["p2", "q1", "p0"], ["y"], axis=2)], S, [("sp", i64([1, 3, 1]))])
add("split_equal", [N("Split", ["x"], ["p0", "p1", "p2"], axis=1), N("Mul", ["p0", "p2"], ["y"])], S)
add("tile", [N("Tile", ["x", "rp"], ["y"])], (2, 3, 2), [("rp", i64([2, 1, 3]))])

# Resize: nearest and linear, 1-D and 2-D, each coordinate transformation; scales and sizes
e = f32([])
add("resize_nearest_1d", [N("Resize", ["x", "", "sc"], ["y"], mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")],
    (2, 3, 5), [("sc", f32([1, 1, 2.0]))])
add("resize_nearest_half", [N("Resize", ["x", "", "sc"], ["y"], mode="nearest")], (2, 3, 5), [("sc", f32([1, 1, 2.6]))])
add("resize_linear_2d_half", [N("Resize", ["x", "", "sc"], ["y"], mode="linear")], (1, 2, 3, 4), [("sc", f32([1, 1, 2.0, 1.5]))])
add("resize_linear_2d_pt", [N("Resize", ["x", "", "sc"], ["y"], mode="linear", coordinate_transformation_mode="pytorch_half_pixel")],
    (1, 2, 3, 4), [("sc", f32([1, 1, 2.0, 2.0]))])
add("resize_linear_2d_align", [N("Resize", ["x", "", "", "sz"], ["y"], mode="linear", coordinate_transformation_mode="align_corners")],
    (1, 2, 3, 4), [("sz", i64([1, 2, 5, 7]))])
add("resize_nearest_2d_ceil", [N("Resize", ["x", "", "", "sz"], ["y"], mode="nearest", coordinate_transformation_mode="half_pixel", nearest_mode="round_prefer_ceil")],
    (1, 2, 3, 4), [("sz", i64([1, 2, 7, 6]))])

with open("ops.txt", "w") as f:
    for name, shape in cases:
        f.write(f"{name} {len(shape)} {' '.join(map(str, shape))}\n")
