/* khgps.h: context structs, enums and stage prototypes of the KHGPS model code. */
#ifndef KHGPS_H
#define KHGPS_H

#include <petsctao.h>
#include <slepceps.h>
#include <petscblaslapack.h>

#ifndef KHGPS_VERSION
  #define KHGPS_VERSION "unknown"
#endif

/* Outcome of one realization; the integer is what the HDF5 file stores as `status`. */
typedef enum {
  KHGPS_MINIMUM       = 0, /* gradient below tolerance and Hessian positive definite */
  KHGPS_NOT_CONVERGED = 1, /* minimizer stopped with the gradient above tolerance */
  KHGPS_SADDLE        = 2  /* stationary, but the Hessian is not positive definite */
} KhgpsStatus;
extern const char *const KhgpsStatusNames[];
/* Which factor the spectrum used (per realization, attribute factor_precision). */
typedef enum {
  KHGPS_FACTOR_DOUBLE   = 0, /* double (the default, and every storage but packed) */
  KHGPS_FACTOR_SINGLE   = 1, /* float32 factor of the packed Hessian, pairs refined with the double M */
  KHGPS_FACTOR_FALLBACK = 2  /* single asked for, its factorization or its outer iteration failed: double */
} KhgpsFactorPrecision;
extern const char *const KhgpsFactorPrecisionNames[];
extern const char *const KhgpsCouplingTypes[];

/* Run parameters, all read from -khgps_* options in KhgpsProcessOptions(). */
typedef struct {
  PetscInt  N;                       /* number of oscillators */
  PetscReal kappa0;                  /* upper end of the stiffness distribution */
  PetscReal kappa_min;               /* lower end of the stiffness distribution (0: the paper) */
  PetscReal J;                       /* coupling strength: Var(J_ij) = J^2/N (dense), J^2/c (sparse) */
  PetscBool sparse;                  /* diluted couplings: each pair with probability c/N */
  PetscReal connectivity;            /* c, the mean number of couplings per oscillator (sparse) */
  PetscReal h;                       /* constant field */
  PetscReal A;                       /* quartic anharmonicity */
  PetscInt64 seed;                   /* random seed in [0, 2^63) (with the realization index, the Philox key) */
  PetscInt  realization;             /* realization being computed (set per realization) */
  PetscInt  first;                   /* first realization index of the run */
  PetscInt  realizations;            /* number of realizations of the run */
  PetscInt  groups;                  /* MPI sub-communicators sharing out the realizations */
  PetscReal x0_amplitude;            /* start from x_i uniform in [-a, a] (0: from x = 0) */
  PetscInt  nev;                     /* number of lowest eigenpairs wanted */
  PetscReal gtol;                    /* a minimum needs ||grad H||_2 <= gtol after the polish */
  PetscInt  polish_its;              /* Newton steps after TAO (each one factorization) */
  PetscBool save_couplings;          /* write J itself to the output file */
  PetscBool factor_single;           /* -khgps_factor_precision single: float32 factor of the packed Hessian */
  PetscBool factor_single_fail;      /* -khgps_factor_single_fail: treat the float32 factorization as failed (tests) */
  PetscBool overwrite;               /* start over: replace an existing output file */
  char      output[PETSC_MAX_PATH_LEN]; /* output HDF5 file ("" : none) */
} KhgpsParams;

/* repro.c: results independent of the rank count */
typedef struct _n_KhgpsOrdered *KhgpsOrdered;
PetscErrorCode KhgpsReproSum(MPI_Comm, PetscInt, PetscInt, const PetscReal *, PetscReal *);
PetscErrorCode KhgpsVecSetReproducible(Vec);
PetscErrorCode KhgpsOrderedCreate(Mat, KhgpsOrdered *);
PetscErrorCode KhgpsOrderedDestroy(KhgpsOrdered *);
PetscErrorCode KhgpsOrderedMult(KhgpsOrdered, Vec, Vec);
PetscErrorCode KhgpsOrderedShell(Mat, Mat *);

