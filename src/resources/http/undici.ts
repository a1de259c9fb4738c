// undici is loaded on the first request (about 100 ms of start-up that most runs never need);
// it is CommonJS, so require() loads it synchronously.
import { createRequire } from 'node:module'

type Undici = typeof import('undici')
let undiciModule: Undici | undefined

export function undici(): Undici {
  return (undiciModule ??= createRequire(import.meta.url)('undici') as Undici)
}
