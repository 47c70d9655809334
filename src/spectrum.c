/* spectrum.c: the lowest eigenpairs of the Hessian at the minimum: the EPS (Krylov-Schur,
   shift-invert at 0 with the storage's Cholesky; sparse: on M or its Chebyshev filter, filter.c),
   made per realization, or the own block eigensolver on the packed factor (blockeig.c); and the
   set-up check of an EPS configuration. */
#include "khgps_options.h"
#include "khgps_model.h"
#include "khgps_result.h"
#include "khgps_solvers.h"
#include "khgps_error.h"

/* The EPS with khgps' defaults (p->solver), then EPSSetFromOptions last: any -eps_ or -st_ option wins. */
PetscErrorCode KhgpsEigensolverCreate(MPI_Comm comm, const KhgpsParams *p, EPS *eps)
{
  const KhgpsSolverOptions *o = &p->solver;
  ST                        st;
  KSP                       ksp;
  PC                        pc;

  PetscFunctionBeginUser;
  PetscCall(EPSCreate(comm, eps));
  PetscCall(EPSSetProblemType(*eps, EPS_HEP));
  PetscCall(EPSSetType(*eps, EPSKRYLOVSCHUR));
  PetscCall(EPSSetDimensions(*eps, p->nev, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(EPSSetTarget(*eps, 0.0));
  PetscCall(EPSSetWhichEigenpairs(*eps, EPS_TARGET_MAGNITUDE));
  PetscCall(EPSSetTolerances(*eps, 1e-12, PETSC_DEFAULT));
  PetscCall(EPSGetST(*eps, &st));
  PetscCall(STGetKSP(st, &ksp));
  PetscCall(KSPGetPC(ksp, &pc));
  if (p->sparse) { /* plain Krylov-Schur on M itself (no transformation), smallest real, a basis of
                      2 nev with 1 nev per restart: faster than Jacobi-Davidson with GMRES + Jacobi
                      (docs/benchmarks.md, sparse couplings); a sparse factorization of
                      a random graph fills in, so shift-invert would need an iterative inner solve */
    const PetscInt ncv = PetscMin(2 * p->nev, p->N);
    PetscCall(EPSSetWhichEigenpairs(*eps, o->filter_degree ? EPS_LARGEST_REAL : EPS_SMALLEST_REAL));
    PetscCall(EPSSetTolerances(*eps, o->filter_degree ? 1e-12 : 1e-10, PETSC_DEFAULT));
    PetscCall(EPSSetDimensions(*eps, p->nev, ncv, PetscMin(p->nev, ncv)));
    PetscCall(STSetType(st, STSHIFT));
  } else {
    PetscCall(STSetType(st, STSINVERT));
    PetscCall(KSPSetType(ksp, KSPPREONLY));
    PetscCall(KhgpsHessianDefaultFactor(pc, o->htype));
  }
  PetscCall(EPSSetFromOptions(*eps));
  if (p->sparse && o->filter_degree) { /* the lowest of M are the largest of the filter: checked, not set */
    EPSWhich  which;
    PetscBool set;
    PetscCall(EPSGetWhichEigenpairs(*eps, &which));
    PetscCheck(which == EPS_LARGEST_REAL, comm, PETSC_ERR_USER_INPUT, "-khgps_filter_degree %" PetscInt_FMT ": the EPS takes the largest eigenvalues of the filter polynomial (the lowest of M); drop the -eps_ choice of which eigenvalues, or use -khgps_filter_degree 0", o->filter_degree);
    PetscCall(PetscObjectTypeCompare((PetscObject)st, STSHIFT, &set));
    PetscCheck(set, comm, PETSC_ERR_USER_INPUT, "-khgps_filter_degree %" PetscInt_FMT ": the filter polynomial is the operator, so the ST must be shift; a preconditioned or inverted ST needs M itself: add -khgps_filter_degree 0", o->filter_degree);
  }
  PetscFunctionReturn(0);
}

/* Lowest p->nev eigenpairs of H: eigenvalues (ascending), participation ratios, residuals.
   With a Cholesky shift-invert the factorization is a second positive-definiteness test; if it
   fails the matrix is factored as indefinite (dense only) so that a saddle's spectrum is kept. */
static PetscErrorCode Spectrum(EPS eps, PetscReal tol, KhgpsModel *m, const KhgpsParams *p, Mat H, KhgpsResult *r)
{
  PetscErrorCode ierr;
  PetscInt       nconv;
  Vec            v;
  PetscReal     *tmp;
  ST             st;
  KSP            ksp;

  PetscFunctionBeginUser;
  if (p->solver.block && KhgpsPackedPrecision(m) == KHGPS_FACTOR_SINGLE && r->factor_ok) { /* the float32 factor and the outer iteration (blockeig.c) */
    PetscBLASInt info;
    r->nconv            = 0;
    r->factor_precision = KHGPS_FACTOR_SINGLE;
    PetscCall(KhgpsPackedFactor(m, PETSC_TRUE, &info)); /* if spotrf fails: the double buffer and potrf */
    if (KhgpsPackedPrecision(m) == KHGPS_FACTOR_SINGLE) {
      PetscCall(KhgpsBlockSpectrum(m, &p->solver, p->nev, p->save_modes, KhgpsParamsKey(p), tol, r));
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
    if (!info) PetscCall(KhgpsBlockSpectrum(m, &p->solver, p->nev, p->save_modes, KhgpsParamsKey(p), tol, r));
    PetscFunctionReturn(0);
  }
  r->factor_precision = KhgpsPackedPrecision(m);
  if (p->solver.block) { /* one in-place factorization: the minimum test, then the block eigensolver's solves */
    PetscBLASInt info;
    r->nconv = 0;
    if (KhgpsPackedPrecision(m) == KHGPS_FACTOR_SINGLE) { /* indefinite by the Newton polish's factorization: LDL^T needs the double buffer */
      PetscCall(KhgpsPackedToDouble(m));
      r->factor_precision = KHGPS_FACTOR_FALLBACK;
    }
    PetscCall(KhgpsPackedFactor(m, r->factor_ok, &info));
    if (info && r->factor_ok) { /* not positive definite: a saddle, whose spectrum LDL^T gives */
      r->factor_ok = PETSC_FALSE;
      PetscCall(KhgpsPackedFactor(m, PETSC_FALSE, &info));
    }
    if (!info) PetscCall(KhgpsBlockSpectrum(m, &p->solver, p->nev, p->save_modes, KhgpsParamsKey(p), tol, r));
    PetscFunctionReturn(0);
  }
  if (p->sparse && p->solver.filter_degree > 0) { /* Krylov-Schur on a Chebyshev polynomial of M (filter.c) */
    PetscBool done;
    PetscCall(KhgpsFilterSpectrum(eps, &p->solver, p->nev, p->save_modes, KhgpsParamsKey(p), H, r, &done));
    if (done) PetscFunctionReturn(0);
    PetscCall(EPSSetWhichEigenpairs(eps, EPS_SMALLEST_REAL)); /* nothing to damp: the EPS on M */
  }
  PetscCall(EPSGetST(eps, &st));
  PetscCall(STGetKSP(st, &ksp));
  PetscCall(KhgpsPackedSetSPD(H, r->factor_ok));
  PetscCall(EPSSetOperators(eps, H, NULL));
  PetscCall(KhgpsHessianSetCholesky(ksp, H, r->factor_ok));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = EPSSolve(eps);
  PetscCall(PetscPopErrorHandler());
  if (ierr) {
    PetscBool isdense;
    if (!KhgpsIndefiniteError(ierr)) PetscCall(ierr);
    r->factor_ok = PETSC_FALSE;
    PetscCall(EPSReset(eps));
    PetscCall(PetscObjectTypeCompareAny((PetscObject)H, &isdense, MATSEQDENSE, MATSHELL, "")); /* dense or packed: LDL^T */
    if (isdense) {
      PetscCall(KhgpsPackedSetSPD(H, PETSC_FALSE));
      PetscCall(EPSSetOperators(eps, H, NULL));
      PetscCall(KhgpsHessianSetCholesky(ksp, H, PETSC_FALSE));
      PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
      ierr = EPSSolve(eps);
      PetscCall(PetscPopErrorHandler());
      if (ierr && !KhgpsIndefiniteError(ierr)) PetscCall(ierr);
    }
    if (!isdense || ierr) { /* no spectrum for this saddle */
      r->nconv = 0;
      PetscCall(EPSReset(eps));
      PetscFunctionReturn(0);
    }
  }
  PetscCall(EPSGetConverged(eps, &nconv));
  nconv = PetscMin(nconv, p->nev);
  PetscCall(PetscMalloc1(3 * nconv + 1, &tmp));
  PetscCall(MatCreateVecs(H, &v, NULL));
  for (PetscInt i = 0; i < nconv; i++) {
    PetscScalar kr;
    PetscCall(EPSGetEigenpair(eps, i, &kr, NULL, v, NULL));
    PetscCall(EPSComputeError(eps, i, EPS_ERROR_RELATIVE, &tmp[3 * i + 2]));
    PetscCall(KhgpsParticipationRatio(v, &tmp[3 * i + 1]));
    tmp[3 * i] = PetscRealPart(kr);
  }
  PetscCall(KhgpsSaveModes(eps, p->save_modes, nconv, tmp, NULL, v, r));
  PetscCall(KhgpsResultSetPairs(r, nconv, tmp));
  PetscCall(PetscFree(tmp));
  PetscCall(VecDestroy(&v));
  PetscCall(EPSReset(eps)); /* frees the factor and the basis before the next realization */
  PetscFunctionReturn(0);
}

/* The lowest p->nev eigenpairs of the Hessian H at the minimum (above), by an EPS made for this
   realization alone; the own eigensolvers take its tolerance (-eps_tol) for a converged pair. */
PetscErrorCode KhgpsSpectrum(MPI_Comm comm, KhgpsModel *m, const KhgpsParams *p, Mat H, KhgpsResult *r)
{
  EPS       eps;
  PetscReal tol;

  PetscFunctionBeginUser;
  PetscCall(KhgpsEigensolverCreate(comm, p, &eps));
  PetscCall(EPSGetTolerances(eps, &tol, NULL));
  PetscCall(Spectrum(eps, tol, m, p, H, r));
  PetscCall(EPSDestroy(&eps));
  PetscFunctionReturn(0);
}

/* Set-up: an EPS configuration that SLEPc cannot set up (an -eps_type with an -st_type it does not
   work with, say) refused before any work, by setting it up on a small diagonal operator in
   place of the Hessian (the combinations that fail do so whatever the storage). */
PetscErrorCode KhgpsEigensolverCheck(MPI_Comm comm, const KhgpsParams *p, EPS eps)
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
  PetscCall(EPSGetType(eps, &et));
  PetscCall(EPSGetST(eps, &st));
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
  PetscCall(EPSSetOperators(eps, D, NULL));
  PetscCall(PetscPushErrorHandler(KhgpsCaptureErrorHandler, msg));
  ierr = EPSSetUp(eps);
  PetscCall(PetscPopErrorHandler());
  PetscCall(MatDestroy(&D));
  PetscCheck(!ierr, comm, PETSC_ERR_USER_INPUT, "-eps_type %s with -st_type %s: SLEPc cannot set this eigensolver up (%s); nothing was run: use the default, or e.g. -eps_type krylovschur (or arnoldi, lapack, arpack, subspace) with -st_type sinvert or shift, -eps_type gd with -st_type precond", et, stt ? stt : "?", msg);
  PetscFunctionReturn(0);
}
