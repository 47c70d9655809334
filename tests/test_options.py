"""Options that would run the wrong job or fail after the work started (issue 22): refused before
any work in one line `khgps: error: ...`, exit code 2, nothing written; and the legitimate forms
(PETSc's own later-read options, case-insensitive names, an options file through /dev/stdin) run."""
import atexit
import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from common import KHGPS, MPIEXEC, ROOT, TMP, check, done, load, out, run

atexit.register(shutil.rmtree, TMP, True)

BASE = ["-khgps_N", "60", "-khgps_nev", "4"]


def write(name, text):
    path = out(name)
    with open(path, "w") as fh:
        fh.write(text)
    return path


CASES = []


def refused(what, args, needle, np_=1, env=None, stdin=None, base=BASE):
    """A run to be refused: exit 2, one line from rank 0 that starts `khgps: error:` and holds
    needle, no output file, no realization started, and fast. Queued: all run at the end, six at
    a time (each is mostly MPI start-up), then are checked in order."""
    CASES.append((what, args, needle, np_, env, stdin, base))


def run_refused(case):
    what, args, needle, np_, env, stdin, base = case
    target = out("never-" + "".join(c if c.isalnum() else "_" for c in what) + ".h5")
    cmd = ([*MPIEXEC, "-n", str(np_)] if np_ > 1 else []) + [KHGPS] + base + args + ["-khgps_output", target]
    t0 = time.time()
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, **(env or {})))
    return p, time.time() - t0, target


def check_refused():
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(run_refused, CASES))
    for (what, args, needle, np_, env, stdin, base), (p, dt, target) in zip(CASES, results):
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        if np_ > 1:  # mpiexec adds its own lines about the exit code
            lines = [l for l in lines if l.startswith("khgps") or "PETSC ERROR" in l]
        check(p.returncode == 2, f"{what}: exit code 2 ({p.returncode})", p.stderr[:300])
        check(len(lines) == 1 and lines[0].startswith("khgps: error: ") and needle in lines[0],
              f"{what}: one line `khgps: error:` naming it", f"stderr: {p.stderr[:400]!r}")
        check(not os.path.exists(target) and not os.path.exists(target + ".part") and "realization" not in p.stdout,
              f"{what}: before any work, nothing written", p.stdout[:200])
        check(dt < 20, f"{what}: refused at once ({dt:.1f} s)")


# 1. mistyped or unused options, wherever they come from
refused("-khgsp_J", ["-khgsp_J", "0.4"], "unknown option -khgsp_J (did you mean -khgps_J?)")
refused("-khgps-J", ["-khgps-J", "0.4"], "unknown option -khgps-J (did you mean -khgps_J?)")
refused("-tao_tyep", ["-tao_tyep", "bncg"], "unknown option -tao_tyep (did you mean -tao_type?)")
refused("-eps_tpye", ["-eps_tpye", "krylovschur"], "unknown option -eps_tpye (did you mean -eps_type?)")
refused("an option of no object of this run", ["-snes_type", "newtonls"], "unknown option -snes_type")
refused("a typo in an options file", ["-options_file", write("typo.opts", "-khgps_J 0.2\n-khgsp_h 0.1\n")], "-khgsp_h")
refused("a typo in PETSC_OPTIONS", [], "-tao_tyep", env={"PETSC_OPTIONS": "-tao_tyep bncg"})
refused("-khgsp_J on 2 ranks", ["-khgsp_J", "0.4"], "-khgsp_J", np_=2)

# ... while PETSc's own later-read options, viewers and monitors run; names are case-insensitive
log = out("log.txt")
f = out("legit.h5")
p = run(BASE + ["-khgps_j", "0.4", "-KHGPS_H", "0.02", "-options_left", "-eps_view", "-tao_view", "-eps_converged_reason",
                "-khgps_newton_ksp_converged_reason", "-tao_monitor", "-eps_monitor", "-log_view", f":{log}", "-history", out("history.txt"),
                "-malloc_debug", "-sf_type", "neighbor", "-error_output_none", "-khgps_output", f], check_rc=False)
