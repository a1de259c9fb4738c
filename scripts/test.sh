#!/usr/bin/env bash
# The whole test suite: unit tests and end-to-end tests through a real OpenSSH sshd.
# test/support/global-setup.ts installs what the tests need with apt-get when missing (test/support/apt.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npx tsc --noEmit -p .
# the compiled package (dist/) that bin/verify.mjs runs; npm ci built it unless src/ changed since
node scripts/build.mjs --if-stale
node scripts/check-imports.mjs
# one formatting (Prettier, .prettierrc.json): `npm run format` fixes what this reports
npm run --silent format:check
# the fact snippets (src/**/*.sh) and these scripts through shellcheck (installed when missing)
bash scripts/check-shell.sh
npx vitest run "$@"
