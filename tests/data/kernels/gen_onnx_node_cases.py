#!/usr/bin/env python3
"""Write onnx_node_cases.h: the inputs and expected outputs of a few ONNX backend node tests
(ONNX v1.22.0, Apache-2.0) as C arrays, for tests/test_kernels*.c.

Usage: gen_onnx_node_cases.py <onnx-node-tests dir> > onnx_node_cases.h

Only the standard library: a tiny protobuf reader decodes TensorProto files (test_data_set_0/
input_N.pb, output_N.pb) and the initializers inside model.onnx (pytorch-converted tests keep
their weights there). Graph inputs that are initializers come from model.onnx, the others from
input_N.pb in order, so `in<k>` is the k-th graph input of the node.
"""
import os
import struct
import sys

CASES = [
    # float kernels
    "pytorch-converted/test_Conv1d", "pytorch-converted/test_Conv1d_dilated",
    "pytorch-converted/test_Conv1d_groups", "pytorch-converted/test_Conv1d_pad1",
    "pytorch-converted/test_Conv1d_pad1size1", "pytorch-converted/test_Conv1d_pad2",
    "pytorch-converted/test_Conv1d_pad2size1", "pytorch-converted/test_Conv1d_stride",
    "test_basic_conv_with_padding", "test_basic_conv_without_padding",
    "test_conv_with_strides_and_asymmetric_padding", "test_conv_with_strides_no_padding",
    "test_conv_with_strides_padding", "test_conv_with_autopad_same",
    "pytorch-converted/test_AvgPool1d", "pytorch-converted/test_AvgPool1d_stride",
    "test_averagepool_1d_default", "pytorch-converted/test_MaxPool1d",
    "pytorch-converted/test_MaxPool1d_stride", "test_maxpool_1d_default",
    "test_globalaveragepool", "test_globalaveragepool_precomputed", "test_globalmaxpool",
    "test_globalmaxpool_precomputed",
    "pytorch-converted/test_BatchNorm1d_3d_input_eval", "test_batchnorm_epsilon",
    "test_batchnorm_example",
    "test_softmax_axis_0", "test_softmax_axis_1", "test_softmax_axis_2",
    "test_softmax_large_number", "pytorch-converted/test_Softmax",
    "pytorch-converted/test_softmax_lastdim",
    "test_sigmoid", "pytorch-converted/test_Sigmoid", "test_tanh", "pytorch-converted/test_Tanh",
    "test_relu", "pytorch-converted/test_ReLU", "test_leakyrelu", "test_leakyrelu_default",
    "pytorch-converted/test_LeakyReLU_with_negval",
    "test_gemm_all_attributes", "test_gemm_transposeA", "test_gemm_transposeB", "test_gemm_alpha",
    "test_gemm_beta", "test_gemm_default_no_bias",
    # quantization
    "test_quantizelinear", "test_quantizelinear_axis", "test_dequantizelinear",
    "test_dequantizelinear_axis", "test_qlinearmatmul_2D_uint8_float32",
    "test_qlinearmatmul_2D_int8_float32", "test_qlinearmatmul_3D_uint8_float32",
    "test_qlinearmatmul_3D_int8_float32", "test_qlinearconv", "test_matmulinteger",
]

# TensorProto.DataType -> (C type, struct format for raw_data)
TYPES = {1: ("float", "f"), 2: ("uint8_t", "B"), 3: ("int8_t", "b"), 6: ("int32_t", "i"),
         7: ("int64_t", "q")}


def varint(b, i):
    v = 0
    s = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return v, i


def fields(b):
    """Yield (field number, wire type, value) of a protobuf message."""
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        f, w = key >> 3, key & 7
        if w == 0:
            v, i = varint(b, i)
        elif w == 1:
            v = b[i:i + 8]
            i += 8
        elif w == 2:
            n, i = varint(b, i)
            v = b[i:i + n]
            i += n
        elif w == 5:
            v = b[i:i + 4]
            i += 4
        else:
            raise ValueError("wire type %d" % w)
        yield f, w, v


def signed(v, bits=64):
    return v - (1 << bits) if v >= 1 << (bits - 1) else v


def packed_varints(v):
    out, i = [], 0
    while i < len(v):
        x, i = varint(v, i)
        out.append(x)
    return out


