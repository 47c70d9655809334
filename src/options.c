/* options.c: the -khgps_* options (all listed by -help), their defaults and their checks. */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <strings.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include "khgps_options.h"
#include <petscsf.h>
#include "khgps_platform.h"

const char *const KhgpsCouplingTypes[] = {"dense", "sparse"};
const char *const KhgpsStartNames[]    = {"zero", "random", "thermal"};
const char *const KhgpsStatusNames[]   = {"minimum", "not_converged", "saddle", "KhgpsStatus", "KHGPS_", NULL};

/* The value of -khgps_<name> as given (NULL if none: a flag, or a value that starts with '-' and so
   was read as the next option); it counts as read. */
static PetscErrorCode RawValue(PetscOptionItems *PetscOptionsObject, const char *name, const char **value, PetscBool *set)
{
  PetscFunctionBeginUser;
  *value = NULL;
  PetscCall(PetscOptionsFindPair(NULL, PetscOptionsObject->prefix, name, value, set));
  PetscFunctionReturn(0);
}

/* A -khgps_ option that takes a value: refused in one line if it has none (missing, '' or a value
   that starts with '-', which PETSc reads as the next option) or one longer than maxlen (a fixed
   buffer would cut it). */
static PetscErrorCode CheckValue(PetscOptionItems *PetscOptionsObject, const char *name, size_t maxlen, const char *what)
{
  const char *v;
  PetscBool   set;
  size_t      len;

  PetscFunctionBeginUser;
  PetscCall(RawValue(PetscOptionsObject, name, &v, &set));
  if (!set) PetscFunctionReturn(0);
  PetscCheck(v && v[0], PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "-khgps_%s: needs %s (none given; a value that starts with '-' is read as the next option)", name + 1, what);
  len = strlen(v);
  PetscCheck(len <= maxlen, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "-khgps_%s %.20s...: a value of %zu characters, longer than the %zu this option takes (refused, not cut)", name + 1, v, len, maxlen);
  PetscFunctionReturn(0);
}

/* An integer option parsed as a 64-bit integer with overflow and garbage checks, in [lo, hi]
   (PetscOptionsInt would wrap 4294968296 to 1000 with a 32-bit PetscInt); hint, if any, says
   where the range comes from. */
static PetscErrorCode OptionsInt64(PetscOptionItems *PetscOptionsObject, const char *name, const char *text, PetscInt64 lo, PetscInt64 hi, const char *hint, PetscInt64 *v, PetscBool *set)
{
  char      def[64], buf[64], *end;
  PetscBool flg;
  long long x;

  PetscFunctionBeginUser;
  PetscCall(CheckValue(PetscOptionsObject, name, sizeof(buf) - 1, "an integer"));
  PetscCall(PetscSNPrintf(def, sizeof(def), "%" PetscInt64_FMT, *v));
  PetscCall(PetscOptionsString(name, text, "khgps", def, buf, sizeof(buf), &flg));
  if (set) *set = flg;
  if (!flg) PetscFunctionReturn(0);
  errno = 0;
  x     = strtoll(buf, &end, 10);
  PetscCheck(!errno && end != buf && !*end && x >= lo && x <= hi, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "-khgps_%s %s: need an integer in [%" PetscInt64_FMT ", %" PetscInt64_FMT "]%s%s%s", name + 1, buf, lo, hi, hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
  *v = (PetscInt64)x;
  PetscFunctionReturn(0);
}

/* The same for a PetscInt option: hi is clipped to what the build's PetscInt holds. */
PetscErrorCode KhgpsOptionsInt(PetscOptionItems *PetscOptionsObject, const char *name, const char *text, PetscInt64 lo, PetscInt64 hi, const char *hint, PetscInt *v, PetscBool *set)
{
  PetscInt64 x = *v;

  PetscFunctionBeginUser;
  PetscCall(OptionsInt64(PetscOptionsObject, name, text, lo, PetscMin(hi, (PetscInt64)PETSC_MAX_INT), hint, &x, set));
  *v = (PetscInt)x;
  PetscFunctionReturn(0);
}

/* A real option that must be a finite number (PetscOptionsReal takes nan and inf). */
PetscErrorCode KhgpsOptionsReal(PetscOptionItems *PetscOptionsObject, const char *name, const char *text, PetscReal *v, PetscBool *set)
{
  PetscBool   flg;
  const char *raw;

  PetscFunctionBeginUser;
  PetscCall(CheckValue(PetscOptionsObject, name, 63, "a number"));
  PetscCall(RawValue(PetscOptionsObject, name, &raw, &flg));
  if (flg) { /* checked here, so that the message names the option (PETSc's does not) */
    char *end;
    (void)strtod(raw, &end);
    PetscCheck(end != raw && !*end, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "-khgps_%s %s: need a number", name + 1, raw);
  }
  PetscCall(PetscOptionsReal(name, text, "khgps", *v, v, &flg));
  if (set) *set = flg;
  if (flg && PetscIsInfOrNanReal(*v)) {
    char val[32];
    snprintf(val, sizeof(val), "%g", (double)*v); /* PETSc's %g would print "nan." */
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "-khgps_%s %s: need a finite number", name + 1, val);
  }
  PetscFunctionReturn(0);
}

/* A true/false option: PETSc's own message for a bad value does not name the option. */
static PetscErrorCode OptionsBool(PetscOptionItems *PetscOptionsObject, const char *name, const char *text, PetscBool *v)
{
  const char *const ok[] = {"1", "0", "true", "false", "yes", "no", "on", "off"};
  const char       *raw;
  PetscBool         set, good = PETSC_FALSE;

  PetscFunctionBeginUser;
  PetscCall(RawValue(PetscOptionsObject, name, &raw, &set));
  if (set && raw && raw[0]) {
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]) && !good; i++) PetscCall(PetscStrcasecmp(raw, ok[i], &good));
    PetscCheck(good, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "-khgps_%s %.64s: need true or false (1 or 0, or nothing: true)", name + 1, raw);
  }
  PetscCall(PetscOptionsBool(name, text, "khgps", *v, v, NULL));
  PetscFunctionReturn(0);
}

/* The starting point (issue 27): -khgps_start zero | random (-khgps_x0_amplitude a > 0, which alone
   still means random) | thermal (a sample of exp(-H/T), thermal.c), and the chain's options. An
   option that the chosen start would not use is refused. */
