#!/usr/bin/env bash
# Install everything khgps needs from Debian's archive (idempotent; a no-op when all is present).
# Called by the makefile (make deps) and by .ci/run. Set KHGPS_NO_INSTALL=1 to skip (e.g. on a cluster).
#
#   scripts/install-deps.sh          the build, test and analysis packages
#   scripts/install-deps.sh slurm    only the optional set for a one-machine SLURM (slurm-wlm, munge;
#                                    scripts/slurm-local.sh, tests/test_slurm.py); never installed by default
set -euo pipefail
[ "${KHGPS_NO_INSTALL:-0}" = 1 ] && exit 0
set_=${1:-default}
case $set_ in
  default) ;;
  slurm) ;;
  *) echo "scripts/install-deps.sh: unknown package set $set_ (known: slurm)" >&2; exit 2 ;;
esac
if [ "$set_" = slurm ]; then
pkgs=(
  slurm-wlm munge                   # SLURM 22.05 (slurmctld, slurmd, sbatch...) and its authentication
)
else
pkgs=(
  build-essential make pkg-config
  petsc-dev slepc-dev               # PETSc/SLEPc 3.18 (real, double), incl. TAO, MUMPS, ScaLAPACK
  libhdf5-openmpi-dev hdf5-tools    # HDF5 (openmpi flavour) + h5dump/h5ls
  openmpi-bin libopenmpi-dev        # mpiexec
  librandom123-dev                  # counter-based RNG (Philox)
  libopenblas0-pthread libopenblas-dev  # fast BLAS/LAPACK (else Debian links reference BLAS)
  python3-numpy python3-scipy python3-h5py python3-matplotlib   # analysis, reference checks
  clang-format                      # the C style (PETSc's .clang-format; tests/test_style.py)
)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "khgps: installing ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
