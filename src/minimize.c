/* minimize.c: the minimization of H from the starting point (x = 0, random or thermal: thermal.c):
   TAO, then the Newton polish (KSP, prefix khgps_newton_), each made afresh per realization.

   -khgps_minimizer bncg (the default: TAO's bncg, or whatever -tao_type says) or lmvm-diag (TAO's
   blmvm whose L-BFGS matrix starts from the Hessian's diagonal, max(kappa_i + A x_i^2/2, floor),
   at the current point instead of a scalar: TaoLMVMSetH0 with a shell whose MatSolve divides by
   it). Every TAO type gets the Hessian M = J + diag(kappa + A x^2/2) as a MATSHELL (one J x
   product per MatMult, its diagonal for a Jacobi preconditioner), so that the Newton and trust
   region types work on every storage; the types that solve another problem (least squares,
   constraints, complementarity, user shells) are refused at set-up in one line. */
#include "khgps_options.h"
#include "khgps_platform.h"
#include "khgps_model.h"
#include "khgps_result.h"
#include "khgps_solvers.h"
#include "khgps_error.h"
#include "khgps_thermal.h"

static const char *const MinimizerTypes[] = {"bncg", "lmvm-diag", "KhgpsMinimizerType", "KHGPS_MINIMIZER_", NULL};
enum {
  MINIMIZER_DEFAULT   = 0,
  MINIMIZER_LMVM_DIAG = 1
};

/* The minimizer's settings (read once in KhgpsMinimizerCreate, composed on the Tao) and, during a
   solve, the callbacks' context: the model, the Hessian diagonal at the last point, the counts. */
typedef struct {
  PetscInt    type;  /* MINIMIZER_* */
  PetscReal   floor; /* lmvm-diag: the diagonal is max(d_i, floor) (d_i -> 0 for soft kappa at x = 0) */
  PetscBool   view;  /* -khgps_minimizer_view: one line per realization with the counts */
  KhgpsModel *m;
  Vec         d;          /* kappa + A x^2/2 at the last Hessian evaluation */
  Vec         d0;         /* lmvm-diag: max(kappa + A x^2/2, floor) at the last objective evaluation */
  PetscInt    nfg, nhess; /* objective+gradient evaluations and Hessian products: J x products */
} MinCtx;

static PetscErrorCode MinCtxDestroy(void *ctx)
{
  MinCtx *c = (MinCtx *)ctx;

  PetscFunctionBeginUser;
  PetscCall(VecDestroy(&c->d));
  PetscCall(VecDestroy(&c->d0));
  PetscCall(PetscFree(c));
  PetscFunctionReturn(0);
}

/* TAO types that solve another problem, refused at set-up; each was tried on N = 60 (docs/design.md). */
static const struct {
  const char *type, *why;
} Refused[] = {
  {"owlqn",    "orthant-wise L-BFGS minimizes H + lambda ||x||_1, another problem (it stops at once at x = 0)"   },
  {"bmrm",     "bundle method for regularized risk minimization, another problem (it stops with |grad H| ~ 0.06)"},
  {"bqpip",    "interior point method for bound-constrained quadratic programs (on H it produces NaN)"           },
  {"gpcg",     "gradient projection CG for bound-constrained quadratic programs (on H it produces NaN)"          },
  {"nm",       "Nelder-Mead is derivative-free (not converged after 200000 iterations at N = 60)"                },
  {"pounders", "least squares: needs a residual function"                                                        },
  {"brgn",     "regularized Gauss-Newton for least squares: needs a residual function"                           },
  {"lcl",      "linearly constrained augmented Lagrangian: needs constraints and a state index set"              },
  {"ssils",    "semismooth solver for complementarity problems: needs constraints"                               },
  {"ssfls",    "semismooth solver for complementarity problems: needs constraints"                               },
  {"asils",    "active-set semismooth solver for complementarity problems: needs constraints"                    },
  {"asfls",    "active-set semismooth solver for complementarity problems: needs constraints"                    },
  {"ipm",      "interior point method: needs constraints"                                                        },
  {"pdipm",    "primal-dual interior point method: needs equality or inequality constraints"                     },
  {"almm",     "augmented Lagrangian multiplier method: needs equality or inequality constraints"                },
  {"admm",     "alternating direction method of multipliers: needs a split objective"                            },
  {"shell",    "a user-written solver: khgps sets no TaoShellSetSolve"                                           },
  {"python",   "a Python solver: khgps sets none"                                                                },
};
#define KHGPS_TAO_TYPES "bncg (the default), blmvm, lmvm, cg, bqnls, bqnkls, bqnktr, bqnktl, nls, ntr, ntl, tron, bnls, bntr or bntl"

