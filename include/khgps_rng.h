/* khgps_rng.h: the random draws, keyed by (seed, realization, stream, i, j) (rng.c). */
#ifndef KHGPS_RNG_H
#define KHGPS_RNG_H

#include <petscsys.h>

/* rng.c */
PetscReal KhgpsUniform(PetscInt64 seed, PetscInt realization, PetscInt stream, PetscInt i);
PetscReal KhgpsUniformAt(PetscInt64 seed, PetscInt realization, PetscInt stream, PetscInt i, PetscInt s);
void      KhgpsNormal2(PetscInt64 seed, PetscInt realization, PetscInt i, PetscInt m, PetscReal z[2]);
PetscReal KhgpsNormalPair(PetscInt64 seed, PetscInt realization, PetscInt i, PetscInt j);
/* A coupling is its draw rounded to float32, in every storage (dense, ScaLAPACK, packed, sparse):
   the packed storage keeps J in float32, and the realization is the same everywhere. */
static inline PetscReal KhgpsCoupling(PetscReal v)
{
  return (PetscReal)(float)v;
}

#endif
