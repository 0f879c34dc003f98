/*
 * config.c — the one validator of configuration keys.
 *
 * Each component declares its keys as struct cfg_key tables in its own file
 * (pmapstorm/config.h); this file parses a value by the key's type, checks
 * its range or its value list and the key's own rule, and stores it: in a
 * field of struct machine_config, or in the config's knob store, a small
 * name -> value array inside the config, so that a component's knob needs no
 * field in the public struct.  A knob that was never set reads as its
 * default.  The list of tables is core/boot.c's (docs/architecture.md,
 * "Configuration keys").
 */
#include "config/config_impl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char errbuf[512];

const char *machine_errmsg(void)
{
	return errbuf;
}

int machine_seterr(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	errno = err;
	return err;
}

void machine_clearerr(void)
{
	errbuf[0] = '\0';
}

int machine_parse_u64(const char *key, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	if (v == NULL || *v == '\0' || !isdigit((unsigned char)*v))
		return machine_seterr(EINVAL, "%s: '%s' is not a whole number", key, v ? v : "");
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (errno != 0 || *end != '\0')
		return machine_seterr(EINVAL, "%s: '%s' is not a whole number", key, v);
	if (x < lo || x > hi)
		return machine_seterr(EINVAL, "%s: %llu is out of range [%" PRIu64 ", %" PRIu64 "]", key, x, lo, hi);
	*out = x;
	return 0;
}

/* bytes with an optional K/M/G suffix (powers of 1024) */
int machine_parse_size(const char *key, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	if (v == NULL || !isdigit((unsigned char)*v))
		return machine_seterr(EINVAL, "%s: '%s' is not a size (bytes with an optional K, M or G)", key, v ? v : "");
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	uint64_t mul = 1;
	switch (toupper((unsigned char)*end)) {
	case 'K': mul = 1ULL << 10; end++; break;
	case 'M': mul = 1ULL << 20; end++; break;
	case 'G': mul = 1ULL << 30; end++; break;
	default: break;
	}
	if (toupper((unsigned char)*end) == 'B' || toupper((unsigned char)*end) == 'I')
		end += (toupper((unsigned char)end[0]) == 'I' && toupper((unsigned char)end[1]) == 'B') ? 2 : 1;
	while (isspace((unsigned char)*end))
		end++;
	if (errno != 0 || *end != '\0' || (mul > 1 && x > UINT64_MAX / mul))
		return machine_seterr(EINVAL, "%s: '%s' is not a size (bytes with an optional K, M or G)", key, v);
	x *= mul;
	if (x < lo || x > hi)
		return machine_seterr(EINVAL, "%s: %s is out of range [%" PRIu64 "K, %" PRIu64 "G]", key, v,
		    lo >> 10, hi >> 30);
	*out = x;
	return 0;
}

