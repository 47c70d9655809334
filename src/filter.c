/* filter.c: the lowest eigenpairs of a sparse Hessian by Krylov-Schur on a Chebyshev polynomial
   of M (-khgps_filter_degree m > 0), the "polynomial filtered Lanczos" idea (Fang, Saad 2012).

   P = T_m((c - M)/e) with c = (a + b)/2, e = (b - a)/2 maps [a, b] (the unwanted bulk, b an upper
   bound of the spectrum) into [-1, 1] and every eigenvalue lambda < a to cosh(m acosh((c - lambda)/e)) > 1,
   monotonically: the lowest eigenvalues of M are the largest of P, and they are well separated from
   the bulk. The EPS (-eps_*) then needs far fewer outer steps than on M itself, and every outer
   step, with its orthogonalization against the whole basis (the cost of Krylov-Schur on M at
   large N), buys m products with M. The pairs are read back through M: lambda = v^T M v and the
   residual ||M v - lambda v|| / |lambda| of the unit Ritz vector v, so the file holds M's pairs, not
   P's. The cut a must lie above the nev-th eigenvalue; a pair found above it (theta <= 1) is not
   known to be among the lowest and is dropped, so a cut given too low yields fewer than nev pairs. */
#include "khgps_options.h"
#include "khgps_rng.h"
#include "khgps_log.h"
#include "khgps_result.h"
#include "khgps_solvers.h"
#include "dense.h"

typedef struct {
  Mat       M;
  PetscInt  deg;
  PetscReal c, e; /* centre and half width of the damped interval [a, b] */
  Vec       t0, t1, t2;
} FilterCtx;

enum {
  STREAM_BOUNDS = KHGPS_STREAM_BOUNDS
}; /* the Lanczos start of the spectrum bounds */
enum {
  BOUNDS_LANCZOS = 40
}; /* Lanczos steps that bound the spectrum */

/* y = T_m((c - M)/e) x by the three-term recurrence: y_1 = (c x - M x)/e,
   y_{k+1} = 2 (c y_k - M y_k)/e - y_{k-1}. */