check(p.returncode == 0, "later-read PETSc options (-options_left, -eps_view, -tao_view, -log_view, -history, ...) run", p.stderr[:400])
if p.returncode == 0:
    d = load(f)
    check(d["params"]["J"] == 0.4 and d["params"]["h"] == 0.02, f"-khgps_j 0.4 -KHGPS_H 0.02 set J and h (J = {d['params']['J']}, h = {d['params']['h']})")
combos = [BASE + ["-tao_type", "blmvm"], BASE + ["-eps_type", "lobpcg", "-st_type", "precond", "-eps_smallest_real", "-eps_lobpcg_blocksize", "4"],
          BASE + ["-khgps_coupling", "sparse", "-khgps_connectivity", "4", "-khgps_couplings_mat_type", "aij", "-eps_tol", "1e-11"],
          BASE + ["-khgps_hessian_mat_type", "scalapack", "-st_pc_factor_mat_solver_type", "scalapack"]]
combos += [["-options_file", os.path.join("options", name), "-help"] for name in sorted(os.listdir(os.path.join(ROOT, "options")))]
with ThreadPoolExecutor(4) as pool:
    for opts, p in zip(combos, pool.map(lambda a: run(a, check_rc=False), combos)):
        check(p.returncode == 0 and "error" not in p.stderr, f"{' '.join(opts[2:] if opts[0] != '-options_file' else opts)}: accepted", p.stderr[:300])

# 2. an output option without a file name (a value that starts with '-' is the next option)
for what, bad in (("''", [""]), ("without a value", []), ("-x.h5", ["-x.h5"])):
    t0 = time.time()
    p = run(BASE + ["-khgps_output"] + bad, check_rc=False)
    check(p.returncode == 2 and p.stderr.startswith("khgps: error: -khgps_output: needs a file name") and len(p.stderr.strip().splitlines()) == 1,
          f"-khgps_output {what}: refused in one line", p.stderr[:200])
    check("realization" not in p.stdout and time.time() - t0 < 20 and not os.path.exists(os.path.join(ROOT, "-x.h5")), f"-khgps_output {what}: before any work, nothing written")

# 3. over-long values are refused, not cut
refused("N of 60 zeros then 1000", ["-khgps_N", "0" * 60 + "1000"], "-khgps_N 000")
refused("a 70-digit seed", ["-khgps_seed", "1" * 70], "70 characters")
p = run(BASE + ["-khgps_output", "/" + "d" * 4999], check_rc=False)
check(p.returncode == 2 and p.stderr.startswith("khgps: error: -khgps_output") and "5000 characters" in p.stderr and len(p.stderr.strip().splitlines()) == 1,
      "a 5000-character output path: refused in one line", p.stderr[:200])
long = "/" + "/".join(["d" * 200] * 19) + "/out.h5"  # 3826 characters: within PATH_MAX, kept whole
p = run(BASE + ["-khgps_output", long, "-help"], check_rc=False)
check(p.returncode == 0 and long in p.stdout, f"a {len(long)}-character output path is kept whole (-help shows it)", p.stderr[:200])

# 4. every value error names its option
refused("-khgps_J abc", ["-khgps_J", "abc"], "-khgps_J abc: need a number")
refused("-khgps_J without a value", ["-khgps_J"], "-khgps_J: needs a number")
refused("-khgps_overwrite maybe", ["-khgps_overwrite", "maybe"], "-khgps_overwrite maybe: need true or false")
refused("-tao_max_it abc", ["-tao_max_it", "abc"], "-tao_max_it abc: need an integer")
refused("-eps_tol xyz", ["-eps_tol", "xyz"], "-eps_tol xyz: need a number")

