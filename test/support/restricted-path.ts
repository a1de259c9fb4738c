// Runs one fact's snippet on this machine with only some tools on PATH, to test what a fact
// says on a minimal host (no nc, no getent, no openssl…) without needing such a host.
import { mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { standaloneScript, type FactRequest, type RawFact } from '../../src/probe/fact.ts'
import { PROBE_MARKER } from '../../src/probe/script.ts'

const SEARCH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

function which(tool: string): string | undefined {
  // statSync follows links: a dangling alternatives link counts as missing
  return SEARCH.map(dir => path.join(dir, tool)).find(candidate => {
    try {
      return statSync(candidate).isFile()
    } catch {
      return false
    }
  })
}

/** Runs the fact's snippet as the probe would (sh -c SNIPPET verify-probe ARGS…), with PATH holding only `tools`. */
export async function runWithTools<T>(request: FactRequest<T>, tools: string[]): Promise<{ raw: RawFact; parse: () => T }> {
  const bin = mkdtempSync(path.join(os.tmpdir(), 'verify-bin-'))
  try {
    for (const tool of tools) {
      const found = which(tool)
      if (found) symlinkSync(found, path.join(bin, tool))
    }
    const result = await execa('/bin/sh', ['-c', standaloneScript(request), PROBE_MARKER, ...request.args], {
      env: { PATH: bin, LC_ALL: 'C' },
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      encoding: 'buffer',
      timeout: 20_000,
    })
    const raw: RawFact = {
      stdout: Buffer.from(result.stdout as Uint8Array),
      stderr: Buffer.from(result.stderr as Uint8Array),
      exitCode: result.exitCode ?? -1,
      truncated: false,
      timedOut: false,
    }
    return { raw, parse: () => request.parse(raw) }
  } finally {
    rmSync(bin, { recursive: true, force: true })
  }
}

/** The tools most snippets lean on, for building a PATH with one of them left out. */
export const BASIC_TOOLS = ['cat', 'head', 'tail', 'grep', 'sed', 'id', 'stat', 'readlink', 'dirname', 'timeout', 'ls', 'printf']