static PetscErrorCode ProcessStartOptions(PetscOptionItems *PetscOptionsObject, MPI_Comm comm, PetscBool x0set, KhgpsParams *p)
{
  PetscInt  start = p->x0_amplitude > 0 ? KHGPS_START_RANDOM : KHGPS_START_ZERO;
  PetscBool set, tset, sset, aset, mset;

  PetscFunctionBeginUser;
  PetscCall(CheckValue(PetscOptionsObject, "-start", 63, "zero, random or thermal"));
  PetscCall(PetscOptionsEList("-start", "Starting point of the minimization: zero (x = 0), random (x_i uniform in [-a, a], -khgps_x0_amplitude a) or thermal (a sample of exp(-H/T) by Metropolis, -khgps_parent_temperature T)", "khgps", KhgpsStartNames, 3, KhgpsStartNames[start], &start, &set));
  p->start                = (KhgpsStart)start;
  p->parent_temperature   = 0;
  p->equilibration_sweeps = 1000;
  PetscCall(KhgpsOptionsReal(PetscOptionsObject, "-parent_temperature", "Thermal start: temperature T of the parent sample (> 0)", &p->parent_temperature, &tset));
  PetscCall(KhgpsOptionsInt(PetscOptionsObject, "-equilibration_sweeps", "Thermal start: sweeps of the Metropolis chain (a sweep: N attempted single-site moves)", 20, 100000000, "at least 20", &p->equilibration_sweeps, &sset));
  p->measure_sweeps = PetscMax(20, p->equilibration_sweeps / 2); /* 20 batches at least */
  p->adapt_sweeps   = PetscMin(p->equilibration_sweeps / 4, p->equilibration_sweeps - p->measure_sweeps);
  PetscCall(KhgpsOptionsInt(PetscOptionsObject, "-adapt_sweeps", "Thermal start: the first sweeps, where the proposal widths adapt (default a quarter of the sweeps, at most sweeps - measure_sweeps)", 0, p->equilibration_sweeps - 1, "0 to sweeps - 1", &p->adapt_sweeps, &aset));
  PetscCall(KhgpsOptionsInt(PetscOptionsObject, "-measure_sweeps", "Thermal start: the last sweeps, where the parent averages are taken (default half the sweeps, at least 20)", 20, p->equilibration_sweeps, "20 to the sweeps", &p->measure_sweeps, &mset));
  PetscCheck(!(p->start == KHGPS_START_ZERO && p->x0_amplitude > 0), comm, PETSC_ERR_USER_INPUT, "-khgps_start zero with -khgps_x0_amplitude %g: the amplitude is for -khgps_start random", (double)p->x0_amplitude);
  PetscCheck(p->start != KHGPS_START_RANDOM || p->x0_amplitude > 0, comm, PETSC_ERR_USER_INPUT, "-khgps_start random needs -khgps_x0_amplitude a > 0 (x_i uniform in [-a, a])");
  PetscCheck(p->start != KHGPS_START_THERMAL || !x0set, comm, PETSC_ERR_USER_INPUT, "-khgps_x0_amplitude is for -khgps_start random, not thermal");
  if (p->start != KHGPS_START_THERMAL) {
    const char *given = tset ? "-khgps_parent_temperature" : sset ? "-khgps_equilibration_sweeps" : aset ? "-khgps_adapt_sweeps" : mset ? "-khgps_measure_sweeps" : NULL;
    PetscCheck(!given, comm, PETSC_ERR_USER_INPUT, "%s is for -khgps_start thermal (this run starts from %s): nothing was run", given, KhgpsStartNames[p->start]);
    p->equilibration_sweeps = p->adapt_sweeps = p->measure_sweeps = 0;
    PetscFunctionReturn(0);
  }
  PetscCheck(tset, comm, PETSC_ERR_USER_INPUT, "-khgps_start thermal needs -khgps_parent_temperature T > 0");
  PetscCheck(p->parent_temperature > 0, comm, PETSC_ERR_USER_INPUT, "-khgps_parent_temperature %g must be > 0", (double)p->parent_temperature);
  { /* the parent's |x| ~ (24 T/A)^(1/4): its energy N T and squared gradient N A^2 (24 T/A)^(3/2)/36 must stay representable */
    const double lT = log10((double)p->parent_temperature), lN = log10((double)p->N), lA = log10((double)p->A);
    PetscCheck(lN + lT < 250 && lN + 2 * lA + 1.5 * (log10(24.0) + lT - lA) - log10(36.0) < 250, comm, PETSC_ERR_USER_INPUT, "-khgps_parent_temperature %g: the parent's energy N T and squared gradient N A^2 (24 T/A)^(3/2)/36 must stay below 1e250",
               (double)p->parent_temperature);
  }
  PetscCheck(!p->sparse, comm, PETSC_ERR_USER_INPUT, "-khgps_start thermal is for dense couplings (the chain keeps J as a dense float array)");
  PetscCheck(p->adapt_sweeps + p->measure_sweeps <= p->equilibration_sweeps, comm, PETSC_ERR_USER_INPUT, "-khgps_adapt_sweeps %" PetscInt_FMT " + -khgps_measure_sweeps %" PetscInt_FMT " exceed -khgps_equilibration_sweeps %" PetscInt_FMT ": the widths must be fixed in the measured sweeps", p->adapt_sweeps, p->measure_sweeps, p->equilibration_sweeps);
  PetscFunctionReturn(0);
}

/* The solver settings (p->solver), read with the run parameters: the storage of the Hessian, the
   Newton polish, the eigensolver and its parameters, for a group of gsize ranks. The defaults:
   packed storage on one rank (scalapack on more, aij for sparse couplings); -khgps_eigensolver auto
   takes the block eigensolver on packed storage and the EPS elsewhere, and the EPS wherever an
   -eps_type/-st_* option asks for a SLEPc method; sparse couplings filter by a degree-20
   Chebyshev polynomial unless an -eps_type/-st_* option asks for the EPS on M itself. */
