#!/usr/bin/env bash
# CI step: ops/deploy/slurm/posecluster.sbatch runs under a real Slurm on this machine (one node
# entry on loopback: slurmctld + slurmd + munged started here) and its outputs are byte-identical
# to `posecoord run` on the same archive. Installs Debian's slurm-wlm and munge when missing;
# skips with the reason when they cannot be installed or the daemons cannot start (no root, a
# container without them). Every daemon it starts is stopped at the end.
#   BIN=.build/release bash ops/ci/slurm.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
bin=$(cd "${BIN:-.build/release}" && pwd)
skip() { echo "slurm.sh: SKIPPED: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root to start slurmctld, slurmd and munged"
if ! command -v slurmctld > /dev/null || ! command -v munged > /dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge) \
        > /dev/null 2>&1 || skip "cannot install slurm-wlm and munge (apt-get)"
fi
work=$(mktemp -d /tmp/posecluster-slurm.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
    for pidfile in "$work"/slurmd.pid "$work"/slurmctld.pid "$work"/munged.pid; do
        [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
    done
    sleep 1; rm -rf "$work"
}
trap cleanup EXIT
set -e
# munge: a key and a daemon with its own socket, so a system munged is left alone.
dd if=/dev/urandom of="$work/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge.key"
mkdir -p "$work/munge"
munged --key-file="$work/munge.key" --socket="$work/munge/socket" --pid-file="$work/munged.pid" \
    --log-file="$work/munged.log" --seed-file="$work/munge.seed" --force 2>"$work/munged.err" \
    || skip "munged does not start here: $(tail -1 "$work/munged.err")"
cpus=$(nproc)
cat > "$work/slurm.conf" <<CONF
ClusterName=posecluster-ci
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/socket
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
SwitchType=switch/none
ReturnToService=2
SlurmctldPort=17817
SlurmdPort=17818
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=ci Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
mkdir -p "$work/state" "$work/spool"
export SLURM_CONF="$work/slurm.conf"
slurmctld -f "$SLURM_CONF" 2>"$work/slurmctld.err" || skip "slurmctld does not start: $(tail -1 "$work/slurmctld.err")"
slurmd -f "$SLURM_CONF" -N localhost 2>"$work/slurmd.err" || skip "slurmd does not start: $(tail -1 "$work/slurmd.err")"
for _ in $(seq 1 50); do sinfo -h -o %T 2>/dev/null | grep -Eq '^(idle|mixed)' && break; sleep 0.2; done
sinfo -h -o %T 2>/dev/null | grep -Eq '^(idle|mixed)' || skip "the node does not come up: $(tail -2 "$work/slurmd.log" 2>/dev/null)"

"$bin/posecoord" synth --out "$work/archive" --videos 3 --frames 12 --size 128x96 --seed 5 --quiet > /dev/null
"$bin/posecoord" run --archive "$work/archive" --out "$work/run" --threads 2 --unit-size 4 --quiet
start=$(date +%s)
sbatch --wait --nodes=1 --exclusive --chdir="$work" --output="$work/job.log" \
    --export=ALL,POSECLUSTER_BIN="$bin",POSECLUSTER_PORT=17830 \
    ops/deploy/slurm/posecluster.sbatch "$work/archive" "$work/sbatch-out" random > /dev/null \
    || { cat "$work/job.log"; echo "slurm.sh: the sbatch job failed"; exit 1; }
# Identical outputs: every per-video file (not the job report, which has timings).
diff -r -x _posecluster -x .posecoord-state "$work/run" "$work/sbatch-out" \
    || { echo "slurm.sh: sbatch outputs differ from posecoord run"; exit 1; }
grep -q "WARNING: running random weights" "$work/job.log"
echo "slurm.sh: sbatch ops/deploy/slurm/posecluster.sbatch under slurmctld+slurmd on loopback: outputs identical to posecoord run ($(ls "$work/run"/*.json | wc -l) files, $(( $(date +%s) - start )) s)"
