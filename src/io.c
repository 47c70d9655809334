/* io.c: the HDF5 run file (layout in README.md). One writer per file: rank 0 holds an exclusive
   lock (flock) on a lock file beside it, .FILE.lock, for the life of the process, so that a second
   run on the same file stops before any work; the kernel releases the lock when the process dies.
   Appends are atomic: FILE is copied to a temporary file of a unique name beside it
   (.FILE.XXXXXX.part), the new groups are added, the copy is synced and renamed over FILE, so that
   a kill at any moment leaves FILE either as it was or with the new realizations. A symbolic link
   is written through (the file it points to is replaced, the link stays); a write-protected file is
   refused. The lock file names the holder (host, pid) and the temporary file in use, so that the
   next holder removes one a killed run left behind. */
#define _GNU_SOURCE /* mkstemps */
#include <petscviewerhdf5.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "khgps_options.h"
#include "khgps_result.h"
#include "khgps_solvers.h"
#include "khgps_io.h"
#include "khgps_kernels.h"

/* An HDF5 call that returns a negative value (herr_t or hid_t) failed. */
#define KhgpsCallHDF5(v, call) \
  do { \
    if (((v) = (call)) < 0) SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "HDF5 call failed: %s", #call); \
  } while (0)

/* Rank 0's hold on the run file, for the life of the process. */
static struct {
  char      path[PETSC_MAX_PATH_LEN];      /* the file written: -khgps_output, or where its symbolic link points */
  char      dir[PETSC_MAX_PATH_LEN];       /* its folder */
  char      base[PETSC_MAX_PATH_LEN];      /* its name in the folder */
  char      lock[2 * PETSC_MAX_PATH_LEN];  /* dir/.base.lock */
  char      host[256];
  int       lockfd;                        /* -1: no lock held (the file system has none) */
  mode_t    mode;                          /* permissions of the file written (an existing file's own) */
  uid_t     uid;                           /* an existing file's owner, kept where allowed */
  gid_t     gid;
  PetscBool keep_owner;
  PetscBool appended;                      /* this process has already replaced the file once */
  PetscBool broken;                        /* HDF5 could not close a temporary file (KhgpsOutputBroken) */
} run = {.lockfd = -1};