static PetscErrorCode ProcessSolverOptions(PetscOptionItems *PetscOptionsObject, MPI_Comm comm, PetscMPIInt gsize, KhgpsParams *p)
{
  KhgpsSolverOptions *o         = &p->solver;
  const char *const   names[]   = {"auto", "slepc", "block", "KhgpsEigensolver", "", NULL};
  const char *const   epsopts[] = {"-eps_type", "-st_type", "-st_ksp_type", "-st_pc_type"};
  PetscBool           epsset    = PETSC_FALSE, set, t, isscalapack, ispacked, isplain;
  PetscInt            which     = 0;
  char                htype[64], cut[64] = "interlacing";

  PetscFunctionBeginUser;
  for (size_t i = 0; i < sizeof(epsopts) / sizeof(epsopts[0]); i++) {
    PetscCall(PetscOptionsHasName(NULL, NULL, epsopts[i], &t));
    epsset = (PetscBool)(epsset || t);
  }
  PetscCall(PetscStrncpy(htype, p->sparse ? MATAIJ : gsize == 1 ? KHGPS_PACKED : MATSCALAPACK, sizeof(htype)));
  PetscCall(CheckValue(PetscOptionsObject, "-hessian_mat_type", sizeof(htype) - 1, "a storage type"));
  PetscCall(PetscOptionsString("-hessian_mat_type", "Storage of J and the Hessian: packed (1 rank: one N x N buffer, factored in place), dense (J and a Hessian copy), scalapack (more ranks)", "khgps", htype, htype, sizeof(htype), &set));
  PetscCall(PetscStrcmp(htype, MATSCALAPACK, &isscalapack));
  PetscCall(PetscStrcmp(htype, KHGPS_PACKED, &ispacked));
  PetscCall(PetscStrcmp(htype, p->sparse ? MATAIJ : MATDENSE, &isplain));
  PetscCheck(!p->sparse || isplain, comm, PETSC_ERR_USER_INPUT, "-khgps_hessian_mat_type %s: sparse couplings make an aij Hessian", htype);
  PetscCheck(isscalapack || ispacked || isplain, comm, PETSC_ERR_USER_INPUT, "-khgps_hessian_mat_type %s: use packed, dense or scalapack", htype);
  PetscCheck(!ispacked || gsize == 1, comm, PETSC_ERR_USER_INPUT, "-khgps_hessian_mat_type packed is for one rank per realization (use scalapack on %d ranks)", gsize);
  o->htype = isscalapack ? MATSCALAPACK : ispacked ? KHGPS_PACKED : p->sparse ? MATAIJ : MATDENSE;

  o->factor_single      = PETSC_FALSE; /* double until make bench shows single wins at equal accuracy */
  o->factor_single_fail = PETSC_FALSE;
  {
    const char *const precisions[] = {"double", "single", "KhgpsFactorPrecision", "", NULL};
    PetscEnum         prec         = (PetscEnum)o->factor_single;
    PetscCall(CheckValue(PetscOptionsObject, "-factor_precision", 63, "double or single"));
    PetscCall(PetscOptionsEnum("-factor_precision", "Packed storage (one rank): factor the Hessian in double (8N^2 bytes in all) or single (float32 factor, 4N^2 bytes; the pairs refined with the double M to the same tolerance); other storages factor in double", "khgps", precisions, prec, &prec, NULL));
    o->factor_single = (PetscBool)(prec == 1);
    PetscCall(OptionsBool(PetscOptionsObject, "-factor_single_fail", "Treat the float32 factorization as failed (tests the fallback to double)", &o->factor_single_fail));
  }
  o->packed_lapack_solve = PETSC_FALSE;
  o->packed_trsolve      = PETSC_TRUE;
  o->newton_factor       = PETSC_FALSE;
  PetscCall(OptionsBool(PetscOptionsObject, "-packed_lapack_solve", "Packed: solve with LAPACK potrs instead of the blocked dgemv solve", &o->packed_lapack_solve));
  PetscCall(OptionsBool(PetscOptionsObject, "-packed_trsolve", "Packed: blocks of right-hand sides by khgps' AVX2 triangular solves (0: LAPACK potrs)", &o->packed_trsolve));
  PetscCall(OptionsBool(PetscOptionsObject, "-newton_factor", "Newton polish with a Cholesky factorization per step instead of CG + Jacobi", &o->newton_factor));
  PetscCheck(!o->newton_factor || !p->sparse, comm, PETSC_ERR_USER_INPUT, "-khgps_newton_factor: sparse Hessians are not factored (fill-in)");

  o->block_size         = PetscMin(16, p->nev);
  o->block_max_restarts = 100;
  PetscCall(KhgpsOptionsInt(PetscOptionsObject, "-block_size", "Block eigensolver: right-hand sides per solve", 1, p->N, "1 to N", &o->block_size, NULL));
  /* in 64 bits, as the sums below */
  o->block_ncv = (PetscInt)PetscMin(PetscMax(4 * (PetscInt64)p->nev, p->nev + 2 * (PetscInt64)o->block_size), (PetscInt64)PETSC_MAX_INT);
  PetscCall(KhgpsOptionsInt(PetscOptionsObject, "-block_ncv", "Block eigensolver: largest basis (>= nev + 2 block_size)", 1, PETSC_MAX_INT, NULL, &o->block_ncv, NULL));
  PetscCheck(o->block_ncv >= p->nev + 2 * (PetscInt64)o->block_size, comm, PETSC_ERR_USER_INPUT, "-khgps_block_ncv %" PetscInt_FMT " must be >= nev + 2 block_size = %" PetscInt64_FMT, o->block_ncv, p->nev + 2 * (PetscInt64)o->block_size);
  PetscCall(KhgpsOptionsInt(PetscOptionsObject, "-block_max_restarts", "Block eigensolver: restarts before giving up", 0, PETSC_MAX_INT, NULL, &o->block_max_restarts, NULL));
  PetscCall(CheckValue(PetscOptionsObject, "-eigensolver", 63, "auto, block or slepc"));
  PetscCall(PetscOptionsEnum("-eigensolver", "Eigensolver: auto (block on packed storage unless an -eps_type/-st_* option is given, else slepc), block (packed: block Krylov-Schur on the one factorization) or slepc (the EPS, -eps_*/-st_*)", "khgps", names, (PetscEnum)which, (PetscEnum *)&which, &set));
  if (which == 0) which = (ispacked && !epsset && p->N >= o->block_ncv + 2 * (PetscInt64)o->block_size) ? 2 : 1;
  o->block = (PetscBool)(which == 2);
  PetscCheck(!o->block || ispacked, comm, PETSC_ERR_USER_INPUT, "-khgps_eigensolver block needs the packed storage (one rank per realization)");
  PetscCheck(!o->block || p->N >= o->block_ncv + 2 * (PetscInt64)o->block_size, comm, PETSC_ERR_USER_INPUT, "-khgps_eigensolver block needs N >= block_ncv + 2 block_size = %" PetscInt64_FMT, o->block_ncv + 2 * (PetscInt64)o->block_size);

  o->filter_degree = p->sparse && !epsset ? 20 : 0; /* as the eigensolver: an -eps_type/-st_* choice runs the EPS on M */
  o->filter_cut    = 0;
  PetscCall(KhgpsOptionsInt(PetscOptionsObject, "-filter_degree", "Sparse: the EPS on the Chebyshev polynomial of M of this degree that damps [cut, top of the spectrum] (0: on M itself; default 20 for sparse couplings unless an -eps_type/-st_* option is given)", 0, PETSC_MAX_INT, "0: no filter", &o->filter_degree, &set));
  PetscCheck(!set || !o->filter_degree || p->sparse, comm, PETSC_ERR_USER_INPUT, "-khgps_filter_degree is for sparse couplings (dense Hessians are factored: shift-invert)");
  PetscCall(CheckValue(PetscOptionsObject, "-filter_cut", sizeof(cut) - 1, "a number or interlacing"));
  PetscCall(PetscOptionsString("-filter_cut", "Sparse filter: lower end of the damped interval, above the nev-th eigenvalue, or interlacing (a bound by interlacing)", "khgps", cut, cut, sizeof(cut), NULL));
  PetscCall(PetscStrcmp(cut, "interlacing", &t));
  o->filter_cut_set = (PetscBool)!t;
  if (o->filter_cut_set) {
    char *end;
    o->filter_cut = strtod(cut, &end);
    PetscCheck(end != cut && !*end && !PetscIsInfOrNanReal(o->filter_cut), comm, PETSC_ERR_USER_INPUT, "-khgps_filter_cut %s: need a finite number (or interlacing, the default)", cut);
  }
  PetscFunctionReturn(0);
}

