/* blockeig.c: the lowest eigenpairs of the packed Hessian from its in-place factor.

   A block Krylov-Schur iteration (thick restart) for T = M^{-1}, shift-invert at 0: every
   application of T is one solve with b right-hand sides on the factor (a pass over the factor in
   level 3 BLAS), where SLEPc's Krylov-Schur makes ~3 single-vector solves per eigenpair, each one
   a pass over the whole factor. A Rayleigh-Ritz step with M itself (M Y from the float32 couplings)
   gives the eigenvalues, and the residuals ||M v - l v|| / |l| reported are those of M. */
#include "khgps_options.h"
#include "khgps_rng.h"
#include "khgps_log.h"
#include "khgps_model.h"
#include "khgps_result.h"
#include "khgps_solvers.h"
#include "khgps_platform.h"
#include "dense.h"

enum {
  STREAM_EIG = KHGPS_STREAM_EIG
};

/* What the block eigensolver reads: the wanted pairs, the block settings, the realization's key
   (the start block's draws) and the convergence tolerance. */
typedef struct {
  PetscInt  nev, size, ncv, max_restarts;
  KhgpsKey  key;
  PetscReal tol;
} Block;

/* The single-precision path (the float32 factor, KHGPS_FACTOR_SINGLE): Krylov-Schur on the float32 factor's inverse to this
   tolerance (its pairs are those of L L^T = M + E, within ~1e-5 of M's), the Ritz
   vectors into the outer iteration (all of the basis), which restarts from SINGLE_KEEP of them and
   stops after SINGLE_MAX_ITS steps at most. */
#define SINGLE_KS_TOL  1e-8
#define SINGLE_KEEP(B) (2 * (B)->nev)
#define SINGLE_MAX_ITS 60

/* X <- X (I - Q Q^T) applied twice (classical Gram-Schmidt, twice is enough), with the
   coefficients Q^T X accumulated in C (k x b, leading dimension ldc); then X = Q' R by Householder
   QR, X <- Q' and R (b x b, upper) into R (leading dimension ldr). *rmin is the smallest |R_ii|
   relative to the norm of its column before the orthogonalization (breakdown below ~1e-13). */
static PetscErrorCode OrthoBlock(PetscInt N, PetscInt k, const PetscScalar *Q, PetscInt b, PetscScalar *X, PetscScalar *C, PetscInt ldc, PetscScalar *R, PetscInt ldr, PetscReal *rmin, PetscBool thr)
{
  PetscScalar *tmp, *tau, *work, wq;
  PetscReal   *nrm;
  PetscBLASInt n, nb, lw = -1, info, one = 1;

  PetscFunctionBeginUser;
  PetscCall(PetscBLASIntCast(N, &n));
  PetscCall(PetscBLASIntCast(b, &nb));
  PetscCall(PetscMalloc3(PetscMax(k, 1) * b, &tmp, b, &tau, b, &nrm));
  for (PetscInt j = 0; j < b; j++) nrm[j] = BLASnrm2_(&n, X + (size_t)j * N, &one);
  for (PetscInt pass = 0; pass < 2 && k > 0; pass++) {
    (thr ? KhgpsGemmThreads : KhgpsGemm)("T", "N", k, b, N, 1.0, Q, N, X, N, 0.0, tmp, k);
    (thr ? KhgpsGemmThreads : KhgpsGemm)("N", "N", N, b, k, -1.0, Q, N, tmp, k, 1.0, X, N);
    if (C)
      for (PetscInt j = 0; j < b; j++)
        for (PetscInt i = 0; i < k; i++) C[i + (size_t)j * ldc] = (pass ? C[i + (size_t)j * ldc] : 0.0) + tmp[i + (size_t)j * k];
  }
  LAPACKgeqrf_(&n, &nb, X, &n, tau, &wq, &lw, &info);
  lw = (PetscBLASInt)wq;
  PetscCall(PetscMalloc1(lw, &work));
  LAPACKgeqrf_(&n, &nb, X, &n, tau, work, &lw, &info);
  PetscCheck(!info, PETSC_COMM_SELF, PETSC_ERR_LIB, "LAPACK geqrf: %d", (int)info);
  *rmin = PETSC_MAX_REAL;
  for (PetscInt j = 0; j < b; j++) {
    for (PetscInt i = 0; i < b; i++) {
      if (R) R[i + (size_t)j * ldr] = i <= j ? X[i + (size_t)j * N] : 0.0;
    }
    *rmin = PetscMin(*rmin, nrm[j] > 0 ? PetscAbsScalar(X[j + (size_t)j * N]) / nrm[j] : 0.0);
  }
  LAPACKorgqr_(&n, &nb, &nb, X, &n, tau, work, &lw, &info);
  PetscCheck(!info, PETSC_COMM_SELF, PETSC_ERR_LIB, "LAPACK orgqr: %d", (int)info);
  PetscCall(PetscFree(work));
  PetscCall(PetscFree3(tmp, tau, nrm));
  PetscFunctionReturn(0);
}

