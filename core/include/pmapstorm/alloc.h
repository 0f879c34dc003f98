/*
 * pmapstorm/alloc.h — the one way the harness allocates host objects.
 *
 * Why.  malloc() and calloc() promise alignment for any standard type
 * (_Alignof(max_align_t), 16 on x86-64), nothing more.  The per-CPU
 * structures of the model are cache-line aligned (aligned(64) members, so
 * that two CPUs never write one line), and a calloc()'d array of them is
 * 64-aligned only when the heap happens to be laid out that way: undefined
 * behaviour that UBSan reports on one machine and not on the next (issue 14:
 * struct drv_cpu in bench/trials/driver.c).  So callers never choose an allocator:
 * they name the type, and the macros below take its alignment from
 * _Alignof(T) — aligned_alloc() above malloc's promise, malloc()/calloc()
 * below it.  Adding an aligned member to a type allocated here needs no
 * change at any call site.
 *
 *   T *mem_alloc(T, n)                  n objects of type T, uninitialised
 *   T *mem_zalloc(T, n)                 n objects of type T, zeroed
 *   T *mem_zalloc_flex(T, member, n)    one T whose flexible array member
 *                                       has n elements, zeroed
 *   T *mem_realloc(T, p, n)             p resized to n objects of type T;
 *                                       a compile error for an over-aligned
 *                                       T (there is no aligned realloc)
 *   void *mem_zalloc_bytes(align, n)    n zeroed bytes at an explicit
 *                                       power-of-two alignment (page-aligned
 *                                       buffers: topo_mem_alloc_node)
 *
 * => Each returns NULL with errno = ENOMEM on failure or when the size
 *    overflows size_t, and never NULL on success (a request of 0 bytes gets
 *    a unique pointer).  free() releases what any of them returned.
 * => The size given to aligned_alloc() is rounded up to a multiple of the
 *    alignment, as C17 (7.22.3.1) requires.
 *
 * Enforcement: tests/lint_alloc.py (CTest test lint_alloc, label quick)
 * fails on any malloc/calloc/realloc/aligned_alloc/posix_memalign call
 * outside this header, in core/, bench/, stress/ and tests/.  A textual
 * check cannot see the type behind sizeof(*p), so the rule is "never call
 * them directly", and the type, named here, decides.
 *
 * C only (_Alignof); header-only, so core/, bench/, stress/ and tests/ use
 * it through the include path they already have, and core/ includes
 * nothing from above it.
 */
#ifndef PMAPSTORM_ALLOC_H
#define PMAPSTORM_ALLOC_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* What malloc() and calloc() align to. */
#define MEM_MALLOC_ALIGN _Alignof(max_align_t)

/*
 * head bytes followed by n elements of elem bytes, at alignment align (a
 * power of two).  Not for direct use: the macros pass the type's own
 * alignment and sizes.
 */
static inline void *mem_alloc_impl(size_t align, size_t head, size_t elem, size_t n, bool zero)
{
	if ((n != 0 && elem > (SIZE_MAX - head) / n) || align == 0 || (align & (align - 1)) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	size_t bytes = head + elem * n;
	if (bytes == 0)
		bytes = 1;
	if (align <= MEM_MALLOC_ALIGN)
		return zero ? calloc(1, bytes) : malloc(bytes);
	if (bytes > SIZE_MAX - (align - 1)) {
		errno = ENOMEM;
		return NULL;
	}
	bytes = (bytes + align - 1) & ~(align - 1);
	void *p = aligned_alloc(align, bytes);
	if (p != NULL && zero)
		memset(p, 0, bytes);
	return p;
}

#define mem_alloc(T, n) ((T *)mem_alloc_impl(_Alignof(T), 0, sizeof(T), (n), false))
#define mem_zalloc(T, n) ((T *)mem_alloc_impl(_Alignof(T), 0, sizeof(T), (n), true))
#define mem_zalloc_flex(T, member, n) \
	((T *)mem_alloc_impl(_Alignof(T), sizeof(T), sizeof(((T *)0)->member[0]), (n), true))

static inline void *mem_realloc_impl(void *p, size_t size, size_t n)
{
	if (n != 0 && size > SIZE_MAX / n) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, size * n != 0 ? size * n : 1);
}
/* realloc() keeps only malloc's alignment: refused at compile time above it */
#define mem_realloc(T, p, n)                                                                    \
	((void)sizeof(struct {                                                                      \
		_Static_assert(_Alignof(T) <= MEM_MALLOC_ALIGN,                                     \
		    "mem_realloc: " #T " is over-aligned; allocate anew with mem_alloc and copy");  \
		int mem_unused;                                                                     \
	}),                                                                                         \
	    (T *)mem_realloc_impl((p), sizeof(T), (n)))

static inline void *mem_zalloc_bytes(size_t align, size_t n)
{
	return mem_alloc_impl(align, 0, 1, n, true);
}

#endif /* PMAPSTORM_ALLOC_H */