/* khgps' defaults for options of PETSc's own objects that have no API to set them (BLMVM keeps its
   L-BFGS matrix private), inserted once at set-up with -tao_type blmvm where the user gave none: blmvm's default
   diagonal scaling needs far more iterations on this landscape than a scalar one
   (docs/benchmarks.md, "Numbers behind choices in the code"). */
static PetscErrorCode DefaultPetscOptions(void)
{
  char      type[64] = "";
  PetscBool set, blmvm;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-tao_type", type, sizeof(type), NULL));
  PetscCall(PetscStrcmp(type, "blmvm", &blmvm));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-tao_blmvm_mat_lmvm_scale_type", &set));
  if (blmvm && !set) PetscCall(PetscOptionsSetValue(NULL, "-tao_blmvm_mat_lmvm_scale_type", "scalar"));
  PetscFunctionReturn(0);
}

/* Finite values whose scales the double-precision work cannot hold, found before any work. The
   scales: the start's |x| <= a (-khgps_x0_amplitude) and the minimum's x ~ xm = max((6|h|/A)^(1/3),
   sqrt(4J/A)) (the quartic A x^3/6 balancing the field, A x^2/2 balancing the couplings' lowest
   curvature -2J). What must hold, in base-10 logarithms:
   - representable: x^4, N A x^4/24 (energy), N kappa0 x^2/2 and N (A x^3/6)^2 (squared gradient)
     below 1e300 at x = a and x = xm (1e8 below the largest double: room for line-search steps);
   - resolvable: at the minimum the gradient's terms reach T = max(|h|, A xJ^3/6, 2J xm), and their
     rounding, DBL_EPSILON T sqrt(N), must stay below -khgps_gtol, or no minimum can be certified;
   - separable: the Hessian's diagonal S = A xm^2/2 must not swamp the disorder width
     W = kappa0 - kappa_min + 2J: the eigensolver's tolerance 1e-12 S must stay below the mean
     eigenvalue spacing W/N, or its lowest eigenvalues come out equal (Krylov-Schur breaks down).
   Returns 0 if all hold, else which fails (1: start, 2: minimum, 3: rounding, 4: spacing), with
   why (a clause) if asked. */
static int ScaleTrouble(double N, double h, double A, double J, double a, double k0, double kmin, double gtol, char *why, size_t len)
{
  const double lim = 300, lN = log10(N), lA = log10(A);
  const double xh = h != 0 ? cbrt(6 * fabs(h) / A) : 0, xJ = J > 0 ? sqrt(4 * J / A) : 0, xm = PetscMax(xh, xJ);
  const double xs[2] = {a, xm};

  for (int k = 0; k < 2; k++) {
    double lx;
    if (!(xs[k] > 0)) continue;
    lx = log10(xs[k]);
    if (4 * lx > lim || lN + lA + 4 * lx - log10(24.0) > lim || lN + 2 * (lA + 3 * lx - log10(6.0)) > lim || (!k && k0 > 0 && lN + log10(k0) + 2 * lx > lim)) {
      if (why)
        snprintf(why, len, k ? "the minimum's x ~ max((6|h|/A)^(1/3), sqrt(4J/A)) = %.3g must keep x^4, N A x^4/24 and N (A x^3/6)^2 below 1e300" : "the start's |x| <= %.3g must keep x^4, N A x^4/24, N kappa0 x^2/2 and N (A x^3/6)^2 below 1e300", xs[k]);
      return k + 1;
    }
  }
  {
    const double T = PetscMax(PetscMax(fabs(h), A * xJ * xJ * xJ / 6), 2 * J * xm), S = A * xm * xm / 2, W = k0 - kmin + 2 * J;
    if (DBL_EPSILON * T * sqrt(N) > gtol) {
      if (why) snprintf(why, len, "at the minimum the gradient's terms reach %.3g, and their rounding, 2.2e-16 x %.3g x sqrt(N), exceeds -khgps_gtol %.3g: no minimum could be certified", T, T, gtol);
      return 3;
    }
    if (1e-12 * S > W / N) {
      if (why) snprintf(why, len, "at the minimum the Hessian's diagonal A x^2/2 ~ %.3g swamps the disorder kappa0 - kappa_min + 2J = %.3g: the eigensolver's tolerance 1e-12 x %.3g exceeds the eigenvalue spacing %.3g/N", S, W, S, W);
      return 4;
    }
  }
  return 0;
}

/* The scales of p (ScaleTrouble), refused with the bound on the option to blame: a, or the one of
   h (or J) and A that is further from 1 in orders of magnitude. The bound is found by bisection
   (in log10) between the given value and the default, with the other options as given. */
