/* trsolve_kernels.h: the kernels of trsolve.c for a factor L of element type LT (double: the
   double-precision packed factor; float: the single-precision one, whose entries are converted to
   double as they are loaded, so that the arithmetic is double either way). Included twice by
   trsolve.c, with LT, LD4 (4 entries of L as __m256d), LD8 (8 as __m512d) and K (the names). */
/* X[i, r] -= sum_c Lp[c N + i] Y[c R + r] for rows i in [i0, i1) (X[i, r] at X[r ld + i]). */
__attribute__((target("avx2,fma"))) static void K(FwdUpdate)(PetscInt i0, PetscInt i1, const LT *Lp, PetscInt N, PetscInt R, const double *Y, double *X, PetscInt ld)
{
  PetscInt i = i0;
  for (; i + 8 <= i1; i += 8) {
    /* the panel's 16 columns are 16 streams, which the hardware prefetchers do not run far enough
       ahead of: ask for the lines 4 rows-of-8 ahead into L2 */
    for (int c = 0; c < P; c++) _mm_prefetch((const char *)(Lp + (size_t)c * N + i + 32), _MM_HINT_T1);
    for (PetscInt q = 0; q < R; q += 4) {
      double *x0 = X + (q + 0) * ld + i, *x1 = X + (q + 1) * ld + i, *x2 = X + (q + 2) * ld + i, *x3 = X + (q + 3) * ld + i;
      __m256d a00 = _mm256_loadu_pd(x0), a01 = _mm256_loadu_pd(x0 + 4), a10 = _mm256_loadu_pd(x1), a11 = _mm256_loadu_pd(x1 + 4);
      __m256d a20 = _mm256_loadu_pd(x2), a21 = _mm256_loadu_pd(x2 + 4), a30 = _mm256_loadu_pd(x3), a31 = _mm256_loadu_pd(x3 + 4);
      for (int c = 0; c < P; c++) {
        const __m256d l0 = LD4(Lp + (size_t)c * N + i), l1 = LD4(Lp + (size_t)c * N + i + 4);
        const double *y = Y + c * R + q;
        __m256d       b;
        b   = _mm256_broadcast_sd(y + 0);
        a00 = _mm256_fnmadd_pd(l0, b, a00);
        a01 = _mm256_fnmadd_pd(l1, b, a01);
        b   = _mm256_broadcast_sd(y + 1);
        a10 = _mm256_fnmadd_pd(l0, b, a10);
        a11 = _mm256_fnmadd_pd(l1, b, a11);
        b   = _mm256_broadcast_sd(y + 2);
        a20 = _mm256_fnmadd_pd(l0, b, a20);
        a21 = _mm256_fnmadd_pd(l1, b, a21);
        b   = _mm256_broadcast_sd(y + 3);
        a30 = _mm256_fnmadd_pd(l0, b, a30);
        a31 = _mm256_fnmadd_pd(l1, b, a31);
      }
      _mm256_storeu_pd(x0, a00);
      _mm256_storeu_pd(x0 + 4, a01);
      _mm256_storeu_pd(x1, a10);
      _mm256_storeu_pd(x1 + 4, a11);
      _mm256_storeu_pd(x2, a20);
      _mm256_storeu_pd(x2 + 4, a21);
      _mm256_storeu_pd(x3, a30);
      _mm256_storeu_pd(x3 + 4, a31);
    }
  }
  for (; i < i1; i++)
    for (PetscInt r = 0; r < R; r++) {
      double s = X[r * ld + i];
      for (int c = 0; c < P; c++) s -= Lp[(size_t)c * N + i] * Y[c * R + r];
      X[r * ld + i] = s;
    }
}

/* The backward kernels' shared parts: the panel's rows [b0, b1) + ahead fetched into L1 (one
   line per 8 rows and column), and the rows past the last vector's worth summed one by one. */
