#!/usr/bin/env bash
# A real single-node Slurm cluster on localhost for tests (recipe: Debian 12's Slurm 22.05 with a
# private munge daemon; no systemd, cgroups or accounting database; see ../shared/SLURM.md).
#   source tests/slurm/cluster.sh
#   why=$(wf_slurm_available) || exit 77  # the caller reports "skipped" with $why
#   wf_slurm_start DIR                    # exports SLURM_CONF; waits until the node is idle
#   ... sbatch / squeue ...
#   wf_slurm_wait_ok JOB [SECONDS]        # every task of JOB COMPLETED
#   wf_slurm_stop DIR                     # cancels jobs, stops the daemons and munged
# DIR must be a short path (the munge socket lives there; unix socket paths stop at 107 bytes).
# Ports: the first free pair from 16817/16818 upwards, or WF_SLURM_PORT_BASE.
# Every daemon is started with WF_SLURM_CLUSTER=DIR in its environment, and every job with
# SLURM_CONF=DIR/slurm.conf, so wf_slurm_stop can find what is left of this cluster (and of no
# other) in /proc and end it by pid.

# Prints why not and fails when this machine cannot run the cluster.
wf_slurm_available() {
  local b missing=""
  for b in slurmctld slurmd munged sbatch squeue scontrol scancel sinfo; do
    command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || missing="$missing $b"
  done
  if [ -n "$missing" ]; then
    echo "missing:$missing (apt-get install slurmctld slurmd slurm-client munge, or .ci/install-deps --test)"
    return 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "slurmd must run as root to start jobs (this runs as uid $(id -u))"
    return 1
  fi
  return 0
}

# 0 when nothing listens on 127.0.0.1:$1.
_wf_port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wf_slurm_start() {
  local d=$1
  local base=${WF_SLURM_PORT_BASE:-}
  if [ -z "$base" ]; then
    base=16817
    while ! { _wf_port_free "$base" && _wf_port_free $((base + 1)); }; do
      base=$((base + 2))
      [ "$base" -lt 16917 ] || { echo "slurm: no free port pair in 16817..16916" >&2; return 1; }
    done
  fi
  mkdir -p "$d/state" "$d/spool" "$d/log"
  head -c 1024 /dev/urandom > "$d/munge.key"
  chmod 400 "$d/munge.key"
  WF_SLURM_CLUSTER=$d PATH=$PATH:/usr/sbin munged --force --socket="$d/munge.sock" \
    --key-file="$d/munge.key" --pid-file="$d/munged.pid" --log-file="$d/log/munged.log" \
    --seed-file="$d/munge.seed" || return 1
  cat > "$d/slurm.conf" <<CONF
ClusterName=wftest
SlurmctldHost=localhost
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$d/munge.sock
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MailProg=/bin/true
MpiDefault=none
ReturnToService=2
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
NodeName=localhost CPUs=$(nproc) State=UNKNOWN
PartitionName=main Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$d/slurm.conf"
  WF_SLURM_CLUSTER=$d PATH=$PATH:/usr/sbin slurmctld -f "$SLURM_CONF" || return 1
  WF_SLURM_CLUSTER=$d PATH=$PATH:/usr/sbin slurmd -f "$SLURM_CONF" -N localhost || return 1
  for _ in $(seq 1 200); do
    if [ "$(sinfo -h -n localhost -o %t 2>/dev/null)" = "idle" ]; then
      # slurmd writes its pid file a moment after the node turns idle.
      for _ in $(seq 1 50); do
        [ -s "$d/slurmd.pid" ] && return 0
        sleep 0.1
      done
      echo "slurm: slurmd wrote no pid file; logs in $d/log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "slurm: node did not become idle; logs in $d/log" >&2
  return 1
}

