/* options.c: the -khgps_* options (all listed by -help), their defaults and their checks. */
#include <errno.h>
#include <stdlib.h>
#include "khgps.h"

const char *const KhgpsCouplingTypes[] = {"dense", "sparse"};
const char *const KhgpsFactorPrecisionNames[] = {"double", "single", "single->double", NULL};
const char *const KhgpsStatusNames[] = {"minimum", "not_converged", "saddle", "KhgpsStatus", "KHGPS_", NULL};

/* A non-negative 64-bit integer option, parsed with overflow and garbage checks (a 32-bit
   PetscInt would silently wrap a seed like 4294967301 to 5). */
static PetscErrorCode OptionsIndex(PetscOptionItems *PetscOptionsObject, const char *name, const char *text, PetscInt64 *v, PetscBool *set)
{
  char      buf[64], *end;
  PetscBool flg;
  long long x;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(buf, sizeof(buf), "%" PetscInt64_FMT, *v));
  PetscCall(PetscOptionsString(name, text, "khgps", buf, buf, sizeof(buf), &flg));
  if (set) *set = flg;
  if (!flg) PetscFunctionReturn(0);
  errno = 0;
  x     = strtoll(buf, &end, 10);
  PetscCheck(!errno && end != buf && !*end && x >= 0, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "-khgps_%s %s: need an integer in [0, 2^63)", name + 1, buf);
  *v = (PetscInt64)x;
  PetscFunctionReturn(0);
}

