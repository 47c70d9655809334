/* main.c: khgps, an ensemble of realizations of the KHGPS model from options to one HDF5 file. */
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

/* Options, solvers and the output file: everything that can refuse the input, before any work. */
static PetscErrorCode Setup(MPI_Comm comm, KhgpsParams *p, PetscInt *ntodo, PetscInt **todo)
{
  KhgpsSolvers s = {0};

  PetscFunctionBeginUser;
  PetscCall(KhgpsProcessOptions(comm, p));
  PetscCall(KhgpsSolversCreate(comm, p, &s)); /* reads every solver option once, so that ... */
  PetscCall(KhgpsSolversDestroy(&s));
  PetscCall(KhgpsCheckUnusedOptions(comm, "khgps_newton_mat_")); /* ... a misspelled -khgps_ option is caught here */
  PetscCall(KhgpsPrepareOutput(comm, p, ntodo, todo));
  { /* OpenBLAS's generic kernels on an AVX2/AVX-512 processor cost a factor 3 (README "Clusters") */
    char msg[512];
    PetscCall(KhgpsBLASCoreWarning(msg, sizeof(msg)));
    if (msg[0]) PetscCall(PetscPrintf(comm, "%s", msg));
  }
  PetscFunctionReturn(0);
}

/* -log_view here rather than in PetscFinalize, so that the BLAS core heads it (the same output,
   viewer and format as PETSc's own; the option is then cleared so that it is not printed twice). */
static PetscErrorCode LogView(void)
{
  PetscViewer       viewer;
  PetscViewerFormat format;
  PetscBool         flg;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetViewer(PETSC_COMM_WORLD, NULL, NULL, "-log_view", &viewer, &format, &flg));
  if (!flg) PetscFunctionReturn(0);
  PetscCall(PetscViewerPushFormat(viewer, format));
  PetscCall(PetscViewerASCIIPrintf(viewer, "khgps BLAS core: %s\n", KhgpsBLASCore()));
  PetscCall(PetscLogView(viewer));
  PetscCall(PetscViewerPopFormat(viewer));
  PetscCall(PetscViewerDestroy(&viewer));
  PetscCall(PetscOptionsClearValue(NULL, "-log_view"));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  KhgpsParams    p;
  PetscInt       ntodo = 0, *todo = NULL;
  PetscErrorCode ierr;

  PetscCall(SlepcInitialize(&argc, &argv, NULL, help));
  PetscCall(PetscPushErrorHandler(OneLineErrorHandler, NULL));
  ierr = Setup(PETSC_COMM_WORLD, &p, &ntodo, &todo);
  PetscCall(PetscPopErrorHandler());
  if (ierr) {
    PetscCall(SlepcFinalize());
    return 2;
  }
  PetscCall(KhgpsRunEnsemble(PETSC_COMM_WORLD, &p, ntodo, todo));
  PetscCall(PetscFree(todo));
  PetscCall(LogView());
  PetscCall(SlepcFinalize());
  return 0;
}
