/* repro.c: arithmetic whose result does not depend on the number of MPI ranks.

   1. Reproducible sums. A floating point sum depends on the order of its terms, and MPI_Allreduce
      of per-rank partial sums orders them by the partition: on 1, 2 and 3 ranks TAO's dot products
      differ in the last bits, its path forks, and at N = 1e6 the runs even end in different minima.
      Here a sum is the exact sum of the terms' parts on three fixed grids (Demmel & Nguyen's
      pre-rounding, "Fast reproducible floating-point summation", ARITH 2013): with gmax the largest
      |term| over all ranks and L = ceil(log2 N) + 2, every term t is split as t = q0 + q1 + q2 + r,
      q_k the multiple of 2^(a_k + L - 52) nearest the rest (a_0 = exponent above gmax, a_{k+1} =
      a_k + L - 53), by q = (1.5 * 2^(a_k + L) + t) - 1.5 * 2^(a_k + L). The sums of the q_k, over any
      rank count and in any order, are exact (multiples of one unit, below 2^53 units), and the
      result is S0 + (S1 + S2): a function of the terms alone. It keeps about 3 (53 - L) bits below
      N gmax, far more than a plain sum. Two passes (the max, then the parts) and two allreduces.
      Vectors given KhgpsVecSetReproducible() take their dot products and norms this way, and so
      does every vector duplicated from them (VecDuplicate copies the ops): TAO's work vectors,
      the line search's, the Newton CG's.
   2. The ordered sparse product. MatMult of an MPIAIJ matrix adds the diagonal block's products,
      then the off-diagonal block's: per row a different order on every rank count. KhgpsOrderedMult
      adds each row's products in increasing global column, whatever the partition.

   This file is compiled without contraction of a * b + c into a fused multiply-add, so that a term
   is rounded the same way in every loop. */
#pragma GCC optimize("O3", "fp-contract=off")
#include <float.h>
#include <math.h>
#include <petscsf.h>
#include <petsc/private/vecimpl.h> /* the Vec operation table, to install the reproducible ops */
#include "khgps_repro.h"
#include "khgps_log.h"

#if defined(PETSC_USE_COMPLEX)
  #error "khgps is a real-valued code"
#endif

typedef enum {
  TERM_PLAIN,  /* x_i */
  TERM_ABS,    /* |x_i| */
  TERM_SQUARE, /* x_i^2 */
  TERM_PROD    /* x_i y_i */
} TermKind;

#define KHGPS_FOLDS 3
#define KHGPS_LANES 4

/* One local pass for each kind of term, branch-free so that it vectorizes (an AVX2 clone where
   the processor has it: the same results, since every part is computed by the same operations and
   the sums of parts are exact in any order). */
#define KHGPS_TERM_PLAIN(i)  (x[i])
#define KHGPS_TERM_ABS(i)    (PetscAbsReal(x[i]))
#define KHGPS_TERM_SQUARE(i) (x[i] * x[i])
#define KHGPS_TERM_PROD(i)   (x[i] * y[i])

/* max |t_i| (Inf if a term is Inf or NaN: t - t is then NaN) */
#define KHGPS_LOCALMAX(NAME, TERM) \
  __attribute__((target_clones("avx2", "default"))) static PetscReal NAME(PetscInt n, const PetscReal *restrict x, const PetscReal *restrict y) \
  { \
    PetscReal mx = 0, bad = 0; \
    (void)y; \
    for (PetscInt i = 0; i < n; i++) { \
      const PetscReal t = PetscAbsReal(TERM(i)); \
      mx                = t > mx ? t : mx; \
      bad += t - t; \
    } \
    return bad == 0 ? mx : PETSC_INFINITY; \
  }

/* s[0..KHGPS_FOLDS) += the parts of the terms on the grids of M[k] = 1.5 2^(a_k + L), in lanes of
   independent accumulators */