static PetscErrorCode CheckScales(MPI_Comm comm, const KhgpsParams *p)
{
  double            v[4]        = {p->x0_amplitude, p->h, p->A, p->J}, lo, hi, ref;
  const char *const names[4]    = {"x0_amplitude", "h", "A", "J"};
  const double      defaults[4] = {1, 0.01, 1, 0.1};
  char              why[400], bound[96] = "";
  int               which, k;

  PetscFunctionBeginUser;
#define TROUBLE(w, s, l) ScaleTrouble((double)p->N, w[1], w[2], w[3], w[0], (double)p->kappa0, (double)p->kappa_min, (double)p->gtol, s, l)
  if (!(which = TROUBLE(v, why, sizeof(why)))) PetscFunctionReturn(0);
  if (which == 1) k = 0;
  else {
    const double xh = p->h != 0 ? cbrt(6 * fabs((double)p->h) / p->A) : 0, xJ = p->J > 0 ? sqrt(4 * (double)p->J / p->A) : 0;
    k = xJ > xh ? 3 : 1;
    if (fabs(log10((double)p->A)) > fabs(log10(fabs(v[k])))) k = 2;
  }
  ref = defaults[k];
  { /* bisection in log10 between the value (fails) and the default (passes, or no bound is given) */
    double w[4] = {v[0], v[1], v[2], v[3]};
    w[k]        = k == 1 && v[1] < 0 ? -ref : ref;
    if (!TROUBLE(w, NULL, 0)) {
      lo = log10(ref);
      hi = log10(fabs(v[k]));
      for (int it = 0; it < 200; it++) {
        double mid = 0.5 * (lo + hi);
        w[k]       = (k == 1 && v[1] < 0 ? -1 : 1) * pow(10, mid);
        if (TROUBLE(w, NULL, 0)) hi = mid;
        else lo = mid;
      }
      snprintf(bound, sizeof(bound), "need %s %s %.2g with the other options as given ", k == 0 ? "a" : k == 1 ? "|h|" : names[k], log10(fabs(v[k])) > log10(ref) ? "<=" : ">=", pow(10, lo));
    }
  }
#undef TROUBLE
  SETERRQ(comm, PETSC_ERR_USER_INPUT, "-khgps_%s %g: %s(%s); nothing was run", names[k], v[k], bound[0] ? bound : "out of the range that works ", why);
}

PetscErrorCode KhgpsProcessOptions(MPI_Comm comm, KhgpsParams *p)
{
  PetscBool   firstset, realset, x0set;
  PetscInt64  first, nreal;
  PetscInt    coupling = 0;
  PetscMPIInt size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  /* model */
  p->N            = 2000;
  p->kappa0       = 1.0;
  p->kappa_min    = 0.0;
  p->J            = 0.1;
  p->sparse       = PETSC_FALSE;
  p->connectivity = 20;
  p->h            = 0.01;
  p->A            = 1.0;
  /* realization */
  p->seed         = 1;
  p->realization  = 0;
  p->first        = 0;
  p->realizations = 1;
  p->groups       = 1;
  p->x0_amplitude = 0.0;
  /* solvers (nev and gtol: their defaults follow N, set once N is read) */
  p->polish_its = 1;
  /* output */
  p->save_couplings = PETSC_FALSE;
  p->save_modes     = 0;
  p->overwrite      = PETSC_FALSE;
  p->output[0]      = 0;

  /* Every integer is parsed as 64-bit and range-checked, every real must be finite: a value that
     would wrap or a nan/inf is refused here, before any work. */
  PetscOptionsBegin(comm, "khgps_", "KHGPS model of quasilocalized vibrations", "khgps");
  PetscCall(KhgpsOptionsInt(PetscOptionsObject, "-N", "Number of oscillators", 2, PETSC_MAX_INT, "N >= 2", &p->N, NULL));
  PetscCall(KhgpsOptionsReal(PetscOptionsObject, "-kappa0", "Upper end of the uniform stiffness distribution", &p->kappa0, NULL));
  PetscCall(KhgpsOptionsReal(PetscOptionsObject, "-kappa_min", "Lower end of the uniform stiffness distribution", &p->kappa_min, NULL));
  PetscCall(KhgpsOptionsReal(PetscOptionsObject, "-J", "Coupling strength: J_ij Gaussian with variance J^2/N", &p->J, NULL));
  PetscCall(CheckValue(PetscOptionsObject, "-coupling", 63, "dense or sparse"));
  PetscCall(PetscOptionsEList("-coupling", "Couplings: dense (all pairs, Var J^2/N) or sparse (pairs with probability c/N, Var J^2/c)", "khgps", KhgpsCouplingTypes, 2, KhgpsCouplingTypes[p->sparse], &coupling, NULL));
  p->sparse = (PetscBool)(coupling == 1);
  PetscCall(KhgpsOptionsReal(PetscOptionsObject, "-connectivity", "Mean number of couplings per oscillator c (sparse)", &p->connectivity, NULL));
  PetscCall(KhgpsOptionsReal(PetscOptionsObject, "-h", "Constant field", &p->h, NULL));
  PetscCall(KhgpsOptionsReal(PetscOptionsObject, "-A", "Quartic anharmonicity", &p->A, NULL));
  PetscCall(OptionsInt64(PetscOptionsObject, "-seed", "Random seed (Philox key with the realization index)", 0, INT64_MAX, NULL, &p->seed, NULL));
  first = p->first;
  PetscCall(OptionsInt64(PetscOptionsObject, "-first", "First realization index of the run", 0, 999999, "six digits in the file", &first, &firstset));
  PetscCall(OptionsInt64(PetscOptionsObject, "-realization", "Realization index (the same as -khgps_first)", 0, 999999, "six digits in the file", &first, &realset));
  nreal = p->realizations;
  PetscCall(OptionsInt64(PetscOptionsObject, "-realizations", "Number of realizations of the run", 1, 1000000, "indices stay below 1000000", &nreal, NULL));
  p->first        = (PetscInt)first;
  p->realizations = (PetscInt)nreal;
  PetscCall(KhgpsOptionsInt(PetscOptionsObject, "-groups", "MPI groups sharing out the realizations (np/G ranks each)", 1, size, "at most the number of ranks", &p->groups, NULL));
  PetscCall(KhgpsOptionsReal(PetscOptionsObject, "-x0_amplitude", "Start from x_i uniform in [-a,a] (0: from x = 0)", &p->x0_amplitude, &x0set));
  PetscCall(ProcessStartOptions(PetscOptionsObject, comm, x0set, p));
  p->nev = PetscMin(100, p->N - 1);
  PetscCall(KhgpsOptionsInt(PetscOptionsObject, "-nev", "Number of lowest Hessian eigenpairs (default min(100, N-1))", 1, p->N - 1, "1 to N-1", &p->nev, NULL));
  p->gtol = 1e-10 * PetscSqrtReal((PetscReal)p->N);
  PetscCall(KhgpsOptionsReal(PetscOptionsObject, "-gtol", "A minimum needs ||grad H||_2 <= gtol at the end (default 1e-10 sqrt(N))", &p->gtol, NULL));
  PetscCall(KhgpsOptionsInt(PetscOptionsObject, "-polish_its", "Newton steps after TAO (0: none)", 0, PETSC_MAX_INT, NULL, &p->polish_its, NULL));
  PetscCall(OptionsBool(PetscOptionsObject, "-save_couplings", "Write J to the output file", &p->save_couplings));
  PetscCall(KhgpsOptionsInt(PetscOptionsObject, "-save_modes", "Write the lowest K eigenvectors of each realization (float32, K x N; 0: none)", 0, p->nev, "0 to nev", &p->save_modes, NULL));
  {
    PetscBool avx512 = PETSC_TRUE;
    PetscCall(OptionsBool(PetscOptionsObject, "-avx512", "khgps' own kernels (packed J x, block triangular solves) may use AVX-512 where the processor has it (0: AVX2)", &avx512));
    KhgpsSetAVX512(avx512);
  }
  PetscCall(OptionsBool(PetscOptionsObject, "-overwrite", "Replace an existing output file", &p->overwrite));
  PetscCall(CheckValue(PetscOptionsObject, "-output", sizeof(p->output) - 1, "a file name"));
  PetscCall(PetscOptionsString("-output", "Output HDF5 file", "khgps", p->output, p->output, sizeof(p->output), NULL));

  PetscCheck(p->kappa0 > p->kappa_min, comm, PETSC_ERR_USER_INPUT, "-khgps_kappa0 %g must be > -khgps_kappa_min %g", (double)p->kappa0, (double)p->kappa_min);
  PetscCheck(p->kappa_min >= 0, comm, PETSC_ERR_USER_INPUT, "-khgps_kappa_min %g must be >= 0", (double)p->kappa_min);
  PetscCheck(p->J >= 0, comm, PETSC_ERR_USER_INPUT, "-khgps_J %g must be >= 0", (double)p->J);
  PetscCheck(!p->sparse || (p->connectivity > 0 && p->connectivity <= p->N), comm, PETSC_ERR_USER_INPUT, "-khgps_connectivity %g must be in (0, N] (N: every pair, the dense model)", (double)p->connectivity);
  { /* couplings are float32 (KhgpsCoupling): J_ij = J z / sqrt(N or c) with |z| < 40 must stay below FLT_MAX */
    const PetscReal scale = p->J / PetscSqrtReal(p->sparse ? p->connectivity : (PetscReal)p->N);
    PetscCheck(scale < 1e36, comm, PETSC_ERR_USER_INPUT, "-khgps_J %g: couplings of J/sqrt(%s) = %g overflow their float32 storage", (double)p->J, p->sparse ? "c" : "N", (double)scale);
  }
  PetscCheck(p->A > 0, comm, PETSC_ERR_USER_INPUT, "-khgps_A %g must be > 0", (double)p->A);
  PetscCheck(!(firstset && realset), comm, PETSC_ERR_USER_INPUT, "-khgps_first and -khgps_realization are the same option: give one");
  p->realization = p->first;
  PetscCheck(p->first + p->realizations <= 1000000, comm, PETSC_ERR_USER_INPUT, "realization indices must stay below 1000000 (six digits in the file): -khgps_first %" PetscInt_FMT " with -khgps_realizations %" PetscInt_FMT, p->first, p->realizations);
  PetscCheck(size % p->groups == 0, comm, PETSC_ERR_USER_INPUT, "-khgps_groups %" PetscInt_FMT " must divide the number of ranks %d", p->groups, size);
  PetscCheck(!p->save_couplings || p->N <= 20000, comm, PETSC_ERR_USER_INPUT, "-khgps_save_couplings is for N <= 20000 (J takes 8 N^2 bytes per realization)");
  PetscCheck(p->x0_amplitude >= 0, comm, PETSC_ERR_USER_INPUT, "-khgps_x0_amplitude %g must be >= 0", (double)p->x0_amplitude);
  PetscCheck(p->gtol > 0, comm, PETSC_ERR_USER_INPUT, "-khgps_gtol %g must be > 0", (double)p->gtol);
  PetscCheck(!p->sparse || p->nev >= 2, comm, PETSC_ERR_USER_INPUT, "sparse couplings need -khgps_nev >= 2, so N >= 3 (N = %" PetscInt_FMT ", nev = %" PetscInt_FMT "): their Krylov-Schur basis of 2 nev vectors must exceed nev + 1; nothing was run", p->N, p->nev);
  PetscCall(CheckScales(comm, p));
  PetscCall(ProcessSolverOptions(PetscOptionsObject, comm, size / (PetscMPIInt)p->groups, p));
  PetscOptionsEnd();
  PetscCall(DefaultPetscOptions());
  PetscFunctionReturn(0);
}

