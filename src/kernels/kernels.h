/* kernels.h: private to the packed storage (packed.c) and the kernels that implement it
   (symvf.c, trsolve.c; bench/kernels.c measures them): khgps' own kernels on the packed buffer. */
#ifndef KHGPS_KERNELS_H
#define KHGPS_KERNELS_H

#include <petscsys.h>

/* J_ij (i < j) of the packed buffer B: a float in column j's upper part, columns ldf floats apart
   (2N in the double-precision buffer, N in the single-precision one: KhgpsPackedStorage.ldf) */
#define KHGPS_PACKED_J(B, ldf, i, j) ((PetscReal)((const float *)(B))[(size_t)(j) * (ldf) + (i)])

/* symvf.c: Y = J X from the float32 couplings */
PetscErrorCode KhgpsSymvF32(PetscInt, const PetscScalar *, PetscInt, PetscInt, const PetscScalar *, PetscInt, PetscScalar *, PetscInt);

/* trsolve.c: blocks of right-hand sides with the packed Cholesky factor */
PetscBool      KhgpsTriSolveAvailable(PetscInt, PetscInt);
PetscErrorCode KhgpsTriSolve(PetscInt, const PetscScalar *, PetscInt, PetscScalar *, PetscInt);
PetscErrorCode KhgpsTriSolveF32(PetscInt, const float *, PetscInt, PetscScalar *, PetscInt);

#endif