/* dir and base of a path ("." for a bare name). */
static void SplitPath(const char *path, char *dir, char *base, size_t len)
{
  const char *slash = strrchr(path, '/');

  if (!slash) {
    snprintf(dir, len, ".");
    snprintf(base, len, "%s", path);
  } else {
    snprintf(dir, len, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    snprintf(base, len, "%s", slash + 1);
  }
}

/* Rank 0: the file to write: -khgps_output itself, or the file its symbolic link points to (written
   through: the link stays). Refused: a dangling link, something that is not a regular file, a file
   without write permission for its owner (or for this user). */
static int ResolveOutput(const char *output, char *msg, size_t len)
{
  struct stat st;
  mode_t      mask = umask(0);

  umask(mask);
  snprintf(run.path, sizeof(run.path), "%s", output);
  run.mode = 0666 & ~mask;
  if (lstat(output, &st) == 0) {
    if (S_ISLNK(st.st_mode)) {
      char *r = realpath(output, NULL);
      if (!r || stat(r, &st)) {
        snprintf(msg, len, "%s is a symbolic link to a missing file (%s); it was left as it is: point it to a file, or use another -khgps_output", output, strerror(errno));
        free(r);
        return 1;
      }
      snprintf(run.path, sizeof(run.path), "%s", r);
      free(r);
    }
    if (!S_ISREG(st.st_mode)) {
      snprintf(msg, len, "%s is not a regular file; it was left as it is: use another -khgps_output", output);
      return 1;
    }
    if (!(st.st_mode & S_IWUSR) || access(run.path, W_OK)) {
      snprintf(msg, len, "%s is write-protected (mode %04o); it was left as it is: make it writable (chmod u+w) to continue or replace it, or use another -khgps_output", output, (unsigned)(st.st_mode & 07777));
      return 1;
    }
    run.mode       = st.st_mode & 07777;
    run.uid        = st.st_uid;
    run.gid        = st.st_gid;
    run.keep_owner = (PetscBool)(st.st_uid != geteuid() || st.st_gid != getegid());
  } else if (errno != ENOENT) {
    snprintf(msg, len, "cannot write output file %s: %s", output, strerror(errno));
    return 1;
  }
  SplitPath(run.path, run.dir, run.base, sizeof(run.dir));
  return 0;
}

/* The lock file's text: "khgps host=H pid=P [part=NAME]" (scripts/khgps-merge writes the same
   with its own name). */
static void LockNote(const char *part)
{
  char   buf[2 * PETSC_MAX_PATH_LEN];
  int    n;
  const char *slash = part ? strrchr(part, '/') : NULL;

  if (run.lockfd < 0) return;
  n = snprintf(buf, sizeof(buf), "khgps host=%s pid=%d%s%s\n", run.host, (int)getpid(), part ? " part=" : "", part ? (slash ? slash + 1 : part) : "");
  if (ftruncate(run.lockfd, 0) == 0 && pwrite(run.lockfd, buf, (size_t)n, 0) == n) (void)fsync(run.lockfd);
}

/* A lock file's holder in words: "khgps on host H, pid P". */
static void Holder(const char *text, char *who, size_t len)
{
  char        prog[64] = "", host[256] = "?";
  long        pid      = -1;
  const char *h = strstr(text, "host="), *q = strstr(text, "pid=");

  if (sscanf(text, "%63s", prog) != 1 || strncmp(prog, "khgps", 5)) {
    snprintf(who, len, "a run that is just starting");
    return;
  }
  if (h) sscanf(h + 5, "%255s", host);
  if (q) pid = strtol(q + 4, NULL, 10);
  snprintf(who, len, "%s on host %s, pid %ld", prog, host, pid);
}

/* The part=NAME of a lock file's text, if NAME is a temporary file name of this file. */
static int StalePart(const char *text, char name[4096])
{
  const char *q = strstr(text, "part=");
  size_t      nb = strlen(run.base), n;

  if (!q || sscanf(q + 5, "%4095s", name) != 1) return 0;
  n = strlen(name);
  return n == nb + 13 && name[0] == '.' && !strncmp(name + 1, run.base, nb) && name[nb + 1] == '.' && !strcmp(name + nb + 8, ".part") && !strchr(name, '/');
}

/* Rank 0: take the run file's lock for the life of the process. Held by another process: refused,
   naming it. A file system without locks: a warning, and no protection. A temporary file that a
   killed holder left (named in the lock file) is removed. */
static int LockOutput(const char *output, char *msg, size_t len)
{
  char    text[2 * PETSC_MAX_PATH_LEN + 64] = "", name[4096];
  ssize_t n;
  int     fd;

  if (gethostname(run.host, sizeof(run.host))) snprintf(run.host, sizeof(run.host), "unknown");
  run.host[sizeof(run.host) - 1] = 0;
  if (snprintf(run.lock, sizeof(run.lock), "%s/.%s.lock", run.dir, run.base) >= (int)sizeof(run.lock)) {
    snprintf(msg, len, "cannot write output file %s: its path is too long", output);
    return 1;
  }
  fd = open(run.lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0) {
    snprintf(msg, len, "cannot write output file %s: cannot create its lock file %s: %s", output, run.lock, strerror(errno));
    return 1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB)) {
    if (errno == EWOULDBLOCK) {
      char who[512];
      for (int t = 0; t < 50; t++) { /* the holder writes its name right after taking the lock */
        n = pread(fd, text, sizeof(text) - 1, 0);
        text[n > 0 ? n : 0] = 0;
        if (n > 0 && strchr(text, '\n')) break;
        usleep(10000);
      }
      Holder(text, who, sizeof(who));
      if (snprintf(msg, len, "%s is being written by another run (%s; lock file %s); it was left to it: wait for that run to end, or use another -khgps_output", output, who, run.lock) >= (int)len) msg[len - 1] = 0;
      close(fd);
      return 1;
    }
    fprintf(stderr, "khgps: WARNING: cannot lock %s (%s): this file system has no locks, so nothing stops a second run from writing %s at the same time\n", run.lock, strerror(errno), output);
    close(fd);
    return 0;
  }
  n = pread(fd, text, sizeof(text) - 1, 0);
  text[n > 0 ? n : 0] = 0;
  if (n > 0 && strncmp(text, "khgps", 5)) {
    snprintf(msg, len, "cannot write output file %s: its lock file %s exists and is not a khgps lock file; it was left as it is: move it away", output, run.lock);
    close(fd);
    return 1;
  }
  run.lockfd = fd;
  if (StalePart(text, name)) {
    char stale[2 * PETSC_MAX_PATH_LEN + 4096];
    if (snprintf(stale, sizeof(stale), "%s/%s", run.dir, name) < (int)sizeof(stale) && unlink(stale) == 0) printf("khgps: removed %s, the temporary file of a run on %s that was killed\n", stale, output);
  }
  LockNote(NULL);
  return 0;
}

/* Rank 0: a new temporary file beside the run file (unique name .FILE.XXXXXX.part, never a name a
   user may own), with the run file's permissions; its descriptor, or -1. */