static PetscErrorCode FilterMult(Mat P, Vec x, Vec y)
{
  FilterCtx *f;
  Vec        prev, cur, tmp;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(P, &f));
  PetscCall(PetscLogEventBegin(KhgpsLog.filter_apply, 0, 0, 0, 0));
  prev = f->t0;
  cur  = f->t1;
  tmp  = f->t2;
  PetscCall(VecCopy(x, prev));
  PetscCall(MatMult(f->M, x, tmp));
  PetscCall(VecAXPBYPCZ(cur, f->c / f->e, -1.0 / f->e, 0.0, x, tmp)); /* cur = (c x - M x)/e */
  for (PetscInt k = 1; k < f->deg; k++) {
    Vec t;
    PetscCall(MatMult(f->M, cur, tmp));
    PetscCall(VecAXPBYPCZ(prev, 2.0 * f->c / f->e, -2.0 / f->e, -1.0, cur, tmp)); /* prev <- y_{k+1} */
    t    = prev;
    prev = cur;
    cur  = t;
  }
  PetscCall(VecCopy(cur, y));
  PetscCall(PetscLogEventEnd(KhgpsLog.filter_apply, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

static int ComparePair(const void *x, const void *y)
{
  const PetscReal *a = (const PetscReal *)x, *b = (const PetscReal *)y;
  if (a[0] != b[0]) return (a[0] > b[0]) - (a[0] < b[0]);
  return (a[1] > b[1]) - (a[1] < b[1]);
}

static int CompareIndex(const void *x, const void *y)
{
  PetscInt a = *(const PetscInt *)x, b = *(const PetscInt *)y;
  return (a > b) - (a < b);
}

/* Every rank's n items of type t (count in units of t) gathered on every rank, in rank order:
   *all (freed by the caller, PetscFree) holds *tot items. */
static PetscErrorCode AllgatherList(MPI_Comm comm, const void *mine, PetscInt n, MPI_Datatype t, size_t sz, void **all, PetscInt *tot)
{
  PetscMPIInt size, *cnt, *disp, m = (PetscMPIInt)n;
  PetscInt    k = 0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMalloc2(size, &cnt, size, &disp));
  PetscCallMPI(MPI_Allgather(&m, 1, MPI_INT, cnt, 1, MPI_INT, comm));
  for (PetscMPIInt r = 0; r < size; r++) {
    disp[r] = (PetscMPIInt)k;
    k += cnt[r];
  }
  PetscCall(PetscMalloc(sz * (size_t)PetscMax(k, 1), all));
  PetscCallMPI(MPI_Allgatherv(mine, m, t, *all, cnt, disp, t, comm));
  *tot = k;
  PetscCall(PetscFree2(cnt, disp));
  PetscFunctionReturn(0);
}

/* Gather the local entries (rows of S owned here, columns in S) of the principal submatrix
   H_SS into a dense ns x ns matrix A on every rank (S sorted, global indices). */
static PetscErrorCode GatherSubmatrix(Mat H, const PetscInt *S, PetscInt ns, PetscScalar *A)
{
  MPI_Comm   comm = PetscObjectComm((PetscObject)H);
  PetscInt   rs, re, nt = 0, cap = 0, tot = 0;
  PetscReal *loc = NULL, *all;

  PetscFunctionBeginUser;
  PetscCall(MatGetOwnershipRange(H, &rs, &re));
  for (PetscInt q = 0; q < ns; q++) {
    PetscInt           nc;
    const PetscInt    *cols;
    const PetscScalar *vals;
    if (S[q] < rs || S[q] >= re) continue;
    PetscCall(MatGetRow(H, S[q], &nc, &cols, &vals));
    if (nt + nc > cap) {
      PetscReal *t;
      cap = 2 * (nt + nc);
      PetscCall(PetscMalloc1(3 * cap, &t));
      if (loc) PetscCall(PetscArraycpy(t, loc, 3 * nt));
      PetscCall(PetscFree(loc));
      loc = t;
    }
    for (PetscInt c = 0; c < nc; c++) {
      const PetscInt *hit = (const PetscInt *)bsearch(&cols[c], S, (size_t)ns, sizeof(PetscInt), CompareIndex);
      if (!hit) continue;
      loc[3 * nt]     = (PetscReal)q;
      loc[3 * nt + 1] = (PetscReal)(hit - S);
      loc[3 * nt + 2] = PetscRealPart(vals[c]);
      nt++;
    }
    PetscCall(MatRestoreRow(H, S[q], &nc, &cols, &vals));
  }
  PetscCall(AllgatherList(comm, loc, 3 * nt, MPIU_REAL, sizeof(PetscReal), (void **)&all, &tot));
  PetscCall(PetscArrayzero(A, (size_t)ns * ns));
  for (PetscInt t = 0; t < tot / 3; t++) A[(PetscInt)all[3 * t] + (size_t)ns * (PetscInt)all[3 * t + 1]] = all[3 * t + 2];
  PetscCall(PetscFree(loc));
  PetscCall(PetscFree(all));
  PetscFunctionReturn(0);
}

/* Allgather a list of global indices (n local ones) into a sorted list without repeats. */
static PetscErrorCode UnionIndices(MPI_Comm comm, const PetscInt *mine, PetscInt n, PetscInt **out, PetscInt *nout)
{
  PetscInt *all, tot, k = 0;

  PetscFunctionBeginUser;
  PetscCall(AllgatherList(comm, mine, n, MPIU_INT, sizeof(PetscInt), (void **)&all, &tot));
  qsort(all, (size_t)tot, sizeof(PetscInt), CompareIndex);
  for (PetscInt i = 0; i < tot; i++)
    if (!k || all[i] != all[k - 1]) all[k++] = all[i];
  *out  = all;
  *nout = k;
  PetscFunctionReturn(0);
}

/* A rigorous upper bound of the nev-th lowest eigenvalue of H from a principal submatrix: by
   Cauchy interlacing lambda_k(H) <= lambda_k(H_SS) for every set S of at least k rows. S0 is the
   nev rows with the smallest diagonal (ties by index, so the same on every rank count); S is S0
   with all its neighbours, whose couplings lower the soft sites' modes as in H. H_SS is gathered
   on every rank and its nev-th eigenvalue computed by LAPACK (syev, values only), identically
   everywhere. If S has more than 4000 rows (large connectivity), the bound is Gershgorin's for
   H_{S0 S0}: max_{i in S0} (H_ii + sum_{j in S0} |H_ij|). */
static PetscErrorCode InterlacingCut(Mat H, PetscInt nev, PetscReal *cut, PetscInt *nsub)
{
  MPI_Comm           comm = PetscObjectComm((PetscObject)H);
  PetscInt           rs, re, nloc, k, ns0, ns = 0, nn = 0, *S0, *S = NULL, *nb = NULL;
  PetscReal         *loc;
  Vec                d;
  const PetscScalar *da;

  PetscFunctionBeginUser;
  PetscCall(MatGetOwnershipRange(H, &rs, &re));
  nloc = re - rs;
  PetscCall(MatCreateVecs(H, &d, NULL));
  PetscCall(MatGetDiagonal(H, d));
  PetscCall(VecGetArrayRead(d, &da));
  PetscCall(PetscMalloc1(2 * (size_t)PetscMax(nloc, 1), &loc));
  for (PetscInt i = 0; i < nloc; i++) {
    loc[2 * i]     = PetscRealPart(da[i]);
    loc[2 * i + 1] = (PetscReal)(rs + i);
  }
  PetscCall(VecRestoreArrayRead(d, &da));
  PetscCall(VecDestroy(&d));
  qsort(loc, (size_t)nloc, 2 * sizeof(PetscReal), ComparePair);
  k = PetscMin(nev, nloc);
  { /* the nev smallest diagonals of all ranks: each rank's k smallest, gathered and sorted */
    PetscInt   tot;
    PetscReal *all;
    PetscCall(AllgatherList(comm, loc, 2 * k, MPIU_REAL, sizeof(PetscReal), (void **)&all, &tot));
    qsort(all, (size_t)(tot / 2), 2 * sizeof(PetscReal), ComparePair);
    ns0 = PetscMin(tot / 2, nev);
    PetscCall(PetscMalloc1(PetscMax(ns0, 1), &S0));
    for (PetscInt i = 0; i < ns0; i++) S0[i] = (PetscInt)all[2 * i + 1];
    qsort(S0, (size_t)ns0, sizeof(PetscInt), CompareIndex);
    PetscCall(PetscFree(all));
  }
  PetscCall(PetscFree(loc));
  for (PetscInt pass = 0; pass < 2; pass++) { /* S0's rows here and their columns: count, then fill */
    PetscInt n = 0;
    for (PetscInt q = 0; q < ns0; q++) {
      PetscInt        nc;
      const PetscInt *cols;
      if (S0[q] < rs || S0[q] >= re) continue;
      PetscCall(MatGetRow(H, S0[q], &nc, &cols, NULL));
      if (pass) PetscCall(PetscArraycpy(nb + n, cols, nc));
      n += nc;
      PetscCall(MatRestoreRow(H, S0[q], &nc, &cols, NULL));
    }
    if (!pass) PetscCall(PetscMalloc1(PetscMax(n + ns0, 1), &nb));
    else nn = n;
  }
  PetscCall(PetscArraycpy(nb + nn, S0, ns0)); /* every rank adds S0 itself (repeats are removed) */
  PetscCall(UnionIndices(comm, nb, nn + ns0, &S, &ns));
  PetscCall(PetscFree(nb));
  if (ns <= 4000) {
    PetscScalar *A, wq;
    PetscReal   *w;
    PetscBLASInt n, lw = -1, info;
    PetscCall(PetscBLASIntCast(ns, &n));
    PetscCall(PetscMalloc2((size_t)ns * ns, &A, ns, &w));
    PetscCall(GatherSubmatrix(H, S, ns, A));
    LAPACKsyev_("N", "L", &n, A, &n, w, &wq, &lw, &info);
    lw = (PetscBLASInt)wq;
    {
      PetscScalar *work;
      PetscCall(PetscMalloc1(lw, &work));
      LAPACKsyev_("N", "L", &n, A, &n, w, work, &lw, &info);
      PetscCall(PetscFree(work));
    }
    PetscCheck(!info, comm, PETSC_ERR_LIB, "LAPACK syev failed (%d) on the %" PetscInt_FMT " x %" PetscInt_FMT " submatrix", (int)info, ns, ns);
    *cut  = w[ns0 - 1];
    *nsub = ns;
    PetscCall(PetscFree2(A, w));
  } else { /* Gershgorin for H_{S0 S0} */
    PetscReal bound = PETSC_MIN_REAL;
    for (PetscInt q = 0; q < ns0; q++) {
      const PetscInt     i = S0[q];
      PetscInt           nc;
      const PetscInt    *cols;
      const PetscScalar *vals;
      PetscReal          sum = 0;
      if (i < rs || i >= re) continue;
      PetscCall(MatGetRow(H, i, &nc, &cols, &vals));
      for (PetscInt c = 0; c < nc; c++) {
        if (cols[c] == i) sum += PetscRealPart(vals[c]);
        else if (bsearch(&cols[c], S0, (size_t)ns0, sizeof(PetscInt), CompareIndex)) sum += PetscAbsScalar(vals[c]);
      }
      PetscCall(MatRestoreRow(H, i, &nc, &cols, &vals));
      bound = PetscMax(bound, sum);
    }
    PetscCall(MPIU_Allreduce(&bound, cut, 1, MPIU_REAL, MPIU_MAX, comm));
    *nsub = 0;
  }
  PetscCall(PetscFree(S0));
  PetscCall(PetscFree(S));
  PetscFunctionReturn(0);
}

/* Bounds of the spectrum: the Gershgorin upper bound from the rows of M, and a short Lanczos run
   (full reorthogonalization) for its lowest and highest Ritz values. *b is the smaller of
   Gershgorin and the top Ritz value plus its residual and a 1 % margin of the spread; *a0 the
   lowest Ritz value, *a the filter's first cut (the second Lanczos Ritz value). */
PetscErrorCode KhgpsSpectrumBounds(Mat M, KhgpsKey key, PetscInt steps, PetscReal *a0, PetscReal *a, PetscReal *b)
{
  MPI_Comm     comm = PetscObjectComm((PetscObject)M);
  PetscInt     rs, re, nloc, m, N;
  PetscReal    gersh = PETSC_MIN_REAL, *alpha, *beta, *theta, top, resid;
  PetscScalar *Vl, *T, *h;
  Vec          v, w;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KhgpsLog.bounds, 0, 0, 0, 0));
  PetscCall(MatGetOwnershipRange(M, &rs, &re));
  nloc = re - rs;
  for (PetscInt i = rs; i < re; i++) {
    PetscInt           nc;
    const PetscInt    *cols;
    const PetscScalar *vals;
    PetscReal          sum = 0;
    PetscCall(MatGetRow(M, i, &nc, &cols, &vals));
    for (PetscInt q = 0; q < nc; q++) sum += cols[q] == i ? PetscRealPart(vals[q]) : PetscAbsScalar(vals[q]);
    PetscCall(MatRestoreRow(M, i, &nc, &cols, &vals));
    gersh = PetscMax(gersh, sum);
  }
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &gersh, 1, MPIU_REAL, MPIU_MAX, comm));

  PetscCall(MatGetSize(M, &N, NULL));
  m = PetscMin(steps, N);
  PetscCall(PetscMalloc5((size_t)nloc * (m + 1), &Vl, (size_t)m * m, &T, m + 1, &h, m + 1, &alpha, m + 1, &beta));
  PetscCall(PetscMalloc1(m, &theta));
  PetscCall(MatCreateVecs(M, &v, &w));
  for (PetscInt i = 0; i < nloc; i++) Vl[i] = KhgpsUniformAt(key.seed, key.realization, STREAM_BOUNDS, rs + i, -1) - 0.5;
  {
    PetscReal nrm = 0;
    for (PetscInt i = 0; i < nloc; i++) nrm += Vl[i] * Vl[i];
    PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &nrm, 1, MPIU_REAL, MPIU_SUM, comm));
    nrm = PetscSqrtReal(nrm);
    for (PetscInt i = 0; i < nloc; i++) Vl[i] /= nrm;
  }
  for (PetscInt j = 0; j < m; j++) {
    PetscScalar *vj = Vl + (size_t)j * nloc, *vn = Vl + (size_t)(j + 1) * nloc;
    PetscReal    nrm = 0;
    PetscCall(VecPlaceArray(v, vj));
    PetscCall(VecPlaceArray(w, vn));
    PetscCall(MatMult(M, v, w));
    PetscCall(VecResetArray(w));
    PetscCall(VecResetArray(v));
    for (PetscInt pass = 0; pass < 2; pass++) { /* full reorthogonalization, twice */
      KhgpsGemm("T", "N", j + 1, 1, nloc, 1.0, Vl, nloc, vn, nloc, 0.0, h, j + 1);
      PetscCall(MPIU_Allreduce(MPI_IN_PLACE, h, (PetscMPIInt)(j + 1), MPIU_SCALAR, MPIU_SUM, comm));
      KhgpsGemm("N", "N", nloc, 1, j + 1, -1.0, Vl, nloc, h, j + 1, 1.0, vn, nloc);
      if (pass == 0) alpha[j] = PetscRealPart(h[j]);
      else alpha[j] += PetscRealPart(h[j]);
    }
    for (PetscInt i = 0; i < nloc; i++) nrm += vn[i] * vn[i];
    PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &nrm, 1, MPIU_REAL, MPIU_SUM, comm));
    beta[j] = PetscSqrtReal(nrm);
    if (beta[j] <= 1e-14 * PetscAbsReal(alpha[j]) || j == m - 1) {
      m = j + 1;
      break;
    }
    for (PetscInt i = 0; i < nloc; i++) vn[i] /= beta[j];
  }
  PetscCall(PetscArrayzero(T, (size_t)m * m));
  for (PetscInt j = 0; j < m; j++) {
    T[j + (size_t)j * m] = alpha[j];
    if (j + 1 < m) T[j + 1 + (size_t)j * m] = beta[j];
  }
  PetscCall(KhgpsSymEig(m, T, m, T, theta));
  top   = theta[m - 1];
  resid = PetscAbsReal(beta[m - 1] * PetscRealPart(T[m - 1 + (size_t)(m - 1) * m]));
  *b    = PetscMin(gersh, top + resid + 0.01 * (top - theta[0]));
  *a0   = theta[0];
  *a    = m > 2 ? theta[1] : 0.5 * (theta[0] + *b);
  PetscCall(PetscInfo(NULL, "filter: bounds: Gershgorin %g, Lanczos (%" PetscInt_FMT " steps) [%g, %g] top residual %g: b = %g, first cut a = %g\n", (double)gersh, m, (double)theta[0], (double)top, (double)resid, (double)*b, (double)*a));
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&w));
  PetscCall(PetscFree5(Vl, T, h, alpha, beta));
  PetscCall(PetscFree(theta));
  PetscCall(PetscLogEventEnd(KhgpsLog.bounds, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* The lowest nev eigenpairs of the sparse H by the EPS eps (Krylov-Schur by default) on
   P = T_m((c - H)/e): eigenvalues ascending, participation ratios and residuals ||H v - lambda v|| / |lambda|
   of H itself into r. A pair counts only if it lies below the cut (theta > 1): above it the filter
   does not order the spectrum. *done is false when there is nothing to damp (the cut reaches the
   top of the spectrum, e.g. nev close to N): the caller then runs the EPS on H itself. */
PetscErrorCode KhgpsFilterSpectrum(EPS eps, const KhgpsSolverOptions *o, PetscInt nev, PetscInt save_modes, KhgpsKey key, Mat H, KhgpsResult *r, PetscBool *done)
{
  MPI_Comm  comm = PetscObjectComm((PetscObject)H);
  FilterCtx f;
  Mat       P;
  PetscInt  N, nloc, nconv, nkept = 0, nabove = 0, *kept;
  PetscReal a0, a, b, *tmp;
  Vec       v, w;

  PetscFunctionBeginUser;
  *done = PETSC_FALSE;
  PetscCall(KhgpsSpectrumBounds(H, key, BOUNDS_LANCZOS, &a0, &a, &b));
  if (o->filter_cut_set) a = o->filter_cut;
  else { /* the bound, raised by (b - a)/m^2: an eigenvalue that close below the cut gets theta >= cosh(2) */ PetscReal bound;
    PetscInt                                                                                                            nsub = 0;
    PetscCall(InterlacingCut(H, nev, &bound, &nsub));
    a = bound + (b - bound) / ((PetscReal)o->filter_degree * o->filter_degree);
    PetscCall(PetscInfo(NULL, "filter: interlacing bound %g of eigenvalue %" PetscInt_FMT " (%s), cut %g\n", (double)bound, nev, nsub ? "a submatrix with the neighbours" : "Gershgorin", (double)a));
  }
  if (!(a < b - 1e-3 * (b - a0))) {
    PetscCall(PetscInfo(NULL, "filter: cut %g at the top of the spectrum %g: no filter\n", (double)a, (double)b));
    PetscFunctionReturn(0);
  }
  PetscCall(PetscInfo(NULL, "filter: degree %" PetscInt_FMT ", damped interval [%g, %g] (%s cut), lowest Lanczos Ritz value %g\n", o->filter_degree, (double)a, (double)b, o->filter_cut_set ? "given" : "interlacing", (double)a0));
  f.M   = H;
  f.deg = o->filter_degree;
  f.c   = 0.5 * (a + b);
  f.e   = 0.5 * (b - a);
  PetscCall(MatCreateVecs(H, &f.t0, &f.t1));
  PetscCall(VecDuplicate(f.t0, &f.t2));
  PetscCall(VecGetLocalSize(f.t0, &nloc));
  PetscCall(MatGetSize(H, &N, NULL));
  PetscCall(MatCreateShell(comm, nloc, nloc, N, N, &f, &P));
  PetscCall(MatShellSetOperation(P, MATOP_MULT, (void (*)(void))FilterMult));
  PetscCall(MatSetOption(P, MAT_SYMMETRIC, PETSC_TRUE));
  PetscCall(EPSSetOperators(eps, P, NULL));
  PetscCall(EPSSolve(eps));
  PetscCall(EPSGetConverged(eps, &nconv));
  nconv = PetscMin(nconv, nev);
  PetscCall(PetscMalloc2(3 * nconv + 1, &tmp, nconv + 1, &kept));
  PetscCall(MatCreateVecs(H, &v, &w));
  for (PetscInt i = 0; i < nconv; i++) {
    PetscScalar th, lam;
    PetscReal   res;
    PetscCall(EPSGetEigenpair(eps, i, &th, NULL, v, NULL));
    PetscCall(VecNormalize(v, NULL));
    PetscCall(MatMult(H, v, w));
    PetscCall(VecDot(w, v, &lam));
    PetscCall(VecAXPY(w, -lam, v));
    PetscCall(VecNorm(w, NORM_2, &res));
    if (!(PetscRealPart(th) > 1 && PetscRealPart(lam) < a)) { /* not ordered by the filter */
      nabove++;
      continue;
    }
    kept[nkept]        = i;
    tmp[3 * nkept]     = PetscRealPart(lam);
    tmp[3 * nkept + 2] = res / PetscAbsScalar(lam);
    PetscCall(KhgpsParticipationRatio(v, &tmp[3 * nkept + 1]));
    nkept++;
  }
  if (nabove) PetscCall(PetscInfo(NULL, "filter: %" PetscInt_FMT " converged pairs above the cut %g dropped (the cut is below the nev-th eigenvalue)\n", nabove, (double)a));
  PetscCall(KhgpsSaveModes(eps, save_modes, nkept, tmp, kept, v, r));
  PetscCall(KhgpsResultSetPairs(r, nkept, tmp));
  PetscCall(PetscFree2(tmp, kept));
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&w));
  PetscCall(VecDestroy(&f.t0));
  PetscCall(VecDestroy(&f.t1));
  PetscCall(VecDestroy(&f.t2));
  PetscCall(EPSReset(eps));
  PetscCall(MatDestroy(&P));
  *done = PETSC_TRUE;
  PetscFunctionReturn(0);
}
