/* trsolve.c: M^{-1} Y for a block of right-hand sides with the packed Cholesky factor L (lower
   triangle of the N x N buffer, column-major), M = L L^T, on all OpenMP threads.

   LAPACK potrs does the two triangular solves by trsm, which OpenBLAS runs at about a third of
   the machine's limits for 16 right-hand sides: it packs panels of L before using them, for just
   16 columns of work. Here L is read in place, in panels of P = 16 columns, so that at any time 16
   sequential streams are read (which the hardware prefetchers follow and the TLB holds):
   - forward, L Y = X: per panel a small triangular solve on its diagonal block (one thread), then
     the rows below are updated, X_i -= L_i,panel Y_panel, the rows split among the threads; the
     kernel keeps 8 rows x 4 right-hand sides in registers and streams the panel's 16 columns;
   - backward, L^T Z = Y: per panel (last first) the products L_below,panel^T Z_below are summed by
     the threads over their rows (16 x 16 dot products, 4 rows per vector lane), added in a fixed
     order, and the diagonal block's transposed solve finishes the panel.
   Each entry of L feeds 2 nrhs flops from registers. The forward pass gives the same numbers on
   any number of threads; the backward pass sums its dot products per thread, so across thread
   counts the results agree to rounding (the minimization, which must not depend on threads, never
   uses these solves). */
#include <string.h>
#if defined(__x86_64__)
  #include <immintrin.h>
#endif
#if defined(_OPENMP)
  #include <omp.h>
#endif
#include "khgps.h"

#define P    16 /* panel width */
#define RMAX 64 /* right-hand sides at most */

#if defined(__x86_64__)
/* X[i, r] -= sum_c Lp[c N + i] Y[c R + r] for rows i in [i0, i1) (X[i, r] at X[r ld + i]). */
__attribute__((target("avx2,fma"))) static void FwdUpdate(PetscInt i0, PetscInt i1, const double *Lp, PetscInt N, PetscInt R, const double *Y, double *X, PetscInt ld)
{
  PetscInt i = i0;
  for (; i + 8 <= i1; i += 8) {
    for (PetscInt q = 0; q < R; q += 4) {
      double *x0 = X + (q + 0) * ld + i, *x1 = X + (q + 1) * ld + i, *x2 = X + (q + 2) * ld + i, *x3 = X + (q + 3) * ld + i;
      __m256d a00 = _mm256_loadu_pd(x0), a01 = _mm256_loadu_pd(x0 + 4), a10 = _mm256_loadu_pd(x1), a11 = _mm256_loadu_pd(x1 + 4);
      __m256d a20 = _mm256_loadu_pd(x2), a21 = _mm256_loadu_pd(x2 + 4), a30 = _mm256_loadu_pd(x3), a31 = _mm256_loadu_pd(x3 + 4);
      for (int c = 0; c < P; c++) {
        const __m256d l0 = _mm256_loadu_pd(Lp + (size_t)c * N + i), l1 = _mm256_loadu_pd(Lp + (size_t)c * N + i + 4);
        const double *y = Y + c * R + q;
        __m256d       b;
        b   = _mm256_broadcast_sd(y + 0);
        a00 = _mm256_fnmadd_pd(l0, b, a00);
        a01 = _mm256_fnmadd_pd(l1, b, a01);
        b   = _mm256_broadcast_sd(y + 1);
        a10 = _mm256_fnmadd_pd(l0, b, a10);
        a11 = _mm256_fnmadd_pd(l1, b, a11);
        b   = _mm256_broadcast_sd(y + 2);
        a20 = _mm256_fnmadd_pd(l0, b, a20);
        a21 = _mm256_fnmadd_pd(l1, b, a21);
        b   = _mm256_broadcast_sd(y + 3);
        a30 = _mm256_fnmadd_pd(l0, b, a30);
        a31 = _mm256_fnmadd_pd(l1, b, a31);
      }
      _mm256_storeu_pd(x0, a00);
      _mm256_storeu_pd(x0 + 4, a01);
      _mm256_storeu_pd(x1, a10);
      _mm256_storeu_pd(x1 + 4, a11);
      _mm256_storeu_pd(x2, a20);
      _mm256_storeu_pd(x2 + 4, a21);
      _mm256_storeu_pd(x3, a30);
      _mm256_storeu_pd(x3 + 4, a31);
    }
  }
  for (; i < i1; i++)
    for (PetscInt r = 0; r < R; r++) {
      double s = X[r * ld + i];
      for (int c = 0; c < P; c++) s -= Lp[(size_t)c * N + i] * Y[c * R + r];
      X[r * ld + i] = s;
    }
}

