// A throwaway self-signed certificate from the real openssl, for the x509() and TLS tests.
import { execFileSync } from 'node:child_process'

export interface SelfSignedCert {
  /** Where the private key and the certificate (PEM) are written. */
  key: string
  cert: string
  /** `-subj`, e.g. `/CN=blog.example.com`. */
  subject: string
  days?: number
  /** subjectAltName, e.g. `DNS:blog.example.com,IP:127.0.0.1`. */
  san?: string
  /** A P-256 key unless the test needs RSA. */
  keyType?: 'ec' | 'rsa'
}

export function selfSignedCert({ key, cert, subject, days = 30, san, keyType = 'ec' }: SelfSignedCert): void {
  const newKey = keyType === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']
  const args = ['req', '-x509', ...newKey, '-nodes', '-keyout', key, '-out', cert, '-days', String(days), '-subj', subject]
  if (san) args.push('-addext', `subjectAltName=${san}`)
  execFileSync('openssl', args, { stdio: 'ignore' })
}