/* Defaults in code, then TaoSetFromOptions last: any -tao_* choice wins. */
PetscErrorCode KhgpsMinimizerCreate(MPI_Comm comm, const KhgpsParams *p, Tao *tao)
{
  MinCtx        *c;
  PetscContainer cont;
  TaoType        type;
  PetscBool      set;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&c));
  c->type  = MINIMIZER_DEFAULT;
  c->floor = PetscMax(0.5 * p->J, 0.01 * p->kappa0); /* docs/benchmarks.md: 0.05 at J = 0.1, 0.2 at J = 0.4 */
  PetscOptionsBegin(comm, "khgps_", "KHGPS minimizer", "khgps");
  PetscCall(PetscOptionsEList("-minimizer", "Minimizer: bncg (TAO bncg or -tao_type) or lmvm-diag (blmvm from the Hessian diagonal)", "khgps", MinimizerTypes, 2, MinimizerTypes[c->type], &c->type, NULL));
  PetscCall(KhgpsOptionsReal(PetscOptionsObject, "-minimizer_diag_floor", "lmvm-diag: the initial Hessian is diag(max(kappa_i + A x_i^2/2, floor)) (default max(J/2, kappa0/100))", &c->floor, &set));
  PetscCheck(!set || c->floor > 0, comm, PETSC_ERR_USER_INPUT, "-khgps_minimizer_diag_floor %g: need a positive number", (double)c->floor);
  PetscCall(PetscOptionsBool("-minimizer_view", "Print the minimizer's iterations and J x products of every realization", "khgps", c->view, &c->view, NULL));
  PetscOptionsEnd();

  { /* a -tao_type that cannot work is refused before TAO sees it */
    char           want[64] = "";
    PetscErrorCode ierr;
    char           msg[KHGPS_MSG_LEN] = "";
    PetscCall(PetscOptionsGetString(NULL, NULL, "-tao_type", want, sizeof(want), &set));
    for (size_t k = 0; set && k < sizeof(Refused) / sizeof(Refused[0]); k++) {
      PetscBool is;
      PetscCall(PetscStrcmp(want, Refused[k].type, &is));
      if (is) {
        PetscCall(MinCtxDestroy(c));
        SETERRQ(comm, PETSC_ERR_USER_INPUT, "-tao_type %s: %s; use " KHGPS_TAO_TYPES, want, Refused[k].why);
      }
    }
    PetscCall(TaoCreate(comm, tao));
    PetscCall(TaoSetType(*tao, c->type == MINIMIZER_LMVM_DIAG ? TAOBLMVM : TAOBNCG));
    PetscCall(TaoSetTolerances(*tao, p->gtol, 0.0, 0.0));
    PetscCall(TaoSetMaximumIterations(*tao, 200000));
    PetscCall(TaoSetMaximumFunctionEvaluations(*tao, 400000));
    PetscCall(PetscPushErrorHandler(KhgpsCaptureErrorHandler, msg));
    ierr = TaoSetFromOptions(*tao);
    PetscCall(PetscPopErrorHandler());
    if (ierr) {
      PetscCall(MinCtxDestroy(c));
      PetscCall(TaoDestroy(tao));
      PetscCheck(!set || !strstr(msg, want), comm, PETSC_ERR_USER_INPUT, "-tao_type %s: not a TAO type of this PETSc; use " KHGPS_TAO_TYPES, want);
      SETERRQ(comm, ierr, "%s", msg); /* another option's error (a value that is not a number, say), as PETSc said it */
    }
  }
  PetscCall(TaoGetType(*tao, &type));
  if (c->type == MINIMIZER_LMVM_DIAG) {
    PetscBool lm;
    PetscCall(PetscObjectTypeCompareAny((PetscObject)*tao, &lm, TAOBLMVM, TAOLMVM, ""));
    if (!lm) {
      char t[64];
      PetscCall(PetscStrncpy(t, type, sizeof(t)));
      PetscCall(MinCtxDestroy(c));
      PetscCall(TaoDestroy(tao));
      SETERRQ(comm, PETSC_ERR_USER_INPUT, "-khgps_minimizer lmvm-diag with -tao_type %s: the diagonal initial Hessian is for blmvm or lmvm only", t);
    }
  }
  { /* the Newton types' KSP: a Jacobi preconditioner on the Hessian shell unless one is chosen */
    KSP         ksp = NULL;
    const char *prefix;
    PetscCall(TaoGetKSP(*tao, &ksp));
    if (ksp) {
      PetscCall(KSPGetOptionsPrefix(ksp, &prefix));
      PetscCall(PetscOptionsHasName(NULL, prefix, "-pc_type", &set));
      if (!set) {
        PC pc;
        PetscCall(KSPGetPC(ksp, &pc));
        PetscCall(PCSetType(pc, PCJACOBI));
      }
    }
  }
  PetscCall(PetscContainerCreate(comm, &cont));
  PetscCall(PetscContainerSetPointer(cont, c));
  PetscCall(PetscContainerSetUserDestroy(cont, MinCtxDestroy));
  PetscCall(PetscObjectCompose((PetscObject)*tao, "khgps_minimizer", (PetscObject)cont));
  PetscCall(PetscContainerDestroy(&cont));
  PetscFunctionReturn(0);
}

