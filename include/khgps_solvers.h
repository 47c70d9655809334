/* khgps_solvers.h: minimizer, Newton polish and eigensolvers of a realization (minimize.c, spectrum.c, blockeig.c, filter.c). */
#ifndef KHGPS_SOLVERS_H
#define KHGPS_SOLVERS_H

#include <slepceps.h>
#include "khgps_model.h"
#include "khgps_result.h"

/* The solvers of one realization: PETSc objects made afresh for every realization (so that none
   depends on which realization the process computed before it) from p->solver and -tao_*,
   -eps_*, -st_*, -khgps_newton_* options. */
typedef struct {
  Tao       tao;       /* minimizer: default bncg, -tao_*, -khgps_minimizer (minimize.c) */
  KSP       newton;    /* Newton polish and positive-definiteness check: -khgps_newton_ksp_*, -khgps_newton_pc_* */
  EPS       eps;       /* lowest eigenpairs: Krylov-Schur, shift-invert at 0 (sparse: on M or its filter), -eps_*, -st_* */
  PetscReal block_tol; /* relative residual of a converged pair for the own eigensolvers (the EPS tolerance, -eps_tol) */
} KhgpsSolvers;

/* minimize.c */
PetscErrorCode KhgpsMinimizerCreate(MPI_Comm, const KhgpsParams *, Tao *);
PetscErrorCode KhgpsMinimize(Tao, KhgpsModel *, const KhgpsParams *, KhgpsResult *);

/* spectrum.c */
PetscErrorCode KhgpsSolversCreate(MPI_Comm, const KhgpsParams *, KhgpsSolvers *);
PetscErrorCode KhgpsSolversDestroy(KhgpsSolvers *);
PetscErrorCode KhgpsSolversCheck(MPI_Comm, const KhgpsParams *, KhgpsSolvers *);
PetscErrorCode KhgpsPolishAndCheck(KhgpsSolvers *, KhgpsModel *, const KhgpsParams *, Mat *, KhgpsResult *);
PetscErrorCode KhgpsSpectrum(KhgpsSolvers *, KhgpsModel *, const KhgpsParams *, Mat, KhgpsResult *);
PetscErrorCode KhgpsSaveModes(EPS, PetscInt, PetscInt, const PetscReal *, const PetscInt *, Vec, KhgpsResult *);

/* blockeig.c */
PetscErrorCode KhgpsBlockSpectrum(const KhgpsSolvers *, KhgpsModel *, const KhgpsParams *, KhgpsResult *);

/* filter.c */
PetscErrorCode KhgpsSpectrumBounds(Mat, const KhgpsParams *, PetscInt, PetscReal *, PetscReal *, PetscReal *);
PetscErrorCode KhgpsFilterSpectrum(KhgpsSolvers *, const KhgpsParams *, Mat, KhgpsResult *, PetscBool *);

#endif
