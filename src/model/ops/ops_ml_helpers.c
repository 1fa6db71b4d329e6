/*
 * ai.onnx.ml helpers that exporters put around models: Imputer, Binarizer, Normalizer,
 * ArrayFeatureExtractor, FeatureVectorizer, LinearRegressor, LinearClassifier. Float input only;
 * results as ONNX Runtime (1.30, CPU) computes them: Normalizer sums in float, the linear ops'
 * post transforms follow ORT's batched_update_scores_inplace (a one-row-of-coefficients
 * classifier with two labels writes [1 - p, p], p the score after LOGISTIC, else the raw score).
 * The linear ops accumulate dot products in double (ORT: MLAS sgemm in float), so they agree
 * with ORT to float rounding, not bit for bit. None of these has a gradient here.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"
#include "model/ops/ops.h"
#include "model/ops/ops_ml_trees.h"

static int post_code(const char *s) {
    static const char *const names[] = {"NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

static float h_logistic(float v) {
    float e = 1.0f / (1.0f + expf(-fabsf(v)));
    return v < 0 ? 1.0f - e : e;
}

static float h_probit(float v) {
    float x = 2 * v - 1;
    float sgn = x < 0 ? -1.0f : 1.0f;
    x = (1 - x) * (1 + x);
    float lg = logf(x);
    float a = 2 / ((float)3.14159265358979323846 * 0.147f) + 0.5f * lg;
    float b = 1 / (0.147f) * lg;
    return (float)1.41421356237309504880 * sgn * sqrtf(-a + sqrtf(a * a - b));
}

/* ORT's batched_update_scores_inplace for rows of `len` scores (len > 1), in place. */
static void post_rows(float *s, int64_t rows, int64_t len, int post) {
    for (int64_t r = 0; r < rows; r++, s += len) {
        float mx = s[0], sum = 0;
        switch (post) {
        case WF_ML_PROBIT:
            for (int64_t i = 0; i < len; i++)
                s[i] = h_probit(s[i]);
            break;
        case WF_ML_LOGISTIC:
            for (int64_t i = 0; i < len; i++)
                s[i] = h_logistic(s[i]);
            break;
        case WF_ML_SOFTMAX:
            for (int64_t i = 1; i < len; i++)
                mx = s[i] > mx ? s[i] : mx;
            for (int64_t i = 0; i < len; i++) {
                s[i] = expf(s[i] - mx);
                sum += s[i];
            }
            for (int64_t i = 0; i < len; i++)
                s[i] /= sum;
            break;
        case WF_ML_SOFTMAX_ZERO:
            for (int64_t i = 1; i < len; i++)
                mx = s[i] > mx ? s[i] : mx;
            for (int64_t i = 0; i < len; i++) {
                if (s[i] > 0.0000001f || s[i] < -0.0000001f) {
                    s[i] = expf(s[i] - mx);
                    sum += s[i];
                } else {
                    s[i] = 0;
                }
            }
            for (int64_t i = 0; i < len; i++)
                s[i] /= sum;
            break;
        default:
            break;
        }
    }
}

static wf_status one_float_in(wf_node *n, wf_value *vals, int n_out, wf_error *err) {
    if (n->n_in < 1 || n->in[0] < 0 || n->n_out != n_out)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs an input and %d output(s)", n_out);
    return wf_check_dtype(n, vals, 0, WF_DT_FLOATONLY, err);
}

static void rows_of(const wf_tensor *x, int64_t *rows, int64_t *cols) {
    *rows = x->rank <= 1 ? 1 : x->dims[0];
    *cols = x->rank == 0 ? 1 : x->dims[x->rank - 1];
    if (x->rank > 2)
        *rows = wf_numel(x) / (*cols ? *cols : 1);
}

static wf_status same_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                            size_t *scratch, wf_error *err) {
    (void)n;
    (void)scratch;
    (void)err;
    out[0]->rank = in[0]->rank;
    memcpy(out[0]->dims, in[0]->dims, sizeof in[0]->dims);
    return WF_OK;
}

/* ---- Imputer ---- */

