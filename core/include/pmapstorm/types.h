/*
 * pmapstorm/types.h — the NetBSD VM types and constants the whole model shares.
 *
 * Names and values follow NetBSD (sys/uvm/uvm_param.h, sys/uvm/uvm_prot.h,
 * sys/arch/amd64/include/vmparam.h): 4 KiB pages, 64-bit virtual and physical
 * addresses, and x86-64-like canonical halves for user and kernel space.
 *
 * Error convention (said once, followed everywhere in the embedding API):
 * functions that can fail return 0 or a positive errno value, or a pointer
 * that is NULL with errno set; machine_errmsg() then holds a one-line
 * explanation naming the config key or argument at fault.
 */
#ifndef PMAPSTORM_TYPES_H
#define PMAPSTORM_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t vaddr_t;
typedef uint64_t paddr_t;
typedef uint64_t vsize_t;
typedef uint64_t psize_t;
typedef int64_t voff_t;
typedef int vm_prot_t;

#define VM_PROT_NONE 0x00
#define VM_PROT_READ 0x01
#define VM_PROT_WRITE 0x02
#define VM_PROT_EXECUTE 0x04
#define VM_PROT_ALL (VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXECUTE)

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (PAGE_SIZE - 1)
#define round_page(x) (((vaddr_t)(x) + PAGE_MASK) & ~(vaddr_t)PAGE_MASK)
#define trunc_page(x) ((vaddr_t)(x) & ~(vaddr_t)PAGE_MASK)
#define atop(x) ((uint64_t)(x) >> PAGE_SHIFT)
#define ptoa(x) ((uint64_t)(x) << PAGE_SHIFT)

/*
 * Address-space layout (x86-64-like, 48-bit canonical).  User space is the
 * lower half.  Kernel space starts at the upper half; PMAP_DIRECT_BASE is a
 * KSEG0-style direct map of all simulated physical memory that translates
 * arithmetically (no page tables, no TLB), which PMAP_MAP_POOLPAGE() uses.
 */
#define VM_MIN_ADDRESS ((vaddr_t)0)
#define VM_MAXUSER_ADDRESS ((vaddr_t)0x0000800000000000ULL)
#define VM_MIN_KERNEL_ADDRESS ((vaddr_t)0xffff800000000000ULL)
#define VM_MAX_KERNEL_ADDRESS ((vaddr_t)0xffffc00000000000ULL)
#define PMAP_DIRECT_BASE ((vaddr_t)0xffffc00000000000ULL)
#define PMAP_DIRECT_END ((vaddr_t)0xffffe00000000000ULL)

#define MAXCPUS 256

#ifdef __cplusplus
}
#endif
#endif /* PMAPSTORM_TYPES_H */
