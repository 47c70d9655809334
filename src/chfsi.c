/* chfsi.c: the lowest eigenpairs of a distributed sparse Hessian by Chebyshev-filtered subspace
   iteration (ChFSI: Zhou, Saad, Tiago, Chelikowsky 2006; Zhou 2014), -khgps_eigensolver chfsi.

   A block of k = nev + guard columns is filtered by a scaled Chebyshev polynomial of degree d
   that damps [a, b] (b an upper bound of the spectrum, a the largest Ritz value of the block)
   and amplifies what lies below a; then it is orthonormalized (against the locked columns and by
   Cholesky QR, twice), and a Rayleigh-Ritz step with M gives Ritz pairs, whose leading pairs with
   ||M v - theta v|| <= tol |theta| are locked (no longer filtered). Every product with M is a
   sparse-times-dense product on a chunk of columns (MatMatMult), which reads the matrix once per
   chunk, where a Krylov method multiplies one vector at a time and orthogonalizes every new
   vector against its whole basis. The local part of the block is a plain column-major array;
   Gram matrices are BLAS products summed over the ranks, and the small dense problems are solved
   identically on every rank (LAPACK). */
#pragma GCC optimize("O3")
#include <petscsf.h>
#include "khgps_options.h"
#include "khgps_rng.h"
#include "khgps_log.h"
#include "khgps_result.h"
#include "khgps_solvers.h"
#include "khgps_kernels.h"

enum { STREAM_CHFSI = 5 };


/* The products M X on chunks of w columns, in khgps' own kernel: the chunk is kept row-major
   (row i's w entries side by side), so that each nonzero of M gathers w contiguous numbers, the
   matrix is read once per chunk, and a Chebyshev step (scaling, shift, the previous iterate) is
   fused into the same pass. Rows of other ranks (the off-diagonal block's columns) come by one
   PetscSF broadcast of whole rows per product. */
typedef struct {
  Mat                Ad, Ao;           /* local diagonal and off-diagonal blocks (Ao NULL on one rank) */
  const PetscInt    *ia, *ja, *ib, *jb; /* their CSR structure */
  const PetscScalar *aa, *ab;           /* their values */
  PetscInt           nloc, nghost, w;   /* local rows, ghost rows, width of the SF unit */
  PetscSF            sf;                /* local rows -> ghost rows */
  MPI_Datatype       unit;              /* w scalars */
  PetscScalar       *ghost;             /* nghost x w, row-major */
  MPI_Comm           sfcomm;            /* the Hessian's communicator */
} SpMM;

static PetscErrorCode SpMMCreate(Mat M, PetscInt wmax, SpMM *op)
{
  PetscBool      ismpi, done;
  PetscInt       n;
  const PetscInt *colmap;

  PetscFunctionBeginUser;
  PetscCall(PetscObjectTypeCompare((PetscObject)M, MATMPIAIJ, &ismpi));
  PetscCall(MatGetLocalSize(M, &op->nloc, NULL));
  op->sfcomm = PetscObjectComm((PetscObject)M);
  if (ismpi) {
    PetscLayout rmap;
    PetscCall(MatMPIAIJGetSeqAIJ(M, &op->Ad, &op->Ao, &colmap));
    PetscCall(MatGetSize(op->Ao, NULL, &op->nghost));
    PetscCall(MatGetLayouts(M, &rmap, NULL));
    PetscCall(PetscSFCreate(PetscObjectComm((PetscObject)M), &op->sf));
    PetscCall(PetscSFSetGraphLayout(op->sf, rmap, op->nghost, NULL, PETSC_OWN_POINTER, colmap));
    PetscCall(PetscSFSetUp(op->sf));
    PetscCall(MatGetRowIJ(op->Ao, 0, PETSC_FALSE, PETSC_FALSE, &n, &op->ib, &op->jb, &done));
    PetscCheck(done, PETSC_COMM_SELF, PETSC_ERR_SUP, "chfsi: no CSR access to the off-diagonal block");
    PetscCall(MatSeqAIJGetArrayRead(op->Ao, &op->ab));
    PetscCall(PetscMalloc1((size_t)op->nghost * wmax, &op->ghost));
  } else {
    PetscBool isseq;
    PetscCall(PetscObjectTypeCompare((PetscObject)M, MATSEQAIJ, &isseq));
    PetscCheck(isseq, PETSC_COMM_SELF, PETSC_ERR_SUP, "chfsi: the Hessian must be aij");
    op->Ad = M;
  }
  PetscCall(MatGetRowIJ(op->Ad, 0, PETSC_FALSE, PETSC_FALSE, &n, &op->ia, &op->ja, &done));
  PetscCheck(done, PETSC_COMM_SELF, PETSC_ERR_SUP, "chfsi: no CSR access to the diagonal block");
  PetscCall(MatSeqAIJGetArrayRead(op->Ad, &op->aa));
  PetscFunctionReturn(0);
}

