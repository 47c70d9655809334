/* draw.c: the couplings' draw at vector speed: Philox4x64-10 on 8 (AVX-512) or 4 (AVX2) counters
   at once, the 64 x 64 -> 128-bit multiplies made of 32-bit ones, and the Box-Muller transform by
   polynomials in double. The result is the scalar path's (rng.c's KhgpsNormal2 with libm, then
   fl32(s z)) bit for bit: a lane whose double value lies within DRAW_REL (relative) of a float32
   rounding boundary, where the vector polynomials and libm might round to different floats, is
   recomputed by the scalar path. DRAW_REL is far above the error of either (a few units of 2^-53 in
   the double value), and the fallback is rare (docs/benchmarks.md gives the measured rate). The
   vector functions are compiled for their instruction sets only (target attributes), so the
   default build runs on any x86-64 and picks the path at run time. */
#include <Random123/philox.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "khgps_rng.h"
#include "khgps_platform.h"
#include "draw.h"
#if defined(__x86_64__) && defined(__GNUC__)
  #include <immintrin.h>
  #define KHGPS_DRAW_X86 1
#endif

#define PHILOX_M0   0xD2E7470EE14C6C93ULL /* Random123's PHILOX_M4x64_0, _1, PHILOX_W64_0, _1 */
#define PHILOX_M1   0xCA5A826395121157ULL
#define PHILOX_W0   0x9E3779B97F4A7C15ULL
#define PHILOX_W1   0xBB67AE8584CAA73BULL
#define LOG_OFF     0x3fe6a09e667f3bcdULL /* the bits of sqrt(1/2) */
#define LN2         0.69314718055994530942
#define DRAW_TWO_PI (2.0 * M_PI)         /* as rng.c writes it */
#define PIO2_1      0x1.921fb54442d18p+0 /* pi/2 = PIO2_1 + PIO2_2 + PIO2_3 + O(1e-49) */
#define PIO2_2      0x1.1a62633145c07p-54
#define PIO2_3      (-0x1.f1976b7ed8fbcp-110)
#define DRAW_REL    0x1.0p-42 /* the bound on |vector - scalar| / |value| before rounding to float32 */

static int      draw_path = KHGPS_DRAW_AUTO;
static uint64_t draw_fallbacks;

#if defined(KHGPS_DRAW_X86)
/* ---- AVX-512 (8 lanes) ---- */
  #define FN(name)            name##AVX512
  #define W                   8
  #define ATTR                __attribute__((target("avx512f,avx512dq,avx2,fma")))
  #define VI                  __m512i
  #define VD                  __m512d
  #define IOTA                _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0)
  #define I_SET1(x)           _mm512_set1_epi64((long long)(x))
  #define I_ADD               _mm512_add_epi64
  #define I_SUB               _mm512_sub_epi64
  #define I_XOR               _mm512_xor_si512
  #define I_AND               _mm512_and_si512
  #define I_OR                _mm512_or_si512
  #define I_SRL               _mm512_srli_epi64
  #define I_SLL               _mm512_slli_epi64
  #define I_MULU              _mm512_mul_epu32
  #define I_LOAD(p)           _mm512_loadu_si512((const void *)(p))
  #define I_STORE(p, v)       _mm512_storeu_si512((void *)(p), v)
  #define D_SET1              _mm512_set1_pd
  #define D_STORE             _mm512_storeu_pd
  #define D_ADD               _mm512_add_pd
  #define D_SUB               _mm512_sub_pd
  #define D_MUL               _mm512_mul_pd
  #define D_DIV               _mm512_div_pd
  #define D_AND               _mm512_and_pd
  #define D_FMA               _mm512_fmadd_pd
  #define D_FNMA              _mm512_fnmadd_pd
  #define D_SQRT              _mm512_sqrt_pd
  #define D_ROUND(x)          _mm512_roundscale_pd(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
  #define CAST_DI             _mm512_castpd_si512
  #define CAST_ID             _mm512_castsi512_pd
  #define TO_DOUBLE53         _mm512_cvtepu64_pd
  #define SEL_BIT0(q, a, b)   _mm512_mask_blend_pd(_mm512_test_epi64_mask(q, I_SET1(1)), b, a)
  #define F32_SAME(lo, hi, p) F32SameAVX512(lo, hi, p)
