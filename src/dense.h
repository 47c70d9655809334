/* dense.h: private to the block eigensolvers (blockeig.c, filter.c): the small dense kernels of
   dense.c (products, the symmetric eigenproblem of a projection, column combinations). */
#ifndef KHGPS_DENSE_H
#define KHGPS_DENSE_H

#include <petscsys.h>
#include <petscblaslapack.h>

void           KhgpsGemm(const char *, const char *, PetscInt, PetscInt, PetscInt, PetscScalar, const PetscScalar *, PetscInt, const PetscScalar *, PetscInt, PetscScalar, PetscScalar *, PetscInt);
void           KhgpsGemmThreads(const char *, const char *, PetscInt, PetscInt, PetscInt, PetscScalar, const PetscScalar *, PetscInt, const PetscScalar *, PetscInt, PetscScalar, PetscScalar *, PetscInt);
PetscErrorCode KhgpsSymEig(PetscInt, const PetscScalar *, PetscInt, PetscScalar *, PetscReal *);
PetscErrorCode KhgpsCombineColumns(PetscInt, PetscScalar *, PetscInt, PetscInt, const PetscScalar *, PetscInt, PetscInt);
PetscErrorCode KhgpsCombineColumnsThreads(PetscInt, PetscScalar *, PetscInt, PetscInt, const PetscScalar *, PetscInt, PetscInt, PetscBool);

#endif
