import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts', 'test/support/build-dist.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // e2e files share one sshd and spawn CLIs; two workers suit the 2-core CI machine
    maxWorkers: 2,
  },
})
