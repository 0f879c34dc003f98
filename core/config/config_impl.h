/*
 * config/config_impl.h — the key validator's functions for core/: the
 * machine's error message, value parsers, and what core/boot.c does with a
 * key's table entry (docs/architecture.md, "Configuration keys").  This is
 * the lowest layer of core/: every other may use it.
 */
#ifndef PMAPSTORM_CONFIG_IMPL_H
#define PMAPSTORM_CONFIG_IMPL_H

#include <pmapstorm/config.h>
#include <pmapstorm/machine.h>

/* errors with a message (machine_errmsg): returns err, sets errno */
int machine_seterr(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void machine_clearerr(void);

int machine_parse_u64(const char *key, const char *v, uint64_t lo, uint64_t hi, uint64_t *out);
/* bytes with an optional K/M/G suffix (powers of 1024) */
int machine_parse_size(const char *key, const char *v, uint64_t lo, uint64_t hi, uint64_t *out);
/* "64G", "32M", "4K" or bytes: what machine_parse_size reads back */
void machine_format_size(uint64_t x, char *buf, size_t len);

/* A knob's value into the config's store (ck_set of a CFG_TEXT knob). */
int machine_knob_store(struct machine_config *, const struct cfg_key *, uint64_t v);
/* Was the knob set (else it reads as its default)? */
bool machine_knob_isset(const struct machine_config *, const struct cfg_key *);
/* A key's value wherever it lives (field or knob; not CFG_TEXT). */
uint64_t cfg_value(const struct machine_config *, const struct cfg_key *);

/* "section.key" = v through its entry: 0 or EINVAL (machine_seterr) */
int cfg_key_set(const struct cfg_key *, struct machine_config *, const char *v);
void cfg_key_get(const struct cfg_key *, const struct machine_config *, char *buf, size_t len);
/* The stored value against the entry: fields may have been written
 * directly by an embedder. */
int cfg_key_validate(const struct cfg_key *, const struct machine_config *);

#endif /* PMAPSTORM_CONFIG_IMPL_H */
