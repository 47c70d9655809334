"""The fast path (default on one rank: packed storage, J in float32 in the upper triangle's space,
Hessian factored in place in the lower, one factorization, the block Krylov-Schur eigensolver)
against the plain path (dense J and a Hessian copy, PETSc's dense Cholesky, SLEPc Krylov-Schur):
the same J bit for bit, and x*, energy, eigenvalues and participation ratios equal to 1e-8
(relative), for minima (one with restarts of the block eigensolver), a random start and a saddle."""
import numpy as np

from common import skip, check, done, load, out, run

cases = [
    ("J=0.3 h=0.01", ["-khgps_N", "400", "-khgps_J", "0.3", "-khgps_nev", "60"]),
    ("J=1.5 kappa0=2 random start", ["-khgps_N", "333", "-khgps_J", "1.5", "-khgps_kappa0", "2", "-khgps_x0_amplitude", "0.5", "-khgps_nev", "50"]),
    ("J=0.05 h=0.1 kappa_min=0.1", ["-khgps_N", "500", "-khgps_J", "0.05", "-khgps_h", "0.1", "-khgps_kappa_min", "0.1", "-khgps_nev", "80"]),
    ("saddle h=0", ["-khgps_N", "200", "-khgps_J", "1.0", "-khgps_h", "0", "-khgps_nev", "10"]),
    ("N=1500 nev=100 (block restarts)", ["-khgps_N", "1500", "-khgps_J", "0.1", "-khgps_nev", "100"]),
]
for tag, args in cases:
    d = {}
    for t in ("dense", "packed"):
        f = out(f"fast_{t}_{len(d)}_{abs(hash(tag))}.h5")
        run(args + ["-khgps_hessian_mat_type", t, "-khgps_save_couplings", "-khgps_output", f])
        d[t] = load(f)
    a, b = d["dense"], d["packed"]
    check(b["root"]["hessian_mat_type"] == "packed" and a["root"]["hessian_mat_type"] == "dense"
          and b["root"]["eigensolver"] == "block" and a["root"]["eigensolver"] == "slepc", f"{tag}: the two paths ran (packed + block, dense + SLEPc)")
    check(np.array_equal(a["J"], b["J"]) and np.array_equal(a["kappa"], b["kappa"]), f"{tag}: same J and kappa bit for bit")
    dx = np.max(np.abs(a["x"] - b["x"])) / max(np.max(np.abs(a["x"])), 1e-300)
    check(dx < 1e-8, f"{tag}: x* equal to {dx:.1e} relative")
    check(abs(a["energy"] - b["energy"]) <= 1e-8 * abs(a["energy"]), f"{tag}: energy equal to 1e-8")
    ea, eb = a["eigenvalues"], b["eigenvalues"]
    de = np.max(np.abs(ea - eb) / np.abs(ea)) if len(ea) == len(eb) and len(ea) else np.inf
    check(de < 1e-8, f"{tag}: eigenvalues equal to {de:.1e} relative")
    dp = np.max(np.abs(a["participation_ratio"] - b["participation_ratio"]) / a["participation_ratio"]) if len(ea) == len(eb) else np.inf
    check(dp < 1e-8, f"{tag}: participation ratios equal to {dp:.1e} relative")
    check(np.max(b["residual"]) < 1e-10, f"{tag}: block eigensolver's residuals ||M v - l v||/|l| <= 1e-10 ({np.max(b['residual']):.1e})")
    check(a["status_name"] == b["status_name"], f"{tag}: same status ({b['status_name']})")
# block operations of the packed storage (MatMatMult by the float32 kernel, block solves) through LOBPCG
f1, f2 = out("fast_ks.h5"), out("fast_lobpcg.h5")
base = ["-khgps_N", "300", "-khgps_J", "0.3", "-khgps_nev", "20"]
run(base + ["-khgps_output", f1])
run(base + ["-eps_type", "lobpcg", "-st_type", "precond", "-eps_smallest_real", "-eps_tol", "1e-10", "-eps_lobpcg_blocksize", "32", "-khgps_output", f2])
a, b = load(f1), load(f2)
de = np.max(np.abs(a["eigenvalues"] - b["eigenvalues"]) / a["eigenvalues"]) if len(b["eigenvalues"]) == 20 else np.inf
check(de < 1e-8, f"packed block products and block solves: LOBPCG = Krylov-Schur shift-invert to {de:.1e}")
# khgps' own AVX2 block triangular solves (the default) against potrs (-khgps_packed_trsolve 0): block
# sizes 16 and 12, N not a multiple of the 16-column panels, 1 and 2 OpenMP threads
for N, bs in ((1003, 16), (517, 12)):
    f0, f1 = out(f"tr_potrs_{N}.h5"), out(f"tr_own_{N}.h5")
    base = ["-khgps_N", str(N), "-khgps_J", "0.2", "-khgps_nev", "40", "-khgps_block_size", str(bs)]
    run(base + ["-khgps_packed_trsolve", "0", "-khgps_output", f0])
    for nt in ("1", "2"):
        run(base + ["-khgps_output", f1, "-khgps_overwrite"], env={"OMP_NUM_THREADS": nt})
        a, b = load(f0), load(f1)
        de = np.max(np.abs(a["eigenvalues"] - b["eigenvalues"]) / a["eigenvalues"]) if len(b["eigenvalues"]) == 40 else np.inf
        check(de < 1e-10 and np.max(b["residual"]) < 1e-10, f"N={N}, {bs} right-hand sides, {nt} thread(s): own triangular solves = potrs ({de:.1e}, residuals {np.max(b['residual']):.1e})")
# AVX-512 kernels (the default where the processor has them) against AVX2 (-khgps_avx512 0): the
# packed J x gives the same numbers bit for bit, so x* and the energy are identical; the block solves'
# backward pass sums in another order, so the spectrum agrees to rounding
f0, f1 = out("simd_avx2.h5"), out("simd_default.h5")
base = ["-khgps_N", "1003", "-khgps_J", "0.2", "-khgps_nev", "40"]
run(base + ["-khgps_avx512", "0", "-khgps_output", f0])
run(base + ["-khgps_output", f1])
a, b = load(f0), load(f1)
check(a["root"]["simd"] == "avx2", f"-khgps_avx512 0 keeps to AVX2 (recorded: {a['root']['simd']})")
if b["root"]["simd"] == "avx512":
    check(np.array_equal(a["x"], b["x"]) and a["energy"] == b["energy"], "AVX-512 against AVX2: x* and the energy identical bit for bit")
    de = np.max(np.abs(a["eigenvalues"] - b["eigenvalues"]) / a["eigenvalues"]) if len(b["eigenvalues"]) == 40 else np.inf
    check(de < 1e-12 and np.max(b["residual"]) < 1e-10, f"AVX-512 against AVX2: eigenvalues equal to {de:.1e}, residuals {np.max(b['residual']):.1e}")
else:
    skip("AVX-512 against AVX2: x*, energy and eigenvalues", "no AVX-512 on this processor")
done()