/* The run file keeps every option (PetscOptionsGetAll) in one HDF5 attribute of the root group,
   which holds at most 64 KiB (an object header message): a longer text would fail at the first
   write, after the work. Refused before any work instead. */
PetscErrorCode KhgpsCheckOptionsText(MPI_Comm comm)
{
  char  *all;
  size_t len;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetAll(NULL, &all));
  PetscCall(PetscStrlen(all, &len));
  PetscCall(PetscFree(all));
  PetscCheck(len <= KHGPS_MAX_OPTIONS_TEXT, comm, PETSC_ERR_USER_INPUT, "the options add up to %zu characters, more than the %d that the run file stores (one HDF5 attribute, 64 KiB): shorten them; nothing was run", len, KHGPS_MAX_OPTIONS_TEXT);
  PetscFunctionReturn(0);
}

/* PETSc's messages for a bad value of an option of its objects ("Input string abc has no integer
   value") do not name the option: msg with the option found by its value in the database, e.g.
   "-tao_max_it abc: need an integer (PETSc: ...)"; else msg itself. Used by the one-line handler. */
void KhgpsNameOptionInMessage(const char *msg, char *out, size_t len)
{
  const char *const pats[][2] = {
    {"Input string ",           "an integer"   },
    {"Unknown logical value: ", "true or false"}
  };
  char        val[256] = "", *all = NULL, *save, *tok, *prev = NULL;
  const char *need = NULL;

  snprintf(out, len, "%s", msg);
  for (size_t k = 0; k < 2 && !need; k++)
    if (!strncmp(msg, pats[k][0], strlen(pats[k][0]))) {
      const char *v = msg + strlen(pats[k][0]);
      size_t      n = k ? strlen(v) : strcspn(v, " ");
      if (n >= sizeof(val)) return;
      memcpy(val, v, n);
      val[n] = 0;
      need   = k ? pats[k][1] : strstr(v, "integer") ? "an integer" : "a number";
    }
  if (!need || !val[0] || PetscOptionsGetAll(NULL, &all)) return;
  for (tok = strtok_r(all, " ", &save); tok; prev = tok, tok = strtok_r(NULL, " ", &save))
    if (prev && prev[0] == '-' && !strcmp(tok, val)) {
      snprintf(out, len, "%s %s: need %s (PETSc: %s)", prev, val, need, msg);
      break;
    }
  PetscFree(all);
}

/* Options that nothing reads at set-up but that are read later, by PETSc itself (at PetscFinalize,
   by a viewer, a debugger, a factorization package) or by khgps' objects as they solve. */
