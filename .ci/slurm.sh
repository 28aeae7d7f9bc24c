#!/usr/bin/env bash
# A one-node SLURM cluster on this host, for tests/test_slurm.py (run as root).
#   .ci/slurm.sh up     install slurm-wlm and munge if missing, write the configuration,
#                       start munged, slurmctld and slurmd, wait until the node is idle
#   .ci/slurm.sh down   cancel its jobs and stop the daemons that `up` started
# `up` first stops the daemons of an earlier `up`, so it can be run again.
# The configuration goes to SLURM's default place, /etc/slurm, because the jobs' own `srun`
# calls look for it there; state and logs go to $SSLGEOM_SLURM_DIR (default /tmp/sslgeom-slurm).
set -euo pipefail

state=${SSLGEOM_SLURM_DIR:-/tmp/sslgeom-slurm}
config_dir=/etc/slurm
# marks the configuration files as ours, so that `up` never overwrites a real cluster's
marker="# written by sslgeom .ci/slurm.sh"

install_packages() {
  if command -v slurmctld >/dev/null && command -v munged >/dev/null; then
    return
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurm-wlm munge >/dev/null
}

# The node is this host with its real CPUs and memory, plus one GPU that exists only as a
# count (a GRES with no device file): the workflow profile asks for a GPU for training, and
# SLURM must be able to grant it. The two partitions are the profile's defaults.
write_configuration() {
  local node cpus memory_mb
  node=$(hostname -s)
  cpus=$(nproc)
  memory_mb=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
  if [ -e "$config_dir/slurm.conf" ] && ! grep -qx "$marker" "$config_dir/slurm.conf"; then
    echo "$config_dir/slurm.conf exists and is not ours: not replacing it" >&2
    return 1
  fi
  rm -rf "$state"
  mkdir -p "$state/ctld" "$state/spool" "$state/log" "$config_dir"
  cat >"$config_dir/slurm.conf" <<EOF
$marker
ClusterName=sslgeom-ci
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
MpiDefault=none
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
# containers have no usable cgroup hierarchy for SLURM
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# no slurmdbd: sacct has nothing to query, job status must come from squeue
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
# finished jobs stay visible to squeue this long, which the squeue status check needs
MinJobAge=300
ReturnToService=2
SchedulerParameters=sched_interval=1
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory_mb Gres=gpu:1 State=UNKNOWN
PartitionName=cpu Nodes=$node Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$node MaxTime=INFINITE State=UP
EOF
  printf '%s\nNodeName=%s Name=gpu File=/dev/null\n' "$marker" "$node" >"$config_dir/gres.conf"
}

start_daemons() {
  install -d -o munge -g munge -m 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then # the package's postinst normally creates it
    runuser -u munge -- /usr/sbin/mungekey --create --keyfile=/etc/munge/munge.key
  fi
  runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
  /usr/sbin/slurmctld
  /usr/sbin/slurmd
}

wait_for_idle_node() {
  local deadline=$((SECONDS + 60))
  until [ "$(sinfo --noheader --node "$(hostname -s)" --format %T 2>/dev/null | sort -u)" = idle ]; do
    if ((SECONDS > deadline)); then
      echo "SLURM did not come up; logs in $state/log" >&2
      sinfo -N -l >&2 || true
      tail -n 20 "$state"/log/*.log >&2 || true
      return 1
    fi
    sleep 1
  done
  sinfo
}

# Cancels the jobs still queued or running on this one-node cluster, then stops each daemon
# that `up` started (found by its pid file) and waits until it has exited.
stop_daemons() {
  local pid_file pid waited
  if [ -s "$state/slurmctld.pid" ] && [ -e "$config_dir/slurm.conf" ] &&
    grep -qx "$marker" "$config_dir/slurm.conf"; then
    squeue --noheader --format %i 2>/dev/null | xargs -r scancel 2>/dev/null || true
  fi
  for pid_file in "$state/slurmd.pid" "$state/slurmctld.pid" /run/munge/munged.pid; do
    if [ -s "$pid_file" ]; then
      pid=$(cat "$pid_file")
      kill "$pid" 2>/dev/null || true
      for waited in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
      done
      rm -f "$pid_file"
    fi
  done
}

# Removes the configuration files that `up` wrote: with a slurm.conf naming a controller that
# is gone, every SLURM client (also `scontrol show config`, which the executor plugin runs when
# Snakemake loads it) retries for about 9 s before failing; without one it fails at once.
remove_configuration() {
  local file
  for file in "$config_dir/slurm.conf" "$config_dir/gres.conf"; do
    if [ -e "$file" ] && grep -qx "$marker" "$file"; then
      rm -f "$file"
    fi
  done
}

case "${1:-}" in
up)
  install_packages
  stop_daemons # a previous `up` that was never taken down
  write_configuration
  start_daemons
  wait_for_idle_node
  ;;
down)
  stop_daemons
  remove_configuration
  ;;
*)
  echo "usage: $0 up|down" >&2
  exit 2
  ;;
esac
