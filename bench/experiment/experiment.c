/*
 * experiment.c — experiment files: parsing, validation, sweeps.
 *
 * inih parses the file (ini_parse_stream, with a reader that counts lines
 * so every message can say file:line).  Each value is split on commas into
 * a list; the experiment's sweep points are the cartesian product of all
 * lists, numbered in mixed radix over the keys in file order.  Every value
 * of every list is validated before anything runs — a typo in the last
 * point of a sweep must not surface an hour in.
 */
#include "experiment/experiment.h"
#include "common/msg.h"
#include "experiment/calibration.h"
#include "trials/workloads/workload.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <ini.h>
#include <math.h>

#include <pmapstorm/alloc.h>
#include <pmapstorm/shootdown.h>
#include <pmapstorm/topo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const exp_keys[] = {"name", "trials", "warmup", "duration", "seed", "interval", "mix", NULL};
/* the experiment keys a [mix.NAME] may set for itself */
static const char *const mix_exp_keys[] = {"warmup", "duration", "interval", NULL};
static const char *const report_keys[] = {"baseline", "primary", NULL};

double exp_parse_seconds(const char *v)
{
	char *end;
	double x = strtod(v, &end);
	if (end == v || !isfinite(x) || x < 0)
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	if (*end == '\0' || !strcmp(end, "s"))
		return x;
	if (!strcmp(end, "ms"))
		return x / 1e3;
	if (!strcmp(end, "us"))
		return x / 1e6;
	if (!strcmp(end, "m") || !strcmp(end, "min"))
		return x * 60;
	return -1;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static bool in_list(const char *const *l, const char *k)
{
	for (; *l != NULL; l++)
		if (!strcmp(*l, k))
			return true;
	return false;
}

/* ---- CPU sets ---- */

static int cpuset_add(uint64_t *bits, unsigned nwords, unsigned lo, unsigned hi, unsigned ncpu, char *why,
    size_t len, const char *spec)
{
	if (lo > hi || hi >= ncpu) {
		snprintf(why, len, "CPU set '%s' names CPUs outside the machine (machine.cpus = %u)", spec, ncpu);
		return -1;
	}
	for (unsigned c = lo; c <= hi && c / 64 < nwords; c++)
		bits[c / 64] |= 1ULL << (c % 64);
	return 0;
}

int exp_cpuset(const char *spec, unsigned ncpu, uint64_t *bits, unsigned nwords, char *why, size_t len)
{
	memset(bits, 0, sizeof(uint64_t) * nwords);
	char buf[EXP_CPUSETLEN];
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(why, len, "CPU set longer than %zu characters", sizeof(buf) - 1);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", spec);
	char *save = NULL;
	for (char *tok = strtok_r(buf, "+", &save); tok != NULL; tok = strtok_r(NULL, "+", &save)) {
		tok = trim(tok);
		unsigned half = (ncpu + 1) / 2;
		if (!strcmp(tok, "all")) {
			if (cpuset_add(bits, nwords, 0, ncpu - 1, ncpu, why, len, spec))
				return -1;
		} else if (!strcmp(tok, "even") || !strcmp(tok, "odd")) {
			for (unsigned c = tok[0] == 'e' ? 0 : 1; c < ncpu; c += 2)
				bits[c / 64] |= 1ULL << (c % 64);
		} else if (!strcmp(tok, "lo")) {
			if (cpuset_add(bits, nwords, 0, half - 1, ncpu, why, len, spec))
				return -1;
		} else if (!strcmp(tok, "hi")) {
			if (half < ncpu && cpuset_add(bits, nwords, half, ncpu - 1, ncpu, why, len, spec))
				return -1;
		} else {
			char *end;
			unsigned long lo = strtoul(tok, &end, 10), hi = lo;
			if (end == tok)
				goto bad;
			if (*end == '-' && end[1] == '\0') {
				/* "A-": A to the last CPU, none when the machine is smaller
				 * (the rest of a CPU sweep, beside a role on CPUs below A) */
				if (lo >= ncpu)
					continue;
				hi = ncpu - 1;
			} else if (*end == '-') {
				char *e2;
				hi = strtoul(end + 1, &e2, 10);
				if (e2 == end + 1 || *e2 != '\0')
					goto bad;
			} else if (*end != '\0') {
				goto bad;
			}
			if (cpuset_add(bits, nwords, (unsigned)lo, (unsigned)hi, ncpu, why, len, spec))
				return -1;
		}
	}
	return 0;
bad:
	snprintf(why, len, "'%s' is not a CPU set (all, even, odd, lo, hi, N, A-B, A-, joined with '+')", spec);
	return -1;
}

/* ---- parsing ---- */

struct exp_parse {
	struct experiment *p_ex;
	FILE *p_file;
	int p_line;
	int p_content;       /* lines that held anything but blanks and comments */
	int p_err_line;
	char p_err[512];
	bool p_need_roles;   /* an experiment to run (not only a machine) */
	char *p_buf;         /* getline()'s buffer */
	size_t p_bufsize;
};

static int exp_err(struct exp_parse *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * inih's line reader.  It reads whole lines itself (getline) so that what
 * inih would silently cut or misread becomes a message naming the line:
 * a line longer than inih's buffer, a NUL or other control byte (a binary
 * file), and indentation — inih reads an indented line as the continuation
 * of the previous value, which no experiment file means, so leading blanks
 * are dropped and the line stands on its own.  Any error ends the parse.
 */
static char *exp_reader(char *str, int num, void *stream)
{
	struct exp_parse *p = stream;
	if (p->p_err[0] != '\0')
		return NULL;
	errno = 0;
	ssize_t n = getline(&p->p_buf, &p->p_bufsize, p->p_file);
	if (n < 0) {
		/* the end, or a file that cannot be read (a folder: EISDIR) */
		if (ferror(p->p_file))
			exp_err(p, 0, "cannot read (%s)", strerror(errno != 0 ? errno : EIO));
		return NULL;
	}
	p->p_line++;
	for (ssize_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p->p_buf[i];
		if (ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n') {
			exp_err(p, p->p_line, "byte 0x%02x at column %zd: not a text file", ch, i + 1);
			return NULL;
		}
	}
	const char *s = p->p_buf;
	while (*s == ' ' || *s == '\t')
		s++;
	size_t len = strlen(s);
	if (len + 1 > (size_t)num) {
		exp_err(p, p->p_line, "line longer than %d characters (split a long list with --set, or "
		    "use a range such as 1..host)", num - 2);
		return NULL;
	}
	if (*s != '\0' && *s != '\n' && *s != '\r' && *s != ';' && *s != '#')
		p->p_content++;
	memcpy(str, s, len + 1);
	return str;
}

static int exp_err(struct exp_parse *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int exp_err(struct exp_parse *p, int line, const char *fmt, ...)
{
	if (p->p_err_line == 0 && p->p_err[0] == '\0') {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->p_err, sizeof(p->p_err), fmt, ap);
		va_end(ap);
		p->p_err_line = line;
	}
	return 0;
}

/* key of mix ("" for the file's own keys) */
static struct exp_key *key_find_mix(struct experiment *ex, const char *mix, const char *key)
{
	for (unsigned i = 0; i < ex->ex_nkeys; i++)
		if (!strcmp(ex->ex_keys[i].ek_key, key) && !strcmp(ex->ex_keys[i].ek_mix, mix))
			return &ex->ex_keys[i];
	return NULL;
}

static struct exp_key *key_find(struct experiment *ex, const char *key)
{
	return key_find_mix(ex, "", key);
}

/* a name of letters, digits, - and _ (roles, mixes) */
static bool name_ok(const char *n)
{
	bool ok = *n != '\0' && strlen(n) < EXP_NAMELEN;
	for (const char *c = n; ok && *c != '\0'; c++)
		ok = isalnum((unsigned char)*c) || *c == '_' || *c == '-';
	return ok;
}

static int key_push(struct exp_key *k, const char *v, char *why, size_t len)
{
	if (k->ek_nvalues == EXP_MAX_VALUES) {
		snprintf(why, len, "more than %d values in one list", EXP_MAX_VALUES);
		return -1;
	}
	k->ek_values[k->ek_nvalues++] = strdup(v);
	return 0;
}

/*
 * List items that stand for several values:
 *   "host"        the host's processing units (hwloc)
 *   "A..B"        A, 2A, 4A, ... up to B, and B ("1..host": 1, 2, 4, ..., PUs)
 *   "all"         for shootdown.strategy: every correct strategy in the registry
 */
static int key_push_expanded(struct exp_key *k, const char *v, char *why, size_t len)
{
	char buf[32];
	if (!strcmp(v, "host")) {
		snprintf(buf, sizeof(buf), "%u", topo_npus());
		return key_push(k, buf, why, len);
	}
	if (!strcmp(v, "all") && !strcmp(k->ek_key, "shootdown.strategy")) {
		for (unsigned i = 0; shootdown_strategies[i] != NULL; i++)
			if (!shootdown_strategies[i]->sd_unsafe && key_push(k, shootdown_strategies[i]->sd_name, why, len))
				return -1;
		return 0;
	}
	const char *dots = strstr(v, "..");
	if (dots != NULL && isdigit((unsigned char)*v)) {
		char *end;
		unsigned long a = strtoul(v, &end, 10), b;
		if (end != dots)
			goto plain;
		if (!strcmp(dots + 2, "host"))
			b = topo_npus();
		else {
			b = strtoul(dots + 2, &end, 10);
			if (end == dots + 2 || *end != '\0')
				goto plain;
		}
		if (a == 0 || b < a) {
			snprintf(why, len, "'%s' is not a range A..B with 0 < A <= B", v);
			return -1;
		}
		for (unsigned long x = a; x < b; x *= 2) {
			snprintf(buf, sizeof(buf), "%lu", x);
			if (key_push(k, buf, why, len))
				return -1;
		}
		snprintf(buf, sizeof(buf), "%lu", b);
		return key_push(k, buf, why, len);
	}
plain:
	return key_push(k, v, why, len);
}

/* Split value on commas into k's list.  0, or -1 with why. */
static int key_set_values(struct exp_key *k, const char *value, char *why, size_t len)
{
	for (unsigned i = 0; i < k->ek_nvalues; i++)
		free(k->ek_values[i]);
	k->ek_nvalues = 0;
	char *copy = strdup(value), *save = NULL;
	if (copy == NULL) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	/* strtok_r would skip empty items; walk by hand to catch "a,,b" */
	char *s = copy;
	for (;;) {
		char *comma = strchr(s, ',');
		if (comma != NULL)
			*comma = '\0';
		char *v = trim(s);
		if (*v == '\0') {
			snprintf(why, len, "empty value in the list '%s'", value);
			free(copy);
			return -1;
		}
		if (key_push_expanded(k, v, why, len) != 0) {
			free(copy);
			return -1;
		}
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	(void)save;
	free(copy);
	return 0;
}

/* Validate one value of one key (the role keys need the workload: later). */
/* A config with the experiment's *.allow_unsafe switches already applied, so
 * a mutant or broken lock is accepted wherever the switch stands in the file. */
static void scratch_config(const struct experiment *ex, struct machine_config *c)
{
	machine_config_init(c);
	for (unsigned i = 0; ex != NULL && i < ex->ex_nkeys; i++) {
		const struct exp_key *k = &ex->ex_keys[i];
		size_t n = strlen(k->ek_key);
		if (n > 13 && !strcmp(k->ek_key + n - 13, ".allow_unsafe") && k->ek_nvalues > 0)
			machine_config_set(c, k->ek_key, k->ek_values[k->ek_nvalues - 1]);
	}
}

/* One value, not a list: what names the run (experiment.name), what all of
 * its points share (experiment.trials: one trial order), and the report's */
static bool key_single(const char *key)
{
	return !strcmp(key, "experiment.trials") || !strcmp(key, "experiment.name") || !strncmp(key, "report.", 7);
}

static int value_check(const struct experiment *ex, const char *key, const char *v, char *why, size_t len)
{
	if (!strncmp(key, "report.", 7)) {
		if (!strcmp(key + 7, "baseline") && (shootdown_find(v) == NULL || shootdown_find(v)->sd_unsafe)) {
			snprintf(why, len, "'%s' is not a strategy (pmapstorm list strategies)", v);
			return -1;
		}
		/* the metric itself: report_primary_check(), a layer up */
		if (!strcmp(key + 7, "primary") && (strlen(v) >= EXP_NAMELEN * 2 || *v == '\0')) {
			snprintf(why, len, "'%s' is not a metric name (pmapstorm list metrics)", v);
			return -1;
		}
		return 0;
	}
	if (!strncmp(key, "experiment.", 11)) {
		const char *k = key + 11;
		if (!strcmp(k, "mix")) {
			if (!name_ok(v)) {
				snprintf(why, len, "'%s' is not a mix name (letters, digits, - and _)", v);
				return -1;
			}
			return 0;
		}
		if (!strcmp(k, "name")) {
			for (const char *c = v; *c; c++)
				if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.') {
					snprintf(why, len, "'%s' may hold only letters, digits, '-', '_' and '.'", v);
					return -1;
				}
			if (strlen(v) >= EXP_NAMELEN) {
				snprintf(why, len, "name longer than %d characters", EXP_NAMELEN - 1);
				return -1;
			}
			return 0;
		}
		if (!strcmp(k, "trials") || !strcmp(k, "seed")) {
			/* a seed is at most INT64_MAX: run.json writes it, and the
			 * trial seeds drawn from it, as JSON integers (signed) */
			const bool trials = !strcmp(k, "trials");
			const unsigned long long lo = trials ? 1 : 0, hi = trials ? 1000 : INT64_MAX;
			char *end;
			errno = 0;
			unsigned long long x = strtoull(v, &end, 10);
			if (errno != 0 || end == v || *end != '\0' || !isdigit((unsigned char)*v) || x < lo || x > hi) {
				snprintf(why, len, "'%s' is not a whole number in [%llu, %llu]", v, lo, hi);
				return -1;
			}
			return 0;
		}
		double s = exp_parse_seconds(v);
		if (!strcmp(k, "interval") && s >= 0 && s < 1e-6) {
			snprintf(why, len, "'%s' is below the shortest interval, 1us (50ms with machine.engine = threads)", v);
			return -1;
		}
		if (s < 0 || (!strcmp(k, "duration") && s <= 0) || s > 86400) {
			snprintf(why, len, "'%s' is not a %s (seconds, or with a unit: 500ms, 2s, 1m)",
			    v, !strcmp(k, "warmup") ? "time" : "positive time");
			return -1;
		}
		return 0;
	}
	if (!strncmp(key, "role.", 5))
		return 0;
	struct machine_config scratch;
	scratch_config(ex, &scratch);
	if (machine_config_set(&scratch, key, v) != 0) {
		snprintf(why, len, "%s", machine_errmsg());
		return -1;
	}
	return 0;
}

/* a section some machine key lives in ("machine", "tlb", ...) */
static bool section_known(const char *section)
{
	size_t sl = strlen(section);
	for (const char *const *k = machine_config_keys(); *k != NULL; k++)
		if (!strncmp(*k, section, sl) && (*k)[sl] == '.')
			return true;
	return false;
}

/* A key of [mix.NAME]: `roles`, or a full key of another section. */
static int mix_handler(struct exp_parse *p, const char *mix, const char *name, const char *value)
{
	struct experiment *ex = p->p_ex;
	char why[512];
	if (strcmp(name, "roles") != 0) {
		const char *dot = strchr(name, '.');
		bool ok = dot != NULL && dot != name;
		if (ok && !strncmp(name, "experiment.", 11))
			ok = in_list(mix_exp_keys, name + 11);
		else if (ok && !strncmp(name, "role.", 5))
			ok = strchr(name + 5, '.') != NULL;
		else if (ok) {
			char sec[EXP_NAMELEN];
			snprintf(sec, sizeof(sec), "%.*s", (int)(dot - name), name);
			ok = section_known(sec);
		}
		if (!ok)
			return exp_err(p, p->p_line, "mix.%s.%s: a mix holds `roles = A+B` and full keys of the other sections "
			    "(kmem.poolpage, role.NAME.option, experiment.warmup/duration/interval)", mix, name);
	}
	if (key_find_mix(ex, mix, name) != NULL)
		return exp_err(p, p->p_line, "mix.%s.%s: given twice (first at line %d)", mix, name,
		    key_find_mix(ex, mix, name)->ek_line);
	if (ex->ex_nkeys == EXP_MAX_KEYS)
		return exp_err(p, p->p_line, "mix.%s.%s: more than %d keys", mix, name, EXP_MAX_KEYS);
	struct exp_key *k = &ex->ex_keys[ex->ex_nkeys++];
	memset(k, 0, sizeof(*k));
	snprintf(k->ek_key, sizeof(k->ek_key), "%s", name);
	snprintf(k->ek_mix, sizeof(k->ek_mix), "%s", mix);
	k->ek_line = p->p_line;
	if (key_set_values(k, value, why, sizeof(why)) != 0)
		return exp_err(p, p->p_line, "mix.%s.%s: %s", mix, name, why);
	return 1;
}

static int exp_handler(void *user, const char *section, const char *name, const char *value)
{
	struct exp_parse *p = user;
	struct experiment *ex = p->p_ex;
	char key[EXP_NAMELEN * 2], why[512];
	if (section[0] == '\0')
		return exp_err(p, p->p_line, "%s: a key outside any [section]", name);
	if (strlen(section) + strlen(name) + 2 > sizeof(key))
		return exp_err(p, p->p_line, "%.40s...: key longer than %zu characters", name, sizeof(key) - 2);
	if (!strncmp(section, "mix.", 4)) {
		if (!name_ok(section + 4))
			return exp_err(p, p->p_line, "[%s]: a mix needs a short name of letters, digits, - and _ ([mix.NAME])",
			    section);
		return mix_handler(p, section + 4, name, value);
	}
	if (!strcmp(section, "report")) {
		if (!in_list(report_keys, name))
			return exp_err(p, p->p_line, "report.%s: unknown key (baseline, primary)", name);
	} else if (strncmp(section, "role.", 5) != 0 && strcmp(section, "experiment") != 0 && !section_known(section)) {
		size_t n = (size_t)snprintf(why, sizeof(why),
		    "[%s]: unknown section; sections: experiment, role.NAME, mix.NAME, report", section);
		const char *const *keys = machine_config_keys();
		for (unsigned i = 0; keys[i] != NULL && n < sizeof(why); i++) {
			size_t sl = strcspn(keys[i], ".");
			bool first = true;
			for (unsigned j = 0; j < i && first; j++)
				first = strncmp(keys[j], keys[i], sl + 1) != 0;
			if (first)
				n += (size_t)snprintf(why + n, sizeof(why) - n, ", %.*s", (int)sl, keys[i]);
		}
		return exp_err(p, p->p_line, "%s", why);
	}
	if (!strncmp(section, "role.", 5)) {
		bool ok = section[5] != '\0' && strlen(section) < EXP_NAMELEN;
		for (const char *c = section + 5; ok && *c != '\0'; c++)
			ok = isalnum((unsigned char)*c) || *c == '_' || *c == '-';
		if (!ok)
			return exp_err(p, p->p_line,
			    "[%s]: a role needs a short name of letters, digits, - and _ ([role.NAME])", section);
	} else if (!strcmp(section, "experiment") && !strcmp(name, "check")) {
		/* `check = on`: the oracles (pmapstorm/check.h), as check.enabled */
		section = "check";
		name = "enabled";
	} else if (!strcmp(section, "experiment")) {
		if (!in_list(exp_keys, name))
			return exp_err(p, p->p_line,
			    "experiment.%s: unknown key (name, trials, warmup, duration, seed, interval, mix, check)", name);
	}
	snprintf(key, sizeof(key), "%s.%s", section, name);
	struct exp_key *k = key_find(ex, key);
	if (k != NULL)
		return exp_err(p, p->p_line, "%s: given twice (first at line %d)", key, k->ek_line);
	if (ex->ex_nkeys == EXP_MAX_KEYS)
		return exp_err(p, p->p_line, "%s: more than %d keys", key, EXP_MAX_KEYS);
	k = &ex->ex_keys[ex->ex_nkeys++];
	memset(k, 0, sizeof(*k));
	snprintf(k->ek_key, sizeof(k->ek_key), "%s", key);
	k->ek_line = p->p_line;
	if (key_set_values(k, value, why, sizeof(why)) != 0)
		return exp_err(p, p->p_line, "%s: %s", key, why);
	if (key_single(key) && k->ek_nvalues > 1)
		return exp_err(p, p->p_line, "%s: one value, not a list", key);
	/* machine keys are checked once the whole file is read (exp_validate):
	 * an allow_unsafe switch may follow the key it allows */
	for (unsigned i = 0; (!strncmp(key, "experiment.", 11) || !strncmp(key, "report.", 7)) && i < k->ek_nvalues; i++)
		if (value_check(ex, key, k->ek_values[i], why, sizeof(why)) != 0)
			return exp_err(p, p->p_line, "%s: %s", key, why);
	return 1;
}

/* Whole-file checks: roles complete, options known, CPU sets sane. */
static int exp_validate(struct experiment *ex, struct exp_parse *p)
{
	char why[512];
	unsigned nroles = 0;
	const struct exp_key *mk = key_find(ex, "experiment.mix");
	for (unsigned i = 0; i < ex->ex_nkeys; i++) {
		struct exp_key *k = &ex->ex_keys[i];
		if (k->ek_mix[0] != '\0') {
			/* a mix section: its mix is listed, its roles exist */
			bool listed = false;
			for (unsigned v = 0; mk != NULL && v < mk->ek_nvalues; v++)
				listed |= !strcmp(mk->ek_values[v], k->ek_mix);
			if (!listed)
				return exp_err(p, k->ek_line, "[mix.%s]: not one of experiment.mix (%s)", k->ek_mix,
				    mk != NULL ? "add it there" : "there is no experiment.mix = A, B, ...");
			if (!strcmp(k->ek_key, "roles")) {
				for (unsigned v = 0; v < k->ek_nvalues; v++) {
					char buf[512], *save = NULL;
					snprintf(buf, sizeof(buf), "%s", k->ek_values[v]);
					for (char *t = strtok_r(buf, "+", &save); t != NULL; t = strtok_r(NULL, "+", &save)) {
						char wkey[EXP_NAMELEN * 2 + 16];
						snprintf(wkey, sizeof(wkey), "role.%s.workload", trim(t));
						if (key_find(ex, wkey) == NULL)
							return exp_err(p, k->ek_line, "mix.%s.roles: '%s' is not a role of the file "
							    "([role.%s] with a workload)", k->ek_mix, trim(t), trim(t));
					}
				}
				continue;
			}
			if (!strncmp(k->ek_key, "experiment.", 11)) {
				for (unsigned v = 0; v < k->ek_nvalues; v++)
					if (value_check(ex, k->ek_key, k->ek_values[v], why, sizeof(why)) != 0)
						return exp_err(p, k->ek_line, "mix.%s.%s: %s", k->ek_mix, k->ek_key, why);
				continue;
			}
		}
		if (!strncmp(k->ek_key, "role.", 5) || !strncmp(k->ek_key, "experiment.", 11) ||
		    !strncmp(k->ek_key, "report.", 7))
			continue;
		for (unsigned v = 0; v < k->ek_nvalues; v++)
			if (value_check(ex, k->ek_key, k->ek_values[v], why, sizeof(why)) != 0) {
				/* machine_errmsg() already starts with the key */
				if (!strncmp(why, k->ek_key, strlen(k->ek_key)))
					return exp_err(p, k->ek_line, "%s", why);
				return exp_err(p, k->ek_line, "%s: %s", k->ek_key, why);
			}
	}
	for (unsigned i = 0; i < ex->ex_nkeys; i++) {
		struct exp_key *k = &ex->ex_keys[i];
		if (strncmp(k->ek_key, "role.", 5) != 0)
			continue;
		const char *dot = strchr(k->ek_key + 5, '.');
		char role[EXP_NAMELEN];
		snprintf(role, sizeof(role), "%.*s", (int)(dot - k->ek_key), k->ek_key);
		const char *opt = dot + 1;
		char wkey[EXP_NAMELEN * 2];
		snprintf(wkey, sizeof(wkey), "%s.workload", role);
		struct exp_key *wk = key_find(ex, wkey);
		if (wk == NULL)
			return exp_err(p, k->ek_line, "[%s]: no 'workload = NAME' in this role", role);
		if (!strcmp(opt, "workload")) {
			nroles += k->ek_mix[0] == '\0';
			for (unsigned v = 0; v < k->ek_nvalues; v++)
				if (workload_find(k->ek_values[v]) == NULL) {
					size_t n = (size_t)snprintf(why, sizeof(why), "unknown workload '%s'; valid:", k->ek_values[v]);
					for (unsigned w = 0; workloads[w] != NULL && n < sizeof(why); w++)
						n += (size_t)snprintf(why + n, sizeof(why) - n, " %s", workloads[w]->wl_name);
					return exp_err(p, k->ek_line, "%s: %s", k->ek_key, why);
				}
		} else if (!strcmp(opt, "pmap")) {
			/* shared, private, or a name: roles naming the same pmap share it */
			for (unsigned v = 0; v < k->ek_nvalues; v++) {
				const char *x = k->ek_values[v];
				bool ok = *x != '\0' && strlen(x) < EXP_NAMELEN;
				for (const char *c = x; *c; c++)
					ok = ok && (isalnum((unsigned char)*c) || *c == '_' || *c == '-');
				if (!ok)
					return exp_err(p, k->ek_line,
					    "%s: '%s' is not shared, private, or a name (letters, digits, - and _)", k->ek_key, x);
				for (unsigned w = 0; !strcmp(x, "private") && w < wk->ek_nvalues; w++) {
					const struct workload *wl = workload_find(wk->ek_values[w]);
					if (wl != NULL && wl->wl_shared_pmap)
						return exp_err(p, k->ek_line,
						    "%s: workload %s needs one pmap for the whole role (shared, or a name), not "
						    "private ones", k->ek_key, wl->wl_name);
				}
			}
		} else if (!strcmp(opt, "cpus")) {
			uint64_t bits[MAXCPUS / 64];
			for (unsigned v = 0; v < k->ek_nvalues; v++)
				if (exp_cpuset(k->ek_values[v], MAXCPUS, bits, MAXCPUS / 64, why, sizeof(why)) != 0)
					return exp_err(p, k->ek_line, "%s: %s", k->ek_key, why);
		} else {
			for (unsigned w = 0; w < wk->ek_nvalues; w++) {
				const struct workload *wl = workload_find(wk->ek_values[w]);
				for (unsigned v = 0; wl != NULL && v < k->ek_nvalues; v++)
					if (wl_opt_check(wl, opt, k->ek_values[v], why, sizeof(why)) != 0)
						return exp_err(p, k->ek_line, "%s: %s", k->ek_key, why);
			}
		}
	}
	if (nroles == 0 && p->p_need_roles)
		return exp_err(p, 0, "no [role.NAME] section with a workload: nothing to run");
	return 1;
}

/* The value list key k has in mix (its override in [mix.NAME], else its own). */
static const struct exp_key *key_in_mix(const struct experiment *ex, const struct exp_key *k, const char *mix)
{
	if (k->ek_mix[0] != '\0' || mix[0] == '\0')
		return k;
	const struct exp_key *o = key_find_mix((struct experiment *)ex, mix, k->ek_key);
	return o != NULL ? o : k;
}

/* Does k take part in mix's points: the file's own keys (unless mix
 * overrides them, then through the override) and mix's own keys. */
static bool key_of_mix(const struct experiment *ex, const struct exp_key *k, const char *mix)
{
	if (!strcmp(k->ek_key, "experiment.mix") || !strcmp(k->ek_key, "roles"))
		return false;
	if (k->ek_mix[0] != '\0')
		return !strcmp(k->ek_mix, mix) && key_find((struct experiment *)ex, k->ek_key) == NULL;
	return true;
}

static void exp_count_points(struct experiment *ex)
{
	const struct exp_key *mk = key_find(ex, "experiment.mix");
	ex->ex_nmixes = mk != NULL ? (mk->ek_nvalues < EXP_MAX_MIXES ? mk->ek_nvalues : EXP_MAX_MIXES) : 1;
	ex->ex_npoints = 0;
	for (unsigned m = 0; m < ex->ex_nmixes; m++) {
		snprintf(ex->ex_mixes[m], sizeof(ex->ex_mixes[m]), "%s", mk != NULL ? mk->ek_values[m] : "");
		unsigned n = 1;
		for (unsigned i = 0; i < ex->ex_nkeys; i++)
			if (key_of_mix(ex, &ex->ex_keys[i], ex->ex_mixes[m]))
				n *= key_in_mix(ex, &ex->ex_keys[i], ex->ex_mixes[m])->ek_nvalues;
		ex->ex_mix_points[m] = n;
		ex->ex_npoints += n;
	}
	const struct exp_key *b = key_find(ex, "report.baseline"), *pr = key_find(ex, "report.primary");
	snprintf(ex->ex_baseline, sizeof(ex->ex_baseline), "%s", b != NULL ? b->ek_values[0] : "");
	snprintf(ex->ex_primary, sizeof(ex->ex_primary), "%s", pr != NULL ? pr->ek_values[0] : "");
}

static int exp_load_file(struct experiment *ex, const char *path, bool need_roles)
{
	memset(ex, 0, sizeof(*ex));
	snprintf(ex->ex_path, sizeof(ex->ex_path), "%s", path);
	struct exp_parse p = {.p_ex = ex, .p_need_roles = need_roles};
	p.p_file = fopen(path, "r");
	if (p.p_file == NULL) {
		msg_error("%s: cannot open (%s)", path, strerror(errno));
		return EINVAL;
	}
	int line = ini_parse_stream(exp_reader, &p, exp_handler, &p);
	fclose(p.p_file);
	free(p.p_buf);
	if (line > 0 && (p.p_err[0] == '\0' || (p.p_err_line > line))) {
		/* inih goes on past a malformed line: the first problem is the one to name */
		p.p_err[0] = '\0';
		p.p_err_line = 0;
		exp_err(&p, line, "not a 'key = value' line, a [section] header or a ; comment");
	}
	if (p.p_err[0] == '\0' && p.p_content == 0)
		exp_err(&p, 0, "no settings (the file is empty or only comments)%s",
		    need_roles ? ": an experiment needs a [role.NAME] with a workload" : "");
	if (p.p_err[0] == '\0')
		exp_validate(ex, &p);
	if (p.p_err[0] != '\0') {
		if (p.p_err_line > 0)
			msg_error("%s:%d: %s", path, p.p_err_line, p.p_err);
		else
			msg_error("%s: %s", path, p.p_err);
		exp_free(ex);
		return EINVAL;
	}
	struct exp_key *nk = key_find(ex, "experiment.name");
	if (nk != NULL)
		snprintf(ex->ex_name, sizeof(ex->ex_name), "%s", nk->ek_values[0]);
	else {
		const char *base = strrchr(path, '/');
		base = base ? base + 1 : path;
		snprintf(ex->ex_name, sizeof(ex->ex_name), "%.*s", (int)strcspn(base, "."), base);
	}
	exp_count_points(ex);
	return 0;
}

int exp_load(struct experiment *ex, const char *path)
{
	return exp_load_file(ex, path, true);
}

int exp_load_machine(struct machine_config *cfg, const char *path)
{
	struct experiment *ex = mem_zalloc(struct experiment, 1);
	if (ex == NULL) {
		msg_error("%s: out of memory", path);
		return ENOMEM;
	}
	int rc = exp_load_file(ex, path, false);
	bool loaded = rc == 0;
	/* two passes: the *.allow_unsafe switches first, wherever they stand */
	for (unsigned i = 0; rc == 0 && i < 2 * ex->ex_nkeys; i++) {
		const struct exp_key *k = &ex->ex_keys[i % ex->ex_nkeys];
		bool unsafe_switch = strstr(k->ek_key, ".allow_unsafe") != NULL;
		if (!strncmp(k->ek_key, "experiment.", 11) || !strncmp(k->ek_key, "role.", 5) ||
		    unsafe_switch != (i < ex->ex_nkeys))
			continue;
		if (k->ek_nvalues > 1) {
			msg_error("%s:%d: %s: a list (a sweep) where one configuration is measured", path, k->ek_line,
			    k->ek_key);
			rc = EINVAL;
		} else if (machine_config_set(cfg, k->ek_key, k->ek_values[0]) != 0) {
			msg_error("%s:%d: %s", path, k->ek_line, machine_errmsg());
			rc = EINVAL;
		}
	}
	if (loaded)
		exp_free(ex);
	free(ex);
	return rc;
}

int exp_override(struct experiment *ex, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char key[EXP_NAMELEN * 2], why[512];
	if (eq == NULL || eq == kv || (size_t)(eq - kv) >= sizeof(key)) {
		msg_error("--set: '%s' is not section.key=value", kv);
		return EINVAL;
	}
	snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
	/* mix.NAME.KEY: a key of that mix */
	char mix[EXP_NAMELEN] = "";
	if (!strncmp(key, "mix.", 4) && strchr(key + 4, '.') != NULL) {
		const char *d2 = strchr(key + 4, '.');
		snprintf(mix, sizeof(mix), "%.*s", (int)(d2 - (key + 4)), key + 4);
		memmove(key, d2 + 1, strlen(d2 + 1) + 1);
	}
	struct exp_key *k = key_find_mix(ex, mix, key);
	if (k == NULL) {
		if (ex->ex_nkeys == EXP_MAX_KEYS) {
			msg_error("--set %s: too many keys", key);
			return EINVAL;
		}
		k = &ex->ex_keys[ex->ex_nkeys++];
		memset(k, 0, sizeof(*k));
		snprintf(k->ek_key, sizeof(k->ek_key), "%s", key);
		snprintf(k->ek_mix, sizeof(k->ek_mix), "%s", mix);
	}
	k->ek_line = 0;
	if (key_set_values(k, eq + 1, why, sizeof(why)) != 0) {
		msg_error("--set %s: %s", key, why);
		return EINVAL;
	}
	if ((!strncmp(key, "experiment.", 11) && !in_list(mix[0] ? mix_exp_keys : exp_keys, key + 11)) ||
	    (!strncmp(key, "report.", 7) && !in_list(report_keys, key + 7))) {
		msg_error("--set %s: unknown key", key);
		return EINVAL;
	}
	if (key_single(key) && k->ek_nvalues > 1) {
		msg_error("--set %s: one value, not a list", key);
		return EINVAL;
	}
	for (unsigned i = 0; i < k->ek_nvalues; i++)
		if (value_check(ex, key, k->ek_values[i], why, sizeof(why)) != 0) {
			msg_error("--set %s: %s", key, why);
			return EINVAL;
		}
	struct exp_parse p = {.p_ex = ex};
	exp_validate(ex, &p);
	if (p.p_err[0] != '\0') {
		/* most whole-file messages start with their key already */
		if (!strncmp(p.p_err, key, strlen(key)) && p.p_err[strlen(key)] == ':')
			msg_error("--set %s", p.p_err);
		else
			msg_error("--set %s: %s", key, p.p_err);
		return EINVAL;
	}
	if (!strcmp(key, "experiment.name"))
		snprintf(ex->ex_name, sizeof(ex->ex_name), "%s", k->ek_values[0]);
	exp_count_points(ex);
	return 0;
}

int exp_key_line(const struct experiment *ex, const char *key)
{
	const struct exp_key *k = key_find((struct experiment *)ex, key);
	return k == NULL ? 0 : k->ek_line > 0 ? k->ek_line : -1;
}

void exp_free(struct experiment *ex)
{
	for (unsigned i = 0; i < ex->ex_nkeys; i++)
		for (unsigned v = 0; v < ex->ex_keys[i].ek_nvalues; v++)
			free(ex->ex_keys[i].ek_values[v]);
	ex->ex_nkeys = 0;
}

static struct exp_role *role_get(struct exp_point *pt, const char *name)
{
	for (unsigned i = 0; i < pt->ep_nroles; i++)
		if (!strcmp(pt->ep_roles[i].er_name, name))
			return &pt->ep_roles[i];
	if (pt->ep_nroles == EXP_MAX_ROLES)
		return NULL;
	struct exp_role *r = &pt->ep_roles[pt->ep_nroles++];
	memset(r, 0, sizeof(*r));
	snprintf(r->er_name, sizeof(r->er_name), "%s", name);
	snprintf(r->er_cpus, sizeof(r->er_cpus), "all");
	snprintf(r->er_pmap, sizeof(r->er_pmap), "shared");
	return r;
}

/* "file:line: msg" for a key of the file, "--set: msg" for an override (line 0) */
static void exp_key_error(const struct experiment *ex, const struct exp_key *k, const char *msg)
{
	if (k != NULL && k->ek_line > 0)
		msg_error("%s:%d: %s", ex->ex_path, k->ek_line, msg);
	else if (k != NULL)
		msg_error("--set: %s", msg);
	else
		msg_error("%s: %s", ex->ex_path, msg);
}

int exp_point(const struct experiment *ex, unsigned index, struct exp_point *pt)
{
	memset(pt, 0, sizeof(*pt));
	pt->ep_index = index;
	scratch_config(ex, &pt->ep_cfg); /* defaults, with the unsafe switches first */
	pt->ep_trials = 5;
	pt->ep_warmup_s = 0.2;
	pt->ep_duration_s = 1.0;
	pt->ep_interval_s = 1.0;
	bool interval_set = false;
	pt->ep_seed = 1;
	/* the mix of point index: the points are numbered mix after mix */
	unsigned mi = 0, local = index;
	while (mi + 1 < ex->ex_nmixes && local >= ex->ex_mix_points[mi])
		local -= ex->ex_mix_points[mi++];
	const char *mix = ex->ex_mixes[mi];
	pt->ep_mix = mix;
	if (ex->ex_nmixes > 1) {
		pt->ep_sweep_keys[pt->ep_nsweep] = "experiment.mix";
		pt->ep_sweep_vals[pt->ep_nsweep++] = mix;
	}
	unsigned stride = 1;
	for (unsigned i = 0; i < ex->ex_nkeys; i++) {
		if (!key_of_mix(ex, &ex->ex_keys[i], mix))
			continue;
		const struct exp_key *k = key_in_mix(ex, &ex->ex_keys[i], mix);
		const char *v = k->ek_values[(local / stride) % k->ek_nvalues];
		if (k->ek_nvalues > 1) {
			pt->ep_sweep_keys[pt->ep_nsweep] = k->ek_key;
			pt->ep_sweep_vals[pt->ep_nsweep++] = v;
		}
		stride *= k->ek_nvalues;
		if (!strncmp(k->ek_key, "experiment.", 11)) {
			const char *n = k->ek_key + 11;
			if (!strcmp(n, "trials"))
				pt->ep_trials = (unsigned)strtoul(v, NULL, 10);
			else if (!strcmp(n, "warmup"))
				pt->ep_warmup_s = exp_parse_seconds(v);
			else if (!strcmp(n, "duration"))
				pt->ep_duration_s = exp_parse_seconds(v);
			else if (!strcmp(n, "interval")) {
				pt->ep_interval_s = exp_parse_seconds(v);
				interval_set = true;
			}
			else if (!strcmp(n, "seed"))
				pt->ep_seed = strtoull(v, NULL, 10);
		} else if (!strncmp(k->ek_key, "role.", 5)) {
			const char *dot = strchr(k->ek_key + 5, '.');
			char role[EXP_NAMELEN];
			snprintf(role, sizeof(role), "%.*s", (int)(dot - (k->ek_key + 5)), k->ek_key + 5);
			struct exp_role *r = role_get(pt, role);
			if (r == NULL) {
				msg_error("%s:%d: [role.%s]: more than %d roles", ex->ex_path, k->ek_line, role, EXP_MAX_ROLES);
				return EINVAL;
			}
			const char *opt = dot + 1;
			if (!strcmp(opt, "workload")) {
				r->er_workload = workload_find(v);
				r->er_line = k->ek_line;
			} else if (!strcmp(opt, "cpus"))
				snprintf(r->er_cpus, sizeof(r->er_cpus), "%s", v);
			else if (!strcmp(opt, "pmap")) {
				r->er_private_pmap = !strcmp(v, "private");
				snprintf(r->er_pmap, sizeof(r->er_pmap), "%s", v);
			}
			else if (r->er_nopts < 32) {
				r->er_optkeys[r->er_nopts] = opt;
				r->er_optvals[r->er_nopts++] = v;
			}
		} else if (!strncmp(k->ek_key, "report.", 7)) {
			/* the report's, not the machine's (ex_baseline, ex_primary) */
		} else if (machine_config_set(&pt->ep_cfg, k->ek_key, v) != 0) {
			msg_error("%s:%d: %s", ex->ex_path, k->ek_line, machine_errmsg());
			return EINVAL;
		}
	}
	/* the mix's roles: the others do not run at its points */
	const struct exp_key *rk = key_find_mix((struct experiment *)ex, mix, "roles");
	if (rk != NULL) {
		unsigned kept = 0;
		for (unsigned i = 0; i < pt->ep_nroles; i++) {
			char buf[512], *save = NULL;
			bool in = false;
			snprintf(buf, sizeof(buf), "%s", rk->ek_values[0]);
			for (char *t = strtok_r(buf, "+", &save); t != NULL && !in; t = strtok_r(NULL, "+", &save))
				in = !strcmp(trim(t), pt->ep_roles[i].er_name);
			if (in)
				pt->ep_roles[kept++] = pt->ep_roles[i];
		}
		pt->ep_nroles = kept;
	}
	/* the timeline: with threads a host thread samples it, and wakes no
	 * more often than every 50 ms; in virtual time CPU 0 samples at the
	 * interval's virtual boundaries, so any interval works, and one left
	 * unset is a twentieth of the window (virtual windows are
	 * milliseconds: the threads' default of 1 s left the timeline empty) */
	char why[512];
	if (pt->ep_cfg.mc_engine == MACHINE_ENGINE_VIRTUAL && !interval_set)
		pt->ep_interval_s = pt->ep_duration_s / 20;
	else if (pt->ep_cfg.mc_engine != MACHINE_ENGINE_VIRTUAL && pt->ep_interval_s < 0.05) {
		snprintf(why, sizeof(why), "experiment.interval: %g s is below the shortest interval of the threads "
		    "engine, 50ms (a host thread samples; with machine.engine = virtual CPU 0 does, at any interval)",
		    pt->ep_interval_s);
		exp_key_error(ex, key_find((struct experiment *)ex, "experiment.interval"), why);
		return EINVAL;
	}
	if (pt->ep_duration_s / pt->ep_interval_s > EXP_MAX_INTERVALS) {
		/* the timeline would lose its later samples without a word */
		snprintf(why, sizeof(why), "experiment.interval: %g s over a window of %g s is more than %d samples, all "
		    "a trial keeps; make the interval at least %g s", pt->ep_interval_s, pt->ep_duration_s,
		    EXP_MAX_INTERVALS, pt->ep_duration_s / EXP_MAX_INTERVALS);
		const struct exp_key *ik = key_find((struct experiment *)ex, "experiment.interval");
		exp_key_error(ex, ik != NULL ? ik : key_find((struct experiment *)ex, "experiment.duration"), why);
		return EINVAL;
	}
	if (pt->ep_cfg.mc_ipi_preset == IPI_PRESET_CALIBRATED && !ex->ex_skip_calib &&
	    calibration_apply(&pt->ep_cfg, why, sizeof(why)) != 0) {
		const struct exp_key *ck = key_find((struct experiment *)ex, "ipi.calibration");
		if (ck == NULL)
			ck = key_find((struct experiment *)ex, "ipi.preset");
		exp_key_error(ex, ck, why);
		return EINVAL;
	}
	int crc;
	if (calibration_engine_wanted(&pt->ep_cfg) && !ex->ex_skip_calib &&
	    (crc = calibration_engine_apply(&pt->ep_cfg, why, sizeof(why))) != 0) {
		exp_key_error(ex, key_find((struct experiment *)ex, "engine.costs"), why);
		return crc;
	}
	if (machine_config_check(&pt->ep_cfg) != 0) {
		/* the message starts with the key: blame that key's line */
		const char *msg = machine_errmsg();
		char key[EXP_NAMELEN * 2];
		snprintf(key, sizeof(key), "%.*s", (int)strcspn(msg, ":"), msg);
		const struct exp_key *ck = key_find((struct experiment *)ex, key);
		if (ck == NULL && !strcmp(key, "machine.placement"))
			ck = key_find((struct experiment *)ex, "machine.cpus");
		exp_key_error(ex, ck, msg);
		return EINVAL;
	}
	/* CPU sets against this point's machine: inside it, and disjoint */
	uint64_t used[MAXCPUS / 64] = {0}, bits[MAXCPUS / 64];
	for (unsigned i = 0; i < pt->ep_nroles; i++) {
		struct exp_role *r = &pt->ep_roles[i];
		char key[EXP_NAMELEN * 2];
		snprintf(key, sizeof(key), "role.%s.cpus", r->er_name);
		const struct exp_key *ck = key_find((struct experiment *)ex, key);
		int line = ck ? ck->ek_line : r->er_line;
		if (exp_cpuset(r->er_cpus, pt->ep_cfg.mc_ncpu, bits, MAXCPUS / 64, why, sizeof(why)) != 0) {
			msg_error("%s:%d: %s: %s", ex->ex_path, line, key, why);
			return EINVAL;
		}
		for (unsigned w = 0; w < MAXCPUS / 64; w++) {
			if (used[w] & bits[w]) {
				msg_error("%s:%d: %s: CPU %u is in two roles (a CPU runs one role)", ex->ex_path, line, key,
				    w * 64 + (unsigned)__builtin_ctzll(used[w] & bits[w]));
				return EINVAL;
			}
			used[w] |= bits[w];
		}
	}
	return 0;
}

void exp_point_single(struct exp_point *pt, const struct machine_config *cfg, const char *workload, double warmup_s,
    double duration_s)
{
	memset(pt, 0, sizeof(*pt));
	pt->ep_cfg = *cfg;
	pt->ep_trials = 1;
	pt->ep_warmup_s = warmup_s;
	pt->ep_duration_s = duration_s;
	pt->ep_interval_s = 1;
	pt->ep_seed = 1;
	pt->ep_nroles = 1;
	struct exp_role *r = &pt->ep_roles[0];
	snprintf(r->er_name, sizeof(r->er_name), "%s", workload);
	snprintf(r->er_cpus, sizeof(r->er_cpus), "all");
	snprintf(r->er_pmap, sizeof(r->er_pmap), "shared");
	r->er_workload = workload_find(workload);
}

int exp_first_config(const char *who, int nargs, char *const *args, const char *const *sets, unsigned nsets,
    struct machine_config *cfg)
{
	if (nargs > 1) {
		msg_error("%s: one experiment file, not several ('%s')", who, args[1]);
		return EINVAL;
	}
	int rc = 0;
	if (nargs == 1) {
		struct experiment *ex = mem_zalloc(struct experiment, 1);
		struct exp_point *pt = mem_zalloc(struct exp_point, 1);
		rc = ex && pt ? exp_load(ex, args[0]) : ENOMEM;
		if (rc == 0) {
			/* topo and calibrate need no IPI costs; calibrate makes the file */
			ex->ex_skip_calib = true;
			if ((rc = exp_point(ex, 0, pt)) == 0)
				*cfg = pt->ep_cfg;
			exp_free(ex);
		}
		free(pt);
		free(ex);
	}
	for (unsigned i = 0; rc == 0 && i < nsets; i++)
		rc = exp_apply_set(cfg, sets[i]);
	return rc;
}

int exp_config_topo(const struct machine_config *cfg, const char *who, struct topo **out)
{
	/* the whole config first (it names the key), then the placement itself */
	*out = NULL;
	if (machine_config_check(cfg) == 0)
		*out = machine_config_topo(cfg);
	if (*out != NULL)
		return 0;
	int e = errno;
	if (who != NULL)
		msg_error("%s: %s", who, machine_errmsg());
	return e == EINVAL ? EINVAL : err_env(e);
}

void exp_point_facet(const struct exp_point *pt, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "%s", pt->ep_mix != NULL ? pt->ep_mix : "");
	for (unsigned i = 0; i < pt->ep_nsweep && n < len; i++) {
		const char *k = pt->ep_sweep_keys[i];
		if (!strcmp(k, "shootdown.strategy") || !strcmp(k, "machine.cpus") || !strcmp(k, "experiment.mix"))
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", n ? " / " : "", k, pt->ep_sweep_vals[i]);
	}
}

struct topo *exp_point_topo(const struct exp_point *pt)
{
	struct topo *t;
	exp_config_topo(&pt->ep_cfg, NULL, &t);
	return t;
}

int exp_numa(const struct machine_config *cfg, struct topo_numa *tn, char *buf, size_t len)
{
	if (topo_numa_parse(cfg->mc_numa, tn, buf, len) != 0 || topo_numa_resolve(tn, topo_host_numa_nodes(), buf, len) != 0)
		return EINVAL;
	topo_numa_describe(tn, buf, len);
	return 0;
}

int exp_apply_set(struct machine_config *cfg, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (eq == NULL || eq == kv) {
		msg_error("--set: '%s' is not key=value", kv);
		return EINVAL;
	}
	char key[128];
	size_t n = (size_t)(eq - kv);
	if (n >= sizeof(key)) {
		msg_error("--set: key too long");
		return EINVAL;
	}
	memcpy(key, kv, n);
	key[n] = '\0';
	if (machine_config_set(cfg, key, eq + 1) != 0) {
		msg_error("--set: %s", machine_errmsg());
		return EINVAL;
	}
	return 0;
}
