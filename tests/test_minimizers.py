"""Minimizers (issue 23): every -tao_type either finds the minimum on the default (packed) storage
or is refused in one line before any work; -khgps_minimizer lmvm-diag (blmvm from the Hessian
diagonal) reaches the same minimum as bncg on small systems, with its gradient below gtol, and
with fewer J x products (counted, never timed)."""
import re

import numpy as np

from common import check, done, gradient, hessian, load, out, run

# PETSc 3.18 include/petsctao.h, every TAOxxx type name
TAO_TYPES = ["lmvm", "nls", "ntr", "ntl", "cg", "tron", "owlqn", "bmrm", "blmvm", "bqnls", "bncg", "bnls", "bntr",
             "bntl", "bqnkls", "bqnktr", "bqnktl", "bqpip", "gpcg", "nm", "pounders", "brgn", "lcl", "ssils", "ssfls",
             "asils", "asfls", "ipm", "pdipm", "shell", "admm", "almm", "python"]
LINE = re.compile(r"khgps minimizer: realization (\d+) .*: (\d+) its, (\d+) J x products")
N = 60
BASE = ["-khgps_N", str(N), "-khgps_J", "0.3", "-khgps_h", "0.01", "-khgps_nev", "5", "-khgps_save_couplings"]


def solve(tag, extra, base=BASE, check_rc=True):
    f = out(f"{tag}.h5")
    p = run([*base, "-khgps_output", f, "-khgps_overwrite", *extra], check_rc=check_rc)
    return p, f


# the reference: bncg, today's default
_, fref = solve("ref_bncg", [])
ref = load(fref)
gtol = ref["params"]["gtol"]
check(ref["status"] == "minimum" or ref["status"] == 0, "bncg reference is a minimum", str(ref["status"]))


def is_minimum(d):
    return d["status"] in ("minimum", 0)


for t in TAO_TYPES:
    p, f = solve(f"type_{t}", ["-tao_type", t], check_rc=False)
    err = [l for l in p.stderr.splitlines() if l.strip()]
    if p.returncode == 2:
        check(len(err) == 1 and err[0].startswith(f"khgps: error: -tao_type {t}:") and "PETSC ERROR" not in p.stdout + p.stderr,
              f"-tao_type {t}: refused in one line", repr(p.stderr[-300:]))
        continue
    if not check(p.returncode == 0, f"-tao_type {t}: exits 0 or 2", f"rc {p.returncode}: {p.stderr[-300:]}"):
        continue
    d = load(f)
    check(d["root"]["tao_type"] == t, f"-tao_type {t}: recorded")
    rel = abs(d["energy"] - ref["energy"]) / abs(ref["energy"])
    if rel <= 1e-8:
        check(is_minimum(d), f"-tao_type {t}: the bncg minimum (energy to {rel:.1e}), status minimum", str(d["status"]))
    else:  # another minimum is fine if it is one
        g = np.linalg.norm(gradient(d))
        lmin = np.linalg.eigvalsh(hessian(d))[0]
        check(is_minimum(d) and g <= gtol and lmin > 0, f"-tao_type {t}: another minimum (energy differs by {rel:.1e}): |grad| {g:.1e} <= gtol, Hessian positive",
              f"status {d['status']}, |grad| {g:.2e}, lowest {lmin:.2e}")

# lmvm-diag against bncg on small systems: the same minimum, a gradient below gtol before the polish
for (n, J, r) in [(60, 0.3, 0), (100, 0.1, 1), (150, 0.4, 2), (200, 0.2, 3)]:
    base = ["-khgps_N", str(n), "-khgps_J", str(J), "-khgps_h", "0.01", "-khgps_nev", "3", "-khgps_save_couplings",
            "-khgps_first", str(r), "-khgps_realizations", "1"]
    _, fa = solve(f"small_bncg_{n}", [], base)
    _, fb = solve(f"small_diag_{n}", ["-khgps_minimizer", "lmvm-diag"], base)
    a, b = load(fa, r), load(fb, r)
    tag = f"N={n} J={J} realization {r}"
    check(b["root"]["tao_type"] == "blmvm" and "-khgps_minimizer lmvm-diag" in b["root"]["options"],
          f"lmvm-diag {tag}: TAO type blmvm and the option recorded")
    check(is_minimum(b), f"lmvm-diag {tag}: a minimum", str(b["status"]))
    check(b["gradient_norm_tao"] <= b["params"]["gtol"], f"lmvm-diag {tag}: TAO's own gradient norm below gtol (before the polish)",
          f"{b['gradient_norm_tao']:.2e}")
    g = np.linalg.norm(gradient(b))
    check(g <= b["params"]["gtol"], f"lmvm-diag {tag}: |grad H| at the returned x below gtol (numpy)", f"{g:.2e}")
    dx = np.max(np.abs(a["x"] - b["x"]))
    check(dx < 1e-6, f"lmvm-diag {tag}: the same minimum as bncg (|x_a - x_b|_inf {dx:.1e})", f"{dx:.2e}")

