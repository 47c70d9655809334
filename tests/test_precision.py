"""-khgps_factor_precision single against double on the same realizations, and the BLAS core record.

Single: the packed buffer holds J and the float32 Hessian factor (4N^2 bytes); the spectrum is a
block Krylov-Schur on the float32 factor's inverse followed by a block Davidson refinement with
the double M (blockeig.c), which must reach the same tolerance on M's residuals. Checked here:
eigenvalues to 1e-10 relative, residuals below -eps_tol, participation ratios to 1e-8 and the same
status as double; N not a multiple of the block sizes; 1 and 2 threads; a saddle (the float32
Cholesky fails: the double path and its LDL^T, recorded as single->double); a nearly singular
minimum (lowest eigenvalue 1e-6, where the float32 factor is a poor inverse); the fallback forced
by -khgps_factor_single_fail; and the root attribute blas_core against OpenBLAS itself."""
import ctypes
import ctypes.util
import glob

import numpy as np

from common import check, done, load, out, run

TOL = 1e-12  # the default -eps_tol


def pair(tag, args, env=None, **kw):
    d = {}
    for prec in ("double", "single"):
        f = out(f"prec_{tag}_{prec}.h5")
        p = run(args + ["-khgps_factor_precision", prec, "-khgps_output", f], env=env)
        d[prec] = load(f)
        d[prec]["stdout"] = p.stdout
    return d["double"], d["single"]


def compare(tag, a, b, floor=0.0, status=None):
    """floor: the rounding floor of an absolute residual, ~ eps ||M|| (double's too): a residual
    below max(tol |l|, floor) has converged as far as double arithmetic goes."""
    ea, eb = a["eigenvalues"], b["eigenvalues"]
    same = len(ea) == len(eb)
    rel = np.max(np.abs(ea - eb) / np.abs(ea)) if same else np.inf
    check(same and rel <= 1e-10, f"{tag}: {len(eb)} eigenvalues equal to 1e-10 relative (max {rel:.1e})", f"{len(ea)} vs {len(eb)}")
    ra, rb = a["residual"] * np.abs(ea), b["residual"] * np.abs(eb)  # absolute, ||v|| = 1
    ok = len(eb) and np.all(rb <= np.maximum(TOL * np.abs(eb), floor))
    check(ok, f"{tag}: single's residuals ||M v - l v|| below max(tol |l|, floor {floor:.1e}) (max relative {np.max(b['residual']):.1e}, "
          f"max absolute {np.max(rb):.1e}; double's {np.max(a['residual']):.1e}, {np.max(ra):.1e})")
    dpr = np.max(np.abs(a["participation_ratio"] - b["participation_ratio"])) if same else np.inf
    check(dpr <= 1e-8, f"{tag}: participation ratios equal to 1e-8 (max diff {dpr:.1e})")
    check(a["status_name"] == b["status_name"] and (status is None or b["status_name"] == status),
          f"{tag}: the same status ({a['status_name']} / {b['status_name']})")


base = ["-khgps_J", "0.1", "-khgps_h", "0.01", "-khgps_kappa0", "1", "-khgps_seed", "3"]

# N = 1501: not a multiple of the block size (16), the panel width (16) or the tile (64)
a, b = pair("1501", base + ["-khgps_N", "1501", "-khgps_nev", "40"])
compare("N=1501, nev=40", a, b, status="minimum")
check(b["factor_precision"] == "single" and b["root"]["factor_precision"] == "single" and a["factor_precision"] == "double",
      f"N=1501: factor_precision recorded ({a['factor_precision']} / {b['factor_precision']})")
check(np.array_equal(a["x"], b["x"]) and a["energy"] == b["energy"], "N=1501: the minimization is the same bit for bit (float32 J either way)")

# 1 and 2 threads
d = {}
for t in (1, 2):
    f = out(f"prec_threads_{t}.h5")
    run(base + ["-khgps_N", "1203", "-khgps_nev", "30", "-khgps_factor_precision", "single", "-khgps_output", f],
        env={"OMP_NUM_THREADS": str(t), "OPENBLAS_NUM_THREADS": str(t)})
    d[t] = load(f)
compare("N=1203 single on 1 against 2 threads", d[1], d[2], status="minimum")

