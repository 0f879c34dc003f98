/*
 * pmapstorm/config.h — configuration keys, declared by the component that
 * reads them.
 *
 * Every component (the machine, each shootdown strategy, the lock layer,
 * the page allocator, uvm_km, the oracles and fault injection) declares its
 * keys in a table of struct cfg_key in its own file: name, type, range or
 * values, default, one line of help.  One generic validator parses and
 * checks every key against its entry (core/machine/config.c); the tables
 * are listed once, in core/boot.c.  machine_config_set(), config files,
 * --set, `pmapstorm list keys` and the README's key table all come from
 * them (docs/architecture.md, "Configuration keys").
 *
 * A key's value lives either in a field of struct machine_config (the
 * machine's own keys, which embedders may read directly) or, for every
 * other component, in the config's knob store, read with machine_knob():
 * a strategy with a knob adds no field to the public struct.
 */
#ifndef PMAPSTORM_CONFIG_H
#define PMAPSTORM_CONFIG_H

#include <pmapstorm/types.h>

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct machine_config;

enum cfg_type {
	CFG_UINT,  /* a whole number in [ck_min, ck_max] */
	CFG_SIZE,  /* bytes with an optional K, M or G suffix, in [ck_min, ck_max] */
	CFG_BOOL,  /* on/off (yes/no, true/false, 1/0) */
	CFG_ENUM,  /* one of ck_values; the value is its index */
	CFG_TEXT,  /* anything else: ck_set and ck_get parse and print it */
};

struct cfg_key {
	const char *ck_name;          /* "section.key" */
	enum cfg_type ck_type;
	uint64_t ck_min, ck_max;      /* CFG_UINT, CFG_SIZE */
	const char *const *ck_values; /* CFG_ENUM: the names, NULL-terminated */
	const char *ck_default;       /* as written in a config file */
	const char *ck_help;          /* what it means: one paragraph, README style */
	/* Where the value lives: a field of struct machine_config of ck_size
	 * bytes at ck_offset (1: bool, 4 or 8: a number or an enum), or the
	 * knob store when ck_size is 0. */
	size_t ck_offset, ck_size;
	/* Optional: a further rule on a parsed value (a power of two, a rule
	 * between keys); 0 or EINVAL with machine_seterr() naming the key. */
	int (*ck_check)(const struct cfg_key *, const struct machine_config *, uint64_t v);
	/* CFG_TEXT (and keys whose value is not one number): parse into the
	 * config, print from it. */
	int (*ck_set)(const struct cfg_key *, struct machine_config *, const char *v);
	void (*ck_get)(const struct cfg_key *, const struct machine_config *, char *buf, size_t len);
};

/* A table entry: CFG_KEY(name, type, min, max, values, default, help,
 * optional designated fields such as CFG_FIELD(f) or .ck_check = fn). */
#define CFG_KEY(name, type, lo, hi, values, def, ...)                                                        \
	{                                                                                                   \
		.ck_name = (name), .ck_type = (type), .ck_min = (lo), .ck_max = (hi), .ck_values = (values),   \
		.ck_default = (def), .ck_help = __VA_ARGS__                                                 \
	}
/* A number's macro as text: a key's default, a --help line. */
#define CFG_STR_(x) #x
#define CFG_STR(x) CFG_STR_(x)
/* A field of struct machine_config, for a table entry. */
#define CFG_FIELD(f) .ck_offset = offsetof(struct machine_config, f), .ck_size = sizeof(((struct machine_config *)0)->f)

/* The entry of a key (NULL if unknown). */
const struct cfg_key *machine_config_key(const char *name);
/* The value of a numeric key (CFG_UINT, CFG_SIZE, CFG_BOOL: 0 or 1,
 * CFG_ENUM: the index of its name) by name: 0, ENOENT or EINVAL (text). */
int machine_config_u64(const struct machine_config *, const char *key, uint64_t *out);
/* machine_config_set() of a number. */
int machine_config_setu(struct machine_config *, const char *key, uint64_t v);
/* A knob's value (its default when it was never set). */
uint64_t machine_knob(const struct machine_config *, const struct cfg_key *);
/* The type, range or values of a key as one line ("whole number 1–4096"). */
void cfg_key_describe(const struct cfg_key *, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* PMAPSTORM_CONFIG_H */
