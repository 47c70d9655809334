/* khgps_platform.h: what khgps asks of the machine (platform.c: BLAS threads, SIMD, page
   population) and which BLAS it runs on (blascore.c). */
#ifndef KHGPS_PLATFORM_H
#define KHGPS_PLATFORM_H

#include <stddef.h>
#include <petscsys.h>

/* platform.c (a leaf: calls no other khgps file) */
typedef enum {
  KHGPS_BLAS_ORDERED,     /* the minimizer's and the CG polish's dot products: one thread, a fixed rounding */
  KHGPS_BLAS_OWN_KERNELS, /* khgps' own OpenMP kernels run the loop (trsolve.c): one BLAS thread */
  KHGPS_BLAS_LIBRARY      /* factorizations, library solves, the spectrum: all the library's threads */
} KhgpsBLASWork;
int         KhgpsBLASThreadsFor(KhgpsBLASWork);
int         KhgpsBLASThreadsLibrary(void);
void        KhgpsPopulate(void *, size_t);
void        KhgpsSetAVX512(PetscBool);
PetscBool   KhgpsAVX512(void);
const char *KhgpsSimdName(void);

/* blascore.c: the BLAS library and OpenBLAS core (root attribute blas_core, -log_view) */
const char    *KhgpsBLASCore(void);
PetscErrorCode KhgpsBLASCoreWarning(char *, size_t);

#endif
