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
#else
#define WF_CLONES(target)
#endif

#endif