static int MakeTemp(char *part, size_t len)
{
  int fd;

  if (snprintf(part, len, "%s/.%s.XXXXXX.part", run.dir, run.base) >= (int)len) {
    errno = ENAMETOOLONG;
    return -1;
  }
  fd = mkstemps(part, 5);
  if (fd < 0) return -1;
  (void)fchmod(fd, run.mode);
  if (run.keep_owner && fchown(fd, run.uid, run.gid)) { } /* where allowed (root): the owner stays */
  return fd;
}

/* Scalar attributes of /params that a resumed run must share with the file. */
typedef struct {
  const char *name;
  PetscBool   isint;
  PetscReal   r;
  long        i; /* written as a 64-bit integer */
} ParamAttr;

#define NPARAM 12
static void ParamList(const KhgpsParams *p, ParamAttr a[NPARAM])
{
  ParamAttr l[NPARAM] = {
    {"sparse", PETSC_TRUE, 0, p->sparse},
    {"connectivity", PETSC_FALSE, p->sparse ? p->connectivity : 0, 0},
    {"N", PETSC_TRUE, 0, p->N},
    {"kappa0", PETSC_FALSE, p->kappa0, 0},
    {"kappa_min", PETSC_FALSE, p->kappa_min, 0},
    {"J", PETSC_FALSE, p->J, 0},
    {"h", PETSC_FALSE, p->h, 0},
    {"A", PETSC_FALSE, p->A, 0},
    {"seed", PETSC_TRUE, 0, p->seed},
    {"nev", PETSC_TRUE, 0, p->nev},
    {"x0_amplitude", PETSC_FALSE, p->x0_amplitude, 0},
    {"coupling_bits", PETSC_TRUE, 0, 32}, /* J_ij is its draw rounded to float32 (KhgpsCoupling) */
  };
  for (int k = 0; k < NPARAM; k++) a[k] = l[k];
}

static int CompareInt(const void *a, const void *b)
{
  PetscInt x = *(const PetscInt *)a, y = *(const PetscInt *)b;
  return (x > y) - (x < y);
}

/* A dataset of group g: 0 as the layout has it (float, rank 1 [n0] or rank 2 [n0, n1]), 1 absent,
   2 of another shape or type. */
static int DatasetShape(hid_t g, const char *name, int rank, hsize_t n0, hsize_t n1)
{
  hid_t   d, sp, t;
  hsize_t dims[2] = {0, 0};
  int     r, ok;

  if (H5Lexists(g, name, H5P_DEFAULT) <= 0) return 1;
  if ((d = H5Dopen2(g, name, H5P_DEFAULT)) < 0) return 2;
  sp = H5Dget_space(d);
  t  = H5Dget_type(d);
  r  = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
  ok = r == rank && H5Sget_simple_extent_dims(sp, dims, NULL) == r && dims[0] == n0 && (rank < 2 || dims[1] == n1) && t >= 0 && H5Tget_class(t) == H5T_FLOAT;
  if (t >= 0) H5Tclose(t);
  if (sp >= 0) H5Sclose(sp);
  H5Dclose(d);
  return ok ? 0 : 2;
}

/* An integer attribute of group g into *v: 0, or 1 if absent or not an integer. */
static int IntAttribute(hid_t g, const char *name, long long *v)
{
  hid_t a, t;
  int   ok;

  if (H5Aexists(g, name) <= 0 || (a = H5Aopen(g, name, H5P_DEFAULT)) < 0) return 1;
  t  = H5Aget_type(a);
  ok = t >= 0 && H5Tget_class(t) == H5T_INTEGER && H5Aread(a, H5T_NATIVE_LLONG, v) >= 0;
  if (t >= 0) H5Tclose(t);
  H5Aclose(a);
  return ok ? 0 : 1;
}

/* Realization group `name` of /realizations (rg) against the layout (README "Output (HDF5)"): its
   six-digit index as name, every attribute, kappa and x of length N, eigenvalues, participation
   ratios and residuals of length nconv (in [0, nev]), J N x N if there. 0 and *idx, or 1 and why. */