static wf_status imputer_check(wf_node *n, wf_value *vals, wf_error *err) {
    wf_status s = one_float_in(n, vals, 1, err);
    if (s)
        return s;
    const wf_attr *a = wf_attr_find(n, "imputed_value_floats");
    if (!a || a->type != WF_ATTR_FLOATS || a->n < 1)
        return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                             "needs imputed_value_floats (int64 imputation is not supported)");
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

static wf_status imputer_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                               size_t *scratch, wf_error *err) {
    const wf_attr *a = wf_attr_find(n, "imputed_value_floats");
    int64_t r, c;
    rows_of(in[0], &r, &c);
    if (a->n != 1 && a->n != c)
        return wf_node_error(err, WF_ERR_SHAPE, n,
                             "imputed_value_floats has %d values for %lld features", a->n,
                             (long long)c);
    return same_shape(n, in, out, scratch, err);
}

static void imputer_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    const wf_attr *a = wf_attr_find(n, "imputed_value_floats");
    float rep = wf_attr_float(n, "replaced_value_float", 0.f);
    int64_t r, c;
    rows_of(in[0], &r, &c);
    const float *x = in[0]->data;
    float *y = out[0]->data;
    for (int64_t i = 0; i < r * c; i++) {
        float v = x[i];
        int hit = rep != rep ? v != v : v == rep;
        y[i] = hit ? a->floats[a->n == 1 ? 0 : i % c] : v;
    }
}

const wf_opdef wf_op_imputer = {"Imputer", imputer_check, imputer_shape, imputer_fwd, NULL,
                                0,         NULL};

/* ---- Binarizer ---- */

static wf_status binarizer_check(wf_node *n, wf_value *vals, wf_error *err) {
    wf_status s = one_float_in(n, vals, 1, err);
    if (s)
        return s;
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

static void binarizer_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    float th = wf_attr_float(n, "threshold", 0.f);
    int64_t k = wf_numel(in[0]);
    const float *x = in[0]->data;
    float *y = out[0]->data;
    for (int64_t i = 0; i < k; i++)
        y[i] = x[i] > th ? 1.f : (x[i] != x[i] ? x[i] : 0.f);
}

const wf_opdef wf_op_binarizer = {"Binarizer", binarizer_check, same_shape, binarizer_fwd, NULL, 0,
                                  NULL};

/* ---- Normalizer ---- */

static wf_status normalizer_check(wf_node *n, wf_value *vals, wf_error *err) {
    wf_status s = one_float_in(n, vals, 1, err);
    if (s)
        return s;
    const char *nm = wf_attr_str(n, "norm", "MAX");
    if (strcmp(nm, "MAX") && strcmp(nm, "L1") && strcmp(nm, "L2"))
        return wf_node_error(err, WF_ERR_PARSE, n, "norm '%s' (expected MAX, L1 or L2)", nm);
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

static wf_status normalizer_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                                  size_t *scratch, wf_error *err) {
    if (in[0]->rank > 2)
        return wf_node_error(err, WF_ERR_SHAPE, n, "input must be 1-D or 2-D, is %d-D",
                             in[0]->rank);
    return same_shape(n, in, out, scratch, err);
}

static void normalizer_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    const char *nm = wf_attr_str(n, "norm", "MAX");
    int64_t r, c;
    rows_of(in[0], &r, &c);
    for (int64_t b = 0; b < r; b++) {
        const float *x = (const float *)in[0]->data + b * c;
        float *y = (float *)out[0]->data + b * c;
        if (!strcmp(nm, "MAX")) {
            float mx = -3.40282347e+38f;
            for (int64_t i = 0; i < c; i++)
                mx = x[i] > mx ? x[i] : mx; /* std::max(max, x): NaN x leaves max */
            for (int64_t i = 0; i < c; i++)
                y[i] = mx != 0.f ? x[i] / mx : x[i];
        } else if (!strcmp(nm, "L1")) {
            float sum = 0;
            for (int64_t i = 0; i < c; i++)
                sum += fabsf(x[i]);
            for (int64_t i = 0; i < c; i++)
                y[i] = sum != 0.f ? x[i] / sum : x[i];
        } else {
            float sum = 0;
            for (int64_t i = 0; i < c; i++)
                sum += x[i] * x[i];
            for (int64_t i = 0; i < c; i++)
                y[i] = sum != 0.f
                           ? (x[i] < 0 ? -sqrtf(x[i] * x[i] / sum) : sqrtf(x[i] * x[i] / sum))
                           : x[i];
        }
    }
}