#define KHGPS_DEPOSIT(NAME, TERM) \
  __attribute__((target_clones("avx2", "default"))) static void NAME(PetscInt n, const PetscReal *restrict x, const PetscReal *restrict y, const PetscReal *M, PetscReal *s) \
  { \
    PetscReal       acc[KHGPS_FOLDS][KHGPS_LANES] = {{0}}; \
    const PetscReal M0 = M[0], M1 = M[1], M2 = M[2]; \
    PetscInt        i = 0; \
    (void)y; \
    for (; i + KHGPS_LANES <= n; i += KHGPS_LANES) \
      for (int l = 0; l < KHGPS_LANES; l++) { \
        PetscReal r = TERM(i + l), q; \
        q           = (M0 + r) - M0; \
        acc[0][l] += q; \
        r -= q; \
        q = (M1 + r) - M1; \
        acc[1][l] += q; \
        r -= q; \
        acc[2][l] += (M2 + r) - M2; \
      } \
    for (; i < n; i++) { \
      PetscReal r = TERM(i), q; \
      q           = (M0 + r) - M0; \
      acc[0][0] += q; \
      r -= q; \
      q = (M1 + r) - M1; \
      acc[1][0] += q; \
      r -= q; \
      acc[2][0] += (M2 + r) - M2; \
    } \
    for (int k = 0; k < KHGPS_FOLDS; k++) \
      for (int l = 0; l < KHGPS_LANES; l++) s[k] += acc[k][l]; \
  }
KHGPS_LOCALMAX(MaxPlain, KHGPS_TERM_PLAIN)
KHGPS_LOCALMAX(MaxAbs, KHGPS_TERM_ABS)
KHGPS_LOCALMAX(MaxSquare, KHGPS_TERM_SQUARE)
KHGPS_LOCALMAX(MaxProd, KHGPS_TERM_PROD)
KHGPS_DEPOSIT(DepositPlain, KHGPS_TERM_PLAIN)
KHGPS_DEPOSIT(DepositAbs, KHGPS_TERM_ABS)
KHGPS_DEPOSIT(DepositSquare, KHGPS_TERM_SQUARE)
KHGPS_DEPOSIT(DepositProd, KHGPS_TERM_PROD)

static PetscReal LocalMax(TermKind kind, PetscInt n, const PetscReal *x, const PetscReal *y)
{
  switch (kind) {
  case TERM_ABS:
    return MaxAbs(n, x, y);
  case TERM_SQUARE:
    return MaxSquare(n, x, y);
  case TERM_PROD:
    return MaxProd(n, x, y);
  default:
    return MaxPlain(n, x, y);
  }
}

static void Deposit(TermKind kind, PetscInt n, const PetscReal *x, const PetscReal *y, const PetscReal *M, PetscReal *s)
{
  switch (kind) {
  case TERM_ABS:
    DepositAbs(n, x, y, M, s);
    break;
  case TERM_SQUARE:
    DepositSquare(n, x, y, M, s);
    break;
  case TERM_PROD:
    DepositProd(n, x, y, M, s);
    break;
  default:
    DepositPlain(n, x, y, M, s);
  }
}

static PetscReal Term(TermKind kind, const PetscReal *x, const PetscReal *y, PetscInt i)
{
  switch (kind) {
  case TERM_ABS:
    return PetscAbsReal(x[i]);
  case TERM_SQUARE:
    return x[i] * x[i];
  case TERM_PROD:
    return x[i] * y[i];
  default:
    return x[i];
  }
}

/* out[j] = sum over all ranks of the terms of kind kind of x and y[j] (j < nsum; y may be NULL),
   reproducibly. N is the global number of terms (the same on every rank count). */
