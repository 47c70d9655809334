"""The README's example, end to end: options/quick.opts (N = 2000) composed with command-line
options writes a file whose x* has a vanishing gradient and whose eigenvalues match a dense
LAPACK solve of the saved Hessian; options after the file override it."""
import numpy as np

from common import check, done, energy, gradient, hessian, load, out, run

f = out("quick.h5")
p = run(["-options_file", "options/quick.opts", "-khgps_save_couplings", "-khgps_output", f])
d = load(f)
check(d["params"]["N"] == 2000 and d["params"]["nev"] == 100, "quick.opts read: N = 2000, nev = 100")
g = np.linalg.norm(gradient(d))
check(g <= d["params"]["gtol"], f"quick.opts: |grad H(x*)| = {g:.1e} <= gtol = {d['params']['gtol']:.1e}")
E = energy(d)
check(abs(E - d["energy"]) <= 1e-12 * abs(E), f"quick.opts: recorded energy = numpy energy ({E:.15f})")
w = np.linalg.eigvalsh(hessian(d))
e = d["eigenvalues"]
err = np.max(np.abs(e - w[:100]) / w[:100])
check(w[0] > 0 and err < 1e-10, f"quick.opts: 100 lowest eigenvalues = LAPACK eigh to {err:.1e} (lowest {w[0]:.4e})")
check(d["status_name"] == "minimum" and "minimum" in p.stdout, "quick.opts: a minimum, and the progress line says so")
check(np.all(d["residual"] < 1e-10), f"quick.opts: eigenpair residuals < 1e-10 (max {d['residual'].max():.1e})")
for key in ("khgps_version", "petsc_version", "slepc_version", "options"):
    check(bool(d["root"].get(key)), f"provenance attribute {key} present")
check("-khgps_N 2000" in d["root"]["options"] and "-khgps_save_couplings" in d["root"]["options"], "options used (the file's and the command line's) are recorded", d["root"]["options"])
for key in ("time_draw", "time_minimize", "time_spectrum"):
    check(d[key] > 0, f"{key} recorded ({d[key]:.2f} s)")

# the command line composes with the options file: later options win
f2 = out("quick_small.h5")
run(["-options_file", "options/quick.opts", "-khgps_N", "300", "-khgps_J", "0.2", "-khgps_output", f2])
d2 = load(f2)
check(d2["params"]["N"] == 300 and d2["params"]["J"] == 0.2 and len(d2["x"]) == 300, "-khgps_N 300 -khgps_J 0.2 override quick.opts")
done()