/* C[c R + r] += sum_{i in [i0, i1)} Lp[c N + i] X[r ld + i], in blocks of 32 rows (the block's 16
   columns of L and R of X stay in L1 while all (column pair, 4 right-hand sides) pairs use them). */
__attribute__((target("avx2,fma"))) static void BwdDot(PetscInt i0, PetscInt i1, const double *Lp, PetscInt N, PetscInt R, const double *X, PetscInt ld, double *C)
{
  enum { RB = 32 }; /* 32 rows: 22 ms for the backward pass at N = 8000, 16 right-hand sides, against 31 ms with 64 and 36 ms with 40 */
  __m256d        acc[P / 2][RMAX / 4][8];
  const PetscInt iv = i0 + ((i1 - i0) / 4) * 4;

  for (int cp = 0; cp < P / 2; cp++)
    for (PetscInt q = 0; q < R / 4; q++)
      for (int t = 0; t < 8; t++) acc[cp][q][t] = _mm256_setzero_pd();
  for (PetscInt b0 = i0; b0 < iv; b0 += RB) {
    const PetscInt b1 = PetscMin(b0 + RB, iv);
    for (int cp = 0; cp < P / 2; cp++) {
      const double *l0p = Lp + (size_t)(2 * cp) * N, *l1p = Lp + (size_t)(2 * cp + 1) * N;
      for (PetscInt q = 0; q < R / 4; q++) {
        __m256d      *A  = acc[cp][q];
        __m256d       s0 = A[0], s1 = A[1], s2 = A[2], s3 = A[3], s4 = A[4], s5 = A[5], s6 = A[6], s7 = A[7];
        const double *z0 = X + (4 * q + 0) * ld, *z1 = X + (4 * q + 1) * ld, *z2 = X + (4 * q + 2) * ld, *z3 = X + (4 * q + 3) * ld;
        for (PetscInt k = b0; k < b1; k += 4) {
          const __m256d l0 = _mm256_loadu_pd(l0p + k), l1 = _mm256_loadu_pd(l1p + k);
          const __m256d x0 = _mm256_loadu_pd(z0 + k), x1 = _mm256_loadu_pd(z1 + k), x2 = _mm256_loadu_pd(z2 + k), x3 = _mm256_loadu_pd(z3 + k);
          s0 = _mm256_fmadd_pd(l0, x0, s0);
          s1 = _mm256_fmadd_pd(l0, x1, s1);
          s2 = _mm256_fmadd_pd(l0, x2, s2);
          s3 = _mm256_fmadd_pd(l0, x3, s3);
          s4 = _mm256_fmadd_pd(l1, x0, s4);
          s5 = _mm256_fmadd_pd(l1, x1, s5);
          s6 = _mm256_fmadd_pd(l1, x2, s6);
          s7 = _mm256_fmadd_pd(l1, x3, s7);
        }
        A[0] = s0;
        A[1] = s1;
        A[2] = s2;
        A[3] = s3;
        A[4] = s4;
        A[5] = s5;
        A[6] = s6;
        A[7] = s7;
      }
    }
  }
  for (int cp = 0; cp < P / 2; cp++)
    for (PetscInt q = 0; q < R / 4; q++)
      for (int t = 0; t < 8; t++) {
        double v[4];
        _mm256_storeu_pd(v, acc[cp][q][t]);
        C[(2 * cp + t / 4) * R + 4 * q + t % 4] += (v[0] + v[1]) + (v[2] + v[3]);
      }
  for (PetscInt i = iv; i < i1; i++)
    for (int c = 0; c < P; c++)
      for (PetscInt r = 0; r < R; r++) C[c * R + r] += Lp[(size_t)c * N + i] * X[r * ld + i];
}

/* The rows [a, b) of [r0, N) that thread t of nt updates (multiples of 8 but the last). */
static void Rows(PetscInt r0, PetscInt N, int t, int nt, PetscInt *a, PetscInt *b)
{
  const PetscInt chunk = ((N - r0) / nt + 7) / 8 * 8;
  *a = PetscMin(r0 + t * chunk, N);
  *b = t == nt - 1 ? N : PetscMin(*a + chunk, N);
}