static PetscErrorCode ReproSums(MPI_Comm comm, PetscInt N, PetscInt n, PetscInt nsum, TermKind kind, const PetscReal *x, const PetscReal *const *y, PetscReal *out)
{
  PetscReal *mx, *s, *S, M[KHGPS_FOLDS];
  const int  L = (int)PetscCeilReal(PetscLog2Real((PetscReal)PetscMax(N, 1))) + 2;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc3(nsum, &mx, KHGPS_FOLDS * nsum, &s, KHGPS_FOLDS * nsum, &S));
  for (PetscInt j = 0; j < nsum; j++) mx[j] = LocalMax(kind, n, x, y ? y[j] : NULL);
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, mx, nsum, MPIU_REAL, MPIU_MAX, comm));
  for (PetscInt j = 0; j < nsum; j++) {
    const PetscReal *yj = y ? y[j] : NULL;
    PetscReal       *sj = s + KHGPS_FOLDS * j;
    int              a;
    for (int k = 0; k < KHGPS_FOLDS; k++) sj[k] = 0;
    if (mx[j] == 0) continue;
    (void)frexp(mx[j], &a); /* mx < 2^a */
    if (!(mx[j] <= PETSC_MAX_REAL) || a + L + 2 > DBL_MAX_EXP) {
      /* Inf, NaN or near overflow: a plain sum (not reproducible, but Inf and NaN propagate) */
      for (PetscInt i = 0; i < n; i++) sj[0] += Term(kind, x, yj, i);
      continue;
    }
    for (int k = 0; k < KHGPS_FOLDS; k++, a += L - 53) M[k] = ldexp(1.5, a + L);
    Deposit(kind, n, x, yj, M, sj);
  }
  PetscCall(MPIU_Allreduce(s, S, KHGPS_FOLDS * nsum, MPIU_REAL, MPIU_SUM, comm));
  for (PetscInt j = 0; j < nsum; j++) out[j] = S[KHGPS_FOLDS * j] + (S[KHGPS_FOLDS * j + 1] + S[KHGPS_FOLDS * j + 2]);
  PetscCall(PetscLogFlops((PetscLogDouble)nsum * n * (2 + 3 * KHGPS_FOLDS)));
  PetscCall(PetscFree3(mx, s, S));
  PetscFunctionReturn(0);
}

/* The sum over all ranks of t[0..n) (n local terms, N in all), reproducibly. */
PetscErrorCode KhgpsReproSum(MPI_Comm comm, PetscInt N, PetscInt n, const PetscReal *t, PetscReal *sum)
{
  PetscFunctionBeginUser;
  PetscCall(ReproSums(comm, N, n, 1, TERM_PLAIN, t, NULL, sum));
  PetscFunctionReturn(0);
}

static PetscErrorCode VecMDot_Repro(Vec x, PetscInt nv, const Vec y[], PetscScalar *val)
{
  const PetscScalar *xa, **ya;
  PetscInt           n, N;

  PetscFunctionBeginUser;
  PetscCall(VecGetLocalSize(x, &n));
  PetscCall(VecGetSize(x, &N));
  PetscCall(PetscMalloc1(nv, &ya));
  PetscCall(VecGetArrayRead(x, &xa));
  for (PetscInt j = 0; j < nv; j++) PetscCall(VecGetArrayRead(y[j], &ya[j]));
  PetscCall(ReproSums(PetscObjectComm((PetscObject)x), N, n, nv, TERM_PROD, xa, ya, val));
  for (PetscInt j = 0; j < nv; j++) PetscCall(VecRestoreArrayRead(y[j], &ya[j]));
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscCall(PetscFree(ya));
  PetscFunctionReturn(0);
}

static PetscErrorCode VecDot_Repro(Vec x, Vec y, PetscScalar *val)
{
  PetscFunctionBeginUser;
  PetscCall(VecMDot_Repro(x, 1, &y, val));
  PetscFunctionReturn(0);
}

static PetscErrorCode VecNorm_Repro(Vec x, NormType type, PetscReal *val)
{
  const PetscScalar *xa;
  PetscInt           n, N;
  MPI_Comm           comm = PetscObjectComm((PetscObject)x);

  PetscFunctionBeginUser;
  PetscCall(VecGetLocalSize(x, &n));
  PetscCall(VecGetSize(x, &N));
  PetscCall(VecGetArrayRead(x, &xa));
  if (type == NORM_INFINITY) { /* a maximum does not depend on the order */
    PetscReal mx = 0;
    for (PetscInt i = 0; i < n; i++) {
      const PetscReal a = PetscAbsReal(xa[i]);
      if (a > mx || PetscIsNanReal(a)) mx = a; /* a NaN stays */
    }
    PetscCall(MPIU_Allreduce(&mx, val, 1, MPIU_REAL, MPIU_MAX, comm));
  } else {
    if (type == NORM_1 || type == NORM_1_AND_2) PetscCall(ReproSums(comm, N, n, 1, TERM_ABS, xa, NULL, &val[0]));
    if (type == NORM_2 || type == NORM_FROBENIUS || type == NORM_1_AND_2) {
      PetscReal *v2 = type == NORM_1_AND_2 ? &val[1] : &val[0];
      PetscCall(ReproSums(comm, N, n, 1, TERM_SQUARE, xa, NULL, v2));
      *v2 = PetscSqrtReal(*v2);
    }
  }
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscFunctionReturn(0);
}