static PetscBool ReadLater(const char *name)
{
  const char *const heads[] = {"options_", "help", "log", "info", "malloc", "memory_", "history", "viewer_", "draw_", "on_error_", "error_output_", "debugger", "start_in_debugger", "stop_for_debugger", "display", "fp_trap", "check_pointer_intensity", "objects_dump", "no_signal_handler", "skip_petscrc", "saws", "mpi_", "use_gpu_aware_mpi", "device_", "omp_", "blas_", "petsc_ci", "timeout", "checkstack", "nox", "x_virtual", "get_total_flops", "version"};
  const char *const parts[] = {"_view",        "_converged_reason", "_error_relative", "_error_absolute", "_error_backward", "mat_mumps_",  "mat_scalapack_", "mat_superlu",
                               "mat_umfpack_", "mat_cholmod_",      "mat_klu_",        "mat_spqr_",       "mat_strumpack_",  "mat_pastix_", "mat_mkl_",       "khgps_newton_mat_"};
  char              low[256];
  size_t            n = strlen(name);

  if (n >= sizeof(low)) return PETSC_FALSE;
  for (size_t i = 0; i <= n; i++) low[i] = (char)tolower((unsigned char)name[i]);
  for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
    if (!strncmp(low, heads[i], strlen(heads[i]))) return PETSC_TRUE;
  for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
    const char *at = strstr(low, parts[i]);
    /* _view: as a word ("-eps_view", "-ksp_view_pre"), not "-eps_viewx" */
    if (at && (i || !at[5] || at[5] == '_')) return PETSC_TRUE;
  }
  return PETSC_FALSE;
}

/* Edit distance of a and b, case-insensitive, '-' and '_' alike (for a did-you-mean). */
static size_t Distance(const char *a, const char *b)
{
  size_t na = strlen(a), nb = strlen(b), d[128];
  if (na >= 127 || nb >= 127) return 1000;
  for (size_t j = 0; j <= nb; j++) d[j] = j;
  for (size_t i = 1; i <= na; i++) {
    size_t diag = d[0];
    d[0]        = i;
    for (size_t j = 1; j <= nb; j++) {
      int    ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
      size_t up = d[j], best = diag + ((ca == cb || ((ca == '-' || ca == '_') && (cb == '-' || cb == '_'))) ? 0 : 1);
      if (up + 1 < best) best = up + 1;
      if (d[j - 1] + 1 < best) best = d[j - 1] + 1;
      diag = d[j];
      d[j] = best;
    }
  }
  return d[nb];
}

/* Every option in the database (command line, options files, PETSC_OPTIONS) must be read by khgps
   or by its PETSc objects once they are all set from the options, or be one that is read later
   (ReadLater): anything else is a typo or an option for something this run does not use, and is
   refused before any work. Called after every SetFromOptions of the set-up; the objects that are
   made only during the work (the sparse couplings matrix, the ghost-value star forest) are made
   here once so that their options count as read. */
PetscErrorCode KhgpsCheckUnusedOptions(MPI_Comm comm, const KhgpsParams *p)
{
  const char *const known[] = {"khgps_N", "khgps_kappa0", "khgps_kappa_min", "khgps_J", "khgps_coupling", "khgps_connectivity", "khgps_h", "khgps_A", "khgps_seed", "khgps_first", "khgps_realization", "khgps_realizations", "khgps_groups", "khgps_x0_amplitude", "khgps_start", "khgps_parent_temperature", "khgps_equilibration_sweeps", "khgps_adapt_sweeps", "khgps_measure_sweeps", "khgps_nev", "khgps_gtol", "khgps_polish_its", "khgps_save_couplings", "khgps_save_modes", "khgps_avx512", "khgps_overwrite", "khgps_output", "khgps_hessian_mat_type", "khgps_factor_precision", "khgps_factor_single_fail", "khgps_packed_lapack_solve", "khgps_packed_trsolve", "khgps_newton_factor", "khgps_block_size", "khgps_block_ncv", "khgps_block_max_restarts", "khgps_eigensolver", "khgps_filter_degree", "khgps_filter_cut", "khgps_couplings_view", "khgps_couplings_mat_type", "khgps_newton_ksp_type", "khgps_newton_pc_type", "khgps_newton_ksp_rtol", "tao_type", "tao_max_it", "tao_gatol", "tao_grtol", "tao_monitor", "tao_view", "eps_type", "eps_tol", "eps_nev", "eps_ncv", "eps_mpd", "eps_max_it", "eps_monitor", "eps_view", "st_type", "st_ksp_type", "st_pc_type", "st_pc_factor_mat_solver_type", "sf_type", "log_view", "options_file", "help"};
  PetscInt          n;
  char            **names, **values;
  char              first[256] = "", hint[300] = "";

  PetscFunctionBeginUser;
  { /* -sf_*: read by the star forest of the sparse ordered products (repro.c) */
    PetscSF sf;
    PetscCall(PetscSFCreate(comm, &sf));
    PetscCall(PetscSFSetFromOptions(sf));
    PetscCall(PetscSFDestroy(&sf));
  }
  if (p->sparse) { /* -khgps_couplings_*: read by the sparse couplings matrix (sparse.c) */
    Mat J;
    PetscCall(MatCreate(comm, &J));
    PetscCall(MatSetSizes(J, PETSC_DECIDE, PETSC_DECIDE, p->N, p->N));
    PetscCall(MatSetOptionsPrefix(J, "khgps_couplings_"));
    PetscCall(MatSetType(J, MATAIJ));
    PetscCall(MatSetFromOptions(J));
    PetscCall(MatDestroy(&J));
  }
  PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
  for (PetscInt i = 0; i < n && !first[0]; i++)
    if (!ReadLater(names[i])) PetscCall(PetscStrncpy(first, names[i], sizeof(first)));
  PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  if (first[0]) {
    size_t best = 3, k = 0;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
      size_t d = Distance(first, known[i]);
      if (d < best) best = d, k = i + 1;
    }
    if (k && strcasecmp(first, known[k - 1])) snprintf(hint, sizeof(hint), " (did you mean -%s?)", known[k - 1]);
  }
  PetscCheck(!first[0] || !hint[0], comm, PETSC_ERR_USER_INPUT, "unknown option -%s%s; nothing was run", first, hint);
  PetscCheck(!first[0], comm, PETSC_ERR_USER_INPUT, "unknown option -%s: nothing in this run reads it (misspelled, or for a solver or storage this run does not use; -help lists the options); nothing was run", first);
  PetscFunctionReturn(0);
}

/* The memory this process may use, in bytes: the node's MemTotal and MemAvailable (/proc/meminfo,
   else sysconf), lowered to the limit of its cgroup (a batch job's share of the node) if any. */
