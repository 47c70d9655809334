/* khgps_repro.h: sums and sparse products independent of the rank count (repro.c). */
#ifndef KHGPS_REPRO_H
#define KHGPS_REPRO_H

#include <petscmat.h>

/* repro.c: results independent of the rank count */
typedef struct _n_KhgpsOrdered *KhgpsOrdered;
PetscErrorCode                  KhgpsReproSum(MPI_Comm, PetscInt, PetscInt, const PetscReal *, PetscReal *);
PetscErrorCode                  KhgpsVecSetReproducible(Vec);
PetscErrorCode                  KhgpsOrderedCreate(Mat, KhgpsOrdered *);
PetscErrorCode                  KhgpsOrderedDestroy(KhgpsOrdered *);
PetscErrorCode                  KhgpsOrderedMult(KhgpsOrdered, Vec, Vec);
PetscErrorCode                  KhgpsOrderedShell(Mat, Mat *);

#endif