const wf_opdef wf_op_normalizer = {
    "Normalizer", normalizer_check, normalizer_shape, normalizer_fwd, NULL, 0, NULL};

/* ---- ArrayFeatureExtractor: Z[..., j] = X[..., Y[j]] ---- */

static wf_status afe_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in != 2 || n->in[0] < 0 || n->in[1] < 0 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs inputs X, Y and 1 output");
    wf_status s = wf_check_dtype(n, vals, 0, WF_DT_FLOATONLY, err);
    if (!s)
        s = wf_check_dtype(n, vals, 1, WF_DT_BIT(WF_DTYPE_INT64), err);
    if (s)
        return s;
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

static wf_status afe_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                           size_t *scratch, wf_error *err) {
    (void)scratch;
    const wf_tensor *x = in[0];
    int64_t k = wf_numel(in[1]);
    if (x->rank < 1)
        return wf_node_error(err, WF_ERR_SHAPE, n, "X must have rank >= 1");
    if (in[1]->data) {
        const int64_t *ix = in[1]->data;
        for (int64_t j = 0; j < k; j++)
            if (ix[j] < 0 || ix[j] >= x->dims[x->rank - 1])
                return wf_node_error(err, WF_ERR_SHAPE, n,
                                     "index %lld is outside the last axis (%lld)", (long long)ix[j],
                                     (long long)x->dims[x->rank - 1]);
    }
    if (x->rank == 1) {
        out[0]->rank = 2;
        out[0]->dims[0] = 1;
        out[0]->dims[1] = k;
    } else {
        out[0]->rank = x->rank;
        memcpy(out[0]->dims, x->dims, sizeof x->dims);
        out[0]->dims[x->rank - 1] = k;
    }
    return WF_OK;
}

static void afe_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)n;
    (void)s;
    int64_t r, c, k = wf_numel(in[1]);
    rows_of(in[0], &r, &c);
    const int64_t *ix = in[1]->data;
    const float *x = in[0]->data;
    float *y = out[0]->data;
    for (int64_t b = 0; b < r; b++)
        for (int64_t j = 0; j < k; j++) /* an index out of range (non-constant Y) reads 0 */
            y[b * k + j] = ix[j] >= 0 && ix[j] < c ? x[b * c + ix[j]] : 0.f;
}

const wf_opdef wf_op_afe = {"ArrayFeatureExtractor", afe_check, afe_shape, afe_fwd, NULL, 0, NULL};

/* ---- FeatureVectorizer: [N, sum(inputdimensions)], each input cut or zero-padded ---- */

static wf_status fv_check(wf_node *n, wf_value *vals, wf_error *err) {
    if (n->n_in < 1 || n->n_out != 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "needs inputs and 1 output");
    int64_t dims[1];
    int k = wf_attr_ints(n, "inputdimensions", dims, 1);
    if (k != n->n_in)
        return wf_node_error(err, WF_ERR_PARSE, n, "inputdimensions has %d entries for %d inputs",
                             k, n->n_in);
    for (int i = 0; i < n->n_in; i++) {
        wf_status s = wf_check_dtype(n, vals, i, WF_DT_FLOATONLY, err);
        if (s)
            return s;
    }
    vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    return WF_OK;
}

static wf_status fv_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                          size_t *scratch, wf_error *err) {
    (void)scratch;
    const wf_attr *a = wf_attr_find(n, "inputdimensions");
    int64_t N = in[0]->rank <= 1 ? 1 : in[0]->dims[0], total = 0;
    for (int i = 0; i < n->n_in; i++) {
        int64_t r = in[i]->rank <= 1 ? 1 : in[i]->dims[0];
        if (r != N || in[i]->rank > 2)
            return wf_node_error(err, WF_ERR_SHAPE, n, "input %d is not [N, C] with N = %lld", i,
                                 (long long)N);
        if (a->ints[i] < 0)
            return wf_node_error(err, WF_ERR_PARSE, n, "negative inputdimensions");
        total += a->ints[i];
    }
    out[0]->rank = 2;
    out[0]->dims[0] = N;
    out[0]->dims[1] = total;
    return WF_OK;
}

