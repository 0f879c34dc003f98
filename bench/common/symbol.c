/*
 * symbol.c — a code address by name (symbol.h).  The command links with
 * --export-dynamic, so dladdr() finds the functions of the model too.
 */
#include "common/symbol.h"

#include <dlfcn.h>
#include <stdio.h>

void symbol_name(uintptr_t pc, char *buf, size_t len)
{
	Dl_info di;
	if (pc != 0 && dladdr((void *)pc, &di) != 0 && di.dli_sname != NULL)
		snprintf(buf, len, "%s+%#lx", di.dli_sname, (unsigned long)(pc - (uintptr_t)di.dli_saddr));
	else
		snprintf(buf, len, "%#lx", (unsigned long)pc);
}
