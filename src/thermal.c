/* thermal.c: the starting point of the minimization (issue 27): x = 0, x_i uniform in [-a, a], or a
   sample of the Boltzmann distribution exp(-H/T) of the realization (the "parent" at temperature
   T), from which the minimization then finds an inherent structure.

   The chain: Metropolis with single-site moves in a systematic scan (a sweep: sites 0, ..., N-1 in
   turn), x_i -> x_i + d with d uniform in [-w_i, w_i], accepted with probability
   min(1, exp(-dH/T)). Each move leaves exp(-H/T) invariant (a symmetric proposal, detailed
   balance), so a sweep does too. The change dH is exact from the local field f_i = sum_j J_ij x_j:
     dH = d (f_i - h + kappa_i (x_i + d/2) + A/24 (2 x_i + d)(x_i^2 + (x_i + d)^2)),
   and an accepted move updates f += d J[:, i] (O(N)); f is recomputed from x every REFRESH sweeps
   so that rounding cannot accumulate. The widths w_i adapt during the first `adapt` sweeps only
   (towards an acceptance of 0.45, per site, every ADAPT_BLOCK sweeps); afterwards they are fixed,
   so the chain is a time-homogeneous Metropolis chain (exact stationary distribution) in the rest,
   which includes the measured last `measure` sweeps and the sample handed to the minimizer (the
   state after all sweeps).

   Random numbers: Philox keyed by (seed, realization) like the couplings, counter (site, sweep,
   KHGPS_STREAM_THERMAL): one call per attempted move gives the proposal and the acceptance draw.
   The chain runs on the first rank of the realization's communicator, on J redrawn there as a
   dense N x N float array (4 N^2 bytes: the same float32 values as every storage of the model),
   and the sample is broadcast: the same x on any number of ranks, and a resumed run draws the
   same chain. */
#include <math.h>
#include <string.h>
#include "khgps_rng.h"
#include "khgps_thermal.h"
#include "kernels/draw.h"

enum {
  REFRESH     = 64,
  ADAPT_BLOCK = 10,
  BATCHES     = 20
};
#define TARGET_ACCEPTANCE 0.45

/* /params entries of the starting point, absent in files written before it was recorded. */
PetscBool KhgpsThermalParam(const char *name)
{
  static const char *const names[] = {"start", "parent_temperature", "equilibration_sweeps", "adapt_sweeps", "measure_sweeps"};
  for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
    if (!strcmp(name, names[k])) return PETSC_TRUE;
  return PETSC_FALSE;
}

/* J (N x N floats, symmetric, zero diagonal) and kappa of realization p->realization, the values
   of model.c: J_ij = fl32(J/sqrt(N) z_ij) with z_ij from KhgpsNormal2(i, j/2) for i < j. */
PetscErrorCode KhgpsThermalCouplings(const KhgpsParams *p, float *J, PetscReal *kappa)
{
  const PetscInt  N = p->N;
  const PetscReal s = p->J / PetscSqrtReal((PetscReal)N);
  float          *row;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(N + 2, &row));
  for (PetscInt i = 0; i < N; i++) {
    const PetscInt m0 = (i + 1) >> 1, nm = (N + 1) / 2 - m0; /* counters (i, c), c = m0 ... (N - 1)/2 */
    J[(size_t)i * N + i] = 0;
    kappa[i]             = p->kappa_min + (p->kappa0 - p->kappa_min) * KhgpsUniform(p->seed, p->realization, KHGPS_STREAM_KAPPA, i);
    if (nm > 0) KhgpsDrawRow(p->seed, p->realization, s, i, m0, nm, row);
    for (PetscInt k = 0; k < 2 * nm; k++) {
      const PetscInt j = 2 * m0 + k;
      if (j > i && j < N) J[(size_t)i * N + j] = J[(size_t)j * N + i] = row[k];
    }
  }
  PetscCall(PetscFree(row));
  PetscFunctionReturn(0);
}

