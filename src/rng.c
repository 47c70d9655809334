/* rng.c: counter-based random draws (Random123 Philox4x64-10), keyed by (seed, realization)
   and counted by (i, j, stream), so that a draw never depends on the rank or the call order. */
#include <Random123/philox.h>
#include <math.h>
#include "khgps_rng.h"

/* counter word 2 selects the stream (the table in khgps_rng.h) */
enum {
  STREAM_J = KHGPS_STREAM_J
};

static inline double u53(uint64_t r) /* uniform in (0, 1] */
{
  return ((double)(r >> 11) + 1.0) * 0x1.0p-53;
}

/* A uniform number in (0, 1] for item (i, s) of a stream (stream >= 1). */
PetscReal KhgpsUniformAt(PetscInt64 seed, PetscInt realization, PetscInt stream, PetscInt i, PetscInt s)
{
  philox4x64_key_t k = {
    {(uint64_t)seed, (uint64_t)realization}
  };
  philox4x64_ctr_t c = {
    {(uint64_t)i, (uint64_t)s, (uint64_t)stream, 0}
  };
  philox4x64_ctr_t r = philox4x64(c, k);
  return (PetscReal)u53(r.v[0]);
}

/* Two uniform numbers in (0, 1] for item (i, s) of a stream, from one Philox call (words 0 and 1;
   the first is KhgpsUniformAt's). */
void KhgpsUniform2At(PetscInt64 seed, PetscInt realization, PetscInt stream, PetscInt64 i, PetscInt64 s, PetscReal u[2])
{
  philox4x64_key_t k = {
    {(uint64_t)seed, (uint64_t)realization}
  };
  philox4x64_ctr_t c = {
    {(uint64_t)i, (uint64_t)s, (uint64_t)stream, 0}
  };
  philox4x64_ctr_t r = philox4x64(c, k);
  u[0]               = (PetscReal)u53(r.v[0]);
  u[1]               = (PetscReal)u53(r.v[1]);
}

/* A uniform number in (0, 1] for item i of a stream: item (i, 0). */
PetscReal KhgpsUniform(PetscInt64 seed, PetscInt realization, PetscInt stream, PetscInt i)
{
  return KhgpsUniformAt(seed, realization, stream, i, 0);
}

/* Two standard normals for counter (i, m): one Philox call, one Box-Muller transform.
   They are z_{i,2m} (cos) and z_{i,2m+1} (sin) of the pairs i < j. */
void KhgpsNormal2(PetscInt64 seed, PetscInt realization, PetscInt i, PetscInt m, PetscReal z[2])
{
  philox4x64_key_t k = {
    {(uint64_t)seed, (uint64_t)realization}
  };
  philox4x64_ctr_t c = {
    {(uint64_t)i, (uint64_t)m, STREAM_J, 0}
  };
  philox4x64_ctr_t r = philox4x64(c, k);
  double           R = sqrt(-2.0 * log(u53(r.v[0]))), t = 2.0 * M_PI * u53(r.v[1]);
  z[0] = (PetscReal)(R * cos(t));
  z[1] = (PetscReal)(R * sin(t));
}

/* The standard normal z_ij = z_ji of the pair (i, j), i != j. */
PetscReal KhgpsNormalPair(PetscInt64 seed, PetscInt realization, PetscInt i, PetscInt j)
{
  PetscReal z[2];
  PetscInt  a = i < j ? i : j, b = i < j ? j : i;
  KhgpsNormal2(seed, realization, a, b >> 1, z);
  return z[b & 1];
}