typedef struct {
  PetscReal key;
  PetscInt  i;
} KeyIndex;

static int CompareKey(const void *a, const void *b)
{
  PetscReal x = ((const KeyIndex *)a)->key, y = ((const KeyIndex *)b)->key;
  return (x > y) - (x < y);
}

/* order[0..k) = indices of w by |w| descending: the wanted end of T = M^{-1}, M's eigenvalues
   nearest the target 0. */
static PetscErrorCode SortByMagnitude(PetscInt k, const PetscReal *w, PetscInt *order)
{
  KeyIndex *ki;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(k, &ki));
  for (PetscInt i = 0; i < k; i++) {
    ki[i].key = -PetscAbsReal(w[i]);
    ki[i].i   = i;
  }
  qsort(ki, (size_t)k, sizeof(KeyIndex), CompareKey);
  for (PetscInt i = 0; i < k; i++) order[i] = ki[i].i;
  PetscCall(PetscFree(ki));
  PetscFunctionReturn(0);
}

/* Ritz pairs of the projected k x k matrix G (lower triangle): eigenvectors S, values theta,
   order by |theta| descending, and the number of leading wanted pairs whose residual norm
   ||F s|| (F = G[k:k+b, 0:k], the coupling of the last block of b columns) is below tol |theta|. */
