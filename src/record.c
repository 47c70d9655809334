/* record.c: one realization's results as plain arrays (KhgpsRecord), what the run file stores.
   Its fields are listed once, in KhgpsRecordScalars and KhgpsRecordArrays: packing for the
   gather to rank 0, unpacking, the writer (io.c) and the resume check (io.c) iterate these
   tables, so that a new output field is one line here (and a member of KhgpsRecord). */
#include <stddef.h>
#include "khgps_result.h"

const char *const KhgpsFactorPrecisionNames[] = {"double", "single", "single->double", NULL};

#define SCALAR(member, name, isint)            {name, offsetof(KhgpsRecord, member), isint, NULL, PETSC_FALSE}
#define OPTIONAL(member, name, isint)          {name, offsetof(KhgpsRecord, member), isint, NULL, PETSC_TRUE}
#define ENUM(member, name, names, optional) {name, offsetof(KhgpsRecord, member), PETSC_TRUE, names, optional}
/* Scalars: attributes of /realizations/NNNNNN. `status` comes last: written last, it marks the
   group complete (a killed append leaves no group that looks done). */
const KhgpsRecordScalar KhgpsRecordScalars[] = {
  SCALAR(realization, "realization", PETSC_TRUE),
  SCALAR(ranks, "ranks", PETSC_TRUE),
  OPTIONAL(run, "run", PETSC_TRUE), /* the run (/runs/NNNN) that computed it */
  SCALAR(energy, "energy", PETSC_FALSE),
  SCALAR(gnorm, "gradient_norm", PETSC_FALSE),
  SCALAR(gnorm_tao, "gradient_norm_tao", PETSC_FALSE),
  SCALAR(tao_its, "tao_iterations", PETSC_TRUE),
  SCALAR(tao_nfuncs, "tao_function_evaluations", PETSC_TRUE),
  SCALAR(tao_reason, "tao_reason", PETSC_TRUE),
  SCALAR(polish_done, "polish_steps", PETSC_TRUE),
  SCALAR(factor_ok, "cholesky_ok", PETSC_TRUE),
  ENUM(factor_precision, "factor_precision", KhgpsFactorPrecisionNames, PETSC_TRUE),
  SCALAR(nconv, "nconv", PETSC_TRUE),
  SCALAR(lowest, "lowest_eigenvalue", PETSC_FALSE),
  SCALAR(t_draw, "time_draw", PETSC_FALSE),
  SCALAR(t_minimize, "time_minimize", PETSC_FALSE),
  SCALAR(t_spectrum, "time_spectrum", PETSC_FALSE),
  SCALAR(status, "status", PETSC_TRUE),
};
const int KhgpsRecordNScalars = (int)(sizeof(KhgpsRecordScalars) / sizeof(KhgpsRecordScalars[0]));

#define ARRAY(member, name, per_pair) {name, offsetof(KhgpsRecord, member), per_pair}
/* Arrays: datasets of the group, of length N or nconv (J, N x N and optional, is apart). */
const KhgpsRecordArray KhgpsRecordArrays[] = {
  ARRAY(kappa, "kappa", PETSC_FALSE),
  ARRAY(x, "x", PETSC_FALSE),
  ARRAY(eig, "eigenvalues", PETSC_TRUE),
  ARRAY(pr, "participation_ratio", PETSC_TRUE),
  ARRAY(resid, "residual", PETSC_TRUE),
};
const int KhgpsRecordNArrays = (int)(sizeof(KhgpsRecordArrays) / sizeof(KhgpsRecordArrays[0]));

/* A scalar field of a record as a real (exact for the integers, all below 2^53), and back. */
PetscReal KhgpsRecordGet(const KhgpsRecord *c, const KhgpsRecordScalar *f)
{
  const char *a = (const char *)c + f->offset;
  return f->isint ? (PetscReal) * (const PetscInt *)a : *(const PetscReal *)a;
}

static void Set(KhgpsRecord *c, const KhgpsRecordScalar *f, PetscReal v)
{
  char *a = (char *)c + f->offset;
  if (f->isint) *(PetscInt *)a = (PetscInt)v;
  else *(PetscReal *)a = v;
}

/* An array field of a record, and its length. */
PetscReal *KhgpsRecordArrayGet(const KhgpsRecord *c, const KhgpsRecordArray *f, PetscInt *len)
{
  *len = f->per_pair ? c->nconv : c->N;
  return *(PetscReal **)((char *)c + f->offset);
}

PetscErrorCode KhgpsRecordDestroy(KhgpsRecord *c)
{
  PetscFunctionBeginUser;
  for (int k = 0; k < KhgpsRecordNArrays; k++) PetscCall(PetscFree(*(PetscReal **)((char *)c + KhgpsRecordArrays[k].offset)));
  PetscCall(PetscFree(c->J));
  PetscFunctionReturn(0);
}

/* The record in one buffer of reals, for MPI: N, nconv and whether J follows, the scalars, the
   arrays, J. */
PetscErrorCode KhgpsRecordPack(const KhgpsRecord *c, PetscInt *len, PetscReal **buf)
{
  PetscInt n = 3 + KhgpsRecordNScalars, m;

  PetscFunctionBeginUser;
  *len = n + (c->J ? c->N * c->N : 0);
  for (int k = 0; k < KhgpsRecordNArrays; k++) {
    (void)KhgpsRecordArrayGet(c, &KhgpsRecordArrays[k], &m);
    *len += m;
  }
  PetscCall(PetscMalloc1(*len, buf));
  (*buf)[0] = c->N;
  (*buf)[1] = c->nconv;
  (*buf)[2] = c->J ? 1 : 0;
  for (int k = 0; k < KhgpsRecordNScalars; k++) (*buf)[3 + k] = KhgpsRecordGet(c, &KhgpsRecordScalars[k]);
  for (int k = 0; k < KhgpsRecordNArrays; k++) {
    const PetscReal *a = KhgpsRecordArrayGet(c, &KhgpsRecordArrays[k], &m);
    PetscCall(PetscArraycpy(*buf + n, a, m));
    n += m;
  }
  if (c->J) PetscCall(PetscArraycpy(*buf + n, c->J, c->N * c->N));
  PetscFunctionReturn(0);
}

PetscErrorCode KhgpsRecordUnpack(const PetscReal *b, KhgpsRecord *c)
{
  PetscInt n = 3 + KhgpsRecordNScalars, m;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(c, sizeof(*c)));
  c->N     = (PetscInt)b[0];
  c->nconv = (PetscInt)b[1];
  for (int k = 0; k < KhgpsRecordNScalars; k++) Set(c, &KhgpsRecordScalars[k], b[3 + k]);
  for (int k = 0; k < KhgpsRecordNArrays; k++) {
    PetscReal **a = (PetscReal **)((char *)c + KhgpsRecordArrays[k].offset);
    m             = KhgpsRecordArrays[k].per_pair ? c->nconv : c->N;
    if (!m) continue;
    PetscCall(PetscMalloc1(m, a));
    PetscCall(PetscArraycpy(*a, b + n, m));
    n += m;
  }
  if (b[2] != 0) {
    PetscCall(PetscMalloc1(c->N * c->N, &c->J));
    PetscCall(PetscArraycpy(c->J, b + n, c->N * c->N));
  }
  PetscFunctionReturn(0);
}
