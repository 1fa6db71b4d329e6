#!/usr/bin/python3
"""Writes the issue-10 model zoo: tiny PdM models over windows [N, 8, 36] exported by torch
(Debian python3-torch 1.13.1, python3-onnx 1.12.0) with and without dynamic batch axes, opsets 13
and 17, plus GRU/LSTM graphs built with onnx.helper. Also writes windows.f32 (16 windows) and,
per model, <name>.grad.f32: d(sum of output 0)/dx by torch autograd in float64 for windows 0-3.
ONNX Runtime's outputs are written by gen_ort.js. Run from this directory:
    /usr/bin/python3 gen_zoo.py && node gen_ort.js <path to onnxruntime-node>
"""
import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper

N, C, T = 16, 8, 36
torch.manual_seed(10)
rng = np.random.default_rng(10)
X = rng.standard_normal((N, C, T)).astype(np.float32)
X.tofile("windows.f32")
models = []  # (name, n_outputs)


class MlpView(nn.Module):
    def __init__(s):
        super().__init__()
        s.a, s.b = nn.Linear(C * T, 16), nn.Linear(16, 1)

    def forward(s, x):
        return torch.sigmoid(s.b(torch.relu(s.a(x.view(x.size(0), -1)))))


class CnnBnGelu(nn.Module):
    def __init__(s):
        super().__init__()
        s.c, s.bn, s.d, s.o = nn.Conv1d(C, 6, 5, padding=2), nn.BatchNorm1d(6), nn.Dropout(0.2), nn.Linear(6, 1)
        s.bn.running_mean.uniform_(-0.3, 0.3)
        s.bn.running_var.uniform_(0.5, 1.5)

    def forward(s, x):
        h = s.d(F.gelu(s.bn(s.c(x))))
        return s.o(h.mean(dim=2))


class Rnn(nn.Module):
    def __init__(s, kind, layers, bidir=False):
        super().__init__()
        cls = nn.GRU if kind == "gru" else nn.LSTM
        s.r = cls(C, 6, num_layers=layers, batch_first=True, bidirectional=bidir)
        s.o = nn.Linear(6 * (2 if bidir else 1), 1)

    def forward(s, x):
        y, _ = s.r(x.transpose(1, 2))
        return s.o(y[:, -1, :])


class Transformer(nn.Module):
    def __init__(s):
        super().__init__()
        s.i = nn.Linear(C, 16)
        s.e = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.1, batch_first=True)
        s.o = nn.Linear(16, 1)

    def forward(s, x):
        h = s.e(s.i(x.transpose(1, 2)))
        return s.o(h.max(dim=1).values)


class Tcn(nn.Module):
    def __init__(s):
        super().__init__()
        s.c1 = nn.Conv1d(C, C, 3, dilation=1, padding=2)
        s.c2 = nn.Conv1d(C, C, 3, dilation=2, padding=4)
        s.c3 = nn.Conv1d(C, C, 3, dilation=4, padding=8)
        s.o = nn.Linear(C, 1)

    def forward(s, x):
        h = x
        for c, p in ((s.c1, 2), (s.c2, 4), (s.c3, 8)):
            h = h + torch.relu(c(h)[:, :, :-p])  # causal: chomp the right padding (Slice)
        return s.o(h[:, :, -1])


class DenseAe(nn.Module):
    def __init__(s):
        super().__init__()
        s.e, s.d = nn.Linear(C * T, 12), nn.Linear(12, C * T)

    def forward(s, x):
        f = torch.flatten(x, 1)
        r = s.d(torch.tanh(s.e(f)))
        return ((r - f) ** 2).mean(dim=1, keepdim=True)


class ConvAe(nn.Module):
    def __init__(s):
        super().__init__()
        s.e = nn.Conv1d(C, 4, 4, stride=2, padding=1)
        s.d = nn.ConvTranspose1d(4, C, 4, stride=2, padding=1)

    def forward(s, x):
        r = s.d(F.elu(s.e(x)))
        return torch.sqrt(((r - x) ** 2).mean(dim=(1, 2))).unsqueeze(1)  # RMSE


class UpsampleAe(nn.Module):
    def __init__(s, mode):
        super().__init__()
        s.e = nn.Conv1d(C, 4, 3, stride=2, padding=1)
        s.u = nn.Upsample(scale_factor=2, mode=mode)
        s.d = nn.Conv1d(4, C, 3, padding=1)

    def forward(s, x):
        r = s.d(torch.relu(s.u(s.e(x))))
        return ((r - x) ** 2).mean(dim=(1, 2)).unsqueeze(1)


