/* model.c: one realization of the KHGPS model (kappa and J drawn), its energy, gradient and Hessian. */
#if defined(_OPENMP)
  #include <omp.h>
#endif
#include "khgps_options.h"
#include "khgps_rng.h"
#include "khgps_repro.h"
#include "khgps_model.h"
#include "khgps_platform.h"
#include "kernels/draw.h"

enum {
  STREAM_KAPPA = KHGPS_STREAM_KAPPA
};

/* The packed storage's couplings: J_ij, i < j, as floats in column j's first 4j bytes (the same
   values and pairing of Philox calls as KhgpsDrawDense (kernels/draw.c)), columns shared out among OpenMP threads. */
static void FillPackedCouplings(const KhgpsParams *p, PetscScalar *B, PetscInt ldf)
{
  const PetscInt  N = p->N;
  const PetscReal s = p->J / PetscSqrtReal((PetscReal)N);

#if defined(_OPENMP)
  #pragma omp parallel for schedule(dynamic, 8)
#endif
  for (PetscInt c = 0; c < (N + 1) / 2; c++) {
    const PetscInt j = 2 * c, j1 = j + 1;
    float         *col = (float *)B + (size_t)j * ldf, *col1 = j1 < N ? (float *)B + (size_t)j1 * ldf : NULL;
    PetscReal      z[2];
    KhgpsPopulate(col, (size_t)j * sizeof(float));
    if (col1) KhgpsPopulate(col1, (size_t)j1 * sizeof(float));
    KhgpsDrawColumnPair(p->seed, p->realization, s, c, 0, j, col, col1); /* rows i < j: counters (i, c) */
    if (col1) {
      KhgpsNormal2(p->seed, p->realization, j, c, z);
      col1[j] = (float)(s * z[1]);
    }
  }
}

/* J as a MATSCALAPACK matrix, with no row-split copy and no conversion: each rank draws its rows
   [rs, re) in chunks of about 2^20 entries and inserts them; entries that live on other ranks
   travel at a flush after every chunk, so the stash never holds more than one chunk. Each rank
   then holds 8N^2/np bytes of J, which later becomes the Hessian in place (KhgpsFormHessian). */
