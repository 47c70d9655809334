/* main.c: khgps, an ensemble of realizations of the KHGPS model from options to one HDF5 file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "khgps_options.h"
#include "khgps_log.h"
#include "khgps_solvers.h"
#include "khgps_io.h"
#include "khgps_ensemble.h"
#include "khgps_kernels.h"

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

/* This process's rank as the MPI launcher tells it, before MPI is initialized (0 if none does). */
static int LauncherRank(void)
{
  const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
  for (size_t k = 0; k < sizeof(vars) / sizeof(vars[0]); k++) {
    const char *v = getenv(vars[k]);
    if (v && *v) return atoi(v);
  }
  return 0;
}

/* Before PETSc starts: every -options_file on the command line must be a readable file (PETSc would
   stop with a traceback). Every rank checks (no MPI yet), rank 0 says why. Returns 1 on a problem. */
static int CheckOptionsFiles(int argc, char **argv)
{
  for (int i = 1; i + 1 < argc; i++) {
    const char *name = argv[i + 1];
    FILE       *f;
    char        buf[4096];
    int         err = 0;
    if (strcmp(argv[i], "-options_file") || strchr(name, '$') || name[0] == '~') continue; /* PETSc expands those itself */
    if (!(f = fopen(name, "r"))) err = errno;
    else {
      while (fread(buf, 1, sizeof(buf), f) == sizeof(buf)) { }
      if (ferror(f)) err = errno ? errno : EIO;
      fclose(f);
    }
    if (err) {
      if (LauncherRank() == 0) fprintf(stderr, "khgps: error: cannot read options file %s: %s\n", name, strerror(err));
      return 1;
    }
  }
  return 0;
}

/* PETSc could not start (an options file it cannot parse): its message in one line from rank 0,
   exit code 2. Rank 0 alone reads options files, the others wait for it: they are aborted. */
static int InitializeFailed(PetscErrorCode ierr)
{
  const char *text = NULL;
  char       *specific = NULL;
  int         init = 0, fin = 0, rank = 0, size = 1;

  (void)PetscErrorMessage(ierr, &text, &specific);
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  if (init && !fin) {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
  }
  if (rank == 0) fprintf(stderr, "khgps: error: %s\n", specific && specific[0] ? specific : text && text[0] ? text : "PETSc could not start");
  if (init && !fin) {
    if (size > 1) MPI_Abort(MPI_COMM_WORLD, 2);
    MPI_Finalize();
  }
  return 2;
}

/* Options, solvers and the output file: everything that can refuse the input, before any work.
   -help: the options have been printed, *helped is set and nothing else is done. */
static PetscErrorCode Setup(MPI_Comm comm, KhgpsParams *p, PetscInt *ntodo, PetscInt **todo, PetscBool *helped)
{
  KhgpsSolvers s = {0};

  PetscFunctionBeginUser;
  PetscCall(KhgpsProcessOptions(comm, p));    /* every -khgps_ option, once */
  PetscCall(KhgpsSolversCreate(comm, p, &s)); /* the solvers' own options (-tao_*, -eps_*, -khgps_newton_*), checked once */
  PetscCall(KhgpsOutputDescribe(&s, p));       /* the file's /params (physics, protocol) and this run's description */
  PetscCall(KhgpsSolversDestroy(&s));
  PetscCall(KhgpsCheckUnusedOptions(comm, "khgps_newton_mat_")); /* a misspelled -khgps_ option is caught here */
  PetscCall(PetscOptionsHasHelp(NULL, helped));
  if (*helped) PetscFunctionReturn(0);
  PetscCall(KhgpsCheckMemory(comm, p));
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
  PetscBool      helped = PETSC_FALSE, quiet;
  PetscErrorCode ierr;

  if (CheckOptionsFiles(argc, argv)) return 2;
  PetscErrorPrintf = PetscErrorPrintfNone; /* PetscInitialize's own errors: one line below */
  ierr = SlepcInitialize(&argc, &argv, NULL, help);
  if (ierr) return InitializeFailed(ierr);
  PetscCall(PetscOptionsHasName(NULL, NULL, "-error_output_none", &quiet));
  if (!quiet) PetscErrorPrintf = PetscErrorPrintfDefault;
  PetscCall(KhgpsLogRegister());
  PetscCall(KhgpsSignalsInstall(NULL));
  PetscCall(PetscPushErrorHandler(OneLineErrorHandler, NULL));
  ierr = Setup(PETSC_COMM_WORLD, &p, &ntodo, &todo, &helped);
  PetscCall(PetscPopErrorHandler());
  if (ierr || helped) {
    PetscCall(PetscFree(todo));
    PetscCall(SlepcFinalize());
    return ierr ? 2 : 0;
  }
  PetscCall(KhgpsSignalsInstall(p.output));
  ierr = KhgpsRunEnsemble(PETSC_COMM_WORLD, &p, ntodo, todo);
  if (!ierr) { /* the log folded into the file: FILE alone holds the run */
    PetscMPIInt rank;
    char        amsg[KHGPS_MSG_LEN] = "";
    PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
    if (rank == 0) {
      PetscCall(PetscPushErrorHandler(KhgpsCaptureErrorHandler, amsg));
      ierr = KhgpsFinishOutput(&p);
      PetscCall(PetscPopErrorHandler());
      if (ierr) {
        PetscCall(PetscFPrintf(PETSC_COMM_SELF, stderr, "khgps: error: cannot fold %s.pending into %s: %s; both keep every realization (readers and the next run read both): free the space or fix the cause, then run again\n", p.output, p.output, amsg));
        ierr = KHGPS_ERR_REPORTED;
      }
    }
    PetscCallMPI(MPI_Bcast(&ierr, 1, MPI_INT, 0, PETSC_COMM_WORLD));
  }
  if (ierr == KHGPS_ERR_REPORTED) { /* reported in one line: the file keeps what it held */
    if (KhgpsOutputBroken()) { /* HDF5 holds a file it could not close: it would crash at MPI_Finalize */
      fflush(NULL);
      _exit(2);
    }
    PetscCall(PetscFree(todo));
    PetscCall(SlepcFinalize());
    return 2;
  }
  PetscCall(ierr);
  PetscCall(PetscFree(todo));
  PetscCall(LogView());
  PetscCall(SlepcFinalize());
  return 0;
}