class TwoOut(nn.Module):
    def __init__(s):
        super().__init__()
        s.a, s.b, s.n = nn.Linear(C * T, 8), nn.Linear(8, 1), nn.LayerNorm(8)
        s.n.weight.data.uniform_(0.5, 1.5)
        s.n.bias.data.uniform_(-0.2, 0.2)

    def forward(s, x):
        z = s.b(s.n(F.hardswish(s.a(x.reshape(x.shape[0], -1)))))
        return z, torch.sigmoid(z)


class SoftmaxHead(nn.Module):
    def __init__(s):
        super().__init__()
        s.c, s.o = nn.Conv1d(C, 4, 3), nn.Linear(4, 2)

    def forward(s, x):
        h = F.softplus(s.c(x)).amax(dim=2)
        return torch.softmax(s.o(h), dim=1)


def export(name, m, n_out, opset, dynamic):
    m.eval()
    names = ["score"] if n_out == 1 else ["logit", "prob"]
    dyn = {k: {0: "N"} for k in ["x"] + names} if dynamic else None
    xb = torch.from_numpy(X[:1] if not dynamic else X[:2])
    path = f"{name}.onnx"
    torch.onnx.export(m, xb, path, input_names=["x"], output_names=names, opset_version=opset,
                      dynamic_axes=dyn, do_constant_folding=True)
    mp = onnx.load(path)
    mp.producer_name = "pytorch"
    onnx.save(mp, path)
    models.append((name, n_out))
    # torch autograd float64 gradient of the sum of output 0 over windows 0..3
    md = m.double()
    x = torch.from_numpy(X[:4].astype(np.float64)).requires_grad_(True)
    if dynamic:
        y = md(x)
    else:
        y = torch.cat([md(x[i:i + 1])[0] if n_out > 1 else md(x[i:i + 1]) for i in range(4)])
    if n_out > 1 and dynamic:
        y = y[0]
    if y.shape[-1] == 2:  # softmax head: the score is the probability of class 1
        y = y[..., 1]
    y.sum().backward()
    x.grad.numpy().astype(np.float32).tofile(f"{name}.grad.f32")
    m.float()


torch_models = [
    ("mlp_view", MlpView, 1), ("cnn_bn_gelu", CnnBnGelu, 1),
    ("gru1", lambda: Rnn("gru", 1), 1), ("gru2", lambda: Rnn("gru", 2), 1),
    ("lstm1", lambda: Rnn("lstm", 1), 1), ("lstm2", lambda: Rnn("lstm", 2, True), 1),
    ("transformer", Transformer, 1), ("tcn", Tcn, 1), ("dense_ae", DenseAe, 1),
    ("conv_ae", ConvAe, 1), ("two_out", TwoOut, 2),
    ("upsample_ae", lambda: UpsampleAe("nearest"), 1), ("upsample_lin_ae", lambda: UpsampleAe("linear"), 1), ("softmax_head", SoftmaxHead, 1),
]
for name, ctor, n_out in torch_models:
    m = ctor()
    for opset, dyn, tag in ((13, True, "d13"), (17, True, "d17"), (13, False, "b1")):
        if name == "two_out" and opset == 13 and not dyn:
            continue
        export(f"{name}_{tag}", m, n_out, opset, dyn)