static PetscErrorCode VecDotNorm2_Repro(Vec s, Vec t, PetscScalar *dp, PetscScalar *nm)
{
  const Vec   y[2] = {s, t};
  PetscScalar v[2];

  PetscFunctionBeginUser;
  PetscCall(VecMDot_Repro(t, 2, y, v)); /* t_i s_i rounds as s_i t_i: one reduction for both */
  *dp = v[0];
  *nm = v[1];
  PetscFunctionReturn(0);
}

/* The split-phase forms (VecDotBegin/End, VecNormBegin/End: TAO's diagonal Broyden scaling uses
   them) sum one local number per rank with MPI_SUM at the End. Their "local" operations here do the
   whole reproducible reduction at the Begin (collective: every rank calls Begin in the same order)
   and hand the result to rank 0 and zero to the others, so that the End's sum, result + 0 + ... + 0,
   is the reproducible result exactly. */
static PetscErrorCode RootOnly(Vec x, PetscInt n, PetscScalar *val)
{
  PetscMPIInt rank;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PetscObjectComm((PetscObject)x), &rank));
  if (rank)
    for (PetscInt j = 0; j < n; j++) val[j] = 0;
  PetscFunctionReturn(0);
}

static PetscErrorCode VecMDotLocal_Repro(Vec x, PetscInt nv, const Vec y[], PetscScalar *val)
{
  PetscFunctionBeginUser;
  PetscCall(VecMDot_Repro(x, nv, y, val));
  PetscCall(RootOnly(x, nv, val));
  PetscFunctionReturn(0);
}

static PetscErrorCode VecDotLocal_Repro(Vec x, Vec y, PetscScalar *val)
{
  PetscFunctionBeginUser;
  PetscCall(VecMDotLocal_Repro(x, 1, &y, val));
  PetscFunctionReturn(0);
}

static PetscErrorCode VecNormLocal_Repro(Vec x, NormType type, PetscReal *val)
{
  PetscFunctionBeginUser;
  PetscCall(VecNorm_Repro(x, type, val));
  if (type != NORM_INFINITY) PetscCall(RootOnly(x, type == NORM_1_AND_2 ? 2 : 1, val)); /* the End takes the maximum of the maxima */
  PetscFunctionReturn(0);
}

/* y += a x and its relatives in plain loops: PETSc hands y += a x to BLAS daxpy, whose vector
   kernel (OpenBLAS) rounds a x + y once (fused multiply-add) and whose remainder loop rounds twice,
   so that an entry's value depends on where the rank's part of the vector begins. */
static PetscErrorCode VecAXPBY_Repro(Vec y, PetscScalar a, PetscScalar b, Vec x)
{
  const PetscScalar *xa;
  PetscScalar       *ya;
  PetscInt           n;

  PetscFunctionBeginUser;
  PetscCall(VecGetLocalSize(y, &n));
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(VecGetArray(y, &ya));
  if (b == 0) /* y is not read (it may hold anything) */
    for (PetscInt i = 0; i < n; i++) ya[i] = a * xa[i];
  else if (a == 0)
    for (PetscInt i = 0; i < n; i++) ya[i] = b * ya[i];
  else if (b == 1)
    for (PetscInt i = 0; i < n; i++) ya[i] += a * xa[i];
  else if (a == 1)
    for (PetscInt i = 0; i < n; i++) ya[i] = xa[i] + b * ya[i];
  else
    for (PetscInt i = 0; i < n; i++) ya[i] = a * xa[i] + b * ya[i];
  PetscCall(VecRestoreArray(y, &ya));
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscCall(PetscLogFlops(3.0 * n));
  PetscFunctionReturn(0);
}

