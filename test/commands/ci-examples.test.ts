// The CI examples in examples/ci stay runnable: the YAML parses into the shape GitLab and GitHub
// read, and every flag their verify commands pass is one that verify (or its subcommand) takes.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { REPO_ROOT, runCli } from '../support/workdir.ts'

const DIR = path.join(REPO_ROOT, 'examples/ci')
const read = (name: string) => readFileSync(path.join(DIR, name), 'utf8')

/** `npx verify [sub] --flag …` commands in a file, with ${…} / $VAR expanded to nothing that matters. */
function verifyCommands(text: string): Array<{ sub: string; flags: string[] }> {
  const joined = text.replace(/\n\s+(?=--)/g, ' ').replaceAll('${VERIFY}', 'npx verify')
  return [...joined.matchAll(/npx verify((?: [^\n"]*)?)/g)].map(m => {
    const words = m[1]!.trim().split(/\s+/)
    const sub = ['merge', 'report'].includes(words[0]!) ? words[0]! : ''
    return { sub, flags: words.filter(w => w.startsWith('--')).concat(m[1]!.includes('${JUNIT}') ? ['--junit-flavor'] : []) }
  })
}

async function helpOf(sub: string): Promise<string> {
  const run = await runCli(sub ? [sub, '--help'] : ['--help'], { cwd: REPO_ROOT })
  return run.stdout
}

describe('examples/ci', () => {
  it('.gitlab-ci.yml: parallel shards with artifacts:reports:junit, and a gate job that merges them', () => {
    const ci = parse(read('.gitlab-ci.yml'))
    expect(ci.verify.parallel).toBe(4)
    expect(ci.verify.artifacts.reports.junit).toBe('reports/shard-*.xml')
    expect(ci.verify.script.join('\n')).toContain('--shard "$CI_NODE_INDEX/$CI_NODE_TOTAL"')
    expect(ci.gate.needs).toEqual(['verify'])
    expect(ci.gate.script.join('\n')).toMatch(/npx verify merge reports\/shard-\*\.json --max-failing-hosts/)
  })

  it('github-verify.yml parses as a workflow', () => {
    const wf = parse(read('github-verify.yml'))
    expect(wf.jobs.verify.steps.some((s: { run?: string }) => s.run?.startsWith('npx verify --hosts staging'))).toBe(true)
  })

  it('Jenkinsfile: a stage per wave, junit with keepLongStdio, shards in parallel branches, merge', () => {
    const jf = read('Jenkinsfile')
    expect(jf.match(/stage\('Wave \d/g)).toHaveLength(3)
    expect(jf.match(/keepLongStdio: true/g)).toHaveLength(3)
    expect(jf).toContain('parallel(')
    expect(jf).toContain('--shard ${i}/${n}')
    expect(jf).toContain('${VERIFY} merge reports/wave-3-shard-*.json')
  })

  it('passes only flags verify takes', async () => {
    const commands = ['.gitlab-ci.yml', 'Jenkinsfile', 'github-verify.yml'].flatMap(f =>
      verifyCommands(read(f)).map(c => ({ ...c, file: f })),
    )
    expect(commands.length).toBeGreaterThanOrEqual(8)
    const helps = new Map<string, string>()
    for (const c of commands) {
      if (!helps.has(c.sub)) helps.set(c.sub, await helpOf(c.sub))
      for (const flag of c.flags)
        expect(helps.get(c.sub), `${c.file}: verify ${c.sub} ${flag}`).toMatch(new RegExp(`(^|[ ,])${flag}( |,|$)`, 'm'))
    }
  })
})
