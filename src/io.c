/* io.c: the HDF5 run file (layout in README.md): resume checks, and atomic appends of realizations
   (the file is copied to FILE.part, the new groups are added, FILE.part is synced and renamed over
   FILE), so that a kill at any moment leaves FILE either as it was or with the new realizations. */
#include <petscviewerhdf5.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include "khgps.h"

/* An HDF5 call that returns a negative value (herr_t or hid_t) failed. */
#define KhgpsCallHDF5(v, call) \
  do { \
    if (((v) = (call)) < 0) SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "HDF5 call failed: %s", #call); \
  } while (0)

static PetscBool appended = PETSC_FALSE; /* this process has already replaced FILE once */

static PetscErrorCode PartName(const KhgpsParams *p, char *part, size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(part, len, "%s.part", p->output));
  PetscFunctionReturn(0);
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

/* Rank 0: read an existing run file without changing it: check that it is a khgps file of the
   same parameters and list the realizations it holds. Any problem: msg set, *bad = 1. */
static void ReadExisting(const KhgpsParams *p, PetscInt *ndone, PetscInt **done, int *bad, char *msg, size_t len)
{
  hid_t     fid = -1, g = -1, attr, type;
  char      fmt[64] = "";
  ParamAttr a[NPARAM];
  H5G_info_t info;

  *ndone = 0;
  *done  = NULL;
  *bad   = 1;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* HDF5's own error stack would bury our one line */
  if (H5Fis_hdf5(p->output) <= 0 || (fid = H5Fopen(p->output, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
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
      char  name[64];
      char *end;
      long  idx;
      if (H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, k, name, sizeof(name), H5P_DEFAULT) < 0) {
        snprintf(msg, len, "%s: cannot list /realizations (damaged file); it was left as it is", p->output);
        goto out;
      }
      idx = strtol(name, &end, 10);
      if (*end || idx < 0 || H5Aexists_by_name(g, name, "status", H5P_DEFAULT) <= 0) {
        snprintf(msg, len, "%s: /realizations/%s is not a complete realization (damaged file); it was left as it is", p->output, name);
        goto out;
      }
      (*done)[(*ndone)++] = (PetscInt)idx;
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

/* Before any work, on all ranks: refuse an output that cannot be written, or an existing file
   that is not a khgps run of the same parameters (unless -khgps_overwrite: start over), and
   return the realizations of [first, first + realizations) that the file does not hold yet. */
PetscErrorCode KhgpsPrepareOutput(MPI_Comm comm, KhgpsParams *p, PetscInt *ntodo, PetscInt **todo)
{
  PetscMPIInt rank;
  int         bad = 0;
  char        msg[PETSC_MAX_PATH_LEN + 512] = "", part[PETSC_MAX_PATH_LEN + 8];
  PetscInt    ndone = 0, *done = NULL, nin = 0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (p->output[0] && rank == 0) {
    PetscCall(PartName(p, part, sizeof(part)));
    if (!p->overwrite && access(p->output, F_OK) == 0) ReadExisting(p, &ndone, &done, &bad, msg, sizeof(msg));
    if (!bad) {
      FILE *f = fopen(part, "w");
      if (!f) {
        bad = 1;
        snprintf(msg, sizeof(msg), "cannot write output file %s: %s", p->output, strerror(errno));
      } else {
        fclose(f);
        remove(part);
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
  PetscCall(WriteString(v, "/", "eps_type", s->block ? "khgps-block-krylov-schur" : s->chfsi ? "khgps-chfsi" : epstype));
  PetscCall(WriteString(v, "/", "eigensolver", s->block ? "block" : s->chfsi ? "chfsi" : "slepc"));
  if (s->chfsi) {
    PetscCall(PetscViewerHDF5WriteAttribute(v, "/", "chfsi_degree", PETSC_INT, &s->chfsi_degree));
    PetscCall(PetscViewerHDF5WriteAttribute(v, "/", "chfsi_guard", PETSC_INT, &s->chfsi_guard));
    PetscCall(PetscViewerHDF5WriteAttribute(v, "/", "chfsi_block", PETSC_INT, &s->chfsi_block));
  }
  if (s->block) {
    PetscCall(PetscViewerHDF5WriteAttribute(v, "/", "block_size", PETSC_INT, &s->block_size));
    PetscCall(PetscViewerHDF5WriteAttribute(v, "/", "block_ncv", PETSC_INT, &s->block_ncv));
  }
  PetscCall(WriteString(v, "/", "hessian_mat_type", s->htype));
  PetscCall(WriteString(v, "/", "simd", KhgpsSimdName())); /* khgps' own kernels (packed J x, block solves) */
  PetscCall(WriteString(v, "/", "blas_core", KhgpsBLASCore()));
  PetscCall(WriteString(v, "/", "factor_precision", p->factor_single && !strcmp(s->htype, KHGPS_PACKED) ? "single" : "double")); /* asked for; per realization: what ran */ /* the factorization's kernels (OpenBLAS core and build) */
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
  PetscCall(WriteArray(v, "kappa", c->N, c->kappa));
  PetscCall(WriteArray(v, "x", c->N, c->x));
  PetscCall(WriteArray(v, "eigenvalues", c->nconv, c->eig));
  PetscCall(WriteArray(v, "participation_ratio", c->nconv, c->pr));
  PetscCall(WriteArray(v, "residual", c->nconv, c->resid));
  if (c->J) PetscCall(WriteCouplings(v, group, c->N, c->J));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "realization", PETSC_INT, &c->realization));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "ranks", PETSC_INT, &c->ranks));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "status_name", PETSC_STRING, KhgpsStatusNames[c->status]));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "energy", PETSC_REAL, &c->energy));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "gradient_norm", PETSC_REAL, &c->gnorm));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "gradient_norm_tao", PETSC_REAL, &c->gnorm_tao));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "tao_iterations", PETSC_INT, &c->tao_its));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "tao_function_evaluations", PETSC_INT, &c->tao_nfuncs));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "tao_reason", PETSC_INT, &c->tao_reason));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "tao_reason_name", PETSC_STRING, TaoConvergedReasons[c->tao_reason]));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "polish_steps", PETSC_INT, &c->polish_done));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "cholesky_ok", PETSC_INT, &c->factor_ok));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "factor_precision", PETSC_STRING, KhgpsFactorPrecisionNames[c->factor_precision]));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "nconv", PETSC_INT, &c->nconv));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "lowest_eigenvalue", PETSC_REAL, &c->lowest));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "time_draw", PETSC_REAL, &c->t_draw));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "time_minimize", PETSC_REAL, &c->t_minimize));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "time_spectrum", PETSC_REAL, &c->t_spectrum));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "status", PETSC_INT, &c->status)); /* last: marks the group complete */
  PetscCall(PetscViewerHDF5PopGroup(v));
  PetscFunctionReturn(0);
}

