/* packed.c: one realization in one N x N buffer (one rank): J as float32 in the strict upper
   triangle's space (symvf.c), the Hessian and its Cholesky (or LDL^T) factor in the lower
   triangle and on the diagonal, factored in place (J x never reads the diagonal slots). */
#include <string.h>
#include "khgps_log.h"
#include "khgps_model.h"
#include <petscblaslapack.h>
#include "khgps_platform.h"
#include "khgps_result.h"
#include "kernels/kernels.h"

#if defined(PETSC_USE_COMPLEX) || !defined(PETSC_USE_REAL_DOUBLE)
  #error "khgps needs PETSc configured with real double scalars"
#endif

/* LAPACK's single-precision Cholesky: PETSc 3.18's petscblaslapack.h declares the double ones only */
extern void spotrf_(const char *, const PetscBLASInt *, float *, const PetscBLASInt *, PetscBLASInt *);
extern void spotrs_(const char *, const PetscBLASInt *, const PetscBLASInt *, const float *, const PetscBLASInt *, float *, const PetscBLASInt *, PetscBLASInt *);

/* J x from the float32 couplings (symvf.c). */
static PetscErrorCode MatMult_PackedJ(Mat A, Vec X, Vec Y)
{
  KhgpsModel        *m;
  const PetscScalar *x;
  PetscScalar       *y;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(A, &m));
  PetscCall(VecGetArrayRead(X, &x));
  PetscCall(VecGetArrayWrite(Y, &y));
  PetscCall(KhgpsSymvF32(m->N, m->packed.B, m->packed.ldf, 1, x, m->N, y, m->N));
  PetscCall(VecRestoreArrayWrite(Y, &y));
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscFunctionReturn(0);
}

/* M v = J v + d v, d = kappa + A x^2/2 (set by KhgpsFormHessian). */
static PetscErrorCode MatMult_PackedH(Mat A, Vec X, Vec Y)
{
  KhgpsModel *m;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(A, &m));
  PetscCall(MatMult(m->J, X, Y));
  PetscCall(VecPointwiseMult(m->Jx, m->packed.hdiag, X));
  PetscCall(VecAXPY(Y, 1.0, m->Jx));
  PetscFunctionReturn(0);
}

/* C = M X for a dense block X (KhgpsPackedHessianMult): block eigensolvers. */
static PetscErrorCode MatProductNumeric_PackedH(Mat A, Mat X, Mat C, void *ctx)
{
  KhgpsModel        *m;
  const PetscScalar *x, *d;
  PetscScalar       *c;
  PetscInt           k, ldx, ldc;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(A, &m));
  PetscCall(MatGetSize(X, NULL, &k));
  PetscCall(MatDenseGetLDA(X, &ldx));
  PetscCall(MatDenseGetLDA(C, &ldc));
  PetscCall(MatDenseGetArrayRead(X, &x));
  PetscCall(MatDenseGetArrayWrite(C, &c));
  PetscCall(VecGetArrayRead(m->packed.hdiag, &d));
  PetscCall(KhgpsPackedHessianMult(m, d, k, x, ldx, c, ldc));
  PetscCall(VecRestoreArrayRead(m->packed.hdiag, &d));
  PetscCall(MatDenseRestoreArrayWrite(C, &c));
  PetscCall(MatDenseRestoreArrayRead(X, &x));
  PetscFunctionReturn(0);
}

/* Y = M X for k columns: J X from the float32 couplings plus d X. */
PetscErrorCode KhgpsPackedHessianMult(KhgpsModel *m, const PetscScalar *d, PetscInt k, const PetscScalar *x, PetscInt ldx, PetscScalar *y, PetscInt ldy)
{
  PetscFunctionBeginUser;
  PetscCall(KhgpsSymvF32(m->N, m->packed.B, m->packed.ldf, k, x, ldx, y, ldy));
  for (PetscInt j = 0; j < k; j++)
    for (PetscInt i = 0; i < m->N; i++) y[i + (size_t)j * ldy] += d[i] * x[i + (size_t)j * ldx];
  PetscFunctionReturn(0);
}

