/*
 * commands.h — the pmapstorm command's subcommands, one file each in
 * commands/ (cmd_NAME.c), dispatched by main.c.  Each takes its argv from
 * the subcommand's name on and returns the process's exit code
 * (exitcode.h): the commands are the only code that knows exit codes.
 * Nothing below the commands includes this header (tests/bench_deps.py).
 */
#ifndef PMAPSTORM_COMMANDS_H
#define PMAPSTORM_COMMANDS_H

#include <stdbool.h>

int cmd_run(int argc, char **argv);        /* cmd_run.c */
int cmd_plot(int argc, char **argv);       /* cmd_plot.c */
int cmd_microbench(int argc, char **argv); /* cmd_microbench.c */
int cmd_gate(int argc, char **argv);       /* cmd_gate.c */
int cmd_export(int argc, char **argv);     /* cmd_export.c */
int cmd_topo(int argc, char **argv);       /* cmd_topo.c */
int cmd_calibrate(int argc, char **argv);  /* cmd_calibrate.c */
int cmd_list(int argc, char **argv);       /* cmd_list.c */
int cmd_merge(int argc, char **argv);      /* cmd_merge.c: shards of a run into one results folder */
int cmd_stress(int argc, char **argv);     /* stress/stress.c: torture mode */

/* options.c: a whole number in [lo, hi] for cmd's flag; EXIT_OK, or
 * EXIT_USAGE with a message naming the command, the flag and the range */
int cmd_parse_count(const char *cmd, const char *flag, const char *v, unsigned long lo, unsigned long hi,
    unsigned long *out);
/* options.c: --engine's value, machine.engine's (threads or virtual), or with
 * list a comma-separated list of them (run sweeps it); EXIT_OK, or
 * EXIT_USAGE with a message naming the command and the flag */
int cmd_check_engine(const char *cmd, const char *v, bool list);

#endif
