"""An independent numpy/scipy implementation of the khgps model, written from its specification
(not by calling khgps), to check khgps's draws and physics.

Specification (as documented in src/rng.c, src/model.c, src/minimize.c):

* Philox4x64-10 (Random123 conventions), key = (seed, realization) as two uint64 words,
  counter = four uint64 words; r0, r1 are the first two output words and
  u(r) = ((r >> 11) + 1) * 2^-53, a uniform number in (0, 1].
* Couplings, stream 0: the pair i < j uses counter (i, j >> 1, 0, 0);
  R = sqrt(-2 ln u(r0)), t = 2 pi u(r1); z_ij = R cos t if j is even, R sin t if j is odd;
  J_ij = J_ji = fl32((J / sqrt(N)) z_ij) (the double product rounded to float32), J_ii = 0.
* Stiffnesses, stream 1: counter (i, 0, 1, 0), kappa_i = kappa_min + (kappa0 - kappa_min) u(r0).
* Random start, stream 2: counter (i, 0, 2, 0), x0_i = a (2 u(r0) - 1).
* H(x) = 1/2 sum kappa_i x_i^2 + A/24 sum x_i^4 + 1/2 x.Jx - h sum x_i,
  g = kappa x + A x^3/6 + Jx - h, M = J + diag(kappa + A x^2/2).

Philox4x64-10 is implemented here in vectorized numpy uint64 arithmetic (the 64 x 64 -> 128 bit
multiply through 32-bit halves) and checked against Random123's published known-answer vectors
(`known_answers()`) and against numpy.random.Philox (`numpy_philox_agrees()`).

The transcendental functions of the Box-Muller transform can be taken from numpy's ufuncs
(`funcs="numpy"`, vectorized) or from Python's math module (`funcs="libm"`), which calls the C
library's log/sin/cos one number at a time -- the same glibc functions khgps calls.

Usage as a script: `python3 tests/reference_model.py` runs the self-checks and a small demo.
"""
import math
import sys

import numpy as np

U64 = np.uint64
MASK32 = U64(0xFFFFFFFF)
SH32 = U64(32)
PHILOX_M0 = U64(0xD2E7470EE14C6C93)  # PHILOX_M4x64_0
PHILOX_M1 = U64(0xCA5A826395121157)  # PHILOX_M4x64_1
PHILOX_W0 = U64(0x9E3779B97F4A7C15)  # golden ratio
PHILOX_W1 = U64(0xBB67AE8584CAA73B)  # sqrt(3) - 1

STREAM_J, STREAM_KAPPA, STREAM_X0 = 0, 1, 2

# Random123's known-answer vectors for philox4x64-10 (file examples/kat_vectors of the Random123
# distribution; Debian's librandom123-dev ships only the headers). Columns: counter (4 words),
# key (2 words), expected output (4 words).
KAT_PHILOX4X64_10 = [
    ((0x0000000000000000, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000),
     (0x0000000000000000, 0x0000000000000000),
     (0x16554d9eca36314c, 0xdb20fe9d672d0fdc, 0xd7e772cee186176b, 0x7e68b68aec7ba23b)),
    ((0xffffffffffffffff, 0xffffffffffffffff, 0xffffffffffffffff, 0xffffffffffffffff),
     (0xffffffffffffffff, 0xffffffffffffffff),
     (0x87b092c3013fe90b, 0x438c3c67be8d0224, 0x9cc7d7c69cd777b6, 0xa09caebf594f0ba0)),
    ((0x243f6a8885a308d3, 0x13198a2e03707344, 0xa4093822299f31d0, 0x082efa98ec4e6c89),
     (0x452821e638d01377, 0xbe5466cf34e90c6c),
     (0xa528f45403e61d95, 0x38c72dbd566e9788, 0xa5a1610e72fd18b5, 0x57bd43b5e52b7fe6)),
]


# ---------------------------------------------------------------------------------------------
# Philox4x64-10
# ---------------------------------------------------------------------------------------------