/* lmvm-diag's H0 at X: max(kappa + A x^2/2, floor). */
static PetscErrorCode SetH0Diagonal(MinCtx *c, Vec X)
{
  PetscScalar *d;
  PetscInt     n;

  PetscFunctionBeginUser;
  PetscCall(KhgpsFormHessianDiagonal(c->m, X, c->d0));
  PetscCall(VecGetLocalSize(c->d0, &n));
  PetscCall(VecGetArray(c->d0, &d));
  for (PetscInt i = 0; i < n; i++) d[i] = PetscMax(PetscRealPart(d[i]), c->floor);
  PetscCall(VecRestoreArray(c->d0, &d));
  PetscFunctionReturn(0);
}

/* The objective and gradient (model.c), counted; lmvm-diag also takes the diagonal at X. */
static PetscErrorCode FormFunctionGradient(Tao tao, Vec X, PetscReal *f, Vec G, void *ctx)
{
  MinCtx *c = (MinCtx *)ctx;

  PetscFunctionBeginUser;
  c->nfg++;
  PetscCall(KhgpsFormFunctionGradient(tao, X, f, G, c->m));
  if (c->d0) PetscCall(SetH0Diagonal(c, X));
  PetscFunctionReturn(0);
}

/* The Hessian shell at X: only its diagonal changes. */
static PetscErrorCode FormHessian(Tao tao, Vec X, Mat H, Mat Hpre, void *ctx)
{
  MinCtx *c = (MinCtx *)ctx;

  PetscFunctionBeginUser;
  PetscCall(KhgpsFormHessianDiagonal(c->m, X, c->d));
  PetscCall(MatAssemblyBegin(H, MAT_FINAL_ASSEMBLY)); /* a new state: preconditioners are rebuilt */
  PetscCall(MatAssemblyEnd(H, MAT_FINAL_ASSEMBLY));
  PetscFunctionReturn(0);
}

/* M x = J x + d x, one J x product (in global column order when the couplings are sparse). */
static PetscErrorCode MatMult_Hessian(Mat H, Vec X, Vec Y)
{
  MinCtx *c;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(H, &c));
  c->nhess++;
  if (c->m->Jord) PetscCall(KhgpsOrderedMult(c->m->Jord, X, Y));
  else PetscCall(MatMult(c->m->J, X, Y));
  PetscCall(VecPointwiseMult(c->m->Jx, c->d, X));
  PetscCall(VecAXPY(Y, 1.0, c->m->Jx));
  PetscFunctionReturn(0);
}

