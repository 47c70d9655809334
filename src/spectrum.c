/* spectrum.c: the Hessian at the minimum, its Newton polish and positive-definiteness check,
   and its lowest eigenpairs by SLEPc (Krylov-Schur, shift-invert at 0). */
#include "khgps_options.h"
#include "khgps_repro.h"
#include "khgps_model.h"
#include "khgps_result.h"
#include "khgps_solvers.h"
#include "khgps_io.h" /* KhgpsCaptureErrorHandler */

/* The default factorization of a Hessian storage: Cholesky by LAPACK (dense), ScaLAPACK, or the
   in-place one of the packed buffer. */
static PetscErrorCode DefaultFactor(PC pc, MatType htype)
{
  PetscBool isscalapack, ispacked, isaij;

  PetscFunctionBeginUser;
  PetscCall(PetscStrcmp(htype, MATSCALAPACK, &isscalapack));
  PetscCall(PetscStrcmp(htype, KHGPS_PACKED, &ispacked));
  PetscCall(PetscStrcmp(htype, MATAIJ, &isaij));
  if (ispacked) PetscCall(KhgpsPackedSetPC(pc));
  else {
    PetscCall(PCSetType(pc, PCCHOLESKY));
    PetscCall(PCFactorSetMatSolverType(pc, isscalapack ? MATSOLVERSCALAPACK : isaij ? MATSOLVERMUMPS : MATSOLVERPETSC));
  }
  PetscFunctionReturn(0);
}