/* One realization of the model: the TAO callbacks' context. */
typedef struct {
  /* parameters */
  PetscReal A, h;  /* quartic coefficient and field */
  PetscInt  N;     /* size */
  /* data */
  Mat       J;     /* couplings, dense, symmetric, zero diagonal */
  Vec       kappa; /* harmonic stiffnesses */
  /* packed storage (one rank): J strict upper, Hessian and Cholesky factor lower, one N x N buffer */
  PetscScalar  *B;     /* column-major N x N, or NULL for a dense/ScaLAPACK J */
  Vec           hdiag; /* Hessian diagonal kappa + A x^2/2 of the packed Hessian */
  PetscBLASInt *ipiv;  /* pivots of an indefinite (sytrf) packed factorization */
  PetscBool     spd;   /* factor the packed Hessian with potrf (else sytrf) */
  PetscBool     factored_spd; /* the lower triangle holds a potrf (true) or sytrf factor */
  PetscInt      ldf;          /* floats between J's columns: 2N (double buffer, 8N^2 bytes) or N (single, 4N^2) */
  PetscBool     single;       /* B is the single-precision buffer: J strict upper, float32 Hessian factor lower (N x N floats) */
  PetscBool     single_fail;  /* treat the float32 factorization as failed (-khgps_factor_single_fail) */
  PetscBool     fell_back;    /* single was given up for the double buffer (KhgpsPackedToDouble) */
  PetscBool     lapack_solve; /* solve with LAPACK potrs instead of the blocked dgemv solve */
  PetscBool     trsolve;      /* blocks of right-hand sides by trsolve.c, not potrs (-khgps_packed_trsolve, default on AVX2) */
  PetscBool     release_J; /* free the dense J once a ScaLAPACK Hessian holds it (J x = M x - d x) */
  Mat           Hj;    /* ScaLAPACK Hessian that J x is computed from once J is freed (borrowed) */
  KhgpsOrdered  Jord;  /* sparse: J x with each row summed in global column order (repro.c) */
  /* work space */
  Vec       Jx;    /* J x, from the one MatMult per evaluation */
  PetscReal *eterm; /* the energy's local terms, summed reproducibly */
} KhgpsModel;

/* What minimization and spectrum produce for one realization. */
typedef struct {
  Vec                x;               /* the minimizer (or wherever TAO stopped) */
  PetscReal          energy;          /* H(x) */
  PetscReal          gnorm_tao;       /* ||grad H||_2 when TAO stopped */
  PetscReal          gnorm;           /* ||grad H||_2 after the Newton polish */
  PetscInt           tao_its;         /* TAO iterations */
  PetscInt           tao_nfuncs;      /* objective+gradient evaluations */
  TaoConvergedReason tao_reason;      /* TAO's converged reason */
  PetscInt           polish_done;     /* Newton steps taken */
  PetscBool          factor_ok;       /* the Cholesky factorization of the Hessian succeeded (single: lowest eigenvalue minus its error bound > 0) */
  PetscInt           factor_precision; /* KhgpsFactorPrecision the spectrum ran with */
  KhgpsStatus        status;          /* minimum / not converged / saddle */
  PetscInt           nconv;           /* eigenpairs computed (<= nev) */
  PetscReal         *eig;             /* lowest eigenvalues omega^2, ascending [nconv] */
  PetscReal         *pr;              /* participation ratios [nconv] */
  PetscReal         *resid;           /* relative residuals ||M v - l v|| / |l| [nconv] */
  PetscReal          t_draw, t_minimize, t_spectrum, t_write; /* wall seconds per stage */
} KhgpsResult;

/* One realization's results gathered as plain arrays on one rank: what the file stores. */
typedef struct {
  PetscInt   realization; /* index */
  PetscInt   ranks;       /* MPI ranks that computed it */
  PetscInt   N, nconv;    /* sizes */
  PetscReal  energy, gnorm, gnorm_tao, lowest;
  PetscInt   tao_its, tao_nfuncs, tao_reason, polish_done, factor_ok, status, factor_precision;
  PetscReal  t_draw, t_minimize, t_spectrum; /* wall seconds per stage */
  PetscReal *kappa, *x;             /* [N] */
  PetscReal *eig, *pr, *resid;      /* [nconv] */
  PetscReal *J;                     /* [N*N] row-major, or NULL */
} KhgpsRecord;

/* The solvers, made afresh from options for every realization (so that none depends on which
   realization the process computed before it). */