static PetscErrorCode MatGetDiagonal_Hessian(Mat H, Vec D)
{
  MinCtx *c;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(H, &c));
  PetscCall(VecCopy(c->d, D)); /* J's diagonal is zero */
  PetscFunctionReturn(0);
}

/* lmvm-diag's initial Hessian: diag(d0) (MatMult) and its inverse (MatSolve, what L-BFGS applies). */
static PetscErrorCode MatMult_H0(Mat H0, Vec X, Vec Y)
{
  MinCtx *c;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(H0, &c));
  PetscCall(VecPointwiseMult(Y, c->d0, X));
  PetscFunctionReturn(0);
}

static PetscErrorCode MatSolve_H0(Mat H0, Vec X, Vec Y)
{
  MinCtx *c;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(H0, &c));
  PetscCall(VecPointwiseDivide(Y, X, c->d0));
  PetscFunctionReturn(0);
}

static PetscErrorCode CreateShell(MinCtx *c, Vec x, Mat *A)
{
  PetscInt n, N;

  PetscFunctionBeginUser;
  PetscCall(VecGetLocalSize(x, &n));
  PetscCall(VecGetSize(x, &N));
  PetscCall(MatCreateShell(PetscObjectComm((PetscObject)x), n, n, N, N, c, A));
  PetscCall(MatShellSetVecType(*A, VECSTANDARD));
  PetscCall(MatSetOption(*A, MAT_SYMMETRIC, PETSC_TRUE));
  PetscCall(MatSetOption(*A, MAT_SYMMETRY_ETERNAL, PETSC_TRUE));
  PetscFunctionReturn(0);
}

/* TAO from the starting point to ||grad H|| <= gtol (or its other stops). */
static PetscErrorCode MinimizeTao(Tao tao, KhgpsModel *m, const KhgpsParams *p, KhgpsResult *r)
{
  PetscReal      cnorm, xdiff;
  PetscContainer cont;
  MinCtx        *c;
  Mat            H, H0 = NULL;
  PetscLogDouble t0, t1;

  PetscFunctionBeginUser;
  PetscCall(PetscObjectQuery((PetscObject)tao, "khgps_minimizer", (PetscObject *)&cont));
  PetscCheck(cont, PetscObjectComm((PetscObject)tao), PETSC_ERR_ARG_WRONGSTATE, "the Tao was not made by KhgpsMinimizerCreate");
  PetscCall(PetscContainerGetPointer(cont, (void **)&c));
  c->m     = m;
  c->nfg   = 0;
  c->nhess = 0;
  PetscCall(VecDuplicate(m->kappa, &r->x));
  PetscCall(PetscObjectSetName((PetscObject)r->x, "x"));
  PetscCall(KhgpsStartingPoint(m, p, r->x, &r->thermal)); /* zero, random or thermal (thermal.c) */
  PetscCall(VecDestroy(&c->d));
  PetscCall(VecDestroy(&c->d0));
  PetscCall(VecDuplicate(m->kappa, &c->d));
  PetscCall(KhgpsFormHessianDiagonal(m, r->x, c->d));
  /* the Hessian for the Newton and trust-region types (the others never call it) */
  PetscCall(CreateShell(c, r->x, &H));
  PetscCall(MatShellSetOperation(H, MATOP_MULT, (void (*)(void))MatMult_Hessian));
  PetscCall(MatShellSetOperation(H, MATOP_MULT_TRANSPOSE, (void (*)(void))MatMult_Hessian));
  PetscCall(MatShellSetOperation(H, MATOP_GET_DIAGONAL, (void (*)(void))MatGetDiagonal_Hessian));
  PetscCall(TaoSetHessian(tao, H, H, FormHessian, c));
  if (c->type == MINIMIZER_LMVM_DIAG) {
    PetscCall(VecDuplicate(m->kappa, &c->d0));
    PetscCall(SetH0Diagonal(c, r->x));
    PetscCall(CreateShell(c, r->x, &H0));
    PetscCall(MatShellSetOperation(H0, MATOP_MULT, (void (*)(void))MatMult_H0));
    PetscCall(MatShellSetOperation(H0, MATOP_SOLVE, (void (*)(void))MatSolve_H0));
    PetscCall(TaoLMVMSetH0(tao, H0));
  }
  PetscCall(TaoSetSolution(tao, r->x));
  PetscCall(TaoSetObjectiveAndGradient(tao, NULL, FormFunctionGradient, c));
  PetscCall(PetscTime(&t0));
  PetscCall(TaoSolve(tao));
  PetscCall(PetscTime(&t1));
  PetscCall(TaoGetSolutionStatus(tao, &r->tao_its, &r->energy, &r->gnorm_tao, &cnorm, &xdiff, &r->tao_reason));
  PetscCall(TaoGetCurrentFunctionEvaluations(tao, &r->tao_nfuncs));
  r->gnorm = r->gnorm_tao;
  if (c->view) {
    TaoType type;
    PetscCall(TaoGetType(tao, &type));
    PetscCall(PetscPrintf(PetscObjectComm((PetscObject)tao), "khgps minimizer: realization %" PetscInt_FMT " %s%s: %" PetscInt_FMT " its, %" PetscInt_FMT " J x products (%" PetscInt_FMT " objective+gradient, %" PetscInt_FMT " Hessian), |grad H| %.3e, %s, %.3f s\n", p->realization, type, c->type == MINIMIZER_LMVM_DIAG ? " (lmvm-diag)" : "", r->tao_its, c->nfg + c->nhess, c->nfg, c->nhess,
                          (double)r->gnorm_tao, TaoConvergedReasons[r->tao_reason], (double)(t1 - t0)));
  }
  PetscCall(MatDestroy(&H));
  PetscCall(MatDestroy(&H0));
  PetscFunctionReturn(0);
}