static PetscErrorCode SpMMDestroy(SpMM *op)
{
  PetscBool done;
  PetscInt  n;

  PetscFunctionBeginUser;
  PetscCall(MatSeqAIJRestoreArrayRead(op->Ad, &op->aa));
  PetscCall(MatRestoreRowIJ(op->Ad, 0, PETSC_FALSE, PETSC_FALSE, &n, &op->ia, &op->ja, &done));
  if (op->Ao) {
    PetscCall(MatSeqAIJRestoreArrayRead(op->Ao, &op->ab));
    PetscCall(MatRestoreRowIJ(op->Ao, 0, PETSC_FALSE, PETSC_FALSE, &n, &op->ib, &op->jb, &done));
    PetscCall(PetscSFDestroy(&op->sf));
    PetscCall(PetscFree(op->ghost));
  }
  if (op->w) PetscCallMPI(MPI_Type_free(&op->unit));
  PetscFunctionReturn(0);
}

/* Y <- al (M X - c X) - be Y (be = 0: Y is not read), row-major blocks of W columns, W a
   compile-time constant so that the accumulators live in registers. */
#define KHGPS_PF 16
#define KHGPS_KERNEL(W) \
  static void Kernel##W(PetscInt nloc, const PetscInt *restrict ia, const PetscInt *restrict ja, const PetscScalar *restrict aa, const PetscInt *restrict ib, const PetscInt *restrict jb, const PetscScalar *restrict ab, const PetscScalar *restrict G, const PetscScalar *restrict X, PetscReal al, PetscReal c, PetscReal be, PetscScalar *restrict Y) \
  { \
    const PetscInt na = ia[nloc], nb = ib ? ib[nloc] : 0; \
    for (PetscInt i = 0; i < nloc; i++) { \
      PetscScalar acc[W]; \
      for (int q = 0; q < W; q++) acc[q] = 0; \
      for (PetscInt k = ia[i]; k < ia[i + 1]; k++) { \
        const PetscScalar a = aa[k], *restrict x = X + (size_t)ja[k] * W; \
        __builtin_prefetch(X + (size_t)ja[k + KHGPS_PF < na ? k + KHGPS_PF : na - 1] * W); /* ahead: the gathers are latency bound */ \
        for (int q = 0; q < W; q++) acc[q] += a * x[q]; \
      } \
      if (ib) \
        for (PetscInt k = ib[i]; k < ib[i + 1]; k++) { \
          const PetscScalar a = ab[k], *restrict x = G + (size_t)jb[k] * W; \
          __builtin_prefetch(G + (size_t)jb[k + KHGPS_PF < nb ? k + KHGPS_PF : nb - 1] * W); \
          for (int q = 0; q < W; q++) acc[q] += a * x[q]; \
        } \
      if (be == 0) \
        for (int q = 0; q < W; q++) Y[(size_t)i * W + q] = al * (acc[q] - c * X[(size_t)i * W + q]); \
      else \
        for (int q = 0; q < W; q++) Y[(size_t)i * W + q] = al * (acc[q] - c * X[(size_t)i * W + q]) - be * Y[(size_t)i * W + q]; \
    } \
  }
