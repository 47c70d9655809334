/* factor.c: the Hessian's Cholesky factorization as the Newton polish (minimize.c) and the
   shift-invert spectrum (spectrum.c) both use it: the default factorization of each storage,
   potrf or sytrf, and the errors by which a factorization reports an indefinite matrix. */
#include "khgps_options.h"
#include "khgps_model.h"
#include "khgps_solvers.h"

/* The default factorization of a Hessian storage: Cholesky by LAPACK (dense), ScaLAPACK, MUMPS
   (sparse), or the in-place one of the packed buffer. */
PetscErrorCode KhgpsHessianDefaultFactor(PC pc, MatType htype)
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

/* A Cholesky factorization reports an indefinite matrix by these errors (LAPACK potrf: zero
   pivot; ScaLAPACK pdpotrf: library error with info > 0). */
PetscBool KhgpsIndefiniteError(PetscErrorCode ierr)
{
  return (PetscBool)(ierr == PETSC_ERR_MAT_CH_ZRPVT || ierr == PETSC_ERR_LIB);
}

/* Give ksp the operator H and, for a dense Cholesky, ask for LAPACK potrf (a true Cholesky that
   fails on an indefinite matrix) or, with spd false, for sytrf (any sign). PETSc 3.18 only uses
   potrf when the factor matrix itself is flagged SPD, so the flag is set on the factor that
   PCFactorSetUpMatSolverType() creates. ScaLAPACK's Cholesky is always pdpotrf; the packed
   storage reads the choice from its shell (KhgpsPackedSetSPD). */
PetscErrorCode KhgpsHessianSetCholesky(KSP ksp, Mat H, PetscBool spd)
{
  PC        pc;
  Mat       F;
  PetscBool isdense, ischol;

  PetscFunctionBeginUser;
  PetscCall(KSPSetOperators(ksp, H, H));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PetscObjectTypeCompare((PetscObject)pc, PCCHOLESKY, &ischol));
  PetscCall(PetscObjectTypeCompare((PetscObject)H, MATSEQDENSE, &isdense));
  PetscCall(KhgpsPackedSetSPD(H, spd));
  if (ischol && isdense) {
    PetscCall(PCFactorSetUpMatSolverType(pc));
    PetscCall(PCFactorGetMatrix(pc, &F));
    PetscCall(MatSetOption(F, MAT_SPD, spd));
  }
  PetscFunctionReturn(0);
}
