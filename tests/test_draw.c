/* test_draw.c: the vector draw of the couplings (src/kernels/draw.c) against the scalar path.
   - Philox4x64-10 of every available path (AVX-512, AVX2) = Random123's philox4x64 on random
     counters and keys (all 64 bits of each word, so i and j far beyond any N).
   - The couplings of every path = the scalar path's, bit for bit: KhgpsDrawColumnPair and
     KhgpsDrawRow over every counter of N x N (N odd and even, not multiples of 4 or 8), several
     seeds and realizations; the dense rows [rs, re) of KhgpsDrawDense for splits as on 1, 2 and 3
     ranks; the thermal chain's full J (KhgpsThermalCouplings).
   - -n M: also M counters of one column pair per path at large N (the fallback count is printed).
   Prints PASS:/FAIL: lines. */
#include <Random123/philox.h>
#include <string.h>
#include <math.h>
#include "khgps.h"
#include "khgps_thermal.h"
#include "../src/kernels/draw.h"

static int nfail;

static void Check(PetscBool ok, const char *what)
{
  printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
  if (!ok) nfail++;
}

static uint64_t Next(uint64_t *x) /* splitmix64 */
{
  uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
  z          = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z          = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static const char *Name(int path)
{
  return path == KHGPS_DRAW_AVX512 ? "avx512" : path == KHGPS_DRAW_AVX2 ? "avx2" : "scalar";
}

/* every coupling of an N x N realization through ColumnPair and Row: hash-free, compared in full */
static PetscErrorCode AllCouplings(PetscInt64 seed, PetscInt real, PetscInt N, float *col, float *row)
{
  const PetscReal s  = 0.37 / PetscSqrtReal((PetscReal)N);
  const PetscInt  nc = (N + 1) / 2;

  PetscFunctionBeginUser;
  for (PetscInt c = 0; c < nc; c++) KhgpsDrawColumnPair(seed, real, s, c, 0, 2 * c + 1, col + (size_t)c * 2 * N, col + (size_t)c * 2 * N + N);
  for (PetscInt i = 0; i < N; i++) KhgpsDrawRow(seed, real, s, i, i >> 1, nc - (i >> 1), row + (size_t)i * (N + 2));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  const int paths[] = {KHGPS_DRAW_AVX2, KHGPS_DRAW_AVX512};
  PetscInt  nbig    = 0;
  uint64_t  x       = 12345;
  char      msg[256];

  PetscCall(PetscInitialize(&argc, &argv, NULL, "draw check"));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-n", &nbig, NULL));
  for (int p = 0; p < 2; p++) printf("path %s: %s\n", Name(paths[p]), KhgpsDrawAvailable(paths[p]) ? "available" : "not available (SKIP)");

  { /* Philox */
    const size_t n = 100003;
    uint64_t    *ctr, *ref, *out;
    PetscCall(PetscMalloc3(4 * n, &ctr, 4 * n, &ref, 4 * n, &out));
    for (int trial = 0; trial < 4; trial++) {
      const uint64_t k0 = trial ? Next(&x) : 1, k1 = trial ? Next(&x) : 0;
      for (size_t k = 0; k < 4 * n; k++) ctr[k] = trial == 0 ? (k % 4 < 2 ? k / 4 : 0) : trial == 1 ? Next(&x) >> (k % 64) : Next(&x);
      KhgpsDrawPhilox(KHGPS_DRAW_SCALAR, k0, k1, n, ctr, ref);
      { /* the scalar reference is Random123 itself */
        philox4x64_ctr_t c = {
          {ctr[4 * 77], ctr[4 * 77 + 1], ctr[4 * 77 + 2], ctr[4 * 77 + 3]}
        };
        philox4x64_key_t kk = {
          {k0, k1}
        };
        philox4x64_ctr_t r = philox4x64(c, kk);
        if (memcmp(r.v, ref + 4 * 77, sizeof(r.v))) Check(PETSC_FALSE, "scalar Philox reference");
      }
      for (int p = 0; p < 2; p++) {
        if (!KhgpsDrawAvailable(paths[p])) continue;
        memset(out, 0, 4 * n * sizeof(uint64_t));
        KhgpsDrawPhilox(paths[p], k0, k1, n, ctr, out);
        PetscCall(PetscSNPrintf(msg, sizeof(msg), "Philox4x64-10 %s = Random123 on %zu counters (trial %d: %s)", Name(paths[p]), n, trial,
                                trial == 0   ? "counters (k, 0), key (1, 0)"
                                : trial == 1 ? "random counters of every width"
                                             : "random 64-bit counters and key"));
        Check((PetscBool)!memcmp(out, ref, 4 * n * sizeof(uint64_t)), msg);
      }
    }
    PetscCall(PetscFree3(ctr, ref, out));
  }

  { /* couplings, every counter of N x N */
    const PetscInt   Ns[]    = {2, 3, 7, 8, 9, 17, 100, 501, 1003};
    const PetscInt64 seeds[] = {1, 11, 1234567890123LL};
    const PetscInt   reals[] = {0, 3, 999999};
    for (size_t a = 0; a < sizeof(Ns) / sizeof(Ns[0]); a++) {
      const PetscInt N  = Ns[a];
      const size_t   nc = (size_t)(N + 1) * 2 * N, nr = (size_t)N * (N + 2);
      float         *c0, *r0, *c1, *r1;
      PetscCall(PetscCalloc4(nc, &c0, nr, &r0, nc, &c1, nr, &r1));
      for (size_t b = 0; b < 3; b++) {
        KhgpsDrawSetPath(KHGPS_DRAW_SCALAR);
        PetscCall(AllCouplings(seeds[b], reals[b], N, c0, r0));
        for (int p = 0; p < 2; p++) {
          if (!KhgpsDrawAvailable(paths[p])) continue;
          KhgpsDrawSetPath(paths[p]);
          PetscCall(AllCouplings(seeds[b], reals[b], N, c1, r1));
          PetscCall(PetscSNPrintf(msg, sizeof(msg), "couplings %s = scalar bit for bit, N = %d, seed %lld, realization %d (columns and rows)", Name(paths[p]), (int)N, (long long)seeds[b], (int)reals[b]));
          Check((PetscBool)(!memcmp(c0, c1, nc * sizeof(float)) && !memcmp(r0, r1, nr * sizeof(float))), msg);
        }
      }
      PetscCall(PetscFree4(c0, r0, c1, r1));
    }
  }

  { /* the dense rows [rs, re) on splits as on 1, 2, 3 ranks, and the thermal chain's J */
    const PetscInt N = 301, splits[][4] = {
                              {0, 301, 301, 301},
                              {0, 150, 301, 301},
                              {0, 100, 200, 301}
    };
    PetscScalar *d0, *d1, *whole;
    float       *t0, *t1;
    PetscReal   *kap;
    KhgpsParams  par;
    PetscCall(PetscMalloc5((size_t)N * N, &d0, (size_t)N * N, &d1, (size_t)N * N, &whole, (size_t)N * N, &t0, (size_t)N * N, &t1));
    PetscCall(PetscMalloc1(N, &kap));
    KhgpsDrawSetPath(KHGPS_DRAW_SCALAR);
    PetscCall(KhgpsDrawDense(7, 2, N, 0.1 / PetscSqrtReal(N), 0, N, whole, N));
    for (int p = 0; p < 3; p++) {
      const int path = p == 2 ? KHGPS_DRAW_SCALAR : paths[p];
      if (!KhgpsDrawAvailable(path)) continue;
      KhgpsDrawSetPath(path);
      for (int sp = 0; sp < 3; sp++) {
        for (int r = 0; r < 3; r++) {
          const PetscInt rs = splits[sp][r], re = splits[sp][r + 1];
          if (re <= rs) continue;
          PetscCall(KhgpsDrawDense(7, 2, N, 0.1 / PetscSqrtReal(N), rs, re, d1, re - rs));
          for (PetscInt j = 0; j < N; j++)
            for (PetscInt i = rs; i < re; i++) d0[(size_t)j * N + i] = d1[(size_t)j * (re - rs) + i - rs];
        }
        PetscCall(PetscSNPrintf(msg, sizeof(msg), "dense rows %s on %d row blocks = scalar on one, bit for bit", Name(path), sp + 1));
        Check((PetscBool)!memcmp(d0, whole, (size_t)N * N * sizeof(PetscScalar)), msg);
      }
    }
    { /* symmetric, zero diagonal, and the packed layout's values (column pairs) */
      PetscBool ok = PETSC_TRUE;
      for (PetscInt j = 0; j < N; j++)
        for (PetscInt i = 0; i < N; i++) ok = (PetscBool)(ok && whole[(size_t)j * N + i] == whole[(size_t)i * N + j] && (i != j || whole[(size_t)j * N + i] == 0));
      Check(ok, "dense couplings symmetric with zero diagonal");
    }
    PetscCall(PetscMemzero(&par, sizeof(par)));
    par.N           = N;
    par.J           = 0.1;
    par.seed        = 7;
    par.realization = 2;
    par.kappa0      = 1;
    par.kappa_min   = 0;
    KhgpsDrawSetPath(KHGPS_DRAW_SCALAR);
    PetscCall(KhgpsThermalCouplings(&par, t0, kap));
    {
      PetscBool ok = PETSC_TRUE;
      for (size_t k = 0; k < (size_t)N * N; k++) ok = (PetscBool)(ok && (double)t0[k] == whole[k]);
      Check(ok, "thermal chain's J (scalar) = dense couplings");
    }
    for (int p = 0; p < 2; p++) {
      if (!KhgpsDrawAvailable(paths[p])) continue;
      KhgpsDrawSetPath(paths[p]);
      PetscCall(KhgpsThermalCouplings(&par, t1, kap));
      PetscCall(PetscSNPrintf(msg, sizeof(msg), "thermal chain's J %s = scalar bit for bit", Name(paths[p])));
      Check((PetscBool)!memcmp(t0, t1, (size_t)N * N * sizeof(float)), msg);
    }
    PetscCall(PetscFree5(d0, d1, whole, t0, t1));
    PetscCall(PetscFree(kap));
  }

  { /* the error bound: the vector double values against the scalar path's, before the rounding */
    const PetscInt n = 1 << 20;
    double        *a0, *b0, *a1, *b1;
    PetscCall(PetscMalloc4(n, &a0, n, &b0, n, &a1, n, &b1));
    for (int p = 0; p < 2; p++) {
      double worst = 0;
      if (!KhgpsDrawAvailable(paths[p])) continue;
      for (int trial = 0; trial < 4; trial++) {
        const PetscInt m = trial == 3 ? 123456789 : trial * 1000;
        KhgpsDrawValues(KHGPS_DRAW_SCALAR, 3 + trial, trial, 1.0, m, trial * n, n, a0, b0);
        KhgpsDrawValues(paths[p], 3 + trial, trial, 1.0, m, trial * n, n, a1, b1);
        for (PetscInt k = 0; k < n; k++) {
          if (a0[k] != 0) worst = PetscMax(worst, fabs(a1[k] - a0[k]) / fabs(a0[k]));
          if (b0[k] != 0) worst = PetscMax(worst, fabs(b1[k] - b0[k]) / fabs(b0[k]));
        }
      }
      PetscCall(PetscSNPrintf(msg, sizeof(msg), "%s: largest relative difference from libm's z on %d values: %.2f x 2^-53, the bound %.0f x 2^-53 (margin at least 64)", Name(paths[p]), 8 * (int)n, worst / 0x1.0p-53, KhgpsDrawBound() / 0x1.0p-53));
      Check((PetscBool)(worst * 64 <= KhgpsDrawBound()), msg);
    }
    PetscCall(PetscFree4(a0, b0, a1, b1));
  }

  if (nbig > 0) { /* many counters of one column pair: a large-N sample of the fallback */
    float *a0, *b0, *a1, *b1;
    PetscCall(PetscMalloc4(nbig, &a0, nbig, &b0, nbig, &a1, nbig, &b1));
    KhgpsDrawSetPath(KHGPS_DRAW_SCALAR);
    KhgpsDrawColumnPair(5, 1, 0.1 / 100, nbig / 2, 0, nbig, a0, b0);
    for (int p = 0; p < 2; p++) {
      uint64_t f0 = KhgpsDrawFallbacks();
      if (!KhgpsDrawAvailable(paths[p])) continue;
      KhgpsDrawSetPath(paths[p]);
      KhgpsDrawColumnPair(5, 1, 0.1 / 100, nbig / 2, 0, nbig, a1, b1);
      PetscCall(PetscSNPrintf(msg, sizeof(msg), "%s = scalar on %d counters (%d couplings), %llu fell back to scalar", Name(paths[p]), (int)nbig, (int)(2 * nbig), (unsigned long long)(KhgpsDrawFallbacks() - f0)));
      Check((PetscBool)(!memcmp(a0, a1, nbig * sizeof(float)) && !memcmp(b0, b1, nbig * sizeof(float))), msg);
    }
    PetscCall(PetscFree4(a0, b0, a1, b1));
  }
  KhgpsDrawSetPath(KHGPS_DRAW_AUTO);
  PetscCall(PetscFinalize());
  return nfail ? 1 : 0;
}