KHGPS_KERNEL(1)
KHGPS_KERNEL(2)
KHGPS_KERNEL(3)
KHGPS_KERNEL(4)
KHGPS_KERNEL(6)
KHGPS_KERNEL(8)
KHGPS_KERNEL(12)
KHGPS_KERNEL(16)
KHGPS_KERNEL(24)
KHGPS_KERNEL(32)

/* Any width: in pieces of the compiled widths (X and Y are then read and written with stride w). */
static void KhgpsChfsiKernel(const SpMM *op, PetscInt w, const PetscScalar *X, PetscReal al, PetscReal c, PetscReal be, PetscScalar *Y)
{
  switch (w) {
#define KCASE(W) \
  case W: Kernel##W(op->nloc, op->ia, op->ja, op->aa, op->ib, op->jb, op->ab, op->ghost, X, al, c, be, Y); break;
    KCASE(1) KCASE(2) KCASE(3) KCASE(4) KCASE(6) KCASE(8) KCASE(12) KCASE(16) KCASE(24) KCASE(32)
#undef KCASE
  default: /* general width: plain loops */
    for (PetscInt i = 0; i < op->nloc; i++) {
      PetscScalar acc[64];
      for (PetscInt q = 0; q < w; q++) acc[q] = 0;
      for (PetscInt k = op->ia[i]; k < op->ia[i + 1]; k++)
        for (PetscInt q = 0; q < w; q++) acc[q] += op->aa[k] * X[(size_t)op->ja[k] * w + q];
      if (op->ib)
        for (PetscInt k = op->ib[i]; k < op->ib[i + 1]; k++)
          for (PetscInt q = 0; q < w; q++) acc[q] += op->ab[k] * op->ghost[(size_t)op->jb[k] * w + q];
      for (PetscInt q = 0; q < w; q++) Y[(size_t)i * w + q] = al * (acc[q] - c * X[(size_t)i * w + q]) - (be == 0 ? 0.0 : be * Y[(size_t)i * w + q]);
    }
  }
}

/* Y <- al (M X - c X) - be Y for a row-major chunk X of w columns (w <= 64). */
static PetscErrorCode SpMMApply(SpMM *op, PetscInt w, const PetscScalar *X, PetscReal al, PetscReal c, PetscReal be, PetscScalar *Y)
{
  PetscFunctionBeginUser;
  if (op->sf) {
    if (w != op->w) {
      if (op->w) PetscCallMPI(MPI_Type_free(&op->unit));
      PetscCallMPI(MPI_Type_contiguous((PetscMPIInt)w, MPIU_SCALAR, &op->unit));
      PetscCallMPI(MPI_Type_commit(&op->unit));
      op->w = w;
    }
    PetscCall(PetscSFBcastBegin(op->sf, op->unit, X, op->ghost, MPI_REPLACE));
    PetscCall(PetscSFBcastEnd(op->sf, op->unit, X, op->ghost, MPI_REPLACE));
  }
  KhgpsChfsiKernel(op, w, X, al, c, be, Y);
  PetscCall(PetscLogFlops(2.0 * w * (op->ia[op->nloc] + (op->ib ? op->ib[op->nloc] : 0))));
  PetscFunctionReturn(0);
}

/* Row-major chunk R (nloc x w) <-> columns of a column-major array C (leading dimension nloc). */
static void ToRows(PetscInt nloc, PetscInt w, const PetscScalar *C, PetscScalar *R)
{
  for (PetscInt i = 0; i < nloc; i++)
    for (PetscInt q = 0; q < w; q++) R[(size_t)i * w + q] = C[i + (size_t)q * nloc];
}

