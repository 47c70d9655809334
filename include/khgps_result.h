/* khgps_result.h: what a realization produces (result.c) and the record the file stores (record.c). */
#ifndef KHGPS_RESULT_H
#define KHGPS_RESULT_H

#include <petsctao.h>
#include "khgps_options.h"

/* Which factor the spectrum used (per realization, attribute factor_precision). */
typedef enum {
  KHGPS_FACTOR_DOUBLE   = 0, /* double (the default, and every storage but packed) */
  KHGPS_FACTOR_SINGLE   = 1, /* float32 factor of the packed Hessian, pairs refined with the double M */
  KHGPS_FACTOR_FALLBACK = 2  /* single asked for, its factorization or its outer iteration failed: double */
} KhgpsFactorPrecision;
extern const char *const KhgpsFactorPrecisionNames[];

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
  PetscInt   run;         /* the run that computed it: /runs/NNNN of the file */
  PetscInt   N, nconv;    /* sizes */
  PetscReal  energy, gnorm, gnorm_tao, lowest;
  PetscInt   tao_its, tao_nfuncs, tao_reason, polish_done, factor_ok, status, factor_precision;
  PetscReal  t_draw, t_minimize, t_spectrum; /* wall seconds per stage */
  PetscReal *kappa, *x;             /* [N] */
  PetscReal *eig, *pr, *resid;      /* [nconv] */
  PetscReal *J;                     /* [N*N] row-major, or NULL */
} KhgpsRecord;

/* record.c: the fields of a record, listed once (a new output field is one line there) */
typedef struct {
  const char *name;   /* attribute name in the file */
  size_t      offset; /* of the member in KhgpsRecord */
  PetscBool   isint;  /* PetscInt, else PetscReal */
  const char *const *names; /* an enum written by name (a string attribute), or NULL */
  PetscBool   optional; /* absent in files of an older khgps (resume accepts them) */
} KhgpsRecordScalar;
typedef struct {
  const char *name;     /* dataset name in the file */
  size_t      offset;   /* of the PetscReal * member in KhgpsRecord */
  PetscBool   per_pair; /* length nconv, else N */
} KhgpsRecordArray;
extern const KhgpsRecordScalar KhgpsRecordScalars[];
extern const int               KhgpsRecordNScalars;
extern const KhgpsRecordArray  KhgpsRecordArrays[];
extern const int               KhgpsRecordNArrays;
PetscReal      KhgpsRecordGet(const KhgpsRecord *, const KhgpsRecordScalar *);
PetscReal     *KhgpsRecordArrayGet(const KhgpsRecord *, const KhgpsRecordArray *, PetscInt *);
PetscErrorCode KhgpsRecordPack(const KhgpsRecord *, PetscInt *, PetscReal **);
PetscErrorCode KhgpsRecordUnpack(const PetscReal *, KhgpsRecord *);
PetscErrorCode KhgpsRecordDestroy(KhgpsRecord *);

/* result.c: a realization's pairs, from every eigensolver */
PetscErrorCode KhgpsResultSetPairs(KhgpsResult *, PetscInt, PetscReal *);
PetscErrorCode KhgpsParticipationRatio(Vec, PetscReal *);
PetscErrorCode KhgpsResultDestroy(KhgpsResult *);

#endif