static PetscErrorCode CopyFile(const char *from, const char *to)
{
  FILE  *in, *out;
  char  *buf;
  size_t n;
  int    bad = 0;

  PetscFunctionBeginUser;
  in = fopen(from, "rb");
  PetscCheck(in, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot read %s: %s", from, strerror(errno));
  out = fopen(to, "wb");
  if (!out) fclose(in);
  PetscCheck(out, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot write %s: %s", to, strerror(errno));
  PetscCall(PetscMalloc1(1 << 22, &buf));
  while ((n = fread(buf, 1, 1 << 22, in)) > 0)
    if (fwrite(buf, 1, n, out) != n) bad = 1;
  if (ferror(in)) bad = 1;
  fclose(in);
  if (fclose(out)) bad = 1;
  PetscCall(PetscFree(buf));
  PetscCheck(!bad, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "copying %s to %s failed: %s", from, to, strerror(errno));
  PetscFunctionReturn(0);
}

static PetscErrorCode SyncPath(const char *path)
{
  int fd = open(path, O_RDONLY);

  PetscFunctionBeginUser;
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
  PetscFunctionReturn(0);
}

/* Rank 0: add n realizations to the run file atomically (copy, append, sync, rename). */
PetscErrorCode KhgpsAppend(const KhgpsParams *p, const KhgpsSolvers *s, PetscInt n, KhgpsRecord *recs, PetscReal *seconds)
{
  PetscViewer    v;
  char           part[PETSC_MAX_PATH_LEN + 8], dir[PETSC_MAX_PATH_LEN], *slash;
  PetscBool      extend = (PetscBool)(access(p->output, F_OK) == 0 && !(p->overwrite && !appended));
  PetscLogDouble t0, t1;

  PetscFunctionBeginUser;
  PetscCall(PetscTime(&t0));
  PetscCall(PartName(p, part, sizeof(part)));
  if (extend) PetscCall(CopyFile(p->output, part));
  PetscCall(PetscViewerHDF5Open(PETSC_COMM_SELF, part, extend ? FILE_MODE_APPEND : FILE_MODE_WRITE, &v));
  PetscCall(WriteProvenance(v, p, s));
  for (PetscInt q = 0; q < n; q++) PetscCall(WriteRecord(v, &recs[q]));
  PetscCall(PetscViewerDestroy(&v));
  PetscCall(SyncPath(part));
  PetscCheck(rename(part, p->output) == 0, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot rename %s to %s: %s", part, p->output, strerror(errno));
  PetscCall(PetscStrncpy(dir, p->output, sizeof(dir)));
  slash = strrchr(dir, '/');
  if (slash) *slash = 0;
  PetscCall(SyncPath(slash ? dir : "."));
  appended = PETSC_TRUE;
  PetscCall(PetscTime(&t1));
  *seconds = t1 - t0;
  PetscFunctionReturn(0);
}
