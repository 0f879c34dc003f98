/*
 * samples.c — statistics over a small sample of trial values (samples.h).
 *
 * Sources:
 *  - Bootstrap percentile intervals: Efron & Tibshirani, "An Introduction to
 *    the Bootstrap" (1993), ch. 13.  The median of each resample; the 2.5th
 *    and 97.5th percentiles of the resampled medians.  For a ratio of two
 *    medians the two samples are resampled independently (ch. 8, two-sample
 *    problems).
 *  - Mann-Whitney U: Mann & Whitney, "On a test of whether one of two random
 *    variables is stochastically larger than the other", Ann. Math. Statist.
 *    18 (1947).  The choice of method follows what Google Benchmark's
 *    tools/gbench/report.py (compare.py's U test) gets from
 *    scipy.stats.mannwhitneyu(alternative="two-sided"): exact when there are
 *    no ties and a sample is smaller than 8, else the normal approximation
 *    with the tie-corrected variance and a continuity correction of 0.5.
 *    The exact null distribution of U is the coefficient list of the
 *    Gaussian binomial [m+n choose m]_q = prod_{i=1..m} (1-q^(n+i))/(1-q^i)
 *    (Andrews, "The Theory of Partitions", 1976, 3.3), computed by m
 *    multiplications and m exact divisions of a polynomial.
 *    One departure from scipy: with ties and a sample smaller than 8 (and
 *    at most 64 values in all) the p-value is exact too, from the
 *    permutation distribution of the smaller sample's sum of midranks
 *    given the ties (the conditional test: Hollander & Wolfe,
 *    "Nonparametric Statistical Methods", 2nd ed. 1999, 4.1, comment 8).
 *    The normal approximation there can fall below the smallest p any
 *    assignment of the trials reaches: 0.047 for 3 tied trials a side,
 *    whose exact p is 0.1 — trials of a virtual-time run tie often.
 *
 * No state: the resampling generator (splitmix64, Vigna 2015) is seeded
 * from a constant on every call, so results are reproducible.
 */
#include "common/samples.h"

#include <pmapstorm/alloc.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

int samples_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int samples_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

uint64_t samples_pct_u64(uint64_t *v, unsigned n, double q)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), samples_cmp_u64);
	return v[(unsigned)(q * (n - 1) + 0.5)];
}

