/*
 * samples.h — statistics over a small sample of trial values: what the
 * report (report/report.c), run.json's summaries (record/results.c), the
 * CI gate (compare/gate.c), microbench and calibrate share, so that there
 * is one median, one bootstrap and one rank test in the tree.
 *
 * Every function is pure: no globals, fixed-seed resampling, so the same
 * values always give the same numbers (reports and gate verdicts are
 * reproducible).  Values must be finite; n may be 0.
 */
#ifndef PMAPSTORM_SAMPLES_H
#define PMAPSTORM_SAMPLES_H

#include <stdbool.h>
#include <stdint.h>

#define SAMPLES_BOOT_RESAMPLES 1000
#define SAMPLES_BOOT_SEED 0x7265706f72740001ULL /* fixed: reproducible intervals */

struct samples_stats {
	unsigned n;
	double median, min, max, mean, sd;
	double q1, q3;       /* quartiles (interpolated): the spread the report shows */
	double ci_lo, ci_hi; /* bootstrap percentile 95% CI of the median */
};

/* qsort comparator for doubles */
int samples_cmp_double(const void *a, const void *b);
/* qsort comparator for uint64_t (nanosecond samples) */
int samples_cmp_u64(const void *a, const void *b);
/* The q-quantile (0..1; 0.5 the median, v[n / 2]) of n nanosecond samples,
 * nearest rank: sorts v in place; 0 when n is 0 (microbench, calibrate). */
uint64_t samples_pct_u64(uint64_t *v, unsigned n, double q);
/* median of n >= 1 sorted values */
double samples_median_sorted(const double *v, unsigned n);
/* one step of splitmix64 (Vigna): the resampling generator */
uint64_t samples_splitmix64(uint64_t *state);

/* Median, range, mean, sample sd and, when boot, the bootstrap percentile
 * 95% CI of the median (SAMPLES_BOOT_RESAMPLES resamples).
 * => vals unchanged; n == 0 gives all zeros. */
struct samples_stats samples_summarize(const double *vals, unsigned n, bool boot);

/* Bootstrap percentile CI, at level 1 - alpha, of median(b) / median(a):
 * both samples resampled independently.  Resamples whose median of a is 0
 * are skipped; false when none is left (or na or nb is 0). */
bool samples_boot_ratio_ci(const double *a, unsigned na, const double *b, unsigned nb, double alpha, double *lo,
    double *hi);

/* Two-sided Mann-Whitney U test of a against b, as Google Benchmark's
 * tools/compare.py runs it (scipy.stats.mannwhitneyu, alternative
 * "two-sided", method "auto"): the exact distribution of U when there are
 * no ties and the smaller sample has fewer than 8 values, else the normal
 * approximation with tie correction and continuity correction — except
 * that with ties, a sample under 8 and at most 64 values in all, the p is
 * the exact permutation p given the ties (samples.c says why).
 * *u is U of a; *z the normal score of the approximation (also computed
 * when the exact method gives p; 0 when every value is tied).
 * => p-value in [0, 1]; 1 when na or nb is 0. */
double samples_mann_whitney(const double *a, unsigned na, const double *b, unsigned nb, double *u, double *z);

/* The smallest two-sided p-value the test can reach with na and nb values,
 * 2 / C(na + nb, na): with 3 trials a side it is 0.1, so no difference is
 * ever significant at 0.05. */
double samples_mwu_min_p(unsigned na, unsigned nb);
/* The smallest p one of ncmp comparisons can reach after Holm's
 * correction: samples_mwu_min_p() times ncmp (at least 1), at most 1. */
double samples_mwu_holm_min_p(unsigned na, unsigned nb, unsigned ncmp);
/* The fewest trials a side (2 to 1000) with which that is below alpha. */
unsigned samples_mwu_trials_needed(double alpha, unsigned ncmp);

/* Holm's step-down correction (Holm 1979) of m p-values for many
 * comparisons: adj[i] for p[i], each in [0, 1]; a family's
 * differences with adj < alpha are significant together at alpha. */
void samples_holm(const double *p, unsigned m, double *adj);

#endif