# a saddle: h = 0, x = 0 stationary, J large (test_status.py); float32 Cholesky fails -> double, LDL^T
a, b = pair("saddle", ["-khgps_N", "300", "-khgps_J", "1.0", "-khgps_h", "0", "-khgps_kappa0", "1", "-khgps_nev", "10"])
check(b["status_name"] == "saddle" and a["status_name"] == "saddle" and b["cholesky_ok"] == 0, f"saddle: recorded as saddle by both ({b['status_name']})")
check(b["factor_precision"] == "single->double", f"saddle: the float32 factorization failed and the double path took over (recorded: {b['factor_precision']})")
check(len(b["eigenvalues"]) == 10 and np.allclose(a["eigenvalues"], b["eigenvalues"], rtol=1e-12, atol=0) and b["eigenvalues"][0] < 0,
      f"saddle: the eigenvalues nearest 0 (LDL^T), negative ones included, as double's ({b['eigenvalues'][0]:.4f})")

# a nearly singular minimum: h = 0, x = 0, M = J + diag(kappa) shifted so that its lowest eigenvalue is 1e-6
ns = ["-khgps_N", "800", "-khgps_J", "0.1", "-khgps_h", "0", "-khgps_nev", "20", "-khgps_seed", "7"]
f = out("prec_shift.h5")
run(ns + ["-khgps_kappa_min", "0.5", "-khgps_kappa0", "1.5", "-khgps_output", f])
l1 = load(f)["eigenvalues"][0]
kmin = 0.5 - l1 + 1e-6
a, b = pair("nearsing", ns + ["-khgps_kappa_min", repr(kmin), "-khgps_kappa0", repr(kmin + 1.0)])
check(abs(a["eigenvalues"][0] - 1e-6) < 1e-9, f"nearly singular: double's lowest eigenvalue is {a['eigenvalues'][0]:.3e}")
compare("nearly singular (lowest 1e-6)", a, b, floor=4 * np.finfo(float).eps * 1.8, status="minimum")  # ||M|| < 1.8
check(b["factor_precision"] in ("single", "single->double"), f"nearly singular: factor_precision {b['factor_precision']}")

# the fallback, forced: the same numbers as double, recorded
a, b = pair("fail", base + ["-khgps_N", "700", "-khgps_nev", "20", "-khgps_factor_single_fail"])
check(b["factor_precision"] == "single->double", f"forced float32 failure: recorded as {b['factor_precision']}")
check(np.array_equal(a["eigenvalues"], b["eigenvalues"]) and np.array_equal(a["participation_ratio"], b["participation_ratio"]) and a["status_name"] == b["status_name"],
      "forced float32 failure: the double path's results bit for bit")

# other storages keep double: 2 ranks (ScaLAPACK)
f = out("prec_np2.h5")
run(base + ["-khgps_N", "400", "-khgps_nev", "10", "-khgps_factor_precision", "single", "-khgps_output", f], np_=2)
d2 = load(f)
check(d2["factor_precision"] == "double" and d2["root"]["factor_precision"] == "double", "2 ranks (ScaLAPACK): the factor stays double, and the file says so")

# blas_core: the OpenBLAS core the run used (tests do not set OPENBLAS_CORETYPE; the environment may)
core = b["root"].get("blas_core", "")
lib = None
for cand in glob.glob("/usr/lib/x86_64-linux-gnu/openblas*/libopenblas*.so*") + [ctypes.util.find_library("openblas") or ""]:
    try:
        lib = ctypes.CDLL(cand)
        break
    except OSError:
        continue
if lib is not None:
    lib.openblas_get_corename.restype = ctypes.c_char_p
    name = lib.openblas_get_corename().decode()
    check(core.startswith(name + " (OpenBLAS"), f"blas_core records OpenBLAS's core: {core!r} (OpenBLAS says {name})")
    generic = name.lower() not in ("haswell", "zen", "skylakex", "cooperlake", "sapphirerapids")
    cpu = open("/proc/cpuinfo").read()
    warned = "WARNING: OpenBLAS runs its generic" in b["stdout"]
    check(warned == (generic and " avx2" in cpu), f"generic-core warning {'given' if warned else 'not given'} for core {name}")
else:
    check(core.startswith("unknown"), f"blas_core without OpenBLAS: {core!r}")
p = run(["-khgps_N", "100", "-khgps_factor_precision", "half"], check_rc=False)
check(p.returncode == 2 and p.stderr.strip().startswith("khgps: error:") and len(p.stderr.strip().splitlines()) == 1,
      "-khgps_factor_precision half: one line khgps: error:, exit 2", p.stderr)
p = run(base + ["-khgps_N", "200", "-khgps_nev", "5", "-log_view"])
check("khgps BLAS core: " + core.split(" (")[0] in p.stdout and "Event Stage" in p.stdout, "-log_view names the BLAS core and still prints the log")
done()