# 5. options files: read once, by PETSc; a stream works; loops and oversize refused
good = write("good.opts", "# a comment\n-khgps_N 77\n-khgps_nev 5\n")
for what, kw in (("< file", {"stdin": open(good)}), ("a pipe", {"input": open(good).read()})):
    f = out("stdin.h5")
    p = subprocess.run([KHGPS, "-options_file", "/dev/stdin", "-khgps_output", f], capture_output=True, text=True, cwd=ROOT, **kw)
    ok = p.returncode == 0 and os.path.exists(f) and load(f)["params"]["N"] == 77
    check(ok, f"-options_file /dev/stdin from {what}: runs the requested N = 77", p.stderr[:300])
    if os.path.exists(f):
        os.remove(f)
p = subprocess.run(["bash", "-c", f"{KHGPS} -options_file <(cat {good}) -help"], capture_output=True, text=True, cwd=ROOT)
check(p.returncode == 0 and "-khgps_N <now 77 " in p.stdout, "-options_file <(...): read (N = 77)", p.stdout[-300:] + p.stderr[:300])
selfinc = out("self.opts")
write("self.opts", f"-khgps_N 70\n-options_file {selfinc}\n")
refused("an options file that includes itself", ["-options_file", selfinc], "includes itself")
refused("PETSC_OPTIONS naming a file that includes itself", [], "includes itself", env={"PETSC_OPTIONS": f"-options_file {selfinc}"})
write("a.opts", f"-options_file {out('b.opts')}\n")
write("b.opts", f"-options_file {out('a.opts')}\n")
refused("two options files that include each other", ["-options_file", out("a.opts")], "includes itself")
refused("a missing options file", ["-options_file", out("nowhere.opts")], "cannot read options file")
refused("600 options", ["-options_file", write("many.opts", "".join(f"-draw_x{i} 1\n" for i in range(600)))], "more than 512 options")
big = "".join(f"-draw_x{i} {'v' * 200}\n" for i in range(330))  # ~70 KB of legitimate options
refused("70 KB of options", ["-options_file", write("big.opts", big)], "more than the 65000 that the run file stores")

# 6. finite values the double-precision work cannot hold, with the bound that works
refused("-khgps_A 1e-300", ["-khgps_A", "1e-300"], "-khgps_A 1e-300: need A >=")
refused("-khgps_h 1e300", ["-khgps_h", "1e300"], "-khgps_h 1e+300: need |h| <=")
refused("-khgps_h 1e20", ["-khgps_h", "1e20"], "-khgps_h 1e+20: need |h| <=")
refused("-khgps_x0_amplitude 1e200", ["-khgps_x0_amplitude", "1e200"], "-khgps_x0_amplitude 1e+200: need a <=")
refused("-khgps_A 1e300", ["-khgps_A", "1e300"], "-khgps_A 1e+300: need A <=")
refused("sparse couplings with N = 2", ["-khgps_N", "2", "-khgps_coupling", "sparse", "-khgps_connectivity", "1"], "sparse couplings need -khgps_nev >= 2", base=[])
p = run(BASE + ["-khgps_h", "1e3", "-khgps_x0_amplitude", "10"], check_rc=False)
check(p.returncode == 0, "h = 1e3, x0 amplitude 10: within the bounds, runs", p.stderr[:300])
check_refused()
# the version: -version prints khgps's (after PETSc's) and does no work; -help names it on its first line
p = run(["-version", "-khgps_output", out("version.h5")], check_rc=False)
check(p.returncode == 0 and p.stdout.strip().splitlines()[-1].startswith("khgps ") and not os.path.exists(out("version.h5")),
      "-version: khgps's version printed, exit 0, nothing run", p.stdout[-200:])
p = run(["-help"], check_rc=False)
check(p.returncode == 0 and p.stdout.startswith("khgps ") and ": minima and low-frequency spectra" in p.stdout.splitlines()[0], "-help: the version on its first line", p.stdout[:200])
done()