def _u64(a):
    """An integer, array or uint64 array as a uint64 array (negative Python ints are refused)."""
    if isinstance(a, np.ndarray):
        if a.dtype == np.uint64:
            return a
        if np.any(a < 0):
            raise ValueError("negative counter or key word")
        return a.astype(np.uint64)
    if int(a) < 0:
        raise ValueError("negative counter or key word")
    return np.asarray(int(a), dtype=np.uint64)


def mulhilo64(a, b):
    """(hi, lo) of the 128-bit product of uint64 arrays a and b, via 32-bit halves."""
    a0, a1 = a & MASK32, a >> SH32
    b0, b1 = b & MASK32, b >> SH32
    p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1  # each < 2^64: no wrap
    mid = (p00 >> SH32) + (p01 & MASK32) + (p10 & MASK32)  # < 3 * 2^32
    hi = p11 + (p01 >> SH32) + (p10 >> SH32) + (mid >> SH32)
    lo = a * b  # wraps modulo 2^64, which is the low word
    return hi, lo


def philox4x64(ctr, key, rounds=10):
    """Philox4x64-R of counter words ctr = (c0, c1, c2, c3) and key words (k0, k1), each an
    integer or a uint64 array (broadcast together). Returns the four output words as uint64 arrays.
    Round: (c0, c1, c2, c3) <- (hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3 ^ k1, lo(M0 c0)),
    key bumped by the Weyl constants (W0, W1) between rounds (Random123's philox.h)."""
    with np.errstate(over="ignore"):
        c = np.broadcast_arrays(*[_u64(w) for w in ctr], *[_u64(w) for w in key])
        c0, c1, c2, c3, k0, k1 = [np.array(w, dtype=np.uint64) for w in c]
        for r in range(rounds):
            if r > 0:
                k0 = k0 + PHILOX_W0
                k1 = k1 + PHILOX_W1
            hi0, lo0 = mulhilo64(PHILOX_M0, c0)
            hi1, lo1 = mulhilo64(PHILOX_M1, c2)
            c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


def u53(r):
    """((r >> 11) + 1) * 2^-53: uniform in (0, 1]; exact (the integer is <= 2^53)."""
    return ((r >> U64(11)) + U64(1)).astype(np.float64) * 2.0**-53


def known_answers():
    """[(ok, expected, got)] for Random123's philox4x64-10 known-answer vectors."""
    res = []
    for ctr, key, want in KAT_PHILOX4X64_10:
        got = tuple(int(w) for w in philox4x64(ctr, key))
        res.append((got == want, want, got))
    return res


