/* draw.h: private: the couplings' draw at vector speed (draw.c), for model.c, thermal.c, the tests
   and bench/kernels.c. Every path (scalar, AVX2, AVX-512) gives the couplings of the scalar
   KhgpsNormal2 bit for bit: fl32(s z) with z from KhgpsNormal2(i, m), the same (i, m) keying. */
#ifndef KHGPS_DRAW_H
#define KHGPS_DRAW_H

#include <stdint.h>
#include <petscsys.h>

enum {
  KHGPS_DRAW_AUTO   = -1,
  KHGPS_DRAW_SCALAR = 0,
  KHGPS_DRAW_AVX2   = 1,
  KHGPS_DRAW_AVX512 = 2
};

/* Counters (i0 + k, m), k in [0, n): a[k] = fl32(s z0), b[k] = fl32(s z1) (b may be NULL): the
   couplings J_{i0+k, 2m} and J_{i0+k, 2m+1} of the rows i0 + k < 2m. */
void KhgpsDrawColumnPair(PetscInt64 seed, PetscInt realization, PetscReal s, PetscInt m, PetscInt i0, PetscInt n, float *a, float *b);
/* Counters (i, m0 + k), k in [0, n): z[2k] = fl32(s z0), z[2k + 1] = fl32(s z1): the couplings
   J_{i, 2(m0+k)} and J_{i, 2(m0+k)+1} of the columns 2 m0 + 2k, 2 m0 + 2k + 1 > i. */
void KhgpsDrawRow(PetscInt64 seed, PetscInt realization, PetscReal s, PetscInt i, PetscInt m0, PetscInt n, float *z);
/* Rows [rs, re) of the dense N x N couplings J_ij = fl32(s z_ij) as doubles, column-major (lda). */
PetscErrorCode KhgpsDrawDense(PetscInt64 seed, PetscInt realization, PetscInt N, PetscReal s, PetscInt rs, PetscInt re, PetscScalar *a, PetscInt lda);

/* The path: KHGPS_DRAW_AUTO (the default) takes AVX-512 where KhgpsAVX512() says so, else AVX2
   with FMA where the processor has them, else scalar. Forcing a path the processor lacks is the
   caller's error (tests force only what KhgpsDrawAvailable says). */
void      KhgpsDrawSetPath(int);
int       KhgpsDrawPath(void);
PetscBool KhgpsDrawAvailable(int);
/* Lanes recomputed by the scalar path since the start (a vector result too close to a float32
   rounding boundary), over all threads. */
uint64_t KhgpsDrawFallbacks(void);
/* Raw Philox4x64-10 on path `path`: out[4k..4k+3] = philox4x64(ctr[4k..4k+3], {k0, k1}). */
void KhgpsDrawPhilox(int path, uint64_t k0, uint64_t k1, size_t n, const uint64_t *ctr, uint64_t *out);
/* The test's look at the error bound: the double values s z0, s z1 of counters (i0 + k, m) on a
   path before the rounding to float32, and the bound DRAW_REL on their relative distance from the
   scalar path's. */
void   KhgpsDrawValues(int path, PetscInt64 seed, PetscInt realization, PetscReal s, PetscInt m, PetscInt i0, PetscInt n, double *a, double *b);
double KhgpsDrawBound(void);

#endif