/* The Newton polish's KSP: by default CG with a diagonal preconditioner (matrix-free: J x
   products), because a Cholesky per step costs N^3/3 and the one factorization that the
   shift-invert spectrum needs anyway is the positive-definiteness test. -khgps_newton_factor: a
   factored Newton step (the storage's Cholesky). Then KSPSetFromOptions: -khgps_newton_* wins. */
PetscErrorCode KhgpsNewtonCreate(MPI_Comm comm, const KhgpsParams *p, KSP *ksp)
{
  PC pc;

  PetscFunctionBeginUser;
  PetscCall(KSPCreate(comm, ksp));
  PetscCall(KSPSetOptionsPrefix(*ksp, "khgps_newton_"));
  PetscCall(KSPGetPC(*ksp, &pc));
  if (p->solver.newton_factor) {
    PetscCall(KSPSetType(*ksp, KSPPREONLY));
    PetscCall(KhgpsHessianDefaultFactor(pc, p->solver.htype));
  } else {
    PetscCall(KSPSetType(*ksp, KSPCG));
    PetscCall(KSPSetTolerances(*ksp, p->sparse ? 1e-12 : 1e-6, 0.0, PETSC_DEFAULT, 10000));
    PetscCall(PCSetType(pc, PCJACOBI));
  }
  PetscCall(KSPSetFromOptions(*ksp));
  PetscFunctionReturn(0);
}

/* Factor the Newton KSP's operator; *ok = PETSC_FALSE if the Cholesky factorization found M indefinite. */
static PetscErrorCode TryFactor(KSP ksp, PetscBool *ok)
{
  PetscErrorCode ierr;
  PC             pc;
  PCFailedReason reason = PC_NOERROR;

  PetscFunctionBeginUser;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = KSPSetUp(ksp);
  PetscCall(PetscPopErrorHandler());
  if (ierr && !KhgpsIndefiniteError(ierr)) PetscCall(ierr);
  PetscCall(KSPGetPC(ksp, &pc));
  if (!ierr) PetscCall(PCGetFailedReason(pc, &reason));
  *ok = (PetscBool)(!ierr && reason == PC_NOERROR);
  PetscFunctionReturn(0);
}

