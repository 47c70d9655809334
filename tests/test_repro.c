/* test_repro.c: the reproducible reductions of repro.c on vectors of a wide dynamic range whose
   entries are keyed by global index (exactly representable, so that Python can rebuild them).
   Prints one line per reduction, the value in C99 hex ("%a"), for tests/test_repro.py to compare
   across rank counts and with math.fsum: "name value". */
#include "khgps.h"

/* x_i = (k_i - 2^19) 2^(e_i), k_i a 20-bit hash of i, e_i in [-30, 30]: exact doubles whose
   products are exact too; y with other constants. */
static PetscReal Entry(PetscInt i, unsigned long long a, int b)
{
  const unsigned long long k = ((unsigned long long)i * a) % 1048573ULL;
  return ldexp((double)k - 524288.0, (int)(((unsigned long long)i * (unsigned long long)b) % 61ULL) - 30);
}

int main(int argc, char **argv)
{
  Vec         x, y, z, w[2], plain;
  PetscInt    N = 100003, rs, re;
  PetscScalar d, dd[2], db, nb;
  PetscReal   n[2];
  MPI_Comm    comm;

  PetscCall(PetscInitialize(&argc, &argv, NULL, "reproducible reductions"));
  PetscCall(KhgpsLogRegister());
  comm = PETSC_COMM_WORLD;
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-n", &N, NULL));
  PetscCall(VecCreate(comm, &x));
  PetscCall(VecSetSizes(x, PETSC_DECIDE, N));
  PetscCall(VecSetFromOptions(x));
  PetscCall(VecDuplicate(x, &plain)); /* before the ops are replaced: PETSc's own */
  PetscCall(KhgpsVecSetReproducible(x));
  PetscCall(VecDuplicate(x, &y)); /* inherits the reproducible ops */
  PetscCall(VecDuplicate(y, &z));
  PetscCall(VecGetOwnershipRange(x, &rs, &re));
  for (PetscInt i = rs; i < re; i++) {
    PetscCall(VecSetValue(x, i, Entry(i, 2654435761ULL, 7), INSERT_VALUES));
    PetscCall(VecSetValue(y, i, Entry(i, 40503ULL, 13), INSERT_VALUES));
    PetscCall(VecSetValue(plain, i, Entry(i, 2654435761ULL, 7), INSERT_VALUES));
  }
  PetscCall(VecAssemblyBegin(x));
  PetscCall(VecAssemblyEnd(x));
  PetscCall(VecAssemblyBegin(y));
  PetscCall(VecAssemblyEnd(y));
  PetscCall(VecAssemblyBegin(plain));
  PetscCall(VecAssemblyEnd(plain));

  PetscCall(VecDot(x, y, &d));
  PetscCall(PetscPrintf(comm, "dot %a\n", (double)d));
  PetscCall(VecTDot(x, y, &d));
  PetscCall(PetscPrintf(comm, "tdot %a\n", (double)d));
  w[0] = y;
  w[1] = x;
  PetscCall(VecMDot(x, 2, w, dd));
  PetscCall(PetscPrintf(comm, "mdot %a %a\n", (double)dd[0], (double)dd[1]));
  PetscCall(VecNorm(x, NORM_1, &n[0]));
  PetscCall(PetscPrintf(comm, "norm1 %a\n", (double)n[0]));
  PetscCall(VecNorm(x, NORM_2, &n[0]));
  PetscCall(PetscPrintf(comm, "norm2 %a\n", (double)n[0]));
  PetscCall(VecNorm(y, NORM_INFINITY, &n[0]));
  PetscCall(PetscPrintf(comm, "norminf %a\n", (double)n[0]));
  PetscCall(VecNorm(y, NORM_1_AND_2, n));
  PetscCall(PetscPrintf(comm, "norm12 %a %a\n", (double)n[0], (double)n[1]));
  PetscCall(VecDotBegin(x, y, &db));
  PetscCall(VecNormBegin(y, NORM_2, &n[0]));
  PetscCall(VecDotEnd(x, y, &db));
  PetscCall(VecNormEnd(y, NORM_2, &n[0]));
  PetscCall(PetscPrintf(comm, "dotsplit %a\nnorm2split %a\n", (double)db, (double)n[0]));
  PetscCall(VecDotNorm2(x, y, &db, &nb));
  PetscCall(PetscPrintf(comm, "dotnorm2 %a %a\n", (double)db, (double)nb));
  /* y += a x and its relatives: entries as PETSc computes them elementwise (compared by a hash) */
  PetscCall(VecCopy(y, z));
  PetscCall(VecAXPY(z, 0.1, x));
  PetscCall(VecAXPBY(z, 0.3, 1.0, y));
  PetscCall(VecAYPX(z, 1.0 / 3.0, x));
  PetscCall(VecAXPBY(z, -0.7, 0.9, x));
  PetscCall(VecDot(z, z, &d));
  PetscCall(PetscPrintf(comm, "axpy %a\n", (double)d));
  PetscCall(VecDot(plain, y, &d)); /* PETSc's own sum, for comparison (not asserted) */
  PetscCall(PetscPrintf(comm, "plaindot %a\n", (double)d));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&y));
  PetscCall(VecDestroy(&z));
  PetscCall(VecDestroy(&plain));
  PetscCall(PetscFinalize());
  return 0;
}
