/*
 * Internals of the issue-13 checks shared by the explain stage's files and reachable by tests:
 * Owen values on one window through the KernelSHAP coalition evaluator, and the small dense
 * routines of the dependence measure.
 */
#ifndef WF_CHECKS_IMPL_H
#define WF_CHECKS_IMPL_H

#include "explain/explain_impl.h"
#include "whyflag/explain_checks.h"

/* Exact Owen values of the window set in ev (players = ev->pl, h->M == ev->pl->M) over h;
 * fills out as a KernelSHAP result (exact = 1, std_err 0, samples = distinct coalitions). */
wf_status wf_owen_window(wf_coal_eval *ev, const wf_hierarchy *h, wf_kshap_result *out,
                         wf_error *err);

/* Eigenvalues of the symmetric matrix A (n, n), descending, by cyclic Jacobi rotations in
 * double (A is overwritten). */
void wf_dep_sym_eigenvalues(double *A, int n, double *eig);

/* The linear part from a weighted covariance matrix cov (C, C) and means (C) of rows
 * observations (see wf_dep_linear_measure for the rule). */
wf_status wf_dep_linear_from_cov(const double *cov, const double *mean, int64_t rows, int C,
                                 double exact_tol, double coef_min, wf_dep_linear *out,
                                 wf_error *err);

/* Complete-linkage agglomerative clustering of n items on the symmetric dissimilarity D (n, n):
 * merges (n - 1) in scipy's linkage convention; ties broken by the smallest cluster ids. */
wf_status wf_dep_complete_linkage(const double *D, int n, wf_dep_merge *merges, wf_error *err);

#endif