def numpy_philox_agrees(n=64, seed=0):
    """Compare philox4x64 with numpy.random.Philox on n random (counter, key) pairs.
    numpy's Philox increments its 256-bit counter (word 0 least significant) *before* each block,
    so Philox(counter=c - 1, key=k).random_raw(4) is Random123's philox4x64_10(c, k)."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        ctr = [int(w) for w in rng.integers(0, 2**64, 4, dtype=np.uint64, endpoint=False)]
        key = [int(w) for w in rng.integers(0, 2**64, 2, dtype=np.uint64)]
        # numpy takes a 256-bit counter and a 128-bit key as Python ints, word 0 least significant
        # (a *list* of words >= 2^63 goes through float64 in numpy 1.24 and loses bits)
        big = (sum(w << (64 * k) for k, w in enumerate(ctr)) - 1) % 2**256
        bg = np.random.Philox(counter=big, key=key[0] | key[1] << 64)
        theirs = tuple(int(w) for w in bg.random_raw(4))
        ours = tuple(int(w) for w in philox4x64(ctr, key))
        if theirs != ours:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Draws
# ---------------------------------------------------------------------------------------------

def uniforms(N, seed, realization, stream):
    """u(r0) of counter (i, 0, stream, 0), i = 0..N-1."""
    i = np.arange(N, dtype=np.uint64)
    r0, _, _, _ = philox4x64((i, 0, stream, 0), (seed, realization))
    return u53(r0)


def draw_kappa(N, kappa0, kappa_min, seed, realization):
    return kappa_min + (kappa0 - kappa_min) * uniforms(N, seed, realization, STREAM_KAPPA)


def draw_x0(N, a, seed, realization):
    return a * (2.0 * uniforms(N, seed, realization, STREAM_X0) - 1.0)


def _libm(f, a):
    """f (a math-module function: the C library's) applied to each element of a."""
    flat = a.ravel()
    return np.fromiter(map(f, flat.tolist()), dtype=np.float64, count=flat.size).reshape(a.shape)


def box_muller_uniforms(N, seed, realization):
    """(u0, u1), arrays [N, ceil(N/2)]: u(r0), u(r1) of counter (i, m, 0, 0)."""
    M = (N + 1) // 2
    i = np.arange(N, dtype=np.uint64)[:, None]
    m = np.arange(M, dtype=np.uint64)[None, :]
    r0, r1, _, _ = philox4x64((i, m, STREAM_J, 0), (seed, realization))
    return u53(r0), u53(r1)


def draw_normals(N, seed, realization, funcs="libm"):
    """Z [N, N]: z_ij = z_ji the standard normal of pair (i, j), zero diagonal.
    funcs="libm": log, cos, sin of the C library (Python's math module), element by element;
    funcs="numpy": numpy's ufuncs."""
    u0, u1 = box_muller_uniforms(N, seed, realization)
    if funcs == "libm":
        R = np.sqrt(-2.0 * _libm(math.log, u0))  # sqrt is correctly rounded everywhere
        t = 2.0 * np.pi * u1
        zc, zs = R * _libm(math.cos, t), R * _libm(math.sin, t)
    elif funcs == "numpy":
        R = np.sqrt(-2.0 * np.log(u0))
        t = 2.0 * np.pi * u1
        zc, zs = R * np.cos(t), R * np.sin(t)
    else:
        raise ValueError(funcs)
    # pair (i, j), i < j: counter (i, j >> 1); cos for even j, sin for odd j
    full = np.empty((N, 2 * zc.shape[1]))
    full[:, 0::2], full[:, 1::2] = zc, zs
    Z = np.triu(full[:, :N], 1)
    return Z + Z.T


def draw_couplings(N, J, seed, realization, funcs="libm"):
    """J_ij = fl32((J / sqrt(N)) z_ij), symmetric, zero diagonal: each coupling is its double
    draw rounded to float32 (khgps stores J in float32 on one rank, the same values everywhere)."""
    return ((J / np.sqrt(N)) * draw_normals(N, seed, realization, funcs)).astype(np.float32).astype(np.float64)


# ---------------------------------------------------------------------------------------------
# Physics
# ---------------------------------------------------------------------------------------------

class Model:
    """One realization: kappa, J drawn as specified; energy, gradient, Hessian, minimization."""

    def __init__(self, N, J=0.1, h=0.01, A=1.0, kappa0=1.0, kappa_min=0.0, seed=1, realization=0, funcs="libm"):
        self.N, self.Jstrength, self.h, self.A = N, J, h, A
        self.kappa = draw_kappa(N, kappa0, kappa_min, seed, realization)
        self.J = draw_couplings(N, J, seed, realization, funcs)
        self.nfev = 0

    def energy(self, x):
        return 0.5 * x @ (self.J @ x) + np.sum(0.5 * self.kappa * x**2 + self.A / 24 * x**4 - self.h * x)

    def gradient(self, x):
        return self.J @ x + self.kappa * x + self.A / 6 * x**3 - self.h

    def energy_gradient(self, x):
        self.nfev += 1
        Jx = self.J @ x
        e = 0.5 * x @ Jx + np.sum(0.5 * self.kappa * x**2 + self.A / 24 * x**4 - self.h * x)
        return e, Jx + self.kappa * x + self.A / 6 * x**3 - self.h

    def hessian(self, x):
        M = self.J.copy()
        M[np.diag_indices(self.N)] += self.kappa + 0.5 * self.A * x**2
        return M

    def minimize(self, x0=None, gtol=None, newton_max=8):
        """L-BFGS (scipy) from x0 (default 0) to |g|_2 <= gtol (default 1e-10 sqrt(N)), then Newton
        steps x <- x - M^-1 g (Cholesky) while |g| decreases, to rounding level.
        Returns dict(x, energy, gnorm, gnorm_lbfgs, nfev, newton_steps, positive_definite)."""
        from scipy.linalg import cho_factor, cho_solve
        from scipy.optimize import minimize

        N = self.N
        gtol = 1e-10 * np.sqrt(N) if gtol is None else gtol
        x = np.zeros(N) if x0 is None else np.array(x0, dtype=float)
        # scipy's gtol bounds the max-norm of the gradient; |g|_2 <= sqrt(N) |g|_inf
        res = minimize(self.energy_gradient, x, jac=True, method="L-BFGS-B",
                       options=dict(gtol=gtol / np.sqrt(N), ftol=0.0, maxiter=100000, maxfun=200000, maxcor=20))
        x = res.x
        g = self.gradient(x)
        gn_lbfgs = gn = np.linalg.norm(g)
        steps, pd = 0, True
        for _ in range(newton_max):
            try:
                c = cho_factor(self.hessian(x))
            except np.linalg.LinAlgError:
                pd = False
                break
            xn = x - cho_solve(c, g)
            gnn = np.linalg.norm(self.gradient(xn))
            if not gnn < gn:
                break
            x, g, gn, steps = xn, self.gradient(xn), gnn, steps + 1
        return dict(x=x, energy=self.energy(x), gnorm=gn, gnorm_lbfgs=gn_lbfgs, nfev=res.nfev, newton_steps=steps,
                    positive_definite=pd and is_positive_definite(self.hessian(x)), lbfgs_message=str(res.message))

    def lowest_eigenvalues(self, x, k):
        from scipy.linalg import eigh
        return eigh(self.hessian(x), eigvals_only=True, subset_by_index=[0, k - 1])


def is_positive_definite(M):
    try:
        np.linalg.cholesky(M)
        return True
    except np.linalg.LinAlgError:
        return False


def compare_funcs(n=2_000_000, seed=3):
    """How often numpy's log/cos/sin differ from the C library's (math module) on the Box-Muller
    arguments: (#log, #cos, #sin differing, max ulp difference)."""
    r = np.random.default_rng(seed).integers(0, 2**64, (2, n), dtype=np.uint64)
    u0, u1 = u53(r[0]), u53(r[1])
    t = 2.0 * np.pi * u1
    out = []
    for f, nf, a in ((math.log, np.log, u0), (math.cos, np.cos, t), (math.sin, np.sin, t)):
        x, y = _libm(f, a), nf(a)
        d = x != y
        ulp = np.max(np.abs(x[d] - y[d]) / np.spacing(np.abs(x[d]))) if d.any() else 0.0
        out.append((int(d.sum()), float(ulp)))
    return out


if __name__ == "__main__":
    ok = True
    for good, want, got in known_answers():
        print(("ok  " if good else "BAD ") + "KAT " + " ".join(f"{w:016x}" for w in got))
        ok &= good
    agrees = numpy_philox_agrees()
    print(f"numpy.random.Philox(counter=c-1, key=k) agrees: {agrees}")
    ok &= agrees
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    for name, (nd, ulp) in zip(("log", "cos", "sin"), compare_funcs(n)):
        print(f"numpy vs libm {name}: {nd} of {n} differ (max {ulp:.1f} ulp)")
    m = Model(60, J=0.3, h=0.01, seed=7, realization=2)
    r = m.minimize()
    print(f"N=60 demo: E={r['energy']:.12f} |g|={r['gnorm']:.1e} (L-BFGS {r['gnorm_lbfgs']:.1e}, {r['nfev']} evals, "
          f"{r['newton_steps']} Newton), PD={r['positive_definite']}, lowest={m.lowest_eigenvalues(r['x'], 3)}")
    sys.exit(0 if ok else 1)
