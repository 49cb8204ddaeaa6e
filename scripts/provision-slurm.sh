#!/usr/bin/env bash
# Make sure a one-node Slurm cluster runs on this machine (munge, slurmctld and slurmd on
# localhost), for the `make sweep` tests. Safe to run repeatedly: does nothing when Slurm already
# answers.
set -euo pipefail

CONF=/etc/slurm/slurm.conf
LOG_DIR=/var/log/slurm
WAIT_SECONDS=60

node_is_up() {
    sinfo --noheader --responding --states=idle,mixed,allocated --format=%n 2>/dev/null | grep -q .
}

if command -v sinfo >/dev/null 2>&1 && node_is_up; then
    echo "Slurm already answers; nothing to do."
    exit 0
fi

if [[ $EUID -ne 0 ]]; then
    echo "Slurm does not answer and starting it needs root: run this script with sudo." >&2
    exit 1
fi

if ! command -v slurmctld >/dev/null 2>&1; then
    echo "Installing slurm-wlm and munge..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

# munge authenticates Slurm's daemons and commands to each other: it must run first.
if ! munge -n >/dev/null 2>&1; then
    [[ -s /etc/munge/munge.key ]] || mungekey --create
    mkdir -p /run/munge && chown munge:munge /run/munge
    runuser -u munge -- munged
fi

# One node, named as this machine calls itself, with all its cores. No cgroups and no accounting
# database: they need an init system and slurmdbd, which a CI machine or a container lacks.
node=$(hostname -s)
mkdir -p "$(dirname "$CONF")" "$LOG_DIR" /var/spool/slurmctld /var/spool/slurmd
cat >"$CONF" <<CONF
ClusterName=repro
SlurmctldHost=$node
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
NodeName=$node CPUs=$(nproc) State=UNKNOWN
PartitionName=main Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF

pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd

for ((i = 0; i < WAIT_SECONDS; i++)); do
    if node_is_up; then
        echo "Slurm is up: node $node, partition main."
        exit 0
    fi
    sleep 1
done
echo "Slurm's node did not come up within $WAIT_SECONDS s; see $LOG_DIR/" >&2
exit 1
