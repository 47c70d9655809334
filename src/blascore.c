/* blascore.c: which BLAS library and which of its kernels (OpenBLAS "core") run the factorization,
   for the output file (root attribute blas_core), -log_view and a warning when OpenBLAS runs
   generic kernels on a processor with AVX2 or AVX-512 (Debian 12's OpenBLAS 0.3.21 does not know
   recent CPUs and may fall back to its Prescott kernels: docs/benchmarks.md, "BLAS core"). */
#include <dlfcn.h>
#include <string.h>
#include <strings.h>
#include "khgps_platform.h"

/* OpenBLAS cores with AVX2 (or AVX-512) kernels; any other core is generic on such a processor. */
static const char *const fast_cores[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"};

static const char *CoreName(void)
{
  char *(*corename)(void) = (char *(*)(void))dlsym(RTLD_DEFAULT, "openblas_get_corename");
  return corename ? corename() : NULL;
}

/* "CORE (CONFIG)" of OpenBLAS, e.g. "Haswell (OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ...)", or
   "unknown (not OpenBLAS)" for another BLAS. */
const char *KhgpsBLASCore(void)
{
  static char buf[256];
  char *(*config)(void) = (char *(*)(void))dlsym(RTLD_DEFAULT, "openblas_get_config");
  const char *core      = CoreName();

  if (!buf[0]) {
    if (core) snprintf(buf, sizeof(buf), "%s (%s)", core, config ? config() : "OpenBLAS");
    else snprintf(buf, sizeof(buf), "unknown (not OpenBLAS)");
  }
  return buf;
}

/* The OPENBLAS_CORETYPE that fits this processor (NULL: none better than generic, or not x86). */
static const char *FittingCore(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return NULL;
}

/* A one-line warning (into msg, len > 0) if OpenBLAS runs generic kernels on a processor with
   AVX2/AVX-512; msg = "" otherwise. */
PetscErrorCode KhgpsBLASCoreWarning(char *msg, size_t len)
{
  const char *core = CoreName(), *fit = FittingCore();
  PetscBool   fast = PETSC_FALSE;

  PetscFunctionBeginUser;
  msg[0] = 0;
  if (!core || !fit) PetscFunctionReturn(0);
  for (size_t i = 0; i < sizeof(fast_cores) / sizeof(fast_cores[0]); i++)
    if (!strcasecmp(core, fast_cores[i])) fast = PETSC_TRUE;
  if (fast) PetscFunctionReturn(0);
  snprintf(msg, len, "khgps: WARNING: OpenBLAS runs its generic %s kernels on this %s processor: set OPENBLAS_CORETYPE=%s (measured on an AVX-512 machine: DGEMM 22 against 121 GFLOP/s, khgps N = 8000 18.8 s against 6.6 s; README \"Clusters\")\n", core, strcmp(fit, "SkylakeX") ? "AVX2" : "AVX-512", fit);
  PetscFunctionReturn(0);
}
