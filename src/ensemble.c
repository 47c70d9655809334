/* ensemble.c: realizations shared out over MPI groups, gathered to rank 0, appended to the file. */
#include <dlfcn.h>
#include <string.h>
#include <sys/resource.h>
#include "khgps.h"

PetscErrorCode KhgpsResultDestroy(KhgpsResult *r)
{
  PetscFunctionBeginUser;
  PetscCall(VecDestroy(&r->x));
  PetscCall(PetscFree3(r->eig, r->pr, r->resid));
  PetscFunctionReturn(0);
}

PetscErrorCode KhgpsRecordDestroy(KhgpsRecord *rec)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(rec->kappa));
  PetscCall(PetscFree(rec->x));
  PetscCall(PetscFree(rec->eig));
  PetscCall(PetscFree(rec->pr));
  PetscCall(PetscFree(rec->resid));
  PetscCall(PetscFree(rec->J));
  PetscFunctionReturn(0);
}

/* A distributed Vec as an array on rank 0 of its communicator (NULL elsewhere). */
static PetscErrorCode GatherVec(Vec v, PetscReal **a)
{
  VecScatter         sc;
  Vec                v0;
  PetscInt           n;
  const PetscScalar *va;

  PetscFunctionBeginUser;
  *a = NULL;
  PetscCall(VecScatterCreateToZero(v, &sc, &v0));
  PetscCall(VecScatterBegin(sc, v, v0, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(sc, v, v0, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetLocalSize(v0, &n));
  if (n) {
    PetscCall(PetscMalloc1(n, a));
    PetscCall(VecGetArrayRead(v0, &va));
    for (PetscInt i = 0; i < n; i++) (*a)[i] = PetscRealPart(va[i]);
    PetscCall(VecRestoreArrayRead(v0, &va));
  }
  PetscCall(VecScatterDestroy(&sc));
  PetscCall(VecDestroy(&v0));
  PetscFunctionReturn(0);
}

/* J, row-major, on rank 0 (N <= 20000 is checked with -khgps_save_couplings). */
static PetscErrorCode GatherCouplings(const KhgpsModel *m, PetscReal **a)
{
  Mat                J = m->J;
  MPI_Comm           comm;
  PetscMPIInt        size, rank, *counts = NULL, *displs = NULL;
  PetscInt           N, rs, re, lda;
  const PetscScalar *ja;
  PetscReal         *blk;

  PetscFunctionBeginUser;
  *a = NULL;
  if (m->B) { /* packed, one rank: J from the upper triangle */
    PetscInt n = m->N;
    PetscCall(PetscMalloc1((size_t)n * n, a));
    for (PetscInt i = 0; i < n; i++)
      for (PetscInt j = 0; j < n; j++) (*a)[(size_t)i * n + j] = i < j ? KHGPS_PACKED_J(m->B, m->ldf, i, j) : (i > j ? KHGPS_PACKED_J(m->B, m->ldf, j, i) : 0.0);
    PetscFunctionReturn(0);
  }
  PetscCall(PetscObjectGetComm((PetscObject)J, &comm));
  {
    PetscBool isdense;
    PetscCall(PetscObjectTypeCompareAny((PetscObject)J, &isdense, MATSEQDENSE, MATMPIDENSE, ""));
    if (!isdense) PetscCall(MatConvert(m->J, MATDENSE, MAT_INITIAL_MATRIX, &J)); /* sparse: small N only */
    else PetscCall(PetscObjectReference((PetscObject)J));
  }
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(MatGetSize(J, &N, NULL));
  PetscCall(MatGetOwnershipRange(J, &rs, &re));
  PetscCall(MatDenseGetLDA(J, &lda));
  PetscCall(PetscMalloc1((size_t)(re - rs) * N + 1, &blk));
  PetscCall(MatDenseGetArrayRead(J, &ja));
  for (PetscInt i = 0; i < re - rs; i++)
    for (PetscInt j = 0; j < N; j++) blk[(size_t)i * N + j] = PetscRealPart(ja[i + (size_t)j * lda]);
  PetscCall(MatDenseRestoreArrayRead(J, &ja));
  if (rank == 0) {
    const PetscInt *ranges;
    PetscCall(PetscMalloc1((size_t)N * N, a));
    PetscCall(PetscMalloc2(size, &counts, size, &displs));
    PetscCall(MatGetOwnershipRanges(J, &ranges));
    for (PetscMPIInt r = 0; r < size; r++) {
      counts[r] = (PetscMPIInt)((ranges[r + 1] - ranges[r]) * N);
      displs[r] = (PetscMPIInt)(ranges[r] * N);
    }
  }
  PetscCallMPI(MPI_Gatherv(blk, (PetscMPIInt)((re - rs) * N), MPIU_REAL, rank == 0 ? *a : NULL, counts, displs, MPIU_REAL, 0, comm));
  PetscCall(MatDestroy(&J));
  PetscCall(PetscFree(blk));
  if (rank == 0) PetscCall(PetscFree2(counts, displs));
  PetscFunctionReturn(0);
}

/* Set OpenBLAS's thread count to n (n = 0: leave it) and return the previous one (0 and nothing
   done with another BLAS). OpenBLAS splits a long dot product among its threads, so the rounding of the minimizer's
   dot products, and with it the path TAO takes (and, in a glassy landscape, even which minimum it
   reaches), would depend on OPENBLAS_NUM_THREADS; minimizing with one BLAS thread makes every
   thread setting give the same x* bit for bit. The minimizer's J x products have their own fixed
   split (symvf.c), and the factorization and the solves of the spectrum keep all threads. */
int KhgpsBLASThreads(int n)
{
  static void (*set)(int);
  static int (*get)(void);
  static int  looked;
  int         old;

  if (!looked) {
    set    = (void (*)(int))dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
    get    = (int (*)(void))dlsym(RTLD_DEFAULT, "openblas_get_num_threads");
    looked = 1;
  }
  if (!set || !get || n < 0) return 0;
  if (n == 0) return get(); /* just ask */
  old = get();
  set(n);
  return old;
}

/* Draw, minimize (TAO + Newton polish), spectrum: one realization on comm, with solvers made
   afresh (so that a realization does not depend on which ran before it in the process: a resumed
   run equals an uninterrupted one). The record is filled on rank 0 of comm. */
PetscErrorCode KhgpsRunRealization(MPI_Comm comm, const KhgpsParams *p, KhgpsRecord *rec)
{
  static PetscLogStage stage[3];
  KhgpsSolvers         s = {0};
  KhgpsModel           m = {0};
  KhgpsResult          r = {0};
  Mat                  H = NULL;
  PetscLogDouble       t0, t1;
  PetscMPIInt          size, rank;
  int                  blas_threads;

  PetscFunctionBeginUser;
  if (!stage[0]) {
    PetscCall(PetscLogStageRegister("Draw", &stage[0]));
    PetscCall(PetscLogStageRegister("Minimize", &stage[1]));
    PetscCall(PetscLogStageRegister("Spectrum", &stage[2]));
  }
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(KhgpsSolversCreate(comm, p, &s));
  PetscCall(PetscTime(&t0));
  PetscCall(PetscLogStagePush(stage[0]));
  PetscCall(KhgpsModelCreate(comm, p, s.htype, &m));
  PetscCall(PetscLogStagePop());
  PetscCall(PetscTime(&t1));
  r.t_draw = t1 - t0;
  PetscCall(PetscMemzero(rec, sizeof(*rec)));
  if (p->save_couplings) PetscCall(GatherCouplings(&m, &rec->J)); /* before J is freed for the Hessian */
  m.release_J = PETSC_TRUE; /* the Hessian is the last use of J: it may take J's place */

  PetscCall(PetscLogStagePush(stage[1]));
  blas_threads = KhgpsBLASThreads(1); /* the minimizer's dot products in one fixed order (below) */
  PetscCall(KhgpsMinimize(s.tao, &m, p, &r));
  {
    PetscBool factored; /* -khgps_newton_factor: a factorization per Newton step, with all threads */
    PetscCall(PetscObjectTypeCompare((PetscObject)s.newton, KSPPREONLY, &factored));
    if (factored) KhgpsBLASThreads(blas_threads);
  }
  PetscCall(KhgpsPolishAndCheck(&s, &m, p, &H, &r));
  KhgpsBLASThreads(blas_threads);
  PetscCall(PetscLogStagePop());
  PetscCall(PetscTime(&t0));
  r.t_minimize = t0 - t1;

  PetscCall(PetscLogStagePush(stage[2]));
  PetscCall(KhgpsSpectrum(&s, &m, p, H, &r));
  PetscCall(MatDestroy(&H));
  PetscCall(PetscLogStagePop());
  PetscCall(PetscTime(&t1));
  r.t_spectrum = t1 - t0;

  if (r.gnorm > p->gtol) r.status = KHGPS_NOT_CONVERGED;
  else if (!r.factor_ok || (r.nconv && r.eig[0] <= 0)) r.status = KHGPS_SADDLE;
  else r.status = KHGPS_MINIMUM;

  rec->realization = p->realization;
  rec->ranks       = size;
  rec->N           = p->N;
  rec->nconv       = r.nconv;
  rec->energy      = r.energy;
  rec->gnorm       = r.gnorm;
  rec->gnorm_tao   = r.gnorm_tao;
  rec->lowest      = r.nconv ? r.eig[0] : PETSC_MAX_REAL;
  rec->tao_its     = r.tao_its;
  rec->tao_nfuncs  = r.tao_nfuncs;
  rec->tao_reason  = (PetscInt)r.tao_reason;
  rec->polish_done = r.polish_done;
  rec->factor_ok   = r.factor_ok;
  rec->factor_precision = r.factor_precision;
  rec->status      = (PetscInt)r.status;
  rec->t_draw      = r.t_draw;
  rec->t_minimize  = r.t_minimize;
  rec->t_spectrum  = r.t_spectrum;
  PetscCall(GatherVec(m.kappa, &rec->kappa));
  PetscCall(GatherVec(r.x, &rec->x));
  if (rank == 0 && r.nconv) {
    PetscCall(PetscMalloc1(r.nconv, &rec->eig));
    PetscCall(PetscMalloc1(r.nconv, &rec->pr));
    PetscCall(PetscMalloc1(r.nconv, &rec->resid));
    PetscCall(PetscArraycpy(rec->eig, r.eig, r.nconv));
    PetscCall(PetscArraycpy(rec->pr, r.pr, r.nconv));
    PetscCall(PetscArraycpy(rec->resid, r.resid, r.nconv));
  }
  PetscCall(KhgpsResultDestroy(&r));
  PetscCall(KhgpsModelDestroy(&m));
  PetscCall(KhgpsSolversDestroy(&s));
  PetscFunctionReturn(0);
}

/* A record as one flat buffer of reals (ints are exact in a double) and back. */
enum { NHEAD = 19 };

static PetscErrorCode Pack(const KhgpsRecord *c, PetscInt *len, PetscReal **buf)
{
  PetscInt  N = c->N, n = c->nconv, hasJ = c->J ? 1 : 0, k = NHEAD;
  PetscReal head[NHEAD] = {c->realization, c->ranks, N, n, c->energy, c->gnorm, c->gnorm_tao, c->lowest, c->tao_its, c->tao_nfuncs, c->tao_reason, c->polish_done, c->factor_ok, c->status, c->t_draw, c->t_minimize, c->t_spectrum, hasJ, c->factor_precision};

  PetscFunctionBeginUser;
  *len = NHEAD + 2 * N + 3 * n + (hasJ ? N * N : 0);
  PetscCall(PetscMalloc1(*len, buf));
  PetscCall(PetscArraycpy(*buf, head, NHEAD));
  PetscCall(PetscArraycpy(*buf + k, c->kappa, N));
  k += N;
  PetscCall(PetscArraycpy(*buf + k, c->x, N));
  k += N;
  if (n) {
    PetscCall(PetscArraycpy(*buf + k, c->eig, n));
    k += n;
    PetscCall(PetscArraycpy(*buf + k, c->pr, n));
    k += n;
    PetscCall(PetscArraycpy(*buf + k, c->resid, n));
    k += n;
  }
  if (hasJ) PetscCall(PetscArraycpy(*buf + k, c->J, N * N));
  PetscFunctionReturn(0);
}

static PetscErrorCode Unpack(const PetscReal *b, KhgpsRecord *c)
{
  PetscInt N = (PetscInt)b[2], n = (PetscInt)b[3], k = NHEAD;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(c, sizeof(*c)));
  c->realization = (PetscInt)b[0];
  c->ranks       = (PetscInt)b[1];
  c->N           = N;
  c->nconv       = n;
  c->energy      = b[4];
  c->gnorm       = b[5];
  c->gnorm_tao   = b[6];
  c->lowest      = b[7];
  c->tao_its     = (PetscInt)b[8];
  c->tao_nfuncs  = (PetscInt)b[9];
  c->tao_reason  = (PetscInt)b[10];
  c->polish_done = (PetscInt)b[11];
  c->factor_ok   = (PetscInt)b[12];
  c->status      = (PetscInt)b[13];
  c->t_draw      = b[14];
  c->t_minimize  = b[15];
  c->t_spectrum  = b[16];
  c->factor_precision = (PetscInt)b[18];
  PetscCall(PetscMalloc1(N, &c->kappa));
  PetscCall(PetscMalloc1(N, &c->x));
  PetscCall(PetscArraycpy(c->kappa, b + k, N));
  k += N;
  PetscCall(PetscArraycpy(c->x, b + k, N));
  k += N;
  if (n) {
    PetscCall(PetscMalloc1(n, &c->eig));
    PetscCall(PetscMalloc1(n, &c->pr));
    PetscCall(PetscMalloc1(n, &c->resid));
    PetscCall(PetscArraycpy(c->eig, b + k, n));
    k += n;
    PetscCall(PetscArraycpy(c->pr, b + k, n));
    k += n;
    PetscCall(PetscArraycpy(c->resid, b + k, n));
    k += n;
  }
  if (b[17] != 0) {
    PetscCall(PetscMalloc1(N * N, &c->J));
    PetscCall(PetscArraycpy(c->J, b + k, N * N));
  }
  PetscFunctionReturn(0);
}

static void FormatSeconds(double s, char *buf, size_t len)
{
  long t = (long)(s + 0.5);
  snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
}

/* The realizations todo[0..ntodo) in rounds: in round t, group g computes todo[t G + g]; the
   group leaders send their records to rank 0, which appends the round to the file in one
   atomic replacement and prints a progress line per realization. */
PetscErrorCode KhgpsRunEnsemble(MPI_Comm comm, const KhgpsParams *p, PetscInt ntodo, const PetscInt *todo)
{
  PetscMPIInt    size, rank, grank, gsize, g;
  MPI_Comm       gcomm;
  PetscInt       G = p->groups, done = 0, counts[3] = {0, 0, 0};
  PetscLogDouble tstart, tnow;
  KhgpsSolvers   s0 = {0};

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  gsize = size / (PetscMPIInt)G;
  g     = rank / gsize;
  PetscCallMPI(MPI_Comm_split(comm, g, rank, &gcomm));
  PetscCallMPI(MPI_Comm_rank(gcomm, &grank));
  if (g == 0) PetscCall(KhgpsSolversCreate(gcomm, p, &s0)); /* the solver types, for the file's provenance */
  PetscCall(PetscPrintf(comm, "khgps: %" PetscInt_FMT " realization(s) to compute (of %" PetscInt_FMT " from %" PetscInt_FMT "), N = %" PetscInt_FMT ", %" PetscInt_FMT " group(s) of %d rank(s)%s%s\n", ntodo, p->realizations, p->first, p->N, G, gsize, p->output[0] ? ", output " : "", p->output));
  PetscCall(PetscTime(&tstart));
  for (PetscInt t = 0; t * G < ntodo; t++) {
    PetscInt    k = t * G + g, nround = PetscMin(G, ntodo - t * G);
    KhgpsRecord mine = {0}, *recs = NULL;
    PetscReal   twrite = 0;

    if (k < ntodo) {
      KhgpsParams pk = *p;
      pk.realization = todo[k];
      PetscCall(KhgpsRunRealization(gcomm, &pk, &mine));
    }
    /* group leaders -> rank 0 */
    if (rank == 0) {
      PetscCall(PetscCalloc1(nround, &recs));
      recs[0] = mine;
      for (PetscInt q = 1; q < nround; q++) {
        MPI_Status st;
        int        len;
        PetscReal *buf;
        PetscCallMPI(MPI_Probe((PetscMPIInt)(q * gsize), 7, comm, &st));
        PetscCallMPI(MPI_Get_count(&st, MPIU_REAL, &len));
        PetscCall(PetscMalloc1(len, &buf));
        PetscCallMPI(MPI_Recv(buf, len, MPIU_REAL, (PetscMPIInt)(q * gsize), 7, comm, MPI_STATUS_IGNORE));
        PetscCall(Unpack(buf, &recs[q]));
        PetscCall(PetscFree(buf));
      }
    } else if (grank == 0 && k < ntodo) {
      PetscInt   len;
      PetscReal *buf;
      PetscCall(Pack(&mine, &len, &buf));
      PetscCallMPI(MPI_Send(buf, (PetscMPIInt)len, MPIU_REAL, 0, 7, comm));
      PetscCall(PetscFree(buf));
      PetscCall(KhgpsRecordDestroy(&mine));
    } else PetscCall(KhgpsRecordDestroy(&mine));

    if (rank == 0) {
      if (p->output[0]) PetscCall(KhgpsAppend(p, &s0, nround, recs, &twrite));
      PetscCall(PetscTime(&tnow));
      for (PetscInt q = 0; q < nround; q++) {
        KhgpsRecord *c = &recs[q];
        char         eta[32];
        done++;
        counts[c->status]++;
        FormatSeconds((tnow - tstart) / done * (ntodo - done), eta, sizeof(eta));
        PetscCall(PetscPrintf(PETSC_COMM_SELF, "khgps: [%" PetscInt_FMT "/%" PetscInt_FMT "] realization %" PetscInt_FMT ": %" PetscInt_FMT " its (%s), |grad H| %.1e -> %.1e, lowest eigenvalue %.6e, %s, %.2f s (draw %.2f, minimize %.2f, spectrum %.2f, write %.2f), left %s\n", done, ntodo, c->realization, c->tao_its,
                              TaoConvergedReasons[c->tao_reason], (double)c->gnorm_tao, (double)c->gnorm, c->nconv ? (double)c->lowest : (double)NAN, KhgpsStatusNames[c->status], (double)(c->t_draw + c->t_minimize + c->t_spectrum + twrite), (double)c->t_draw,
                              (double)c->t_minimize, (double)c->t_spectrum, (double)twrite, eta));
        if (c->status != KHGPS_MINIMUM) PetscCall(PetscPrintf(PETSC_COMM_SELF, "khgps: WARNING: realization %" PetscInt_FMT " is not a minimum (%s); it is recorded as such\n", c->realization, KhgpsStatusNames[c->status]));
        if (c->nconv < p->nev) PetscCall(PetscPrintf(PETSC_COMM_SELF, "khgps: WARNING: realization %" PetscInt_FMT ": only %" PetscInt_FMT " of %" PetscInt_FMT " eigenpairs converged (see -eps_max_it, -eps_ncv); nconv is recorded\n", c->realization, c->nconv, p->nev));
        PetscCall(KhgpsRecordDestroy(c));
      }
      PetscCall(PetscFree(recs));
    }
    PetscCallMPI(MPI_Barrier(comm));
  }
  PetscCall(PetscTime(&tnow));
  {
    struct rusage ru;
    double        rss, rmax, rsum;
    getrusage(RUSAGE_SELF, &ru);
    rss = ru.ru_maxrss / 1024.0; /* MB */
    PetscCallMPI(MPI_Reduce(&rss, &rmax, 1, MPI_DOUBLE, MPI_MAX, 0, comm));
    PetscCallMPI(MPI_Reduce(&rss, &rsum, 1, MPI_DOUBLE, MPI_SUM, 0, comm));
    PetscCall(PetscPrintf(comm, "khgps: done: %" PetscInt_FMT " minimum, %" PetscInt_FMT " not converged, %" PetscInt_FMT " saddle, %.1f s; peak resident memory %.0f MiB (largest rank), %.0f MiB (all %d ranks)\n", counts[0], counts[1], counts[2], (double)(tnow - tstart), rmax, rsum, size));
  }
  if (g == 0) PetscCall(KhgpsSolversDestroy(&s0));
  PetscCallMPI(MPI_Comm_free(&gcomm));
  PetscFunctionReturn(0);
}
