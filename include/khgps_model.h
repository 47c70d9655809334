/* khgps_model.h: one realization of the model: couplings, stiffnesses, energy, gradient and Hessian (model.c, sparse.c, packed.c). */
#ifndef KHGPS_MODEL_H
#define KHGPS_MODEL_H

#include <petsctao.h>
#include "khgps_options.h"
#include "khgps_repro.h"

/* The packed storage of one realization on one rank: J (float32) in the strict upper triangle's
   space, the Hessian and its factor in the lower triangle, one N x N buffer. Its members are read
   by packed.c and by model.c, which fills it; the other files use packed.c's functions below. */
typedef struct {
  PetscScalar  *B;            /* column-major N x N, or NULL for a dense/ScaLAPACK/sparse J */
  Vec           hdiag;        /* Hessian diagonal kappa + A x^2/2 of the packed Hessian */
  PetscBLASInt *ipiv;         /* pivots of an indefinite (sytrf) packed factorization */
  PetscBool     spd;          /* factor the packed Hessian with potrf (else sytrf) */
  PetscBool     factored_spd; /* the lower triangle holds a potrf (true) or sytrf factor */
  PetscInt      ldf;          /* floats between J's columns: 2N (double buffer, 8N^2 bytes) or N (single, 4N^2) */
  PetscBool     single;       /* B is the single-precision buffer: J strict upper, float32 Hessian factor lower (N x N floats) */
  PetscBool     single_fail;  /* treat the float32 factorization as failed (-khgps_factor_single_fail) */
  PetscBool     fell_back;    /* single was given up for the double buffer (KhgpsPackedToDouble) */
} KhgpsPackedStorage;

/* How the model's products and solves are done (from p->solver and the machine). */
typedef struct {
  PetscBool lapack_solve; /* packed: single right-hand sides by LAPACK potrs instead of the blocked dgemv solve */
  PetscBool trsolve;      /* packed: blocks of right-hand sides by trsolve.c, not potrs */
  PetscBool release_J;    /* free the dense J once a ScaLAPACK Hessian holds it (J x = M x - d x) */
} KhgpsModelSwitches;

/* One realization of the model: the TAO callbacks' context. */
typedef struct {
  /* physics */
  PetscReal A, h;  /* quartic coefficient and field */
  PetscInt  N;     /* size */
  MatType   htype; /* storage of J and the Hessian: packed, dense, scalapack or aij (KhgpsModelCreate) */
  /* data */
  Mat          J;     /* couplings, symmetric, zero diagonal (dense, ScaLAPACK or sparse; NULL when packed) */
  Vec          kappa; /* harmonic stiffnesses */
  KhgpsOrdered Jord;  /* sparse: J x with each row summed in global column order (repro.c) */
  Mat          Hj;    /* ScaLAPACK Hessian that J x is computed from once J is freed (borrowed) */
  /* storage and switches */
  KhgpsPackedStorage packed; /* one rank, packed storage */
  KhgpsModelSwitches sw;
  /* work space */
  Vec        Jx;    /* J x, from the one MatMult per evaluation */
  PetscReal *eterm; /* the energy's local terms, summed reproducibly */
} KhgpsModel;

/* model.c */
PetscErrorCode KhgpsModelCreate(MPI_Comm, const KhgpsParams *, KhgpsModel *);
PetscErrorCode KhgpsModelDestroy(KhgpsModel *);
PetscErrorCode KhgpsFormFunctionGradient(Tao, Vec, PetscReal *, Vec, void *);
PetscErrorCode KhgpsFormHessianDiagonal(KhgpsModel *, Vec, Vec);
PetscErrorCode KhgpsFormHessian(KhgpsModel *, Vec, Mat *);

/* sparse.c */
PetscErrorCode KhgpsSparseCouplings(MPI_Comm, const KhgpsParams *, PetscInt, Mat *);

/* packed.c */
PetscErrorCode KhgpsPackedCreateJ(MPI_Comm, KhgpsModel *);
PetscErrorCode KhgpsPackedCreateHessian(KhgpsModel *, Mat *);
PetscErrorCode KhgpsPackedSetPC(PC);
PetscErrorCode KhgpsPackedFactor(KhgpsModel *, PetscBool, PetscBLASInt *);
PetscErrorCode KhgpsPackedSolve(KhgpsModel *, PetscInt, PetscScalar *, PetscInt);
PetscErrorCode KhgpsPackedToDouble(KhgpsModel *);
PetscErrorCode KhgpsPackedHessianMult(KhgpsModel *, const PetscScalar *, PetscInt, const PetscScalar *, PetscInt, PetscScalar *, PetscInt);
PetscErrorCode KhgpsPackedSetSPD(Mat, PetscBool);
PetscInt       KhgpsPackedPrecision(const KhgpsModel *); /* a KhgpsFactorPrecision (khgps_result.h) */
Vec            KhgpsPackedHessianDiagonal(const KhgpsModel *);
PetscBool      KhgpsPackedOwnSolves(const KhgpsModel *, PetscInt);
void           KhgpsPackedCopyCouplings(const KhgpsModel *, PetscReal *);

#endif
