/* record.c: one realization's results as plain arrays (KhgpsRecord), what the run file stores.
   Its fields are listed once, in KhgpsRecordScalars and KhgpsRecordArrays: packing for the
   gather to rank 0, unpacking, the writer (outfile.c, runfile.c) and the resume check (outfile.c) iterate these
   tables, so that a new output field is one line here (and a member of KhgpsRecord). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "khgps_result.h"

const char *const KhgpsFactorPrecisionNames[] = {"double", "single", "single->double", NULL};

// clang-format off
#define SCALAR(member, name, isint)         {name, offsetof(KhgpsRecord, member), isint, NULL, PETSC_FALSE}
#define OPTIONAL(member, name, isint)       {name, offsetof(KhgpsRecord, member), isint, NULL, PETSC_TRUE}
#define ENUM(member, name, names, optional) {name, offsetof(KhgpsRecord, member), PETSC_TRUE, names, optional}
// clang-format on
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
  OPTIONAL(thermal.energy, "parent_energy", PETSC_FALSE), /* the thermal start (0 for the others) */
  OPTIONAL(thermal.energy_error, "parent_energy_error", PETSC_FALSE),
  OPTIONAL(thermal.x2, "parent_x2", PETSC_FALSE),
  OPTIONAL(thermal.x2_error, "parent_x2_error", PETSC_FALSE),
  OPTIONAL(thermal.acceptance, "parent_acceptance", PETSC_FALSE),
  OPTIONAL(thermal.drift, "parent_drift", PETSC_FALSE),
  OPTIONAL(thermal.sweeps, "parent_sweeps", PETSC_TRUE),
  OPTIONAL(thermal.time, "time_parent", PETSC_FALSE),
  SCALAR(status, "status", PETSC_TRUE),
};
const int KhgpsRecordNScalars = (int)(sizeof(KhgpsRecordScalars) / sizeof(KhgpsRecordScalars[0]));

// clang-format off
#define ARRAY(member, name, length)            {name, offsetof(KhgpsRecord, member), length, PETSC_FALSE, PETSC_FALSE}
#define OPTIONAL_ARRAY32(member, name, length) {name, offsetof(KhgpsRecord, member), length, PETSC_TRUE, PETSC_TRUE}
/* Arrays: datasets of the group, of length N, nconv or nmodes x N (J, N x N and optional, is apart). */
const KhgpsRecordArray KhgpsRecordArrays[] = {
  ARRAY(kappa, "kappa", KHGPS_LENGTH_N),
  ARRAY(x, "x", KHGPS_LENGTH_N),
  ARRAY(eig, "eigenvalues", KHGPS_LENGTH_NCONV),
  ARRAY(pr, "participation_ratio", KHGPS_LENGTH_NCONV),
  ARRAY(resid, "residual", KHGPS_LENGTH_NCONV),
  OPTIONAL_ARRAY32(modes, "modes", KHGPS_LENGTH_MODES), /* -khgps_save_modes K: the lowest eigenvectors */
};
// clang-format on
const char *const KhgpsRecordLengthNames[] = {"N", "nconv", "nmodes*N", NULL};
const char *const KhgpsRecordHead[]        = {"N", "nconv", "has_J", "nmodes", NULL};
const int         KhgpsRecordNArrays       = (int)(sizeof(KhgpsRecordArrays) / sizeof(KhgpsRecordArrays[0]));

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
  *len = f->length == KHGPS_LENGTH_N ? c->N : f->length == KHGPS_LENGTH_NCONV ? c->nconv : c->nmodes * c->N;
  return *(PetscReal **)((char *)c + f->offset);
}

PetscErrorCode KhgpsRecordDestroy(KhgpsRecord *c)
{
  PetscFunctionBeginUser;
  for (int k = 0; k < KhgpsRecordNArrays; k++) PetscCall(PetscFree(*(PetscReal **)((char *)c + KhgpsRecordArrays[k].offset)));
  PetscCall(PetscFree(c->J));
  PetscFunctionReturn(0);
}

/* The record in one buffer of reals, for MPI and the log: the head (N, nconv, whether J follows,
   nmodes), the scalars, the arrays, J. */
PetscErrorCode KhgpsRecordPack(const KhgpsRecord *c, PetscInt *len, PetscReal **buf)
{
  PetscInt n = KHGPS_RECORD_HEAD + KhgpsRecordNScalars, m;

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
  (*buf)[3] = c->nmodes;
  for (int k = 0; k < KhgpsRecordNScalars; k++) (*buf)[KHGPS_RECORD_HEAD + k] = KhgpsRecordGet(c, &KhgpsRecordScalars[k]);
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
  PetscInt n = KHGPS_RECORD_HEAD + KhgpsRecordNScalars, m;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(c, sizeof(*c)));
  c->N      = (PetscInt)b[0];
  c->nconv  = (PetscInt)b[1];
  c->nmodes = (PetscInt)b[3];
  for (int k = 0; k < KhgpsRecordNScalars; k++) Set(c, &KhgpsRecordScalars[k], b[KHGPS_RECORD_HEAD + k]);
  for (int k = 0; k < KhgpsRecordNArrays; k++) {
    PetscReal **a = (PetscReal **)((char *)c + KhgpsRecordArrays[k].offset);
    (void)KhgpsRecordArrayGet(c, &KhgpsRecordArrays[k], &m);
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

/* The record's layout, as the log's header states it: "record" with the head and the scalars
   (name:type, i integer, r real, e an enum written by name), "arrays" with their lengths, and the
   enums' names (status, tao_reason, the enum scalars). outfile.c writes it into FILE.pending's header;
   bin/khgps-format into analysis/khgps/format.json. */
void KhgpsRecordLayout(char *h, size_t len)
{
  size_t l;
#define ADD(...) (l = strlen(h), snprintf(h + l, len - l, __VA_ARGS__))
  h[0] = 0;
  ADD("record");
  for (int k = 0; KhgpsRecordHead[k]; k++) ADD(" %s", KhgpsRecordHead[k]);
  for (int k = 0; k < KhgpsRecordNScalars; k++) ADD(" %s:%s", KhgpsRecordScalars[k].name, KhgpsRecordScalars[k].names ? "e" : KhgpsRecordScalars[k].isint ? "i" : "r");
  ADD("\narrays");
  for (int k = 0; k < KhgpsRecordNArrays; k++) ADD(" %s:%s", KhgpsRecordArrays[k].name, KhgpsRecordLengthNames[KhgpsRecordArrays[k].length]);
  ADD("\nenum status");
  for (int k = 0; k < 3; k++) ADD(" %d=%s", k, KhgpsStatusNames[k]);
  ADD("\nenum tao_reason");
  for (int k = -8; k <= 8; k++) {
    if (!TaoConvergedReasons[k] || !TaoConvergedReasons[k][0] || strchr(TaoConvergedReasons[k], ' ')) continue;
    ADD(" %d=%s", k, TaoConvergedReasons[k]);
  }
  for (int j = 0; j < KhgpsRecordNScalars; j++) {
    if (!KhgpsRecordScalars[j].names) continue;
    ADD("\nenum %s", KhgpsRecordScalars[j].name);
    for (int k = 0; KhgpsRecordScalars[j].names[k]; k++) ADD(" %d=%s", k, KhgpsRecordScalars[j].names[k]);
  }
#undef ADD
}