typedef struct {
  Tao     tao;    /* minimizer: default bncg, -tao_* */
  KSP     newton; /* Newton polish and positive-definiteness check: -khgps_newton_ksp_*, -khgps_newton_pc_* */
  EPS     eps;    /* lowest eigenpairs: Krylov-Schur, shift-invert at 0 (sparse: Jacobi-Davidson), -eps_*, -st_* */
  MatType htype;  /* storage: packed (1 rank), scalapack (more), dense, aij (sparse); -khgps_hessian_mat_type */
  /* packed storage: one factorization serves the minimum test, the Newton polish and the spectrum,
     which a block Krylov-Schur iteration takes (-khgps_eigensolver block, blockeig.c) */
  PetscBool block;     /* the block eigensolver instead of the EPS */
  PetscInt  block_size; /* right-hand sides per solve, -khgps_block_size */
  PetscInt  block_ncv;  /* largest basis, -khgps_block_ncv */
  PetscInt  block_max_restarts; /* -khgps_block_max_restarts */
  PetscReal block_tol;  /* relative residual of a converged pair (the EPS tolerance, -eps_tol) */
  /* Chebyshev-filtered subspace iteration (-khgps_eigensolver chfsi, chfsi.c) */
  PetscBool chfsi;         /* ChFSI instead of the EPS */
  PetscInt  chfsi_degree;  /* filter degree per outer iteration, -khgps_chfsi_degree */
  PetscInt  chfsi_guard;   /* columns beyond nev, -khgps_chfsi_guard */
  PetscInt  chfsi_block;   /* columns per sparse-times-dense product, -khgps_chfsi_block */
  PetscInt  chfsi_max_its; /* outer iterations before giving up, -khgps_chfsi_max_its */
  PetscInt  chfsi_lanczos; /* Lanczos steps for the spectrum's bounds, -khgps_chfsi_lanczos */
  /* Krylov-Schur on a Chebyshev polynomial of the sparse M (filter.c) */
  PetscInt  filter_degree; /* -khgps_filter_degree, 0: the EPS on M itself */
  PetscReal filter_cut;    /* -khgps_filter_cut: the damped interval starts here */
  PetscBool filter_cut_set; /* else: the interlacing bound of the nev-th eigenvalue */
} KhgpsSolvers;

/* options.c */
PetscErrorCode KhgpsProcessOptions(MPI_Comm, KhgpsParams *);
PetscErrorCode KhgpsCheckUnusedOptions(MPI_Comm, const char *);

/* rng.c */
PetscReal KhgpsUniform(PetscInt64 seed, PetscInt realization, PetscInt stream, PetscInt i);
PetscReal KhgpsUniformAt(PetscInt64 seed, PetscInt realization, PetscInt stream, PetscInt i, PetscInt s);
void      KhgpsNormal2(PetscInt64 seed, PetscInt realization, PetscInt i, PetscInt m, PetscReal z[2]);
PetscReal KhgpsNormalPair(PetscInt64 seed, PetscInt realization, PetscInt i, PetscInt j);
/* A coupling is its draw rounded to float32, in every storage (dense, ScaLAPACK, packed, sparse):
   the packed storage keeps J in float32, and the realization is the same everywhere. */
static inline PetscReal KhgpsCoupling(PetscReal v)
{
  return (PetscReal)(float)v;
}

/* model.c */
PetscErrorCode KhgpsModelCreate(MPI_Comm, const KhgpsParams *, MatType, KhgpsModel *);
PetscErrorCode KhgpsModelDestroy(KhgpsModel *);
PetscErrorCode KhgpsFormFunctionGradient(Tao, Vec, PetscReal *, Vec, void *);
PetscErrorCode KhgpsFormHessianDiagonal(KhgpsModel *, Vec, Vec);
PetscErrorCode KhgpsFormHessian(KhgpsModel *, Vec, MatType, Mat *);

/* sparse.c */
PetscErrorCode KhgpsSparseCouplings(MPI_Comm, const KhgpsParams *, PetscInt, Mat *);

/* packed.c */
#define KHGPS_PACKED "packed"
PetscErrorCode KhgpsPackedCreateJ(MPI_Comm, KhgpsModel *);
PetscErrorCode KhgpsPackedCreateHessian(KhgpsModel *, Mat *);
PetscErrorCode KhgpsPackedSetPC(PC);
PetscErrorCode KhgpsPackedFactor(KhgpsModel *, PetscBool, PetscBLASInt *);
/* symvf.c */
PetscErrorCode KhgpsSymvF32(PetscInt, const PetscScalar *, PetscInt, PetscInt, const PetscScalar *, PetscInt, PetscScalar *, PetscInt);
/* J_ij (i < j) of the packed buffer B: a float in column j's upper part, columns ldf floats apart
   (2N in the double-precision buffer, N in the single-precision one: KhgpsModel.ldf) */
