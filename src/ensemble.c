/* ensemble.c: realizations shared out over MPI groups, gathered to rank 0, appended to the file. */
#include <string.h>
#include <sys/resource.h>
#include "khgps_options.h"
#include "khgps_log.h"
#include "khgps_model.h"
#include "khgps_result.h"
#include "khgps_solvers.h"
#include "khgps_outfile.h"
#include "khgps_error.h"
#include "khgps_ensemble.h"

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
  {
    PetscBool packed;
    PetscCall(PetscStrcmp(m->htype, KHGPS_PACKED, &packed));
    if (packed) { /* one rank: J from the buffer's upper triangle */
      PetscCall(PetscMalloc1((size_t)m->N * m->N, a));
      KhgpsPackedCopyCouplings(m, *a);
      PetscFunctionReturn(0);
    }
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

/* Draw, minimize (TAO + Newton polish), spectrum: one realization on comm. Each stage makes its
   solvers afresh (so that a realization does not depend on which ran before it in the process: a
   resumed run equals an uninterrupted one). The record is filled on rank 0 of comm. */
PetscErrorCode KhgpsRunRealization(MPI_Comm comm, const KhgpsParams *p, KhgpsRecord *rec)
{
  KhgpsModel     m = {0};
  KhgpsResult    r = {0};
  Mat            H = NULL;
  PetscLogDouble t0, t1;
  PetscMPIInt    size, rank;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscTime(&t0));
  PetscCall(PetscLogStagePush(KhgpsLog.draw));
  PetscCall(KhgpsModelCreate(comm, p, &m));
  PetscCall(PetscLogStagePop());
  PetscCall(PetscTime(&t1));
  r.t_draw = t1 - t0;
  PetscCall(PetscMemzero(rec, sizeof(*rec)));
  if (p->save_couplings) PetscCall(GatherCouplings(&m, &rec->J)); /* before J is freed for the Hessian */
  m.sw.release_J = PETSC_TRUE;                                    /* the Hessian is the last use of J: it may take J's place */

  PetscCall(PetscLogStagePush(KhgpsLog.minimize));
  PetscCall(KhgpsMinimize(comm, &m, p, &H, &r)); /* TAO, then the Newton polish; H: the Hessian at x */
  PetscCall(PetscLogStagePop());
  PetscCall(PetscTime(&t0));
  r.t_minimize = t0 - t1;

  PetscCall(PetscLogStagePush(KhgpsLog.spectrum));
  PetscCall(KhgpsSpectrum(comm, &m, p, H, &r));
  PetscCall(MatDestroy(&H));
  PetscCall(PetscLogStagePop());
  PetscCall(PetscTime(&t1));
  r.t_spectrum = t1 - t0;

  if (r.gnorm > p->gtol) r.status = KHGPS_NOT_CONVERGED;
  else if (!r.factor_ok || (r.nconv && r.eig[0] <= 0)) r.status = KHGPS_SADDLE;
  else r.status = KHGPS_MINIMUM;

  rec->realization      = p->realization;
  rec->ranks            = size;
  rec->N                = p->N;
  rec->nconv            = r.nconv;
  rec->energy           = r.energy;
  rec->gnorm            = r.gnorm;
  rec->gnorm_tao        = r.gnorm_tao;
  rec->lowest           = r.nconv ? r.eig[0] : PETSC_MAX_REAL;
  rec->tao_its          = r.tao_its;
  rec->tao_nfuncs       = r.tao_nfuncs;
  rec->tao_reason       = (PetscInt)r.tao_reason;
  rec->polish_done      = r.polish_done;
  rec->factor_ok        = r.factor_ok;
  rec->factor_precision = r.factor_precision;
  rec->status           = (PetscInt)r.status;
  rec->t_draw           = r.t_draw;
  rec->t_minimize       = r.t_minimize;
  rec->t_spectrum       = r.t_spectrum;
  rec->thermal          = r.thermal;
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
  if (rank == 0) { /* the saved modes (KhgpsResult's on this rank) */
    rec->nmodes = r.nmodes;
    rec->modes  = r.modes;
    r.modes     = NULL;
  }
  PetscCall(KhgpsResultDestroy(&r));
  PetscCall(KhgpsModelDestroy(&m));
  PetscFunctionReturn(0);
}

/* s seconds as h:mm:ss, for the progress line. */
static void FormatSeconds(double s, char *buf, size_t len)
{
  long t = (long)(s + 0.5);
  snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
}

/* The realizations todo[0..ntodo) in rounds: in round t, group g computes todo[t G + g]; the
   group leaders send their records to rank 0, which appends the round to the run file's log
   (KhgpsAppend, outfile.c: one write per round) and prints a progress line per realization. */
