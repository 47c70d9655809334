/* bench/kernels.c: khgps' own dense kernels against the library routines, side by side in one run
   on the same data (one realization's packed buffer: J drawn by khgps as float32, the Hessian
   J + diag(kappa + s) with a shift s that makes it positive definite, its in-place Cholesky
   factor). Prints one table row per routine: median seconds of -reps runs, the rate, and the
   largest relative difference from khgps' own result.

     bench/kernels -n 8000 -reps 5      (make bench-kernels; OPENBLAS_CORETYPE as the caller sets it)

   J x, one vector and 16: khgps' float32 kernel (symvf.c) against BLAS ssymv (float32, full
   storage), sspmv (float32, packed) and dsymv (double, full storage).
   Block solves with the factor, 16 right-hand sides and 1: khgps' panel solves (trsolve.c) and
   its blocked single-vector solve (packed.c) against LAPACK dpotrs and two BLAS dtrsm calls.
   The draw of the packed couplings (kernels/draw.c; the loop of model.c's FillPackedCouplings on a
   resident buffer, one thread and all OpenMP threads) on the scalar, AVX2 and AVX-512 paths, and
   memset of as many bytes (the rate of writing J to memory, the bound of the draw); -draw_only
   stops after it. */
#include <math.h>
#include <stdio.h>
#include <omp.h>
#include "khgps.h"
#include <petscblaslapack.h>
#include "../src/kernels/kernels.h" /* the own kernels measured here (private to the packed storage) */
#include <string.h>
#include <time.h>
#include "../src/kernels/draw.h"

extern void ssymv_(const char *, const PetscBLASInt *, const float *, const float *, const PetscBLASInt *, const float *, const PetscBLASInt *, const float *, float *, const PetscBLASInt *);
extern void sspmv_(const char *, const PetscBLASInt *, const float *, const float *, const float *, const PetscBLASInt *, const float *, float *, const PetscBLASInt *);
extern void dsymv_(const char *, const PetscBLASInt *, const double *, const double *, const PetscBLASInt *, const double *, const PetscBLASInt *, const double *, double *, const PetscBLASInt *);
extern void dtrsm_(const char *, const char *, const char *, const char *, const PetscBLASInt *, const PetscBLASInt *, const double *, const double *, const PetscBLASInt *, double *, const PetscBLASInt *);

