/* symvf.c: Y = J X for the packed storage, where the couplings are float32 (the realization's J is
   the rounded draw everywhere, so nothing is lost): column j of the N x N double buffer holds
   J_ij, i < j, as floats in its first 4j bytes, which the strict upper triangle's 8j bytes leave
   free. A matrix-vector product then reads 2N^2 bytes instead of dsymv's 4N^2, and the columns are
   cut into 16 ranges of equal area, shared out among the OpenMP threads (OMP_NUM_THREADS) and
   added in a fixed order, so that the product is the same bit for bit on any number of threads. */
#include <stdlib.h>
#include <string.h>
#include <math.h>
#if defined(_OPENMP)
  #include <omp.h>
#endif
#include "khgps_log.h"
#include <petscblaslapack.h>
#include "khgps_platform.h"
#include "kernels.h"
#if defined(__x86_64__) && defined(__GNUC__)
  #include <immintrin.h>
#endif

/* One column of the triangle: y[0:j) += c[0:j) x_j and the dot product c[0:j) . x[0:j), for one
   vector (the minimizer's product) or four at once (block products: c is read once for four).
   Compiled twice, for baseline x86-64 and for AVX2/FMA (chosen at run time). */
#define COLUMN1_BODY \
  double s = 0; \
  _Pragma("omp simd reduction(+ : s)") for (PetscInt i = 0; i < j; i++) \
  { \
    const double ci = (double)c[i]; \
    s += ci * x[i]; \
    y[i] += ci * xj; \
  } \
  return s;
#define COLUMN4_BODY \
  double        s0 = 0, s1 = 0, s2 = 0, s3 = 0; \
  const double *x0 = x, *x1 = x + ldx, *x2 = x + 2 * ldx, *x3 = x + 3 * ldx; \
  double       *y0 = y, *y1 = y + ldy, *y2 = y + 2 * ldy, *y3 = y + 3 * ldy; \
  _Pragma("omp simd reduction(+ : s0, s1, s2, s3)") for (PetscInt i = 0; i < j; i++) \
  { \
    const double ci = (double)c[i]; \
    s0 += ci * x0[i]; \
    s1 += ci * x1[i]; \
    s2 += ci * x2[i]; \
    s3 += ci * x3[i]; \
    y0[i] += ci * xj[0]; \
    y1[i] += ci * xj[1]; \
    y2[i] += ci * xj[2]; \
    y3[i] += ci * xj[3]; \
  } \
  s[0] = s0; \
  s[1] = s1; \
  s[2] = s2; \
  s[3] = s3;

/* Four columns j..j+3 at once for one vector (y is then read and written once for four columns):
   y[0:j) += sum_b c_b[0:j) x_{j+b}, s[b] = c_b[0:j) . x[0:j). This body is the baseline x86-64
   version; the AVX2 and AVX-512 ones are written out below in intrinsics, with software prefetch
   (the compiler's AVX2 version of this body spilled the broadcasts; docs/benchmarks.md). */
#define COLUMNS4_BODY \
  double       s0 = 0, s1 = 0, s2 = 0, s3 = 0; \
  const double xa = x[j], xb = x[j + 1], xc = x[j + 2], xd = x[j + 3]; \
  _Pragma("omp simd reduction(+ : s0, s1, s2, s3)") for (PetscInt i = 0; i < j; i++) \
  { \
    const double ca = (double)c0[i], cb = (double)c1[i], cc = (double)c2[i], cd = (double)c3[i], xi = x[i]; \
    s0 += ca * xi; \
    s1 += cb * xi; \
    s2 += cc * xi; \
    s3 += cd * xi; \
    y[i] += ca * xa + cb * xb + cc * xc + cd * xd; \
  } \
  s[0] = s0; \
  s[1] = s1; \
  s[2] = s2; \
  s[3] = s3;

