/* platform.c: what khgps asks of the machine: OpenBLAS's thread count, the processor's SIMD
   extensions for khgps' own kernels, and pages mapped before their first write. A leaf: it calls
   no other file of khgps. */
#include <dlfcn.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include "khgps_platform.h"

/* Set OpenBLAS's thread count to n (n = 0: leave it) and return the previous one (0 and nothing
   done with another BLAS). */
static int BLASThreads(int n)
{
  static void (*set)(int);
  static int (*get)(void);
  static int looked;
  int        old;

  if (!looked) {
    set    = (void (*)(int))dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
    get    = (int (*)(void))dlsym(RTLD_DEFAULT, "openblas_get_num_threads");
    looked = 1;
  }
  if (!set || !get || n < 0) return 0;
  if (n == 0) return get(); /* just ask */
  old = get();
  set(n);
  return old;
}

/* The library's thread count: OpenBLAS's own (OPENBLAS_NUM_THREADS) when khgps first asks, before
   it changes anything (0 with another BLAS). */
int KhgpsBLASThreadsLibrary(void)
{
  static int all = -1;
  if (all < 0) all = BLASThreads(0);
  return all;
}

/* The one place that decides OpenBLAS's thread count, by the work that comes next:
   - KHGPS_BLAS_ORDERED: the minimizer's dot products and the Newton polish by CG. OpenBLAS splits
     a long dot product among its threads, so their rounding, and with it the path TAO takes (and,
     in a glassy landscape, even which minimum it reaches), would depend on OPENBLAS_NUM_THREADS;
     one BLAS thread makes every thread setting give the same x* bit for bit. The J x products
     have their own fixed split (symvf.c).
   - KHGPS_BLAS_OWN_KERNELS: khgps' own solves (trsolve.c) run the block eigensolver's Krylov loop
     on the OpenMP threads; OpenBLAS's spinning workers would compete with them: one thread.
   - KHGPS_BLAS_LIBRARY: factorizations, library solves, the spectrum: all the library's threads.
   Returns the count now set (0: not OpenBLAS, nothing done). */
int KhgpsBLASThreadsFor(KhgpsBLASWork work)
{
  const int all = KhgpsBLASThreadsLibrary();

  if (!all) return 0;
  BLASThreads(work == KHGPS_BLAS_LIBRARY ? all : 1);
  return work == KHGPS_BLAS_LIBRARY ? all : 1;
}

/* Map the pages of [p, p + bytes) before their first write, in one system call (Linux >= 5.14,
   MADV_POPULATE_WRITE), for memory that is about to be written anyway: a first touch page by page
   costs a page fault each, an order of magnitude more per page than this (docs/benchmarks.md).
   Elsewhere (older kernels) it does nothing. Only whole
   pages that the range overlaps are mapped, so nothing outside it becomes resident beyond them. */
void KhgpsPopulate(void *p, size_t bytes)
{
#if defined(__linux__)
  static long page = 0;
  uintptr_t   a, b;
  if (!bytes) return;
  if (!page) page = sysconf(_SC_PAGESIZE);
  a = (uintptr_t)p & ~(uintptr_t)(page - 1);
  b = ((uintptr_t)p + bytes + (uintptr_t)page - 1) & ~(uintptr_t)(page - 1);
  (void)madvise((void *)a, b - a, 23 /* MADV_POPULATE_WRITE */);
#else
  (void)p;
  (void)bytes;
#endif
}

static PetscBool avx512_allowed = PETSC_TRUE;

/* -khgps_avx512 0: khgps' own kernels (J x here, the block triangular solves) keep to AVX2. */
void KhgpsSetAVX512(PetscBool allow)
{
  avx512_allowed = allow;
}

/* Whether khgps' own kernels use AVX-512 (the processor has it and -khgps_avx512 is not 0). */
PetscBool KhgpsAVX512(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  return (PetscBool)(avx512_allowed && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
#else
  return PETSC_FALSE;
#endif
}

/* Which of khgps' own kernels run here, for the output file: "avx512", "avx2" or "baseline". */
const char *KhgpsSimdName(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (KhgpsAVX512()) return "avx512";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
#endif
  return "baseline";
}
