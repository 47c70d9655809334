/* symvf.c: Y = J X for the packed storage, where the couplings are float32 (the realization's J is
   the rounded draw everywhere, so nothing is lost): column j of the N x N double buffer holds
   J_ij, i < j, as floats in its first 4j bytes, which the strict upper triangle's 8j bytes leave
   free. A matrix-vector product then reads 2N^2 bytes instead of dsymv's 4N^2, and the columns are
   shared out among OpenMP threads by equal areas of the triangle (OMP_NUM_THREADS). */
#include <stdlib.h>
#include <string.h>
#include <math.h>
#if defined(_OPENMP)
  #include <omp.h>
#endif
#include "khgps.h"

/* y[0:j) += c[0:j) x_j, returns c[0:j) . x[0:j) (k = 1: the minimizer's product) */
static inline double ColumnDotAxpy(PetscInt j, const float *restrict c, const double *restrict x, double xj, double *restrict y)
{
  double s = 0;
#if defined(_OPENMP)
  #pragma omp simd reduction(+ : s)
#endif
  for (PetscInt i = 0; i < j; i++) {
    const double ci = (double)c[i];
    s += ci * x[i];
    y[i] += ci * xj;
  }
  return s;
}

/* Y[:, 0:k] = J X[:, 0:k] (leading dimensions ldx, ldy). */
PetscErrorCode KhgpsSymvF32(PetscInt N, const PetscScalar *B, PetscInt k, const PetscScalar *X, PetscInt ldx, PetscScalar *Y, PetscInt ldy)
{
  int     nt = 1;
  double *acc;

  PetscFunctionBeginUser;
#if defined(_OPENMP)
  nt = omp_get_max_threads();
  if ((double)N * N < 4e6) nt = 1; /* small: not worth waking threads */
#endif
  PetscCall(PetscMalloc1((size_t)(nt > 1 ? nt - 1 : 1) * N * 4, &acc));
  for (PetscInt v0 = 0; v0 < k; v0 += 4) {
    const PetscInt kc = PetscMin(4, k - v0);
    for (PetscInt v = 0; v < kc; v++) PetscCall(PetscArrayzero(Y + (size_t)(v0 + v) * ldy, N));
#if defined(_OPENMP)
  #pragma omp parallel num_threads(nt)
#endif
    {
      int t = 0;
#if defined(_OPENMP)
      t = omp_get_thread_num();
#endif
      /* thread t takes columns [N sqrt(t/nt), N sqrt((t+1)/nt)): equal areas of the triangle */
      const PetscInt j0 = (PetscInt)(N * sqrt((double)t / nt)), j1 = t == nt - 1 ? N : (PetscInt)(N * sqrt((double)(t + 1) / nt));
      double        *yt[4];
      for (PetscInt v = 0; v < kc; v++) {
        yt[v] = t == 0 ? Y + (size_t)(v0 + v) * ldy : acc + ((size_t)(t - 1) * 4 + v) * N;
        if (t) memset(yt[v], 0, sizeof(double) * (size_t)j1);
      }
      for (PetscInt j = j0; j < j1; j++) {
        const float *c = (const float *)(B + (size_t)j * N);
        for (PetscInt v = 0; v < kc; v++) {
          const double *x = X + (size_t)(v0 + v) * ldx;
          yt[v][j] += ColumnDotAxpy(j, c, x, x[j], yt[v]);
        }
      }
    }
    for (int t = 1; t < nt; t++) { /* thread t touched rows [0, j1(t)) */
      const PetscInt j1 = t == nt - 1 ? N : (PetscInt)(N * sqrt((double)(t + 1) / nt));
      for (PetscInt v = 0; v < kc; v++) {
        double       *y = Y + (size_t)(v0 + v) * ldy;
        const double *a = acc + ((size_t)(t - 1) * 4 + v) * N;
        for (PetscInt i = 0; i < j1; i++) y[i] += a[i];
      }
    }
  }
  PetscCall(PetscFree(acc));
  PetscCall(PetscLogFlops(2.0 * N * (PetscLogDouble)N * k));
  PetscFunctionReturn(0);
}
