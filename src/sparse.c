/* sparse.c: diluted couplings (-khgps_coupling sparse): each pair i < j coupled with probability
   c/N (Erdos-Renyi), J_ij = J/sqrt(c) z_ij with the dense model's normal z_ij, as MATAIJ. The
   coupled columns k > j of row j come from geometric skips drawn from counters (j, step), so
   every rank builds its rows without communication and the result is rank-independent. */
#include <math.h>
#include "khgps_options.h"
#include "khgps_rng.h"
#include "khgps_model.h"

enum {
  STREAM_SPARSE = KHGPS_STREAM_SPARSE
};

/* The next coupled column after k in row j (step s of its walk); N ends the row. The skip is
   compared as a real before it becomes an integer: for a small c/N it can exceed any integer
   (c = 1e-9: ~1e12 columns), which is past the end of the row. */
static inline PetscInt NextCoupled(const KhgpsParams *p, PetscReal logq, PetscInt j, PetscInt s, PetscInt k)
{
  PetscReal u, skip;
  if (logq == -PETSC_INFINITY) return k + 1; /* every pair coupled */
  u    = KhgpsUniformAt(p->seed, p->realization, STREAM_SPARSE, j, s);
  skip = PetscFloorReal(PetscLogReal(u) / logq);
  return skip < (PetscReal)(p->N - 1 - k) ? k + 1 + (PetscInt)skip : p->N; /* a NaN skip (q = 0) ends the row too */
}

/* Walk the rows j < re (the only ones with entries in rows [rs, re)), calling back for each
   coupled pair (j, k), j < k. Twice: to count, then to fill. */
#define KHGPS_WALK(BODY) \
  for (PetscInt j = 0; j < re; j++) { \
    PetscInt s = 0, k = j; \
    while ((k = NextCoupled(p, logq, j, s++, k)) < N) { BODY } \
  }

PetscErrorCode KhgpsSparseCouplings(MPI_Comm comm, const KhgpsParams *p, PetscInt nloc, Mat *J)
{
  PetscInt        N = p->N, rs, re, *ia, *ja, *fill;
  PetscScalar    *a;
  const PetscReal q = p->connectivity / (PetscReal)N, logq = q >= 1 ? -PETSC_INFINITY : log1p(-q), sc = p->J / PetscSqrtReal(p->connectivity);

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Scan(&nloc, &re, 1, MPIU_INT, MPI_SUM, comm));
  rs = re - nloc;
  PetscCall(PetscCalloc1(nloc + 1, &ia));
  for (PetscInt r = 0; r < nloc; r++) ia[r + 1] = 1; /* the diagonal (zero in J, set in the Hessian) */
  KHGPS_WALK(if (j >= rs) ia[j - rs + 1]++; if (k >= rs && k < re) ia[k - rs + 1]++;)
  for (PetscInt r = 0; r < nloc; r++) ia[r + 1] += ia[r];
  PetscCall(PetscMalloc3(ia[nloc], &ja, ia[nloc], &a, nloc, &fill));
  for (PetscInt r = 0; r < nloc; r++) fill[r] = ia[r];
  /* row r receives its lower entries (j < r) in increasing j, then its diagonal, then its upper
     entries in increasing k: sorted as it is filled */
  KHGPS_WALK({
    if (j >= rs && s == 1) {
      ja[fill[j - rs]]  = j;
      a[fill[j - rs]++] = 0.0;
    }
    if (j >= rs) {
      ja[fill[j - rs]]  = k;
      a[fill[j - rs]++] = KhgpsCoupling(sc * KhgpsNormalPair(p->seed, p->realization, j, k));
    }
    if (k >= rs && k < re) {
      ja[fill[k - rs]]  = j;
      a[fill[k - rs]++] = KhgpsCoupling(sc * KhgpsNormalPair(p->seed, p->realization, j, k));
    }
  })
  for (PetscInt r = 0; r < nloc; r++) /* rows whose walk had no step: the diagonal is still missing */
    if (fill[r] < ia[r + 1]) {
      ja[fill[r]]  = rs + r;
      a[fill[r]++] = 0.0;
    }
  PetscCall(MatCreate(comm, J));
  PetscCall(MatSetSizes(*J, nloc, nloc, N, N));
  PetscCall(MatSetOptionsPrefix(*J, "khgps_couplings_"));
  PetscCall(MatSetType(*J, MATAIJ));
  PetscCall(MatSetFromOptions(*J));
  PetscCall(MatSeqAIJSetPreallocationCSR(*J, ia, ja, a));
  PetscCall(MatMPIAIJSetPreallocationCSR(*J, ia, ja, a));
  PetscCall(PetscFree(ia));
  PetscCall(PetscFree3(ja, a, fill));
  PetscFunctionReturn(0);
}
