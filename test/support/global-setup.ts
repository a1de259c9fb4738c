// Runs once per vitest project before its files: installs what the tests need on a fresh Debian
// machine (CI starts with nothing), so no worker races on apt. The first project's setup
// installs for every project of the run (npm test: one apt-get update, one install); the
// second then finds nothing missing. `--project unit` installs no browser.
import type { TestProject } from 'vitest/node'
import { E2E_PACKAGES, ensurePackages, SUITE_PACKAGES } from './apt.ts'

export default function setup(project: TestProject): void {
  const e2e = project.vitest.projects.some(p => p.name === 'e2e')
  ensurePackages({ ...SUITE_PACKAGES, ...(e2e ? E2E_PACKAGES : {}) })
}