static inline void K(PrefetchBlock)(const LT *Lp, PetscInt N, PetscInt b0, PetscInt b1, PetscInt ahead)
{
  for (PetscInt k = b0; k < b1; k += 8)
    for (int c = 0; c < P; c++) _mm_prefetch((const char *)(Lp + (size_t)c * N + k + ahead), _MM_HINT_T0);
}

static inline void K(BwdDotRows)(PetscInt i0, PetscInt i1, const LT *Lp, PetscInt N, PetscInt R, const double *X, PetscInt ld, double *C)
{
  for (PetscInt i = i0; i < i1; i++)
    for (int c = 0; c < P; c++)
      for (PetscInt r = 0; r < R; r++) C[c * R + r] += Lp[(size_t)c * N + i] * X[r * ld + i];
}

/* C[c R + r] += sum_{i in [i0, i1)} Lp[c N + i] X[r ld + i]: dot products with 4 rows per vector
   lane, in register tiles of 3 columns of L x 4 right-hand sides (12 accumulators, 7 loads per 12
   FMAs; the last column of 16 alone), over blocks of RB rows whose 16 columns of L and R of X stay
   in L1 while every tile passes over them; the partial sums stay in A between blocks (faster than
   2 x 4 tiles: docs/benchmarks.md). */
static inline __attribute__((always_inline, target("avx2,fma"))) void K(BwdTile3)(PetscInt b0, PetscInt b1, const LT *Lp, PetscInt N, int c0, const double *X, PetscInt ld, PetscInt q, __m256d *A, PetscInt R)
{
  const LT     *l0 = Lp + (size_t)c0 * N, *l1 = l0 + N, *l2 = l1 + N;
  const double *z0 = X + (4 * q + 0) * ld, *z1 = z0 + ld, *z2 = z1 + ld, *z3 = z2 + ld;
  __m256d      *a0 = A + c0 * R + 4 * q, *a1 = a0 + R, *a2 = a1 + R;
  __m256d       s00 = a0[0], s01 = a0[1], s02 = a0[2], s03 = a0[3];
  __m256d       s10 = a1[0], s11 = a1[1], s12 = a1[2], s13 = a1[3];
  __m256d       s20 = a2[0], s21 = a2[1], s22 = a2[2], s23 = a2[3];
  for (PetscInt k = b0; k < b1; k += 4) {
    const __m256d x0 = _mm256_loadu_pd(z0 + k), x1 = _mm256_loadu_pd(z1 + k), x2 = _mm256_loadu_pd(z2 + k), x3 = _mm256_loadu_pd(z3 + k);
    __m256d       lc = LD4(l0 + k);
    s00              = _mm256_fmadd_pd(lc, x0, s00);
    s01              = _mm256_fmadd_pd(lc, x1, s01);
    s02              = _mm256_fmadd_pd(lc, x2, s02);
    s03              = _mm256_fmadd_pd(lc, x3, s03);
    lc               = LD4(l1 + k);
    s10              = _mm256_fmadd_pd(lc, x0, s10);
    s11              = _mm256_fmadd_pd(lc, x1, s11);
    s12              = _mm256_fmadd_pd(lc, x2, s12);
    s13              = _mm256_fmadd_pd(lc, x3, s13);
    lc               = LD4(l2 + k);
    s20              = _mm256_fmadd_pd(lc, x0, s20);
    s21              = _mm256_fmadd_pd(lc, x1, s21);
    s22              = _mm256_fmadd_pd(lc, x2, s22);
    s23              = _mm256_fmadd_pd(lc, x3, s23);
  }
  a0[0] = s00;
  a0[1] = s01;
  a0[2] = s02;
  a0[3] = s03;
  a1[0] = s10;
  a1[1] = s11;
  a1[2] = s12;
  a1[3] = s13;
  a2[0] = s20;
  a2[1] = s21;
  a2[2] = s22;
  a2[3] = s23;
}
static inline __attribute__((always_inline, target("avx2,fma"))) void K(BwdTile1)(PetscInt b0, PetscInt b1, const LT *Lp, PetscInt N, int c0, const double *X, PetscInt ld, PetscInt q, __m256d *A, PetscInt R)
{
  const LT     *l0 = Lp + (size_t)c0 * N;
  const double *z0 = X + (4 * q + 0) * ld, *z1 = z0 + ld, *z2 = z1 + ld, *z3 = z2 + ld;
  __m256d      *a0  = A + c0 * R + 4 * q;
  __m256d       s00 = a0[0], s01 = a0[1], s02 = a0[2], s03 = a0[3];
  for (PetscInt k = b0; k < b1; k += 4) {
    const __m256d lc = LD4(l0 + k);
    s00              = _mm256_fmadd_pd(lc, _mm256_loadu_pd(z0 + k), s00);
    s01              = _mm256_fmadd_pd(lc, _mm256_loadu_pd(z1 + k), s01);
    s02              = _mm256_fmadd_pd(lc, _mm256_loadu_pd(z2 + k), s02);
    s03              = _mm256_fmadd_pd(lc, _mm256_loadu_pd(z3 + k), s03);
  }
  a0[0] = s00;
  a0[1] = s01;
  a0[2] = s02;
  a0[3] = s03;
}

