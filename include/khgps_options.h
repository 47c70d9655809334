/* khgps_options.h: the run parameters and solver settings (options.c): what every stage reads. */
#ifndef KHGPS_OPTIONS_H
#define KHGPS_OPTIONS_H

#include <petscmat.h>

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
extern const char *const KhgpsCouplingTypes[];

/* Where the minimization starts (-khgps_start; the integer is its index in KhgpsStartNames). */
typedef enum {
  KHGPS_START_ZERO    = 0, /* x = 0 */
  KHGPS_START_RANDOM  = 1, /* x_i uniform in [-a, a], -khgps_x0_amplitude a */
  KHGPS_START_THERMAL = 2  /* a sample of exp(-H/T) by a Metropolis chain (thermal.c) */
} KhgpsStart;
extern const char *const KhgpsStartNames[];

/* Solver settings: the -khgps_ solver options, read once at set-up with the run parameters. */
typedef struct {
  MatType   htype;               /* storage: packed (1 rank), scalapack (more), dense, aij (sparse); -khgps_hessian_mat_type */
  PetscBool newton_factor;       /* a factorization per Newton step instead of CG + Jacobi, -khgps_newton_factor */
  PetscBool packed_lapack_solve; /* packed: LAPACK potrs for single right-hand sides, -khgps_packed_lapack_solve */
  PetscBool packed_trsolve;      /* packed: blocks of right-hand sides by trsolve.c, -khgps_packed_trsolve */
  PetscBool factor_single;       /* packed: float32 Hessian factor, pairs refined with the double M, -khgps_factor_precision single */
  PetscBool factor_single_fail;  /* treat the float32 factorization as failed (tests the fallback), -khgps_factor_single_fail */
  /* packed storage: one factorization serves the minimum test, the Newton polish and the spectrum,
     which a block Krylov-Schur iteration takes (-khgps_eigensolver block, blockeig.c) */
  PetscBool block;              /* the block eigensolver instead of the EPS */
  PetscInt  block_size;         /* right-hand sides per solve, -khgps_block_size */
  PetscInt  block_ncv;          /* largest basis, -khgps_block_ncv */
  PetscInt  block_max_restarts; /* -khgps_block_max_restarts */
  /* Krylov-Schur on a Chebyshev polynomial of the sparse M (filter.c) */
  PetscInt  filter_degree;  /* -khgps_filter_degree, 0: the EPS on M itself */
  PetscReal filter_cut;     /* -khgps_filter_cut: the damped interval starts here */
  PetscBool filter_cut_set; /* else: the interlacing bound of the nev-th eigenvalue */
} KhgpsSolverOptions;

/* Run parameters, all read from -khgps_* options in KhgpsProcessOptions(), once. */
typedef struct {
  PetscInt           N;                          /* number of oscillators */
  PetscReal          kappa0;                     /* upper end of the stiffness distribution */
  PetscReal          kappa_min;                  /* lower end of the stiffness distribution (0: the paper) */
  PetscReal          J;                          /* coupling strength: Var(J_ij) = J^2/N (dense), J^2/c (sparse) */
  PetscBool          sparse;                     /* diluted couplings: each pair with probability c/N */
  PetscReal          connectivity;               /* c, the mean number of couplings per oscillator (sparse) */
  PetscReal          h;                          /* constant field */
  PetscReal          A;                          /* quartic anharmonicity */
  PetscInt64         seed;                       /* random seed in [0, 2^63) (with the realization index, the Philox key) */
  PetscInt           realization;                /* realization being computed (set per realization) */
  PetscInt           first;                      /* first realization index of the run */
  PetscInt           realizations;               /* number of realizations of the run */
  PetscInt           groups;                     /* MPI sub-communicators sharing out the realizations */
  PetscReal          x0_amplitude;               /* start from x_i uniform in [-a, a] (0: from x = 0) */
  KhgpsStart         start;                      /* zero, random (x0_amplitude) or thermal, -khgps_start */
  PetscReal          parent_temperature;         /* thermal: T of the parent sample, -khgps_parent_temperature */
  PetscInt           equilibration_sweeps;       /* thermal: sweeps (N attempted moves each) of the chain */
  PetscInt           adapt_sweeps;               /* thermal: the first sweeps, where the proposal widths adapt */
  PetscInt           measure_sweeps;             /* thermal: the last sweeps, where the parent averages are taken */
  PetscInt           nev;                        /* number of lowest eigenpairs wanted */
  PetscReal          gtol;                       /* a minimum needs ||grad H||_2 <= gtol after the polish */
  PetscInt           polish_its;                 /* Newton steps after TAO (each one factorization) */
  PetscBool          save_couplings;             /* write J itself to the output file */
  PetscInt           save_modes;                 /* write the lowest save_modes eigenvectors (float32) of each realization */
  PetscBool          overwrite;                  /* start over: replace an existing output file */
  char               output[PETSC_MAX_PATH_LEN]; /* output HDF5 file ("" : none) */
  KhgpsSolverOptions solver;                     /* the solver settings */
} KhgpsParams;

/* A realization's key: with a stream and a counter it fixes every random draw (rng.c). What the
   solvers that draw (the block eigensolver's start, the filter's bounds) take instead of the
   whole parameter set. */
typedef struct {
  PetscInt64 seed;
  PetscInt   realization;
} KhgpsKey;
static inline KhgpsKey KhgpsParamsKey(const KhgpsParams *p)
{
  return (KhgpsKey){p->seed, p->realization};
}

/* the packed storage's type name (packed.c), a -khgps_hessian_mat_type value */
#define KHGPS_PACKED "packed"

/* options.c */
PetscErrorCode KhgpsProcessOptions(MPI_Comm, KhgpsParams *);
PetscErrorCode KhgpsCheckUnusedOptions(MPI_Comm, const KhgpsParams *);
PetscErrorCode KhgpsCheckOptionsText(MPI_Comm);
void           KhgpsNameOptionInMessage(const char *, char *, size_t);
#define KHGPS_MAX_OPTIONS_TEXT 65000 /* characters of all options: the run file's attribute (64 KiB) */
PetscErrorCode KhgpsCheckMemory(MPI_Comm, const KhgpsParams *);
PetscErrorCode KhgpsOptionsInt(PetscOptionItems *, const char *, const char *, PetscInt64, PetscInt64, const char *, PetscInt *, PetscBool *);
PetscErrorCode KhgpsOptionsReal(PetscOptionItems *, const char *, const char *, PetscReal *, PetscBool *);

#endif
