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
   Both kernels ask for the panel's lines ahead of use (_mm_prefetch): the hardware prefetchers do
   not run far enough ahead on 16 streams. Where the processor has AVX-512 (and -khgps_avx512 is
   not 0) and the right-hand sides come in multiples of 8, AVX-512 kernels run: the forward one
   gives the same numbers as the AVX2 one, the backward one sums in another order.
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
#include "khgps_platform.h"
#include "kernels.h"

#define P    16 /* panel width */
#define RMAX 64 /* right-hand sides at most */

#if defined(__x86_64__)
  #define LT     double
  #define LD4(p) _mm256_loadu_pd(p)
  #define LD8(p) _mm512_loadu_pd(p)
  #define K(f)   f
  #include "trsolve_kernels.h"
  #undef LT
  #undef LD4
  #undef LD8
  #undef K
  #define LT     float
  #define LD4(p) _mm256_cvtps_pd(_mm_loadu_ps(p))
  #define LD8(p) _mm512_cvtps_pd(_mm256_loadu_ps(p))
  #define K(f)   f##F32
  #include "trsolve_kernels.h"
  #undef LT
  #undef LD4
  #undef LD8
  #undef K
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

/* Both entry points: the workspace, the solve with the double factor B or the float32 factor F
   (the other NULL), the flop count. */
static PetscErrorCode TriSolveWith(PetscInt N, const double *B, const float *F, PetscInt k, PetscScalar *X, PetscInt ld)
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
    if (B) Solve(N, B, k, X, ld, Y, Cp);
    else SolveF32(N, F, k, X, ld, Y, Cp);
    PetscCall(PetscFree2(Y, Cp));
  }
  PetscCall(PetscLogFlops(2.0 * N * (PetscLogDouble)N * k));
#else
  SETERRQ(PETSC_COMM_SELF, PETSC_ERR_SUP, "no AVX2 triangular solve on this processor");
#endif
  PetscFunctionReturn(0);
}

/* X <- (L L^T)^{-1} X, L the lower triangle of the N x N column-major B, k right-hand sides with
   leading dimension ld (KhgpsTriSolveAvailable(N, k) must hold). */
PetscErrorCode KhgpsTriSolve(PetscInt N, const PetscScalar *B, PetscInt k, PetscScalar *X, PetscInt ld)
{
  PetscFunctionBeginUser;
  PetscCall(TriSolveWith(N, B, NULL, k, X, ld));
  PetscFunctionReturn(0);
}

/* The same with a float32 factor L (lower triangle of the N x N column-major float array F, the
   single-precision packed buffer): L's entries are converted to double as they are read, the
   right-hand sides and all arithmetic stay double (a fixed linear operator, (L L^T)^{-1}, applied
   to double accuracy), and a pass over the factor moves half the bytes. */
PetscErrorCode KhgpsTriSolveF32(PetscInt N, const float *F, PetscInt k, PetscScalar *X, PetscInt ld)
{
  PetscFunctionBeginUser;
  PetscCall(TriSolveWith(N, NULL, F, k, X, ld));
  PetscFunctionReturn(0);
}