# ---- hand-built GRU / LSTM graphs (onnx.helper): every direction, layout, initial states ----
def rnn_graph(name, kind, direction, layout, lbr, with_init, outs, twin=False, acts=None, save_only=False):
    H, D = 5, (2 if direction == "bidirectional" else 1)
    G = 3 if kind == "GRU" else 4
    r = np.random.default_rng(sum(map(ord, name)))  # same weights for a twin
    W = (r.standard_normal((D, G * H, C)) * 0.4).astype(np.float32)
    R = (r.standard_normal((D, G * H, H)) * 0.4).astype(np.float32)
    B = (r.standard_normal((D, 2 * G * H)) * 0.2).astype(np.float32)
    inits = [helper.make_tensor("W", TensorProto.FLOAT, W.shape, W.ravel()),
             helper.make_tensor("R", TensorProto.FLOAT, R.shape, R.ravel()),
             helper.make_tensor("B", TensorProto.FLOAT, B.shape, B.ravel())]
    nodes = [helper.make_node("Transpose", ["x"], ["xs"], perm=[2, 0, 1] if layout == 0 else [0, 2, 1])]
    rin = ["xs", "W", "R", "B"]
    if with_init:
        # initial states from the input (torch style: mean over time, projected by a MatMul)
        P = (r.standard_normal((C, H)) * 0.3).astype(np.float32)
        inits.append(helper.make_tensor("P", TensorProto.FLOAT, P.shape, P.ravel()))
        nodes += [helper.make_node("ReduceMean", ["x"], ["xm"], axes=[2], keepdims=0),
                  helper.make_node("MatMul", ["xm", "P"], ["h0b"]),  # (N, H)
                  helper.make_node("Unsqueeze", ["h0b", "ax0" if layout == 0 else "ax1"], ["h0u"]),
                  helper.make_node("Concat", ["h0u"] * D, ["h0"], axis=0 if layout == 0 else 1)]
        inits.append(helper.make_tensor("ax0", TensorProto.INT64, [1], [0]))
        inits.append(helper.make_tensor("ax1", TensorProto.INT64, [1], [1]))
        rin += ["", "h0"]
        if kind == "LSTM":
            rin += ["h0"]
    attrs = dict(hidden_size=H, direction=direction, layout=layout)
    if kind == "GRU":
        attrs["linear_before_reset"] = lbr
    if acts:
        attrs["activations"] = acts
    rout = ["Y", "Y_h"] + (["Y_c"] if kind == "LSTM" else [])
    rout = [o if o in outs else "" for o in rout]
    while rout and not rout[-1]:
        rout.pop()
    nodes.append(helper.make_node(kind, rin, rout, **attrs))
    # score: mean over every element of the requested states per window, through Tanh
    finals = []
    for o in outs:
        if o == "Y":  # layout 0: (T, D, N, H) ; layout 1: (N, T, D, H)
            nodes.append(helper.make_node("Transpose", ["Y"], ["Yt"], perm=[2, 0, 1, 3] if layout == 0 else [0, 1, 2, 3]))
            nodes.append(helper.make_node("Flatten", ["Yt"], ["Yf"], axis=1))
            finals.append("Yf")
        else:  # layout 0: (D, N, H); layout 1: (N, D, H)
            nodes.append(helper.make_node("Transpose", [o], [o + "t"], perm=[1, 0, 2] if layout == 0 else [0, 1, 2]))
            nodes.append(helper.make_node("Flatten", [o + "t"], [o + "f"], axis=1))
            finals.append(o + "f")
    nodes.append(helper.make_node("Concat", finals, ["cat"], axis=1) if len(finals) > 1 else
                 helper.make_node("Identity", finals, ["cat"]))
    nodes.append(helper.make_node("Tanh", ["cat"], ["th"]))
    nodes.append(helper.make_node("ReduceMean", ["th"], ["score"], axes=[1], keepdims=1))
    if not any(i.name == "ax1" for i in inits):
        inits.append(helper.make_tensor("ax1", TensorProto.INT64, [1], [1]))
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", C, T])],
                          [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N", 1])], inits)
    mp = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)], producer_name="onnx.helper")
    mp.ir_version = 8
    onnx.checker.check_model(mp)
    if twin:  # ONNX Runtime rejects layout 1: its reference is this layout-0 twin's output
        onnx.save(mp, f"{name[:-8]}_twin0.onnx")
        return
    onnx.save(mp, f"{name}.onnx")
    if save_only:
        return
    models.append((name, 1))
    if layout == 1:
        rnn_graph(name, kind, direction, 0, lbr, with_init, outs, True)


rnn_graph("h_gru_fwd_lbr", "GRU", "forward", 0, 1, False, ["Y", "Y_h"])
rnn_graph("h_gru_rev_init", "GRU", "reverse", 0, 0, True, ["Y"])
rnn_graph("h_gru_bi_layout1", "GRU", "bidirectional", 1, 0, True, ["Y", "Y_h"])
rnn_graph("h_lstm_fwd", "LSTM", "forward", 0, 0, False, ["Y", "Y_h", "Y_c"])
rnn_graph("h_lstm_bi_init", "LSTM", "bidirectional", 0, 0, True, ["Y_c"])
rnn_graph("h_lstm_rev_layout1", "LSTM", "reverse", 1, 0, True, ["Y", "Y_h"])
# the default activations written out (as some exporters do), and a non-default one (rejected)
rnn_graph("h_gru_bi_acts", "GRU", "bidirectional", 0, 1, False, ["Y"], acts=["Sigmoid", "Tanh"] * 2)
rnn_graph("h_lstm_acts", "LSTM", "forward", 0, 0, True, ["Y_h"], acts=["Sigmoid", "Tanh", "Tanh"])
rnn_graph("bad_gru_relu", "GRU", "forward", 0, 0, False, ["Y"], acts=["Sigmoid", "Relu"], save_only=True)

with open("models.txt", "w") as f:
    for name, n_out in models:
        f.write(f"{name} {n_out}\n")