static PetscErrorCode MatProductSymbolic_PackedH(Mat A, Mat X, Mat C, void **ctx)
{
  PetscFunctionBeginUser;
  PetscCall(MatSetType(C, MATDENSE)); /* sizes are set by MatProduct */
  PetscCall(MatSetUp(C));
  *ctx = NULL;
  PetscFunctionReturn(0);
}

static PetscErrorCode MatGetDiagonal_PackedH(Mat A, Vec d)
{
  KhgpsModel *m;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(A, &m));
  PetscCall(VecCopy(m->packed.hdiag, d));
  PetscFunctionReturn(0);
}

PetscErrorCode KhgpsPackedCreateJ(MPI_Comm comm, KhgpsModel *m)
{
  PetscFunctionBeginUser;
  PetscCall(MatCreateShell(comm, m->N, m->N, m->N, m->N, m, &m->J));
  PetscCall(MatShellSetOperation(m->J, MATOP_MULT, (void (*)(void))MatMult_PackedJ));
  PetscCall(MatShellSetOperation(m->J, MATOP_MULT_TRANSPOSE, (void (*)(void))MatMult_PackedJ));
  PetscFunctionReturn(0);
}

PetscErrorCode KhgpsPackedCreateHessian(KhgpsModel *m, Mat *H)
{
  PetscFunctionBeginUser;
  if (!m->packed.hdiag) PetscCall(VecDuplicate(m->kappa, &m->packed.hdiag));
  PetscCall(MatCreateShell(PetscObjectComm((PetscObject)m->J), m->N, m->N, m->N, m->N, m, H));
  PetscCall(MatShellSetOperation(*H, MATOP_MULT, (void (*)(void))MatMult_PackedH));
  PetscCall(MatShellSetOperation(*H, MATOP_MULT_TRANSPOSE, (void (*)(void))MatMult_PackedH));
  PetscCall(MatShellSetOperation(*H, MATOP_GET_DIAGONAL, (void (*)(void))MatGetDiagonal_PackedH));
  PetscCall(MatShellSetMatProductOperation(*H, MATPRODUCT_AB, MatProductSymbolic_PackedH, MatProductNumeric_PackedH, NULL, MATDENSE, MATDENSE));
  PetscCall(MatSetOption(*H, MAT_SYMMETRIC, PETSC_TRUE));
  PetscCall(PetscObjectSetName((PetscObject)*H, "Hessian"));
  PetscFunctionReturn(0);
}

static PetscErrorCode GetModel(PC pc, KhgpsModel **m)
{
  Mat       A;
  PetscBool isshell;

  PetscFunctionBeginUser;
  PetscCall(PCGetOperators(pc, &A, NULL));
  PetscCall(PetscObjectTypeCompare((PetscObject)A, MATSHELL, &isshell));
  *m = NULL;
  if (isshell) PetscCall(MatShellGetContext(A, m));
  PetscCheck(*m && (*m)->packed.B, PetscObjectComm((PetscObject)pc), PETSC_ERR_ARG_WRONG, "the khgps packed factorization needs -khgps_hessian_mat_type packed");
  PetscFunctionReturn(0);
}

/* The single-precision buffer (m->packed.single: N x N floats F, J_ij = F[i + j N] for i < j) given up for
   the double one (8N^2 bytes, J in column j's first 4j bytes), J copied over: a failed float32
   factorization, an indefinite Hessian (sytrf) or an outer iteration that did not converge. */
PetscErrorCode KhgpsPackedToDouble(KhgpsModel *m)
{
  const PetscInt N = m->N;
  PetscScalar   *Bd;
  const float   *F = (const float *)m->packed.B;

  PetscFunctionBeginUser;
  if (!m->packed.single) PetscFunctionReturn(0);
  PetscCall(PetscMalloc1((size_t)N * N, &Bd));
#if defined(_OPENMP)
  #pragma omp parallel for schedule(dynamic, 64)
#endif
  for (PetscInt j = 1; j < N; j++) {
    KhgpsPopulate(Bd + (size_t)j * N, (size_t)j * sizeof(float));
    memcpy((float *)(Bd + (size_t)j * N), F + (size_t)j * N, (size_t)j * sizeof(float));
  }
  PetscCall(PetscFree(m->packed.B));
  m->packed.B         = Bd;
  m->packed.ldf       = 2 * N;
  m->packed.single    = PETSC_FALSE;
  m->packed.fell_back = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* The float32 Hessian factor of the single-precision buffer: its lower triangle <- J^T from the
   upper (64 x 64 tiles) and the diagonal hdiag rounded to float, then LAPACK spotrf in place. */
static PetscErrorCode FactorSingle(KhgpsModel *m, PetscBLASInt *info)
{
  const PetscInt     N = m->N, T = 64;
  float             *F = (float *)m->packed.B;
  const PetscScalar *d;
  PetscBLASInt       n;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KhgpsLog.factor_f32, 0, 0, 0, 0));
  PetscCall(PetscLogEventBegin(KhgpsLog.factor_f32_fill, 0, 0, 0, 0));
  PetscCall(PetscBLASIntCast(N, &n));