double samples_median_sorted(const double *v, unsigned n)
{
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

uint64_t samples_splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* the median of a resample of the n values of v (r: n of room) */
static double resampled_median(const double *v, unsigned n, double *r, uint64_t *seed)
{
	for (unsigned i = 0; i < n; i++)
		r[i] = v[samples_splitmix64(seed) % n];
	qsort(r, n, sizeof(double), samples_cmp_double);
	return samples_median_sorted(r, n);
}

struct samples_stats samples_summarize(const double *vals, unsigned n, bool boot)
{
	struct samples_stats s = {.n = n};
	if (n == 0)
		return s;
	double *v = mem_alloc(double, n), *r = mem_alloc(double, n);
	double *meds = boot ? mem_alloc(double, SAMPLES_BOOT_RESAMPLES) : NULL;
	if (v == NULL || r == NULL || (boot && meds == NULL)) {
		free(v);
		free(r);
		free(meds);
		s.n = 0;
		return s;
	}
	memcpy(v, vals, n * sizeof(double));
	qsort(v, n, sizeof(double), samples_cmp_double);
	s.median = samples_median_sorted(v, n);
	s.min = v[0];
	s.max = v[n - 1];
	/* quartiles by linear interpolation between order statistics (R's type 7) */
	for (int q = 0; q < 2; q++) {
		double h = (n - 1) * (q == 0 ? 0.25 : 0.75);
		unsigned lo = (unsigned)h;
		double x = lo + 1 < n ? v[lo] + (h - lo) * (v[lo + 1] - v[lo]) : v[lo];
		if (q == 0)
			s.q1 = x;
		else
			s.q3 = x;
	}
	for (unsigned i = 0; i < n; i++)
		s.mean += v[i] / n;
	for (unsigned i = 0; n > 1 && i < n; i++)
		s.sd += (v[i] - s.mean) * (v[i] - s.mean) / (n - 1);
	s.sd = sqrt(s.sd);
	if (boot) {
		uint64_t seed = SAMPLES_BOOT_SEED;
		for (unsigned b = 0; b < SAMPLES_BOOT_RESAMPLES; b++)
			meds[b] = resampled_median(v, n, r, &seed);
		qsort(meds, SAMPLES_BOOT_RESAMPLES, sizeof(double), samples_cmp_double);
		s.ci_lo = meds[SAMPLES_BOOT_RESAMPLES * 25 / 1000];
		s.ci_hi = meds[SAMPLES_BOOT_RESAMPLES * 975 / 1000 - 1];
	}
	free(v);
	free(r);
	free(meds);
	return s;
}

void samples_holm(const double *p, unsigned m, double *adj)
{
	unsigned *idx = mem_alloc(unsigned, m);
	if (idx == NULL) { /* no memory: Bonferroni, which Holm only improves on */
		for (unsigned i = 0; i < m; i++)
			adj[i] = p[i] * m < 1 ? p[i] * m : 1;
		return;
	}
	for (unsigned i = 0; i < m; i++)
		idx[i] = i;
	for (unsigned i = 1; i < m; i++) /* insertion sort by p: m is small */
		for (unsigned j = i; j > 0 && p[idx[j]] < p[idx[j - 1]]; j--) {
			unsigned t = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	double run = 0;
	for (unsigned k = 0; k < m; k++) {
		double a = p[idx[k]] * (m - k);
		if (a > 1)
			a = 1;
		if (a < run)
			a = run; /* adjusted p-values never fall with rank */
		run = a;
		adj[idx[k]] = a;
	}
	free(idx);
}

bool samples_boot_ratio_ci(const double *a, unsigned na, const double *b, unsigned nb, double alpha, double *lo,
    double *hi)
{
	if (na == 0 || nb == 0 || !(alpha > 0 && alpha < 1))
		return false;
	double *ra = mem_alloc(double, na), *rb = mem_alloc(double, nb);
	double *ratios = mem_alloc(double, SAMPLES_BOOT_RESAMPLES);
	unsigned k = 0;
	if (ra != NULL && rb != NULL && ratios != NULL) {
		uint64_t seed = SAMPLES_BOOT_SEED;
		for (unsigned i = 0; i < SAMPLES_BOOT_RESAMPLES; i++) {
			double ma = resampled_median(a, na, ra, &seed), mb = resampled_median(b, nb, rb, &seed);
			if (ma != 0 && isfinite(mb / ma))
				ratios[k++] = mb / ma;
		}
	}
	if (k > 0) {
		qsort(ratios, k, sizeof(double), samples_cmp_double);
		unsigned il = (unsigned)floor(alpha / 2 * k), ih = (unsigned)ceil((1 - alpha / 2) * k);
		*lo = ratios[il < k ? il : k - 1];
		*hi = ratios[ih >= 1 ? (ih <= k ? ih - 1 : k - 1) : 0];
	}
	free(ra);
	free(rb);
	free(ratios);
	return k > 0;
}

struct ranked {
	double v;
	int from_a;
};

static int cmp_ranked(const void *x, const void *y)
{
	return samples_cmp_double(&((const struct ranked *)x)->v, &((const struct ranked *)y)->v);
}

/* P(U >= u) under the null hypothesis, U for samples of m and n values,
 * from the Gaussian binomial's coefficients; -1 when out of memory. */
static double mwu_exact_sf(unsigned m, unsigned n, double u)
{
	if (m > n) {
		unsigned t = m;
		m = n;
		n = t;
	}
	size_t deg = (size_t)m * n, len = deg + (size_t)n + m + 1;
	double *c = mem_zalloc(double, len);
	if (c == NULL)
		return -1;
	c[0] = 1;
	size_t top = 0; /* degree so far */
	for (unsigned i = 1; i <= m; i++) {
		/* multiply by (1 - q^(n+i)) */
		size_t sh = (size_t)n + i;
		for (size_t k = top + sh + 1; k-- > sh;)
			c[k] -= c[k - sh];
		top += sh;
		/* divide by (1 - q^i): exact, the quotient is a polynomial */
		for (size_t k = i; k <= top; k++)
			c[k] += c[k - i];
		top -= i;
	}
	double total = 0, tail = 0;
	for (size_t k = 0; k <= deg; k++) {
		total += c[k];
		if ((double)k >= u - 1e-9)
			tail += c[k];
	}
	free(c);
	return total > 0 ? tail / total : 1;
}

/* The conditional exact two-sided p with ties: r2[] the N pooled values'
 * midranks doubled (whole numbers), m the smaller sample's size and obs2
 * its doubled rank sum.  Counts the m-subsets of the pooled values by
 * their doubled rank sum (a subset-sum table), and returns the share whose
 * sum lies at least as far from its mean m(N+1) as obs2; -1 when out of
 * memory. */
static double mwu_exact_ties(const unsigned *r2, unsigned N, unsigned m, unsigned obs2)
{
	const size_t smax = (size_t)2 * N * m + 1;
	double *cnt = mem_zalloc(double, (size_t)(m + 1) * smax);
	if (cnt == NULL)
		return -1;
	cnt[0] = 1; /* the empty subset, sum 0 */
	for (unsigned i = 0; i < N; i++)
		for (unsigned k = (i + 1 < m ? i + 1 : m); k >= 1; k--)
			for (size_t s = smax - 1; s >= r2[i]; s--)
				cnt[(size_t)k * smax + s] += cnt[(size_t)(k - 1) * smax + s - r2[i]];
	const double mean2 = (double)m * (N + 1), d = fabs((double)obs2 - mean2);
	double total = 0, tail = 0;
	for (size_t s = 0; s < smax; s++) {
		const double c = cnt[(size_t)m * smax + s];
		total += c;
		if (fabs((double)s - mean2) >= d - 1e-9)
			tail += c;
	}
	free(cnt);
	return total > 0 ? tail / total : 1;
}

double samples_mann_whitney(const double *a, unsigned na, const double *b, unsigned nb, double *u_out, double *z_out)
{
	double u1 = 0, z = 0, p = 1;
	if (na == 0 || nb == 0)
		goto out;
	unsigned N = na + nb;
	struct ranked *r = mem_alloc(struct ranked, N);
	if (r == NULL)
		goto out;
	for (unsigned i = 0; i < na; i++)
		r[i] = (struct ranked){a[i], 1};
	for (unsigned i = 0; i < nb; i++)
		r[na + i] = (struct ranked){b[i], 0};
	qsort(r, N, sizeof(*r), cmp_ranked);
	/* the doubled midranks, whole numbers, for the exact test with ties */
	unsigned *r2 = mem_alloc(unsigned, N), ranksum2_a = 0;
	double ranksum = 0, tie_term = 0;
	bool ties = false;
	for (unsigned i = 0; i < N;) {
		unsigned j = i;
		while (j + 1 < N && r[j + 1].v == r[i].v)
			j++;
		double t = j - i + 1, mid = (i + j) / 2.0 + 1; /* midrank, ranks from 1 */
		for (unsigned k = i; k <= j; k++) {
			if (r2 != NULL)
				r2[k] = i + j + 2;
			if (r[k].from_a) {
				ranksum += mid;
				ranksum2_a += i + j + 2;
			}
		}
		if (t > 1) {
			ties = true;
			tie_term += t * t * t - t;
		}
		i = j + 1;
	}
	free(r);
	u1 = ranksum - (double)na * (na + 1) / 2;
	double u2 = (double)na * nb - u1, u = u1 > u2 ? u1 : u2;
	double mu = (double)na * nb / 2;
	double var = (double)na * nb / 12 * ((N + 1) - tie_term / ((double)N * (N - 1)));
	if (var > 0) {
		z = (u - mu - 0.5) / sqrt(var);
		p = erfc(z / sqrt(2.0)); /* 2 * sf(z) */
	}
	if (!ties && (na < 8 || nb < 8)) {
		double sf = mwu_exact_sf(na, nb, u);
		if (sf >= 0)
			p = 2 * sf;
	} else if (ties && (na < 8 || nb < 8) && N <= 64 && r2 != NULL) {
		/* the smaller sample's doubled rank sum: a's, or the rest of N(N+1) */
		const unsigned m = na <= nb ? na : nb, obs2 = na <= nb ? ranksum2_a : N * (N + 1) - ranksum2_a;
		double pe = mwu_exact_ties(r2, N, m, obs2);
		if (pe >= 0)
			p = pe;
	}
	free(r2);
	if (p > 1)
		p = 1;
	if (u1 < mu)
		z = -z; /* the sign says which sample ranks lower */
out:
	if (u_out != NULL)
		*u_out = u1;
	if (z_out != NULL)
		*z_out = z;
	return p;
}

double samples_mwu_holm_min_p(unsigned na, unsigned nb, unsigned ncmp)
{
	double p = samples_mwu_min_p(na, nb) * (ncmp > 0 ? ncmp : 1);
	return p < 1 ? p : 1;
}

unsigned samples_mwu_trials_needed(double alpha, unsigned ncmp)
{
	unsigned n = 2;
	while (n < 1000 && samples_mwu_holm_min_p(n, n, ncmp) >= alpha)
		n++;
	return n;
}

double samples_mwu_min_p(unsigned na, unsigned nb)
{
	if (na == 0 || nb == 0)
		return 1;
	/* 2 / C(na + nb, na), in logs: no overflow for large samples */
	double lc = lgamma(na + nb + 1.0) - lgamma(na + 1.0) - lgamma(nb + 1.0);
	double p = 2 * exp(-lc);
	return p > 1 ? 1 : p;
}
