/* io.c: the HDF5 output (layout in README.md), written to FILE.part and renamed into place. */
#include <petscviewerhdf5.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "khgps.h"

/* An HDF5 call that returns a negative value (herr_t or hid_t) failed. */
#define KhgpsCallHDF5(v, call) \
  do { \
    if (((v) = (call)) < 0) SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "HDF5 call failed: %s", #call); \
  } while (0)

static PetscErrorCode PartName(const KhgpsParams *p, char *part, size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(part, len, "%s.part", p->output));
  PetscFunctionReturn(0);
}

/* Before any work: refuse an output that exists (unless -khgps_overwrite) or cannot be written. */
PetscErrorCode KhgpsCheckOutput(MPI_Comm comm, const KhgpsParams *p)
{
  PetscMPIInt rank;
  int         err[2] = {0, 0};
  char        part[PETSC_MAX_PATH_LEN + 8];

  PetscFunctionBeginUser;
  if (!p->output[0]) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PartName(p, part, sizeof(part)));
  if (rank == 0) {
    if (!p->overwrite && access(p->output, F_OK) == 0) err[0] = 1;
    else {
      FILE *f = fopen(part, "w");
      if (!f) err[0] = 2, err[1] = errno;
      else {
        fclose(f);
        remove(part);
      }
    }
  }
  PetscCallMPI(MPI_Bcast(err, 2, MPI_INT, 0, comm));
  PetscCheck(err[0] != 1, comm, PETSC_ERR_USER_INPUT, "output file %s exists (add -khgps_overwrite to replace it)", p->output);
  PetscCheck(err[0] != 2, comm, PETSC_ERR_FILE_OPEN, "cannot write output file %s: %s", p->output, strerror(err[1]));
  PetscFunctionReturn(0);
}

/* A replicated array as a dataset: rank 0 holds all n entries of an MPI Vec. */
static PetscErrorCode WriteArray(PetscViewer v, MPI_Comm comm, const char *name, PetscInt n, const PetscReal *a)
{
  Vec          w;
  PetscMPIInt  rank;
  PetscScalar *wa;

  PetscFunctionBeginUser;
  if (!n) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(VecCreateMPI(comm, rank == 0 ? n : 0, n, &w));
  PetscCall(PetscObjectSetName((PetscObject)w, name));
  PetscCall(VecGetArrayWrite(w, &wa));
  if (rank == 0)
    for (PetscInt i = 0; i < n; i++) wa[i] = a[i];
  PetscCall(VecRestoreArrayWrite(w, &wa));
  PetscCall(VecView(w, v));
  PetscCall(VecDestroy(&w));
  PetscFunctionReturn(0);
}

/* J as an N x N row-major dataset `J` under group path; each rank writes its own rows. */
static PetscErrorCode WriteCouplings(PetscViewer v, const char *group, Mat J)
{
  hid_t              fid, dset, fspace, mspace, dxpl;
  herr_t             herr;
  hsize_t            dims[2], start[2], count[2];
  PetscInt           M, N, rs, re, lda;
  const PetscScalar *a;
  PetscScalar       *buf;
  char               path[PETSC_MAX_PATH_LEN];

  PetscFunctionBeginUser;
  PetscCall(MatGetSize(J, &M, &N));
  PetscCall(MatGetOwnershipRange(J, &rs, &re));
  PetscCall(MatDenseGetLDA(J, &lda));
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/J", group));
  PetscCall(PetscViewerHDF5GetFileId(v, &fid));
  dims[0] = (hsize_t)M;
  dims[1] = (hsize_t)N;
  KhgpsCallHDF5(fspace, H5Screate_simple(2, dims, NULL));
  KhgpsCallHDF5(dset, H5Dcreate2(fid, path, H5T_NATIVE_DOUBLE, fspace, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  start[0] = (hsize_t)rs;
  start[1] = 0;
  count[0] = (hsize_t)(re - rs);
  count[1] = (hsize_t)N;
  KhgpsCallHDF5(herr, H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL));
  KhgpsCallHDF5(mspace, H5Screate_simple(2, count, NULL));
  PetscCall(PetscMalloc1((size_t)(re - rs) * N + 1, &buf));
  PetscCall(MatDenseGetArrayRead(J, &a));
  for (PetscInt i = 0; i < re - rs; i++)
    for (PetscInt j = 0; j < N; j++) buf[(size_t)i * N + j] = a[i + (size_t)j * lda];
  PetscCall(MatDenseRestoreArrayRead(J, &a));
  KhgpsCallHDF5(dxpl, H5Pcreate(H5P_DATASET_XFER));
#if defined(H5_HAVE_PARALLEL)
  KhgpsCallHDF5(herr, H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE));
#endif
  KhgpsCallHDF5(herr, H5Dwrite(dset, H5T_NATIVE_DOUBLE, mspace, fspace, dxpl, buf));
  PetscCall(PetscFree(buf));
  KhgpsCallHDF5(herr, H5Pclose(dxpl));
  KhgpsCallHDF5(herr, H5Sclose(mspace));
  KhgpsCallHDF5(herr, H5Sclose(fspace));
  KhgpsCallHDF5(herr, H5Dclose(dset));
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteProvenance(PetscViewer v, MPI_Comm comm, const KhgpsParams *p, const KhgpsSolvers *s)
{
  char        buf[256];
  char       *opts;
  PetscMPIInt size;
  PetscInt    isize = (PetscInt)sizeof(PetscInt) * 8;
  TaoType     taotype;
  EPSType     epstype;

  PetscFunctionBeginUser;
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/", "format", PETSC_STRING, "khgps-1"));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/", "khgps_version", PETSC_STRING, KHGPS_VERSION));
  PetscCall(PetscGetVersion(buf, sizeof(buf)));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/", "petsc_version", PETSC_STRING, buf));
  PetscCall(SlepcGetVersion(buf, sizeof(buf)));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/", "slepc_version", PETSC_STRING, buf));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/", "mpi_size", PETSC_INT, &(PetscInt){size}));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/", "petscint_bits", PETSC_INT, &isize));
  PetscCall(PetscOptionsGetAll(NULL, &opts));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/", "options", PETSC_STRING, opts));
  PetscCall(PetscFree(opts));
  PetscCall(TaoGetType(s->tao, &taotype));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/", "tao_type", PETSC_STRING, taotype));
  PetscCall(EPSGetType(s->eps, &epstype));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/", "eps_type", PETSC_STRING, epstype));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/", "hessian_mat_type", PETSC_STRING, s->htype));

  PetscCall(PetscViewerHDF5WriteAttribute(v, "/params", "N", PETSC_INT, &p->N));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/params", "kappa0", PETSC_REAL, &p->kappa0));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/params", "kappa_min", PETSC_REAL, &p->kappa_min));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/params", "J", PETSC_REAL, &p->J));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/params", "h", PETSC_REAL, &p->h));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/params", "A", PETSC_REAL, &p->A));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/params", "seed", PETSC_INT, &p->seed));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/params", "nev", PETSC_INT, &p->nev));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/params", "gtol", PETSC_REAL, &p->gtol));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/params", "x0_amplitude", PETSC_REAL, &p->x0_amplitude));
  PetscCall(PetscViewerHDF5WriteAttribute(v, "/params", "polish_its", PETSC_INT, &p->polish_its));
  PetscFunctionReturn(0);
}