/* fl32(lo) into p[0..8); the lanes where fl32(lo) and fl32(hi) are the same float */
static inline ATTR int F32SameAVX512(__m512d lo, __m512d hi, float *p)
{
  const __m256 fl = _mm512_cvtpd_ps(lo), fh = _mm512_cvtpd_ps(hi);
  _mm256_storeu_ps(p, fl);
  return _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_castps_si256(fl), _mm256_castps_si256(fh))));
}
  #include "draw_body.h"
  #undef FN
  #undef W
  #undef ATTR
  #undef VI
  #undef VD
  #undef IOTA
  #undef I_SET1
  #undef I_ADD
  #undef I_SUB
  #undef I_XOR
  #undef I_AND
  #undef I_OR
  #undef I_SRL
  #undef I_SLL
  #undef I_MULU
  #undef I_LOAD
  #undef I_STORE
  #undef D_SET1
  #undef D_STORE
  #undef D_ADD
  #undef D_SUB
  #undef D_MUL
  #undef D_DIV
  #undef D_AND
  #undef D_FMA
  #undef D_FNMA
  #undef D_SQRT
  #undef D_ROUND
  #undef CAST_DI
  #undef CAST_ID
  #undef TO_DOUBLE53
  #undef SEL_BIT0
  #undef F32_SAME

/* ---- AVX2 with FMA (4 lanes) ---- */
  #define FN(name)            name##AVX2
  #define W                   4
  #define ATTR                __attribute__((target("avx2,fma")))
  #define VI                  __m256i
  #define VD                  __m256d
  #define IOTA                _mm256_set_epi64x(3, 2, 1, 0)
  #define I_SET1(x)           _mm256_set1_epi64x((long long)(x))
  #define I_ADD               _mm256_add_epi64
  #define I_SUB               _mm256_sub_epi64
  #define I_XOR               _mm256_xor_si256
  #define I_AND               _mm256_and_si256
  #define I_OR                _mm256_or_si256
  #define I_SRL               _mm256_srli_epi64
  #define I_SLL               _mm256_slli_epi64
  #define I_MULU              _mm256_mul_epu32
  #define I_LOAD(p)           _mm256_loadu_si256((const __m256i *)(p))
  #define I_STORE(p, v)       _mm256_storeu_si256((__m256i *)(p), v)
  #define D_SET1              _mm256_set1_pd
  #define D_STORE             _mm256_storeu_pd
  #define D_ADD               _mm256_add_pd
  #define D_SUB               _mm256_sub_pd
  #define D_MUL               _mm256_mul_pd
  #define D_DIV               _mm256_div_pd
  #define D_AND               _mm256_and_pd
  #define D_FMA               _mm256_fmadd_pd
  #define D_FNMA              _mm256_fnmadd_pd
  #define D_SQRT              _mm256_sqrt_pd
  #define D_ROUND(x)          _mm256_round_pd(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
  #define CAST_DI             _mm256_castpd_si256
  #define CAST_ID             _mm256_castsi256_pd
  #define TO_DOUBLE53         ToDouble53AVX2
  #define SEL_BIT0(q, a, b)   _mm256_blendv_pd(b, a, _mm256_castsi256_pd(_mm256_sub_epi64(_mm256_setzero_si256(), _mm256_and_si256(q, I_SET1(1)))))
  #define F32_SAME(lo, hi, p) F32SameAVX2(lo, hi, p)
/* x < 2^53 to double, exactly: its high 21 and low 32 bits through the 2^52 exponent trick */
static inline ATTR __m256d ToDouble53AVX2(__m256i x)
{
  const __m256i e  = I_SET1(0x4330000000000000ULL);
  const __m256d hi = _mm256_sub_pd(_mm256_castsi256_pd(I_OR(I_SRL(x, 32), e)), D_SET1(0x1.0p52));
  const __m256d lo = _mm256_sub_pd(_mm256_castsi256_pd(I_OR(I_AND(x, I_SET1(0xffffffffULL)), e)), D_SET1(0x1.0p52));
  return _mm256_fmadd_pd(hi, D_SET1(0x1.0p32), lo); /* exact: an integer below 2^53 */
}
static inline ATTR int F32SameAVX2(__m256d lo, __m256d hi, float *p)
{
  const __m128 fl = _mm256_cvtpd_ps(lo), fh = _mm256_cvtpd_ps(hi);
  _mm_storeu_ps(p, fl);
  return _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(_mm_castps_si128(fl), _mm_castps_si128(fh))));
}
  #include "draw_body.h"
