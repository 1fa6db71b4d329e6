#!/usr/bin/env bash
# A real single-node Slurm cluster on localhost for tests (recipe: Debian 12's Slurm 22.05 with a
# private munge daemon; no systemd, cgroups or accounting database).
#   source tests/slurm/cluster.sh
#   wf_slurm_available || exit 77      # packages missing: the caller reports "skipped"
#   wf_slurm_start DIR                 # exports SLURM_CONF; waits until the node is idle
#   ... sbatch / squeeze ...
#   wf_slurm_stop DIR                  # shuts the daemons down and ends munged
# Ports default to 16817/16818 (free on CI); override with WF_SLURM_PORT_BASE.

wf_slurm_available() {
  for b in slurmctld slurmd munged sbatch squeue scontrol sinfo; do
    command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || return 1
  done
  return 0
}

wf_slurm_start() {
  local d=$1
  local base=${WF_SLURM_PORT_BASE:-16817}
  mkdir -p "$d/state" "$d/spool" "$d/log"
  head -c 1024 /dev/urandom > "$d/munge.key"
  chmod 400 "$d/munge.key"
  PATH=$PATH:/usr/sbin munged --force --socket="$d/munge.sock" --key-file="$d/munge.key" \
    --pid-file="$d/munged.pid" --log-file="$d/log/munged.log" --seed-file="$d/munge.seed" || return 1
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
  PATH=$PATH:/usr/sbin slurmctld -f "$SLURM_CONF" || return 1
  PATH=$PATH:/usr/sbin slurmd -f "$SLURM_CONF" -N localhost || return 1
  local i
  for i in $(seq 1 200); do
    if [ "$(sinfo -h -n localhost -o %t 2>/dev/null)" = "idle" ]; then
      return 0
    fi
    sleep 0.1
  done
  echo "slurm: node did not become idle; logs in $d/log" >&2
  return 1
}

# Wait until every task of a job is gone from the queue, then check each COMPLETED.
wf_slurm_wait_ok() {
  local job=$1 i
  for i in $(seq 1 3000); do
    [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
    sleep 0.2
  done
  local states
  states=$(scontrol -o show job "$job" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | sort | uniq -c)
  echo "job $job: $states" >&2
  if scontrol -o show job "$job" | grep -o 'JobState=[A-Z_]*' | grep -vq 'JobState=COMPLETED'; then
    return 1
  fi
  return 0
}

wf_slurm_stop() {
  local d=$1 i
  scontrol shutdown >/dev/null 2>&1 || true
  for i in $(seq 1 100); do
    local alive=0
    for p in slurmctld slurmd; do
      [ -f "$d/$p.pid" ] && kill -0 "$(cat "$d/$p.pid")" 2>/dev/null && alive=1
    done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for p in slurmctld slurmd; do
    [ -f "$d/$p.pid" ] && kill -9 "$(cat "$d/$p.pid")" 2>/dev/null || true
  done
  [ -f "$d/munged.pid" ] && kill "$(cat "$d/munged.pid")" 2>/dev/null || true
  return 0
}
