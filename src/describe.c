/* describe.c: what a run file records of a run, made once at set-up from the solvers as set-up
   made them (KhgpsOutputDescribe): the file's /params, the physics and the protocol (what decides
   which minimum is found and what counts as one, compared on resume), and this run's description
   (key=value lines: versions, machine, storage, options; what does not change results beyond
   rounding). The run file's protocol (outfile.c) reads them back. */
#include <petsctao.h>
#include <slepceps.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "khgps_options.h"
#include "khgps_result.h"
#include "khgps_platform.h"
#include "khgps_describe.h"
#include "describe.h"

static struct {
  KhgpsParam params[40]; /* /params: physics and protocol */
  int        nparams;
  char       protocol_text[3][4096]; /* storage for the protocol's strings */
  char      *text;                   /* this run's description, key=value lines */
} described;

/* The /params entries (n of them), as KhgpsOutputDescribe made them. */
const KhgpsParam *KhgpsDescribedParams(int *n)
{
  *n = described.nparams;
  return described.params;
}

/* This run's description ("" before KhgpsOutputDescribe). */
const char *KhgpsDescribedRun(void)
{
  return described.text ? described.text : "";
}

/* Options that decide the path of the minimization (besides -tao_type and the tolerances, which
   are read from TAO itself): every -tao_ option but monitors and views, the Newton polish's. */
static PetscBool PathOption(const char *name)
{
  static const char *const prefixes[] = {"tao_", "khgps_newton_", "khgps_minimizer", "khgps_precondition"};
  static const char *const outputs[]  = {"monitor", "view", "converged_reason", "_log", "tao_type", "tao_gatol", "tao_grtol", "tao_gttol", "tao_max_it", "tao_max_funcs"};
  PetscBool                ok         = PETSC_FALSE;

  for (size_t k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++)
    if (!strncmp(name, prefixes[k], strlen(prefixes[k]))) ok = PETSC_TRUE;
  for (size_t k = 0; ok && k < sizeof(outputs) / sizeof(outputs[0]); k++)
    if (strstr(name, outputs[k])) ok = PETSC_FALSE;
  return ok;
}

