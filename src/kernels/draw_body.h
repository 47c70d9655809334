/* draw_body.h: the vector draw's body, included by draw.c once per instruction set with the macros
   FN, W, ATTR, VI, VD and the I_* / D_* operations defined (AVX-512: 8 lanes, AVX2: 4). */

/* (hi, lo) = x * m as 64 x 64 -> 128 bits, from four 32 x 32 -> 64 multiplies (vpmuludq). */
static inline ATTR void FN(MulHiLo)(VI x, VI ml, VI mh, VI low, VI *hi, VI *lo)
{
  const VI xh = I_SRL(x, 32);
  const VI t  = I_MULU(x, ml);
  const VI u  = I_ADD(I_MULU(x, mh), I_SRL(t, 32));
  const VI v  = I_ADD(I_MULU(xh, ml), I_AND(u, low));
  *hi         = I_ADD(I_ADD(I_MULU(xh, mh), I_SRL(u, 32)), I_SRL(v, 32));
  *lo         = I_OR(I_SLL(v, 32), I_AND(t, low));
}

/* Random123's philox4x64 (10 rounds) on W counters (x0, x1, x2, x3) with key (k0, k1), in place. */
static inline ATTR void FN(Philox)(VI *x0, VI *x1, VI *x2, VI *x3, uint64_t k0, uint64_t k1)
{
  const VI low = I_SET1(0xffffffffULL), m0l = I_SET1(PHILOX_M0 & 0xffffffffULL), m0h = I_SET1(PHILOX_M0 >> 32);
  const VI m1l = I_SET1(PHILOX_M1 & 0xffffffffULL), m1h = I_SET1(PHILOX_M1 >> 32);
  VI       a = *x0, b = *x1, c = *x2, d = *x3;
  uint64_t K0 = k0, K1 = k1;

  for (int r = 0; r < 10; r++) {
    VI hi0, lo0, hi1, lo1;
    FN(MulHiLo)(a, m0l, m0h, low, &hi0, &lo0);
    FN(MulHiLo)(c, m1l, m1h, low, &hi1, &lo1);
    a = I_XOR(I_XOR(hi1, b), I_SET1(K0));
    b = lo1;
    c = I_XOR(I_XOR(hi0, d), I_SET1(K1));
    d = lo0;
    K0 += PHILOX_W0;
    K1 += PHILOX_W1;
  }
  *x0 = a;
  *x1 = b;
  *x2 = c;
  *x3 = d;
}

/* Words 0 and 1 of philox4x64 on the counters (a, b, 0, 0) and (a2, b2, 0, 0), W of each, key (k0, k1):
   the draw's Philox, two vectors at once for the parallelism of the pipelines. The first round's
   multiply of counter word 2 (zero) and the last round's of word 0 (its results feed only the
   words 2 and 3) are left out. */
#define DRAW_ROUND(a, b, c, d) \
  do { \
    VI hi0_, lo0_, hi1_, lo1_; \
    FN(MulHiLo)(a, m0l, m0h, low, &hi0_, &lo0_); \
    FN(MulHiLo)(c, m1l, m1h, low, &hi1_, &lo1_); \
    a = I_XOR(I_XOR(hi1_, b), kk0); \
    b = lo1_; \
    c = I_XOR(I_XOR(hi0_, d), kk1); \
    d = lo0_; \
  } while (0)