static int CheckRealization(hid_t rg, const char *name, const KhgpsParams *p, PetscInt *idx, char *why, size_t len)
{
  static const char *const names[] = {"status_name", "tao_reason_name"}; /* beside the table's */
  long long                status, real, nconv;
  hid_t                    g;
  int                      bad = 1, r;

  if (strlen(name) != 6 || strspn(name, "0123456789") != 6) {
    snprintf(why, len, "its name is not a six-digit realization index");
    return 1;
  }
  *idx = (PetscInt)strtol(name, NULL, 10);
  if ((g = H5Gopen2(rg, name, H5P_DEFAULT)) < 0) {
    snprintf(why, len, "not a group");
    return 1;
  }
  for (int k = 0; k < KhgpsRecordNScalars + 2; k++) {
    const char *a = k < KhgpsRecordNScalars ? KhgpsRecordScalars[k].name : names[k - KhgpsRecordNScalars];
    if (k < KhgpsRecordNScalars && KhgpsRecordScalars[k].optional) continue; /* files of an older khgps lack it */
    if (H5Aexists(g, a) <= 0) {
      snprintf(why, len, "no attribute %s", a);
      goto out;
    }
  }
  if (IntAttribute(g, "status", &status) || status < 0 || status > 2) {
    snprintf(why, len, "status is not 0, 1 or 2");
    goto out;
  }
  if (IntAttribute(g, "realization", &real) || real != *idx) {
    snprintf(why, len, "its realization attribute is not %" PetscInt_FMT, *idx);
    goto out;
  }
  if (IntAttribute(g, "nconv", &nconv) || nconv < 0 || nconv > p->nev) {
    snprintf(why, len, "nconv is not in [0, nev] = [0, %" PetscInt_FMT "]", p->nev);
    goto out;
  }
  for (int k = 0; k < KhgpsRecordNArrays; k++) { /* an empty per-pair dataset may be absent */
    const KhgpsRecordArray *f = &KhgpsRecordArrays[k];
    const long long         n = f->per_pair ? nconv : (long long)p->N;
    r                         = DatasetShape(g, f->name, 1, (hsize_t)n, 0);
    if (r == 2 || (r == 1 && n > 0)) {
      if (r == 1) snprintf(why, len, "no dataset %s", f->name);
      else snprintf(why, len, "dataset %s is not %s = %lld reals", f->name, f->per_pair ? "nconv" : "N", n);
      goto out;
    }
  }
  if (DatasetShape(g, "J", 2, (hsize_t)p->N, (hsize_t)p->N) == 2) {
    snprintf(why, len, "dataset J is not N x N");
    goto out;
  }
  bad = 0;
out:
  H5Gclose(g);
  return bad;
}

/* Rank 0: read an existing run file without changing it: check that it is a khgps file of the
   same parameters whose realizations are complete, and list them. Any problem: msg set, *bad = 1. */