__attribute__((target("avx2,fma"))) static void K(BwdDot)(PetscInt i0, PetscInt i1, const LT *Lp, PetscInt N, PetscInt R, const double *X, PetscInt ld, double *C)
{
  enum {
    RB = 64
  }; /* 64 rows: faster than 32 or 128 (docs/benchmarks.md) */
  __m256d        A[P * RMAX];
  const PetscInt iv = i0 + ((i1 - i0) / 4) * 4;

  for (PetscInt t = 0; t < P * R; t++) A[t] = _mm256_setzero_pd();
  for (PetscInt b0 = i0; b0 < iv; b0 += RB) {
    const PetscInt b1 = PetscMin(b0 + RB, iv);
    K(PrefetchBlock)(Lp, N, b0, b1, RB); /* the next block */
    for (PetscInt q = 0; q < R / 4; q++) {
      int c0 = 0;
      for (; c0 + 3 <= P; c0 += 3) K(BwdTile3)(b0, b1, Lp, N, c0, X, ld, q, A, R);
      for (; c0 < P; c0++) K(BwdTile1)(b0, b1, Lp, N, c0, X, ld, q, A, R);
    }
  }
  for (int c = 0; c < P; c++)
    for (PetscInt r = 0; r < R; r++) {
      double v[4];
      _mm256_storeu_pd(v, A[c * R + r]);
      C[c * R + r] += (v[0] + v[1]) + (v[2] + v[3]);
    }
  K(BwdDotRows)(iv, i1, Lp, N, R, X, ld, C);
}

/* The AVX-512 kernels keep their accumulators in named variables (arrays of them were spilled to
   memory by the compiler, at half the speed): a##r##h is right-hand side r, rows h*8..h*8+7 of the
   forward tile; s##c##r is column c, right-hand side r of the backward tile. */