static inline ATTR void FN(Philox01x2)(VI *pa, VI *pb, VI *pa2, VI *pb2, uint64_t k0, uint64_t k1)
{
  const VI low = I_SET1(0xffffffffULL), m0l = I_SET1(PHILOX_M0 & 0xffffffffULL), m0h = I_SET1(PHILOX_M0 >> 32);
  const VI m1l = I_SET1(PHILOX_M1 & 0xffffffffULL), m1h = I_SET1(PHILOX_M1 >> 32);
  VI       a = *pa, b = *pb, c, d, a2 = *pa2, b2 = *pb2, c2, d2, kk0 = I_SET1(k0), kk1 = I_SET1(k1), hi, lo, hi2, lo2;

  /* round 1: words 2 and 3 are zero, so word 2's product is zero */
  FN(MulHiLo)(a, m0l, m0h, low, &hi, &lo);
  FN(MulHiLo)(a2, m0l, m0h, low, &hi2, &lo2);
  a  = I_XOR(b, kk0);
  b  = I_SET1(0);
  c  = I_XOR(hi, kk1);
  d  = lo;
  a2 = I_XOR(b2, kk0);
  b2 = b;
  c2 = I_XOR(hi2, kk1);
  d2 = lo2;
  for (int r = 1; r < 9; r++) {
    kk0 = I_ADD(kk0, I_SET1(PHILOX_W0));
    kk1 = I_ADD(kk1, I_SET1(PHILOX_W1));
    DRAW_ROUND(a, b, c, d);
    DRAW_ROUND(a2, b2, c2, d2);
  }
  /* round 10: only words 0 and 1 are wanted */
  kk0 = I_ADD(kk0, I_SET1(PHILOX_W0));
  FN(MulHiLo)(c, m1l, m1h, low, &hi, &lo);
  FN(MulHiLo)(c2, m1l, m1h, low, &hi2, &lo2);
  *pa  = I_XOR(I_XOR(hi, b), kk0);
  *pb  = lo;
  *pa2 = I_XOR(I_XOR(hi2, b2), kk0);
  *pb2 = lo2;
  (void)d;
  (void)d2;
}
#undef DRAW_ROUND

/* ((r >> 11) + 1) 2^-53 in (0, 1], exactly as rng.c's u53 */
static inline ATTR VD FN(U53)(VI r)
{
  return D_MUL(D_ADD(TO_DOUBLE53(I_SRL(r, 11)), D_SET1(1.0)), D_SET1(0x1.0p-53));
}

/* The Box-Muller transform of the words (r0, r1) of W Philox results, scaled by s and rounded to
   float32 into a[0..W) and b[0..W): a = fl32(s R cos t), b = fl32(s R sin t), R = sqrt(-2 log u0),
   t = 2 pi u1, with log, sin and cos by polynomials in double. Returns the lanes (bit l for lane l)
   whose value lies within the error bound DRAW_REL of a float32 rounding boundary: only there can
   the rounding differ from the scalar path's, and the caller recomputes them with it. */