def tensor(b):
    dims, dtype, raw, name = [], 1, None, ""
    floats, ints = [], []
    for f, w, v in fields(b):
        if f == 1:
            dims += packed_varints(v) if w == 2 else [v]
        elif f == 2:
            dtype = v
        elif f == 4:
            floats += list(struct.unpack("<%df" % (len(v) // 4), v)) if w == 2 else \
                [struct.unpack("<f", v)[0]]
        elif f in (5, 7):
            ints += [signed(x) for x in (packed_varints(v) if w == 2 else [v])]
        elif f == 8:
            name = v.decode()
        elif f == 9:
            raw = v
    if dtype not in TYPES:
        raise ValueError("unsupported dtype %d in %s" % (dtype, name))
    if raw is not None:
        fmt = TYPES[dtype][1]
        vals = list(struct.unpack("<%d%s" % (len(raw) // struct.calcsize(fmt), fmt), raw))
    elif dtype == 1:
        vals = floats
    else:
        vals = ints
    if dtype == 3:
        vals = [signed(x, 8) if x > 127 else x for x in vals]
    return name, dims, dtype, vals


def model_inputs(path):
    """Names of the graph inputs and the initializers, from model.onnx."""
    b = open(path, "rb").read()
    graph = next(v for f, w, v in fields(b) if f == 7)
    inputs, inits = [], {}
    for f, w, v in fields(graph):
        if f == 11:
            inputs.append(next(x for g, _, x in fields(v) if g == 1).decode())
        elif f == 5:
            t = tensor(v)
            inits[t[0]] = t
    return inputs, inits


def fmt_val(dtype, x):
    if dtype == 1:
        r = repr(float(x))
        if r in ("inf", "-inf", "nan"):
            return {"inf": "INFINITY", "-inf": "-INFINITY", "nan": "NAN"}[r]
        return "%.9gf" % x if "e" in "%.9g" % x or "." in "%.9g" % x else "%.1ff" % x
    return str(int(x))


def emit(cid, role, t):
    _, dims, dtype, vals = t
    ctype = TYPES[dtype][0]
    print("static const int64_t %s_%s_shape[] = {%s};" %
          (cid, role, ", ".join(str(d) for d in dims) if dims else "1"))
    print("enum { %s_%s_ndim = %d, %s_%s_n = %d };" % (cid, role, len(dims), cid, role, len(vals)))
    body = ", ".join(fmt_val(dtype, x) for x in vals)
    lines, line = [], "   "
    for tok in body.split(" "):
        if len(line) + len(tok) + 1 > 98:
            lines.append(line)
            line = "   "
        line += " " + tok
    lines.append(line)
    print("static const %s %s_%s[] = {\n%s};" % (ctype, cid, role, "\n".join(lines)))


def main():
    root = sys.argv[1]
    print("/* Generated by tests/data/kernels/gen_onnx_node_cases.py from ONNX v1.22.0 backend")
    print(" * node tests (Apache-2.0): inputs (in<k> = k-th graph input) and expected outputs. */")
    print("#ifndef WF_ONNX_NODE_CASES_H\n#define WF_ONNX_NODE_CASES_H\n")
    print("#include <math.h>\n#include <stdint.h>\n")
    for case in CASES:
        d = os.path.join(root, case)
        cid = "nc_" + os.path.basename(case)[len("test_"):]
        inputs, inits = model_inputs(os.path.join(d, "model.onnx"))
        ds = os.path.join(d, "test_data_set_0")
        k = 0
        print("/* %s */" % case)
        for gi, name in enumerate(inputs):
            if name in inits:
                t = inits[name]
            else:
                p = os.path.join(ds, "input_%d.pb" % k)
                k += 1
                if not os.path.exists(p):
                    continue  # optional input left out
                t = tensor(open(p, "rb").read())
            emit(cid, "in%d" % gi, t)
        j = 0
        while os.path.exists(os.path.join(ds, "output_%d.pb" % j)):
            emit(cid, "out%d" % j, tensor(open(os.path.join(ds, "output_%d.pb" % j), "rb").read()))
            j += 1
        print()
    print("#endif")


if __name__ == "__main__":
    main()