static PetscErrorCode Ritz(PetscInt b, PetscReal tol, PetscInt nev, PetscInt k, const PetscScalar *G, PetscInt ldg, PetscScalar *S, PetscReal *theta, PetscInt *order, PetscInt *nconv)
{
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KhgpsLog.blk_ritz, 0, 0, 0, 0));
  PetscCall(KhgpsSymEig(k, G, ldg, S, theta));
  PetscCall(SortByMagnitude(k, theta, order));
  *nconv = 0;
  for (PetscInt i = 0; i < PetscMin(nev, k); i++) {
    PetscReal rn = 0;
    for (PetscInt a = 0; a < b; a++) {
      PetscScalar t = 0;
      for (PetscInt c = 0; c < k; c++) t += G[k + a + (size_t)c * ldg] * S[c + (size_t)order[i] * k];
      rn += t * t;
    }
    if (PetscSqrtReal(rn) > tol * PetscAbsReal(theta[order[i]])) break;
    (*nconv)++;
  }
  PetscCall(PetscLogEventEnd(KhgpsLog.blk_ritz, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* Block Krylov-Schur for T = M^{-1}: the q Ritz vectors of largest |theta| into V[:, 0:q], where q
   is the number of the nev wanted that converged (||T y - theta y|| <= tol |theta|). V has room
   for ncv + b columns. Convergence is also checked while the basis grows (from 2 nev on, every 4
   blocks), so that no solve is spent beyond the need. *solves counts right-hand sides solved.
   Pairs converge at ||T y - theta y|| <= tol |theta|; *qret = q + extra (at most the basis) Ritz
   vectors are returned, the q converged first (extra: the single-precision outer iteration's guard). */
static PetscErrorCode BlockKrylovSchur(const Block *B, KhgpsModel *m, PetscReal tol, PetscInt extra, PetscScalar *V, PetscInt *q, PetscInt *qret, PetscInt *solves, PetscBool thr)
{
  const PetscInt N = m->N, b = B->size, ncv = B->ncv, ldg = ncv + b, nev = B->nev;
  PetscScalar   *G, *S, *Sp, *FS;
  PetscReal     *theta, rmin;
  PetscInt      *order, k = 0, nconv = 0, next = PetscMax(2 * nev, nev + 2 * b);
  PetscBool      done = PETSC_FALSE;

  PetscFunctionBeginUser;
  PetscCall(PetscCalloc1((size_t)ldg * ldg, &G));
  PetscCall(PetscMalloc5((size_t)ncv * ncv, &S, (size_t)ncv * ncv, &Sp, (size_t)b * ncv, &FS, ncv, &theta, ncv, &order));
  for (PetscInt j = 0; j < b; j++)
    for (PetscInt i = 0; i < N; i++) V[i + (size_t)j * N] = KhgpsUniformAt(B->key.seed, B->key.realization, STREAM_EIG, i, j) - 0.5;
  PetscCall(OrthoBlock(N, 0, V, b, V, NULL, 0, NULL, 0, &rmin, thr));
  *solves = 0;
  for (PetscInt restart = 0;; restart++) {
    PetscInt pk;
    while (k + b <= ncv && !done) { /* expand: V_{k+b} = orth(T V_k); T V_[0,k+b) = V_[0,k+2b) G */
      PetscScalar *X = V + (size_t)(k + b) * N;
      PetscCall(PetscArraycpy(X, V + (size_t)k * N, (size_t)b * N));
      PetscCall(PetscLogEventBegin(KhgpsLog.blk_solve, 0, 0, 0, 0));
      PetscCall(KhgpsPackedSolve(m, b, X, N));
      PetscCall(PetscLogEventEnd(KhgpsLog.blk_solve, 0, 0, 0, 0));
      *solves += b;
      PetscCall(PetscLogEventBegin(KhgpsLog.blk_ortho, 0, 0, 0, 0));
      PetscCall(OrthoBlock(N, k + b, V, b, X, G + (size_t)k * ldg, ldg, G + (k + b) + (size_t)k * ldg, ldg, &rmin, thr));
      PetscCall(PetscLogEventEnd(KhgpsLog.blk_ortho, 0, 0, 0, 0));
      PetscCheck(rmin > 1e-13, PETSC_COMM_SELF, PETSC_ERR_CONV_FAILED, "block Krylov-Schur: the Krylov space became invariant (N = %" PetscInt_FMT " too small for -khgps_block_ncv %" PetscInt_FMT "?); use -khgps_eigensolver slepc", N, ncv);
      k += b;
      if (k >= next && k + b <= ncv) {
        PetscCall(Ritz(b, tol, nev, k, G, ldg, S, theta, order, &nconv));
        PetscCall(PetscInfo(NULL, "block Krylov-Schur: restart %" PetscInt_FMT ", basis %" PetscInt_FMT ", %" PetscInt_FMT " converged\n", restart, k, nconv));
        done = (PetscBool)(nconv >= nev);
        next = k + 4 * b;
      }
    }
    if (!done) { /* the basis is full */
      PetscCall(Ritz(b, tol, nev, k, G, ldg, S, theta, order, &nconv));
      PetscCall(PetscInfo(NULL, "block Krylov-Schur: restart %" PetscInt_FMT ", basis %" PetscInt_FMT " (full), %" PetscInt_FMT " converged\n", restart, k, nconv));
    }
    if (nconv >= nev || restart >= B->max_restarts) break;
    /* thick restart: keep the pk wanted Ritz vectors and the active block */
    pk = PetscMin(k - b, PetscMax(nev, (k + nev) / 2));
    for (PetscInt j = 0; j < pk; j++) PetscCall(PetscArraycpy(Sp + (size_t)j * k, S + (size_t)order[j] * k, k));
    PetscCall(KhgpsCombineColumnsThreads(N, V, N, k, Sp, k, pk, thr));
    PetscCall(PetscArraymove(V + (size_t)pk * N, V + (size_t)k * N, (size_t)b * N));
    KhgpsGemm("N", "N", b, pk, k, 1.0, G + k, ldg, Sp, k, 0.0, FS, b);
    PetscCall(PetscArrayzero(G, (size_t)ldg * ldg));
    for (PetscInt j = 0; j < pk; j++) {
      G[j + (size_t)j * ldg] = theta[order[j]];
      for (PetscInt a = 0; a < b; a++) G[pk + a + (size_t)j * ldg] = G[j + (size_t)(pk + a) * ldg] = FS[a + (size_t)j * b];
    }
    k    = pk;
    next = k + 4 * b;
  }
  *q    = nconv;
  *qret = PetscMin(nconv + extra, k);
  for (PetscInt j = 0; j < *qret; j++) PetscCall(PetscArraycpy(Sp + (size_t)j * k, S + (size_t)order[j] * k, k));
  PetscCall(KhgpsCombineColumnsThreads(N, V, N, k, Sp, k, *qret, thr));
  PetscCall(PetscFree(G));
  PetscCall(PetscFree5(S, Sp, FS, theta, order));
  PetscFunctionReturn(0);
}

/* Eigenvalues mu[0:q] (ascending), participation ratios and relative residuals ||M x - l x|| / |l|
   of the pairs (V[:, j], mu[j]), HY[:, j] = M V[:, j], into r (r->nconv = q). */
static PetscErrorCode PairStatistics(PetscInt N, PetscInt q, const PetscScalar *V, const PetscScalar *HY, const PetscReal *mu, KhgpsResult *r)
{
  PetscFunctionBeginUser;
  r->nconv = q;
  for (PetscInt j = 0; j < q; j++) { /* mu is ascending (syevd), so are the eigenvalues */
    const PetscScalar *x = V + (size_t)j * N, *hx = HY + (size_t)j * N;
    PetscReal          l = mu[j], n2 = 0, n4 = 0, res = 0;
    for (PetscInt i = 0; i < N; i++) {
      PetscReal x2 = x[i] * x[i], e = hx[i] - l * x[i];
      n2 += x2;
      n4 += x2 * x2;
      res += e * e;
    }
    r->eig[j]   = l;
    r->pr[j]    = n2 * n2 / (N * n4);
    r->resid[j] = PetscSqrtReal(res / n2) / PetscAbsReal(l);
  }
  PetscFunctionReturn(0);
}

/* An estimate of ||M||_2 (power iteration, 12 products from a fixed start): the floor of the
   residuals that double arithmetic can reach, ~ eps ||M||. */
static PetscErrorCode NormEstimate(KhgpsModel *m, const PetscScalar *d, PetscReal *nrm)
{
  const PetscInt N = m->N;
  PetscScalar   *x, *y;
  PetscReal      t = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2(N, &x, N, &y));
  for (PetscInt i = 0; i < N; i++) x[i] = 1.0 + (i % 7) * 0.1;
  for (PetscInt it = 0; it < 12; it++) {
    PetscReal xn = 0, yn = 0;
    for (PetscInt i = 0; i < N; i++) xn += x[i] * x[i];
    PetscCall(KhgpsPackedHessianMult(m, d, 1, x, N, y, N));
    for (PetscInt i = 0; i < N; i++) yn += y[i] * y[i];
    t = PetscSqrtReal(yn / xn);
    for (PetscInt i = 0; i < N; i++) x[i] = y[i] / PetscSqrtReal(yn);
  }
  PetscCall(PetscFree2(x, y));
  *nrm = t;
  PetscFunctionReturn(0);
}

/* The single-precision outer iteration: a block Davidson method on M with the float32 factor as
   preconditioner (docs/design.md, "Mixed precision"). W = V[:, 0:k] starts as the Ritz vectors of
   the Krylov-Schur on (L L^T)^{-1} (orthonormal), MW = HY[:, 0:k] = M W; each step a Rayleigh-Ritz
   with M on W gives the lowest nev pairs (theta, x = W s), their residuals r = M x - theta x in
   double, and the unconverged ones' corrections (L L^T)^{-1} r join W (orthonormalized; when W is
   full, it restarts from the nev + guard lowest Ritz vectors). A pair has converged at
   ||r|| <= tol |theta| (-eps_tol), or at the rounding floor 4 eps ||M|| of double arithmetic.
   Returns the q leading converged pairs: x in V[:, 0:q], M x in HY[:, 0:q], theta in mu[0:q]. */
static PetscErrorCode RefineSingle(const Block *B, KhgpsModel *m, PetscScalar *V, PetscScalar *HY, PetscInt ldw, PetscInt k, PetscReal *mu, PetscInt *q)
{
  const PetscInt     N = m->N, nev = B->nev, keep = PetscMin(SINGLE_KEEP(B), ldw - nev);
  const PetscScalar *d;
  PetscScalar       *G, *S, *X, *MX, *R;
  PetscReal         *theta, *rn, floor, nrm = 0, best = PETSC_MAX_REAL;
  PetscInt          *bad, its, stall = 0, corrections = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KhgpsLog.blk_refine, 0, 0, 0, 0));
  PetscCall(VecGetArrayRead(KhgpsPackedHessianDiagonal(m), &d));
  PetscCall(NormEstimate(m, d, &nrm));
  floor = 4 * PETSC_MACHINE_EPSILON * nrm;
  PetscCall(KhgpsPackedHessianMult(m, d, k, V, N, HY, N));
  PetscCall(PetscMalloc5((size_t)ldw * ldw, &G, (size_t)ldw * ldw, &S, ldw, &theta, nev, &rn, nev, &bad));
  PetscCall(PetscMalloc3((size_t)N * nev, &X, (size_t)N * nev, &MX, (size_t)N * nev, &R));
  *q = 0;
  for (its = 0; its < SINGLE_MAX_ITS; its++) {
    PetscInt  nb = 0, lead = 0;
    PetscReal worst = 0, rmin;
    KhgpsGemm("T", "N", k, k, N, 1.0, V, N, HY, N, 0.0, G, k);
    PetscCall(KhgpsSymEig(k, G, k, S, theta));
    KhgpsGemm("N", "N", N, nev, k, 1.0, V, N, S, k, 0.0, X, N);
    KhgpsGemm("N", "N", N, nev, k, 1.0, HY, N, S, k, 0.0, MX, N);
    for (PetscInt j = 0; j < nev; j++) {
      PetscReal t = 0;
      for (PetscInt i = 0; i < N; i++) {
        PetscReal e          = MX[i + (size_t)j * N] - theta[j] * X[i + (size_t)j * N];
        R[i + (size_t)j * N] = e;
        t += e * e;
      }
      rn[j] = PetscSqrtReal(t);
      if (rn[j] > PetscMax(B->tol * PetscAbsReal(theta[j]), floor)) bad[nb++] = j;
      else if (lead == j) lead++;
      worst = PetscMax(worst, rn[j] / PetscMax(PetscAbsReal(theta[j]), floor));
    }
    PetscCall(PetscInfo(NULL, "single-precision refinement: step %" PetscInt_FMT ", basis %" PetscInt_FMT ", %" PetscInt_FMT " of %" PetscInt_FMT " not converged, worst relative residual %g\n", its, k, nb, nev, (double)worst));
    *q = lead;
    if (!nb) break;
    if (worst < 0.5 * best) {
      best  = worst;
      stall = 0;
    } else if (++stall >= 4) break; /* no progress: stop with the leading converged pairs */
    if (k + nb > ldw) {             /* restart from the keep lowest Ritz vectors */
      PetscCall(KhgpsCombineColumns(N, V, N, k, S, k, keep));
      PetscCall(KhgpsCombineColumns(N, HY, N, k, S, k, keep));
      k = keep;
    }
    for (PetscInt c = 0; c < nb; c++) PetscCall(PetscArraycpy(V + (size_t)(k + c) * N, R + (size_t)bad[c] * N, N));
    PetscCall(PetscLogEventBegin(KhgpsLog.blk_solve, 0, 0, 0, 0));
    PetscCall(KhgpsPackedSolve(m, nb, V + (size_t)k * N, N));
    PetscCall(PetscLogEventEnd(KhgpsLog.blk_solve, 0, 0, 0, 0));
    corrections += nb;
    PetscCall(OrthoBlock(N, k, V, nb, V + (size_t)k * N, NULL, 0, NULL, 0, &rmin, PETSC_FALSE));
    if (rmin < 1e-12) break; /* the corrections lie in W already: as far as it goes */
    PetscCall(KhgpsPackedHessianMult(m, d, nb, V + (size_t)k * N, N, HY + (size_t)k * N, N));
    k += nb;
  }
  PetscCall(PetscInfo(NULL, "single-precision refinement: %" PetscInt_FMT " steps, %" PetscInt_FMT " corrections, %" PetscInt_FMT " of %" PetscInt_FMT " converged (floor %g)\n", its, corrections, *q, nev, (double)floor));
  for (PetscInt j = 0; j < *q; j++) mu[j] = theta[j];
  PetscCall(PetscArraycpy(V, X, (size_t)N * *q));
  PetscCall(PetscArraycpy(HY, MX, (size_t)N * *q));
  PetscCall(PetscFree3(X, MX, R));
  PetscCall(PetscFree5(G, S, theta, rn, bad));
  PetscCall(VecRestoreArrayRead(KhgpsPackedHessianDiagonal(m), &d));
  PetscCall(PetscLogEventEnd(KhgpsLog.blk_refine, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* Lowest nev eigenpairs of the packed Hessian M (diagonal KhgpsPackedHessianDiagonal(m)) from its in-place factor:
   eigenvalues ascending, participation ratios, relative residuals ||M v - l v|| / |l|. */
PetscErrorCode KhgpsBlockSpectrum(KhgpsModel *m, const KhgpsSolverOptions *o, PetscInt nev, PetscInt save_modes, KhgpsKey key, PetscReal tol, KhgpsResult *r)
{
  const Block        Bs = {nev, o->block_size, o->block_ncv, o->block_max_restarts, key, tol}, *B = &Bs;
  const PetscInt     N = m->N, b = B->size, ldg = B->ncv + b;
  PetscScalar       *V, *HY, *P, *S;
  PetscReal         *mu;
  PetscInt           q = 0, solves = 0, qret0;
  const PetscScalar *d;
  PetscBool          thr;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1((size_t)N * ldg, &V));
  KhgpsPopulate(V, (size_t)N * ldg * sizeof(PetscScalar));
  /* with khgps' own solves (-khgps_packed_trsolve) the Krylov loop runs on the OpenMP threads
     alone, BLAS on one thread (trsolve.c): OpenBLAS's spinning workers would compete with them */
  thr = KhgpsPackedOwnSolves(m, b);
  if (thr) KhgpsBLASThreadsFor(KHGPS_BLAS_OWN_KERNELS);
  if (KhgpsPackedPrecision(m) == KHGPS_FACTOR_SINGLE) { /* Krylov-Schur on (L L^T)^{-1}, L the float32 factor: the pairs of M to ~1e-5, then refined */
    PetscInt qret;
    PetscCall(BlockKrylovSchur(B, m, PetscMax(B->tol, SINGLE_KS_TOL), ldg, V, &q, &qret, &solves, thr)); /* the whole basis' Ritz vectors */
    if (thr) KhgpsBLASThreadsFor(KHGPS_BLAS_LIBRARY);
    PetscCall(PetscInfo(NULL, "block Krylov-Schur (float32 factor): %" PetscInt_FMT " of %" PetscInt_FMT " wanted converged, %" PetscInt_FMT " right-hand sides solved\n", q, B->nev, solves));
    r->nconv = 0;
    if (q < B->nev) { /* the outer iteration below needs them all: the caller falls back to double */
      PetscCall(PetscFree(V));
      PetscFunctionReturn(0);
    }
    PetscCall(PetscMalloc1((size_t)N * ldg, &HY));
    KhgpsPopulate(HY, (size_t)N * ldg * sizeof(PetscScalar));
    PetscCall(PetscMalloc1(ldg, &mu));
    PetscCall(RefineSingle(B, m, V, HY, ldg, qret, mu, &q));
    PetscCall(PetscMalloc3(q, &r->eig, q, &r->pr, q, &r->resid));
    PetscCall(PairStatistics(N, q, V, HY, mu, r));
    PetscCall(KhgpsResultModesFromArray(r, save_modes, N, V));
    PetscCall(PetscFree(mu));
    PetscCall(PetscFree(HY));
    PetscCall(PetscFree(V));
    PetscFunctionReturn(0);
  }
  PetscCall(BlockKrylovSchur(B, m, B->tol, 0, V, &q, &qret0, &solves, thr));
  if (thr) KhgpsBLASThreadsFor(KHGPS_BLAS_LIBRARY);
  PetscCall(PetscInfo(NULL, "block Krylov-Schur: %" PetscInt_FMT " of %" PetscInt_FMT " wanted converged, %" PetscInt_FMT " right-hand sides solved\n", q, B->nev, solves));
  r->nconv = q;
  if (!q) {
    PetscCall(PetscFree(V));
    PetscFunctionReturn(0);
  }
  /* Rayleigh-Ritz with M on Y = V[:, 0:q], the Ritz vectors of M^{-1}: X = Y S, M X = (M Y) S */
  PetscCall(PetscLogEventBegin(KhgpsLog.blk_rr, 0, 0, 0, 0));
  PetscCall(VecGetArrayRead(KhgpsPackedHessianDiagonal(m), &d));
  PetscCall(PetscMalloc1((size_t)N * q, &HY));
  KhgpsPopulate(HY, (size_t)N * q * sizeof(PetscScalar));
  PetscCall(KhgpsPackedHessianMult(m, d, q, V, N, HY, N));
  PetscCall(VecRestoreArrayRead(KhgpsPackedHessianDiagonal(m), &d));
  PetscCall(PetscMalloc3((size_t)q * q, &P, (size_t)q * q, &S, q, &mu));
  KhgpsGemm("T", "N", q, q, N, 1.0, V, N, HY, N, 0.0, P, q);
  PetscCall(KhgpsSymEig(q, P, q, S, mu));
  PetscCall(KhgpsCombineColumns(N, V, N, q, S, q, q));
  PetscCall(KhgpsCombineColumns(N, HY, N, q, S, q, q));
  PetscCall(PetscMalloc3(q, &r->eig, q, &r->pr, q, &r->resid));
  PetscCall(PairStatistics(N, q, V, HY, mu, r));
  PetscCall(KhgpsResultModesFromArray(r, save_modes, N, V));
  PetscCall(PetscFree3(P, S, mu));
  PetscCall(PetscFree(HY));
  PetscCall(PetscFree(V));
  PetscCall(PetscLogEventEnd(KhgpsLog.blk_rr, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}