static PetscErrorCode ScaLAPACKCouplings(MPI_Comm comm, const KhgpsParams *p, PetscInt nloc, Mat *J)
{
  const PetscInt N = p->N, chunk = PetscMax(1, (1 << 20) / N);
  PetscInt       rs, re, nch, nchmax, *rows, *cols;
  PetscScalar   *a;

  PetscFunctionBeginUser;
  PetscCall(MatCreate(comm, J));
  PetscCall(MatSetSizes(*J, nloc, nloc, N, N));
  PetscCall(MatSetType(*J, MATSCALAPACK));
  PetscCall(MatSetUp(*J));
  PetscCall(MatSetOption(*J, MAT_ROW_ORIENTED, PETSC_FALSE)); /* KhgpsDrawDense writes column-major */
  PetscCall(MatGetOwnershipRange(*J, &rs, &re));
  nch = (re - rs + chunk - 1) / chunk;
  PetscCall(MPIU_Allreduce(&nch, &nchmax, 1, MPIU_INT, MPI_MAX, comm));
  PetscCall(PetscMalloc3((size_t)chunk * N, &a, chunk, &rows, N, &cols));
  for (PetscInt j = 0; j < N; j++) cols[j] = j;
  for (PetscInt c = 0; c < nchmax; c++) { /* every rank flushes nchmax times (collective) */
    PetscInt r0 = PetscMin(rs + c * chunk, re), r1 = PetscMin(r0 + chunk, re);
    if (r1 > r0) {
      PetscCall(KhgpsDrawDense(p->seed, p->realization, N, p->J / PetscSqrtReal((PetscReal)N), r0, r1, a, r1 - r0));
      for (PetscInt i = r0; i < r1; i++) rows[i - r0] = i;
      PetscCall(MatSetValues(*J, r1 - r0, rows, N, cols, a, INSERT_VALUES));
    }
    PetscCall(MatAssemblyBegin(*J, MAT_FLUSH_ASSEMBLY));
    PetscCall(MatAssemblyEnd(*J, MAT_FLUSH_ASSEMBLY));
  }
  PetscCall(MatAssemblyBegin(*J, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(*J, MAT_FINAL_ASSEMBLY));
  PetscCall(PetscFree3(a, rows, cols));
  PetscFunctionReturn(0);
}

/* Draw kappa and J for realization p->realization in the storage p->solver.htype (which the model
   keeps: m->htype); every rank draws only its own rows. With packed (one rank) J lives in the
   upper triangle of the buffer that later holds the Hessian. */
PetscErrorCode KhgpsModelCreate(MPI_Comm comm, const KhgpsParams *p, KhgpsModel *m)
{
  const MatType htype = p->solver.htype;
  PetscInt      rs, re, lda, nloc = PETSC_DECIDE, N = p->N;
  PetscScalar  *a, *k;
  PetscBool     packed, scalapack;

  PetscFunctionBeginUser;
  PetscCall(PetscStrcmp(htype, KHGPS_PACKED, &packed));
  PetscCall(PetscStrcmp(htype, MATSCALAPACK, &scalapack));
  m->N     = p->N;
  m->htype = htype;
  m->A     = p->A;
  m->h     = p->h;
  /* the row split ScaLAPACK uses (equal blocks, the remainder last), so that vectors of J and of a
     MATSCALAPACK Hessian share one layout and the conversion takes ScaLAPACK's fast path */
  PetscCall(PetscSplitOwnershipEqual(comm, &nloc, &N));
  if (p->sparse) {
    PetscCall(KhgpsSparseCouplings(comm, p, nloc, &m->J));
    PetscCall(MatGetOwnershipRange(m->J, &rs, &re));
  } else if (packed) { /* one N x N buffer: J in the strict upper triangle, later the Hessian and its factor in the lower */
    m->packed.single      = p->solver.factor_single;
    m->packed.single_fail = p->solver.factor_single_fail;
    m->packed.ldf         = m->packed.single ? p->N : 2 * p->N;
    /* single: N x N floats, J in the strict upper triangle, the float32 factor in the lower */
    PetscCall(PetscMalloc1(m->packed.single ? ((size_t)p->N * p->N + 1) / 2 : (size_t)p->N * p->N, &m->packed.B));
    m->sw.lapack_solve = p->solver.packed_lapack_solve;
    m->sw.trsolve      = (PetscBool)(p->solver.packed_trsolve && !m->sw.lapack_solve);
#if defined(_OPENMP)
    if (KhgpsBLASThreadsLibrary() > omp_get_max_threads()) m->sw.trsolve = PETSC_FALSE; /* more BLAS threads than OpenMP ones: potrs uses them */
#endif
    FillPackedCouplings(p, m->packed.B, m->packed.ldf);
    PetscCall(KhgpsPackedCreateJ(comm, m));
    rs = 0;
    re = p->N;
  } else if (scalapack) { /* drawn straight into ScaLAPACK's 2D block-cyclic layout (below) */
    PetscCall(ScaLAPACKCouplings(comm, p, nloc, &m->J));
    PetscCall(MatGetOwnershipRange(m->J, &rs, &re));
  } else {
    PetscCall(MatCreateDense(comm, nloc, nloc, p->N, p->N, NULL, &m->J));
    PetscCall(MatGetOwnershipRange(m->J, &rs, &re));
    PetscCall(MatDenseGetLDA(m->J, &lda));
    PetscCall(MatDenseGetArrayWrite(m->J, &a));
    PetscCall(KhgpsDrawDense(p->seed, p->realization, p->N, p->J / PetscSqrtReal((PetscReal)p->N), rs, re, a, lda));
    PetscCall(MatDenseRestoreArrayWrite(m->J, &a));
    PetscCall(MatAssemblyBegin(m->J, MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(m->J, MAT_FINAL_ASSEMBLY));
  }
  PetscCall(PetscObjectSetName((PetscObject)m->J, "J"));
  PetscCall(MatSetOption(m->J, MAT_SYMMETRIC, PETSC_TRUE));
  if (!scalapack) PetscCall(MatSetOption(m->J, MAT_SYMMETRY_ETERNAL, PETSC_TRUE)); /* MATSCALAPACK knows only MAT_SYMMETRIC */
  PetscCall(MatViewFromOptions(m->J, NULL, "-khgps_couplings_view"));

  PetscCall(MatCreateVecs(m->J, &m->kappa, &m->Jx));
  PetscCall(PetscObjectSetName((PetscObject)m->kappa, "kappa"));
  /* x, the gradient and TAO's work vectors are duplicates of kappa: their dot products and norms
     are reproducible sums, and the sparse J x adds in global column order (repro.c), so that
     TAO takes the same path, bit for bit, on any number of ranks */
  PetscCall(KhgpsVecSetReproducible(m->kappa));
  if (p->sparse) PetscCall(KhgpsOrderedCreate(m->J, &m->Jord));
  PetscCall(PetscMalloc1(re - rs, &m->eterm));
  PetscCall(VecGetArrayWrite(m->kappa, &k));
  for (PetscInt i = rs; i < re; i++) k[i - rs] = p->kappa_min + (p->kappa0 - p->kappa_min) * KhgpsUniform(p->seed, p->realization, STREAM_KAPPA, i);
  PetscCall(VecRestoreArrayWrite(m->kappa, &k));
  PetscCall(PetscLogFlops(2.0 * (re - rs) * (PetscLogDouble)p->N));
  PetscFunctionReturn(0);
}

PetscErrorCode KhgpsModelDestroy(KhgpsModel *m)
{
  PetscFunctionBeginUser;
  PetscCall(KhgpsOrderedDestroy(&m->Jord));
  PetscCall(PetscFree(m->eterm));
  PetscCall(MatDestroy(&m->J));
  PetscCall(VecDestroy(&m->kappa));
  PetscCall(VecDestroy(&m->Jx));
  PetscCall(VecDestroy(&m->packed.hdiag));
  PetscCall(PetscFree(m->packed.B));
  PetscCall(PetscFree(m->packed.ipiv));
  PetscFunctionReturn(0);
}

/* H(x) = 1/2 x.Jx + sum_i [kappa_i x_i^2/2 + A x_i^4/24 - h x_i] and its gradient
   g = Jx + kappa x + A x^3/6 - h, with one MatMult (TAO's signature; ctx is the KhgpsModel). */
PetscErrorCode KhgpsFormFunctionGradient(Tao tao, Vec X, PetscReal *f, Vec G, void *ctx)
{
  KhgpsModel        *m = (KhgpsModel *)ctx;
  const PetscScalar *x, *jx, *k;
  PetscScalar       *g;
  PetscInt           n;
  const PetscReal    A6 = m->A / 6.0, A24 = m->A / 24.0;

  PetscFunctionBeginUser;
  if (m->Jord) PetscCall(KhgpsOrderedMult(m->Jord, X, m->Jx));
  else PetscCall(MatMult(m->J, X, m->Jx));
  PetscCall(VecGetLocalSize(X, &n));
  PetscCall(VecGetArrayRead(X, &x));
  PetscCall(VecGetArrayRead(m->Jx, &jx));
  PetscCall(VecGetArrayRead(m->kappa, &k));
  PetscCall(VecGetArrayWrite(G, &g));
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal xi = x[i], x2 = xi * xi;
    m->eterm[i] = xi * (0.5 * jx[i] + 0.5 * k[i] * xi + A24 * x2 * xi - m->h);
    g[i]        = jx[i] + k[i] * xi + A6 * x2 * xi - m->h;
  }
  PetscCall(VecRestoreArrayWrite(G, &g));
  PetscCall(VecRestoreArrayRead(m->kappa, &k));
  PetscCall(VecRestoreArrayRead(m->Jx, &jx));
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscCall(KhgpsReproSum(PetscObjectComm((PetscObject)X), m->N, n, m->eterm, f));
  PetscCall(PetscLogFlops(17.0 * n));
  PetscFunctionReturn(0);
}

/* d_i = kappa_i + A x_i^2 / 2: the diagonal of the Hessian M = J + diag(d). */
PetscErrorCode KhgpsFormHessianDiagonal(KhgpsModel *m, Vec X, Vec d)
{
  PetscFunctionBeginUser;
  PetscCall(VecPointwiseMult(d, X, X));
  PetscCall(VecAYPX(d, 0.5 * m->A, m->kappa));
  PetscFunctionReturn(0);
}

/* J x = M x - d x, once J has been converted into the ScaLAPACK Hessian M. */
static PetscErrorCode MatMult_JFromHessian(Mat A, Vec X, Vec Y)
{
  KhgpsModel *m;
  Vec         w;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(A, &m));
  PetscCall(MatMult(m->Hj, X, Y));
  PetscCall(VecDuplicate(X, &w));
  PetscCall(VecPointwiseMult(w, m->packed.hdiag, X));
  PetscCall(VecAXPY(Y, -1.0, w));
  PetscCall(VecDestroy(&w));
  PetscFunctionReturn(0);
}