#endif

PetscBool KhgpsDrawAvailable(int path)
{
#if defined(KHGPS_DRAW_X86)
  __builtin_cpu_init();
  if (path == KHGPS_DRAW_AVX512) return (PetscBool)(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
  if (path == KHGPS_DRAW_AVX2) return (PetscBool)(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
#endif
  return (PetscBool)(path == KHGPS_DRAW_SCALAR);
}

void KhgpsDrawSetPath(int path)
{
  draw_path = path;
}

/* KHGPS_DRAW=scalar|avx2|avx512 in the environment forces a path for a whole run (the tests'
   comparison of full runs); a path the processor lacks is refused there and the default kept. */
static int EnvPath(void)
{
  static int env = -2;
  if (env == -2) {
    const char *e = getenv("KHGPS_DRAW");
    env           = KHGPS_DRAW_AUTO;
    if (e && !strcmp(e, "scalar")) env = KHGPS_DRAW_SCALAR;
    if (e && !strcmp(e, "avx2") && KhgpsDrawAvailable(KHGPS_DRAW_AVX2)) env = KHGPS_DRAW_AVX2;
    if (e && !strcmp(e, "avx512") && KhgpsDrawAvailable(KHGPS_DRAW_AVX512)) env = KHGPS_DRAW_AVX512;
  }
  return env;
}

int KhgpsDrawPath(void)
{
  if (draw_path != KHGPS_DRAW_AUTO) return draw_path;
  if (EnvPath() != KHGPS_DRAW_AUTO) return EnvPath();
  if (KhgpsAVX512() && KhgpsDrawAvailable(KHGPS_DRAW_AVX512)) return KHGPS_DRAW_AVX512;
  if (KhgpsDrawAvailable(KHGPS_DRAW_AVX2)) return KHGPS_DRAW_AVX2;
  return KHGPS_DRAW_SCALAR;
}

uint64_t KhgpsDrawFallbacks(void)
{
  return __atomic_load_n(&draw_fallbacks, __ATOMIC_RELAXED);
}

static void CountFallbacks(uint64_t n)
{
  if (n) __atomic_fetch_add(&draw_fallbacks, n, __ATOMIC_RELAXED);
}

void KhgpsDrawColumnPair(PetscInt64 seed, PetscInt realization, PetscReal s, PetscInt m, PetscInt i0, PetscInt n, float *a, float *b)
{
  switch (KhgpsDrawPath()) {
#if defined(KHGPS_DRAW_X86)
  case KHGPS_DRAW_AVX512:
    CountFallbacks(ColumnPairAVX512(seed, realization, s, m, i0, n, a, b));
    return;
  case KHGPS_DRAW_AVX2:
    CountFallbacks(ColumnPairAVX2(seed, realization, s, m, i0, n, a, b));
    return;
#endif
  default:
    for (PetscInt k = 0; k < n; k++) {
      PetscReal z[2];
      KhgpsNormal2(seed, realization, i0 + k, m, z);
      a[k] = (float)(s * z[0]);
      if (b) b[k] = (float)(s * z[1]);
    }
  }
}

void KhgpsDrawRow(PetscInt64 seed, PetscInt realization, PetscReal s, PetscInt i, PetscInt m0, PetscInt n, float *z)
{
  switch (KhgpsDrawPath()) {
#if defined(KHGPS_DRAW_X86)
  case KHGPS_DRAW_AVX512:
    CountFallbacks(RowAVX512(seed, realization, s, i, m0, n, z));
    return;
  case KHGPS_DRAW_AVX2:
    CountFallbacks(RowAVX2(seed, realization, s, i, m0, n, z));
    return;
#endif
  default:
    for (PetscInt k = 0; k < n; k++) {
      PetscReal zz[2];
      KhgpsNormal2(seed, realization, i, m0 + k, zz);
      z[2 * k]     = (float)(s * zz[0]);
      z[2 * k + 1] = (float)(s * zz[1]);
    }
  }
}

void KhgpsDrawPhilox(int path, uint64_t k0, uint64_t k1, size_t n, const uint64_t *ctr, uint64_t *out)
{
#if defined(KHGPS_DRAW_X86)
  if (path == KHGPS_DRAW_AVX512) {
    PhiloxNAVX512(k0, k1, n, ctr, out);
    return;
  }
  if (path == KHGPS_DRAW_AVX2) {
    PhiloxNAVX2(k0, k1, n, ctr, out);
    return;
  }
#endif
  for (size_t k = 0; k < n; k++) {
    philox4x64_key_t key = {
      {k0, k1}
    };
    philox4x64_ctr_t c = {
      {ctr[4 * k], ctr[4 * k + 1], ctr[4 * k + 2], ctr[4 * k + 3]}
    };
    philox4x64_ctr_t r = philox4x64(c, key);
    for (int w = 0; w < 4; w++) out[4 * k + w] = r.v[w];
  }
}

/* Rows [rs, re) of the dense couplings, column-major with leading dimension lda, as doubles (the
   float32 values): J_ij = fl32(s z_ij), zero diagonal, z_ij = z_ji from KhgpsNormal2 with the
   pairing of rng.c: rows i < j of the column pair (2c, 2c + 1) use counter (i, c), rows below it
   the counters (2c, i/2) and (2c + 1, i/2) of the two columns. */
PetscErrorCode KhgpsDrawDense(PetscInt64 seed, PetscInt realization, PetscInt N, PetscReal s, PetscInt rs, PetscInt re, PetscScalar *a, PetscInt lda)
{
  const PetscInt nr = re - rs;
  float         *fa, *fb, *fz;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc3(nr + 1, &fa, nr + 1, &fb, nr + 4, &fz));
  for (PetscInt j = 0; j < N; j += 2) {
    const PetscInt  j1 = j + 1, c = j >> 1, iu = PetscMin(re, j), il = PetscMax(rs, j + 2);
    const PetscBool two = (PetscBool)(j1 < N);
    PetscScalar    *col = a + (size_t)j * lda, *col1 = two ? a + (size_t)j1 * lda : NULL;
    if (iu > rs) { /* rows above the pair: counters (i, c) */
      KhgpsDrawColumnPair(seed, realization, s, c, rs, iu - rs, fa, two ? fb : NULL);
      for (PetscInt i = rs; i < iu; i++) {
        col[i - rs] = fa[i - rs];
        if (two) col1[i - rs] = fb[i - rs];
      }
    }
    for (PetscInt i = PetscMax(rs, j); i < PetscMin(re, j + 2); i++) { /* the pair's own 2 x 2 block */
      PetscReal z[2], zjj1 = 0;
      if (two) {
        KhgpsNormal2(seed, realization, j, c, z);
        zjj1 = z[1];
      }
      col[i - rs] = (i == j) ? 0.0 : KhgpsCoupling(s * zjj1);
      if (two) col1[i - rs] = (i == j) ? KhgpsCoupling(s * zjj1) : 0.0;
    }
    if (re > il) { /* rows below the pair: counters (2c, i/2) and (2c + 1, i/2) */
      const PetscInt m0 = il >> 1, nm = ((re - 1) >> 1) - m0 + 1;
      KhgpsDrawRow(seed, realization, s, j, m0, nm, fz);
      for (PetscInt i = il; i < re; i++) col[i - rs] = fz[i - 2 * m0];
      if (two) {
        KhgpsDrawRow(seed, realization, s, j1, m0, nm, fz);
        for (PetscInt i = il; i < re; i++) col1[i - rs] = fz[i - 2 * m0];
      }
    }
  }
  PetscCall(PetscFree3(fa, fb, fz));
  PetscFunctionReturn(0);
}

void KhgpsDrawValues(int path, PetscInt64 seed, PetscInt realization, PetscReal s, PetscInt m, PetscInt i0, PetscInt n, double *a, double *b)
{
#if defined(KHGPS_DRAW_X86)
  if (path == KHGPS_DRAW_AVX512) {
    ValuesNAVX512(seed, realization, s, m, i0, n, a, b);
    return;
  }
  if (path == KHGPS_DRAW_AVX2) {
    ValuesNAVX2(seed, realization, s, m, i0, n, a, b);
    return;
  }
#endif
  for (PetscInt k = 0; k < n; k++) {
    PetscReal z[2];
    KhgpsNormal2(seed, realization, i0 + k, m, z);
    a[k] = s * z[0];
    b[k] = s * z[1];
  }
}

double KhgpsDrawBound(void)
{
  return DRAW_REL;
}
