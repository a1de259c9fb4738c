import { describe, expect, it } from 'vitest'
import { ExpectationError } from '../../src/errors.ts'
import { lineColumn, parseJsonContent, parseYamlContent, parseYamlDocuments } from '../../src/lib/structured-content.ts'

function failure(fn: () => unknown): ExpectationError {
  try {
    fn()
  } catch (error) {
    if (error instanceof ExpectationError) return error
    throw error
  }
  throw new Error('expected a failure')
}

describe('JSON', () => {
  it('parses', () => {
    expect(parseJsonContent('/a.json', '{"db": {"port": 5432}}')).toEqual({ db: { port: 5432 } })
  })

  it('a syntax error names the file, line and column', () => {
    const text = '{\n  "db": {\n    "port": 5432,\n  }\n}\n'
    const e = failure(() => parseJsonContent('/etc/app/config.json', text))
    expect(e.message).toMatch(/^\/etc\/app\/config\.json:4:3: not valid JSON: /)
    expect(e.expected).toBe('valid JSON')
    expect(e.actual).toBe('a syntax error at line 4, column 3')
  })

  it('a truncated file points at its end', () => {
    expect(failure(() => parseJsonContent('/a.json', '{"a": [1, 2')).message).toMatch(/^\/a\.json:1:\d+: not valid JSON/)
    expect(failure(() => parseJsonContent('/a.json', '')).message).toMatch(/^\/a\.json:1:1:/)
  })

  it('lineColumn counts from 1', () => {
    expect(lineColumn('ab\ncd', 0)).toEqual({ line: 1, column: 1 })
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 })
  })
})

describe('YAML', () => {
  it('parses one document; an empty file is null', () => {
    expect(parseYamlContent('/a.yaml', 'server:\n  port: 8080\n  hosts: [a, b]\n')).toEqual({ server: { port: 8080, hosts: ['a', 'b'] } })
    expect(parseYamlContent('/a.yaml', '')).toBeNull()
  })

  it('a syntax error names the file, line and column; duplicate keys are errors too', () => {
    const e = failure(() => parseYamlContent('/etc/app.yaml', 'server:\n  port: 8080\n   host: x\n'))
    expect(e.message).toMatch(/^\/etc\/app\.yaml:2:9: not valid YAML: Nested mappings are not allowed/)
    expect(failure(() => parseYamlContent('/d.yaml', 'a: 1\na: 2\n')).message).toMatch(/^\/d\.yaml:2:1: not valid YAML: .*unique/i)
  })

  it('several documents: yaml refuses, yamlDocuments gives them all', () => {
    const stream = 'kind: A\n---\nkind: B\n'
    expect(failure(() => parseYamlContent('/k.yaml', stream)).message).toMatch(/multiple documents/)
    expect(parseYamlDocuments('/k.yaml', stream)).toEqual([{ kind: 'A' }, { kind: 'B' }])
    expect(failure(() => parseYamlDocuments('/k.yaml', 'a: 1\n---\nb: [\n')).message).toMatch(/^\/k\.yaml:\d+:\d+: not valid YAML/)
  })
})
