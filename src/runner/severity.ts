// severity 'warn': a failed expectation (a certificate expiring in 20 days) is reported but
// never fails the gate. It is recorded as passed with a `warning` holding what failed; an
// error (the fact could not be read, a crash) stays an error, since nothing was verified.
import type { CheckResult } from '../model.ts'

export function applySeverity(result: CheckResult, severity: 'warn' | undefined): CheckResult {
  if (severity !== 'warn') return result
  if (result.status !== 'failed') return { ...result, severity }
  const { message, expected, actual, ...rest } = result
  const warning = {
    ...(message === undefined ? {} : { message }),
    ...(expected === undefined ? {} : { expected }),
    ...(actual === undefined ? {} : { actual }),
  }
  return { ...rest, status: 'passed', severity, warning }
}
