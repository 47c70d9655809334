"""Bad input: one clear line on stderr, a non-zero exit, no work done, and the existing output
file (even with -khgps_overwrite) left byte for byte as it was."""
import hashlib
import os

from common import check, done, out, run

target = out("precious.h5")
with open(target, "wb") as fh:
    fh.write(b"results that must survive " * 100)
digest = hashlib.sha256(open(target, "rb").read()).hexdigest()

cases = [
    ("N < 2", ["-khgps_N", "1"], "N >= 2"),
    ("N not a number", ["-khgps_N", "abc"], "abc"),
    ("kappa0 <= kappa_min", ["-khgps_kappa0", "0.5", "-khgps_kappa_min", "0.5"], "kappa0"),
    ("kappa0 = 0", ["-khgps_kappa0", "0"], "kappa0"),
    ("J < 0", ["-khgps_J", "-0.1"], "-khgps_J"),
    ("A <= 0", ["-khgps_A", "0"], "-khgps_A"),
    ("nev = 0", ["-khgps_nev", "0"], "nev"),
    ("nev = N", ["-khgps_N", "50", "-khgps_nev", "50"], "nev"),
    ("misspelled option", ["-khgps_kapa0", "1"], "khgps_kapa0"),
    ("unknown option", ["-khgps_frobnicate"], "khgps_frobnicate"),
    ("unknown Hessian type", ["-khgps_hessian_mat_type", "aij"], "hessian_mat_type"),
    ("block eigensolver, N too small", ["-khgps_eigensolver", "block"], "eigensolver block"),
    ("block basis too small", ["-khgps_nev", "10", "-khgps_block_ncv", "20"], "block_ncv"),
    ("block size < 1", ["-khgps_block_size", "0"], "block_size"),
    ("unknown eigensolver", ["-khgps_eigensolver", "arpack"], "arpack"),
    ("chfsi with dense couplings", ["-khgps_eigensolver", "chfsi"], "chfsi needs sparse"),
    ("chfsi degree < 1", ["-khgps_coupling", "sparse", "-khgps_eigensolver", "chfsi", "-khgps_chfsi_degree", "0"], "chfsi_degree"),
    ("chfsi guard < 0", ["-khgps_coupling", "sparse", "-khgps_eigensolver", "chfsi", "-khgps_chfsi_guard", "-1"], "chfsi_guard"),
    ("chfsi chunk width 0", ["-khgps_coupling", "sparse", "-khgps_eigensolver", "chfsi", "-khgps_chfsi_block", "0"], "chfsi_block"),
    ("chfsi max_its 0", ["-khgps_coupling", "sparse", "-khgps_eigensolver", "chfsi", "-khgps_chfsi_max_its", "0"], "chfsi_max_its"),
]
for what, args, needle in cases:
    p = run(["-khgps_N", "100"] + args + ["-khgps_output", target, "-khgps_overwrite"], check_rc=False)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    check(p.returncode != 0, f"{what}: non-zero exit ({p.returncode})")
    check(len(lines) == 1 and lines[0].startswith("khgps: error:") and needle in lines[0],
          f"{what}: one clear line naming the problem", f"stderr: {p.stderr[:300]!r}")
    check(hashlib.sha256(open(target, "rb").read()).hexdigest() == digest, f"{what}: existing output untouched")
    check(not os.path.exists(target + ".part"), f"{what}: no partial file left")

# an output that exists without -khgps_overwrite is refused, and kept
p = run(["-khgps_N", "100", "-khgps_output", target], check_rc=False)
check(p.returncode != 0 and "exists" in p.stderr and len(p.stderr.strip().splitlines()) == 1, "existing output without -khgps_overwrite: refused in one line", p.stderr[:200])
check(hashlib.sha256(open(target, "rb").read()).hexdigest() == digest, "existing output without -khgps_overwrite: untouched")
# an output that cannot be written is refused before any work
p = run(["-khgps_N", "100", "-khgps_output", "/nonexistent-dir/x.h5"], check_rc=False)
check(p.returncode != 0 and "cannot write" in p.stderr and len(p.stderr.strip().splitlines()) == 1, "unwritable output path: refused in one line", p.stderr[:200])
check("realization" not in p.stdout, "unwritable output path: no work done")
# bad input on 2 ranks: still one line (from rank 0) and a non-zero exit
p = run(["-khgps_N", "1", "-khgps_output", target, "-khgps_overwrite"], np_=2, check_rc=False)
check(p.returncode != 0 and sum(l.startswith("khgps: error:") for l in p.stderr.splitlines()) == 1, "N < 2 on 2 ranks: non-zero exit, one error line", p.stderr[:300])
check(hashlib.sha256(open(target, "rb").read()).hexdigest() == digest, "2 ranks: existing output untouched")
done()