static void ToColumns(PetscInt nloc, PetscInt w, const PetscScalar *R, PetscScalar *C)
{
  for (PetscInt q = 0; q < w; q++)
    for (PetscInt i = 0; i < nloc; i++) C[i + (size_t)q * nloc] = R[(size_t)i * w + q];
}

/* Orthonormalize the na columns X (local, leading dimension nloc) against the nl columns Q before
   them and among themselves: block classical Gram-Schmidt against Q, then Cholesky QR of the
   column-scaled block (the filtered columns differ in norm by orders of magnitude); twice, and
   with a shifted Cholesky and one more pass if the Gram matrix is numerically singular. */
static PetscErrorCode Orthonormalize(MPI_Comm comm, PetscInt nloc, const PetscScalar *Q, PetscInt nl, PetscScalar *X, PetscInt na)
{
  PetscScalar *G, *T;
  PetscReal   *d;
  PetscBLASInt n, ldx, info;
  PetscInt     passes = 2;

  PetscFunctionBeginUser;
  if (na == 0) PetscFunctionReturn(0);
  PetscCall(PetscLogEventBegin(KhgpsLog.chf_ortho, 0, 0, 0, 0));
  PetscCall(PetscBLASIntCast(na, &n));
  PetscCall(PetscBLASIntCast(PetscMax(nloc, 1), &ldx));
  PetscCall(PetscMalloc3((size_t)na * na, &G, (size_t)PetscMax(nl, 1) * na, &T, na, &d));
  for (PetscInt pass = 0; pass < passes; pass++) {
    PetscReal gmax = 0;
    if (nl > 0) {
      KhgpsGemm("T", "N", nl, na, nloc, 1.0, Q, nloc, X, nloc, 0.0, T, nl);
      PetscCall(MPIU_Allreduce(MPI_IN_PLACE, T, (PetscMPIInt)(nl * na), MPIU_SCALAR, MPIU_SUM, comm));
      KhgpsGemm("N", "N", nloc, na, nl, -1.0, Q, nloc, T, nl, 1.0, X, nloc);
    }
    KhgpsGemm("T", "N", na, na, nloc, 1.0, X, nloc, X, nloc, 0.0, G, na);
    PetscCall(MPIU_Allreduce(MPI_IN_PLACE, G, (PetscMPIInt)(na * na), MPIU_SCALAR, MPIU_SUM, comm));
    for (PetscInt j = 0; j < na; j++) d[j] = G[j + (size_t)j * na] > 0 ? 1.0 / PetscSqrtReal(PetscRealPart(G[j + (size_t)j * na])) : 1.0;
    for (PetscInt j = 0; j < na; j++)
      for (PetscInt i = 0; i < na; i++) G[i + (size_t)j * na] *= d[i] * d[j];
    for (PetscInt j = 0; j < na; j++) gmax = PetscMax(gmax, PetscAbsScalar(G[j + (size_t)j * na]));
    PetscCall(PetscFPTrapPush(PETSC_FP_TRAP_OFF));
    LAPACKpotrf_("U", &n, G, &n, &info);
    PetscCall(PetscFPTrapPop());
    if (info) { /* numerically rank deficient: shifted Cholesky QR, then one more pass */
      KhgpsGemm("T", "N", na, na, nloc, 1.0, X, nloc, X, nloc, 0.0, G, na);
      PetscCall(MPIU_Allreduce(MPI_IN_PLACE, G, (PetscMPIInt)(na * na), MPIU_SCALAR, MPIU_SUM, comm));
      for (PetscInt j = 0; j < na; j++)
        for (PetscInt i = 0; i < na; i++) G[i + (size_t)j * na] *= d[i] * d[j];
      for (PetscInt j = 0; j < na; j++) G[j + (size_t)j * na] += 1e-13 * na * gmax;
      LAPACKpotrf_("U", &n, G, &n, &info);
      PetscCheck(!info, comm, PETSC_ERR_LIB, "chfsi: shifted Cholesky QR failed (%d)", (int)info);
      passes = PetscMin(passes + 1, 4);
    }
    for (PetscInt j = 0; j < na; j++)
      for (PetscInt i = 0; i < nloc; i++) X[i + (size_t)j * nloc] *= d[j];
    if (nloc > 0) {
      const PetscScalar one = 1.0;
      BLAStrsm_("R", "U", "N", "N", &ldx, &n, &one, G, &n, X, &ldx);
    }
  }
  PetscCall(PetscFree3(G, T, d));
  PetscCall(PetscLogEventEnd(KhgpsLog.chf_ortho, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* Filter the na columns X (local, leading dimension nloc) in chunks of at most w columns by the
   scaled Chebyshev polynomial of degree deg that damps [a, b] and is scaled to stay O(1) at a0
   (Zhou-Saad): Y1 = (M - c) Y0 sigma1/e, Y_{j+1} = 2 sigma_{j+1}/e (M - c) Y_j - sigma_j sigma_{j+1} Y_{j-1},
   each step one fused pass of the kernel over two row-major work chunks R0, R1. */
static PetscErrorCode Filter(SpMM *op, PetscScalar *X, PetscInt na, PetscInt w, PetscInt deg, PetscReal a0, PetscReal a, PetscReal b, PetscScalar *R0, PetscScalar *R1)
{
  const PetscReal e = 0.5 * (b - a), c = 0.5 * (b + a), sigma1 = e / (a0 - c), tau = 2.0 / sigma1;
  const PetscInt  nloc = op->nloc;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KhgpsLog.chf_filter, 0, 0, 0, 0));
  for (PetscInt j0 = 0; j0 < na; j0 += w) {
    const PetscInt cw  = PetscMin(w, na - j0);
    PetscScalar   *cur = R0, *old = R1, *t;
    PetscReal      sigma = sigma1;
    ToRows(nloc, cw, X + (size_t)j0 * nloc, cur);
    PetscCall(SpMMApply(op, cw, cur, sigma1 / e, c, 0.0, old));
    t = cur; cur = old; old = t;
    for (PetscInt q = 2; q <= deg; q++) {
      const PetscReal sn = 1.0 / (tau - sigma);
      PetscCall(SpMMApply(op, cw, cur, 2.0 * sn / e, c, sigma * sn, old));
      t = cur; cur = old; old = t;
      sigma = sn;
    }
    ToColumns(nloc, cw, cur, X + (size_t)j0 * nloc);
  }
  PetscCall(PetscLogEventEnd(KhgpsLog.chf_filter, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* Rayleigh-Ritz on the na orthonormal columns X: G = X^T M X (chunks of w columns), G = S diag(theta) S^T,
   X <- X S, theta ascending. */
static PetscErrorCode RayleighRitz(SpMM *op, PetscScalar *X, PetscInt na, PetscInt w, PetscReal *theta, PetscScalar *R0, PetscScalar *R1)
{
  PetscScalar *G;
  PetscInt     nloc = op->nloc;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KhgpsLog.chf_rr, 0, 0, 0, 0));
  PetscCall(PetscMalloc1((size_t)na * na, &G));
  for (PetscInt j0 = 0; j0 < na; j0 += w) {
    const PetscInt cw = PetscMin(w, na - j0);
    ToRows(nloc, cw, X + (size_t)j0 * nloc, R0);
    PetscCall(SpMMApply(op, cw, R0, 1.0, 0.0, 0.0, R1));
    KhgpsGemm("T", "T", na, cw, nloc, 1.0, X, nloc, R1, cw, 0.0, G + (size_t)j0 * na, na);
  }
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, G, (PetscMPIInt)(na * na), MPIU_SCALAR, MPIU_SUM, op->sfcomm));
  for (PetscInt j = 0; j < na; j++)
    for (PetscInt i = j + 1; i < na; i++) G[i + (size_t)j * na] = 0.5 * (G[i + (size_t)j * na] + G[j + (size_t)i * na]);
  PetscCall(KhgpsSymEig(na, G, na, G, theta));
  PetscCall(KhgpsCombineColumns(nloc, X, nloc, na, G, na, na));
  PetscCall(PetscFree(G));
  PetscCall(PetscLogEventEnd(KhgpsLog.chf_rr, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* res[j] = ||M x_j - theta_j x_j|| for the na columns X. */
static PetscErrorCode Residuals(SpMM *op, const PetscScalar *X, PetscInt na, PetscInt w, const PetscReal *theta, PetscReal *res, PetscScalar *R0, PetscScalar *R1)
{
  PetscInt nloc = op->nloc;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KhgpsLog.chf_resid, 0, 0, 0, 0));
  for (PetscInt j0 = 0; j0 < na; j0 += w) {
    const PetscInt cw = PetscMin(w, na - j0);
    ToRows(nloc, cw, X + (size_t)j0 * nloc, R0);
    PetscCall(SpMMApply(op, cw, R0, 1.0, 0.0, 0.0, R1));
    for (PetscInt q = 0; q < cw; q++) res[j0 + q] = 0;
    for (PetscInt i = 0; i < nloc; i++)
      for (PetscInt q = 0; q < cw; q++) res[j0 + q] += PetscSqr(PetscRealPart(R1[(size_t)i * cw + q] - theta[j0 + q] * R0[(size_t)i * cw + q]));
  }
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, res, (PetscMPIInt)na, MPIU_REAL, MPIU_SUM, op->sfcomm));
  for (PetscInt j = 0; j < na; j++) res[j] = PetscSqrtReal(res[j]);
  PetscCall(PetscLogEventEnd(KhgpsLog.chf_resid, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* The lowest p->nev eigenpairs of the sparse Hessian H into r (eig ascending, pr, resid): nconv
   is the number of pairs locked (converged) when nev are or when -khgps_chfsi_max_its is hit. */
PetscErrorCode KhgpsChfsiSpectrum(const KhgpsSolvers *s, const KhgpsParams *p, Mat H, KhgpsResult *r)
{
  MPI_Comm         comm       = PetscObjectComm((PetscObject)H);
  const PetscInt   N = p->N, nev = p->nev;
  const PetscReal  tol = s->block_tol;
  PetscInt         rs, re, nloc, k, nl = 0, its, w, deg = p->solver.chfsi_degree, nmult = 0;
  PetscScalar     *V, *R0, *R1;
  PetscReal       *theta, *res, *lres, *lth, a0 = 0, a = 0, b = 0;
  SpMM             op = {0};

  PetscFunctionBeginUser;
  PetscCall(MatGetOwnershipRange(H, &rs, &re));
  nloc = re - rs;
  k    = PetscMin(nev + p->solver.chfsi_guard, N);
  w    = PetscMin(PetscMin(p->solver.chfsi_block, k), 64);
  PetscCall(SpMMCreate(H, w, &op));
  PetscCall(PetscMalloc3((size_t)nloc * k, &V, (size_t)nloc * w, &R0, (size_t)nloc * w, &R1));
  PetscCall(PetscMalloc4(k, &theta, k, &res, k, &lres, k, &lth));
  for (PetscInt j = 0; j < k; j++)
    for (PetscInt i = 0; i < nloc; i++) V[i + (size_t)j * nloc] = KhgpsUniformAt(p->seed, p->realization, STREAM_CHFSI, rs + i, j) - 0.5;
  PetscCall(KhgpsSpectrumBounds(H, p, p->solver.chfsi_lanczos, &a0, &a, &b));
  nmult += PetscMin(p->solver.chfsi_lanczos, N);
  PetscCall(Orthonormalize(comm, nloc, NULL, 0, V, k));
  for (its = 0; its < p->solver.chfsi_max_its && nl < nev; its++) {
    const PetscInt na = k - nl;
    PetscScalar   *X  = V + (size_t)nl * nloc;
    PetscInt       newl = 0;
    PetscReal      rmin = PETSC_MAX_REAL;
    PetscCall(Filter(&op, X, na, w, deg, a0, a, b, R0, R1));
    PetscCall(Orthonormalize(comm, nloc, V, nl, X, na));
    PetscCall(RayleighRitz(&op, X, na, w, theta + nl, R0, R1));
    PetscCall(Residuals(&op, X, na, w, theta + nl, res + nl, R0, R1));
    nmult += (deg + 2) * na;
    for (PetscInt j = nl; j < k && nl + newl < nev; j++) {
      if (!(res[j] <= tol * PetscAbsReal(theta[j]))) break;
      lth[j]  = theta[j];
      lres[j] = res[j] / PetscAbsReal(theta[j]);
      newl++;
    }
    for (PetscInt j = nl; j < k; j++) rmin = PetscMin(rmin, res[j] / PetscAbsReal(theta[j]));
    nl += newl;
    /* next cut: the largest Ritz value; lower scaling point: the lowest active one */
    a  = theta[k - 1];
    a0 = nl < k ? theta[nl] : theta[k - 1];
    if (!(a < b)) { /* the bound was not safe: widen it */
      PetscCall(PetscInfo(NULL, "chfsi: Ritz value %g above the bound %g: widened\n", (double)a, (double)b));
      b = a + (a - theta[0]);
    }
    if (!(a0 < a)) a0 = a - 1e-3 * (b - a);
    PetscCall(PetscInfo(NULL, "chfsi: iteration %" PetscInt_FMT ": %" PetscInt_FMT " of %" PetscInt_FMT " locked (+%" PetscInt_FMT "), degree %" PetscInt_FMT ", cut a %.6e, lowest active %.6e, b %.4e, best active residual %.1e, %" PetscInt_FMT " column products\n", its, nl, nev, newl, deg, (double)a, (double)a0, (double)b, (double)rmin, nmult));
  }
  PetscCall(PetscInfo(NULL, "chfsi: %" PetscInt_FMT " of %" PetscInt_FMT " wanted converged in %" PetscInt_FMT " iterations, %" PetscInt_FMT " column products (block %" PetscInt_FMT ", guard %" PetscInt_FMT ", degree %" PetscInt_FMT ")\n", PetscMin(nl, nev), nev, its, nmult, k, k - nev, deg));
  PetscCall(SpMMDestroy(&op));

  {
    const PetscInt nc = PetscMin(nl, nev);
    PetscReal     *tmp, *n4;
    PetscCall(PetscMalloc2(3 * nc + 1, &tmp, PetscMax(2 * nc, 1), &n4));
    PetscCall(PetscArrayzero(n4, 2 * nc));
    for (PetscInt j = 0; j < nc; j++) {
      const PetscScalar *x = V + (size_t)j * nloc;
      for (PetscInt i = 0; i < nloc; i++) {
        PetscReal x2 = PetscSqr(PetscRealPart(x[i]));
        n4[2 * j] += x2;
        n4[2 * j + 1] += x2 * x2;
      }
    }
    PetscCall(MPIU_Allreduce(MPI_IN_PLACE, n4, (PetscMPIInt)(2 * nc), MPIU_REAL, MPIU_SUM, comm));
    for (PetscInt j = 0; j < nc; j++) {
      tmp[3 * j]     = lth[j];
      tmp[3 * j + 1] = n4[2 * j] * n4[2 * j] / (N * n4[2 * j + 1]);
      tmp[3 * j + 2] = lres[j];
    }
    PetscCall(KhgpsResultSetPairs(r, nc, tmp));
    PetscCall(PetscFree2(tmp, n4));
  }
  PetscCall(PetscFree3(V, R0, R1));
  PetscCall(PetscFree4(theta, res, lres, lth));
  PetscFunctionReturn(0);
}