# lmvm-diag on 1 and 2 ranks: the same path (its vectors are duplicates of x, reproducible sums)
its = []
for np_ in (1, 2):
    f = out(f"ranks_diag_{np_}.h5")
    run(["-khgps_N", "400", "-khgps_J", "0.3", "-khgps_nev", "3", "-khgps_minimizer", "lmvm-diag", "-khgps_output", f], np_=np_)
    its.append(load(f)["tao_iterations"])
check(its[0] == its[1], f"lmvm-diag: the same TAO iterations on 1 and 2 ranks ({its[0]}, {its[1]})")

# J x products: fewer with the diagonal than without it (the same realizations; counts, not time)
counts = {}
for name, extra in [("bncg", []), ("blmvm", ["-tao_type", "blmvm"]), ("lmvm-diag", ["-khgps_minimizer", "lmvm-diag"])]:
    p = run(["-khgps_N", "500", "-khgps_J", "0.1", "-khgps_h", "0.01", "-khgps_nev", "1", "-khgps_realizations", "4",
             "-khgps_minimizer_view", *extra])
    m = [LINE.search(l) for l in p.stdout.splitlines()]
    counts[name] = [int(x.group(3)) for x in m if x]
    check(len(counts[name]) == 4, f"-khgps_minimizer_view {name}: one line per realization", p.stdout[-300:])
tot = {k: sum(v) for k, v in counts.items()}
check(tot["lmvm-diag"] < 0.8 * tot["bncg"] and tot["lmvm-diag"] < 0.8 * tot["blmvm"],
      f"N=500: lmvm-diag needs fewer J x products ({tot['lmvm-diag']}) than bncg ({tot['bncg']}) and blmvm ({tot['blmvm']})", str(counts))
p = run(["-khgps_N", "500", "-khgps_J", "0.1", "-khgps_nev", "1", "-khgps_realizations", "1", "-khgps_minimizer_view", "-tao_type", "nls"])
m = LINE.search(p.stdout)
check(m and "Hessian" in p.stdout and int(re.search(r"(\d+) Hessian", p.stdout).group(1)) > 0, "nls: the Hessian shell's products are counted", p.stdout[-300:])

# the options: listed by -help, bad values refused in one line
p = run(["-help"], check_rc=False)
check("-khgps_minimizer" in p.stdout and "-khgps_minimizer_diag_floor" in p.stdout and "-khgps_minimizer_view" in p.stdout,
      "-help lists -khgps_minimizer, -khgps_minimizer_diag_floor, -khgps_minimizer_view")
for extra, what in [(["-khgps_minimizer", "lmvm-diag", "-tao_type", "bncg"], "-khgps_minimizer lmvm-diag"),
                    (["-khgps_minimizer", "newton"], "-khgps_minimizer"),
                    (["-khgps_minimizer", "lmvm-diag", "-khgps_minimizer_diag_floor", "0"], "-khgps_minimizer_diag_floor"),
                    (["-tao_type", "nosuchtype"], "-tao_type nosuchtype")]:
    p = run(["-khgps_N", "60", *extra], check_rc=False)
    err = [l for l in p.stderr.splitlines() if l.strip()]
    check(p.returncode == 2 and len(err) == 1 and err[0].startswith("khgps: error:") and what in err[0],
          f"{' '.join(extra)}: refused in one line", f"rc {p.returncode}: {p.stderr[-300:]}")

done()
