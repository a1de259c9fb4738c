import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { displayPath, firstLine, firstNonBlankLine, seconds } from '../../src/lib/format.ts'

describe('displayPath', () => {
  const cwd = path.resolve('/srv/project')
  it('is relative inside the working directory, absolute outside it', () => {
    expect(displayPath(path.join(cwd, 'specs', 'app.spec.ts'), cwd)).toBe(path.join('specs', 'app.spec.ts'))
    expect(displayPath(path.resolve('/etc/hosts'), cwd)).toBe(path.resolve('/etc/hosts'))
    expect(displayPath(path.resolve('/srv/project-other/x.ts'), cwd)).toBe(path.resolve('/srv/project-other/x.ts'))
  })
  it('keeps the working directory itself as given', () => {
    expect(displayPath(cwd, cwd)).toBe(cwd)
  })
  it('defaults to process.cwd()', () => {
    expect(displayPath(path.join(process.cwd(), 'a.ts'))).toBe('a.ts')
  })
})

describe('seconds', () => {
  it('drops trailing zeros; one decimal unless told', () => {
    expect(seconds(2000)).toBe('2s')
    expect(seconds(1500)).toBe('1.5s')
    expect(seconds(1234)).toBe('1.2s')
    expect(seconds(1234, 3)).toBe('1.234s')
    expect(seconds(250, 3)).toBe('0.25s')
  })
})

describe('firstLine / firstNonBlankLine', () => {
  it('firstLine stops at \\n or \\r\\n', () => {
    expect(firstLine('one\r\ntwo')).toBe('one')
    expect(firstLine('one\ntwo')).toBe('one')
    expect(firstLine('')).toBe('')
  })
  it('firstNonBlankLine skips blank lines', () => {
    expect(firstNonBlankLine('\n  \nheadline\nmore')).toBe('headline')
    expect(firstNonBlankLine('\n \n')).toBe('')
  })
})