/* The double values s R cos t and s R sin t before the rounding (Transform, and the test). */
static inline ATTR void FN(Values)(VI r0, VI r1, double s, VD *pv0, VD *pv1)
{
  const VD one = D_SET1(1.0);
  const VD u0 = FN(U53)(r0), u1 = FN(U53)(r1);
  VD       R, t, q, r, r2, sp, cp, sr, cr, sn, cs;
  VI       qi;

  { /* log u0 = k ln 2 + log m, m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(f / (2 + f)), f = m - 1 */
    const VI ix = CAST_DI(u0);
    const VI kb = I_SRL(I_ADD(I_SUB(ix, I_SET1(LOG_OFF)), I_SET1(0x3ff0000000000000ULL)), 52); /* k + 1023 */
    const VD m  = CAST_ID(I_ADD(I_SUB(ix, I_SLL(kb, 52)), I_SET1(0x3ff0000000000000ULL)));
    const VD kd = D_SUB(CAST_ID(I_OR(kb, I_SET1(0x4330000000000000ULL))), D_SET1(0x1.0p52 + 1023.0));
    const VD f  = D_SUB(m, one);
    const VD w  = D_DIV(f, D_ADD(D_SET1(2.0), f));
    const VD w2 = D_MUL(w, w);
    VD       p  = D_SET1(2.0 / 23);
    p           = D_FMA(p, w2, D_SET1(2.0 / 21));
    p           = D_FMA(p, w2, D_SET1(2.0 / 19));
    p           = D_FMA(p, w2, D_SET1(2.0 / 17));
    p           = D_FMA(p, w2, D_SET1(2.0 / 15));
    p           = D_FMA(p, w2, D_SET1(2.0 / 13));
    p           = D_FMA(p, w2, D_SET1(2.0 / 11));
    p           = D_FMA(p, w2, D_SET1(2.0 / 9));
    p           = D_FMA(p, w2, D_SET1(2.0 / 7));
    p           = D_FMA(p, w2, D_SET1(2.0 / 5));
    p           = D_FMA(p, w2, D_SET1(2.0 / 3));
    R           = D_FMA(kd, D_SET1(LN2), D_FMA(D_MUL(w, w2), p, D_ADD(w, w)));
    R           = D_SQRT(D_MUL(D_SET1(-2.0), R));
  }
  /* sin t, cos t: t = q pi/2 + r (pi/2 in three parts), polynomials on |r| <= pi/4 */
  t    = D_MUL(D_SET1(DRAW_TWO_PI), u1);
  q    = D_ROUND(D_MUL(t, D_SET1(0.63661977236758138)));
  r    = D_FNMA(q, D_SET1(PIO2_1), t);
  r    = D_FNMA(q, D_SET1(PIO2_2), r);
  r    = D_FNMA(q, D_SET1(PIO2_3), r);
  r2   = D_MUL(r, r);
  sp   = D_SET1(1.0 / 121645100408832000.0);              /* 1/19! */
  sp   = D_FMA(sp, r2, D_SET1(-1.0 / 355687428096000.0)); /* -1/17! */
  sp   = D_FMA(sp, r2, D_SET1(1.0 / 1307674368000.0));    /* 1/15! */
  sp   = D_FMA(sp, r2, D_SET1(-1.0 / 6227020800.0));      /* -1/13! */
  sp   = D_FMA(sp, r2, D_SET1(1.0 / 39916800.0));         /* 1/11! */
  sp   = D_FMA(sp, r2, D_SET1(-1.0 / 362880.0));          /* -1/9! */
  sp   = D_FMA(sp, r2, D_SET1(1.0 / 5040.0));
  sp   = D_FMA(sp, r2, D_SET1(-1.0 / 120.0));
  sp   = D_FMA(sp, r2, D_SET1(1.0 / 6.0));
  sr   = D_FNMA(D_MUL(r, r2), sp, r);                      /* r - r^3/6 + ... */
  cp   = D_SET1(1.0 / 2432902008176640000.0);              /* 1/20! */
  cp   = D_FMA(cp, r2, D_SET1(-1.0 / 6402373705728000.0)); /* -1/18! */
  cp   = D_FMA(cp, r2, D_SET1(1.0 / 20922789888000.0));    /* 1/16! */
  cp   = D_FMA(cp, r2, D_SET1(-1.0 / 87178291200.0));      /* -1/14! */
  cp   = D_FMA(cp, r2, D_SET1(1.0 / 479001600.0));         /* 1/12! */
  cp   = D_FMA(cp, r2, D_SET1(-1.0 / 3628800.0));          /* -1/10! */
  cp   = D_FMA(cp, r2, D_SET1(1.0 / 40320.0));
  cp   = D_FMA(cp, r2, D_SET1(-1.0 / 720.0));
  cp   = D_FMA(cp, r2, D_SET1(1.0 / 24.0));
  cp   = D_FMA(cp, r2, D_SET1(-0.5));
  cr   = D_FMA(r2, cp, one);
  qi   = CAST_DI(D_ADD(q, D_SET1(0x1.0p52))); /* q in the low bits */
  sn   = SEL_BIT0(qi, cr, sr);
  cs   = SEL_BIT0(qi, sr, cr);
  sn   = CAST_ID(I_XOR(CAST_DI(sn), I_SLL(I_AND(qi, I_SET1(2)), 62)));
  cs   = CAST_ID(I_XOR(CAST_DI(cs), I_SLL(I_AND(I_ADD(qi, I_SET1(1)), I_SET1(2)), 62)));
  *pv0 = D_MUL(D_SET1(s), D_MUL(R, cs));
  *pv1 = D_MUL(D_SET1(s), D_MUL(R, sn));
}

static inline ATTR int FN(Transform)(VI r0, VI r1, double s, float *a, float *b)
{
  VD v0, v1;
  FN(Values)(r0, r1, s, &v0, &v1);
  {
    const VD absmask = CAST_ID(I_SET1(0x7fffffffffffffffULL)), rel = D_SET1(DRAW_REL), tiny = D_SET1(0x1.0p-1022);
    const VD e0 = D_FMA(D_AND(v0, absmask), rel, tiny), e1 = D_FMA(D_AND(v1, absmask), rel, tiny);
    return ~(F32_SAME(D_SUB(v0, e0), D_ADD(v0, e0), a) & F32_SAME(D_SUB(v1, e1), D_ADD(v1, e1), b)) & ((1 << W) - 1);
  }
}