/* Build the Hessian *H at x and take up to polish_its Newton steps x <- x - M^{-1} grad H, each
   solved by the Newton KSP: by default CG with a Jacobi preconditioner on the products with M (the
   positive-definiteness test is then the spectrum's factorization); with -khgps_newton_factor a
   Cholesky factorization per step, which also tests that M is positive definite. A step that
   does not lower ||grad H|| is undone. On return *H is the Hessian at the final x. */
static PetscErrorCode Polish(KSP newton, KhgpsModel *m, PetscInt polish_its, PetscReal gtol, Mat *H, KhgpsResult *r)
{
  Vec       g, dx, xold;
  Mat       Hop = NULL; /* sparse: the Newton CG's products in global column order (repro.c) */
  PetscReal f, gnorm;

  PetscFunctionBeginUser;
  r->factor_ok   = PETSC_TRUE;
  r->polish_done = 0;
  PetscCall(KhgpsFormHessian(m, r->x, H));
  if (m->Jord) PetscCall(KhgpsOrderedShell(*H, &Hop));
  PetscCall(VecDuplicate(r->x, &g));
  PetscCall(VecDuplicate(r->x, &dx));
  PetscCall(VecDuplicate(r->x, &xold));
  PetscCall(KhgpsFormFunctionGradient(NULL, r->x, &r->energy, g, m));
  PetscCall(VecNorm(g, NORM_2, &r->gnorm));
  for (PetscInt k = 0; k < polish_its; k++) {
    PetscBool ok = PETSC_FALSE;
    PetscCall(KhgpsHessianSetCholesky(newton, *H, PETSC_TRUE));
    if (Hop) PetscCall(KSPSetOperators(newton, Hop, *H));
    PetscCall(TryFactor(newton, &ok));
    if (!ok) {
      r->factor_ok = PETSC_FALSE;
      break;
    }
    PetscCall(KSPSolve(newton, g, dx));
    PetscCall(VecCopy(r->x, xold));
    PetscCall(VecAXPY(r->x, -1.0, dx));
    PetscCall(KhgpsFormFunctionGradient(NULL, r->x, &f, g, m));
    PetscCall(VecNorm(g, NORM_2, &gnorm));
    if (!(gnorm < r->gnorm)) { /* no progress (rounding level reached): keep the previous point */
      PetscCall(VecCopy(xold, r->x));
      break;
    }
    r->energy = f;
    r->gnorm  = gnorm;
    r->polish_done++;
    PetscCall(KhgpsFormHessian(m, r->x, H));
    if (r->gnorm <= PETSC_SMALL * gtol) break;
  }
  PetscCall(MatDestroy(&Hop));
  PetscCall(VecDestroy(&g));
  PetscCall(VecDestroy(&dx));
  PetscCall(VecDestroy(&xold));
  PetscFunctionReturn(0);
}

/* The Minimize stage of one realization: the starting point, TAO, then the Newton polish, each
   solver made here for this realization alone. On return r holds x, the energy and the gradient
   norms, and *H is the Hessian at x (for the spectrum). BLAS runs on one thread for TAO and a CG
   polish (KhgpsBLASThreadsFor), on all for a factored one. */
PetscErrorCode KhgpsMinimize(MPI_Comm comm, KhgpsModel *m, const KhgpsParams *p, Mat *H, KhgpsResult *r)
{
  Tao       tao;
  KSP       newton;
  PetscBool factored;

  PetscFunctionBeginUser;
  PetscCall(KhgpsMinimizerCreate(comm, p, &tao));
  PetscCall(KhgpsNewtonCreate(comm, p, &newton));
  KhgpsBLASThreadsFor(KHGPS_BLAS_ORDERED);
  PetscCall(MinimizeTao(tao, m, p, r));
  PetscCall(TaoDestroy(&tao));
  PetscCall(PetscObjectTypeCompare((PetscObject)newton, KSPPREONLY, &factored));
  if (factored) KhgpsBLASThreadsFor(KHGPS_BLAS_LIBRARY);
  PetscCall(Polish(newton, m, p->polish_its, p->gtol, H, r));
  PetscCall(KSPDestroy(&newton)); /* frees the factor before the eigensolver makes its own */
  KhgpsBLASThreadsFor(KHGPS_BLAS_LIBRARY);
  PetscFunctionReturn(0);
}