/* Create TAO, the Newton KSP and the EPS with khgps' defaults (p->solver), then *SetFromOptions last. */
PetscErrorCode KhgpsSolversCreate(MPI_Comm comm, const KhgpsParams *p, KhgpsSolvers *s)
{
  const KhgpsSolverOptions *o = &p->solver;
  ST                        st;
  KSP                       ksp;
  PC                        pc;

  PetscFunctionBeginUser;
  PetscCall(KhgpsMinimizerCreate(comm, p, &s->tao));

  PetscCall(KSPCreate(comm, &s->newton));
  PetscCall(KSPSetOptionsPrefix(s->newton, "khgps_newton_"));
  PetscCall(KSPGetPC(s->newton, &pc));
  /* Newton by CG with a diagonal preconditioner (matrix-free: J x products), because a Cholesky
     per step costs N^3/3 and the one factorization that the shift-invert spectrum needs anyway is
     the positive-definiteness test. -khgps_newton_factor: a factored Newton step as before (dense). */
  if (o->newton_factor) {
    PetscCall(KSPSetType(s->newton, KSPPREONLY));
    PetscCall(DefaultFactor(pc, o->htype));
  } else {
    PetscCall(KSPSetType(s->newton, KSPCG));
    PetscCall(KSPSetTolerances(s->newton, p->sparse ? 1e-12 : 1e-6, 0.0, PETSC_DEFAULT, 10000));
    PetscCall(PCSetType(pc, PCJACOBI));
  }
  PetscCall(KSPSetFromOptions(s->newton));

  PetscCall(EPSCreate(comm, &s->eps));
  PetscCall(EPSSetProblemType(s->eps, EPS_HEP));
  PetscCall(EPSSetType(s->eps, EPSKRYLOVSCHUR));
  PetscCall(EPSSetDimensions(s->eps, p->nev, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(EPSSetTarget(s->eps, 0.0));
  PetscCall(EPSSetWhichEigenpairs(s->eps, EPS_TARGET_MAGNITUDE));
  PetscCall(EPSSetTolerances(s->eps, 1e-12, PETSC_DEFAULT));
  PetscCall(EPSGetST(s->eps, &st));
  PetscCall(STGetKSP(st, &ksp));
  PetscCall(KSPGetPC(ksp, &pc));
  if (p->sparse) { /* plain Krylov-Schur on M itself (no transformation), smallest real, a basis of
                      2 nev with 1 nev per restart: faster than Jacobi-Davidson with GMRES + Jacobi
                      (docs/benchmarks.md, sparse couplings); a sparse factorization of
                      a random graph fills in, so shift-invert would need an iterative inner solve */
    const PetscInt ncv = PetscMin(2 * p->nev, p->N);
    PetscCall(EPSSetWhichEigenpairs(s->eps, o->filter_degree ? EPS_LARGEST_REAL : EPS_SMALLEST_REAL));
    PetscCall(EPSSetTolerances(s->eps, o->filter_degree ? 1e-12 : 1e-10, PETSC_DEFAULT));
    PetscCall(EPSSetDimensions(s->eps, p->nev, ncv, PetscMin(p->nev, ncv)));
    PetscCall(STSetType(st, STSHIFT));
  } else {
    PetscCall(STSetType(st, STSINVERT));
    PetscCall(KSPSetType(ksp, KSPPREONLY));
    PetscCall(DefaultFactor(pc, o->htype));
  }
  PetscCall(EPSSetFromOptions(s->eps));
  PetscCall(EPSGetTolerances(s->eps, &s->block_tol, NULL));
  if (p->sparse && o->filter_degree) { /* the lowest of M are the largest of the filter: checked, not set */
    EPSWhich  which;
    PetscBool set;
    PetscCall(EPSGetWhichEigenpairs(s->eps, &which));
    PetscCheck(which == EPS_LARGEST_REAL, comm, PETSC_ERR_USER_INPUT, "-khgps_filter_degree %" PetscInt_FMT ": the EPS takes the largest eigenvalues of the filter polynomial (the lowest of M); drop the -eps_ choice of which eigenvalues, or use -khgps_filter_degree 0", o->filter_degree);
    PetscCall(PetscObjectTypeCompare((PetscObject)st, STSHIFT, &set));
    PetscCheck(set, comm, PETSC_ERR_USER_INPUT, "-khgps_filter_degree %" PetscInt_FMT ": the filter polynomial is the operator, so the ST must be shift; a preconditioned or inverted ST needs M itself: add -khgps_filter_degree 0", o->filter_degree);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode KhgpsSolversDestroy(KhgpsSolvers *s)
{
  PetscFunctionBeginUser;
  PetscCall(TaoDestroy(&s->tao));
  PetscCall(KSPDestroy(&s->newton));
  PetscCall(EPSDestroy(&s->eps));
  PetscFunctionReturn(0);
}

/* A Cholesky factorization reports an indefinite matrix by these errors (LAPACK potrf: zero
   pivot; ScaLAPACK pdpotrf: library error with info > 0). */
static PetscBool IsIndefiniteError(PetscErrorCode ierr)
{
  return (PetscBool)(ierr == PETSC_ERR_MAT_CH_ZRPVT || ierr == PETSC_ERR_LIB);
}

/* Packed Hessian: the in-place factorization reads potrf (spd) or sytrf from the model; a change
   is a new operator state (so call it before EPSSetOperators, which records the state). */
static PetscErrorCode SetPackedSPD(Mat H, PetscBool spd)
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

/* Give ksp the operator H and, for a dense Cholesky, ask for LAPACK potrf (a true Cholesky that
   fails on an indefinite matrix) or, with spd false, for sytrf (any sign). PETSc 3.18 only uses
   potrf when the factor matrix itself is flagged SPD, so the flag is set on the factor that
   PCFactorSetUpMatSolverType() creates. ScaLAPACK's Cholesky is always pdpotrf. */
static PetscErrorCode SetOperatorCholesky(KSP ksp, Mat H, PetscBool spd)
{
  PC        pc;
  Mat       F;
  PetscBool isdense, ischol;

  PetscFunctionBeginUser;
  PetscCall(KSPSetOperators(ksp, H, H));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PetscObjectTypeCompare((PetscObject)pc, PCCHOLESKY, &ischol));
  PetscCall(PetscObjectTypeCompare((PetscObject)H, MATSEQDENSE, &isdense));
  PetscCall(SetPackedSPD(H, spd));
  if (ischol && isdense) {
    PetscCall(PCFactorSetUpMatSolverType(pc));
    PetscCall(PCFactorGetMatrix(pc, &F));
    PetscCall(MatSetOption(F, MAT_SPD, spd));
  }
  PetscFunctionReturn(0);
}

/* Factor the Newton KSP's operator; *ok = PETSC_FALSE if the Cholesky factorization found M indefinite. */
static PetscErrorCode TryFactor(KSP ksp, PetscBool *ok)
{
  PetscErrorCode ierr;
  PC             pc;
  PCFailedReason reason = PC_NOERROR;

  PetscFunctionBeginUser;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = KSPSetUp(ksp);
  PetscCall(PetscPopErrorHandler());
  if (ierr && !IsIndefiniteError(ierr)) PetscCall(ierr);
  PetscCall(KSPGetPC(ksp, &pc));
  if (!ierr) PetscCall(PCGetFailedReason(pc, &reason));
  *ok = (PetscBool)(!ierr && reason == PC_NOERROR);
  PetscFunctionReturn(0);
}

/* Build the Hessian *H at x and take up to polish_its Newton steps x <- x - M^{-1} grad H, each
   solved by the Newton KSP: by default CG with a Jacobi preconditioner on the products with M (the
   positive-definiteness test is then the spectrum's factorization); with -khgps_newton_factor a
   Cholesky factorization per step, which also tests that M is positive definite. A step that
   does not lower ||grad H|| is undone. On return *H is the Hessian at the final x. */
PetscErrorCode KhgpsPolishAndCheck(KhgpsSolvers *s, KhgpsModel *m, const KhgpsParams *p, Mat *H, KhgpsResult *r)
{
  Vec       g, dx, xold;
  Mat       Hop = NULL; /* sparse: the Newton CG's products in global column order (repro.c) */
  PetscReal f, gnorm;

  PetscFunctionBeginUser;
  r->factor_ok   = PETSC_TRUE;
  r->polish_done = 0;
  PetscCall(KhgpsFormHessian(m, r->x, p->solver.htype, H));
  if (m->Jord) PetscCall(KhgpsOrderedShell(*H, &Hop));
  PetscCall(VecDuplicate(r->x, &g));
  PetscCall(VecDuplicate(r->x, &dx));
  PetscCall(VecDuplicate(r->x, &xold));
  PetscCall(KhgpsFormFunctionGradient(NULL, r->x, &r->energy, g, m));
  PetscCall(VecNorm(g, NORM_2, &r->gnorm));
  for (PetscInt k = 0; k < p->polish_its; k++) {
    PetscBool ok = PETSC_FALSE;
    PetscCall(SetOperatorCholesky(s->newton, *H, PETSC_TRUE));
    if (Hop) PetscCall(KSPSetOperators(s->newton, Hop, *H));
    PetscCall(TryFactor(s->newton, &ok));
    if (!ok) {
      r->factor_ok = PETSC_FALSE;
      break;
    }
    PetscCall(KSPSolve(s->newton, g, dx));
    PetscCall(VecCopy(r->x, xold));
    PetscCall(VecAXPY(r->x, -1.0, dx));
    PetscCall(KhgpsFormFunctionGradient(NULL, r->x, &f, g, m));
    PetscCall(VecNorm(g, NORM_2, &gnorm));
    if (!(gnorm < r->gnorm)) { /* no progress (rounding level reached): keep the previous point */
      PetscCall(VecCopy(xold, r->x));
      break;
    }
    r->energy = f;
    r->gnorm  = gnorm;
    r->polish_done++;
    PetscCall(KhgpsFormHessian(m, r->x, p->solver.htype, H));
    if (r->gnorm <= PETSC_SMALL * p->gtol) break;
  }
  PetscCall(KSPReset(s->newton)); /* frees the factor before the eigensolver makes its own */
  PetscCall(MatDestroy(&Hop));
  PetscCall(VecDestroy(&g));
  PetscCall(VecDestroy(&dx));
  PetscCall(VecDestroy(&xold));
  PetscFunctionReturn(0);
}

/* Lowest p->nev eigenpairs of H: eigenvalues (ascending), participation ratios, residuals.
   With a Cholesky shift-invert the factorization is a second positive-definiteness test; if it
   fails the matrix is factored as indefinite (dense only) so that a saddle's spectrum is kept. */
/* -khgps_save_modes: the eigenvectors of the K lowest of the n pairs (eigenvalues t[3 i]; pair i is
   the EPS's pair eps_index[i], or i if eps_index is NULL) into r, gathered on the first rank. */
PetscErrorCode KhgpsSaveModes(EPS eps, PetscInt K, PetscInt n, const PetscReal *t, const PetscInt *eps_index, Vec v, KhgpsResult *r)
{
  PetscReal *val;
  PetscInt  *idx;

  PetscFunctionBeginUser;
  K = PetscMin(K, n);
  if (K <= 0) PetscFunctionReturn(0);
  PetscCall(PetscMalloc2(n, &val, K, &idx));
  for (PetscInt i = 0; i < n; i++) val[i] = t[3 * i];
  KhgpsLowestIndices(n, val, K, idx);
  for (PetscInt j = 0; j < K; j++) {
    PetscCall(EPSGetEigenvector(eps, eps_index ? eps_index[idx[j]] : idx[j], v, NULL));
    PetscCall(KhgpsResultModeFromVec(r, K, j, v));
  }
  PetscCall(PetscFree2(val, idx));
  PetscFunctionReturn(0);
}

PetscErrorCode KhgpsSpectrum(KhgpsSolvers *s, KhgpsModel *m, const KhgpsParams *p, Mat H, KhgpsResult *r)
{
  PetscErrorCode ierr;
  PetscInt       nconv;
  Vec            v;
  PetscReal     *tmp;
  ST             st;
  KSP            ksp;

  PetscFunctionBeginUser;
  if (p->solver.block && m->packed.single && r->factor_ok) { /* the float32 factor and the outer iteration (blockeig.c) */
    PetscBLASInt info;
    r->nconv            = 0;
    r->factor_precision = KHGPS_FACTOR_SINGLE;
    PetscCall(KhgpsPackedFactor(m, PETSC_TRUE, &info)); /* if spotrf fails: the double buffer and potrf */
    if (m->packed.single) {
      PetscCall(KhgpsBlockSpectrum(s, m, p, r));
      if (r->nconv == p->nev) { /* the minimum test: the lowest eigenvalue less its error bound */
        r->factor_ok = (PetscBool)(r->eig[0] - r->resid[0] * PetscAbsReal(r->eig[0]) > 0);
        PetscFunctionReturn(0);
      }
      PetscCall(PetscInfo(NULL, "single precision: %" PetscInt_FMT " of %" PetscInt_FMT " pairs converged; falling back to double\n", r->nconv, p->nev));
      if (r->nconv) PetscCall(PetscFree3(r->eig, r->pr, r->resid));
      PetscCall(PetscFree(r->modes));
      r->nconv  = 0;
      r->nmodes = 0;
      PetscCall(KhgpsPackedToDouble(m));
      PetscCall(KhgpsPackedFactor(m, PETSC_TRUE, &info));
    }
    r->factor_precision = KHGPS_FACTOR_FALLBACK; /* the double path from here, as without single */
    if (info) {
      r->factor_ok = PETSC_FALSE;
      PetscCall(KhgpsPackedFactor(m, PETSC_FALSE, &info));
    }
    if (!info) PetscCall(KhgpsBlockSpectrum(s, m, p, r));
    PetscFunctionReturn(0);
  }
  r->factor_precision = m && m->packed.fell_back ? KHGPS_FACTOR_FALLBACK : m && m->packed.single ? KHGPS_FACTOR_SINGLE : KHGPS_FACTOR_DOUBLE;
  if (p->solver.block) { /* one in-place factorization: the minimum test, then the block eigensolver's solves */
    PetscBLASInt info;
    r->nconv = 0;
    if (m->packed.single) { /* indefinite by the Newton polish's factorization: LDL^T needs the double buffer */
      PetscCall(KhgpsPackedToDouble(m));
      r->factor_precision = KHGPS_FACTOR_FALLBACK;
    }
    PetscCall(KhgpsPackedFactor(m, r->factor_ok, &info));
    if (info && r->factor_ok) { /* not positive definite: a saddle, whose spectrum LDL^T gives */
      r->factor_ok = PETSC_FALSE;
      PetscCall(KhgpsPackedFactor(m, PETSC_FALSE, &info));
    }
    if (!info) PetscCall(KhgpsBlockSpectrum(s, m, p, r));
    PetscFunctionReturn(0);
  }
  if (p->sparse && p->solver.filter_degree > 0) { /* Krylov-Schur on a Chebyshev polynomial of M (filter.c) */
    PetscBool done;
    PetscCall(KhgpsFilterSpectrum(s, p, H, r, &done));
    if (done) PetscFunctionReturn(0);
    PetscCall(EPSSetWhichEigenpairs(s->eps, EPS_SMALLEST_REAL)); /* nothing to damp: the EPS on M */
  }
  PetscCall(EPSGetST(s->eps, &st));
  PetscCall(STGetKSP(st, &ksp));
  PetscCall(SetPackedSPD(H, r->factor_ok));
  PetscCall(EPSSetOperators(s->eps, H, NULL));
  PetscCall(SetOperatorCholesky(ksp, H, r->factor_ok));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = EPSSolve(s->eps);
  PetscCall(PetscPopErrorHandler());
  if (ierr) {
    PetscBool isdense;
    if (!IsIndefiniteError(ierr)) PetscCall(ierr);
    r->factor_ok = PETSC_FALSE;
    PetscCall(EPSReset(s->eps));
    PetscCall(PetscObjectTypeCompareAny((PetscObject)H, &isdense, MATSEQDENSE, MATSHELL, "")); /* dense or packed: LDL^T */
    if (isdense) {
      PetscCall(SetPackedSPD(H, PETSC_FALSE));
      PetscCall(EPSSetOperators(s->eps, H, NULL));
      PetscCall(SetOperatorCholesky(ksp, H, PETSC_FALSE));
      PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
      ierr = EPSSolve(s->eps);
      PetscCall(PetscPopErrorHandler());
      if (ierr && !IsIndefiniteError(ierr)) PetscCall(ierr);
    }
    if (!isdense || ierr) { /* no spectrum for this saddle */
      r->nconv = 0;
      PetscCall(EPSReset(s->eps));
      PetscFunctionReturn(0);
    }
  }
  PetscCall(EPSGetConverged(s->eps, &nconv));
  nconv = PetscMin(nconv, p->nev);
  PetscCall(PetscMalloc1(3 * nconv + 1, &tmp));
  PetscCall(MatCreateVecs(H, &v, NULL));
  for (PetscInt i = 0; i < nconv; i++) {
    PetscScalar kr;
    PetscCall(EPSGetEigenpair(s->eps, i, &kr, NULL, v, NULL));
    PetscCall(EPSComputeError(s->eps, i, EPS_ERROR_RELATIVE, &tmp[3 * i + 2]));
    PetscCall(KhgpsParticipationRatio(v, &tmp[3 * i + 1]));
    tmp[3 * i] = PetscRealPart(kr);
  }
  PetscCall(KhgpsSaveModes(s->eps, p->save_modes, nconv, tmp, NULL, v, r));
  PetscCall(KhgpsResultSetPairs(r, nconv, tmp));
  PetscCall(PetscFree(tmp));
  PetscCall(VecDestroy(&v));
  PetscCall(EPSReset(s->eps)); /* frees the factor and the basis before the next realization */
  PetscFunctionReturn(0);
}

/* Set-up: an EPS configuration that SLEPc cannot set up (an -eps_type with an -st_type it does not
   work with, say) refused before any work, by setting it up on a small diagonal operator in
   place of the Hessian (the combinations that fail do so whatever the storage). */
PetscErrorCode KhgpsSolversCheck(MPI_Comm comm, const KhgpsParams *p, KhgpsSolvers *s)
{
  Mat            D;
  PetscInt       n = PetscMin(p->N, PetscMax(4 * p->nev + 64, 1024)), rs, re; /* small, but as large as block methods need */
  PetscErrorCode ierr;
  char           msg[1024] = "";
  EPSType        et;
  STType         stt;
  ST             st;

  PetscFunctionBeginUser;
  if (p->solver.block) PetscFunctionReturn(0); /* the block eigensolver does not use the EPS */
  PetscCall(MatCreateAIJ(comm, PETSC_DECIDE, PETSC_DECIDE, n, n, 1, NULL, 0, NULL, &D));
  PetscCall(MatGetOwnershipRange(D, &rs, &re));
  for (PetscInt i = rs; i < re; i++) PetscCall(MatSetValue(D, i, i, (PetscScalar)(1 + i), INSERT_VALUES));
  PetscCall(MatAssemblyBegin(D, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(D, MAT_FINAL_ASSEMBLY));
  PetscCall(EPSGetType(s->eps, &et));
  PetscCall(EPSGetST(s->eps, &st));
  PetscCall(STGetType(st, &stt));
  { /* the storage's own factorization (a shell on the packed buffer, ScaLAPACK's on its storage)
       stands aside: an LU of D that works on any rank count instead */
    KSP         ksp;
    PC          pc;
    PetscBool   shell, factor;
    PetscMPIInt size;
    PetscCallMPI(MPI_Comm_size(comm, &size));
    PetscCall(STGetKSP(st, &ksp));
    PetscCall(KSPGetPC(ksp, &pc));
    PetscCall(PetscObjectTypeCompare((PetscObject)pc, PCSHELL, &shell));
    PetscCall(PetscObjectTypeCompareAny((PetscObject)pc, &factor, PCLU, PCCHOLESKY, ""));
    if (shell) PetscCall(PCSetType(pc, PCLU));
    if (shell || factor) PetscCall(PCFactorSetMatSolverType(pc, size > 1 ? MATSOLVERMUMPS : MATSOLVERPETSC));
  }
  PetscCall(EPSSetOperators(s->eps, D, NULL));
  PetscCall(PetscPushErrorHandler(KhgpsCaptureErrorHandler, msg));
  ierr = EPSSetUp(s->eps);
  PetscCall(PetscPopErrorHandler());
  PetscCall(MatDestroy(&D));
  PetscCheck(!ierr, comm, PETSC_ERR_USER_INPUT, "-eps_type %s with -st_type %s: SLEPc cannot set this eigensolver up (%s); nothing was run: use the default, or e.g. -eps_type krylovschur (or arnoldi, lapack, arpack, subspace) with -st_type sinvert or shift, -eps_type gd with -st_type precond", et, stt ? stt : "?", msg);
  PetscFunctionReturn(0);
}