static PetscErrorCode VecAXPY_Repro(Vec y, PetscScalar a, Vec x)
{
  PetscFunctionBeginUser;
  if (a != 0) PetscCall(VecAXPBY_Repro(y, a, 1.0, x));
  PetscFunctionReturn(0);
}

static PetscErrorCode VecAYPX_Repro(Vec y, PetscScalar b, Vec x)
{
  PetscFunctionBeginUser;
  PetscCall(VecAXPBY_Repro(y, 1.0, b, x));
  PetscFunctionReturn(0);
}

/* VecDuplicate of a sequential vector does not copy its operations (an MPI vector's does): the
   duplicate is made by the type's own function, then given the reproducible ones. */
static PetscErrorCode (*DuplicateSeq)(Vec, Vec *), (*DuplicateMPI)(Vec, Vec *);

static PetscErrorCode VecDuplicate_Repro(Vec v, Vec *w)
{
  PetscBool seq;

  PetscFunctionBeginUser;
  PetscCall(PetscObjectTypeCompare((PetscObject)v, VECSEQ, &seq));
  PetscCall((seq ? DuplicateSeq : DuplicateMPI)(v, w));
  PetscCall(KhgpsVecSetReproducible(*w));
  PetscFunctionReturn(0);
}

/* Dot products and norms of v, and of every vector later duplicated from it, by reproducible sums,
   and y += a x without fused multiply-adds
   (standard vectors, VECSEQ and VECMPI; others keep PETSc's operations), the split-phase forms too. */
PetscErrorCode KhgpsVecSetReproducible(Vec v)
{
  PetscBool seq, mpi;

  PetscFunctionBeginUser;
  PetscCall(PetscObjectTypeCompare((PetscObject)v, VECSEQ, &seq));
  PetscCall(PetscObjectTypeCompare((PetscObject)v, VECMPI, &mpi));
  if (!seq && !mpi) PetscFunctionReturn(0);
  if (v->ops->duplicate != VecDuplicate_Repro) {
    if (seq) DuplicateSeq = v->ops->duplicate;
    else DuplicateMPI = v->ops->duplicate;
    v->ops->duplicate = VecDuplicate_Repro;
  }
  v->ops->dot         = VecDot_Repro;
  v->ops->tdot        = VecDot_Repro;
  v->ops->mdot        = VecMDot_Repro;
  v->ops->mtdot       = VecMDot_Repro;
  v->ops->norm        = VecNorm_Repro;
  v->ops->dotnorm2    = VecDotNorm2_Repro;
  v->ops->axpy        = VecAXPY_Repro;
  v->ops->aypx        = VecAYPX_Repro;
  v->ops->axpby       = VecAXPBY_Repro;
  v->ops->dot_local   = VecDotLocal_Repro;
  v->ops->tdot_local  = VecDotLocal_Repro;
  v->ops->mdot_local  = VecMDotLocal_Repro;
  v->ops->mtdot_local = VecMDotLocal_Repro;
  v->ops->norm_local  = VecNormLocal_Repro;
  PetscFunctionReturn(0);
}

/* ------------------------------------------------------------------------------------------- */

struct _n_KhgpsOrdered {
  Mat             A, Ad, Ao; /* the matrix, its diagonal and off-diagonal blocks (Ao NULL on one rank) */
  const PetscInt *ia, *ja, *ib, *jb;
  PetscInt        nloc, nghost, rs;
  PetscInt       *split; /* per row: the first off-diagonal entry right of the diagonal block */
  PetscSF         sf;    /* owned entries -> ghost entries */
  PetscScalar    *ghost;
};

/* The ordered product of an AIJ matrix (SEQAIJ or MPIAIJ). Its nonzero structure must not change
   afterwards (values may: they are read at every product). */
