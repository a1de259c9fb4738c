import { defineConfig } from 'vitest/config'

// Tests that need a real OpenSSH sshd (the fleet fixture), spawn the CLI, drive Chromium or start
// 1,000 processes are `e2e`; the rest (`unit`, including resources read through the local shell)
// run without those: `npm run test:unit`.
const E2E_TESTS = [
  'test/e2e/**/*.test.ts',
  'test/transports/ssh/transport.test.ts',
  'test/transports/ssh/auth.test.ts',
  'test/transports/ssh/bastion.test.ts',
  'test/transports/ssh/become.test.ts',
  'test/reporters/html.test.ts',
  'test/resources/process-scale.test.ts',
]

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // each e2e file starts its own sshd and spawns CLIs; two workers suit the 2-core CI machine
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: E2E_TESTS,
          globalSetup: ['test/support/global-setup.ts', 'test/support/build-dist.ts'],
        },
      },
      {
        extends: true,
        test: { name: 'e2e', include: E2E_TESTS, globalSetup: ['test/support/global-setup.ts', 'test/support/build-dist.ts'] },
      },
    ],
  },
})
