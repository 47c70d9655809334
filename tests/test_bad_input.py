"""Bad input: one clear line on stderr, exit code 2, no work done, and the existing output
file (even with -khgps_overwrite) left byte for byte as it was."""
import atexit
import hashlib
import os
import shutil
from concurrent.futures import ThreadPoolExecutor

from common import TMP, check, done, out, run

atexit.register(shutil.rmtree, TMP, True)

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
    ("misspelled PETSc option", ["-tao_tyep", "bncg"], "-tao_tyep"),
    ("N too long to read whole", ["-khgps_N", "0" * 60 + "1000"], "64 characters"),
    ("J not a number", ["-khgps_J", "abc"], "-khgps_J abc: need a number"),
    ("h too large for double precision", ["-khgps_h", "1e300"], "-khgps_h 1e+300: need |h| <="),
    ("unknown option", ["-khgps_frobnicate"], "khgps_frobnicate"),
    ("unknown Hessian type", ["-khgps_hessian_mat_type", "aij"], "hessian_mat_type"),
    ("block eigensolver, N too small", ["-khgps_eigensolver", "block"], "eigensolver block"),
    ("block basis too small", ["-khgps_nev", "10", "-khgps_block_ncv", "20"], "block_ncv"),
    ("block size < 1", ["-khgps_block_size", "0"], "block_size"),
    ("unknown eigensolver", ["-khgps_eigensolver", "arpack"], "arpack"),
    ("ChFSI, removed", ["-khgps_eigensolver", "chfsi"], "chfsi"),
    # non-finite reals: refused before any work
    ("h nan", ["-khgps_h", "nan"], "-khgps_h nan"),
    ("J inf", ["-khgps_J", "inf"], "-khgps_J inf"),
    ("kappa0 inf", ["-khgps_kappa0", "inf"], "-khgps_kappa0 inf"),
    ("kappa_min nan", ["-khgps_kappa_min", "nan"], "-khgps_kappa_min"),
    ("A inf", ["-khgps_A", "inf"], "-khgps_A inf"),
    ("gtol inf", ["-khgps_gtol", "inf"], "-khgps_gtol inf"),
    ("x0_amplitude nan", ["-khgps_x0_amplitude", "nan"], "-khgps_x0_amplitude"),
    ("connectivity inf", ["-khgps_coupling", "sparse", "-khgps_connectivity", "inf"], "-khgps_connectivity"),
    ("filter_cut nan", ["-khgps_coupling", "sparse", "-khgps_filter_cut", "nan"], "-khgps_filter_cut"),
    ("J that overflows float32 couplings", ["-khgps_J", "1e300"], "float32"),
    # integers parsed as 64-bit and range-checked (a 32-bit PetscInt would wrap these)
    ("N 2^32 + 1000", ["-khgps_N", "4294968296"], "4294968296"),
    ("N 99999999999", ["-khgps_N", "99999999999"], "99999999999"),
    ("nev 2^32 + 10", ["-khgps_nev", "4294967306"], "4294967306"),
    ("realizations 2^32 + 1", ["-khgps_realizations", "4294967297"], "4294967297"),
    ("groups 2^32 + 1", ["-khgps_groups", "4294967297"], "4294967297"),
    ("seed 2^64", ["-khgps_seed", "18446744073709551616"], "18446744073709551616"),
    ("first past six digits", ["-khgps_first", "1000000"], "-khgps_first"),
    ("polish_its -1", ["-khgps_polish_its", "-1"], "-khgps_polish_its"),
    ("block_size 2^32 + 16", ["-khgps_block_size", "4294967312"], "4294967312"),
    ("filter_degree 2^32", ["-khgps_coupling", "sparse", "-khgps_filter_degree", "4294967296"], "4294967296"),
    # a dense N whose storage cannot fit: refused up front with the bytes and the ways out
    ("dense N = 200000", ["-khgps_N", "200000"], "-khgps_factor_precision single"),
    ("dense N = 200000 in single precision (4 N^2 bytes)", ["-khgps_N", "200000", "-khgps_factor_precision", "single"], "one 4 N^2 buffer"),
]
# each run is mostly MPI start-up: four at a time (all are refused before the output is opened),
# checked in order
with ThreadPoolExecutor(4) as pool:
    procs = list(pool.map(lambda c: run(["-khgps_N", "100"] + c[1] + ["-khgps_output", target, "-khgps_overwrite"], check_rc=False), cases))
for (what, args, needle), p in zip(cases, procs):
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    check(p.returncode == 2, f"{what}: exit code 2 ({p.returncode})")
    check(len(lines) == 1 and lines[0].startswith("khgps: error:") and needle in lines[0],
          f"{what}: one clear line naming the problem", f"stderr: {p.stderr[:300]!r}")
    check(hashlib.sha256(open(target, "rb").read()).hexdigest() == digest, f"{what}: existing output untouched")
    check(not os.path.exists(target + ".part"), f"{what}: no partial file left")

# an output that exists without -khgps_overwrite is refused, and kept
p = run(["-khgps_N", "100", "-khgps_output", target], check_rc=False)
check(p.returncode == 2 and "exists" in p.stderr and len(p.stderr.strip().splitlines()) == 1, "existing output without -khgps_overwrite: refused in one line", p.stderr[:200])
check(hashlib.sha256(open(target, "rb").read()).hexdigest() == digest, "existing output without -khgps_overwrite: untouched")
# an output that cannot be written is refused before any work
p = run(["-khgps_N", "100", "-khgps_output", "/nonexistent-dir/x.h5"], check_rc=False)
check(p.returncode == 2 and "cannot write" in p.stderr and len(p.stderr.strip().splitlines()) == 1, "unwritable output path: refused in one line", p.stderr[:200])
check("realization" not in p.stdout, "unwritable output path: no work done")
# bad input on 2 ranks: still one line (from rank 0) and a non-zero exit
p = run(["-khgps_N", "1", "-khgps_output", target, "-khgps_overwrite"], np_=2, check_rc=False)
check(p.returncode == 2 and sum(l.startswith("khgps: error:") for l in p.stderr.splitlines()) == 1, "N < 2 on 2 ranks: exit 2, one error line", p.stderr[:300])
for what, args in (("J nan", ["-khgps_J", "nan"]), ("N 2^32 + 1000", ["-khgps_N", "4294968296"]), ("dense N = 200000 (ScaLAPACK)", ["-khgps_N", "200000"])):
    p = run(args + ["-khgps_output", target, "-khgps_overwrite"], np_=2, check_rc=False)
    check(p.returncode == 2 and sum(l.startswith("khgps: error:") for l in p.stderr.splitlines()) == 1 and "PETSC ERROR" not in p.stderr,
          f"{what} on 2 ranks: exit 2, one error line", p.stderr[:300])
    check(hashlib.sha256(open(target, "rb").read()).hexdigest() == digest, f"{what} on 2 ranks: existing output untouched")
check(hashlib.sha256(open(target, "rb").read()).hexdigest() == digest, "2 ranks: existing output untouched")
done()
