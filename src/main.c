/* main.c: khgps, one realization of the KHGPS model from options to an HDF5 file. */
#include "khgps.h"

static const char help[] = "khgps: minima and low-frequency spectra of the KHGPS model (see README.md).\n"
                           "  mpiexec -n P khgps -options_file options/quick.opts [-khgps_* -tao_* -eps_* -st_* ...]\n";

/* Input errors: one line on stderr (from rank 0), no traceback. */
static PetscErrorCode OneLineErrorHandler(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  PetscMPIInt rank;
  (void)comm, (void)line, (void)fun, (void)file, (void)ctx;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (p == PETSC_ERROR_INITIAL && rank == 0) fprintf(stderr, "khgps: error: %s\n", mess ? mess : "(no message)");
  return n;
}

/* Options, solvers and output checks: everything that can refuse the input, before any work. */
static PetscErrorCode Setup(MPI_Comm comm, KhgpsParams *p, KhgpsSolvers *s)
{
  PetscFunctionBeginUser;
  PetscCall(KhgpsProcessOptions(comm, p));
  PetscCall(KhgpsSolversCreate(comm, p, s));
  PetscCall(KhgpsCheckUnusedOptions(comm, "khgps_newton_mat_"));
  PetscCall(KhgpsCheckOutput(comm, p));
  PetscFunctionReturn(0);
}

PetscErrorCode KhgpsResultDestroy(KhgpsResult *r)
{
  PetscFunctionBeginUser;
  PetscCall(VecDestroy(&r->x));
  PetscCall(PetscFree3(r->eig, r->pr, r->resid));
  PetscFunctionReturn(0);
}

/* Draw, minimize (TAO + Newton polish), spectrum, write: one realization, timed per stage. */
static PetscErrorCode RunRealization(MPI_Comm comm, const KhgpsParams *p, KhgpsSolvers *s)
{
  static PetscLogStage stage[4];
  KhgpsModel           m = {0};
  KhgpsResult          r = {0};
  Mat                  H = NULL;
  PetscLogDouble       t0, t1;
  const char          *taotype;

  PetscFunctionBeginUser;
  if (!stage[0]) {
    PetscCall(PetscLogStageRegister("Draw", &stage[0]));
    PetscCall(PetscLogStageRegister("Minimize", &stage[1]));
    PetscCall(PetscLogStageRegister("Spectrum", &stage[2]));
    PetscCall(PetscLogStageRegister("Write", &stage[3]));
  }
  PetscCall(PetscTime(&t0));
  PetscCall(PetscLogStagePush(stage[0]));
  PetscCall(KhgpsModelCreate(comm, p, &m));
  PetscCall(PetscLogStagePop());
  PetscCall(PetscTime(&t1));
  r.t_draw = t1 - t0;

  PetscCall(PetscLogStagePush(stage[1]));
  PetscCall(KhgpsMinimize(s->tao, &m, p, &r));
  PetscCall(KhgpsPolishAndCheck(s, &m, p, &H, &r));
  PetscCall(PetscLogStagePop());
  PetscCall(PetscTime(&t0));
  r.t_minimize = t0 - t1;

  PetscCall(PetscLogStagePush(stage[2]));
  PetscCall(KhgpsSpectrum(s, &m, p, H, &r));
  PetscCall(MatDestroy(&H));
  PetscCall(PetscLogStagePop());
  PetscCall(PetscTime(&t1));
  r.t_spectrum = t1 - t0;

  if (r.gnorm > p->gtol) r.status = KHGPS_NOT_CONVERGED;
  else if (!r.factor_ok || (r.nconv && r.eig[0] <= 0)) r.status = KHGPS_SADDLE;
  else r.status = KHGPS_MINIMUM;

  PetscCall(TaoGetType(s->tao, &taotype));
  PetscCall(PetscPrintf(comm, "khgps: realization %" PetscInt_FMT ": %s %" PetscInt_FMT " its (%s), |grad H| %.2e -> %.2e after %" PetscInt_FMT " Newton step(s), lowest eigenvalue %.6e, %s; draw %.2f s, minimize %.2f s, spectrum %.2f s\n", p->realization, taotype, r.tao_its,
                        TaoConvergedReasons[r.tao_reason], (double)r.gnorm_tao, (double)r.gnorm, r.polish_done, r.nconv ? (double)r.eig[0] : (double)NAN, KhgpsStatusNames[r.status], r.t_draw, r.t_minimize, r.t_spectrum));
  if (r.status != KHGPS_MINIMUM) PetscCall(PetscPrintf(comm, "khgps: WARNING: realization %" PetscInt_FMT " is not a minimum (%s); it is recorded as such\n", p->realization, KhgpsStatusNames[r.status]));

  PetscCall(PetscLogStagePush(stage[3]));
  PetscCall(KhgpsWrite(comm, p, s, &m, &r));
  PetscCall(PetscLogStagePop());
  PetscCall(KhgpsResultDestroy(&r));
  PetscCall(KhgpsModelDestroy(&m));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  MPI_Comm       comm;
  KhgpsParams    p;
  KhgpsSolvers   s = {0};
  PetscErrorCode ierr;

  PetscCall(SlepcInitialize(&argc, &argv, NULL, help));
  comm = PETSC_COMM_WORLD;
  PetscCall(PetscPushErrorHandler(OneLineErrorHandler, NULL));
  ierr = Setup(comm, &p, &s);
  PetscCall(PetscPopErrorHandler());
  if (ierr) {
    PetscCall(SlepcFinalize());
    return 2;
  }
  PetscCall(RunRealization(comm, &p, &s));
  PetscCall(KhgpsSolversDestroy(&s));
  PetscCall(SlepcFinalize());
  return 0;
}