static void Solve(PetscInt N, const double *L, PetscInt R, double *X, PetscInt ld, double *Y, double *Cp)
{
  const PetscInt np = (N + P - 1) / P;

  #pragma omp parallel
  {
  #if defined(_OPENMP)
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
  #else
    const int t = 0, nt = 1;
  #endif
    for (PetscInt J = 0; J < np; J++) { /* L Y = X */
      const PetscInt j0 = J * P, jb = PetscMin(P, N - j0);
      PetscInt       a, b;
  #pragma omp single
      {
        for (PetscInt c = 0; c < jb; c++) {
          const double *l = L + (size_t)(j0 + c) * N;
          for (PetscInt r = 0; r < R; r++) {
            double *x = X + r * ld;
            x[j0 + c] /= l[j0 + c];
            for (PetscInt i = c + 1; i < jb; i++) x[j0 + i] -= l[j0 + i] * x[j0 + c];
          }
        }
        for (PetscInt c = 0; c < jb; c++) /* a partial (last) panel has no rows below to update */
          for (PetscInt r = 0; r < R; r++) Y[c * R + r] = X[r * ld + j0 + c];
      } /* the single's barrier */
      Rows(j0 + jb, N, t, nt, &a, &b);
      if (a < b) FwdUpdate(a, b, L + (size_t)j0 * N, N, R, Y, X, ld); /* a last partial panel leaves no rows below */
  #pragma omp barrier
    }
    for (PetscInt J = np - 1; J >= 0; J--) { /* L^T Z = Y */
      const PetscInt j0 = J * P, jb = PetscMin(P, N - j0);
      double        *C = Cp + (size_t)t * P * R;
      PetscInt       a, b;
      memset(C, 0, sizeof(double) * P * R);
      Rows(j0 + jb, N, t, nt, &a, &b);
      if (a < b) BwdDot(a, b, L + (size_t)j0 * N, N, R, X, ld, C);
  #pragma omp barrier
  #pragma omp single
      {
        for (PetscInt c = 0; c < jb; c++)
          for (PetscInt r = 0; r < R; r++) {
            double s = 0;
            for (int u = 0; u < nt; u++) s += Cp[(size_t)u * P * R + c * R + r];
            X[r * ld + j0 + c] -= s;
          }
        for (PetscInt c = jb - 1; c >= 0; c--) {
          const double *l = L + (size_t)(j0 + c) * N;
          for (PetscInt r = 0; r < R; r++) {
            double *x = X + r * ld, s = x[j0 + c];
            for (PetscInt i = c + 1; i < jb; i++) s -= l[j0 + i] * x[j0 + i];
            x[j0 + c] = s / l[j0 + c];
          }
        }
      } /* the single's barrier */
    }
  }
}
#endif

/* Whether KhgpsTriSolve takes k right-hand sides on this processor. */
PetscBool KhgpsTriSolveAvailable(PetscInt N, PetscInt k)
{
#if defined(__x86_64__)
  __builtin_cpu_init();
  return (PetscBool)(k > 0 && k % 4 == 0 && k <= RMAX && N >= 2 * P && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
#else
  return PETSC_FALSE;
#endif
}

/* X <- (L L^T)^{-1} X, L the lower triangle of the N x N column-major B, k right-hand sides with
   leading dimension ld (KhgpsTriSolveAvailable(N, k) must hold). */
PetscErrorCode KhgpsTriSolve(PetscInt N, const PetscScalar *B, PetscInt k, PetscScalar *X, PetscInt ld)
{
  PetscFunctionBeginUser;
#if defined(__x86_64__)
  {
    double *Y, *Cp;
    int     nt = 1;
  #if defined(_OPENMP)
    nt = omp_get_max_threads();
  #endif
    PetscCall(PetscMalloc2(P * k, &Y, (size_t)nt * P * k, &Cp));
    Solve(N, B, k, X, ld, Y, Cp);
    PetscCall(PetscFree2(Y, Cp));
  }
  PetscCall(PetscLogFlops(2.0 * N * (PetscLogDouble)N * k));
#else
  SETERRQ(PETSC_COMM_SELF, PETSC_ERR_SUP, "no AVX2 triangular solve on this processor");
#endif
  PetscFunctionReturn(0);
}