static void NodeMemory(double *total, double *avail)
{
  FILE  *f;
  char   line[PETSC_MAX_PATH_LEN], file[PETSC_MAX_PATH_LEN + 64];
  double kb, lim = 0;

  *total = *avail = 0;
  if ((f = fopen("/proc/meminfo", "r"))) {
    while (fgets(line, sizeof(line), f)) {
      if (sscanf(line, "MemTotal: %lf kB", &kb) == 1) *total = kb * 1024;
      else if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1) *avail = kb * 1024;
    }
    fclose(f);
  }
  if (*total <= 0) {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages > 0 && size > 0) *total = (double)pages * (double)size;
  }
  if (*avail <= 0 || *avail > *total) *avail = *total;
  if ((f = fopen("/proc/self/cgroup", "r"))) { /* cgroup v2: "0::/path" */
    while (fgets(line, sizeof(line), f))
      if (!strncmp(line, "0::", 3)) {
        FILE *m;
        line[strcspn(line, "\n")] = 0;
        snprintf(file, sizeof(file), "/sys/fs/cgroup%s/memory.max", line + 3);
        if ((m = fopen(file, "r"))) {
          if (fscanf(m, "%lf", &lim) != 1) lim = 0; /* "max": no limit */
          fclose(m);
        }
      }
    fclose(f);
  }
  if (lim > 0 && lim < *total) {
    *total = lim;
    if (*avail > lim) *avail = lim;
  }
}

/* Before any work: dense couplings whose storage cannot fit are refused with what they need per
   rank, what the node has and the ways out; so are sizes beyond the build's PetscInt indices.
   Storage per rank (docs/design.md, "Storage and memory"): packed one 8N^2 buffer; scalapack about
   2 x 8N^2/np (J, later the Hessian, and its factor); dense 3 x 8N^2/np. A need above what is
   available now, but within the node's memory, is a warning. */
PetscErrorCode KhgpsCheckMemory(MPI_Comm comm, const KhgpsParams *p)
{
  MatType     htype = p->solver.htype;
  PetscMPIInt size, rank, nrank, nlocal, gsize, bad = 0, first;
  MPI_Comm    node;
  PetscBool   packed, scalapack;
  double      N = (double)p->N, per, need, total = 0, avail = 0, gib = 1024.0 * 1024.0 * 1024.0;
  char        msg[1024] = "", what[128];

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  gsize = size / (PetscMPIInt)p->groups;
  if (p->sparse) { /* the CSR arrays of a rank's rows count their ~(c + 1) N/np entries in PetscInt */
    double nnz = (p->connectivity + 1) * PetscCeilReal(N / gsize);
    PetscCheck(nnz * 1.05 + 1000 < (double)PETSC_MAX_INT, comm, PETSC_ERR_USER_INPUT, "sparse N = %" PetscInt_FMT " with c = %g: about %.3g couplings per rank on %d rank(s) exceed this PETSc's %d-bit indices: use more ranks, or a PETSc configured --with-64-bit-indices", p->N,
               (double)p->connectivity, nnz, gsize, (int)sizeof(PetscInt) * 8);
    PetscFunctionReturn(0);
  }
  PetscCall(PetscStrcmp(htype, KHGPS_PACKED, &packed));
  PetscCall(PetscStrcmp(htype, MATSCALAPACK, &scalapack));
  if (packed) { /* -khgps_factor_precision single: N x N floats; a fallback to double would need 8 N^2 */
    per = (p->solver.factor_single ? 4 : 8) * N * N;
    PetscCall(PetscSNPrintf(what, sizeof(what), "packed storage: one %d N^2 buffer", p->solver.factor_single ? 4 : 8));
  } else {
    per = (scalapack ? 2 : 3) * 8 * N * N / gsize;
    PetscCall(PetscSNPrintf(what, sizeof(what), "%s storage on %d rank(s): about %d x 8 N^2/%d", htype, gsize, scalapack ? 2 : 3, gsize));
  }
  if (p->save_couplings && rank % gsize == 0) per += 8 * N * N;               /* J gathered on the group's first rank */
  if (p->start == KHGPS_START_THERMAL && rank % gsize == 0) per += 4 * N * N; /* the chain's float J (thermal.c) */
  PetscCallMPI(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
  PetscCallMPI(MPI_Comm_rank(node, &nrank));
  PetscCallMPI(MPI_Comm_size(node, &nlocal));
  PetscCallMPI(MPI_Allreduce(&per, &need, 1, MPI_DOUBLE, MPI_SUM, node));
  if (nrank == 0) {
    char host[256] = "this node";
    NodeMemory(&total, &avail);
    (void)gethostname(host, sizeof(host));
    host[sizeof(host) - 1] = 0;
    if (total > 0 && need > total) {
      bad = 1;
      snprintf(msg, sizeof(msg), "dense N = %" PetscInt_FMT " needs %.3g bytes (%.1f GiB) per rank (%s), %.1f GiB for the %d rank(s) on %s, which has %.1f GiB of memory: use -khgps_factor_precision single (one rank: 4 N^2 bytes), more ranks over more nodes (-khgps_hessian_mat_type scalapack: about 16 N^2/np bytes per rank), or sparse couplings (-khgps_coupling sparse)", p->N, per, per / gib, what, need / gib, nlocal, host, total / gib);
    } else if (avail > 0 && need > avail)
      PetscCall(PetscPrintf(PETSC_COMM_SELF, "khgps: WARNING: dense N = %" PetscInt_FMT " needs %.1f GiB on %s, which has %.1f GiB available now (%.1f GiB in all): the run may run out of memory\n", p->N, need / gib, host, avail / gib, total / gib));
  }
  PetscCallMPI(MPI_Comm_free(&node));
  first = bad ? rank : size; /* the first rank that found a problem says it */
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, comm));
  if (first < size) PetscCallMPI(MPI_Bcast(msg, sizeof(msg), MPI_CHAR, first, comm));
  PetscCheck(first == size, comm, PETSC_ERR_USER_INPUT, "%s", msg);
  /* PETSc's dense and ScaLAPACK matrices index a rank's N x N/np entries with PetscInt */
  PetscCheck(packed || N * PetscCeilReal(N / gsize) <= (double)PETSC_MAX_INT, comm, PETSC_ERR_USER_INPUT, "dense N = %" PetscInt_FMT " on %d rank(s): %.3g entries per rank exceed this PETSc's %d-bit indices: use more ranks (N x N/np below 2^31), or a PETSc configured --with-64-bit-indices", p->N, gsize, N * PetscCeilReal(N / gsize), (int)sizeof(PetscInt) * 8);
  PetscFunctionReturn(0);
}