typedef void (*Columns4Fn)(PetscInt, const float *restrict, const float *restrict, const float *restrict, const float *restrict, const double *restrict, double *restrict, double *);
static void Columns4(PetscInt j, const float *restrict c0, const float *restrict c1, const float *restrict c2, const float *restrict c3, const double *restrict x, double *restrict y, double *s)
{
  COLUMNS4_BODY
}
#if defined(__x86_64__) && defined(__GNUC__)
/* The tail of Columns4 (and the order every vector lane follows): s_b += c_b x_i, y_i += t with
   t = ((c0 x_j + c1 x_{j+1}) + c2 x_{j+2}) + c3 x_{j+3}, each step one rounding (fma). */
static inline void Columns4Tail(PetscInt i, PetscInt j, const float *restrict c0, const float *restrict c1, const float *restrict c2, const float *restrict c3, const double *restrict x, double *restrict y, double a[4])
{
  for (; i < j; i++) {
    const double ca = (double)c0[i], cb = (double)c1[i], cc = (double)c2[i], cd = (double)c3[i], xi = x[i];
    double       t;
    a[0] = fma(ca, xi, a[0]);
    a[1] = fma(cb, xi, a[1]);
    a[2] = fma(cc, xi, a[2]);
    a[3] = fma(cd, xi, a[3]);
    t    = ca * x[j];
    t    = fma(cb, x[j + 1], t);
    t    = fma(cc, x[j + 2], t);
    t    = fma(cd, x[j + 3], t);
    y[i] += t;
  }
}

/* AVX2 and AVX-512 give the same numbers bit for bit: per column two 4-lane sums (elements with
   i/4 even, and odd) which the AVX-512 version holds as the two halves of one 8-lane sum, added as
   ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)); y is updated elementwise in the same order. */
__attribute__((target("avx2,fma"))) static void Columns4AVX2(PetscInt j, const float *restrict c0, const float *restrict c1, const float *restrict c2, const float *restrict c3, const double *restrict x, double *restrict y, double *s)
{
  const __m256d xa = _mm256_set1_pd(x[j]), xb = _mm256_set1_pd(x[j + 1]), xc = _mm256_set1_pd(x[j + 2]), xd = _mm256_set1_pd(x[j + 3]);
  __m256d       acc[2][4];
  PetscInt      i = 0;
  double        a[4];

  for (int h = 0; h < 2; h++)
    for (int b = 0; b < 4; b++) acc[h][b] = _mm256_setzero_pd();
  for (; i + 16 <= j; i += 16) {
    /* four streams of floats: fetched 2 KiB ahead, which the hardware prefetchers alone do not do */
    _mm_prefetch((const char *)(c0 + i + 512), _MM_HINT_T0);
    _mm_prefetch((const char *)(c1 + i + 512), _MM_HINT_T0);
    _mm_prefetch((const char *)(c2 + i + 512), _MM_HINT_T0);
    _mm_prefetch((const char *)(c3 + i + 512), _MM_HINT_T0);
    for (int u = 0; u < 16; u += 4) {
      const int     h  = (u / 4) & 1;
      const __m256d ca = _mm256_cvtps_pd(_mm_loadu_ps(c0 + i + u)), cb = _mm256_cvtps_pd(_mm_loadu_ps(c1 + i + u));
      const __m256d cc = _mm256_cvtps_pd(_mm_loadu_ps(c2 + i + u)), cd = _mm256_cvtps_pd(_mm_loadu_ps(c3 + i + u));
      const __m256d xi = _mm256_loadu_pd(x + i + u);
      __m256d       t  = _mm256_mul_pd(ca, xa);
      acc[h][0]        = _mm256_fmadd_pd(ca, xi, acc[h][0]);
      acc[h][1]        = _mm256_fmadd_pd(cb, xi, acc[h][1]);
      acc[h][2]        = _mm256_fmadd_pd(cc, xi, acc[h][2]);
      acc[h][3]        = _mm256_fmadd_pd(cd, xi, acc[h][3]);
      t                = _mm256_fmadd_pd(cb, xb, t);
      t                = _mm256_fmadd_pd(cc, xc, t);
      t                = _mm256_fmadd_pd(cd, xd, t);
      _mm256_storeu_pd(y + i + u, _mm256_add_pd(_mm256_loadu_pd(y + i + u), t));
    }
  }
  for (int b = 0; b < 4; b++) {
    double v[4], w[4];
    _mm256_storeu_pd(v, acc[0][b]);
    _mm256_storeu_pd(w, acc[1][b]);
    a[b] = ((v[0] + v[1]) + (v[2] + v[3])) + ((w[0] + w[1]) + (w[2] + w[3]));
  }
  Columns4Tail(i, j, c0, c1, c2, c3, x, y, a);
  for (int b = 0; b < 4; b++) s[b] = a[b];
}

