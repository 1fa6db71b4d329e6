/*
 * Function multi-versioning for the few loops that gain from wider vectors: GCC's target_clones
 * compiles a function twice, for the baseline and for a newer x86-64 level, and the loader picks
 * the one the processor runs (an ifunc). Only GCC on x86-64 Linux; elsewhere a plain function.
 * Every user writes the same bytes from both clones (no reordering across lanes, no contraction
 * in ISO C mode), and -DWF_NO_CLONES builds the baseline only, to test it on a newer machine.
 */
#ifndef WF_CORE_CLONES_H
#define WF_CORE_CLONES_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) &&       \
    !defined(WF_NO_CLONES)
#define WF_CLONES(target) __attribute__((target_clones(target, "default")))
/* Two newer levels besides the baseline (the loader takes the newest the processor runs). */
#define WF_CLONES2(newest, newer) __attribute__((target_clones(newest, newer, "default")))
#else
#define WF_CLONES(target)
#define WF_CLONES2(newest, newer)
#endif

/* Eight floats as one GCC/Clang vector (two SSE registers in the baseline clone, one AVX
 * register in the avx2 one), unaligned and allowed to alias float: loads and stores straight
 * from float rows. For the loops GCC would otherwise vectorise the wrong way (over the
 * reduction, with a shuffle per product) or not keep in registers. Only where WF_HAVE_V8. */
#if defined(__GNUC__)
#define WF_HAVE_V8 1
typedef float wf_v8 __attribute__((vector_size(32), aligned(4), may_alias));
#endif

#endif