static void fv_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    const wf_attr *a = wf_attr_find(n, "inputdimensions");
    int64_t N = out[0]->dims[0], W = out[0]->dims[1], off = 0;
    float *y = out[0]->data;
    for (int i = 0; i < n->n_in; i++) {
        int64_t r, c;
        rows_of(in[i], &r, &c);
        const float *x = in[i]->data;
        for (int64_t b = 0; b < N; b++)
            for (int64_t j = 0; j < a->ints[i]; j++)
                y[b * W + off + j] = j < c ? x[b * c + j] : 0.f;
        off += a->ints[i];
    }
}

const wf_opdef wf_op_feature_vectorizer = {
    "FeatureVectorizer", fv_check, fv_shape, fv_fwd, NULL, 0, NULL};

/* ---- LinearRegressor / LinearClassifier: scores = X W^T + b ---- */

static wf_status linear_check(wf_node *n, wf_value *vals, int classifier, wf_error *err) {
    wf_status s = one_float_in(n, vals, classifier ? 2 : 1, err);
    if (s)
        return s;
    const wf_attr *w = wf_attr_find(n, "coefficients");
    if (!w || w->type != WF_ATTR_FLOATS || w->n < 1)
        return wf_node_error(err, WF_ERR_PARSE, n, "coefficients are missing");
    if (post_code(wf_attr_str(n, "post_transform", "NONE")) < 0)
        return wf_node_error(err, WF_ERR_PARSE, n, "post_transform '%s'",
                             wf_attr_str(n, "post_transform", ""));
    if (classifier) {
        if (wf_attr_find(n, "classlabels_strings"))
            return wf_node_error(err, WF_ERR_UNSUPPORTED, n,
                                 "string class labels are not supported; export int64 labels");
        const wf_attr *b = wf_attr_find(n, "intercepts");
        if (!b || b->type != WF_ATTR_FLOATS || b->n < 1)
            return wf_node_error(err, WF_ERR_PARSE, n, "intercepts are missing");
        const wf_attr *l = wf_attr_find(n, "classlabels_ints");
        if (b->n > 1 && (!l || l->n != b->n))
            return wf_node_error(err, WF_ERR_PARSE, n,
                                 "classlabels_ints must have one label per intercept (%d)", b->n);
        vals[n->out[0]].dtype = WF_DTYPE_INT64;
        if (n->out[1] >= 0)
            vals[n->out[1]].dtype = WF_DTYPE_FLOAT;
    } else {
        vals[n->out[0]].dtype = WF_DTYPE_FLOAT;
    }
    return WF_OK;
}

static int linear_targets(const wf_node *n, int classifier) {
    if (classifier) {
        const wf_attr *b = wf_attr_find(n, "intercepts");
        return b->n;
    }
    return (int)wf_attr_int(n, "targets", 1);
}

static wf_status linear_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                              size_t *scratch, wf_error *err, int classifier) {
    (void)scratch;
    const wf_attr *w = wf_attr_find(n, "coefficients");
    const wf_attr *b = wf_attr_find(n, "intercepts");
    int64_t r, c;
    if (in[0]->rank < 1 || in[0]->rank > 2)
        return wf_node_error(err, WF_ERR_SHAPE, n, "X must be [N, F] or [F]");
    rows_of(in[0], &r, &c);
    int K = linear_targets(n, classifier);
    if (K < 1 || (int64_t)K * c != w->n || (b && b->n && b->n != K))
        return wf_node_error(err, WF_ERR_SHAPE, n,
                             "%d coefficients and %d intercepts do not fit %d targets x %lld "
                             "features",
                             w->n, b ? b->n : 0, K, (long long)c);
    if (classifier) {
        const wf_attr *l = wf_attr_find(n, "classlabels_ints");
        int cols = (K == 1 && l && l->n == 2) ? 2 : K;
        out[0]->rank = 1;
        out[0]->dims[0] = r;
        if (out[1]) {
            out[1]->rank = 2;
            out[1]->dims[0] = r;
            out[1]->dims[1] = cols;
        }
    } else {
        out[0]->rank = 2;
        out[0]->dims[0] = r;
        out[0]->dims[1] = K;
    }
    return WF_OK;
}

