/* minimize.c: TAO minimization of H from x = 0 (or a random start). */
#include "khgps_options.h"
#include "khgps_rng.h"
#include "khgps_model.h"
#include "khgps_result.h"
#include "khgps_solvers.h"

enum { STREAM_X0 = 2 };

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
  if (p->x0_amplitude > 0) {
    PetscInt     rs, re;
    PetscScalar *x;
    PetscCall(VecGetOwnershipRange(r->x, &rs, &re));
    PetscCall(VecGetArrayWrite(r->x, &x));
    for (PetscInt i = rs; i < re; i++) x[i - rs] = p->x0_amplitude * (2.0 * KhgpsUniform(p->seed, p->realization, STREAM_X0, i) - 1.0);
    PetscCall(VecRestoreArrayWrite(r->x, &x));
  } else PetscCall(VecZeroEntries(r->x));
  PetscCall(TaoSetSolution(tao, r->x));
  PetscCall(TaoSetObjectiveAndGradient(tao, NULL, KhgpsFormFunctionGradient, m));
  PetscCall(TaoSolve(tao));
  PetscCall(TaoGetSolutionStatus(tao, &r->tao_its, &r->energy, &r->gnorm_tao, &cnorm, &xdiff, &r->tao_reason));
  PetscCall(TaoGetCurrentFunctionEvaluations(tao, &r->tao_nfuncs));
  r->gnorm = r->gnorm_tao;
  PetscFunctionReturn(0);
}