/* The couplings of counters (i0 + k, m): see KhgpsDrawColumnPair. */
static ATTR uint64_t FN(ColumnPair)(PetscInt64 seed, PetscInt realization, double s, PetscInt m, PetscInt i0, PetscInt n, float *a, float *b)
{
  const VI zero = I_SET1(0), cm = I_SET1((uint64_t)m);
  VI       ci = I_ADD(I_SET1((uint64_t)i0), IOTA);
  float    ta[W], tb[W];
  uint64_t nfix = 0;

  PetscInt k = 0;

  for (; k + 4 * W <= n; k += 4 * W, ci = I_ADD(ci, I_SET1(4 * W))) { /* four vectors at a time: more for the pipelines */
    VI       x0 = ci, x1 = cm, y0 = I_ADD(ci, I_SET1(W)), y1 = cm, u0 = I_ADD(ci, I_SET1(2 * W)), u1 = cm, w0 = I_ADD(ci, I_SET1(3 * W)), w1 = cm;
    unsigned bad; /* 4 W <= 32 lanes */
    float    tb4[4 * W];
    FN(Philox01x2)(&x0, &x1, &y0, &y1, (uint64_t)seed, (uint64_t)realization);
    FN(Philox01x2)(&u0, &u1, &w0, &w1, (uint64_t)seed, (uint64_t)realization);
    bad = (unsigned)FN(Transform)(x0, x1, s, a + k, b ? b + k : tb4);
    bad |= (unsigned)FN(Transform)(y0, y1, s, a + k + W, b ? b + k + W : tb4 + W) << W;
    bad |= (unsigned)FN(Transform)(u0, u1, s, a + k + 2 * W, b ? b + k + 2 * W : tb4 + 2 * W) << (2 * W);
    bad |= (unsigned)FN(Transform)(w0, w1, s, a + k + 3 * W, b ? b + k + 3 * W : tb4 + 3 * W) << (3 * W);
    for (; bad; bad &= bad - 1) {
      const int l = __builtin_ctz(bad);
      PetscReal z[2];
      KhgpsNormal2(seed, realization, i0 + k + l, m, z);
      a[k + l] = (float)(s * z[0]);
      if (b) b[k + l] = (float)(s * z[1]);
      nfix++;
    }
  }
  for (; k < n; k += W, ci = I_ADD(ci, I_SET1(W))) {
    const PetscBool full = (PetscBool)(n - k >= W);
    float          *pa = full ? a + k : ta, *pb = full && b ? b + k : tb;
    VI              x0 = ci, x1 = cm, x2 = zero, x3 = zero;
    int             bad;
    FN(Philox)(&x0, &x1, &x2, &x3, (uint64_t)seed, (uint64_t)realization);
    bad = FN(Transform)(x0, x1, s, pa, pb);
    if (!full) bad &= (1 << (n - k)) - 1;
    for (; bad; bad &= bad - 1) {
      const int l = __builtin_ctz(bad);
      PetscReal z[2];
      KhgpsNormal2(seed, realization, i0 + k + l, m, z);
      pa[l] = (float)(s * z[0]);
      pb[l] = (float)(s * z[1]);
      nfix++;
    }
    if (!full)
      for (PetscInt l = 0; l < n - k; l++) {
        a[k + l] = ta[l];
        if (b) b[k + l] = tb[l];
      }
  }
  return nfix;
}

