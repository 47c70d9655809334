/* result.c: a realization's result (KhgpsResult): its pairs from any eigensolver, sorted, with
   their participation ratios, and its destruction. Every eigensolver (spectrum.c, blockeig.c,
   filter.c) fills the result through here. */
#include <stdlib.h>
#include "khgps_result.h"

PetscErrorCode KhgpsResultDestroy(KhgpsResult *r)
{
  PetscFunctionBeginUser;
  PetscCall(VecDestroy(&r->x));
  PetscCall(PetscFree3(r->eig, r->pr, r->resid));
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

