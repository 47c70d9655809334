/* khgps_solvers.h: the solvers of a realization: minimizer and Newton polish (minimize.c), the
   Hessian's factorization (factor.c), eigensolvers (spectrum.c, blockeig.c, filter.c). Each
   PETSc object is made afresh for every realization where it is used (so that none depends on
   which realization the process computed before it), from p->solver and then its own options
   (-tao_*, -khgps_newton_*, -eps_*, -st_*). */
#ifndef KHGPS_SOLVERS_H
#define KHGPS_SOLVERS_H

#include <slepceps.h>
#include "khgps_model.h"
#include "khgps_result.h"

/* minimize.c: the Minimize stage (starting point, TAO, Newton polish); the creators are also
   called once at set-up (main.c) to check the options and describe the protocol */
PetscErrorCode KhgpsMinimizerCreate(MPI_Comm, const KhgpsParams *, Tao *);
PetscErrorCode KhgpsNewtonCreate(MPI_Comm, const KhgpsParams *, KSP *);
PetscErrorCode KhgpsMinimize(MPI_Comm, KhgpsModel *, const KhgpsParams *, Mat *, KhgpsResult *);

/* factor.c: the Hessian's Cholesky (Newton polish and shift-invert) */
PetscErrorCode KhgpsHessianDefaultFactor(PC, MatType);
PetscErrorCode KhgpsHessianSetCholesky(KSP, Mat, PetscBool);
PetscBool      KhgpsIndefiniteError(PetscErrorCode);

/* spectrum.c: the Spectrum stage */
PetscErrorCode KhgpsEigensolverCreate(MPI_Comm, const KhgpsParams *, EPS *);
PetscErrorCode KhgpsEigensolverCheck(MPI_Comm, const KhgpsParams *, EPS);
PetscErrorCode KhgpsSpectrum(MPI_Comm, KhgpsModel *, const KhgpsParams *, Mat, KhgpsResult *);

/* result.c: the saved modes (-khgps_save_modes) of the EPS-based eigensolvers (spectrum.c, filter.c) */
PetscErrorCode KhgpsSaveModes(EPS, PetscInt, PetscInt, const PetscReal *, const PetscInt *, Vec, KhgpsResult *);

/* blockeig.c: nev pairs of the packed factor (and the lowest save_modes eigenvectors); tol: a converged
   pair's relative residual (-eps_tol) */
PetscErrorCode KhgpsBlockSpectrum(KhgpsModel *, const KhgpsSolverOptions *, PetscInt nev, PetscInt save_modes, KhgpsKey, PetscReal tol, KhgpsResult *);

/* filter.c: sparse M */
PetscErrorCode KhgpsSpectrumBounds(Mat, KhgpsKey, PetscInt, PetscReal *, PetscReal *, PetscReal *);
PetscErrorCode KhgpsFilterSpectrum(EPS, const KhgpsSolverOptions *, PetscInt nev, PetscInt save_modes, KhgpsKey, Mat, KhgpsResult *, PetscBool *);

#endif
