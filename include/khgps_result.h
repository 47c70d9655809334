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

/* The thermal start's parent sample (thermal.c): averages over the chain's measured sweeps, with
   batch-means standard errors; all zero when the start is not thermal. */
typedef struct {
  PetscReal energy, energy_error; /* H/N */
  PetscReal x2, x2_error;         /* sum x_i^2 / N */
  PetscReal acceptance;           /* accepted / attempted moves */
  PetscReal drift;                /* (mean H, second half - first half) / its standard error */
  PetscInt  sweeps;               /* sweeps of the chain */
  PetscReal time;                 /* wall seconds of the chain (couplings drawn again included) */
} KhgpsThermalStats;

/* What minimization and spectrum produce for one realization. */
typedef struct {
  Vec                x;                                       /* the minimizer (or wherever TAO stopped) */
  PetscReal          energy;                                  /* H(x) */
  PetscReal          gnorm_tao;                               /* ||grad H||_2 when TAO stopped */
  PetscReal          gnorm;                                   /* ||grad H||_2 after the Newton polish */
  PetscInt           tao_its;                                 /* TAO iterations */
  PetscInt           tao_nfuncs;                              /* objective+gradient evaluations */
  TaoConvergedReason tao_reason;                              /* TAO's converged reason */
  PetscInt           polish_done;                             /* Newton steps taken */
  PetscBool          factor_ok;                               /* the Cholesky factorization of the Hessian succeeded (single: lowest eigenvalue minus its error bound > 0) */
  PetscInt           factor_precision;                        /* KhgpsFactorPrecision the spectrum ran with */
  KhgpsStatus        status;                                  /* minimum / not converged / saddle */
  PetscInt           nconv;                                   /* eigenpairs computed (<= nev) */
  PetscReal         *eig;                                     /* lowest eigenvalues omega^2, ascending [nconv] */
  PetscReal         *pr;                                      /* participation ratios [nconv] */
  PetscReal         *resid;                                   /* relative residuals ||M v - l v|| / |l| [nconv] */
  PetscReal          t_draw, t_minimize, t_spectrum, t_write; /* wall seconds per stage */
  KhgpsThermalStats  thermal;                                 /* the thermal start's parent sample */
  PetscInt           nmodes;                                  /* -khgps_save_modes: the lowest nmodes (<= nconv) eigenvectors ... */
  PetscReal         *modes;                                   /* ... on the first rank of the realization, [nmodes][N] (unit norm, float32 values) */
} KhgpsResult;

/* One realization's results gathered as plain arrays on one rank: what the file stores. */
typedef struct {
  PetscInt          realization; /* index */
  PetscInt          ranks;       /* MPI ranks that computed it */
  PetscInt          run;         /* the run that computed it: /runs/NNNN of the file */
  PetscInt          N, nconv;    /* sizes */
  PetscReal         energy, gnorm, gnorm_tao, lowest;
  PetscInt          tao_its, tao_nfuncs, tao_reason, polish_done, factor_ok, status, factor_precision;
  PetscReal         t_draw, t_minimize, t_spectrum; /* wall seconds per stage */
  KhgpsThermalStats thermal;                        /* the thermal start's parent sample */
  PetscReal        *kappa, *x;                      /* [N] */
  PetscReal        *eig, *pr, *resid;               /* [nconv] */
  PetscInt          nmodes;                         /* eigenvectors saved (-khgps_save_modes, <= nconv) */
  PetscReal        *modes;                          /* [nmodes][N], float32 values, or NULL */
  PetscReal        *J;                              /* [N*N] row-major, or NULL */
} KhgpsRecord;

/* record.c: the fields of a record, listed once (a new output field is one line there) */
typedef struct {
  const char        *name;     /* attribute name in the file */
  size_t             offset;   /* of the member in KhgpsRecord */
  PetscBool          isint;    /* PetscInt, else PetscReal */
  const char *const *names;    /* an enum written by name (a string attribute), or NULL */
  PetscBool          optional; /* absent in files of an older khgps (resume accepts them) */
} KhgpsRecordScalar;
/* The length of an array field: N, nconv, or nmodes x N (a 2-D dataset). */
typedef enum {
  KHGPS_LENGTH_N,
  KHGPS_LENGTH_NCONV,
  KHGPS_LENGTH_MODES
} KhgpsRecordLength;
extern const char *const KhgpsRecordLengthNames[]; /* "N", "nconv", "nmodes*N": the log header's and format.json's names */
typedef struct {
  const char       *name;     /* dataset name in the file */
  size_t            offset;   /* of the PetscReal * member in KhgpsRecord */
  KhgpsRecordLength length;   /* N, nconv, or nmodes x N */
  PetscBool         float32;  /* stored as float32 (else float64) */
  PetscBool         optional; /* may be absent (written only when saved), and absent in older files */
} KhgpsRecordArray;
/* The packed record (KhgpsRecordPack, the log's records) starts with these counts, then the
   scalars of the table, the arrays, J. */
#define KHGPS_RECORD_HEAD 4
extern const char *const KhgpsRecordHead[];    /* N, nconv, has_J, nmodes */
#define KHGPS_FORMAT         "khgps-1"         /* root attribute format of a run file */
#define KHGPS_PENDING_FORMAT "khgps-pending-1" /* first line of FILE.pending */
/* The record's layout as the log's header states it (lines "record ...", "arrays ...", "enum ...") */
void                           KhgpsRecordLayout(char *, size_t);
extern const KhgpsRecordScalar KhgpsRecordScalars[];
extern const int               KhgpsRecordNScalars;
extern const KhgpsRecordArray  KhgpsRecordArrays[];
extern const int               KhgpsRecordNArrays;
PetscReal                      KhgpsRecordGet(const KhgpsRecord *, const KhgpsRecordScalar *);
PetscReal                     *KhgpsRecordArrayGet(const KhgpsRecord *, const KhgpsRecordArray *, PetscInt *);
PetscErrorCode                 KhgpsRecordPack(const KhgpsRecord *, PetscInt *, PetscReal **);
PetscErrorCode                 KhgpsRecordUnpack(const PetscReal *, KhgpsRecord *);
PetscErrorCode                 KhgpsRecordDestroy(KhgpsRecord *);

/* result.c: a realization's pairs, from every eigensolver */
PetscErrorCode KhgpsResultSetPairs(KhgpsResult *, PetscInt, PetscReal *);
PetscErrorCode KhgpsResultModesFromArray(KhgpsResult *, PetscInt, PetscInt, const PetscScalar *);
PetscErrorCode KhgpsResultModeFromVec(KhgpsResult *, PetscInt, PetscInt, Vec);
void           KhgpsLowestIndices(PetscInt, const PetscReal *, PetscInt, PetscInt *);
PetscErrorCode KhgpsParticipationRatio(Vec, PetscReal *);
PetscErrorCode KhgpsResultDestroy(KhgpsResult *);

#endif
