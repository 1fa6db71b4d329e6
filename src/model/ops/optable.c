/* The table of supported ops: name -> definition. */
#include <string.h>

#include "model/ops/ops.h"

static const wf_opdef *const table[] = {
    &wf_op_add,          &wf_op_sub,        &wf_op_mul,
    &wf_op_div,          &wf_op_relu,       &wf_op_leaky_relu,
    &wf_op_sigmoid,      &wf_op_tanh,       &wf_op_softmax,
    &wf_op_flatten,      &wf_op_reshape,    &wf_op_transpose,
    &wf_op_squeeze,      &wf_op_unsqueeze,  &wf_op_concat,
    &wf_op_pad,          &wf_op_identity,   &wf_op_dropout,
    &wf_op_reduce_mean,  &wf_op_gemm,       &wf_op_matmul,
    &wf_op_conv,         &wf_op_maxpool,    &wf_op_avgpool,
    &wf_op_gavgpool,     &wf_op_gmaxpool,   &wf_op_batchnorm,
    &wf_op_quantize,     &wf_op_dequantize, &wf_op_qlinear_matmul,
    &wf_op_qlinear_conv,
    /* issue 10: shape arithmetic, math, reductions, normalizations */
    &wf_op_shape,        &wf_op_size,       &wf_op_gather,
    &wf_op_slice,        &wf_op_constant_of_shape, &wf_op_cast,
    &wf_op_range,        &wf_op_expand,     &wf_op_equal,
    &wf_op_where,        &wf_op_erf,        &wf_op_sqrt,
    &wf_op_exp,          &wf_op_log,        &wf_op_abs,
    &wf_op_neg,          &wf_op_reciprocal, &wf_op_clip,
    &wf_op_hard_sigmoid, &wf_op_hard_swish, &wf_op_softplus,
    &wf_op_elu,          &wf_op_selu,       &wf_op_pow,
    &wf_op_prelu,        &wf_op_min,        &wf_op_max,
    &wf_op_reduce_max,   &wf_op_reduce_min, &wf_op_reduce_sum,
    &wf_op_reduce_sum_square, &wf_op_reduce_l2, &wf_op_layer_norm,
    &wf_op_instance_norm, &wf_op_log_softmax, &wf_op_gru, &wf_op_lstm, &wf_op_conv_transpose,
};

const wf_opdef *wf_op_find(const char *op_type) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(table[i]->name, op_type))
            return table[i];
    return NULL;
}

const char *wf_op_supported_list(void) {
    return "Add, Sub, Mul, Div, Relu, LeakyRelu, Sigmoid, Tanh, Softmax, Flatten, Reshape, "
           "Transpose, Squeeze, Unsqueeze, Concat, Pad, Constant, Identity, Dropout, ReduceMean, "
           "Gemm, MatMul, Conv, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, "
           "BatchNormalization, QuantizeLinear, DequantizeLinear, QLinearMatMul, QLinearConv, "
           "Shape, Size, Gather, Slice, ConstantOfShape, Cast, Range, Expand, Equal, Where, Erf, "
           "Sqrt, Exp, Log, Abs, Neg, Reciprocal, Clip, HardSigmoid, HardSwish, Softplus, Elu, "
           "Selu, Pow, PRelu, Min, Max, ReduceMax, ReduceMin, ReduceSum, ReduceSumSquare, "
           "ReduceL2, LayerNormalization, InstanceNormalization, LogSoftmax, GRU, LSTM, ConvTranspose";
}
