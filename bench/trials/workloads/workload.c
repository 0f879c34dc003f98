/*
 * workload.c — what every workload shares (workload.h): option lookup and
 * checks, pages, mappings, errors.  The table of workloads is registry.c.
 */
#include "trials/workloads/workload.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct wl_option *opt_find(const struct workload *w, const char *name)
{
	for (const struct wl_option *o = w->wl_options; o != NULL && o->wo_name != NULL; o++)
		if (strcmp(o->wo_name, name) == 0)
			return o;
	return NULL;
}

int wl_opt_check(const struct workload *w, const char *name, const char *value, char *why, size_t len)
{
	const struct wl_option *o = opt_find(w, name);
	if (o == NULL) {
		size_t n = (size_t)snprintf(why, len, "workload %s has no option '%s'; options:", w->wl_name, name);
		for (const struct wl_option *p = w->wl_options; p != NULL && p->wo_name != NULL && n < len; p++)
			n += (size_t)snprintf(why + n, len - n, " %s", p->wo_name);
		return EINVAL;
	}
	char *end;
	switch (o->wo_type) {
	case WO_INT:
	case WO_FLOAT: {
		double x = strtod(value, &end);
		/* finite and in range before the whole-number test: (long)x of a
		 * NaN or of 1e30 is undefined */
		if (end == value || *end != '\0' || !isfinite(x)) {
			snprintf(why, len, "'%s' is not %s", value, o->wo_type == WO_INT ? "a whole number" : "a number");
			return EINVAL;
		}
		if (x < o->wo_min || x > o->wo_max) {
			snprintf(why, len, "%s is out of range [%g, %g]", value, o->wo_min, o->wo_max);
			return EINVAL;
		}
		if (o->wo_type == WO_INT && x != (double)(long)x) {
			snprintf(why, len, "'%s' is not a whole number", value);
			return EINVAL;
		}
		return 0;
	}
	case WO_ENUM: {
		size_t vl = strlen(value);
		for (const char *c = o->wo_choices; *c != '\0';) {
			size_t n = strcspn(c, "|");
			if (n == vl && strncmp(c, value, n) == 0)
				return 0;
			c += n + (c[n] == '|');
		}
		snprintf(why, len, "'%s' is not one of: %s", value, o->wo_choices);
		return EINVAL;
	}
	}
	return EINVAL;
}

const char *wl_opt(const struct wl_role *r, const char *name)
{
	for (unsigned i = 0; i < r->wr_nopts; i++)
		if (strcmp(r->wr_optkeys[i], name) == 0)
			return r->wr_optvals[i];
	const struct wl_option *o = opt_find(r->wr_wl, name);
	return o != NULL ? o->wo_default : "";
}

long wl_opt_long(const struct wl_role *r, const char *name)
{
	return (long)strtod(wl_opt(r, name), NULL);
}

double wl_opt_double(const struct wl_role *r, const char *name)
{
	return strtod(wl_opt(r, name), NULL);
}

bool wl_opt_is(const struct wl_role *r, const char *name, const char *value)
{
	return strcmp(wl_opt(r, name), value) == 0;
}

struct vm_page *wl_page(void)
{
	struct vm_page *pg;
	while ((pg = uvm_pagealloc(NULL, 0, NULL, UVM_PGA_ZERO)) == NULL)
		uvm_wait("wlpage");
	return pg;
}

void wl_map(pmap_t pm, vaddr_t va, struct vm_page *pg, vm_prot_t prot)
{
	/* PMAP_CANFAIL, then wait for memory, as uvm_fault does */
	while (pmap_enter(pm, va, VM_PAGE_TO_PHYS(pg), prot, PMAP_CANFAIL) == ENOMEM)
		uvm_wait("wlmap");
}

void wl_error(struct wl_role *r, const char *fmt, ...)
{
	va_list ap;
	if (atomic_fetch_add(&r->wr_errors, 1) >= 10)
		return; /* the first ten are enough to see the pattern */
	fprintf(stderr, "pmapstorm: workload %s (%s): ", r->wr_wl->wl_name, r->wr_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