static void ReadExisting(const KhgpsParams *p, PetscInt *ndone, PetscInt **done, int *bad, char *msg, size_t len)
{
  hid_t      fid = -1, g = -1, attr, type;
  char       fmt[64] = "";
  ParamAttr  a[NPARAM];
  H5G_info_t info;

  *ndone = 0;
  *done  = NULL;
  *bad   = 1;
  if (H5Fis_hdf5(run.path) <= 0 || (fid = H5Fopen(run.path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
    snprintf(msg, len, "%s exists but is not a readable HDF5 file (corrupt, truncated or foreign); it was left as it is: use another -khgps_output, or -khgps_overwrite to replace it", p->output);
    return;
  }
  if (H5Aexists_by_name(fid, "/", "format", H5P_DEFAULT) > 0 && (attr = H5Aopen_by_name(fid, "/", "format", H5P_DEFAULT, H5P_DEFAULT)) >= 0) {
    type = H5Aget_type(attr);
    if (H5Tget_class(type) == H5T_STRING && H5Tget_size(type) < sizeof(fmt)) H5Aread(attr, type, fmt);
    H5Tclose(type);
    H5Aclose(attr);
  }
  if (strcmp(fmt, "khgps-1")) {
    snprintf(msg, len, "%s is not a khgps run file (no format attribute khgps-1); it was left as it is", p->output);
    goto out;
  }
  ParamList(p, a);
  for (int k = 0; k < NPARAM; k++) {
    double    r = 0;
    long long i = 0;
    if (H5Aexists_by_name(fid, "/params", a[k].name, H5P_DEFAULT) <= 0) {
      if (!strcmp(a[k].name, "coupling_bits")) {
        snprintf(msg, len, "%s was written by an older khgps whose couplings were not rounded to float32 (a different realization of J); it was left as it is: use another -khgps_output", p->output);
        goto out;
      }
      if (k >= 2) { /* sparse and connectivity came later: absent means dense */
        snprintf(msg, len, "%s has no parameter %s: not a complete khgps run file; it was left as it is", p->output, a[k].name);
        goto out;
      }
    } else if ((attr = H5Aopen_by_name(fid, "/params", a[k].name, H5P_DEFAULT, H5P_DEFAULT)) >= 0) {
      if (a[k].isint) H5Aread(attr, H5T_NATIVE_LLONG, &i);
      else H5Aread(attr, H5T_NATIVE_DOUBLE, &r);
      H5Aclose(attr);
    }
    if (a[k].isint ? (i != (long long)a[k].i) : (r != (double)a[k].r)) {
      if (a[k].isint) snprintf(msg, len, "%s holds a run with %s = %lld, not %lld: use another -khgps_output, or -khgps_overwrite to start over", p->output, a[k].name, i, (long long)a[k].i);
      else snprintf(msg, len, "%s holds a run with %s = %.15g, not %.15g: use another -khgps_output, or -khgps_overwrite to start over", p->output, a[k].name, r, (double)a[k].r);
      goto out;
    }
  }
  if (H5Lexists(fid, "/realizations", H5P_DEFAULT) > 0) {
    if ((g = H5Gopen2(fid, "/realizations", H5P_DEFAULT)) < 0 || H5Gget_info(g, &info) < 0) {
      snprintf(msg, len, "%s: cannot read /realizations (damaged file); it was left as it is", p->output);
      goto out;
    }
    if (PetscMalloc1(info.nlinks + 1, done)) goto out;
    for (hsize_t k = 0; k < info.nlinks; k++) {
      char name[256], why[256];
      if (H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, k, name, sizeof(name), H5P_DEFAULT) < 0) {
        snprintf(msg, len, "%s: cannot list /realizations (damaged file); it was left as it is", p->output);
        goto out;
      }
      if (CheckRealization(g, name, p, &(*done)[*ndone], why, sizeof(why))) {
        snprintf(msg, len, "%s: /realizations/%s is not a complete realization (%s): a damaged file; it was left as it is", p->output, name, why);
        goto out;
      }
      (*ndone)++;
    }
  }
  *bad = 0;
out:
  if (g >= 0) H5Gclose(g);
  H5Fclose(fid);
  if (*bad) {
    (void)PetscFree(*done);
    *ndone = 0;
  }
}

/* Before any work, on all ranks: refuse an output that cannot be written, that another run is
   writing, that is write-protected or not a regular file, or an existing file that is not a
   complete khgps run of the same parameters (unless -khgps_overwrite: start over), and return the
   realizations of [first, first + realizations) that the file does not hold yet. Rank 0 keeps the
   file's lock from here to its exit. */
PetscErrorCode KhgpsPrepareOutput(MPI_Comm comm, KhgpsParams *p, PetscInt *ntodo, PetscInt **todo)
{
  PetscMPIInt rank;
  int         bad = 0;
  char        msg[3 * PETSC_MAX_PATH_LEN + 512] = "", part[2 * PETSC_MAX_PATH_LEN];
  PetscInt    ndone = 0, *done = NULL, nin = 0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (p->output[0] && rank == 0) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* HDF5's own error stack would bury our one line */
    bad = ResolveOutput(p->output, msg, sizeof(msg));
    if (!bad) bad = LockOutput(p->output, msg, sizeof(msg));
    if (!bad && !p->overwrite && access(run.path, F_OK) == 0) ReadExisting(p, &ndone, &done, &bad, msg, sizeof(msg));
    if (!bad) { /* the appends' temporary files can be made */
      int fd = MakeTemp(part, sizeof(part));
      if (fd < 0) {
        bad = 1;
        snprintf(msg, sizeof(msg), "cannot write output file %s: cannot create a file in %s: %s", p->output, run.dir, strerror(errno));
      } else {
        close(fd);
        unlink(part);
      }
    }
  }
  PetscCallMPI(MPI_Bcast(&bad, 1, MPI_INT, 0, comm));
  PetscCallMPI(MPI_Bcast(msg, sizeof(msg), MPI_CHAR, 0, comm));
  PetscCheck(!bad, comm, PETSC_ERR_USER_INPUT, "%s", msg);
  PetscCallMPI(MPI_Bcast(&ndone, 1, MPIU_INT, 0, comm));
  if (rank) PetscCall(PetscMalloc1(ndone + 1, &done));
  if (ndone) PetscCallMPI(MPI_Bcast(done, (PetscMPIInt)ndone, MPIU_INT, 0, comm));
  qsort(done, (size_t)ndone, sizeof(PetscInt), CompareInt);
  PetscCall(PetscMalloc1(p->realizations, todo));
  *ntodo = 0;
  for (PetscInt k = p->first, d = 0; k < p->first + p->realizations; k++) {
    while (d < ndone && done[d] < k) d++;
    if (d < ndone && done[d] == k) nin++;
    else (*todo)[(*ntodo)++] = k;
  }
  if (ndone) PetscCall(PetscPrintf(comm, "khgps: resuming %s: it holds %" PetscInt_FMT " realization(s), %" PetscInt_FMT " of them in this run's range\n", p->output, ndone, nin));
  PetscCall(PetscFree(done));
  PetscFunctionReturn(0);
}