PetscErrorCode KhgpsOrderedCreate(Mat A, KhgpsOrdered *out)
{
  KhgpsOrdered    o;
  PetscBool       ismpi, isseq, done;
  PetscInt        n, re;
  const PetscInt *colmap = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&o));
  o->A = A;
  PetscCall(PetscObjectTypeCompare((PetscObject)A, MATMPIAIJ, &ismpi));
  PetscCall(PetscObjectTypeCompare((PetscObject)A, MATSEQAIJ, &isseq));
  PetscCheck(ismpi || isseq, PetscObjectComm((PetscObject)A), PETSC_ERR_SUP, "the ordered product needs an aij matrix (-khgps_couplings_mat_type aij)");
  PetscCall(MatGetLocalSize(A, &o->nloc, NULL));
  PetscCall(MatGetOwnershipRange(A, &o->rs, &re));
  if (ismpi) {
    PetscLayout rmap;
    PetscCall(MatMPIAIJGetSeqAIJ(A, &o->Ad, &o->Ao, &colmap));
    PetscCall(MatGetSize(o->Ao, NULL, &o->nghost));
    PetscCall(MatGetLayouts(A, &rmap, NULL));
    PetscCall(PetscSFCreate(PetscObjectComm((PetscObject)A), &o->sf));
    PetscCall(PetscSFSetFromOptions(o->sf)); /* -sf_type neighbor applies here too */
    PetscCall(PetscSFSetGraphLayout(o->sf, rmap, o->nghost, NULL, PETSC_COPY_VALUES, colmap));
    PetscCall(PetscSFSetUp(o->sf));
    PetscCall(MatGetRowIJ(o->Ao, 0, PETSC_FALSE, PETSC_FALSE, &n, &o->ib, &o->jb, &done));
    PetscCheck(done, PETSC_COMM_SELF, PETSC_ERR_SUP, "no CSR access to the off-diagonal block");
    PetscCall(PetscMalloc2(o->nghost, &o->ghost, o->nloc, &o->split));
    for (PetscInt i = 0; i < o->nloc; i++) { /* the block's columns are sorted by global index */
      PetscInt k = o->ib[i];
      while (k < o->ib[i + 1] && colmap[o->jb[k]] < o->rs) k++;
      o->split[i] = k;
    }
  } else o->Ad = A;
  PetscCall(MatGetRowIJ(o->Ad, 0, PETSC_FALSE, PETSC_FALSE, &n, &o->ia, &o->ja, &done));
  PetscCheck(done, PETSC_COMM_SELF, PETSC_ERR_SUP, "no CSR access to the diagonal block");
  *out = o;
  PetscFunctionReturn(0);
}

PetscErrorCode KhgpsOrderedDestroy(KhgpsOrdered *o)
{
  PetscBool done;
  PetscInt  n;

  PetscFunctionBeginUser;
  if (!*o) PetscFunctionReturn(0);
  PetscCall(MatRestoreRowIJ((*o)->Ad, 0, PETSC_FALSE, PETSC_FALSE, &n, &(*o)->ia, &(*o)->ja, &done));
  if ((*o)->Ao) {
    PetscCall(MatRestoreRowIJ((*o)->Ao, 0, PETSC_FALSE, PETSC_FALSE, &n, &(*o)->ib, &(*o)->jb, &done));
    PetscCall(PetscSFDestroy(&(*o)->sf));
    PetscCall(PetscFree2((*o)->ghost, (*o)->split));
  }
  PetscCall(PetscFree(*o));
  PetscFunctionReturn(0);
}

/* y = A x, each row's products added in increasing global column (the off-diagonal block's
   columns left of the diagonal block, the diagonal block's, then those right of it). -log_view:
   KhgpsOrderedMult. */
