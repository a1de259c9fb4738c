#!/usr/bin/env bash
# Runs shellcheck over every fact snippet (src/**/*.sh, as POSIX sh: the host's /bin/sh runs them) and
# the repo's own bash scripts. Installs shellcheck (Debian package) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v shellcheck >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends shellcheck >/dev/null
fi
mapfile -t snippets < <(find src -name '*.sh' | sort)
shellcheck -s sh "${snippets[@]}"
shellcheck -s bash scripts/*.sh bench/run.sh .ci/run
echo "check-shell: ${#snippets[@]} snippets and the repo's bash scripts are clean"