#if defined(_OPENMP)
  #pragma omp parallel for schedule(dynamic, 64)
#endif
  for (PetscInt j = 0; j < N; j++) KhgpsPopulate(F + j + (size_t)j * N, (size_t)(N - j) * sizeof(float));
#if defined(_OPENMP)
  #pragma omp parallel for schedule(dynamic, 1)
#endif
  for (PetscInt jb = 0; jb < N; jb += T)
    for (PetscInt ib = jb; ib < N; ib += T)
      for (PetscInt j = jb; j < PetscMin(jb + T, N); j++)
        for (PetscInt i = PetscMax(ib, j + 1); i < PetscMin(ib + T, N); i++) F[i + (size_t)j * N] = F[j + (size_t)i * N];
  PetscCall(VecGetArrayRead(m->packed.hdiag, &d));
  for (PetscInt i = 0; i < N; i++) F[i + (size_t)i * N] = (float)d[i];
  PetscCall(VecRestoreArrayRead(m->packed.hdiag, &d));
  PetscCall(PetscLogEventEnd(KhgpsLog.factor_f32_fill, 0, 0, 0, 0));
  *info = 0;
  if (m->packed.single_fail) *info = 1; /* -khgps_factor_single_fail: as if spotrf had found a nonpositive pivot */
  else {
    PetscCall(PetscFPTrapPush(PETSC_FP_TRAP_OFF));
    spotrf_("L", &n, F, &n, info);
    PetscCall(PetscFPTrapPop());
  }
  m->packed.factored_spd = PETSC_TRUE;
  PetscCall(PetscLogFlops((PetscLogDouble)N * N * N / 3.0));
  PetscCall(PetscLogEventEnd(KhgpsLog.factor_f32, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* Lower triangle <- Hessian (J from the float32 upper part, in 64 x 64 tiles, plus the diagonal
   hdiag), then potrf (spd) or sytrf in place. *info is
   LAPACK's (> 0: potrf found the matrix not positive definite, or sytrf an exactly singular pivot).
   The single-precision buffer (m->packed.single) is factored by FactorSingle; if that fails, or for sytrf,
   the buffer becomes the double one first (KhgpsPackedToDouble: the fallback). */
PetscErrorCode KhgpsPackedFactor(KhgpsModel *m, PetscBool spd, PetscBLASInt *info)
{
  PetscInt           N = m->N;
  PetscScalar       *B;
  const PetscScalar *d;
  PetscBLASInt       n;
  const PetscInt     T = 64;

  PetscFunctionBeginUser;
  if (m->packed.single && spd) { /* the float32 factor; if it fails, the double buffer and its factor below */
    PetscCall(FactorSingle(m, info));
    if (!*info) PetscFunctionReturn(0);
    PetscCall(PetscInfo(NULL, "float32 Cholesky failed (%d): the double factorization decides\n", (int)*info));
  }
  if (m->packed.single) PetscCall(KhgpsPackedToDouble(m));
  B = m->packed.B;
  PetscCall(PetscLogEventBegin(KhgpsLog.factor, 0, 0, 0, 0));
  PetscCall(PetscLogEventBegin(KhgpsLog.factor_fill, 0, 0, 0, 0));
  *info = 0;
  PetscCall(PetscBLASIntCast(N, &n));
  /* the lower triangle's first touch: populated (KhgpsPopulate) and filled on all threads, not
     page fault by page fault on one (docs/benchmarks.md) */
#if defined(_OPENMP)
  #pragma omp parallel for schedule(dynamic, 64)
#endif
  for (PetscInt j = 0; j < N; j++) KhgpsPopulate(B + j + (size_t)j * N, (size_t)(N - j) * sizeof(PetscScalar));
#if defined(_OPENMP)
  #pragma omp parallel for schedule(dynamic, 1)
#endif
  for (PetscInt jb = 0; jb < N; jb += T)
    for (PetscInt ib = jb; ib < N; ib += T)
      for (PetscInt j = jb; j < PetscMin(jb + T, N); j++)
        for (PetscInt i = PetscMax(ib, j + 1); i < PetscMin(ib + T, N); i++) B[i + (size_t)j * N] = KHGPS_PACKED_J(B, 2 * N, j, i);
  PetscCall(VecGetArrayRead(m->packed.hdiag, &d));
  for (PetscInt i = 0; i < N; i++) B[i + (size_t)i * N] = d[i];
  PetscCall(VecRestoreArrayRead(m->packed.hdiag, &d));
  PetscCall(PetscLogEventEnd(KhgpsLog.factor_fill, 0, 0, 0, 0));
  PetscCall(PetscFPTrapPush(PETSC_FP_TRAP_OFF));
  if (spd) {
    LAPACKpotrf_("L", &n, B, &n, info);
  } else {
    PetscScalar  wq;
    PetscBLASInt lw = -1;
    PetscScalar *work;
    if (!m->packed.ipiv) PetscCall(PetscMalloc1(N, &m->packed.ipiv));
    LAPACKsytrf_("L", &n, B, &n, m->packed.ipiv, &wq, &lw, info);
    lw = (PetscBLASInt)wq;
    PetscCall(PetscMalloc1(lw, &work));
    LAPACKsytrf_("L", &n, B, &n, m->packed.ipiv, work, &lw, info);
    PetscCall(PetscFree(work));
  }
  PetscCall(PetscFPTrapPop());
  m->packed.factored_spd = spd;
  PetscCall(PetscLogFlops((PetscLogDouble)N * N * N / 3.0));
  PetscCall(PetscLogEventEnd(KhgpsLog.factor, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

static PetscErrorCode PCSetUp_Packed(PC pc)
{
  KhgpsModel  *m;
  PetscBLASInt info;

  PetscFunctionBeginUser;
  PetscCall(GetModel(pc, &m));
  PetscCall(KhgpsPackedFactor(m, m->packed.spd, &info));
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_MAT_CH_ZRPVT, "packed Hessian: %s factorization failed at row %d (not positive definite)", m->packed.spd ? "Cholesky" : "LDL^T", (int)info);
  PetscFunctionReturn(0);
}

/* y <- L^{-T} L^{-1} y with the lower triangle of B (unit stride columns), in panels of nb
   columns: a small triangular solve on the diagonal block and one dgemv per panel, so that the two
   passes over the factor run at the (threaded) matrix-vector bandwidth, where LAPACK potrs with
   one right-hand side is several times slower per pass. */
static void CholeskySolveBlocked(PetscInt N, const PetscScalar *B, PetscScalar *y)
{
  const PetscInt nb   = 128;
  const double   mone = -1.0, one = 1.0;
  PetscBLASInt   inc = 1, lb = (PetscBLASInt)N;

  for (PetscInt k0 = 0; k0 < N; k0 += nb) { /* L z = y */
    PetscInt     k1 = PetscMin(k0 + nb, N);
    PetscBLASInt m = (PetscBLASInt)(N - k1), n = (PetscBLASInt)(k1 - k0);
    for (PetscInt j = k0; j < k1; j++) {
      const PetscScalar *c = B + (size_t)j * N;
      y[j] /= c[j];
      for (PetscInt i = j + 1; i < k1; i++) y[i] -= c[i] * y[j];
    }
    if (m) BLASgemv_("N", &m, &n, &mone, B + k1 + (size_t)k0 * N, &lb, y + k0, &inc, &one, y + k1, &inc);
  }
  for (PetscInt k1 = N; k1 > 0; k1 -= nb) { /* L^T x = z */
    PetscInt     k0 = PetscMax(k1 - nb, 0);
    PetscBLASInt m = (PetscBLASInt)(N - k1), n = (PetscBLASInt)(k1 - k0);
    if (m) BLASgemv_("T", &m, &n, &mone, B + k1 + (size_t)k0 * N, &lb, y + k1, &inc, &one, y + k0, &inc);
    for (PetscInt j = k1 - 1; j >= k0; j--) {
      const PetscScalar *c = B + (size_t)j * N;
      PetscScalar        t = y[j];
      for (PetscInt i = j + 1; i < k1; i++) t -= c[i] * y[i];
      y[j] = t / c[j];
    }
  }
}

/* y <- (L L^T)^{-1} y with the float32 factor L of the single-precision buffer: khgps' panel solves
   with L read as floats and double arithmetic (trsolve.c; right-hand sides in groups of up to 16,
   padded with zero columns to a multiple of 4), or with -khgps_packed_trsolve 0 (or no AVX2)
   LAPACK spotrs on a float32 copy of the right-hand sides. */
static PetscErrorCode SolveSingle(KhgpsModel *m, PetscInt k, PetscScalar *y, PetscInt ld)
{
  const PetscInt N = m->N;
  const float   *F = (const float *)m->packed.B;

  PetscFunctionBeginUser;
  if (m->sw.trsolve && KhgpsTriSolveAvailable(N, 4)) {
    PetscScalar *w = NULL;
    for (PetscInt c0 = 0; c0 < k; c0 += 16) {
      const PetscInt kc = PetscMin(16, k - c0), kp = (kc + 3) / 4 * 4;
      if (kp == kc) PetscCall(KhgpsTriSolveF32(N, F, kc, y + (size_t)c0 * ld, ld));
      else {
        if (!w) PetscCall(PetscMalloc1((size_t)N * 16, &w));
        PetscCall(PetscArrayzero(w, (size_t)N * kp));
        for (PetscInt c = 0; c < kc; c++) PetscCall(PetscArraycpy(w + (size_t)c * N, y + (size_t)(c0 + c) * ld, N));
        PetscCall(KhgpsTriSolveF32(N, F, kp, w, N));
        for (PetscInt c = 0; c < kc; c++) PetscCall(PetscArraycpy(y + (size_t)(c0 + c) * ld, w + (size_t)c * N, N));
      }
    }
    PetscCall(PetscFree(w));
  } else {
    float       *w;
    PetscBLASInt n, nk, info = 0;
    PetscCall(PetscBLASIntCast(N, &n));
    PetscCall(PetscBLASIntCast(k, &nk));
    PetscCall(PetscMalloc1((size_t)N * k, &w));
    for (PetscInt c = 0; c < k; c++)
      for (PetscInt i = 0; i < N; i++) w[i + (size_t)c * N] = (float)y[i + (size_t)c * ld];
    spotrs_("L", &n, &nk, F, &n, w, &n, &info);
    PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "packed Hessian: LAPACK spotrs failed (%d)", (int)info);
    for (PetscInt c = 0; c < k; c++)
      for (PetscInt i = 0; i < N; i++) y[i + (size_t)c * ld] = w[i + (size_t)c * N];
    PetscCall(PetscFree(w));
    PetscCall(PetscLogFlops(2.0 * N * (PetscLogDouble)N * k));
  }
  PetscFunctionReturn(0);
}

/* y <- M^{-1} y to double accuracy with the float32 factor (the PC's solves: Newton steps with
   -khgps_newton_factor, SLEPc's shift-invert with -khgps_eigensolver slepc): iterative refinement,
   z <- z + (L L^T)^{-1} (y - M z), until the correction stops shrinking or is below 1e-15 |z|. */
static PetscErrorCode SolveRefined(KhgpsModel *m, PetscInt k, PetscScalar *y, PetscInt ld)
{
  const PetscInt     N = m->N;
  PetscScalar       *b, *r;
  const PetscScalar *d;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2((size_t)N * k, &b, (size_t)N * k, &r));
  for (PetscInt c = 0; c < k; c++) PetscCall(PetscArraycpy(b + (size_t)c * N, y + (size_t)c * ld, N));
  PetscCall(SolveSingle(m, k, y, ld));
  PetscCall(VecGetArrayRead(m->packed.hdiag, &d));
  PetscReal last = PETSC_MAX_REAL;
  for (PetscInt it = 0; it < 30; it++) {
    PetscReal cn = 0, zn = 0;
    PetscCall(KhgpsPackedHessianMult(m, d, k, y, ld, r, N));
    for (size_t i = 0; i < (size_t)N * k; i++) r[i] = b[i] - r[i];
    PetscCall(SolveSingle(m, k, r, N));
    for (PetscInt c = 0; c < k; c++)
      for (PetscInt i = 0; i < N; i++) {
        PetscScalar *z = y + i + (size_t)c * ld;
        cn             = PetscMax(cn, PetscAbsScalar(r[i + (size_t)c * N]));
        *z += r[i + (size_t)c * N];
        zn = PetscMax(zn, PetscAbsScalar(*z));
      }
    if (cn <= 1e-15 * zn || cn >= 0.5 * last) break;
    last = cn;
  }
  PetscCall(VecRestoreArrayRead(m->packed.hdiag, &d));
  PetscCall(PetscFree2(b, r));
  PetscFunctionReturn(0);
}

/* y <- M^{-1} y for k right-hand sides (leading dimension ld): one right-hand side of a Cholesky
   factor by the panel solve; blocks, an LDL^T factor (or -khgps_packed_lapack_solve) by LAPACK
   potrs or sytrs. */
PetscErrorCode KhgpsPackedSolve(KhgpsModel *m, PetscInt k, PetscScalar *y, PetscInt ld)
{
  PetscInt     N = m->N;
  PetscBLASInt n, nk, ly, info = 0;

  PetscFunctionBeginUser;
  if (m->packed.single) {
    PetscCall(SolveSingle(m, k, y, ld));
    PetscFunctionReturn(0);
  }
  if (k == 1 && m->packed.factored_spd && !m->sw.lapack_solve) { /* one vector: the blocked solve; blocks: potrs or trsolve.c (docs/benchmarks.md) */
    CholeskySolveBlocked(N, m->packed.B, y);
    PetscFunctionReturn(0);
  }
  if (k > 1 && m->packed.factored_spd && m->sw.trsolve && KhgpsTriSolveAvailable(N, k)) { /* blocks: trsolve.c (-khgps_packed_trsolve 0: potrs) */
    PetscCall(KhgpsTriSolve(N, m->packed.B, k, y, ld));
    PetscFunctionReturn(0);
  }
  PetscCall(PetscBLASIntCast(N, &n));
  PetscCall(PetscBLASIntCast(k, &nk));
  PetscCall(PetscBLASIntCast(ld, &ly));
  if (m->packed.factored_spd) LAPACKpotrs_("L", &n, &nk, m->packed.B, &n, y, &ly, &info);
  else LAPACKsytrs_("L", &n, &nk, m->packed.B, &n, m->packed.ipiv, y, &ly, &info);
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "packed Hessian: LAPACK solve failed (%d)", (int)info);
  PetscFunctionReturn(0);
}

/* y = M^{-1} x with the in-place factor. */
static PetscErrorCode PCApply_Packed(PC pc, Vec X, Vec Y)
{
  KhgpsModel  *m;
  PetscInt     N;
  PetscScalar *y;

  PetscFunctionBeginUser;
  PetscCall(GetModel(pc, &m));
  N = m->N;
  PetscCall(VecCopy(X, Y));
  PetscCall(VecGetArray(Y, &y));
  if (m->packed.single) PetscCall(SolveRefined(m, 1, y, N));
  else PetscCall(KhgpsPackedSolve(m, 1, y, N));
  PetscCall(VecRestoreArray(Y, &y));
  PetscCall(PetscLogFlops(2.0 * N * (PetscLogDouble)N));
  PetscFunctionReturn(0);
}

/* Y = M^{-1} X for a dense block, all columns at once (KhgpsPackedSolve: the own block solves of
   trsolve.c, or LAPACK potrs/sytrs with many right-hand sides; the float32 factor refined). */
static PetscErrorCode PCMatApply_Packed(PC pc, Mat X, Mat Y)
{
  KhgpsModel  *m;
  PetscInt     N, k, ld;
  PetscScalar *y;

  PetscFunctionBeginUser;
  PetscCall(GetModel(pc, &m));
  N = m->N;
  PetscCall(MatCopy(X, Y, SAME_NONZERO_PATTERN));
  PetscCall(MatGetSize(Y, NULL, &k));
  PetscCall(MatDenseGetLDA(Y, &ld));
  PetscCall(MatDenseGetArray(Y, &y));
  if (m->packed.single) PetscCall(SolveRefined(m, k, y, ld));
  else PetscCall(KhgpsPackedSolve(m, k, y, ld));
  PetscCall(MatDenseRestoreArray(Y, &y));
  PetscCall(PetscLogFlops(2.0 * N * (PetscLogDouble)N * k));
  PetscFunctionReturn(0);
}

/* Make pc the in-place factorization of the packed Hessian (before *SetFromOptions, so that
   -st_pc_type / -khgps_newton_pc_type still choose otherwise). */
PetscErrorCode KhgpsPackedSetPC(PC pc)
{
  PetscFunctionBeginUser;
  PetscCall(PCSetType(pc, PCSHELL));
  PetscCall(PCShellSetSetUp(pc, PCSetUp_Packed));
  PetscCall(PCShellSetApply(pc, PCApply_Packed));
  PetscCall(PCShellSetMatApply(pc, PCMatApply_Packed));
  PetscCall(PCShellSetName(pc, "khgps packed in-place Cholesky"));
  PetscFunctionReturn(0);
}

/* The packed Hessian H: the in-place factorization reads potrf (spd) or sytrf from the model; a
   change is a new operator state (so call it before EPSSetOperators, which records the state).
   Any other Mat: nothing to do. */
PetscErrorCode KhgpsPackedSetSPD(Mat H, PetscBool spd)
{
  KhgpsModel *m;
  PetscBool   isshell;

  PetscFunctionBeginUser;
  PetscCall(PetscObjectTypeCompare((PetscObject)H, MATSHELL, &isshell));
  if (!isshell) PetscFunctionReturn(0);
  PetscCall(MatShellGetContext(H, &m));
  if (m->packed.spd != spd) {
    m->packed.spd = spd;
    PetscCall(MatAssemblyBegin(H, MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(H, MAT_FINAL_ASSEMBLY));
  }
  PetscFunctionReturn(0);
}

/* The precision the packed storage holds now: KHGPS_FACTOR_SINGLE (the float32 buffer),
   KHGPS_FACTOR_FALLBACK (single given up for the double buffer) or KHGPS_FACTOR_DOUBLE (also for
   every other storage). */
PetscInt KhgpsPackedPrecision(const KhgpsModel *m)
{
  return m->packed.fell_back ? KHGPS_FACTOR_FALLBACK : m->packed.single ? KHGPS_FACTOR_SINGLE : KHGPS_FACTOR_DOUBLE;
}

/* The diagonal kappa + A x^2/2 of the packed Hessian at the last KhgpsFormHessian. */
Vec KhgpsPackedHessianDiagonal(const KhgpsModel *m)
{
  return m->packed.hdiag;
}

/* Whether blocks of k right-hand sides are solved by khgps' own kernels (trsolve.c) on the OpenMP
   threads, rather than by LAPACK potrs with the BLAS threads. */
PetscBool KhgpsPackedOwnSolves(const KhgpsModel *m, PetscInt k)
{
  return (PetscBool)(m->sw.trsolve && KhgpsTriSolveAvailable(m->N, k));
}

/* J of the packed buffer as a full N x N row-major array a (zero diagonal). */
void KhgpsPackedCopyCouplings(const KhgpsModel *m, PetscReal *a)
{
  const PetscInt n = m->N;

  for (PetscInt i = 0; i < n; i++)
    for (PetscInt j = 0; j < n; j++) a[(size_t)i * n + j] = i < j ? KHGPS_PACKED_J(m->packed.B, m->packed.ldf, i, j) : (i > j ? KHGPS_PACKED_J(m->packed.B, m->packed.ldf, j, i) : 0.0);
}