PetscErrorCode KhgpsOrderedMult(KhgpsOrdered o, Vec X, Vec Y)
{
  const PetscScalar *x, *aa, *ab = NULL, *g = o->ghost;
  const PetscInt    *ja = o->ja, *jb = o->jb;
  PetscScalar       *y;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KhgpsLog.ordered_mult, 0, 0, 0, 0));
  PetscCall(VecGetArrayRead(X, &x));
  if (o->Ao) {
    PetscCall(PetscSFBcastBegin(o->sf, MPIU_SCALAR, x, o->ghost, MPI_REPLACE));
    PetscCall(PetscSFBcastEnd(o->sf, MPIU_SCALAR, x, o->ghost, MPI_REPLACE));
    PetscCall(MatSeqAIJGetArrayRead(o->Ao, &ab));
  }
  PetscCall(MatSeqAIJGetArrayRead(o->Ad, &aa));
  PetscCall(VecGetArrayWrite(Y, &y));
  for (PetscInt i = 0; i < o->nloc; i++) {
    PetscScalar sum = 0;
    if (ab)
      for (PetscInt k = o->ib[i]; k < o->split[i]; k++) sum += ab[k] * g[jb[k]];
    for (PetscInt k = o->ia[i]; k < o->ia[i + 1]; k++) sum += aa[k] * x[ja[k]];
    if (ab)
      for (PetscInt k = o->split[i]; k < o->ib[i + 1]; k++) sum += ab[k] * g[jb[k]];
    y[i] = sum;
  }
  PetscCall(VecRestoreArrayWrite(Y, &y));
  PetscCall(MatSeqAIJRestoreArrayRead(o->Ad, &aa));
  if (ab) PetscCall(MatSeqAIJRestoreArrayRead(o->Ao, &ab));
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscCall(PetscLogFlops(2.0 * (o->ia[o->nloc] + (o->Ao ? o->ib[o->nloc] : 0))));
  PetscCall(PetscLogEventEnd(KhgpsLog.ordered_mult, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

static PetscErrorCode MatMult_Ordered(Mat S, Vec X, Vec Y)
{
  KhgpsOrdered o;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(S, &o));
  PetscCall(KhgpsOrderedMult(o, X, Y));
  PetscFunctionReturn(0);
}

static PetscErrorCode MatGetDiagonal_Ordered(Mat S, Vec d)
{
  KhgpsOrdered o;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(S, &o));
  PetscCall(MatGetDiagonal(o->A, d));
  PetscFunctionReturn(0);
}

/* Vectors with the reproducible reductions: a Krylov method's work vectors come from here. */
static PetscErrorCode MatCreateVecs_Ordered(Mat S, Vec *r, Vec *l)
{
  KhgpsOrdered o;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(S, &o));
  PetscCall(MatCreateVecs(o->A, r, l));
  if (r && *r) PetscCall(KhgpsVecSetReproducible(*r));
  if (l && *l) PetscCall(KhgpsVecSetReproducible(*l));
  PetscFunctionReturn(0);
}

static PetscErrorCode MatDestroy_Ordered(Mat S)
{
  KhgpsOrdered o;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(S, &o));
  PetscCall(KhgpsOrderedDestroy(&o));
  PetscFunctionReturn(0);
}

/* A shell whose product is the ordered product of A (A must outlive it), e.g. a Krylov method's
   operator with A itself as the preconditioning matrix; its vectors (the Krylov method's work
   vectors) have the reproducible reductions. */
PetscErrorCode KhgpsOrderedShell(Mat A, Mat *S)
{
  KhgpsOrdered o;
  PetscInt     m, n, M, N;

  PetscFunctionBeginUser;
  PetscCall(KhgpsOrderedCreate(A, &o));
  PetscCall(MatGetLocalSize(A, &m, &n));
  PetscCall(MatGetSize(A, &M, &N));
  PetscCall(MatCreateShell(PetscObjectComm((PetscObject)A), m, n, M, N, o, S));
  PetscCall(MatShellSetOperation(*S, MATOP_MULT, (void (*)(void))MatMult_Ordered));
  PetscCall(MatShellSetOperation(*S, MATOP_GET_DIAGONAL, (void (*)(void))MatGetDiagonal_Ordered));
  PetscCall(MatShellSetOperation(*S, MATOP_DESTROY, (void (*)(void))MatDestroy_Ordered));
  PetscCall(MatShellSetOperation(*S, MATOP_CREATE_VECS, (void (*)(void))MatCreateVecs_Ordered));
  PetscCall(MatSetOption(*S, MAT_SYMMETRIC, PETSC_TRUE));
  PetscFunctionReturn(0);
}