/* A string attribute, replacing one of another length (HDF5 keeps the old size otherwise). */
static PetscErrorCode WriteString(PetscViewer v, const char *parent, const char *name, const char *value)
{
  PetscBool has;
  hid_t     fid;

  PetscFunctionBeginUser;
  PetscCall(PetscViewerHDF5HasAttribute(v, parent, name, &has));
  if (has) {
    PetscCall(PetscViewerHDF5GetFileId(v, &fid));
    PetscCheck(H5Adelete_by_name(fid, parent, name, H5P_DEFAULT) >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "HDF5: cannot replace attribute %s", name);
  }
  PetscCall(PetscViewerHDF5WriteAttribute(v, parent, name, PETSC_STRING, value));
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteProvenance(PetscViewer v, const KhgpsParams *p, const KhgpsSolvers *s)
{
  char        buf[256];
  char       *opts;
  PetscMPIInt size;
  PetscInt    isize = (PetscInt)sizeof(PetscInt) * 8, msize;
  TaoType     taotype;
  EPSType     epstype;
  ParamAttr   a[NPARAM];

  PetscFunctionBeginUser;
  PetscCall(WriteString(v, "/", "format", "khgps-1"));
  PetscCall(WriteString(v, "/", "khgps_version", KHGPS_VERSION));
  PetscCall(PetscGetVersion(buf, sizeof(buf)));
  PetscCall(WriteString(v, "/", "petsc_version", buf));
  PetscCall(SlepcGetVersion(buf, sizeof(buf)));
  PetscCall(WriteString(v, "/", "slepc_version", buf));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  msize = size;
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/", "mpi_size", PETSC_INT, &msize));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/", "groups", PETSC_INT, &p->groups));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/", "petscint_bits", PETSC_INT, &isize));
  PetscCall(PetscOptionsGetAll(NULL, &opts));
  PetscCall(WriteString(v, "/", "options", opts));
  PetscCall(PetscFree(opts));
  PetscCall(TaoGetType(s->tao, &taotype));
  PetscCall(WriteString(v, "/", "tao_type", taotype));
  PetscCall(EPSGetType(s->eps, &epstype));
  PetscCall(WriteString(v, "/", "eps_type", p->solver.block ? "khgps-block-krylov-schur" : epstype));
  PetscCall(WriteString(v, "/", "eigensolver", p->solver.block ? "block" : "slepc"));
  if (p->solver.block) {
    PetscCall(PetscViewerHDF5WriteAttribute(v, "/", "block_size", PETSC_INT, &p->solver.block_size));
    PetscCall(PetscViewerHDF5WriteAttribute(v, "/", "block_ncv", PETSC_INT, &p->solver.block_ncv));
  }
  PetscCall(WriteString(v, "/", "hessian_mat_type", p->solver.htype));
  PetscCall(WriteString(v, "/", "simd", KhgpsSimdName())); /* khgps' own kernels (packed J x, block solves) */
  PetscCall(WriteString(v, "/", "blas_core", KhgpsBLASCore())); /* the factorization's kernels (OpenBLAS core and build) */
  PetscCall(WriteString(v, "/", "factor_precision", p->solver.factor_single && !strcmp(p->solver.htype, KHGPS_PACKED) ? "single" : "double")); /* asked for; per realization: what ran */
  ParamList(p, a);
  for (int k = 0; k < NPARAM; k++) PetscCall(PetscViewerHDF5WriteAttribute(v, "/params", a[k].name, a[k].isint ? PETSC_LONG : PETSC_REAL, a[k].isint ? (void *)&a[k].i : (void *)&a[k].r));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/params", "gtol", PETSC_REAL, &p->gtol));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/params", "polish_its", PETSC_INT, &p->polish_its));
  PetscFunctionReturn(0);
}

/* An array as a 1-D dataset of the current group. */
static PetscErrorCode WriteArray(PetscViewer v, const char *name, PetscInt n, const PetscReal *a)
{
  Vec w;

  PetscFunctionBeginUser;
  if (!n) PetscFunctionReturn(0);
  PetscCall(VecCreateSeqWithArray(PETSC_COMM_SELF, 1, n, (const PetscScalar *)a, &w));
  PetscCall(PetscObjectSetName((PetscObject)w, name));
  PetscCall(VecView(w, v));
  PetscCall(VecDestroy(&w));
  PetscFunctionReturn(0);
}

