/* The ops added for issue 10 (shape arithmetic, math, reductions, normalizations, recurrent
 * layers, ConvTranspose), looked up after the table of optable.c. */
#include <string.h>

#include "model/ops/ops.h"

static const wf_opdef *const table10[] = {
    &wf_op_shape,
    &wf_op_size,
    &wf_op_gather,
    &wf_op_slice,
    &wf_op_constant_of_shape,
    &wf_op_cast,
    &wf_op_range,
    &wf_op_expand,
    &wf_op_equal,
    &wf_op_where,
    &wf_op_erf,
    &wf_op_sqrt,
    &wf_op_exp,
    &wf_op_log,
    &wf_op_abs,
    &wf_op_neg,
    &wf_op_reciprocal,
    &wf_op_clip,
    &wf_op_hard_sigmoid,
    &wf_op_hard_swish,
    &wf_op_softplus,
    &wf_op_elu,
    &wf_op_selu,
    &wf_op_pow,
    &wf_op_prelu,
    &wf_op_min,
    &wf_op_max,
    &wf_op_reduce_max,
    &wf_op_reduce_min,
    &wf_op_reduce_sum,
    &wf_op_reduce_sum_square,
    &wf_op_reduce_l2,
    &wf_op_layer_norm,
    &wf_op_instance_norm,
    &wf_op_log_softmax,
    &wf_op_gru,
    &wf_op_lstm,
    &wf_op_conv_transpose,
    &wf_op_less,
    &wf_op_greater,
    &wf_op_less_equal,
    &wf_op_greater_equal,
    &wf_op_not,
    &wf_op_and,
    &wf_op_or,
    &wf_op_argmax,
    &wf_op_argmin,
    &wf_op_split,
    &wf_op_tile,
    &wf_op_resize,
    &wf_op_upsample,
};

const wf_opdef *wf_op_find10(const char *op_type) {
    for (size_t i = 0; i < sizeof table10 / sizeof table10[0]; i++)
        if (!strcmp(table10[i]->name, op_type))
            return table10[i];
    return NULL;
}
