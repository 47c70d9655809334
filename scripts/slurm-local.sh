#!/usr/bin/env bash
# A one-machine SLURM cluster to try the job scripts (runs/slurm_array.sbatch, runs/slurm_sweep.sh)
# without a cluster: munged, slurmctld and slurmd started directly (no systemd), one node with all
# local CPUs, one partition "local".
#
#   scripts/slurm-local.sh start     install slurm-wlm and munge if missing (scripts/install-deps.sh
#                                    slurm), write the configuration, start the daemons, wait for an
#                                    idle node (a no-op for the daemons already running)
#   scripts/slurm-local.sh status    the daemons, the node and the queue; exit 0 when all is up
#   scripts/slurm-local.sh stop      cancel this cluster's jobs, stop the daemons it started (by the
#                                    PIDs in its pid files; nothing else is touched)
#   scripts/slurm-local.sh env       the line to paste: export SLURM_CONF=...
#
# Then in any shell: export SLURM_CONF=$KHGPS_SLURM_DIR/slurm.conf (sbatch, squeue, scontrol ...).
# Environment:
#   KHGPS_SLURM_DIR=/tmp/khgps-slurm  state folder: slurm.conf, munge key and socket, pid files,
#                                    logs (log/), controller state; remove it after stop to forget all
#   KHGPS_SLURM_PORT=6817            slurmctld's port; slurmd listens on the next one
# Runs as root (SlurmUser=root). Settings that make a requeue and a short job quick on one machine:
# AuthInfo cred_expire=10 (a requeued job waits ~10 s, not ~120 s), sched_interval=5, MpiDefault=pmix
# (srun starts OpenMPI programs), KillWait=30 (SIGKILL 30 s after the time limit's SIGTERM).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${KHGPS_SLURM_DIR:-/tmp/khgps-slurm}
PORT=${KHGPS_SLURM_PORT:-6817}
CONF=$DIR/slurm.conf
export SLURM_CONF=$CONF
SBIN=/usr/sbin
me="scripts/slurm-local.sh"
say() { echo "$me: $*" >&2; }

alive() { # pidfile comm: the PID in the file is a running process with that command name
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}

node_state() { sinfo -h -N -o %T 2>/dev/null | head -1; }

write_config() {
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(awk '/MemTotal/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)
  mkdir -p "$DIR"/{munge,log,ctld,d}
  chmod 700 "$DIR/munge"
  if [ ! -s "$DIR/munge/munge.key" ]; then
    dd if=/dev/urandom of="$DIR/munge/munge.key" bs=128 count=1 status=none
    chmod 400 "$DIR/munge/munge.key"
  fi
  cat > "$CONF.new" <<EOF
# Written by $me: a one-node cluster for trying khgps' job scripts. Rewritten at each start
# while no daemon runs.
ClusterName=khgps-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket,cred_expire=10
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/d
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=pmix
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=5,bf_interval=5
ReturnToService=2
JobRequeue=1
KillWait=30
MinJobAge=600
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO DefMemPerCPU=$((mem / cpus))
EOF
  mv "$CONF.new" "$CONF"
}

wait_idle() {
  local t s
  for t in $(seq 1 60); do
    s=$(node_state)
    case $s in
      idle*|mixed*|allocated*) return 0 ;;
      down*|drain*|unknown*) if [ "$t" -eq 5 ]; then scontrol update nodename="$(hostname -s)" state=resume 2>/dev/null || true; fi ;;
    esac
    sleep 1
  done
  say "error: the node is not idle after 60 s (state: ${s:-none}); logs in $DIR/log"
  return 1
}

start() {
  [ "$(id -u)" = 0 ] || { say "error: needs root (SlurmUser=root, munged's key)"; exit 2; }
  if ! [ -x $SBIN/slurmctld ] || ! [ -x $SBIN/slurmd ] || ! [ -x $SBIN/munged ] || ! command -v sbatch >/dev/null; then
    bash scripts/install-deps.sh slurm
  fi
  local any=0 d
  alive "$DIR/munged.pid" munged && any=1
  alive "$DIR/slurmctld.pid" slurmctld && any=1
  alive "$DIR/slurmd.pid" slurmd && any=1
  if [ "$any" = 0 ] || [ ! -s "$CONF" ]; then write_config; fi
  if ! alive "$DIR/munged.pid" munged; then
    rm -f "$DIR/munge/munge.socket" "$DIR/munge/munge.socket.lock"
    $SBIN/munged --force --socket="$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
      --pid-file="$DIR/munged.pid" --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed"
    for _ in $(seq 1 50); do [ -S "$DIR/munge/munge.socket" ] && break; sleep 0.1; done
  fi
  if ! alive "$DIR/slurmctld.pid" slurmctld; then
    $SBIN/slurmctld -f "$CONF"
  fi
  if ! alive "$DIR/slurmd.pid" slurmd; then
    $SBIN/slurmd -f "$CONF"
  fi
  for _ in $(seq 1 50); do
    alive "$DIR/slurmctld.pid" slurmctld && alive "$DIR/slurmd.pid" slurmd && break; sleep 0.2
  done
  for d in slurmctld slurmd; do
    alive "$DIR/$d.pid" "$d" && continue
    say "error: $d did not start (a port in use? KHGPS_SLURM_PORT=$PORT); the end of $DIR/log/$d.log:"
    tail -n 5 "$DIR/log/$d.log" >&2 2>/dev/null || true
    exit 1
  done
  wait_idle
  say "up: node $(hostname -s) $(node_state), $(nproc) CPUs; export SLURM_CONF=$CONF"
}

stop() {
  local jobs n d
  if alive "$DIR/slurmctld.pid" slurmctld; then
    mapfile -t jobs < <(squeue -h -o %A 2>/dev/null || true)
    if [ "${#jobs[@]}" -gt 0 ]; then
      scancel "${jobs[@]}" 2>/dev/null || true
      for _ in $(seq 1 40); do [ -z "$(squeue -h -o %A 2>/dev/null)" ] && break; sleep 0.5; done
    fi
  fi
  for d in slurmd slurmctld munged; do
    if alive "$DIR/$d.pid" "$d"; then
      n=$(cat "$DIR/$d.pid")
      kill -TERM "$n" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$n" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$n" 2>/dev/null && { say "$d (pid $n) did not stop in 10 s: SIGKILL"; kill -KILL "$n" 2>/dev/null || true; }
    fi
    rm -f "$DIR/$d.pid"
  done
  say "stopped (state in $DIR)"
}

status() {
  local rc=0 d
  for d in munged slurmctld slurmd; do
    if alive "$DIR/$d.pid" "$d"; then echo "$d: running (pid $(cat "$DIR/$d.pid"))"; else echo "$d: not running"; rc=1; fi
  done
  if [ "$rc" = 0 ]; then
    echo "node: $(node_state)"
    squeue 2>/dev/null || rc=1
  fi
  echo "export SLURM_CONF=$CONF"
  return $rc
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *) echo "usage: $me start|stop|status|env   (state: \$KHGPS_SLURM_DIR, default /tmp/khgps-slurm)" >&2; exit 2 ;;
esac
