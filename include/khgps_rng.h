/* khgps_rng.h: the random draws, keyed by (seed, realization, stream, i, j) (rng.c). */
#ifndef KHGPS_RNG_H
#define KHGPS_RNG_H

#include <petscsys.h>

/* The streams: counter word 2 of every Philox draw, all in this one table (a new use of random
   numbers takes the next number; a number once used is never reused for something else). */
enum {
  KHGPS_STREAM_J       = 0, /* couplings (KhgpsNormal2) */
  KHGPS_STREAM_KAPPA   = 1, /* stiffnesses (model.c) */
  KHGPS_STREAM_X0      = 2, /* the random start (thermal.c) */
  KHGPS_STREAM_SPARSE  = 3, /* the sparse couplings' pairs (sparse.c) */
  KHGPS_STREAM_EIG     = 4, /* the block eigensolver's start (blockeig.c) */
  KHGPS_STREAM_BOUNDS  = 5, /* the Lanczos start of the filter's spectrum bounds (filter.c) */
  KHGPS_STREAM_THERMAL = 6  /* the thermal start's Metropolis chain: counter (site, sweep) (thermal.c) */
};

/* rng.c */
PetscReal KhgpsUniform(PetscInt64 seed, PetscInt realization, PetscInt stream, PetscInt i);
PetscReal KhgpsUniformAt(PetscInt64 seed, PetscInt realization, PetscInt stream, PetscInt i, PetscInt s);
void      KhgpsUniform2At(PetscInt64 seed, PetscInt realization, PetscInt stream, PetscInt64 i, PetscInt64 s, PetscReal u[2]);
void      KhgpsNormal2(PetscInt64 seed, PetscInt realization, PetscInt i, PetscInt m, PetscReal z[2]);
PetscReal KhgpsNormalPair(PetscInt64 seed, PetscInt realization, PetscInt i, PetscInt j);
/* A coupling is its draw rounded to float32, in every storage (dense, ScaLAPACK, packed, sparse):
   the packed storage keeps J in float32, and the realization is the same everywhere. */
static inline PetscReal KhgpsCoupling(PetscReal v)
{
  return (PetscReal)(float)v;
}

#endif