/* J as an N x N row-major dataset `J` of group. */
static PetscErrorCode WriteCouplings(PetscViewer v, const char *group, PetscInt N, const PetscReal *J)
{
  hid_t   fid, dset, space;
  herr_t  herr;
  hsize_t dims[2] = {(hsize_t)N, (hsize_t)N};
  char    path[PETSC_MAX_PATH_LEN];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/J", group));
  PetscCall(PetscViewerHDF5GetFileId(v, &fid));
  KhgpsCallHDF5(space, H5Screate_simple(2, dims, NULL));
  KhgpsCallHDF5(dset, H5Dcreate2(fid, path, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  KhgpsCallHDF5(herr, H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, J));
  KhgpsCallHDF5(herr, H5Dclose(dset));
  KhgpsCallHDF5(herr, H5Sclose(space));
  PetscFunctionReturn(0);
}

/* One realization's group /realizations/NNNNNN: datasets and scalar attributes. */
static PetscErrorCode WriteRecord(PetscViewer v, const KhgpsRecord *c)
{
  char group[64];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(group, sizeof(group), "/realizations/%06" PetscInt_FMT, c->realization));
  PetscCall(PetscViewerHDF5PushGroup(v, group));
  for (int k = 0; k < KhgpsRecordNArrays; k++) {
    PetscInt   n;
    PetscReal *a = KhgpsRecordArrayGet(c, &KhgpsRecordArrays[k], &n);
    PetscCall(WriteArray(v, KhgpsRecordArrays[k].name, n, a));
  }
  if (c->J) PetscCall(WriteCouplings(v, group, c->N, c->J));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "status_name", PETSC_STRING, KhgpsStatusNames[c->status]));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "tao_reason_name", PETSC_STRING, TaoConvergedReasons[c->tao_reason]));
  for (int k = 0; k < KhgpsRecordNScalars; k++) { /* the table ends with status: it marks the group complete */
    const KhgpsRecordScalar *f = &KhgpsRecordScalars[k];
    const void              *a = (const char *)c + f->offset;
    if (f->names) PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, f->name, PETSC_STRING, f->names[*(const PetscInt *)a]));
    else PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, f->name, f->isint ? PETSC_INT : PETSC_REAL, a));
  }
  PetscCall(PetscViewerHDF5PopGroup(v));
  PetscFunctionReturn(0);
}

/* Copy file `from` into the open descriptor fd (the temporary file `to`); *size: its bytes. */
static PetscErrorCode CopyFile(const char *from, int fd, const char *to, off_t *size)
{
  FILE  *in;
  char  *buf;
  size_t n;
  int    bad = 0, err = 0;

  PetscFunctionBeginUser;
  *size = 0;
  in    = fopen(from, "rb");
  PetscCheck(in, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot read %s: %s", from, strerror(errno));
  PetscCall(PetscMalloc1(1 << 22, &buf));
  while (!bad && (n = fread(buf, 1, 1 << 22, in)) > 0)
    for (size_t k = 0; k < n && !bad;) {
      ssize_t w = write(fd, buf + k, n - k);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) bad = 1, err = w < 0 ? errno : ENOSPC;
      else k += (size_t)w, *size += w;
    }
  if (!bad && ferror(in)) bad = 1, err = EIO;
  fclose(in);
  PetscCall(PetscFree(buf));
  PetscCheck(!bad, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "copying %s to %s failed: %s", from, to, strerror(err));
  PetscFunctionReturn(0);
}

/* Reserve the disk space of a file of `bytes` (fd): a full disk or a file size limit shows here,
   before HDF5 writes a byte. A file system without fallocate reserves nothing. 0 bytes: empty it. */
static PetscErrorCode Reserve(int fd, off_t bytes, const char *part)
{
  int err = bytes ? posix_fallocate(fd, 0, bytes) : ftruncate(fd, 0) ? errno : 0;

  PetscFunctionBeginUser;
  if (bytes && (err == EINVAL || err == EOPNOTSUPP)) err = 0;
  PetscCheck(!err, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "no room for %.3g bytes in %s (%s)", (double)bytes, part, strerror(err));
  PetscFunctionReturn(0);
}

