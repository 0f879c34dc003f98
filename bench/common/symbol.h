/*
 * symbol.h — a code address of this process, by name (dladdr): lockstat's
 * call sites, symbolized in the process that ran them.
 */
#ifndef PMAPSTORM_COMMON_SYMBOL_H
#define PMAPSTORM_COMMON_SYMBOL_H

#include <stddef.h>
#include <stdint.h>

#define SYMBOL_NAMELEN 64

/* "function+0xoff", or "0x..." when the address has no symbol */
void symbol_name(uintptr_t pc, char *buf, size_t len);

#endif
