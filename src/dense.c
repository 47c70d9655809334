/* dense.c: the small dense kernels the block eigensolvers share (blockeig.c, filter.c). */
#include <string.h>
#if defined(_OPENMP)
  #include <omp.h>
#endif
#include "dense.h"

/* LAPACK dsyevd (divide and conquer): PETSc 3.18's petscblaslapack.h declares syev and syevx only */
extern void dsyevd_(const char *, const char *, const PetscBLASInt *, double *, const PetscBLASInt *, double *, double *, const PetscBLASInt *, PetscBLASInt *, const PetscBLASInt *, PetscBLASInt *);

/* C = alpha op(A) op(B) + beta C (BLAS dgemm), with k <= 0 meaning C <- beta C. */
void KhgpsGemm(const char *ta, const char *tb, PetscInt m, PetscInt n, PetscInt k, PetscScalar alpha, const PetscScalar *A, PetscInt lda, const PetscScalar *B, PetscInt ldb, PetscScalar beta, PetscScalar *C, PetscInt ldc)
{
  PetscBLASInt M = (PetscBLASInt)m, Nn = (PetscBLASInt)n, K = (PetscBLASInt)k, la = (PetscBLASInt)PetscMax(lda, 1), lb = (PetscBLASInt)PetscMax(ldb, 1), lc = (PetscBLASInt)PetscMax(ldc, 1);
  if (m <= 0 || n <= 0) return;
  if (k <= 0) { /* C <- beta C */
    for (PetscInt j = 0; j < n; j++)
      for (PetscInt i = 0; i < m; i++) C[i + (size_t)j * ldc] = beta == 0.0 ? 0.0 : beta * C[i + (size_t)j * ldc];
    return;
  }
  BLASgemm_(ta, tb, &M, &Nn, &K, &alpha, A, &la, B, &lb, &beta, C, &lc);
}

/* KhgpsGemm with the rows of C split among the OpenMP threads, each calling BLAS on its part (for
   one-thread BLAS, so that only the OpenMP threads run: see trsolve.c). */
void KhgpsGemmThreads(const char *ta, const char *tb, PetscInt m, PetscInt n, PetscInt k, PetscScalar alpha, const PetscScalar *A, PetscInt lda, const PetscScalar *B, PetscInt ldb, PetscScalar beta, PetscScalar *C, PetscInt ldc)
{
#if defined(_OPENMP)
  #pragma omp parallel
  {
    const int      t = omp_get_thread_num(), nt = omp_get_num_threads();
    const PetscInt m0 = m * t / nt, m1 = m * (t + 1) / nt;
    KhgpsGemm(ta, tb, m1 - m0, n, k, alpha, A + (ta[0] == 'N' ? (size_t)m0 : (size_t)m0 * lda), lda, B, ldb, beta, C + m0, ldc);
  }
#else
  KhgpsGemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

/* Eigen-decomposition of the symmetric k x k matrix whose lower triangle is in A (leading
   dimension lda): eigenvectors into S (k x k; S may be A when lda = k), eigenvalues ascending
   into w. LAPACK syevd (divide and conquer: the projected matrices reach several hundred). */
PetscErrorCode KhgpsSymEig(PetscInt k, const PetscScalar *A, PetscInt lda, PetscScalar *S, PetscReal *w)
{
  PetscBLASInt n, lw = -1, liw = -1, iwq, *iwork, info;
  PetscScalar  wq, *work;

  PetscFunctionBeginUser;
  PetscCall(PetscBLASIntCast(k, &n));
  if (S != A)
    for (PetscInt j = 0; j < k; j++)
      for (PetscInt i = j; i < k; i++) S[i + (size_t)j * k] = A[i + (size_t)j * lda];
  dsyevd_("V", "L", &n, S, &n, w, &wq, &lw, &iwq, &liw, &info);
  lw  = (PetscBLASInt)wq;
  liw = iwq;
  PetscCall(PetscMalloc2(lw, &work, liw, &iwork));
  PetscCall(PetscFPTrapPush(PETSC_FP_TRAP_OFF));
  dsyevd_("V", "L", &n, S, &n, w, work, &lw, iwork, &liw, &info);
  PetscCall(PetscFPTrapPop());
  PetscCall(PetscFree2(work, iwork));
  PetscCheck(!info, PETSC_COMM_SELF, PETSC_ERR_LIB, "LAPACK syevd: %d", (int)info);
  PetscFunctionReturn(0);
}

/* X[:, 0:p] <- X[:, 0:k] S for the nrows rows of X (leading dimension ldx; S: k x p, leading
   dimension lds), in row chunks, so that the work space is a chunk, not a copy of X. */
PetscErrorCode KhgpsCombineColumns(PetscInt nrows, PetscScalar *X, PetscInt ldx, PetscInt k, const PetscScalar *S, PetscInt lds, PetscInt p)
{
  PetscFunctionBeginUser;
  PetscCall(KhgpsCombineColumnsThreads(nrows, X, ldx, k, S, lds, p, PETSC_FALSE));
  PetscFunctionReturn(0);
}

/* The same, the row chunks on the OpenMP threads if threads (with one-thread BLAS). */
PetscErrorCode KhgpsCombineColumnsThreads(PetscInt nrows, PetscScalar *X, PetscInt ldx, PetscInt k, const PetscScalar *S, PetscInt lds, PetscInt p, PetscBool threads)
{
  const PetscInt chunk = 512;
  PetscScalar   *work;
  int            nt = 1;

  PetscFunctionBeginUser;
#if defined(_OPENMP)
  if (threads) nt = omp_get_max_threads();
#endif
  PetscCall(PetscMalloc1((size_t)chunk * PetscMax(p, 1) * nt, &work));
#if defined(_OPENMP)
  #pragma omp parallel for num_threads(nt) schedule(static)
#endif
  for (PetscInt r0 = 0; r0 < nrows; r0 += chunk) {
    const PetscInt nr = PetscMin(chunk, nrows - r0);
#if defined(_OPENMP)
    PetscScalar *w = work + (size_t)chunk * PetscMax(p, 1) * omp_get_thread_num();
#else
    PetscScalar *w = work;
#endif
    KhgpsGemm("N", "N", nr, p, k, 1.0, X + r0, ldx, S, lds, 0.0, w, nr);
    for (PetscInt j = 0; j < p; j++) memcpy(X + r0 + (size_t)j * ldx, w + (size_t)j * nr, sizeof(PetscScalar) * nr);
  }
  PetscCall(PetscFree(work));
  PetscFunctionReturn(0);
}
