/*
 * cli.h — what the pmapstorm command's subcommands share: exit codes,
 * error printing, --set handling, and the provenance every result records.
 */
#ifndef PMAPSTORM_CLI_H
#define PMAPSTORM_CLI_H

#include <jansson.h>
#include <stdio.h>
#include <pmapstorm/machine.h>

/* Exit codes (README, "Exit codes") */
enum {
	EXIT_OK = 0,          /* done, nothing wrong */
	EXIT_VIOLATION = 1,   /* a violation or regression was found */
	EXIT_USAGE = 2,       /* bad flag, bad config, bad input */
	EXIT_ENV = 3,         /* environment or resource error */
	EXIT_INTERRUPTED = 130,
};

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "42 s", "3 min 05 s", "2 h 10 min" */
void cli_duration(char *buf, size_t len, double seconds);
/* machine.memory against what the host can give now: EXIT_OK, or EXIT_ENV with
 * "WHERE: machine.memory: ..." (WHERE: "file:line", "--set", or NULL) */
int cli_memory_check(const struct machine_config *cfg, const char *where);
/* "key=value" -> machine_config_set(); prints "--set: key: reason" and returns EXIT_USAGE */
int cli_apply_set(struct machine_config *, const char *kv);

/* version, git commit, compiler, host, the full config: into a JSON object */
json_t *cli_provenance(const struct machine_config *);
/* Atomic files: write to the temporary name cli_file_begin() opens, then
 * cli_file_commit() renames it into place (dir may be NULL: name is a path). */
FILE *cli_file_begin(const char *dir, const char *name, char *tmp, size_t len);
int cli_file_commit(FILE *f, const char *dir, const char *name, const char *tmp);
/* write a JSON document atomically (temporary name, fsync, then rename) */
int cli_write_json(const char *path, json_t *doc);
/* the same, but never over an existing file: EXIT_USAGE and a message if path exists */
int cli_write_json_new(const char *path, json_t *doc);
/* s with every byte that does not begin or continue a valid UTF-8 sequence
 * replaced by U+FFFD: a new string (free it), or NULL when out of memory */
char *cli_utf8_lossy(const char *s);
/* UTF-8 for JSON: s with every byte that does not begin or continue a valid
 * UTF-8 sequence replaced by U+FFFD (paths are bytes; JSON strings are not)
 * => a new JSON string, or NULL only when out of memory */
json_t *cli_json_string_lossy(const char *s);
/* cut s (NUL-terminated) back to the last complete UTF-8 character, so that
 * a string cut at a byte count does not end mid-character */
void cli_utf8_cut(char *s);
/* rename a finished folder into place, never over an existing one (0, or -1 and errno) */
int cli_rename_dir_new(const char *from, const char *to);
/* Remove dir/PREFIX...-PID entries (files or whole folders) whose process is
 * gone: what a run killed by a second signal, or a crash, left unpublished.
 * Says what it removed on stderr. */
void cli_remove_stale(const char *dir, const char *prefix);

/* the lock_stat-style table (lockstat.c) */
#include <stdio.h>
void lockstat_print_text(FILE *f, const struct lockstat_row *rows, unsigned n);
int lockstat_write_csv(const char *path, const struct lockstat_row *rows, unsigned n);
/* the call sites (lockstat -s) of each row, symbolized in the process that ran */
#define LOCKSTAT_SITE_NAMELEN 64
json_t *lockstat_json(const struct lockstat_row *rows, unsigned n,
    const char (*sites)[LOCKSTAT_SITES][LOCKSTAT_SITE_NAMELEN]);
/* "function+0xoff" of a code address of this process (dladdr) */
void lockstat_site_name(uintptr_t pc, char *buf, size_t len);

/* The cache-line ping-pong of core-to-core-latency (calibrate.c): the
 * leader bounces a ball with the follower, batches x PINGPONG_BATCH round
 * trips, and writes each batch's mean round trip (ns) into samples. */
#define PINGPONG_BATCH 100
#include <stdatomic.h>
#include <stdint.h>
unsigned pingpong_lead(_Atomic uint64_t *ball, unsigned batches, uint64_t *samples);
void pingpong_follow(_Atomic uint64_t *ball, unsigned batches);
/* The model's shootdown round trip and ping-pong on CPUs 0 and 1 of a
 * two-CPU machine made from cfg (microbench.c): medians, ns; 0 or an errno. */
int microbench_shootdown(const struct machine_config *cfg, unsigned rounds, uint64_t *sd_med, uint64_t *pp_med);
/* ipi.preset = calibrated: ipi.send_ns and ipi.handler_ns from the file
 * ipi.calibration names (calibrate.c); 0, or -1 with "key: reason" in why. */
int calib_apply(struct machine_config *, char *why, size_t len);
/* engine.costs = calibrated (with machine.engine = virtual): the cost.*
 * keys an IPI and a line transfer take, from ipi.calibration */
bool calib_engine_wanted(const struct machine_config *);
int calib_engine_apply(struct machine_config *, char *why, size_t len);
/* What `pmapstorm calibrate` measures, with its options (calibrate.c):
 * the host PUs cfg places its CPUs on; writes the calibration file out.
 * EXIT_OK, or an exit code after a message. */
struct calib_params {
	unsigned cp_samples, cp_rounds, cp_max_pairs;
	double cp_seconds;
	bool cp_quiet;
};
extern const struct calib_params calib_defaults;
int calib_measure(const struct machine_config *cfg, const char *out, const struct calib_params *);

int cmd_microbench(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_topo(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_plot(int argc, char **argv);

#endif