__attribute__((target("avx512f,avx2,fma"))) static void Columns4AVX512(PetscInt j, const float *restrict c0, const float *restrict c1, const float *restrict c2, const float *restrict c3, const double *restrict x, double *restrict y, double *s)
{
  const __m512d xa = _mm512_set1_pd(x[j]), xb = _mm512_set1_pd(x[j + 1]), xc = _mm512_set1_pd(x[j + 2]), xd = _mm512_set1_pd(x[j + 3]);
  __m512d       s0 = _mm512_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
  PetscInt      i = 0;
  double        a[4];

  for (; i + 16 <= j; i += 16) {
    _mm_prefetch((const char *)(c0 + i + 512), _MM_HINT_T0);
    _mm_prefetch((const char *)(c1 + i + 512), _MM_HINT_T0);
    _mm_prefetch((const char *)(c2 + i + 512), _MM_HINT_T0);
    _mm_prefetch((const char *)(c3 + i + 512), _MM_HINT_T0);
    for (int u = 0; u < 16; u += 8) {
      const __m512d ca = _mm512_cvtps_pd(_mm256_loadu_ps(c0 + i + u)), cb = _mm512_cvtps_pd(_mm256_loadu_ps(c1 + i + u));
      const __m512d cc = _mm512_cvtps_pd(_mm256_loadu_ps(c2 + i + u)), cd = _mm512_cvtps_pd(_mm256_loadu_ps(c3 + i + u));
      const __m512d xi = _mm512_loadu_pd(x + i + u);
      __m512d       t  = _mm512_mul_pd(ca, xa);
      s0               = _mm512_fmadd_pd(ca, xi, s0);
      s1               = _mm512_fmadd_pd(cb, xi, s1);
      s2               = _mm512_fmadd_pd(cc, xi, s2);
      s3               = _mm512_fmadd_pd(cd, xi, s3);
      t                = _mm512_fmadd_pd(cb, xb, t);
      t                = _mm512_fmadd_pd(cc, xc, t);
      t                = _mm512_fmadd_pd(cd, xd, t);
      _mm512_storeu_pd(y + i + u, _mm512_add_pd(_mm512_loadu_pd(y + i + u), t));
    }
  }
  {
    const __m512d sv[4] = {s0, s1, s2, s3};
    for (int b = 0; b < 4; b++) {
      double v[8];
      _mm512_storeu_pd(v, sv[b]);
      a[b] = ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
    }
  }
  Columns4Tail(i, j, c0, c1, c2, c3, x, y, a);
  for (int b = 0; b < 4; b++) s[b] = a[b];
}
#endif

typedef double (*Column1Fn)(PetscInt, const float *restrict, const double *restrict, double, double *restrict);
typedef void (*Column4Fn)(PetscInt, const float *restrict, const double *restrict, PetscInt, const double *, double *restrict, PetscInt, double *);

static double Column1(PetscInt j, const float *restrict c, const double *restrict x, double xj, double *restrict y)
{
  COLUMN1_BODY
}
static void Column4(PetscInt j, const float *restrict c, const double *restrict x, PetscInt ldx, const double *xj, double *restrict y, PetscInt ldy, double *s)
{
  COLUMN4_BODY
}
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2,fma"))) static double Column1AVX2(PetscInt j, const float *restrict c, const double *restrict x, double xj, double *restrict y)
{
  COLUMN1_BODY
}
__attribute__((target("avx2,fma"))) static void Column4AVX2(PetscInt j, const float *restrict c, const double *restrict x, PetscInt ldx, const double *xj, double *restrict y, PetscInt ldy, double *s)
{
  COLUMN4_BODY
}
#endif

