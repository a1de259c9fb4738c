#!/usr/bin/env bash
# One command from a fresh clone (Debian 12, as root): installs what the benchmark needs,
# creates a network namespace with only loopback, and runs bench/bench.ts inside it.
#   bash bench/run.sh [bench.ts options]    e.g.  bash bench/run.sh --hosts 10,50,200 --runs 5
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "bench/run.sh needs root (apt-get, a network namespace, the test user)" >&2
  exit 1
fi

# binary -> Debian package providing it
needed=(
  /usr/sbin/sshd:openssh-server
  /usr/bin/ssh:openssh-client
  /usr/bin/ssh-keygen:openssh-client
  /usr/bin/rspec:ruby-serverspec
  /usr/lib/python3/dist-packages/testinfra:python3-testinfra
  /usr/lib/python3/dist-packages/xdist:python3-pytest-xdist
  /usr/bin/time:time
  /usr/bin/curl:curl
  /usr/bin/ss:iproute2
  /usr/bin/pgrep:procps
  /usr/bin/xargs:findutils
)
missing=()
for pair in "${needed[@]}"; do
  [ -e "${pair%%:*}" ] || missing+=("${pair#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  # shellcheck disable=SC2046
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u)
fi
mkdir -p /run/sshd

# The fleet's login user, as test/support/sshd.ts makes it: no password, not locked, home /.
user=verifytest
id -u "$user" >/dev/null 2>&1 || useradd -M -d / -s /bin/sh "$user"
usermod -p '*' -d / "$user"

[ -d node_modules ] || npm ci --no-audit --no-fund

# Own network namespace: sshd can listen on 0.0.0.0 there (every 127.x address a host) and
# nothing outside can reach it. Everything the bench starts runs inside.
ns="verify-bench-$$"
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" env BENCH_NETNS="$ns" node --import tsx bench/bench.ts "$@"