static int CompareStrings(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The explicit path options, sorted, "-name value" joined by spaces. */
static PetscErrorCode PathOptions(char *out, size_t len)
{
  char **items;
  int    m = 0;

  PetscFunctionBeginUser;
  out[0] = 0;
  {
    char *all, *tok, *save = NULL;
    PetscCall(PetscOptionsGetAll(NULL, &all));
    PetscCall(PetscMalloc1(strlen(all) / 2 + 2, &items));
    for (tok = strtok_r(all, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
      if (tok[0] == '-' && !(tok[1] >= '0' && tok[1] <= '9') && tok[1] != '.') {
        if (PathOption(tok + 1)) items[m++] = tok;
        else continue;
      } else if (m && items[m - 1] + strlen(items[m - 1]) + 1 == tok) {
        items[m - 1][strlen(items[m - 1])] = ' '; /* join "-name value" */
      }
    }
    qsort(items, (size_t)m, sizeof(char *), CompareStrings);
    for (int k = 0; k < m; k++) {
      size_t l = strlen(out);
      snprintf(out + l, len - l, "%s%s", k ? " " : "", items[k]);
    }
    PetscCall(PetscFree(items));
    PetscCall(PetscFree(all));
  }
  PetscFunctionReturn(0);
}

/* Before any work, once, from the solvers as set-up made them: the file's /params (the physics and
   the protocol: what decides which minimum is found and what counts as one) and this run's
   description (what does not change results beyond rounding). */
PetscErrorCode KhgpsOutputDescribe(Tao tao, EPS eps, const KhgpsParams *p)
{
  TaoType     taotype;
  EPSType     epstype;
  PetscReal   gatol, grtol, gttol, etol;
  PetscInt    maxit, maxf, eits;
  PetscMPIInt size;
  char        buf[256], *opts, host[256] = "unknown", date[64];
  size_t      len;
  time_t      now = time(NULL);
  int         n   = 0;

  PetscFunctionBeginUser;
  PetscCall(TaoGetType(tao, &taotype));
  PetscCall(TaoGetTolerances(tao, &gatol, &grtol, &gttol));
  PetscCall(TaoGetMaximumIterations(tao, &maxit));
  PetscCall(TaoGetMaximumFunctionEvaluations(tao, &maxf));
  PetscCall(EPSGetTolerances(eps, &etol, &eits));
  PetscCall(EPSGetType(eps, &epstype));
  PetscCall(PetscStrncpy(described.protocol_text[0], taotype, sizeof(described.protocol_text[0])));
  PetscCall(PathOptions(described.protocol_text[1], sizeof(described.protocol_text[1])));
// clang-format off
#define PI(nm, v)  described.params[n++] = (KhgpsParam){nm, KHGPS_PARAM_INT, (long long)(v), 0, NULL, PETSC_FALSE}
#define PR(nm, v)  described.params[n++] = (KhgpsParam){nm, KHGPS_PARAM_REAL, 0, (double)(v), NULL, PETSC_FALSE}
#define PPI(nm, v) described.params[n++] = (KhgpsParam){nm, KHGPS_PARAM_INT, (long long)(v), 0, NULL, PETSC_TRUE}
#define PPR(nm, v) described.params[n++] = (KhgpsParam){nm, KHGPS_PARAM_REAL, 0, (double)(v), NULL, PETSC_TRUE}
#define PPS(nm, v) described.params[n++] = (KhgpsParam){nm, KHGPS_PARAM_STRING, 0, 0, (v), PETSC_TRUE}
  // clang-format on
  PI("sparse", p->sparse);
  PR("connectivity", p->sparse ? p->connectivity : 0);
  PI("N", p->N);
  PR("kappa0", p->kappa0);
  PR("kappa_min", p->kappa_min);
  PR("J", p->J);
  PR("h", p->h);
  PR("A", p->A);
  PI("seed", p->seed);
  PI("nev", p->nev);
  PR("x0_amplitude", p->x0_amplitude);
  PI("coupling_bits", 32); /* J_ij is its draw rounded to float32 (KhgpsCoupling) */
  PR("gtol", p->gtol);
  PI("polish_its", p->polish_its);
  /* the protocol, recorded since 2026-12 (files before lack it: refused on resume) */
  PPS("tao_type", described.protocol_text[0]);
  PPR("tao_gatol", gatol);
  PPR("tao_grtol", grtol);
  PPR("tao_gttol", gttol);
  PPI("tao_max_it", maxit);
  PPI("tao_max_funcs", maxf);
  PPS("minimizer_options", described.protocol_text[1]);
  PPR("eps_tol", etol);
  /* the starting point (since issue 27; files before lack these: zero or random, as x0_amplitude says) */
  PPS("start", KhgpsStartNames[p->start]);
  PPR("parent_temperature", p->parent_temperature);
  PPI("equilibration_sweeps", p->equilibration_sweeps);
  PPI("adapt_sweeps", p->adapt_sweeps);
  PPI("measure_sweeps", p->measure_sweeps);
  described.nparams = n;
#undef PI
#undef PR
#undef PPI
#undef PPR
#undef PPS

  /* the run's description */
  PetscCall(PetscFree(described.text));
  PetscCall(PetscOptionsGetAll(NULL, &opts));
  len = strlen(opts) + 4096;
  PetscCall(PetscMalloc1(len, &described.text));
  described.text[0] = 0;
  (void)gethostname(host, sizeof(host));
  host[sizeof(host) - 1] = 0;
  strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
#define ADD(...) snprintf(described.text + strlen(described.text), len - strlen(described.text), __VA_ARGS__)
  ADD("format=%s\n", KHGPS_FORMAT);
  ADD("khgps_version=%s\n", KHGPS_VERSION);
  PetscCall(PetscGetVersion(buf, sizeof(buf)));
  ADD("petsc_version=%s\n", buf);
  PetscCall(SlepcGetVersion(buf, sizeof(buf)));
  ADD("slepc_version=%s\n", buf);
  ADD("mpi_size=%d\ngroups=%" PetscInt_FMT "\npetscint_bits=%d\n", (int)size, p->groups, (int)(sizeof(PetscInt) * 8));
  ADD("tao_type=%s\n", taotype);
  ADD("eps_type=%s\n", p->solver.block ? "khgps-block-krylov-schur" : epstype);
  ADD("eigensolver=%s\n", p->solver.block ? "block" : "slepc");
  if (p->solver.block) ADD("block_size=%" PetscInt_FMT "\nblock_ncv=%" PetscInt_FMT "\n", p->solver.block_size, p->solver.block_ncv);
  ADD("hessian_mat_type=%s\n", p->solver.htype);
  ADD("simd=%s\n", KhgpsSimdName());
  ADD("blas_core=%s\n", KhgpsBLASCore());
  ADD("save_modes=%" PetscInt_FMT "\n", p->save_modes);
  ADD("factor_precision=%s\n", p->solver.factor_single && !strcmp(p->solver.htype, KHGPS_PACKED) ? "single" : "double");
  ADD("host=%s\nstarted=%s\n", host, date);
  for (char *c = opts; *c; c++)
    if (*c == '\n') *c = ' ';
  ADD("options=%s\n", opts);
#undef ADD
  PetscCall(PetscFree(opts));
  PetscFunctionReturn(0);
}