PetscErrorCode KhgpsRunEnsemble(MPI_Comm comm, const KhgpsParams *p, PetscInt ntodo, const PetscInt *todo)
{
  PetscMPIInt    size, rank, grank, gsize, g;
  MPI_Comm       gcomm;
  PetscInt       G = p->groups, done = 0, counts[3] = {0, 0, 0};
  PetscLogDouble tstart, tnow;
  PetscErrorCode aerr                = 0;
  char           amsg[KHGPS_MSG_LEN] = "";

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  gsize = size / (PetscMPIInt)G;
  g     = rank / gsize;
  PetscCallMPI(MPI_Comm_split(comm, g, rank, &gcomm));
  PetscCallMPI(MPI_Comm_rank(gcomm, &grank));
  KhgpsSignalsWork(ntodo);
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
        PetscCall(KhgpsRecordUnpack(buf, &recs[q]));
        PetscCall(PetscFree(buf));
      }
    } else if (grank == 0 && k < ntodo) {
      PetscInt   len;
      PetscReal *buf;
      PetscCall(KhgpsRecordPack(&mine, &len, &buf));
      PetscCallMPI(MPI_Send(buf, (PetscMPIInt)len, MPIU_REAL, 0, 7, comm));
      PetscCall(PetscFree(buf));
      PetscCall(KhgpsRecordDestroy(&mine));
    } else PetscCall(KhgpsRecordDestroy(&mine));

    if (rank == 0 && p->output[0]) { /* a failed append is reported in one line below, on every rank */
      PetscCall(PetscLogStagePush(KhgpsLog.write));
      PetscCall(PetscPushErrorHandler(KhgpsCaptureErrorHandler, amsg));
      aerr = KhgpsAppend(p, nround, recs, &twrite);
      PetscCall(PetscPopErrorHandler());
      PetscCall(PetscLogStagePop());
    }
    if (rank == 0) {
      PetscCall(PetscTime(&tnow));
      for (PetscInt q = 0; q < nround && !aerr; q++) {
        KhgpsRecord *c = &recs[q];
        char         eta[32];
        done++;
        counts[c->status]++;
        FormatSeconds((tnow - tstart) / done * (ntodo - done), eta, sizeof(eta));
        PetscCall(PetscPrintf(PETSC_COMM_SELF, "khgps: [%" PetscInt_FMT "/%" PetscInt_FMT "] realization %" PetscInt_FMT ": %" PetscInt_FMT " its (%s), |grad H| %.1e -> %.1e, lowest eigenvalue %.6e, %s, %.2f s (draw %.2f, minimize %.2f, spectrum %.2f, write %.2f), left %s\n", done, ntodo, c->realization, c->tao_its, TaoConvergedReasons[c->tao_reason],
                              (double)c->gnorm_tao, (double)c->gnorm, c->nconv ? (double)c->lowest : (double)NAN, KhgpsStatusNames[c->status], (double)(c->t_draw + c->t_minimize + c->t_spectrum + twrite), (double)c->t_draw, (double)c->t_minimize,
                              (double)c->t_spectrum, (double)twrite, eta));
        if (c->status != KHGPS_MINIMUM) PetscCall(PetscPrintf(PETSC_COMM_SELF, "khgps: WARNING: realization %" PetscInt_FMT " is not a minimum (%s); it is recorded as such\n", c->realization, KhgpsStatusNames[c->status]));
        if (c->nconv < p->nev)
          PetscCall(PetscPrintf(PETSC_COMM_SELF, "khgps: WARNING: realization %" PetscInt_FMT ": only %" PetscInt_FMT " of %" PetscInt_FMT " eigenpairs converged (see -eps_max_it, -eps_ncv); nconv is recorded\n", c->realization, c->nconv, p->nev));
      }
      if (aerr) {
        char list[256] = "";
        for (PetscInt q = 0, len = 0; q < nround && len < 200; q++) len += snprintf(list + len, sizeof(list) - (size_t)len, "%s%" PetscInt_FMT, q ? ", " : "", recs[q].realization);
        PetscCall(PetscFPrintf(PETSC_COMM_SELF, stderr, "khgps: error: cannot add realization(s) %s to %s: %s; %s keeps the realizations it held (its temporary file was removed): free the space or fix the cause, then rerun to continue\n", list, p->output, amsg[0] ? amsg : "unknown failure", p->output));
      }
      for (PetscInt q = 0; q < nround; q++) PetscCall(KhgpsRecordDestroy(&recs[q]));
      PetscCall(PetscFree(recs));
    }
    { /* every rank learns whether the round landed (also the barrier between rounds) */
      int failed = aerr != 0, any;
      PetscCallMPI(MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, comm));
      if (any) {
        PetscCallMPI(MPI_Comm_free(&gcomm));
        PetscFunctionReturn(KHGPS_ERR_REPORTED);
      }
    }
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
  PetscCallMPI(MPI_Comm_free(&gcomm));
  PetscFunctionReturn(0);
}