static void Kernels(Column1Fn *f1, Column4Fn *f4, Columns4Fn *g4)
{
  *f1 = Column1;
  *f4 = Column4;
  *g4 = Columns4;
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    *f1 = Column1AVX2;
    *f4 = Column4AVX2;
    *g4 = KhgpsAVX512() ? Columns4AVX512 : Columns4AVX2;
  }
#endif
}

/* Part t of nt takes columns [ColumnSplit(t), ColumnSplit(t + 1)): equal areas of the triangle. */
enum {
  KHGPS_JX_PARTS = 16
};
static inline PetscInt ColumnSplit(PetscInt N, int t, int nt)
{
  return t >= nt ? N : (PetscInt)(N * sqrt((double)t / nt));
}

/* Y = J X for a block of k >= 8 vectors, by panels of w columns of the triangle: the panel's floats
   become the doubles P = U[0:j0+w, j0:j0+w) (U the strict upper triangle, zero below it) once, then
   Y[0:j0+w) += P X[j0:j0+w) and Y[j0:j0+w) += P^T X[0:j0+w) are two DGEMMs (J = U + U^T). The
   column kernel above reads the triangle once per four vectors; this reads it once, and computes at
   DGEMM speed. */
static PetscErrorCode SymmPanels(PetscInt N, const PetscScalar *B, PetscInt ldf, PetscInt k, const PetscScalar *X, PetscInt ldx, PetscScalar *Y, PetscInt ldy)
{
  const PetscInt w = 128;
  PetscScalar   *P, one = 1.0;
  PetscBLASInt   n, nk, lx, ly;

  PetscFunctionBeginUser;
  PetscCall(PetscBLASIntCast(k, &nk));
  PetscCall(PetscBLASIntCast(ldx, &lx));
  PetscCall(PetscBLASIntCast(ldy, &ly));
  PetscCall(PetscMalloc1((size_t)N * w, &P));
  for (PetscInt v = 0; v < k; v++) PetscCall(PetscArrayzero(Y + (size_t)v * ldy, N));
  for (PetscInt j0 = 0; j0 < N; j0 += w) {
    const PetscInt wc = PetscMin(w, N - j0), rows = j0 + wc;
    PetscBLASInt   r, c;
    for (PetscInt a = 0; a < wc; a++) { /* one thread: OpenMP threads here would fight OpenBLAS's spinning ones */
      const PetscInt j   = j0 + a;
      const float   *col = (const float *)B + (size_t)j * ldf;
      PetscScalar   *p   = P + (size_t)a * rows;
      for (PetscInt i = 0; i < j; i++) p[i] = (PetscScalar)col[i];
      for (PetscInt i = j; i < rows; i++) p[i] = 0.0;
    }
    PetscCall(PetscBLASIntCast(rows, &r));
    PetscCall(PetscBLASIntCast(wc, &c));
    n = r;
    BLASgemm_("N", "N", &n, &nk, &c, &one, P, &r, X + j0, &lx, &one, Y, &ly);
    BLASgemm_("T", "N", &c, &nk, &n, &one, P, &r, X, &lx, &one, Y + j0, &ly);
  }
  PetscCall(PetscFree(P));
  PetscFunctionReturn(0);
}

/* Y[:, 0:k] = J X[:, 0:k] (leading dimensions ldx, ldy), J_ij (i < j) the float ((const float *)B)[i + j ldf]
   (ldf = 2N: the double-precision packed buffer; N: the single-precision one). Logged as KhgpsJx
   (k = 1) or KhgpsJxBlock. */
