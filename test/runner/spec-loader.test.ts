import { describe, expect, it } from 'vitest'
import { needsLoader } from '../../src/runner/spec-loader.ts'

describe('the spec loader', () => {
  it('is needed for TypeScript specs only: .js and .mjs specs load with none', () => {
    expect(['a.spec.ts', 'a.spec.mts', 'a.spec.cts', 'a.spec.tsx'].map(needsLoader)).toEqual([true, true, true, true])
    expect(['a.spec.js', 'a.spec.mjs', 'a.spec.cjs', 'a.d.ts.js'].map(needsLoader)).toEqual([false, false, false, false])
  })
})
