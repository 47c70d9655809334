"""The draws: J symmetric with zero diagonal, mean 0 and variance J^2/N within sampling error,
Gaussian (kurtosis 3); kappa uniform on [kappa_min, kappa0]; seeds and realizations independent."""
import numpy as np
from scipy import stats

from common import check, done, load, out, run

N, J, kmin, k0 = 1500, 0.7, 0.2, 1.5
f = out("couplings.h5")
run(["-khgps_N", str(N), "-khgps_J", str(J), "-khgps_kappa_min", str(kmin), "-khgps_kappa0", str(k0),
     "-khgps_nev", "5", "-khgps_save_couplings", "-khgps_output", f])
d = load(f)
Jm = d["J"]
check(Jm.shape == (N, N), "J is N x N")
check(np.array_equal(Jm, Jm.T), "J is exactly symmetric")
check(np.all(np.diag(Jm) == 0), "J has a zero diagonal")
z = Jm[np.triu_indices(N, 1)] / (J / np.sqrt(N))
n = z.size
check(abs(z.mean()) < 5 / np.sqrt(n), f"mean of J_ij is 0 within 5 sigma ({z.mean():.2e}, sigma {1/np.sqrt(n):.1e})")
check(abs(z.var() - 1) < 5 * np.sqrt(2 / n), f"variance of J_ij is J^2/N within 5 sigma ({z.var():.5f})")
check(abs(stats.kurtosis(z, fisher=False) - 3) < 5 * np.sqrt(24 / n), f"J_ij Gaussian: kurtosis {stats.kurtosis(z, fisher=False):.4f} = 3 within 5 sigma")
ks = stats.kstest(z, "norm").pvalue
check(ks > 1e-4, f"J_ij Gaussian: Kolmogorov-Smirnov p = {ks:.3f}")
# neighbouring pairs share a Philox call (cos/sin of one Box-Muller draw): they must be uncorrelated
r = np.corrcoef(Jm[0:N - 1:2, :].ravel(), Jm[1:N:2, :].ravel())[0, 1]
check(abs(r) < 5 / np.sqrt(Jm[0:N - 1:2, :].size), f"adjacent rows uncorrelated (r = {r:.1e})")
k = d["kappa"]
check(k.min() >= kmin and k.max() <= k0, "kappa within [kappa_min, kappa0]")
ks = stats.kstest((k - kmin) / (k0 - kmin), "uniform").pvalue
check(ks > 1e-4, f"kappa uniform: Kolmogorov-Smirnov p = {ks:.3f}")

# another realization, another seed: new draws, uncorrelated; the same ones again: identical
f2, f3, f4 = out("couplings_r1.h5"), out("couplings_s2.h5"), out("couplings_again.h5")
base = ["-khgps_N", str(N), "-khgps_J", str(J), "-khgps_kappa_min", str(kmin), "-khgps_kappa0", str(k0), "-khgps_nev", "5", "-khgps_save_couplings"]
run(base + ["-khgps_realization", "1", "-khgps_output", f2])
run(base + ["-khgps_seed", "2", "-khgps_output", f3])
run(base + ["-khgps_output", f4])
for name, g in (("realization 1", f2), ("seed 2", f3)):
    e = load(g, realization=1 if "realization" in name else 0)
    r = np.corrcoef(Jm.ravel(), e["J"].ravel())[0, 1]
    check(abs(r) < 5 / N, f"{name}: J uncorrelated with realization 0 seed 1 (r = {r:.1e})")
    r = np.corrcoef(k, e["kappa"])[0, 1]
    check(abs(r) < 5 / np.sqrt(N), f"{name}: kappa uncorrelated (r = {r:.1e})")
e = load(f4)
check(np.array_equal(e["J"], Jm) and np.array_equal(e["kappa"], k), "same seed and realization: identical draws")
done()