PetscErrorCode KhgpsSymvF32(PetscInt N, const PetscScalar *B, PetscInt ldf, PetscInt k, const PetscScalar *X, PetscInt ldx, PetscScalar *Y, PetscInt ldy)
{
  int     nt = 1, np;
  double *acc;

  Column1Fn  f1;
  Column4Fn  f4;
  Columns4Fn g4;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(k == 1 ? KhgpsLog.jx : KhgpsLog.jx_block, 0, 0, 0, 0));
  if (k >= 8) {
    PetscCall(SymmPanels(N, B, ldf, k, X, ldx, Y, ldy));
    PetscCall(PetscLogFlops(2.0 * N * (PetscLogDouble)N * k));
    PetscCall(PetscLogEventEnd(KhgpsLog.jx_block, 0, 0, 0, 0));
    PetscFunctionReturn(0);
  }
  Kernels(&f1, &f4, &g4);
  /* the triangle is cut into np parts of equal area whatever the number of threads, each part
     summed into its own accumulator and the parts added in a fixed order: the result is the same
     bit for bit on any OMP_NUM_THREADS (which decides only who computes which part) */
  np = (double)N * N < 4e6 ? 1 : KHGPS_JX_PARTS; /* small: not worth waking threads */
#if defined(_OPENMP)
  nt = PetscMin(omp_get_max_threads(), np);
#endif
  PetscCall(PetscMalloc1((size_t)(np > 1 ? np - 1 : 1) * N * 4, &acc));
  for (PetscInt v0 = 0; v0 < k; v0 += 4) {
    const PetscInt kc = PetscMin(4, k - v0);
    for (PetscInt v = 0; v < kc; v++) PetscCall(PetscArrayzero(Y + (size_t)(v0 + v) * ldy, N));
#if defined(_OPENMP)
  #pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (int t = 0; t < np; t++) {
      const PetscInt j0 = ColumnSplit(N, t, np), j1 = ColumnSplit(N, t + 1, np);
      double        *yt[4];
      for (PetscInt v = 0; v < kc; v++) {
        yt[v] = t == 0 ? Y + (size_t)(v0 + v) * ldy : acc + ((size_t)(t - 1) * 4 + v) * N;
        if (t) memset(yt[v], 0, sizeof(double) * (size_t)j1);
      }
      PetscInt jstart = j0;
      if (kc == 1) { /* four columns per sweep, then the 4 x 4 corner they leave */
        const double *x = X + (size_t)v0 * ldx;
        double       *y = yt[0];
        for (; jstart + 4 <= j1; jstart += 4) {
          const PetscInt j = jstart;
          const float   *c[4];
          double         s[4];
          for (int b = 0; b < 4; b++) c[b] = (const float *)B + (size_t)(j + b) * ldf;
          g4(j, c[0], c[1], c[2], c[3], x, y, s);
          for (int b = 0; b < 4; b++) {
            for (int a = 0; a < b; a++) { /* J_{j+a, j+b} */
              const double v = (double)c[b][j + a];
              s[b] += v * x[j + a];
              y[j + a] += v * x[j + b];
            }
            y[j + b] += s[b];
          }
        }
      }
      for (PetscInt j = jstart; j < j1; j++) {
        const float *c = (const float *)B + (size_t)j * ldf;
        if (kc == 4) { /* rows of yt[v] are yt[1] - yt[0] apart, in Y or in acc */
          const double *x     = X + (size_t)v0 * ldx;
          double        xj[4] = {x[j], x[j + ldx], x[j + 2 * ldx], x[j + 3 * ldx]}, s[4];
          f4(j, c, x, ldx, xj, yt[0], yt[1] - yt[0], s);
          for (PetscInt v = 0; v < 4; v++) yt[v][j] += s[v];
        } else
          for (PetscInt v = 0; v < kc; v++) {
            const double *x = X + (size_t)(v0 + v) * ldx;
            yt[v][j] += f1(j, c, x, x[j], yt[v]);
          }
      }
    }
    for (int t = 1; t < np; t++) { /* part t touched rows [0, j1(t)) */
      const PetscInt j1 = ColumnSplit(N, t + 1, np);
      for (PetscInt v = 0; v < kc; v++) {
        double       *y = Y + (size_t)(v0 + v) * ldy;
        const double *a = acc + ((size_t)(t - 1) * 4 + v) * N;
        for (PetscInt i = 0; i < j1; i++) y[i] += a[i];
      }
    }
  }
  PetscCall(PetscFree(acc));
  PetscCall(PetscLogFlops(2.0 * N * (PetscLogDouble)N * k));
  PetscCall(PetscLogEventEnd(k == 1 ? KhgpsLog.jx : KhgpsLog.jx_block, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}