static wf_status linreg_check(wf_node *n, wf_value *vals, wf_error *err) {
    return linear_check(n, vals, 0, err);
}
static wf_status lincls_check(wf_node *n, wf_value *vals, wf_error *err) {
    return linear_check(n, vals, 1, err);
}
static wf_status linreg_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                              size_t *scratch, wf_error *err) {
    return linear_shape(n, in, out, scratch, err, 0);
}
static wf_status lincls_shape(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out,
                              size_t *scratch, wf_error *err) {
    wf_status s = linear_shape(n, in, out, scratch, err, 1);
    const wf_attr *b = wf_attr_find(n, "intercepts");
    *scratch = (size_t)b->n * sizeof(float) + 64; /* scores when Z is not wanted */
    return s;
}

/* scores (r, K) */
static void linear_scores(const wf_node *n, const wf_tensor *x, int K, float *sc) {
    const wf_attr *w = wf_attr_find(n, "coefficients");
    const wf_attr *b = wf_attr_find(n, "intercepts");
    int64_t r, c;
    rows_of(x, &r, &c);
    const float *xd = x->data;
    for (int64_t i = 0; i < r; i++)
        for (int k = 0; k < K; k++) {
            double acc = b && b->n ? b->floats[k] : 0.0;
            for (int64_t j = 0; j < c; j++)
                acc += (double)xd[i * c + j] * w->floats[k * c + j];
            sc[i * K + k] = (float)acc;
        }
}

static void linreg_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    (void)s;
    int K = linear_targets(n, 0);
    int post = post_code(wf_attr_str(n, "post_transform", "NONE"));
    int64_t r = out[0]->dims[0];
    float *y = out[0]->data;
    linear_scores(n, in[0], K, y);
    if (K > 1)
        post_rows(y, r, K, post);
    else if (post == WF_ML_PROBIT)
        for (int64_t i = 0; i < r; i++)
            y[i] = h_probit(y[i]);
}

static void lincls_fwd(const wf_node *n, wf_tensor *const *in, wf_tensor *const *out, void *s) {
    int K = linear_targets(n, 1);
    int post = post_code(wf_attr_str(n, "post_transform", "NONE"));
    const wf_attr *l = wf_attr_find(n, "classlabels_ints");
    int64_t r = out[0]->dims[0];
    int64_t *lab = out[0]->data;
    int cols = (K == 1 && l && l->n == 2) ? 2 : K;
    float *z = out[1] ? (float *)out[1]->data : NULL;
    for (int64_t i = 0; i < r; i++) {
        float *sc = z ? z + i * cols : (float *)s;
        wf_tensor row = *in[0];
        int64_t rr, c;
        rows_of(in[0], &rr, &c);
        row.rank = 1;
        row.dims[0] = c;
        row.data = (float *)in[0]->data + i * c;
        linear_scores(n, &row, K, sc);
        if (K == 1) {
            int two = l && l->n == 2;
            lab[i] = sc[0] > 0 ? (two ? l->ints[1] : 1) : (two ? l->ints[0] : 0);
            if (post == WF_ML_PROBIT)
                sc[0] = h_probit(sc[0]);
            else if (cols == 2) { /* ORT 1.30: [1 - p, p], p the transformed score */
                float v = post == WF_ML_LOGISTIC ? h_logistic(sc[0]) : sc[0];
                sc[0] = 1.f - v;
                sc[1] = v;
            }
        } else {
            int mc = 0;
            for (int k = 1; k < K; k++)
                if (sc[k] > sc[mc])
                    mc = k;
            lab[i] = l->ints[mc];
            post_rows(sc, 1, K, post);
        }
    }
}

const wf_opdef wf_op_linear_regressor = {
    "LinearRegressor", linreg_check, linreg_shape, linreg_fwd, NULL, 0, NULL};
const wf_opdef wf_op_linear_classifier = {
    "LinearClassifier", lincls_check, lincls_shape, lincls_fwd, NULL, 0, NULL};
