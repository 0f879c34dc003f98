/*
 * symbol.c — a code address by name (symbol.h).  The command links with
 * --export-dynamic, so dladdr() finds the functions of the model too.
 */
#include "common/symbol.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

void symbol_name(uintptr_t pc, char *buf, size_t len)
{
	Dl_info di;
	if (pc != 0 && dladdr((void *)pc, &di) != 0 && di.dli_sname != NULL) {
		snprintf(buf, len, "%s+%#lx", di.dli_sname, (unsigned long)(pc - (uintptr_t)di.dli_saddr));
	} else if (pc != 0 && dladdr((void *)pc, &di) != 0 && di.dli_fname != NULL) {
		/* no symbol (a static function): the file and the offset in it,
		 * which addr2line takes and which stays put wherever it loaded
		 * (a virtual run's lockstat sites are the same in every run) */
		const char *base = strrchr(di.dli_fname, '/');
		snprintf(buf, len, "%s+%#lx", base != NULL ? base + 1 : di.dli_fname,
		    (unsigned long)(pc - (uintptr_t)di.dli_fbase));
	} else {
		snprintf(buf, len, "%#lx", (unsigned long)pc);
	}
}