PetscErrorCode KhgpsProcessOptions(MPI_Comm comm, KhgpsParams *p)
{
  PetscBool   nevset, firstset, realset;
  PetscInt64  first, nreal;
  PetscInt    coupling = 0;
  PetscMPIInt size;

  PetscFunctionBeginUser;
  /* model */
  p->N         = 2000;
  p->kappa0    = 1.0;
  p->kappa_min = 0.0;
  p->J         = 0.1;
  p->sparse       = PETSC_FALSE;
  p->connectivity = 20;
  p->h         = 0.01;
  p->A         = 1.0;
  /* realization */
  p->seed         = 1;
  p->realization  = 0;
  p->first        = 0;
  p->realizations = 1;
  p->groups       = 1;
  p->x0_amplitude = 0.0;
  /* solvers */
  p->nev        = 100;
  p->gtol       = -1; /* default set below from N */
  p->polish_its = 1;
  /* output */
  p->save_couplings = PETSC_FALSE;
  p->factor_single = PETSC_FALSE; /* -khgps_factor_precision: double until make bench shows single wins at equal accuracy */
  p->factor_single_fail = PETSC_FALSE;
  p->overwrite      = PETSC_FALSE;
  p->output[0]      = 0;

  PetscOptionsBegin(comm, "khgps_", "KHGPS model of quasilocalized vibrations", "khgps");
  PetscCall(PetscOptionsInt("-N", "Number of oscillators", "khgps", p->N, &p->N, NULL));
  PetscCall(PetscOptionsReal("-kappa0", "Upper end of the uniform stiffness distribution", "khgps", p->kappa0, &p->kappa0, NULL));
  PetscCall(PetscOptionsReal("-kappa_min", "Lower end of the uniform stiffness distribution", "khgps", p->kappa_min, &p->kappa_min, NULL));
  PetscCall(PetscOptionsReal("-J", "Coupling strength: J_ij Gaussian with variance J^2/N", "khgps", p->J, &p->J, NULL));
  PetscCall(PetscOptionsEList("-coupling", "Couplings: dense (all pairs, Var J^2/N) or sparse (pairs with probability c/N, Var J^2/c)", "khgps", KhgpsCouplingTypes, 2, KhgpsCouplingTypes[p->sparse], &coupling, NULL));
  p->sparse = (PetscBool)(coupling == 1);
  PetscCall(PetscOptionsReal("-connectivity", "Mean number of couplings per oscillator c (sparse)", "khgps", p->connectivity, &p->connectivity, NULL));
  PetscCall(PetscOptionsReal("-h", "Constant field", "khgps", p->h, &p->h, NULL));
  PetscCall(PetscOptionsReal("-A", "Quartic anharmonicity", "khgps", p->A, &p->A, NULL));
  PetscCall(OptionsIndex(PetscOptionsObject, "-seed", "Random seed in [0, 2^63) (Philox key with the realization index)", &p->seed, NULL));
  first = p->first;
  PetscCall(OptionsIndex(PetscOptionsObject, "-first", "First realization index of the run", &first, &firstset));
  PetscCall(OptionsIndex(PetscOptionsObject, "-realization", "Realization index (the same as -khgps_first)", &first, &realset));
  nreal = p->realizations;
  PetscCall(OptionsIndex(PetscOptionsObject, "-realizations", "Number of realizations of the run", &nreal, NULL));
  PetscCheck(first < 1000000 && nreal <= 1000000, comm, PETSC_ERR_USER_INPUT, "realization indices must stay below 1000000 (six digits in the file)");
  p->first        = (PetscInt)first;
  p->realizations = (PetscInt)nreal;
  PetscCall(PetscOptionsInt("-groups", "MPI groups sharing out the realizations (np/G ranks each)", "khgps", p->groups, &p->groups, NULL));
  PetscCall(PetscOptionsReal("-x0_amplitude", "Start from x_i uniform in [-a,a] (0: from x = 0)", "khgps", p->x0_amplitude, &p->x0_amplitude, NULL));
  PetscCall(PetscOptionsInt("-nev", "Number of lowest Hessian eigenpairs (default min(100, N-1))", "khgps", p->nev, &p->nev, &nevset));
  if (!nevset) p->nev = PetscMin(p->nev, p->N - 1);
  PetscCall(PetscOptionsReal("-gtol", "A minimum needs ||grad H||_2 <= gtol at the end (default 1e-10 sqrt(N))", "khgps", p->gtol, &p->gtol, NULL));
  PetscCall(PetscOptionsInt("-polish_its", "Newton steps after TAO (0: none)", "khgps", p->polish_its, &p->polish_its, NULL));
  PetscCall(PetscOptionsBool("-save_couplings", "Write J to the output file", "khgps", p->save_couplings, &p->save_couplings, NULL));
  {
    const char *const precisions[] = {"double", "single", "KhgpsFactorPrecision", "", NULL};
    PetscEnum         prec         = (PetscEnum)p->factor_single;
    PetscCall(PetscOptionsEnum("-factor_precision", "Packed storage (one rank): factor the Hessian in double (8N^2 bytes in all) or single (float32 factor, 4N^2 bytes; the pairs refined with the double M to the same tolerance); other storages factor in double", "khgps", precisions, prec, &prec, NULL));
    p->factor_single = (PetscBool)(prec == 1);
    PetscCall(PetscOptionsBool("-factor_single_fail", "Treat the float32 factorization as failed (tests the fallback to double)", "khgps", p->factor_single_fail, &p->factor_single_fail, NULL));
  }
  {
    PetscBool avx512 = PETSC_TRUE;
    PetscCall(PetscOptionsBool("-avx512", "khgps' own kernels (packed J x, block triangular solves) may use AVX-512 where the processor has it (0: AVX2)", "khgps", avx512, &avx512, NULL));
    KhgpsSetAVX512(avx512);
  }
  PetscCall(PetscOptionsBool("-overwrite", "Replace an existing output file", "khgps", p->overwrite, &p->overwrite, NULL));
  PetscCall(PetscOptionsString("-output", "Output HDF5 file", "khgps", p->output, p->output, sizeof(p->output), NULL));

  PetscCheck(p->N >= 2, comm, PETSC_ERR_USER_INPUT, "-khgps_N %" PetscInt_FMT ": need N >= 2", p->N);
  PetscCheck(p->kappa0 > p->kappa_min, comm, PETSC_ERR_USER_INPUT, "-khgps_kappa0 %g must be > -khgps_kappa_min %g", (double)p->kappa0, (double)p->kappa_min);
  PetscCheck(p->kappa_min >= 0, comm, PETSC_ERR_USER_INPUT, "-khgps_kappa_min %g must be >= 0", (double)p->kappa_min);
  PetscCheck(p->J >= 0, comm, PETSC_ERR_USER_INPUT, "-khgps_J %g must be >= 0", (double)p->J);
  PetscCheck(!p->sparse || (p->connectivity > 0 && p->connectivity <= p->N), comm, PETSC_ERR_USER_INPUT, "-khgps_connectivity %g must be in (0, N] (N: every pair, the dense model)", (double)p->connectivity);
  PetscCheck(p->A > 0, comm, PETSC_ERR_USER_INPUT, "-khgps_A %g must be > 0", (double)p->A);
  PetscCheck(!(firstset && realset), comm, PETSC_ERR_USER_INPUT, "-khgps_first and -khgps_realization are the same option: give one");
  p->realization = p->first;
  PetscCheck(p->realizations >= 1, comm, PETSC_ERR_USER_INPUT, "-khgps_realizations %" PetscInt_FMT " must be >= 1", p->realizations);
  PetscCheck(p->first + p->realizations <= 1000000, comm, PETSC_ERR_USER_INPUT, "realization indices must stay below 1000000 (six digits in the file)");
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCheck(p->groups >= 1 && size % p->groups == 0, comm, PETSC_ERR_USER_INPUT, "-khgps_groups %" PetscInt_FMT " must divide the number of ranks %d", p->groups, size);
  PetscCheck(!p->save_couplings || p->N <= 20000, comm, PETSC_ERR_USER_INPUT, "-khgps_save_couplings is for N <= 20000 (J takes 8 N^2 bytes per realization)");
  PetscCheck(p->x0_amplitude >= 0, comm, PETSC_ERR_USER_INPUT, "-khgps_x0_amplitude %g must be >= 0", (double)p->x0_amplitude);
  PetscCheck(p->nev >= 1 && p->nev <= p->N - 1, comm, PETSC_ERR_USER_INPUT, "-khgps_nev %" PetscInt_FMT " must be in [1, N-1] = [1, %" PetscInt_FMT "]", p->nev, p->N - 1);
  PetscCheck(p->polish_its >= 0, comm, PETSC_ERR_USER_INPUT, "-khgps_polish_its %" PetscInt_FMT " must be >= 0", p->polish_its);
  PetscCheck(p->gtol == -1 || p->gtol > 0, comm, PETSC_ERR_USER_INPUT, "-khgps_gtol %g must be > 0", (double)p->gtol);
  PetscOptionsEnd();
  if (p->gtol < 0) p->gtol = 1e-10 * PetscSqrtReal((PetscReal)p->N);
  PetscFunctionReturn(0);
}

/* A -khgps_ option that nothing has read is a typo or an unknown option: refuse it before any work.
   Options under `skip` (read later, e.g. by a factorization package) are left to -options_left. */
PetscErrorCode KhgpsCheckUnusedOptions(MPI_Comm comm, const char *skip)
{
  PetscInt  n;
  char    **names, **values;
  PetscBool bad = PETSC_FALSE;
  char      first[256] = "";

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
  for (PetscInt i = 0; i < n && !bad; i++) {
    PetscBool ours, later = PETSC_FALSE;
    PetscCall(PetscStrbeginswith(names[i], "khgps_", &ours));
    if (skip) PetscCall(PetscStrbeginswith(names[i], skip, &later));
    if (ours && !later) {
      bad = PETSC_TRUE;
      PetscCall(PetscStrncpy(first, names[i], sizeof(first)));
    }
  }
  PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  PetscCheck(!bad, comm, PETSC_ERR_USER_INPUT, "unknown option -%s (see -help for the -khgps_ options)", first);
  PetscFunctionReturn(0);
}
