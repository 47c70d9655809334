/* result.c: a realization's result (KhgpsResult): its pairs from any eigensolver, sorted, with
   their participation ratios, and its destruction. Every eigensolver (spectrum.c, blockeig.c,
   filter.c) fills the result through here. */
#include <stdlib.h>
#include <slepceps.h>
#include "khgps_result.h"
#include "khgps_solvers.h"

PetscErrorCode KhgpsResultDestroy(KhgpsResult *r)
{
  PetscFunctionBeginUser;
  PetscCall(VecDestroy(&r->x));
  PetscCall(PetscFree3(r->eig, r->pr, r->resid));
  PetscCall(PetscFree(r->modes));
  r->nmodes = 0;
  PetscFunctionReturn(0);
}

static int CompareReal(const void *a, const void *b)
{
  PetscReal x = ((const PetscReal *)a)[0], y = ((const PetscReal *)b)[0];
  return (x > y) - (x < y);
}

/* r's pairs from n triples (eigenvalue, participation ratio, residual) in t, sorted by eigenvalue
   (t is reordered): allocates r->eig, r->pr, r->resid and sets r->nconv. */
PetscErrorCode KhgpsResultSetPairs(KhgpsResult *r, PetscInt n, PetscReal *t)
{
  PetscFunctionBeginUser;
  qsort(t, (size_t)n, 3 * sizeof(PetscReal), CompareReal);
  r->nconv = n;
  PetscCall(PetscMalloc3(n, &r->eig, n, &r->pr, n, &r->resid));
  for (PetscInt i = 0; i < n; i++) {
    r->eig[i]   = t[3 * i];
    r->pr[i]    = t[3 * i + 1];
    r->resid[i] = t[3 * i + 2];
  }
  PetscFunctionReturn(0);
}

/* The participation ratio (sum_i v_i^2)^2 / (N sum_i v_i^4) of a distributed vector. */
PetscErrorCode KhgpsParticipationRatio(Vec v, PetscReal *pr)
{
  PetscReal          n2, n4loc = 0, n4;
  const PetscScalar *a;
  PetscInt           nloc, N;

  PetscFunctionBeginUser;
  PetscCall(VecNorm(v, NORM_2, &n2));
  PetscCall(VecGetLocalSize(v, &nloc));
  PetscCall(VecGetSize(v, &N));
  PetscCall(VecGetArrayRead(v, &a));
  for (PetscInt k = 0; k < nloc; k++) n4loc += PetscPowRealInt(PetscRealPart(a[k]), 4);
  PetscCall(VecRestoreArrayRead(v, &a));
  PetscCall(MPIU_Allreduce(&n4loc, &n4, 1, MPIU_REAL, MPIU_SUM, PetscObjectComm((PetscObject)v)));
  *pr = n2 * n2 * n2 * n2 / (N * n4);
  PetscFunctionReturn(0);
}

/* The indices of the K smallest of val[0:n] in ascending order (ties: the lower index first). */
void KhgpsLowestIndices(PetscInt n, const PetscReal *val, PetscInt K, PetscInt *idx)
{
  for (PetscInt j = 0; j < K; j++) {
    PetscInt best = -1;
    for (PetscInt i = 0; i < n; i++) {
      PetscBool used = PETSC_FALSE;
      for (PetscInt k = 0; k < j; k++) used = (PetscBool)(used || idx[k] == i);
      if (!used && (best < 0 || val[i] < val[best])) best = i;
    }
    idx[j] = best;
  }
}

/* A saved mode in a fixed form, whatever solver or rank count computed it: unit norm, its
   largest-magnitude component (the first of equal ones) positive, rounded to float32. */
static void ModeNormalize(PetscInt N, PetscReal *v)
{
  PetscReal n2 = 0, big = 0;
  PetscInt  ib = 0;
  for (PetscInt i = 0; i < N; i++) {
    n2 += v[i] * v[i];
    if (PetscAbsReal(v[i]) > big) big = PetscAbsReal(v[i]), ib = i;
  }
  n2 = (v[ib] < 0 ? -1 : 1) / PetscSqrtReal(n2);
  for (PetscInt i = 0; i < N; i++) v[i] = (PetscReal)(float)(v[i] * n2);
}

/* r's first K modes (K <= r->nconv) from the columns V[:, 0:K] (leading dimension N), the
   eigenvectors of r->eig[0:K] on one rank (the packed block eigensolver). */
PetscErrorCode KhgpsResultModesFromArray(KhgpsResult *r, PetscInt K, PetscInt N, const PetscScalar *V)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(r->modes));
  r->nmodes = PetscMin(K, r->nconv);
  if (!r->nmodes) PetscFunctionReturn(0);
  PetscCall(PetscMalloc1((size_t)r->nmodes * N, &r->modes));
  for (PetscInt j = 0; j < r->nmodes; j++) {
    for (PetscInt i = 0; i < N; i++) r->modes[(size_t)j * N + i] = PetscRealPart(V[(size_t)j * N + i]);
    ModeNormalize(N, r->modes + (size_t)j * N);
  }
  PetscFunctionReturn(0);
}

/* Mode j of K (K <= r->nconv) from a distributed eigenvector v, gathered on the first rank of v's
   communicator (collective; j = 0 allocates r->modes there). */
PetscErrorCode KhgpsResultModeFromVec(KhgpsResult *r, PetscInt K, PetscInt j, Vec v)
{
  VecScatter         sc;
  Vec                v0;
  const PetscScalar *a;
  PetscInt           n;

  PetscFunctionBeginUser;
  PetscCall(VecScatterCreateToZero(v, &sc, &v0));
  PetscCall(VecScatterBegin(sc, v, v0, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(sc, v, v0, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetLocalSize(v0, &n));
  if (j == 0) {
    PetscCall(PetscFree(r->modes));
    r->nmodes = K;
    if (n) PetscCall(PetscMalloc1((size_t)K * n, &r->modes));
  }
  if (n) {
    PetscCall(VecGetArrayRead(v0, &a));
    for (PetscInt i = 0; i < n; i++) r->modes[(size_t)j * n + i] = PetscRealPart(a[i]);
    PetscCall(VecRestoreArrayRead(v0, &a));
    ModeNormalize(n, r->modes + (size_t)j * n);
  }
  PetscCall(VecScatterDestroy(&sc));
  PetscCall(VecDestroy(&v0));
  PetscFunctionReturn(0);
}

/* -khgps_save_modes: the eigenvectors of the K lowest of the n pairs (eigenvalues t[3 i]; pair i is
   the EPS's pair eps_index[i], or i if eps_index is NULL) into r, gathered on the first rank. */
PetscErrorCode KhgpsSaveModes(EPS eps, PetscInt K, PetscInt n, const PetscReal *t, const PetscInt *eps_index, Vec v, KhgpsResult *r)
{
  PetscReal *val;
  PetscInt  *idx;

  PetscFunctionBeginUser;
  K = PetscMin(K, n);
  if (K <= 0) PetscFunctionReturn(0);
  PetscCall(PetscMalloc2(n, &val, K, &idx));
  for (PetscInt i = 0; i < n; i++) val[i] = t[3 * i];
  KhgpsLowestIndices(n, val, K, idx);
  for (PetscInt j = 0; j < K; j++) {
    PetscCall(EPSGetEigenvector(eps, eps_index ? eps_index[idx[j]] : idx[j], v, NULL));
    PetscCall(KhgpsResultModeFromVec(r, K, j, v));
  }
  PetscCall(PetscFree2(val, idx));
  PetscFunctionReturn(0);
}
