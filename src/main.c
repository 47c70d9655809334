/* main.c: khgps, an ensemble of realizations of the KHGPS model from options to one HDF5 file. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "khgps_options.h"
#include "khgps_log.h"
#include "khgps_solvers.h"
#include "khgps_outfile.h"
#include "khgps_describe.h"
#include "khgps_error.h"
#include "khgps_ensemble.h"
#include "khgps_platform.h"

static const char help[] = "khgps " KHGPS_VERSION ": minima and low-frequency spectra of the KHGPS model (see README.md).\n"
                           "  mpiexec -n P khgps -options_file options/quick.opts [-khgps_* -tao_* -eps_* -st_* ...]\n";

/* Input errors: one line on stderr (from rank 0), no traceback. */
static PetscErrorCode OneLineErrorHandler(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  PetscMPIInt rank;
  (void)comm, (void)line, (void)fun, (void)file, (void)ctx;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (p == PETSC_ERROR_INITIAL && rank == 0) {
    char named[1024];
    KhgpsNameOptionInMessage(mess ? mess : "(no message)", named, sizeof(named)); /* which option's value */
    fprintf(stderr, "khgps: error: %s\n", named);
  }
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

/* Options file `name` (to be included) and the files it includes through -options_file lines, as
   PETSc will read them: a file that includes itself, directly or through others, would make PETSc
   recurse until the stack overflows. chain: the (device, inode) pairs of the files being read. */
#define KHGPS_MAX_INCLUDE 32
static int ScanOptionsFile(const char *name, dev_t *dev, ino_t *ino, int depth, int rank)
{
  struct stat st;
  FILE       *f;
  char        line[8192];
  int         err = 0;

  if (strchr(name, '$') || name[0] == '~') return 0; /* PETSc expands those itself */
  if (stat(name, &st)) err = errno;
  else if (S_ISDIR(st.st_mode)) err = EISDIR;
  else if (access(name, R_OK)) err = errno;
  if (err) {
    if (rank == 0) fprintf(stderr, "khgps: error: cannot read options file %s: %s; nothing was run\n", name, strerror(err));
    return 1;
  }
  if (!S_ISREG(st.st_mode)) return 0; /* a stream: copied if on the command line (CopyStream); one named inside a file is PETSc's */
  for (int k = 0; k < depth; k++)
    if (dev[k] == st.st_dev && ino[k] == st.st_ino) {
      if (rank == 0) fprintf(stderr, "khgps: error: options file %s includes itself (-options_file, %s); nothing was run\n", name, k + 1 == depth ? "directly" : "through the files it includes");
      return 1;
    }
  if (depth == KHGPS_MAX_INCLUDE) {
    if (rank == 0) fprintf(stderr, "khgps: error: options files include each other more than %d deep (at %s); nothing was run\n", KHGPS_MAX_INCLUDE, name);
    return 1;
  }
  dev[depth] = st.st_dev;
  ino[depth] = st.st_ino;
  if (!(f = fopen(name, "r"))) return 0; /* PETSc says why */
  while (fgets(line, sizeof(line), f)) { /* as PETSc reads it: '#' comments, "-option value" */
    char *save, *key, *val;
    line[strcspn(line, "#")] = 0;
    if (!(key = strtok_r(line, " \t\r\n", &save)) || strcasecmp(key, "-options_file") || !(val = strtok_r(NULL, " \t\r\n", &save))) continue;
    if (ScanOptionsFile(val, dev, ino, depth + 1, rank)) {
      fclose(f);
      return 1;
    }
  }
  fclose(f);
  return 0;
}

/* A stream given as an options file (-options_file /dev/stdin, <(...)): PETSc 3.18 opens a file
   twice (once to look for YAML, reading a buffer's worth of a stream, then to read it), so the
   launcher's rank 0 (the one that reads options files) reads the stream once into an unlinked
   temporary file that PETSc reads as /proc/self/fd/N. Returns the new name or NULL (errno). */
static char *CopyStream(const char *name)
{
  char        tmpl[PATH_MAX], buf[65536], *copy;
  FILE       *in;
  size_t      n;
  int         fd, ok = 1;
  const char *dir = getenv("TMPDIR");

  snprintf(tmpl, sizeof(tmpl), "%s/khgps-options-XXXXXX", dir && *dir ? dir : "/tmp");
  if (!(in = fopen(name, "r"))) return NULL;
  if ((fd = mkstemp(tmpl)) < 0) {
    fclose(in);
    return NULL;
  }
  unlink(tmpl); /* gone when the process ends, however it ends */
  while (ok && (n = fread(buf, 1, sizeof(buf), in)) > 0) ok = write(fd, buf, n) == (ssize_t)n;
  ok = ok && !ferror(in);
  fclose(in);
  if (!ok || !(copy = malloc(32))) {
    close(fd);
    errno = errno ? errno : EIO;
    return NULL;
  }
  snprintf(copy, 32, "/proc/self/fd/%d", fd);
  return copy;
}

/* Before PETSc starts: every -options_file on the command line must be a readable file that does
   not include itself (PETSc would stop with a traceback, or crash). Regular files are only looked
   at (stat, and a scan for -options_file lines); a stream is read once (CopyStream). Every rank
   checks (no MPI yet), rank 0 says why. Returns 1 on a problem. */
static int CheckOptionsFiles(int argc, char **argv)
{
  dev_t       dev[KHGPS_MAX_INCLUDE + 1];
  ino_t       ino[KHGPS_MAX_INCLUDE + 1];
  struct stat st;
  const int   rank = LauncherRank();

  for (int i = 1; i + 1 < argc; i++) {
    if (strcasecmp(argv[i], "-options_file") || argv[i + 1][0] == '-') continue;
    if (rank == 0 && !strchr(argv[i + 1], '$') && argv[i + 1][0] != '~' && !stat(argv[i + 1], &st) && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
      char *copy = CopyStream(argv[i + 1]);
      if (!copy) {
        fprintf(stderr, "khgps: error: cannot read options file %s: %s; nothing was run\n", argv[i + 1], strerror(errno));
        return 1;
      }
      argv[i + 1] = copy;
    }
    if (ScanOptionsFile(argv[i + 1], dev, ino, 0, rank)) return 1;
  }
  { /* the files PETSc reads by itself, and -options_file in PETSC_OPTIONS: loops there too */
    const char *env = getenv("PETSC_OPTIONS"), *home = getenv("HOME");
    char        rc[PATH_MAX], opts[8192], *save, *tok;
    if (home && snprintf(rc, sizeof(rc), "%s/.petscrc", home) < (int)sizeof(rc) && !access(rc, F_OK) && ScanOptionsFile(rc, dev, ino, 0, rank)) return 1;
    if ((!access(".petscrc", F_OK) && ScanOptionsFile(".petscrc", dev, ino, 0, rank)) || (!access("petscrc", F_OK) && ScanOptionsFile("petscrc", dev, ino, 0, rank))) return 1;
    if (env && snprintf(opts, sizeof(opts), "%s", env) < (int)sizeof(opts))
      for (tok = strtok_r(opts, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
        if (!strcasecmp(tok, "-options_file") && (tok = strtok_r(NULL, " \t", &save)) && ScanOptionsFile(tok, dev, ino, 0, rank)) return 1;
  }
  return 0;
}

/* PETSc could not start (an options file it cannot parse): its message in one line from rank 0,
   exit code 2. Rank 0 alone reads options files, the others wait for it: they are aborted. */
static int InitializeFailed(PetscErrorCode ierr)
{
  const char *text     = NULL;
  char       *specific = NULL;
  int         init = 0, fin = 0, rank = 0, size = 1;

  (void)PetscErrorMessage(ierr, &text, &specific);
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  if (init && !fin) {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
  }
  if (specific && strstr(specific, "max number of options")) specific = "more than 512 options in all (command line, options files, PETSC_OPTIONS): PETSc's options database holds at most 512; nothing was run";
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
  Tao tao;
  KSP newton;
  EPS eps;

  PetscFunctionBeginUser;
  PetscCall(KhgpsCheckOptionsText(comm));  /* all of them fit in the run file */
  PetscCall(KhgpsProcessOptions(comm, p)); /* every -khgps_ option, once */
  /* the solvers' own options (-tao_*, -khgps_newton_*, -eps_*, -st_*), checked once */
  PetscCall(KhgpsMinimizerCreate(comm, p, &tao));
  PetscCall(KhgpsNewtonCreate(comm, p, &newton));
  PetscCall(KhgpsEigensolverCreate(comm, p, &eps));
  PetscCall(KhgpsOutputDescribe(tao, eps, p));    /* the file's /params (physics, protocol) and this run's description */
  PetscCall(KhgpsEigensolverCheck(comm, p, eps)); /* an eigensolver SLEPc cannot set up, refused now */
  PetscCall(TaoDestroy(&tao));
  PetscCall(KSPDestroy(&newton));
  PetscCall(EPSDestroy(&eps));
  PetscCall(KhgpsCheckUnusedOptions(comm, p)); /* a misspelled or unused option of any kind is caught here */
  PetscCall(PetscOptionsHasHelp(NULL, helped));
  {
    PetscBool version;
    PetscCall(PetscOptionsHasName(NULL, NULL, "-version", &version));
    if (version) { /* PETSc has printed its own version */
      PetscCall(PetscPrintf(comm, "khgps %s\n", KHGPS_VERSION));
      *helped = PETSC_TRUE;
    }
  }
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

  sigset_t stops, old;

  /* SIGTERM and the like are held until khgps's handler is in place (after PETSc's own): a signal
     during start-up then gets the same one line as later */
  sigemptyset(&stops);
  sigaddset(&stops, SIGTERM);
  sigaddset(&stops, SIGINT);
  sigaddset(&stops, SIGHUP);
  sigaddset(&stops, SIGQUIT);
  sigprocmask(SIG_BLOCK, &stops, &old);
  if (CheckOptionsFiles(argc, argv)) return 2;
  PetscErrorPrintf = PetscErrorPrintfNone; /* PetscInitialize's own errors: one line below */
  ierr             = SlepcInitialize(&argc, &argv, NULL, help);
  if (ierr) return InitializeFailed(ierr);
  PetscCall(PetscOptionsHasName(NULL, NULL, "-error_output_none", &quiet));
  if (!quiet) PetscErrorPrintf = PetscErrorPrintfDefault;
  PetscCall(KhgpsLogRegister());
  PetscCall(KhgpsSignalsInstall(NULL));
  sigprocmask(SIG_SETMASK, &old, NULL);
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
      PetscCall(PetscLogStagePush(KhgpsLog.write));
      PetscCall(PetscPushErrorHandler(KhgpsCaptureErrorHandler, amsg));
      ierr = KhgpsFinishOutput(&p);
      PetscCall(PetscPopErrorHandler());
      PetscCall(PetscLogStagePop());
      if (ierr) {
        PetscCall(PetscFPrintf(PETSC_COMM_SELF, stderr, "khgps: error: cannot fold %s.pending into %s: %s; both keep every realization (readers and the next run read both): free the space or fix the cause, then run again\n", p.output, p.output, amsg));
        ierr = KHGPS_ERR_REPORTED;
      }
    }
    PetscCallMPI(MPI_Bcast(&ierr, 1, MPI_INT, 0, PETSC_COMM_WORLD));
  }
  if (ierr == KHGPS_ERR_REPORTED) { /* reported in one line: the file keeps what it held */
    if (KhgpsOutputBroken()) {      /* HDF5 holds a file it could not close: it would crash at MPI_Finalize */
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
  sigprocmask(SIG_BLOCK, &stops, NULL); /* the work is done and written: a late signal changes nothing (PETSc's finalize would restore the default action) */
  PetscCall(SlepcFinalize());
  return 0;
}