/* Mean and batch-means standard error of v[0..n) (n a multiple of nb batches). */
static void BatchMeans(const PetscReal *v, PetscInt n, PetscInt nb, PetscReal *mean, PetscReal *se)
{
  const PetscInt L = n / nb;
  PetscReal      m = 0, s2 = 0, b[BATCHES];

  for (PetscInt k = 0; k < nb; k++) {
    b[k] = 0;
    for (PetscInt t = 0; t < L; t++) b[k] += v[k * L + t];
    b[k] /= L;
    m += b[k];
  }
  m /= nb;
  for (PetscInt k = 0; k < nb; k++) s2 += (b[k] - m) * (b[k] - m);
  *mean = m;
  *se   = PetscSqrtReal(s2 / (nb - 1) / nb);
}

/* H(x)/N and sum x^2/N from the local field f = J x. */
static void Measure(const KhgpsChain *c, const PetscReal *x, const PetscReal *f, PetscReal *e, PetscReal *x2)
{
  const PetscReal A24 = c->A / 24.0;
  PetscReal       E = 0, X2 = 0;
  for (PetscInt i = 0; i < c->N; i++) {
    const PetscReal xi = x[i];
    E += xi * (0.5 * f[i] + 0.5 * c->kappa[i] * xi + A24 * xi * xi * xi - c->h);
    X2 += xi * xi;
  }
  *e  = E / c->N;
  *x2 = X2 / c->N;
}

/* f += d J[:, i], the chain's inner loop: compiled for AVX-512, AVX2 and the baseline, the variant
   chosen at load time for the processor; element by element and never contracted into an FMA, so
   that every variant gives the same bits (a chain on any machine of this build repeats). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=off")))
#endif
static void
FieldUpdate(PetscInt N, PetscReal d, const float *restrict col, PetscReal *restrict f)
{
#pragma omp simd
  for (PetscInt j = 0; j < N; j++) f[j] += d * (PetscReal)col[j];
}

/* The chain from x = 0 (see the top of the file); x is the state after all sweeps. */
PetscErrorCode KhgpsThermalChain(const KhgpsChain *c, PetscReal *x, KhgpsThermalStats *st)
{
  const PetscInt  N = c->N, S = c->sweeps, M = c->measure, L = M / BATCHES, M0 = S - BATCHES * L;
  const PetscReal T = c->T, A24 = c->A / 24.0;
  PetscReal      *f, *w, *e, *m2, u[2], se1, se2, m1, mm2;
  PetscInt       *acc;
  long long       naccepted = 0;
  PetscLogDouble  t0, t1;

  PetscFunctionBeginUser;
  PetscCheck(M >= BATCHES && c->adapt + M <= S, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "thermal chain: need measure >= %d and adapt + measure <= sweeps", BATCHES);
  PetscCall(PetscTime(&t0));
  PetscCall(PetscMalloc5(N, &f, N, &w, N, &acc, BATCHES * L, &e, BATCHES * L, &m2));
  for (PetscInt i = 0; i < N; i++) {
    x[i]   = 0;
    f[i]   = 0;
    acc[i] = 0;
    /* the narrower of the harmonic and the quartic scale at x = 0; adapted below */
    w[i] = 1.0 / PetscSqrtReal(c->kappa[i] / T + PetscSqrtReal(c->A / (24.0 * T)));
  }
  for (PetscInt t = 0; t < S; t++) {
    if (t % REFRESH == 0) /* the local field afresh, in a fixed order */
      for (PetscInt i = 0; i < N; i++) {
        const float *row = c->J + (size_t)i * N;
        PetscReal    s   = 0;
        for (PetscInt j = 0; j < N; j++) s += (PetscReal)row[j] * x[j];
        f[i] = s;
      }
    for (PetscInt i = 0; i < N; i++) {
      const PetscReal xi = x[i];
      PetscReal       d, y, dH;
      KhgpsUniform2At(c->seed, c->realization, KHGPS_STREAM_THERMAL, i, t, u);
      d  = w[i] * (2.0 * u[0] - 1.0);
      y  = xi + d;
      dH = d * (f[i] - c->h + c->kappa[i] * (xi + 0.5 * d) + A24 * (xi + y) * (xi * xi + y * y));
      if (dH <= 0 || u[1] <= PetscExpReal(-dH / T)) {
        x[i] = y;
        FieldUpdate(N, d, c->J + (size_t)i * N, f); /* column i = row i */
        acc[i]++;
        if (t >= M0) naccepted++;
      }
    }
    if (t < c->adapt && (t + 1) % ADAPT_BLOCK == 0) /* the widths towards the target acceptance */
      for (PetscInt i = 0; i < N; i++) {
        const PetscReal rate = (PetscReal)acc[i] / ADAPT_BLOCK;
        w[i] *= PetscExpReal(rate - TARGET_ACCEPTANCE);
        acc[i] = 0;
      }
    if (t >= M0) Measure(c, x, f, &e[t - M0], &m2[t - M0]);
  }
  BatchMeans(e, BATCHES * L, BATCHES, &st->energy, &st->energy_error);
  BatchMeans(m2, BATCHES * L, BATCHES, &st->x2, &st->x2_error);
  BatchMeans(e, BATCHES / 2 * L, BATCHES / 2, &m1, &se1);
  BatchMeans(e + BATCHES / 2 * L, BATCHES / 2 * L, BATCHES / 2, &mm2, &se2);
  st->drift      = se1 + se2 > 0 ? (mm2 - m1) / PetscSqrtReal(se1 * se1 + se2 * se2) : 0;
  st->acceptance = (PetscReal)naccepted / ((PetscReal)N * BATCHES * L);
  st->sweeps     = S;
  PetscCall(PetscFree5(f, w, acc, e, m2));
  PetscCall(PetscTime(&t1));
  st->time = t1 - t0;
  PetscFunctionReturn(0);
}

