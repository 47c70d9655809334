/* minimize.c: TAO minimization of H from the starting point (x = 0, random or thermal: thermal.c). */
#include "khgps_options.h"
#include "khgps_rng.h"
#include "khgps_model.h"
#include "khgps_result.h"
#include "khgps_solvers.h"
#include "khgps_thermal.h"

/* Defaults in code, then TaoSetFromOptions last: any -tao_* choice wins. */
PetscErrorCode KhgpsMinimizerCreate(MPI_Comm comm, const KhgpsParams *p, Tao *tao)
{
  PetscFunctionBeginUser;
  PetscCall(TaoCreate(comm, tao));
  PetscCall(TaoSetType(*tao, TAOBNCG));
  PetscCall(TaoSetTolerances(*tao, p->gtol, 0.0, 0.0));
  PetscCall(TaoSetMaximumIterations(*tao, 200000));
  PetscCall(TaoSetMaximumFunctionEvaluations(*tao, 400000));
  PetscCall(TaoSetFromOptions(*tao));
  PetscFunctionReturn(0);
}

PetscErrorCode KhgpsMinimize(Tao tao, KhgpsModel *m, const KhgpsParams *p, KhgpsResult *r)
{
  PetscReal cnorm, xdiff;

  PetscFunctionBeginUser;
  PetscCall(VecDuplicate(m->kappa, &r->x));
  PetscCall(PetscObjectSetName((PetscObject)r->x, "x"));
  PetscCall(KhgpsStartingPoint(m, p, r->x, &r->thermal)); /* zero, random or thermal (thermal.c) */
  PetscCall(TaoSetSolution(tao, r->x));
  PetscCall(TaoSetObjectiveAndGradient(tao, NULL, KhgpsFormFunctionGradient, m));
  PetscCall(TaoSolve(tao));
  PetscCall(TaoGetSolutionStatus(tao, &r->tao_its, &r->energy, &r->gnorm_tao, &cnorm, &xdiff, &r->tao_reason));
  PetscCall(TaoGetCurrentFunctionEvaluations(tao, &r->tao_nfuncs));
  r->gnorm = r->gnorm_tao;
  PetscFunctionReturn(0);
}