/* One realization's group: /realizations/NNNNNN with its datasets and scalar attributes. */
static PetscErrorCode WriteRealization(PetscViewer v, MPI_Comm comm, const KhgpsParams *p, KhgpsModel *m, KhgpsResult *r)
{
  char      group[64];
  PetscInt  st = (PetscInt)r->status, reason = (PetscInt)r->tao_reason, fok = r->factor_ok;
  PetscReal lowest = r->nconv ? r->eig[0] : PETSC_MAX_REAL;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(group, sizeof(group), "/realizations/%06" PetscInt_FMT, p->realization));
  PetscCall(PetscViewerHDF5PushGroup(v, group));
  PetscCall(VecView(m->kappa, v));
  PetscCall(VecView(r->x, v));
  PetscCall(WriteArray(v, comm, "eigenvalues", r->nconv, r->eig));
  PetscCall(WriteArray(v, comm, "participation_ratio", r->nconv, r->pr));
  PetscCall(WriteArray(v, comm, "residual", r->nconv, r->resid));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "realization", PETSC_INT, &p->realization));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "status", PETSC_INT, &st));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "status_name", PETSC_STRING, KhgpsStatusNames[r->status]));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "energy", PETSC_REAL, &r->energy));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "gradient_norm", PETSC_REAL, &r->gnorm));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "gradient_norm_tao", PETSC_REAL, &r->gnorm_tao));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "tao_iterations", PETSC_INT, &r->tao_its));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "tao_function_evaluations", PETSC_INT, &r->tao_nfuncs));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "tao_reason", PETSC_INT, &reason));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "tao_reason_name", PETSC_STRING, TaoConvergedReasons[r->tao_reason]));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "polish_steps", PETSC_INT, &r->polish_done));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "cholesky_ok", PETSC_INT, &fok));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "nconv", PETSC_INT, &r->nconv));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "lowest_eigenvalue", PETSC_REAL, &lowest));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "time_draw", PETSC_REAL, &r->t_draw));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "time_minimize", PETSC_REAL, &r->t_minimize));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "time_spectrum", PETSC_REAL, &r->t_spectrum));
  if (p->save_couplings) PetscCall(WriteCouplings(v, group, m->J));
  PetscCall(PetscViewerHDF5PopGroup(v));
  PetscFunctionReturn(0);
}

/* Write everything to FILE.part, close it, then rename it to FILE: a reader never sees a half
   file, and an existing FILE is only replaced by a complete one. */
PetscErrorCode KhgpsWrite(MPI_Comm comm, const KhgpsParams *p, const KhgpsSolvers *s, KhgpsModel *m, KhgpsResult *r)
{
  PetscViewer v;
  PetscMPIInt rank;
  char        part[PETSC_MAX_PATH_LEN + 8];

  PetscFunctionBeginUser;
  if (!p->output[0]) PetscFunctionReturn(0);
  PetscCall(PartName(p, part, sizeof(part)));
  PetscCall(PetscViewerHDF5Open(comm, part, FILE_MODE_WRITE, &v));
  PetscCall(WriteProvenance(v, comm, p, s));
  PetscCall(WriteRealization(v, comm, p, m, r));
  PetscCall(PetscViewerDestroy(&v));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) PetscCheck(rename(part, p->output) == 0, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot rename %s to %s: %s", part, p->output, strerror(errno));
  PetscCallMPI(MPI_Barrier(comm));
  PetscFunctionReturn(0);
}