/* The starting point of realization p->realization into X: zero, random (x_i uniform in [-a, a]),
   or thermal (the chain on the communicator's first rank, its sample broadcast); st gets the
   chain's statistics (zero for the other starts). */
PetscErrorCode KhgpsStartingPoint(KhgpsModel *m, const KhgpsParams *p, Vec X, KhgpsThermalStats *st)
{
  PetscInt     rs, re, N = p->N;
  PetscScalar *x;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(st, sizeof(*st)));
  PetscCall(VecGetOwnershipRange(X, &rs, &re));
  if (p->start == KHGPS_START_ZERO) PetscCall(VecZeroEntries(X));
  else if (p->start == KHGPS_START_RANDOM) {
    PetscCall(VecGetArrayWrite(X, &x));
    for (PetscInt i = rs; i < re; i++) x[i - rs] = p->x0_amplitude * (2.0 * KhgpsUniform(p->seed, p->realization, KHGPS_STREAM_X0, i) - 1.0);
    PetscCall(VecRestoreArrayWrite(X, &x));
  } else {
    MPI_Comm    comm = PetscObjectComm((PetscObject)X);
    PetscMPIInt rank;
    PetscReal  *xs, *kappa, buf[8];
    float      *J;
    PetscCallMPI(MPI_Comm_rank(comm, &rank));
    PetscCall(PetscMalloc1(N, &xs));
    if (rank == 0) {
      PetscLogDouble t0, t1;
      KhgpsChain     c;
      PetscCall(PetscTime(&t0));
      PetscCall(PetscMalloc2((size_t)N * N, &J, N, &kappa));
      PetscCall(KhgpsThermalCouplings(p, J, kappa));
      c = (KhgpsChain){N, J, kappa, p->A, p->h, p->parent_temperature, p->seed, p->realization, p->equilibration_sweeps, p->adapt_sweeps, p->measure_sweeps};
      PetscCall(KhgpsThermalChain(&c, xs, st));
      PetscCall(PetscFree2(J, kappa));
      PetscCall(PetscTime(&t1));
      st->time = t1 - t0;
    }
    buf[0] = st->energy, buf[1] = st->energy_error, buf[2] = st->x2, buf[3] = st->x2_error;
    buf[4] = st->acceptance, buf[5] = st->drift, buf[6] = (PetscReal)st->sweeps, buf[7] = st->time;
    PetscCallMPI(MPI_Bcast(xs, (PetscMPIInt)N, MPIU_REAL, 0, comm));
    PetscCallMPI(MPI_Bcast(buf, 8, MPIU_REAL, 0, comm));
    *st = (KhgpsThermalStats){buf[0], buf[1], buf[2], buf[3], buf[4], buf[5], (PetscInt)buf[6], buf[7]};
    PetscCall(VecGetArrayWrite(X, &x));
    for (PetscInt i = rs; i < re; i++) x[i - rs] = xs[i];
    PetscCall(VecRestoreArrayWrite(X, &x));
    PetscCall(PetscFree(xs));
  }
  (void)m;
  PetscFunctionReturn(0);
}