#define KHGPS_PACKED_J(B, ldf, i, j) ((PetscReal)((const float *)(B))[(size_t)(j) * (ldf) + (i)])
PetscErrorCode KhgpsPackedSolve(KhgpsModel *, PetscInt, PetscScalar *, PetscInt);
PetscErrorCode KhgpsPackedToDouble(KhgpsModel *);
PetscErrorCode KhgpsTriSolveF32(PetscInt, const float *, PetscInt, PetscScalar *, PetscInt);
PetscBool      KhgpsTriSolveAvailable(PetscInt, PetscInt);
int            KhgpsBLASThreads(int);
void           KhgpsGemmThreads(const char *, const char *, PetscInt, PetscInt, PetscInt, PetscScalar, const PetscScalar *, PetscInt, const PetscScalar *, PetscInt, PetscScalar, PetscScalar *, PetscInt);
PetscErrorCode KhgpsTriSolve(PetscInt, const PetscScalar *, PetscInt, PetscScalar *, PetscInt);
PetscErrorCode KhgpsPackedHessianMult(KhgpsModel *, const PetscScalar *, PetscInt, const PetscScalar *, PetscInt, PetscScalar *, PetscInt);

/* minimize.c */
PetscErrorCode KhgpsMinimizerCreate(MPI_Comm, const KhgpsParams *, Tao *);
PetscErrorCode KhgpsMinimize(Tao, KhgpsModel *, const KhgpsParams *, KhgpsResult *);

/* spectrum.c */
PetscErrorCode KhgpsSolversCreate(MPI_Comm, const KhgpsParams *, KhgpsSolvers *);
PetscErrorCode KhgpsSolversDestroy(KhgpsSolvers *);
PetscErrorCode KhgpsPolishAndCheck(KhgpsSolvers *, KhgpsModel *, const KhgpsParams *, Mat *, KhgpsResult *);
PetscErrorCode KhgpsSpectrum(KhgpsSolvers *, KhgpsModel *, const KhgpsParams *, Mat, KhgpsResult *);
PetscErrorCode KhgpsResultSetPairs(KhgpsResult *, PetscInt, PetscReal *);
PetscErrorCode KhgpsParticipationRatio(Vec, PetscReal *);

/* dense.c: small dense kernels of the block eigensolvers, and page population */
void           KhgpsPopulate(void *, size_t);
void           KhgpsSetAVX512(PetscBool);
PetscBool      KhgpsAVX512(void);
const char    *KhgpsSimdName(void);
void           KhgpsGemm(const char *, const char *, PetscInt, PetscInt, PetscInt, PetscScalar, const PetscScalar *, PetscInt, const PetscScalar *, PetscInt, PetscScalar, PetscScalar *, PetscInt);
PetscErrorCode KhgpsSymEig(PetscInt, const PetscScalar *, PetscInt, PetscScalar *, PetscReal *);
PetscErrorCode KhgpsCombineColumns(PetscInt, PetscScalar *, PetscInt, PetscInt, const PetscScalar *, PetscInt, PetscInt);
PetscErrorCode KhgpsCombineColumnsThreads(PetscInt, PetscScalar *, PetscInt, PetscInt, const PetscScalar *, PetscInt, PetscInt, PetscBool);
/* blockeig.c */
PetscErrorCode KhgpsBlockSpectrum(const KhgpsSolvers *, KhgpsModel *, const KhgpsParams *, KhgpsResult *);

/* chfsi.c */
PetscErrorCode KhgpsChfsiSpectrum(const KhgpsSolvers *, const KhgpsParams *, Mat, KhgpsResult *);
PetscErrorCode KhgpsSpectrumBounds(Mat, const KhgpsParams *, PetscInt, PetscReal *, PetscReal *, PetscReal *);
/* filter.c */
PetscErrorCode KhgpsFilterSpectrum(KhgpsSolvers *, const KhgpsParams *, Mat, KhgpsResult *, PetscBool *);

/* io.c */
PetscErrorCode KhgpsPrepareOutput(MPI_Comm, KhgpsParams *, PetscInt *, PetscInt **);
PetscErrorCode KhgpsAppend(const KhgpsParams *, const KhgpsSolvers *, PetscInt, KhgpsRecord *, PetscReal *);

/* blascore.c: the BLAS library and OpenBLAS core (root attribute blas_core, -log_view) */
const char    *KhgpsBLASCore(void);
PetscErrorCode KhgpsBLASCoreWarning(char *, size_t);

/* ensemble.c */
PetscErrorCode KhgpsResultDestroy(KhgpsResult *);
PetscErrorCode KhgpsRecordDestroy(KhgpsRecord *);
PetscErrorCode KhgpsRunRealization(MPI_Comm, const KhgpsParams *, KhgpsRecord *);
PetscErrorCode KhgpsRunEnsemble(MPI_Comm, const KhgpsParams *, PetscInt, const PetscInt *);

#endif