/* The couplings of counters (i, m0 + k): see KhgpsDrawRow. */
static ATTR uint64_t FN(Row)(PetscInt64 seed, PetscInt realization, double s, PetscInt i, PetscInt m0, PetscInt n, float *z)
{
  const VI zero = I_SET1(0), ci = I_SET1((uint64_t)i);
  VI       cm = I_ADD(I_SET1((uint64_t)m0), IOTA);
  float    ta[W], tb[W];
  uint64_t nfix = 0;

  PetscInt k = 0;

  for (; k + 2 * W <= n; k += 2 * W, cm = I_ADD(cm, I_SET1(2 * W))) { /* two vectors at a time */
    float ta2[2 * W], tb2[2 * W];
    VI    x0 = ci, x1 = cm, y0 = ci, y1 = I_ADD(cm, I_SET1(W));
    int   bad;
    FN(Philox01x2)(&x0, &x1, &y0, &y1, (uint64_t)seed, (uint64_t)realization);
    bad = FN(Transform)(x0, x1, s, ta2, tb2);
    bad |= FN(Transform)(y0, y1, s, ta2 + W, tb2 + W) << W;
    for (; bad; bad &= bad - 1) {
      const int l = __builtin_ctz(bad);
      PetscReal zz[2];
      KhgpsNormal2(seed, realization, i, m0 + k + l, zz);
      ta2[l] = (float)(s * zz[0]);
      tb2[l] = (float)(s * zz[1]);
      nfix++;
    }
    for (PetscInt l = 0; l < 2 * W; l++) {
      z[2 * (k + l)]     = ta2[l];
      z[2 * (k + l) + 1] = tb2[l];
    }
  }
  for (; k < n; k += W, cm = I_ADD(cm, I_SET1(W))) {
    const PetscInt nl = PetscMin(W, n - k);
    VI             x0 = ci, x1 = cm, x2 = zero, x3 = zero;
    int            bad;
    FN(Philox)(&x0, &x1, &x2, &x3, (uint64_t)seed, (uint64_t)realization);
    bad = FN(Transform)(x0, x1, s, ta, tb) & ((1 << nl) - 1);
    for (; bad; bad &= bad - 1) {
      const int l = __builtin_ctz(bad);
      PetscReal zz[2];
      KhgpsNormal2(seed, realization, i, m0 + k + l, zz);
      ta[l] = (float)(s * zz[0]);
      tb[l] = (float)(s * zz[1]);
      nfix++;
    }
    for (PetscInt l = 0; l < nl; l++) {
      z[2 * (k + l)]     = ta[l];
      z[2 * (k + l) + 1] = tb[l];
    }
  }
  return nfix;
}

/* The double values of counters (i0 + k, m) before the rounding to float32 (the test's error bound). */
static ATTR void FN(ValuesN)(PetscInt64 seed, PetscInt realization, double s, PetscInt m, PetscInt i0, PetscInt n, double *a, double *b)
{
  const VI zero = I_SET1(0), cm = I_SET1((uint64_t)m);
  VI       ci = I_ADD(I_SET1((uint64_t)i0), IOTA);
  double   ta[W], tb[W];

  for (PetscInt k = 0; k < n; k += W, ci = I_ADD(ci, I_SET1(W))) {
    VI x0 = ci, x1 = cm, x2 = zero, x3 = zero;
    VD v0, v1;
    FN(Philox)(&x0, &x1, &x2, &x3, (uint64_t)seed, (uint64_t)realization);
    FN(Values)(x0, x1, s, &v0, &v1);
    D_STORE(ta, v0);
    D_STORE(tb, v1);
    for (PetscInt l = 0; l < W && k + l < n; l++) {
      a[k + l] = ta[l];
      b[k + l] = tb[l];
    }
  }
}

/* Raw Philox on n counters of four words each (the test). */
static ATTR void FN(PhiloxN)(uint64_t k0, uint64_t k1, size_t n, const uint64_t *ctr, uint64_t *out)
{
  for (size_t k = 0; k < n; k += W) {
    uint64_t c[4][W], o[4][W];
    VI       x[4];
    for (int w = 0; w < 4; w++) {
      for (int l = 0; l < W; l++) c[w][l] = k + l < n ? ctr[4 * (k + l) + w] : 0;
      x[w] = I_LOAD(c[w]);
    }
    FN(Philox)(&x[0], &x[1], &x[2], &x[3], k0, k1);
    for (int w = 0; w < 4; w++) I_STORE(o[w], x[w]);
    for (int l = 0; l < W && k + l < n; l++)
      for (int w = 0; w < 4; w++) out[4 * (k + l) + w] = o[w][l];
  }
}