static int CompareDouble(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double Median(double *t, int n)
{
  qsort(t, (size_t)n, sizeof(double), CompareDouble);
  return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static double MaxRelDiff(PetscInt n, const double *a, const double *ref)
{
  double d = 0, s = 0;
  for (PetscInt i = 0; i < n; i++) {
    d = PetscMax(d, fabs(a[i] - ref[i]));
    s = PetscMax(s, fabs(ref[i]));
  }
  return d / s;
}

static void Row(const char *what, double sec, double work, const char *unit, double diff)
{
  printf("| %-48s | %9.2f ms | %7.1f %-7s | %8.1e |\n", what, 1e3 * sec, work / sec / 1e9, unit, diff);
  fflush(stdout);
}

/* The packed couplings of realization 0 (the upper triangles of columns of ldf = N floats), as
   model.c's FillPackedCouplings draws them, with nt threads. */
static void DrawPacked(PetscInt N, float *B, int nt)
{
  const PetscReal s = 0.1 / PetscSqrtReal((PetscReal)N);
#pragma omp parallel for schedule(dynamic, 8) num_threads(nt)
  for (PetscInt c = 0; c < (N + 1) / 2; c++) {
    const PetscInt j = 2 * c, j1 = j + 1;
    float         *col = B + (size_t)j * N, *col1 = j1 < N ? B + (size_t)j1 * N : NULL;
    KhgpsDrawColumnPair(1, 0, s, c, 0, j, col, col1);
  }
}

static double CPUTime(void) /* of the process, all threads: unlike the wall time, it does not count the time others have the cores */
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static PetscErrorCode BenchDraw(PetscInt N, int reps)
{
  const double bytes   = 4.0 * N * (N - 1) / 2; /* J's float32 triangle */
  const int    paths[] = {KHGPS_DRAW_SCALAR, KHGPS_DRAW_AVX2, KHGPS_DRAW_AVX512};
  const char  *names[] = {"scalar", "AVX2", "AVX-512"};
  const int    nts[]   = {1, omp_get_max_threads()};
  float       *B, *ref;
  double      *t, *c;
  char         what[64];

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc4((size_t)N * N, &B, (size_t)N * N, &ref, reps, &t, reps, &c));
  memset(B, 0, (size_t)N * N * sizeof(float));
  memset(ref, 0, (size_t)N * N * sizeof(float));
  KhgpsDrawSetPath(KHGPS_DRAW_SCALAR);
  DrawPacked(N, ref, nts[1]);
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "| draw of J (%.0f MB of float32 written)            | median wall | median CPU (all threads) | rate by CPU time | fallbacks / same as scalar |\n|---|---|---|---|---|\n", bytes / 1e6));
  for (int k = 0; k < 2; k++) {
    if (k == 1 && nts[1] == 1) break;
    for (int r = 0; r < reps; r++) {
      PetscLogDouble t0, t1;
      double         c0 = CPUTime();
      PetscCall(PetscTime(&t0));
#pragma omp parallel for schedule(static) num_threads(nts[k])
      for (PetscInt j = 0; j < N; j++) memset(B + (size_t)j * N, 0, (size_t)j * sizeof(float));
      PetscCall(PetscTime(&t1));
      t[r] = t1 - t0;
      c[r] = CPUTime() - c0;
    }
    PetscCall(PetscSNPrintf(what, sizeof(what), "memset of the same columns, %d thread(s)", nts[k]));
    printf("| %-48s | %9.2f ms | %9.2f ms | %7.1f GB/s | - |\n", what, 1e3 * Median(t, reps), 1e3 * Median(c, reps), bytes / Median(c, reps) * nts[k] / 1e9);
    for (int q = 0; q < 3; q++) {
      uint64_t f0;
      if (!KhgpsDrawAvailable(paths[q])) continue;
      KhgpsDrawSetPath(paths[q]);
      f0 = KhgpsDrawFallbacks();
      for (int r = 0; r < reps; r++) {
        PetscLogDouble t0, t1;
        double         c0 = CPUTime();
        PetscCall(PetscTime(&t0));
        DrawPacked(N, B, nts[k]);
        PetscCall(PetscTime(&t1));
        t[r] = t1 - t0;
        c[r] = CPUTime() - c0;
      }
      PetscCall(PetscSNPrintf(what, sizeof(what), "draw %s, %d thread(s)", names[q], nts[k]));
      printf("| %-48s | %9.2f ms | %9.2f ms | %7.2f GB/s | %.1f per 10^6 couplings, %s |\n", what, 1e3 * Median(t, reps), 1e3 * Median(c, reps), bytes / Median(c, reps) * nts[k] / 1e9, (double)(KhgpsDrawFallbacks() - f0) / reps / (bytes / 4) * 1e6, memcmp(B, ref, (size_t)N * N * sizeof(float)) ? "DIFFERENT" : "same");
    }
  }
  printf("\n");
  fflush(stdout);
  KhgpsDrawSetPath(KHGPS_DRAW_AUTO);
  PetscCall(PetscFree4(B, ref, t, c));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  KhgpsParams    p;
  KhgpsModel     m = {0};
  PetscInt       N, reps = 5, nrhs = 16;
  PetscBLASInt   n, k1 = 1, inc = 1, nk, info;
  double        *t, *x, *y, *yref, *X, *Xref, *Y, *Jd, one = 1.0, zero = 0.0;
  float         *Jf, *Jp, *xf, *yf, fone = 1.0f, fzero = 0.0f;
  PetscLogDouble t0, t1;
  const char    *core;

  PetscCall(SlepcInitialize(&argc, &argv, NULL, "khgps kernels against library routines"));
  PetscCall(KhgpsLogRegister());
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-reps", &reps, NULL));
  PetscCall(PetscOptionsInsertString(NULL, "-khgps_hessian_mat_type packed"));
  {
    PetscInt nn = 8000;
    char     s[64];
    PetscCall(PetscOptionsGetInt(NULL, NULL, "-n", &nn, NULL));
    PetscCall(PetscSNPrintf(s, sizeof(s), "-khgps_N %" PetscInt_FMT, nn));
    PetscCall(PetscOptionsInsertString(NULL, s));
  }
  PetscCall(KhgpsProcessOptions(PETSC_COMM_SELF, &p));
  p.solver.htype = KHGPS_PACKED;
  {
    PetscBool draw_only = PETSC_FALSE;
    PetscCall(PetscOptionsGetBool(NULL, NULL, "-draw_only", &draw_only, NULL));
    PetscCall(BenchDraw(p.N, (int)reps));
    if (draw_only) {
      PetscCall(SlepcFinalize());
      return 0;
    }
  }
  PetscCall(KhgpsModelCreate(PETSC_COMM_SELF, &p, &m));
  N = p.N;
  PetscCall(PetscBLASIntCast(N, &n));
  core = KhgpsBLASCore();
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "khgps kernels against library routines: N = %" PetscInt_FMT ", %" PetscInt_FMT " runs each (median), BLAS core %s, %s kernels, %d OpenMP threads\n\n", N, reps, core, KhgpsSimdName(), omp_get_max_threads()));
  PetscCall(PetscMalloc1(reps, &t));
  PetscCall(PetscMalloc5(N, &x, N, &y, N, &yref, (size_t)N * nrhs, &X, (size_t)N * nrhs, &Xref));
  PetscCall(PetscMalloc1((size_t)N * nrhs, &Y));
  for (PetscInt i = 0; i < N; i++) x[i] = KhgpsUniform(p.seed, 7, 9, i) - 0.5;
  for (PetscInt i = 0; i < N * nrhs; i++) X[i] = KhgpsUniform(p.seed, 7, 10, i) - 0.5;

  /* --- J x: copies of the same float32 J in the library storages */
  PetscCall(PetscMalloc3((size_t)N * N, &Jf, (size_t)N * (N + 1) / 2, &Jp, (size_t)N * N, &Jd));
  PetscCall(PetscMalloc2(N, &xf, N, &yf));
  for (PetscInt j = 0; j < N; j++) {
    for (PetscInt i = 0; i < j; i++) {
      const float v                   = (float)KHGPS_PACKED_J(m.packed.B, m.packed.ldf, i, j);
      Jf[i + (size_t)j * N]           = v;
      Jd[i + (size_t)j * N]           = v;
      Jp[i + (size_t)j * (j + 1) / 2] = v;
    }
    Jf[j + (size_t)j * N]           = 0;
    Jd[j + (size_t)j * N]           = 0;
    Jp[j + (size_t)j * (j + 1) / 2] = 0;
  }
  for (PetscInt i = 0; i < N; i++) xf[i] = (float)x[i];
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "| J x (bytes of J read per product)               | median      | rate            | rel. diff |\n|---|---|---|---|\n"));
  for (int r = 0; r < reps; r++) {
    PetscCall(PetscTime(&t0));
    PetscCall(KhgpsSymvF32(N, m.packed.B, m.packed.ldf, 1, x, N, yref, N));
    PetscCall(PetscTime(&t1));
    t[r] = t1 - t0;
  }
  Row("khgps KhgpsSymvF32 (float32 triangle, 1 vector)", Median(t, reps), 2.0 * N * N, "GB/s", 0);
  for (int r = 0; r < reps; r++) {
    PetscCall(PetscTime(&t0));
    ssymv_("U", &n, &fone, Jf, &n, xf, &inc, &fzero, yf, &inc);
    PetscCall(PetscTime(&t1));
    t[r] = t1 - t0;
  }
  for (PetscInt i = 0; i < N; i++) y[i] = yf[i];
  Row("BLAS ssymv (float32 full storage; x in float32)", Median(t, reps), 2.0 * N * N, "GB/s", MaxRelDiff(N, y, yref));
  for (int r = 0; r < reps; r++) {
    PetscCall(PetscTime(&t0));
    sspmv_("U", &n, &fone, Jp, xf, &inc, &fzero, yf, &inc);
    PetscCall(PetscTime(&t1));
    t[r] = t1 - t0;
  }
  for (PetscInt i = 0; i < N; i++) y[i] = yf[i];
  Row("BLAS sspmv (float32 packed; x in float32)", Median(t, reps), 2.0 * N * N, "GB/s", MaxRelDiff(N, y, yref));
  for (int r = 0; r < reps; r++) {
    PetscCall(PetscTime(&t0));
    dsymv_("U", &n, &one, Jd, &n, x, &inc, &zero, y, &inc);
    PetscCall(PetscTime(&t1));
    t[r] = t1 - t0;
  }
  Row("BLAS dsymv (double full storage)", Median(t, reps), 4.0 * N * N, "GB/s", MaxRelDiff(N, y, yref));
  for (PetscInt j = 0; j < N; j++) /* the full symmetric double J, for dgemm */
    for (PetscInt i = j + 1; i < N; i++) Jd[i + (size_t)j * N] = Jd[j + (size_t)i * N];
  for (int r = 0; r < reps; r++) {
    PetscCall(PetscTime(&t0));
    PetscCall(KhgpsSymvF32(N, m.packed.B, m.packed.ldf, nrhs, X, N, Xref, N));
    PetscCall(PetscTime(&t1));
    t[r] = t1 - t0;
  }
  Row("khgps KhgpsSymvF32, 16 vectors (DGEMM panels)", Median(t, reps), 2.0 * N * N * nrhs, "GFLOP/s", 0);
  PetscCall(PetscBLASIntCast(nrhs, &nk));
  for (int r = 0; r < reps; r++) {
    PetscCall(PetscTime(&t0));
    BLASgemm_("N", "N", &n, &nk, &n, &one, Jd, &n, X, &n, &zero, Y, &n);
    PetscCall(PetscTime(&t1));
    t[r] = t1 - t0;
  }
  Row("BLAS dgemm on a double copy, 16 vectors", Median(t, reps), 2.0 * N * N * nrhs, "GFLOP/s", MaxRelDiff(N * nrhs, Y, Xref));
  PetscCall(PetscFree3(Jf, Jp, Jd));
  PetscCall(PetscFree2(xf, yf));

  /* --- solves with the factor of M = J + diag(kappa + 0.5), positive definite */
  PetscCall(VecDuplicate(m.kappa, &m.packed.hdiag));
  PetscCall(VecCopy(m.kappa, m.packed.hdiag));
  PetscCall(VecShift(m.packed.hdiag, 0.5));
  PetscCall(KhgpsPackedFactor(&m, PETSC_TRUE, &info));
  PetscCheck(!info, PETSC_COMM_SELF, PETSC_ERR_PLIB, "the shifted Hessian is not positive definite");
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "\n| M^-1 X with the in-place Cholesky factor        | median      | rate            | rel. diff |\n|---|---|---|---|\n"));
  {
    for (int r = 0; r < reps; r++) {
      PetscCall(PetscArraycpy(Xref, X, N * nrhs));
      KhgpsBLASThreadsFor(KHGPS_BLAS_OWN_KERNELS); /* as the block eigensolver runs them: OpenMP threads alone */
      PetscCall(PetscTime(&t0));
      PetscCall(KhgpsTriSolve(N, m.packed.B, nrhs, Xref, N));
      PetscCall(PetscTime(&t1));
      KhgpsBLASThreadsFor(KHGPS_BLAS_LIBRARY);
      t[r] = t1 - t0;
    }
    Row("khgps KhgpsTriSolve, 16 right-hand sides", Median(t, reps), 2.0 * N * N * nrhs, "GFLOP/s", 0);
    for (int r = 0; r < reps; r++) {
      PetscCall(PetscArraycpy(Y, X, N * nrhs));
      PetscCall(PetscTime(&t0));
      LAPACKpotrs_("L", &n, &nk, m.packed.B, &n, Y, &n, &info);
      PetscCall(PetscTime(&t1));
      t[r] = t1 - t0;
    }
    Row("LAPACK dpotrs, 16 right-hand sides", Median(t, reps), 2.0 * N * N * nrhs, "GFLOP/s", MaxRelDiff(N * nrhs, Y, Xref));
    for (int r = 0; r < reps; r++) {
      PetscCall(PetscArraycpy(Y, X, N * nrhs));
      PetscCall(PetscTime(&t0));
      dtrsm_("L", "L", "N", "N", &n, &nk, &one, m.packed.B, &n, Y, &n);
      dtrsm_("L", "L", "T", "N", &n, &nk, &one, m.packed.B, &n, Y, &n);
      PetscCall(PetscTime(&t1));
      t[r] = t1 - t0;
    }
    Row("BLAS dtrsm twice, 16 right-hand sides", Median(t, reps), 2.0 * N * N * nrhs, "GFLOP/s", MaxRelDiff(N * nrhs, Y, Xref));
    for (int r = 0; r < reps; r++) {
      PetscCall(PetscArraycpy(yref, x, N));
      PetscCall(PetscTime(&t0));
      PetscCall(KhgpsPackedSolve(&m, 1, yref, N));
      PetscCall(PetscTime(&t1));
      t[r] = t1 - t0;
    }
    Row("khgps blocked single-vector solve (dgemv panels)", Median(t, reps), 8.0 * N * N, "GB/s", 0);
    for (int r = 0; r < reps; r++) {
      PetscCall(PetscArraycpy(y, x, N));
      PetscCall(PetscTime(&t0));
      LAPACKpotrs_("L", &n, &k1, m.packed.B, &n, y, &n, &info);
      PetscCall(PetscTime(&t1));
      t[r] = t1 - t0;
    }
    Row("LAPACK dpotrs, 1 right-hand side", Median(t, reps), 8.0 * N * N, "GB/s", MaxRelDiff(N, y, yref));
  }
  PetscCall(PetscFree5(x, y, yref, X, Xref));
  PetscCall(PetscFree(Y));
  PetscCall(PetscFree(t));
  PetscCall(KhgpsModelDestroy(&m));
  PetscCall(SlepcFinalize());
  return 0;
}