# Wait (at most SECONDS, default 600) until every task of a job has left the queue, then check
# that each is COMPLETED. Prints the states (and the exit codes of the others) on stderr.
wf_slurm_wait_ok() {
  local job=$1 limit=${2:-600}
  for _ in $(seq 1 $((limit * 5))); do
    [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
    sleep 0.2
  done
  if [ -n "$(squeue -h -j "$job" 2>/dev/null)" ]; then
    echo "job $job: still queued or running after ${limit}s:" >&2
    squeue -j "$job" -o '%i %T %r' >&2
    return 1
  fi
  local info
  info=$(scontrol -o show job "$job" 2>/dev/null)
  echo "job $job: $(grep -o 'JobState=[A-Z_]*' <<<"$info" | sort | uniq -c |
    awk '{ printf "%s%d %s", sep, $1, substr($2, 10); sep = ", " }')" >&2
  [ -n "$info" ] || return 1
  if grep -o 'JobState=[A-Z_]*' <<<"$info" | grep -vq 'JobState=COMPLETED'; then
    grep -v 'JobState=COMPLETED' <<<"$info" | tr ' ' '\n' |
      awk -F= '$1 == "JobId" { printf "\n  job %s", $2 }
        $1 == "ArrayTaskId" || $1 == "JobState" || $1 == "Reason" || $1 == "ExitCode" { printf " %s", $0 }
        END { print "" }' | sed 1d >&2
    return 1
  fi
  return 0
}

# Pids of the processes of cluster DIR still alive: its daemons (environment WF_SLURM_CLUSTER=DIR),
# its jobs' processes (SLURM_JOB_ID and SLURM_CONF=DIR/slurm.conf) and their slurmstepd.
wf_slurm_leftovers() {
  local d=$1 e pid ppid env
  for e in /proc/[0-9]*/environ; do
    pid=${e#/proc/}
    pid=${pid%/environ}
    [ "$pid" = "$$" ] || [ "$pid" = "${BASHPID:-}" ] && continue
    env=$(tr '\0' '\n' 2>/dev/null < "$e") || continue
    if grep -qxF "WF_SLURM_CLUSTER=$d" <<<"$env" ||
      { grep -qxF "SLURM_CONF=$d/slurm.conf" <<<"$env" && grep -q '^SLURM_JOB_ID=' <<<"$env"; }; then
      echo "$pid"
      # slurmstepd starts with a clean environment: recognise it as a job process's parent.
      ppid=$(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null)
      [ -n "$ppid" ] && [ "$(cat "/proc/$ppid/comm" 2>/dev/null)" = slurmstepd ] && echo "$ppid"
    fi
  done
}

wf_slurm_stop() {
  local d=$1 p pids alive
  [ -f "$d/slurm.conf" ] || return 0
  export SLURM_CONF="$d/slurm.conf"
  # Without a live controller every client call would retry for about 10 s: skip to the kills.
  if [ -s "$d/slurmctld.pid" ] && kill -0 "$(cat "$d/slurmctld.pid" 2>/dev/null)" 2>/dev/null; then
    # Jobs first: with proctrack/linuxproc, running steps would outlive the daemons.
    if [ -n "$(squeue -h 2>/dev/null)" ]; then
      scancel --full "--user=$(id -un)" >/dev/null 2>&1 || true
      for _ in $(seq 1 50); do
        [ -z "$(squeue -h -t running,completing 2>/dev/null)" ] && break
        sleep 0.1
      done
    fi
    scontrol shutdown >/dev/null 2>&1 || true
  fi
  for _ in $(seq 1 100); do
    alive=0
    for p in slurmctld slurmd; do
      [ -s "$d/$p.pid" ] && kill -0 "$(cat "$d/$p.pid" 2>/dev/null)" 2>/dev/null && alive=1
    done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for p in slurmctld slurmd; do
    [ -s "$d/$p.pid" ] && kill -9 "$(cat "$d/$p.pid" 2>/dev/null)" 2>/dev/null
  done
  if [ -s "$d/munged.pid" ]; then
    p=$(cat "$d/munged.pid" 2>/dev/null)
    kill "$p" 2>/dev/null
    for _ in $(seq 1 50); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.1
    done
  fi
  # Whatever is left of this cluster (a step or job process that escaped), by pid.
  pids=$(wf_slurm_leftovers "$d" | sort -u)
  if [ -n "$pids" ]; then
    echo "slurm: ending leftover processes of $d:" $pids >&2
    kill -9 $pids 2>/dev/null
  fi
  return 0
}