/* fsync a file or folder; a file that cannot be synced is an error (its data may not be on disk). */
static PetscErrorCode SyncPath(const char *path, PetscBool must)
{
  int fd = open(path, O_RDONLY), ok;

  PetscFunctionBeginUser;
  ok = fd >= 0 && fsync(fd) == 0;
  if (fd >= 0) close(fd);
  PetscCheck(ok || !must, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot sync %s: %s", path, strerror(errno));
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteAll(PetscViewer v, const KhgpsParams *p, const KhgpsSolvers *s, PetscInt n, KhgpsRecord *recs)
{
  PetscFunctionBeginUser;
  PetscCall(WriteProvenance(v, p, s));
  for (PetscInt q = 0; q < n; q++) PetscCall(WriteRecord(v, &recs[q]));
  PetscFunctionReturn(0);
}

/* The append proper, into the new temporary file part (descriptor fd, closed here): the copy of
   the run file (or nothing) and the room for the new groups first, then HDF5. The HDF5 file is
   closed whatever happens; if HDF5 cannot close it (its writes fail), run.broken is set. */
static PetscErrorCode AppendTo(const KhgpsParams *p, const KhgpsSolvers *s, PetscInt n, KhgpsRecord *recs, const char *part, int fd, PetscBool extend)
{
  PetscViewer    v = NULL;
  PetscErrorCode ierr, ierr2;
  off_t          size = 0, more = 1 << 16; /* provenance, options and index growth */

  PetscFunctionBeginUser;
  for (PetscInt q = 0; q < n; q++) more += (off_t)(8 * (2 * recs[q].N + 3 * recs[q].nconv + (recs[q].J ? (double)recs[q].N * recs[q].N : 0)) + (1 << 14));
  ierr = extend ? CopyFile(run.path, fd, part, &size) : 0;
  if (!ierr) ierr = Reserve(fd, size + more + more / 8, part);
  if (!ierr && !extend) ierr = Reserve(fd, 0, part); /* a new file: HDF5 creates it afresh */
  close(fd);
  PetscCall(ierr);
  ierr = PetscViewerHDF5Open(PETSC_COMM_SELF, part, extend ? FILE_MODE_APPEND : FILE_MODE_WRITE, &v);
  if (!ierr) ierr = WriteAll(v, p, s, n, recs);
  ierr2 = v ? PetscViewerDestroy(&v) : 0;
  if (ierr || ierr2) { /* whatever HDF5 still holds open of the file: closed, so that nothing touches it later */
    ssize_t nopen = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (nopen > 0) {
      hid_t *ids = (hid_t *)malloc((size_t)nopen * sizeof(hid_t));
      if (ids) {
        nopen = H5Fget_obj_ids(H5F_OBJ_ALL, H5F_OBJ_ALL, (size_t)nopen, ids);
        for (ssize_t k = 0; k < nopen; k++) {
          H5I_type_t t = H5Iget_type(ids[k]);
          if (t == H5I_DATASET) H5Dclose(ids[k]);
          else if (t == H5I_GROUP) H5Gclose(ids[k]);
          else if (t == H5I_ATTR) H5Aclose(ids[k]);
          else if (t == H5I_DATATYPE) H5Tclose(ids[k]);
        }
        nopen = H5Fget_obj_ids(H5F_OBJ_ALL, H5F_OBJ_FILE, (size_t)nopen, ids);
        for (ssize_t k = 0; k < nopen; k++) H5Fclose(ids[k]);
        free(ids);
      }
    }
    run.broken = (PetscBool)(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE) > 0);
  }
  PetscCall(ierr);
  PetscCall(ierr2);
  PetscCall(SyncPath(part, PETSC_TRUE));
  PetscCheck(rename(part, run.path) == 0, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot rename %s to %s: %s", part, run.path, strerror(errno));
  PetscFunctionReturn(0);
}

/* An HDF5 file that a failed append could not close: HDF5 would close it again at MPI_Finalize
   and crash there, so main leaves without finalizing. */
PetscBool KhgpsOutputBroken(void)
{
  return run.broken;
}

/* Rank 0: add n realizations to the run file atomically (copy, append, sync, rename). On a
   failure (a full disk, say) the temporary file is removed and the run file is as it was. */
PetscErrorCode KhgpsAppend(const KhgpsParams *p, const KhgpsSolvers *s, PetscInt n, KhgpsRecord *recs, PetscReal *seconds)
{
  char           part[2 * PETSC_MAX_PATH_LEN];
  PetscBool      extend = (PetscBool)(access(run.path, F_OK) == 0 && !(p->overwrite && !run.appended));
  PetscLogDouble t0, t1;
  PetscErrorCode ierr;
  int            fd;

  PetscFunctionBeginUser;
  PetscCall(PetscTime(&t0));
  fd = MakeTemp(part, sizeof(part));
  PetscCheck(fd >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot create a temporary file in %s: %s", run.dir, strerror(errno));
  LockNote(part); /* a killed run's temporary file is the next holder's to remove */
  ierr = AppendTo(p, s, n, recs, part, fd, extend);
  if (ierr) (void)unlink(part);
  LockNote(NULL);
  PetscCall(ierr);
  PetscCall(SyncPath(run.dir, PETSC_FALSE));
  run.appended = PETSC_TRUE;
  PetscCall(PetscTime(&t1));
  *seconds = t1 - t0;
  PetscFunctionReturn(0);
}

/* An error handler that keeps the first message in ctx (a char[KHGPS_MSG_LEN]) and prints nothing:
   the caller reports the failure in one line. */
PetscErrorCode KhgpsCaptureErrorHandler(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  char *buf = (char *)ctx;

  (void)comm, (void)line, (void)fun, (void)file;
  if (p == PETSC_ERROR_INITIAL && buf && !buf[0]) snprintf(buf, KHGPS_MSG_LEN, "%s", mess ? mess : "(no message)");
  return n;
}
