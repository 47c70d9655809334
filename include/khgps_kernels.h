/* khgps_kernels.h: private: the machine (platform.c) and khgps' own numerical kernels (symvf.c, trsolve.c, dense.c), for the files that implement the solvers. */
#ifndef KHGPS_KERNELS_H
#define KHGPS_KERNELS_H

#include "khgps_model.h"
#include <petscblaslapack.h>

/* platform.c: the machine (a leaf: calls no other khgps file) */
int         KhgpsBLASThreads(int);
void        KhgpsPopulate(void *, size_t);
void        KhgpsSetAVX512(PetscBool);
PetscBool   KhgpsAVX512(void);
const char *KhgpsSimdName(void);
/* blascore.c: the BLAS library and OpenBLAS core (root attribute blas_core, -log_view) */
const char    *KhgpsBLASCore(void);
PetscErrorCode KhgpsBLASCoreWarning(char *, size_t);

/* symvf.c */
PetscErrorCode KhgpsSymvF32(PetscInt, const PetscScalar *, PetscInt, PetscInt, const PetscScalar *, PetscInt, PetscScalar *, PetscInt);
/* J_ij (i < j) of the packed buffer B: a float in column j's upper part, columns ldf floats apart
   (2N in the double-precision buffer, N in the single-precision one: KhgpsPackedStorage.ldf) */
#define KHGPS_PACKED_J(B, ldf, i, j) ((PetscReal)((const float *)(B))[(size_t)(j) * (ldf) + (i)])

/* trsolve.c: blocks of right-hand sides with the packed Cholesky factor */
PetscBool      KhgpsTriSolveAvailable(PetscInt, PetscInt);
void           KhgpsGemmThreads(const char *, const char *, PetscInt, PetscInt, PetscInt, PetscScalar, const PetscScalar *, PetscInt, const PetscScalar *, PetscInt, PetscScalar, PetscScalar *, PetscInt);
PetscErrorCode KhgpsTriSolve(PetscInt, const PetscScalar *, PetscInt, PetscScalar *, PetscInt);
PetscErrorCode KhgpsTriSolveF32(PetscInt, const float *, PetscInt, PetscScalar *, PetscInt);

/* dense.c: small dense kernels of the block eigensolvers */
void           KhgpsGemm(const char *, const char *, PetscInt, PetscInt, PetscInt, PetscScalar, const PetscScalar *, PetscInt, const PetscScalar *, PetscInt, PetscScalar, PetscScalar *, PetscInt);
PetscErrorCode KhgpsSymEig(PetscInt, const PetscScalar *, PetscInt, PetscScalar *, PetscReal *);
PetscErrorCode KhgpsCombineColumns(PetscInt, PetscScalar *, PetscInt, PetscInt, const PetscScalar *, PetscInt, PetscInt);
PetscErrorCode KhgpsCombineColumnsThreads(PetscInt, PetscScalar *, PetscInt, PetscInt, const PetscScalar *, PetscInt, PetscInt, PetscBool);

#endif
