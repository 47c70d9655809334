/* test_derivatives.c: the gradient against central differences of the energy, and the Hessian
   against central differences of the gradient, at random points (any number of ranks).
   Prints PASS:/FAIL: lines (tests/run.sh counts them) and exits non-zero on a failure. */
#include "khgps.h"

static PetscErrorCode Check(MPI_Comm comm, PetscBool ok, const char *what, PetscReal err, PetscInt *nfail)
{
  PetscFunctionBeginUser;
  PetscCall(PetscPrintf(comm, "%s: %s (max rel err %.2e)\n", ok ? "PASS" : "FAIL", what, (double)err));
  if (!ok) (*nfail)++;
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  MPI_Comm    comm;
  KhgpsParams p;
  KhgpsModel  m = {0};
  Vec         x, xp, g, gp, gm, v, Hv;
  Mat         H = NULL;
  PetscRandom rnd;
  PetscReal   f, fp, fm, eps = 1e-5, err, gerr = 0, herr = 0, gv, scale;
  PetscInt    nfail = 0, rs, re;
  PetscMPIInt size;
  char        what[256];
  PetscBool   packed = PETSC_FALSE;

  PetscCall(SlepcInitialize(&argc, &argv, NULL, "derivative checks"));
  PetscCall(KhgpsLogRegister());
  comm = PETSC_COMM_WORLD;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(KhgpsProcessOptions(comm, &p));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-packed", &packed, NULL));                             /* J and the Hessian in one buffer */
  p.solver.htype = packed ? KHGPS_PACKED : p.sparse ? MATAIJ : size == 1 ? MATDENSE : MATSCALAPACK; /* the storage under test */
  PetscCall(KhgpsModelCreate(comm, &p, &m));
  PetscCall(VecDuplicate(m.kappa, &x));
  PetscCall(VecDuplicate(x, &xp));
  PetscCall(VecDuplicate(x, &g));
  PetscCall(VecDuplicate(x, &gp));
  PetscCall(VecDuplicate(x, &gm));
  PetscCall(VecDuplicate(x, &v));
  PetscCall(VecDuplicate(x, &Hv));
  PetscCall(PetscRandomCreate(comm, &rnd));
  PetscCall(PetscRandomSetInterval(rnd, -1.0, 1.0));
  PetscCall(VecGetOwnershipRange(x, &rs, &re));
  for (PetscInt trial = 0; trial < 3; trial++) {
    PetscCall(VecSetRandom(x, rnd));
    PetscCall(VecScale(x, 0.5 * (trial + 1)));
    PetscCall(KhgpsFormFunctionGradient(NULL, x, &f, g, &m));
    /* gradient: every component by central differences of H */
    for (PetscInt i = 0; i < p.N; i++) {
      PetscReal gi = 0;
      PetscCall(VecCopy(x, xp));
      if (i >= rs && i < re) PetscCall(VecSetValue(xp, i, eps, ADD_VALUES));
      PetscCall(VecAssemblyBegin(xp));
      PetscCall(VecAssemblyEnd(xp));
      PetscCall(KhgpsFormFunctionGradient(NULL, xp, &fp, gp, &m));
      PetscCall(VecCopy(x, xp));
      if (i >= rs && i < re) PetscCall(VecSetValue(xp, i, -eps, ADD_VALUES));
      PetscCall(VecAssemblyBegin(xp));
      PetscCall(VecAssemblyEnd(xp));
      PetscCall(KhgpsFormFunctionGradient(NULL, xp, &fm, gp, &m));
      if (i >= rs && i < re) {
        const PetscScalar *ga;
        PetscCall(VecGetArrayRead(g, &ga));
        gi = PetscRealPart(ga[i - rs]);
        PetscCall(VecRestoreArrayRead(g, &ga));
        err  = PetscAbsReal((fp - fm) / (2 * eps) - gi) / PetscMax(PetscAbsReal(gi), 1e-3);
        gerr = PetscMax(gerr, err);
      }
    }
    /* Hessian: M v against (g(x + eps v) - g(x - eps v)) / (2 eps), for the storage in use */
    PetscCall(VecSetRandom(v, rnd));
    PetscCall(KhgpsFormHessian(&m, x, &H)); /* in the model's storage */
    PetscCall(MatMult(H, v, Hv));
    PetscCall(VecWAXPY(xp, eps, v, x));
    PetscCall(KhgpsFormFunctionGradient(NULL, xp, &fp, gp, &m));
    PetscCall(VecWAXPY(xp, -eps, v, x));
    PetscCall(KhgpsFormFunctionGradient(NULL, xp, &fm, gm, &m));
    PetscCall(VecAXPY(gp, -1.0, gm));
    PetscCall(VecScale(gp, 1.0 / (2 * eps)));
    PetscCall(VecNorm(Hv, NORM_INFINITY, &scale));
    PetscCall(VecAXPY(gp, -1.0, Hv));
    PetscCall(VecNorm(gp, NORM_INFINITY, &err));
    herr = PetscMax(herr, err / scale);
    PetscCall(MatDestroy(&H));
    /* and the gradient along v as a whole, a check of the reductions */
    PetscCall(VecDot(g, v, &gv));
    (void)gv;
  }
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &gerr, 1, MPIU_REAL, MPIU_MAX, comm));
  PetscCall(PetscSNPrintf(what, sizeof(what), "gradient = central differences of H, N=%" PetscInt_FMT " J=%g h=%g A=%g, %d rank(s)%s", p.N, (double)p.J, (double)p.h, (double)p.A, size, packed ? ", packed storage" : ""));
  PetscCall(Check(comm, (PetscBool)(gerr < 1e-7), what, gerr, &nfail));
  PetscCall(PetscSNPrintf(what, sizeof(what), "Hessian M v = central differences of the gradient, N=%" PetscInt_FMT ", %d rank(s)%s", p.N, size, packed ? ", packed storage" : ""));
  PetscCall(Check(comm, (PetscBool)(herr < 1e-7), what, herr, &nfail));
  PetscCall(PetscRandomDestroy(&rnd));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&xp));
  PetscCall(VecDestroy(&g));
  PetscCall(VecDestroy(&gp));
  PetscCall(VecDestroy(&gm));
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&Hv));
  PetscCall(KhgpsModelDestroy(&m));
  PetscCall(SlepcFinalize());
  return nfail ? 1 : 0;
}