static int parse_onoff(const char *key, const char *v, uint64_t *out)
{
	if (v && (!strcasecmp(v, "on") || !strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1"))) {
		*out = 1;
		return 0;
	}
	if (v && (!strcasecmp(v, "off") || !strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0"))) {
		*out = 0;
		return 0;
	}
	return machine_seterr(EINVAL, "%s: '%s' is not on or off", key, v ? v : "");
}

void machine_format_size(uint64_t x, char *b, size_t n)
{
	if (x == 0)
		snprintf(b, n, "0K"); /* as run.json files and baselines have always written it */
	else if (x % (1ULL << 30) == 0)
		snprintf(b, n, "%" PRIu64 "G", x >> 30);
	else if (x % (1ULL << 20) == 0)
		snprintf(b, n, "%" PRIu64 "M", x >> 20);
	else if (x % (1ULL << 10) == 0)
		snprintf(b, n, "%" PRIu64 "K", x >> 10);
	else
		snprintf(b, n, "%" PRIu64, x);
}

static int parse_enum(const struct cfg_key *k, const char *v, uint64_t *out)
{
	char list[256];
	size_t o = 0;
	for (unsigned i = 0; k->ck_values[i] != NULL; i++) {
		if (v != NULL && !strcasecmp(v, k->ck_values[i])) {
			*out = i;
			return 0;
		}
		o += (size_t)snprintf(list + o, o < sizeof(list) ? sizeof(list) - o : 0, "%s%s", i ? ", " : "",
		    k->ck_values[i]);
	}
	return machine_seterr(EINVAL, "%s: '%s' is not one of: %s", k->ck_name, v ? v : "", list);
}

/* Parses v by k's type (not CFG_TEXT). */
static int cfg_parse_raw(const struct cfg_key *k, const char *v, uint64_t *out)
{
	int e;
	switch (k->ck_type) {
	case CFG_UINT:
		e = machine_parse_u64(k->ck_name, v, k->ck_min, k->ck_max, out);
		break;
	case CFG_SIZE:
		e = machine_parse_size(k->ck_name, v, k->ck_min, k->ck_max, out);
		break;
	case CFG_BOOL:
		e = parse_onoff(k->ck_name, v, out);
		break;
	case CFG_ENUM:
		e = parse_enum(k, v, out);
		break;
	default:
		return machine_seterr(EINVAL, "%s: no parser for this key", k->ck_name);
	}
	return e;
}

/* ... and applies k's rule. */
static int cfg_parse(const struct cfg_key *k, const struct machine_config *c, const char *v, uint64_t *out)
{
	int e = cfg_parse_raw(k, v, out);
	if (e == 0 && k->ck_check != NULL)
		e = k->ck_check(k, c, *out);
	return e;
}

/* A table entry that cannot work: a bug of the table, caught by test_config. */
static _Noreturn void cfg_table_bug(const struct cfg_key *k, const char *what)
{
	fprintf(stderr, "pmapstorm: config key %s: %s\n", k->ck_name, what);
	abort();
}

static struct machine_knob *knob_find(const struct machine_config *c, const char *name)
{
	for (unsigned i = 0; i < c->mc_nknob && i < MACHINE_MAX_KNOBS; i++)
		if (strcmp(c->mc_knob[i].mk_name, name) == 0)
			return (struct machine_knob *)&c->mc_knob[i];
	return NULL;
}

int machine_config_setu(struct machine_config *c, const char *key, uint64_t v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return machine_config_set(c, key, buf);
}

int machine_knob_store(struct machine_config *c, const struct cfg_key *k, uint64_t v)
{
	struct machine_knob *kn = knob_find(c, k->ck_name);
	if (kn == NULL) {
		if (c->mc_nknob >= MACHINE_MAX_KNOBS || strlen(k->ck_name) >= MACHINE_KNOB_NAMELEN)
			return machine_seterr(ENOSPC, "%s: the config's knob store is full (%d knobs)", k->ck_name,
			    MACHINE_MAX_KNOBS);
		kn = &c->mc_knob[c->mc_nknob++];
		snprintf(kn->mk_name, sizeof(kn->mk_name), "%s", k->ck_name);
	}
	kn->mk_value = v;
	return 0;
}

bool machine_knob_isset(const struct machine_config *c, const struct cfg_key *k)
{
	return knob_find(c, k->ck_name) != NULL;
}

uint64_t machine_knob(const struct machine_config *c, const struct cfg_key *k)
{
	struct machine_knob *kn = knob_find(c, k->ck_name);
	if (kn != NULL)
		return kn->mk_value;
	uint64_t v = 0;
	/* a default that does not parse is a bug in the table (test_config) */
	if (k->ck_type == CFG_TEXT) {
		/* a text knob's own parser reads its default into a scratch config */
		struct machine_config scratch;
		scratch.mc_nknob = 0;
		if (k->ck_set == NULL || k->ck_set(k, &scratch, k->ck_default) != 0 ||
		    (kn = knob_find(&scratch, k->ck_name)) == NULL)
			cfg_table_bug(k, "its default does not parse");
		return kn->mk_value;
	}
	if (cfg_parse_raw(k, k->ck_default, &v) != 0)
		cfg_table_bug(k, "its default does not parse");
	return v;
}

static void field_store(struct machine_config *c, const struct cfg_key *k, uint64_t v)
{
	char *p = (char *)c + k->ck_offset;
	switch (k->ck_size) {
	case 1: { bool b = v != 0; memcpy(p, &b, 1); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
	case 8: memcpy(p, &v, 8); break;
	default: cfg_table_bug(k, "a field of neither 1, 4 nor 8 bytes");
	}
}

uint64_t cfg_value(const struct machine_config *c, const struct cfg_key *k)
{
	if (k->ck_size == 0)
		return machine_knob(c, k);
	const char *p = (const char *)c + k->ck_offset;
	switch (k->ck_size) {
	case 1: { bool b; memcpy(&b, p, 1); return b; }
	case 4: { uint32_t x; memcpy(&x, p, 4); return x; }
	default: { uint64_t x; memcpy(&x, p, 8); return x; }
	}
}

int cfg_key_set(const struct cfg_key *k, struct machine_config *c, const char *v)
{
	if (k->ck_set != NULL)
		return k->ck_set(k, c, v);
	uint64_t x = 0;
	int e = cfg_parse(k, c, v, &x);
	if (e != 0)
		return e;
	if (k->ck_size == 0)
		return machine_knob_store(c, k, x);
	field_store(c, k, x);
	return 0;
}

void cfg_key_get(const struct cfg_key *k, const struct machine_config *c, char *b, size_t n)
{
	if (k->ck_get != NULL) {
		k->ck_get(k, c, b, n);
		return;
	}
	uint64_t v = cfg_value(c, k);
	switch (k->ck_type) {
	case CFG_SIZE:
		machine_format_size(v, b, n);
		break;
	case CFG_BOOL:
		snprintf(b, n, "%s", v ? "on" : "off");
		break;
	case CFG_ENUM: {
		unsigned i = 0;
		while (k->ck_values[i] != NULL && i < v)
			i++;
		snprintf(b, n, "%s", k->ck_values[i] != NULL ? k->ck_values[i] : "?");
		break;
	}
	default:
		snprintf(b, n, "%" PRIu64, v);
		break;
	}
}

int cfg_key_validate(const struct cfg_key *k, const struct machine_config *c)
{
	if (k->ck_type == CFG_TEXT || k->ck_size == 0)
		return 0; /* checked when set: only the config's fields can be written around the setter */
	uint64_t v = cfg_value(c, k);
	switch (k->ck_type) {
	case CFG_UINT:
	case CFG_SIZE:
		if (v < k->ck_min || v > k->ck_max)
			return machine_seterr(EINVAL, "%s: %" PRIu64 " is out of range [%" PRIu64 ", %" PRIu64 "]",
			    k->ck_name, v, k->ck_min, k->ck_max);
		break;
	case CFG_ENUM: {
		uint64_t n = 0;
		while (k->ck_values[n] != NULL)
			n++;
		if (v >= n)
			return machine_seterr(EINVAL, "%s: %" PRIu64 " is not one of its %" PRIu64 " values", k->ck_name,
			    v, n);
		break;
	}
	default:
		break;
	}
	return k->ck_check != NULL ? k->ck_check(k, c, v) : 0;
}

void cfg_key_describe(const struct cfg_key *k, char *b, size_t n)
{
	size_t o = 0;
	switch (k->ck_type) {
	case CFG_UINT:
		snprintf(b, n, "whole number %" PRIu64 "–%" PRIu64, k->ck_min, k->ck_max);
		break;
	case CFG_SIZE: {
		char lo[32], hi[32];
		machine_format_size(k->ck_min, lo, sizeof(lo));
		machine_format_size(k->ck_max, hi, sizeof(hi));
		if (k->ck_max == UINT64_MAX)
			snprintf(b, n, "size from %s", lo);
		else
			snprintf(b, n, "size %s–%s", lo, hi);
		break;
	}
	case CFG_BOOL:
		snprintf(b, n, "on|off");
		break;
	case CFG_ENUM:
		b[0] = '\0';
		for (unsigned i = 0; k->ck_values[i] != NULL && o < n; i++)
			o += (size_t)snprintf(b + o, n - o, "%s%s", i ? "|" : "", k->ck_values[i]);
		break;
	default:
		snprintf(b, n, "text");
		break;
	}
}