/* The Hessian M = J + diag(kappa + A x^2/2) as a Mat of the model's storage (dense: a copy of J;
   scalapack: J converted to the 2D block-cyclic layout; packed: a shell on the model's buffer,
   factored in place by its PC). If *H exists only its diagonal is reset. */
PetscErrorCode KhgpsFormHessian(KhgpsModel *m, Vec X, Mat *H)
{
  PetscBool isscalapack;

  PetscFunctionBeginUser;
  if (m->packed.B) {
    if (!*H) PetscCall(KhgpsPackedCreateHessian(m, H));
    PetscCall(KhgpsFormHessianDiagonal(m, X, m->packed.hdiag));
    PetscCall(MatAssemblyBegin(*H, MAT_FINAL_ASSEMBLY)); /* a new operator state: the PC refactors */
    PetscCall(MatAssemblyEnd(*H, MAT_FINAL_ASSEMBLY));
    PetscFunctionReturn(0);
  }
  if (!*H) {
    PetscCall(PetscStrcmp(m->htype, MATSCALAPACK, &isscalapack));
    if (!m->packed.hdiag) PetscCall(VecDuplicate(m->kappa, &m->packed.hdiag));
    if (isscalapack) {
      Mat       Jh;
      PetscInt  ml, nl;
      PetscBool jscalapack;
      PetscCall(MatGetLocalSize(m->J, &ml, &nl));
      PetscCall(PetscObjectTypeCompare((PetscObject)m->J, MATSCALAPACK, &jscalapack));
      if (jscalapack && m->sw.release_J) { /* J drawn in ScaLAPACK's layout becomes the Hessian in place */
        *H = m->J;
        PetscCall(PetscObjectReference((PetscObject)*H));
      } else {
        PetscCall(MatConvert(m->J, MATSCALAPACK, MAT_INITIAL_MATRIX, H));
        PetscCall(MatSetOption(*H, MAT_NO_OFF_PROC_ENTRIES, PETSC_FALSE)); /* the diagonal lives block-cyclically */
      }
      if (m->sw.release_J) { /* J is not kept twice: from now on J x = H x - d x */
        PetscCall(MatCreateShell(PetscObjectComm((PetscObject)m->J), ml, nl, m->N, m->N, m, &Jh));
        PetscCall(MatShellSetOperation(Jh, MATOP_MULT, (void (*)(void))MatMult_JFromHessian));
        PetscCall(MatDestroy(&m->J));
        m->J  = Jh;
        m->Hj = *H;
      }
    } else PetscCall(MatDuplicate(m->J, MAT_COPY_VALUES, H));
    PetscCall(PetscObjectSetName((PetscObject)*H, "Hessian"));
  }
  PetscCall(KhgpsFormHessianDiagonal(m, X, m->packed.hdiag));
  PetscCall(MatDiagonalSet(*H, m->packed.hdiag, INSERT_VALUES));
  PetscFunctionReturn(0);
}
