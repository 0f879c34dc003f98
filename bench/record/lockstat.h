/*
 * lockstat.h — the lock_stat-style table of lockstat rows
 * (<pmapstorm/lock.h>), as text, CSV and JSON.
 */
#ifndef PMAPSTORM_RECORD_LOCKSTAT_H
#define PMAPSTORM_RECORD_LOCKSTAT_H

#include "common/symbol.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <pmapstorm/lock.h>
#include <pmapstorm/machine.h>

void lockstat_print_text(FILE *f, const struct lockstat_row *rows, unsigned n);
/* rows: blocks of LC_NCLASS rows, all CPUs first, then CPU 0, 1, ...;
 * written atomically: 0 or an errno after a message */
int lockstat_write_csv(const char *path, const struct lockstat_row *rows, unsigned n);
/* the rows with the call sites (lockstat -s) of each, symbolized in the
 * process that ran (symbol_name); sites may be NULL */
json_t *lockstat_json(const struct lockstat_row *rows, unsigned n,
    const char (*sites)[LOCKSTAT_SITES][SYMBOL_NAMELEN]);
/* Did a run of this config record lockstat?  locks.lockstat = on and
 * statistics on (stats.enabled): else its rows would read 0 for what
 * nothing counted, so run.json writes none (an empty array). */
bool lockstat_recorded(const struct machine_config *);

#endif
