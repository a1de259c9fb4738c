import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { initProject } from '../../src/commands/init.ts'

describe('verify init', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'verify-init-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('writes hosts.yaml, a spec and (when missing) an ES-module package.json; keeps existing files', () => {
    const first = initProject({ dir, app: 'My Blog!' })
    expect(first.written).toEqual(['hosts.yaml', 'specs/my-blog.spec.ts', 'tsconfig.json'])
    const spec = readFileSync(path.join(dir, 'specs/my-blog.spec.ts'), 'utf8')
    // typed vars, appsRoot required (no default hiding a missing one), every name the spec uses imported
    expect(spec).toMatch(/appsRoot: z\.string\(\),/)
    expect(spec).not.toMatch(/\.default\(/)
    const imported = /import \{ ([^}]+) \} from 'postdeploy-verify'/.exec(spec)![1]!.split(', ')
    for (const name of imported) expect(spec.split(name).length - 1, name).toBeGreaterThan(1)
    for (const used of ['restart(', 'hasVars(', 'release(', 'file(', 'z.object(']) expect(imported).toContain(used.split(/[.(]/)[0])
    expect(JSON.parse(readFileSync(path.join(dir, 'tsconfig.json'), 'utf8'))).toMatchObject({
      compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', noEmit: true },
      include: ['specs'],
    })
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8')).toBe('.verify/\n')
    expect(JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).type).toBe('module')
    expect(readFileSync(path.join(dir, 'hosts.yaml'), 'utf8')).toMatch(/app: my-blog\n.*\n {2}appsRoot: \/apps\n/)
    writeFileSync(path.join(dir, 'hosts.yaml'), 'mine')
    const second = initProject({ dir, app: 'my-blog' })
    expect(second.skipped).toEqual(['hosts.yaml', 'specs/my-blog.spec.ts', 'tsconfig.json'])
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8')).toBe('.verify/\n')
    expect(readFileSync(path.join(dir, 'hosts.yaml'), 'utf8')).toBe('mine')
    writeFileSync(path.join(dir, 'package.json'), '{"name":"x"}')
    expect(initProject({ dir, app: 'my-blog', force: true }).notes.join()).toMatch(/no "type": "module"/)
    expect(existsSync(path.join(dir, 'specs/my-blog.spec.ts'))).toBe(true)
  })
})