#ifndef FOR4
  #define FOR4(M) M(0) M(1) M(2) M(3)
  #define FOR8(M) FOR4(M) M(4) M(5) M(6) M(7)
  #define FWD_LOAD(r) \
    double *x##r    = X + (q + r) * ld + i; \
    __m512d a##r##0 = _mm512_loadu_pd(x##r), a##r##1 = _mm512_loadu_pd(x##r + 8);
  #define FWD_STEP(r) \
    b       = _mm512_set1_pd(y[r]); \
    a##r##0 = _mm512_fnmadd_pd(l0, b, a##r##0); \
    a##r##1 = _mm512_fnmadd_pd(l1, b, a##r##1);
  #define FWD_STORE(r) \
    _mm512_storeu_pd(x##r, a##r##0); \
    _mm512_storeu_pd(x##r + 8, a##r##1);
  #define BWD_LOAD(c) __m512d s##c##0 = A##c[0], s##c##1 = A##c[1], s##c##2 = A##c[2], s##c##3 = A##c[3];
  #define BWD_STEP(c) \
    lc      = LD8(l##c + k); \
    s##c##0 = _mm512_fmadd_pd(lc, x0, s##c##0); \
    s##c##1 = _mm512_fmadd_pd(lc, x1, s##c##1); \
    s##c##2 = _mm512_fmadd_pd(lc, x2, s##c##2); \
    s##c##3 = _mm512_fmadd_pd(lc, x3, s##c##3);
  #define BWD_STORE(c) \
    A##c[0] = s##c##0; \
    A##c[1] = s##c##1; \
    A##c[2] = s##c##2; \
    A##c[3] = s##c##3;
#endif

/* AVX-512 versions (where the processor has it, -khgps_avx512): 16 rows x 8 right-hand sides of
   the forward update in registers (the same operations per entry as K(FwdUpdate), so the same
   numbers; rows past the last 16 by K(FwdUpdate)), and 4 columns x 4 right-hand sides of the backward
   dot products with 8 rows per lane (summed in another order than K(BwdDot): equal to rounding). */
__attribute__((target("avx512f,avx2,fma"))) static void K(FwdUpdate512)(PetscInt i0, PetscInt i1, const LT *Lp, PetscInt N, PetscInt R, const double *Y, double *X, PetscInt ld)
{
  PetscInt i = i0;
  for (; i + 16 <= i1; i += 16) {
    for (int c = 0; c < P; c++) _mm_prefetch((const char *)(Lp + (size_t)c * N + i + 64), _MM_HINT_T1);
    for (PetscInt q = 0; q + 8 <= R; q += 8) {
      FOR8(FWD_LOAD)
      for (int c = 0; c < P; c++) {
        const __m512d l0 = LD8(Lp + (size_t)c * N + i), l1 = LD8(Lp + (size_t)c * N + i + 8);
        const double *y = Y + c * R + q;
        __m512d       b;
        FOR8(FWD_STEP)
      }
      FOR8(FWD_STORE)
    }
  }
  if (i < i1) K(FwdUpdate)(i, i1, Lp, N, R, Y, X, ld);
}

__attribute__((target("avx512f,avx2,fma"))) static void K(BwdDot512)(PetscInt i0, PetscInt i1, const LT *Lp, PetscInt N, PetscInt R, const double *X, PetscInt ld, double *C)
{
  enum {
    RB = 64
  };
  __m512d        A[P * RMAX];
  const PetscInt iv = i0 + ((i1 - i0) / 8) * 8;

  for (PetscInt t = 0; t < P * R; t++) A[t] = _mm512_setzero_pd();
  for (PetscInt b0 = i0; b0 < iv; b0 += RB) {
    const PetscInt b1 = PetscMin(b0 + RB, iv);
    K(PrefetchBlock)(Lp, N, b0, b1, RB);
    for (PetscInt q = 0; q < R / 4; q++) {
      const double *z0 = X + (4 * q + 0) * ld, *z1 = z0 + ld, *z2 = z1 + ld, *z3 = z2 + ld;
      for (int c0 = 0; c0 < P; c0 += 4) {
        const LT *l0 = Lp + (size_t)c0 * N, *l1 = l0 + N, *l2 = l1 + N, *l3 = l2 + N;
        __m512d  *A0 = A + (c0 + 0) * R + 4 * q, *A1 = A0 + R, *A2 = A1 + R, *A3 = A2 + R;
        FOR4(BWD_LOAD)
        for (PetscInt k = b0; k < b1; k += 8) {
          const __m512d x0 = _mm512_loadu_pd(z0 + k), x1 = _mm512_loadu_pd(z1 + k), x2 = _mm512_loadu_pd(z2 + k), x3 = _mm512_loadu_pd(z3 + k);
          __m512d       lc;
          FOR4(BWD_STEP)
        }
        FOR4(BWD_STORE)
      }
    }
  }
  for (int c = 0; c < P; c++)
    for (PetscInt r = 0; r < R; r++) C[c * R + r] += _mm512_reduce_add_pd(A[c * R + r]);
  K(BwdDotRows)(iv, i1, Lp, N, R, X, ld, C);
}

typedef void (*K(FwdFn))(PetscInt, PetscInt, const LT *, PetscInt, PetscInt, const double *, double *, PetscInt);
typedef void (*K(BwdFn))(PetscInt, PetscInt, const LT *, PetscInt, PetscInt, const double *, PetscInt, double *);

/* The rows [a, b) of [r0, N) that thread t of nt updates (multiples of 8 but the last). */
static void K(Rows)(PetscInt r0, PetscInt N, int t, int nt, PetscInt *a, PetscInt *b)
{
  const PetscInt chunk = ((N - r0) / nt + 7) / 8 * 8;
  *a                   = PetscMin(r0 + t * chunk, N);
  *b                   = t == nt - 1 ? N : PetscMin(*a + chunk, N);
}

static void K(Solve)(PetscInt N, const LT *L, PetscInt R, double *X, PetscInt ld, double *Y, double *Cp)
{
  const PetscInt  np = (N + P - 1) / P;
  const PetscBool w  = (PetscBool)(KhgpsAVX512() && R % 8 == 0);
  const K(FwdFn) fwd = w ? K(FwdUpdate512) : K(FwdUpdate);
  const K(BwdFn) bwd = w ? K(BwdDot512) : K(BwdDot);

#pragma omp parallel
  {
#if defined(_OPENMP)
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
#else
    const int t = 0, nt = 1;
#endif
    for (PetscInt J = 0; J < np; J++) { /* L Y = X */
      const PetscInt j0 = J * P, jb = PetscMin(P, N - j0);
      PetscInt       a, b;
#pragma omp single
      {
        for (PetscInt c = 0; c < jb; c++) {
          const LT *l = L + (size_t)(j0 + c) * N;
          for (PetscInt r = 0; r < R; r++) {
            double *x = X + r * ld;
            x[j0 + c] /= l[j0 + c];
            for (PetscInt i = c + 1; i < jb; i++) x[j0 + i] -= l[j0 + i] * x[j0 + c];
          }
        }
        for (PetscInt c = 0; c < jb; c++) /* a partial (last) panel has no rows below to update */
          for (PetscInt r = 0; r < R; r++) Y[c * R + r] = X[r * ld + j0 + c];
      } /* the single's barrier */
      K(Rows)(j0 + jb, N, t, nt, &a, &b);
      if (a < b) fwd(a, b, L + (size_t)j0 * N, N, R, Y, X, ld); /* a last partial panel leaves no rows below */
#pragma omp barrier
    }
    for (PetscInt J = np - 1; J >= 0; J--) { /* L^T Z = Y */
      const PetscInt j0 = J * P, jb = PetscMin(P, N - j0);
      double        *C = Cp + (size_t)t * P * R;
      PetscInt       a, b;
      memset(C, 0, sizeof(double) * P * R);
      K(Rows)(j0 + jb, N, t, nt, &a, &b);
      if (a < b) bwd(a, b, L + (size_t)j0 * N, N, R, X, ld, C);
#pragma omp barrier
#pragma omp single
      {
        for (PetscInt c = 0; c < jb; c++)
          for (PetscInt r = 0; r < R; r++) {
            double s = 0;
            for (int u = 0; u < nt; u++) s += Cp[(size_t)u * P * R + c * R + r];
            X[r * ld + j0 + c] -= s;
          }
        for (PetscInt c = jb - 1; c >= 0; c--) {
          const LT *l = L + (size_t)(j0 + c) * N;
          for (PetscInt r = 0; r < R; r++) {
            double *x = X + r * ld, s = x[j0 + c];
            for (PetscInt i = c + 1; i < jb; i++) s -= l[j0 + i] * x[j0 + i];
            x[j0 + c] = s / l[j0 + c];
          }
        }
      } /* the single's barrier */
    }
  }
}
