/* test_thermal_chain.c: the thermal start's Metropolis chain (thermal.c) on a system given in full,
   two oscillators by default: many chains (the realization index keys each one's random numbers),
   and the moments of their final states, the sample the minimizer starts from, with their standard
   errors (the chains are independent). tests/test_thermal.py compares them with the exact 2-D
   quadrature of exp(-H/T).
   Options: -k1 -k2 -J12 -A -h -T -chains -sweeps -adapt -measure. Prints one line of numbers:
   <x1^2> se <x2^2> se <x1 x2> se <H> se <x1> se, then the mean of the chains' own averages of H/N. */
#include "khgps.h"

int main(int argc, char **argv)
{
  PetscReal  k[2] = {0.7, 0.4}, J12 = 0.5, A = 1, h = 0.1, T = 0.3, x[2];
  PetscInt   chains = 20000, sweeps = 60, adapt = 20, measure = 20;
  float      J[4];
  PetscReal  s[5] = {0}, s2[5] = {0}, hbar = 0;
  KhgpsChain c;

  PetscCall(PetscInitialize(&argc, &argv, NULL, "thermal chain check"));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-k1", &k[0], NULL));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-k2", &k[1], NULL));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-J12", &J12, NULL));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-A", &A, NULL));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-h", &h, NULL));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-T", &T, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-chains", &chains, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-sweeps", &sweeps, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-adapt", &adapt, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-measure", &measure, NULL));
  J[0] = J[3] = 0;
  J[1] = J[2] = (float)J12;
  c           = (KhgpsChain){2, J, k, A, h, T, 12345, 0, sweeps, adapt, measure};
  for (PetscInt r = 0; r < chains; r++) {
    KhgpsThermalStats st;
    PetscReal         v[5];
    c.realization = r;
    PetscCall(KhgpsThermalChain(&c, x, &st));
    v[0] = x[0] * x[0];
    v[1] = x[1] * x[1];
    v[2] = x[0] * x[1];
    v[3] = (PetscReal)J[1] * x[0] * x[1];
    for (int i = 0; i < 2; i++) v[3] += 0.5 * k[i] * x[i] * x[i] + A / 24 * x[i] * x[i] * x[i] * x[i] - h * x[i];
    v[4] = x[0];
    for (int q = 0; q < 5; q++) s[q] += v[q], s2[q] += v[q] * v[q];
    hbar += 2 * st.energy; /* the chain's own average of H (H/N, N = 2) */
  }
  for (int q = 0; q < 5; q++) {
    PetscReal m = s[q] / chains, var = s2[q] / chains - m * m;
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "%.10e %.10e ", (double)m, (double)PetscSqrtReal(PetscMax(var, 0) / (chains - 1))));
  }
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "%.10e\n", (double)(hbar / chains)));
  PetscCall(PetscFinalize());
  return 0;
}
