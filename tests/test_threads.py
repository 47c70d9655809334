"""The same realization on 1, 2 and 3 threads: x*, the energy and TAO's path identical bit for bit.

The minimizer's J x product on the packed storage splits the triangle into a fixed number of
parts whatever OMP_NUM_THREADS is (symvf.c), and khgps minimizes with one OpenBLAS thread (whose
dot products would otherwise be split among threads above 10000 entries, ensemble.c), so that the
thread settings, like the rank count, never change which path TAO takes, nor the minimum it finds.
(Before, 1 and 2 threads took 214 and 190 TAO iterations at N = 4000, and at N = 1e5 with sparse
couplings reached two different minima.) The spectrum uses all threads: its eigenvalues are
compared to the eps tolerance."""
import numpy as np

from common import check, done, load, out, run

cases = [
    ("packed N=2100", ["-khgps_N", "2100", "-khgps_J", "0.1", "-khgps_h", "0.01", "-khgps_nev", "10"], "OMP_NUM_THREADS"),
    ("sparse N=12000 c=20", ["-khgps_coupling", "sparse", "-khgps_connectivity", "20", "-khgps_N", "12000", "-khgps_J", "0.1",
                             "-khgps_h", "0.01", "-khgps_nev", "10"], "OPENBLAS_NUM_THREADS"),
]
for tag, args, var in cases:
    d = {}
    for t in (1, 2, 3):
        f = out(f"threads_{tag.split()[0]}_{t}.h5")
        run(args + ["-khgps_seed", "5", "-khgps_output", f], env={var: str(t), "OMP_NUM_THREADS": str(t)})
        d[t] = load(f)
    for t in (2, 3):
        a, b = d[1], d[t]
        check(np.array_equal(a["x"], b["x"]), f"{tag}: x* on {t} threads identical bit for bit to 1 thread",
              f"max |dx| {np.max(np.abs(a['x'] - b['x'])):.1e}")
        check(a["energy"] == b["energy"] and a["tao_iterations"] == b["tao_iterations"] and a["tao_function_evaluations"] == b["tao_function_evaluations"],
              f"{tag}: energy, TAO iterations and evaluations identical on {t} threads ({a['tao_iterations']} iterations)")
        ea, eb = a["eigenvalues"], b["eigenvalues"]
        check(len(ea) == len(eb) and np.all(np.abs(ea - eb) <= 1e-10 * np.abs(ea)), f"{tag}: eigenvalues on {t} threads equal to 1e-10",
              f"max rel diff {np.max(np.abs(ea - eb) / np.abs(ea)):.1e}")
        check(a["status_name"] == b["status_name"] == "minimum", f"{tag}: both minima")
done()
