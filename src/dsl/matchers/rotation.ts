// toBeOutOfRotation(): fails with the question a release engineer has to answer, not `expected 0`.
import { baseExpect } from '../jest-expect.ts'
import type { RotationFacts } from '../../resources/deploy/out-of-rotation.ts'

declare module 'expect' {
  interface Matchers<R extends void | Promise<void>, T = unknown> {
    /** The status page counted no requests (at most `maxRequests`) besides verify's own during outOfRotation()'s window. */
    toBeOutOfRotation(options?: { maxRequests?: number }): R
  }
}

baseExpect.extend({
  toBeOutOfRotation(this: { isNot?: boolean }, received: unknown, options: { maxRequests?: number } = {}) {
    if (!isRotationFacts(received)) {
      const hint =
        received && typeof (received as PromiseLike<unknown>).then === 'function' ? ' (did you forget `await outOfRotation(…)`?)' : ''
      return {
        pass: false,
        message: () => `toBeOutOfRotation: expected the result of await outOfRotation(url)${hint}, received ${typeof received}`,
      }
    }
    const max = options.maxRequests ?? 0
    const window = `${(received.windowMs / 1000).toFixed(received.windowMs % 1000 === 0 ? 0 : 1)}s`
    if (received.restartedDuringWindow) {
      return {
        pass: false,
        message: () =>
          `${received.url}: the server restarted during the ${window} window (counter ${received.before} -> ${received.after}); traffic could not be measured, run again`,
      }
    }
    const pass = received.requests <= max
    return {
      pass,
      expected: `${this.isNot ? 'more than' : 'at most'} ${max} request${max === 1 ? '' : 's'} in ${window}`,
      actual: `${received.requests} request${received.requests === 1 ? '' : 's'} in ${window}`,
      message: () =>
        this.isNot
          ? `${received.url}: expected traffic, but the server counted ${received.requests} request${received.requests === 1 ? '' : 's'} in ${window}`
          : `still receiving traffic: ${received.requests} request${received.requests === 1 ? '' : 's'} in ${window} (besides verify's own ${received.ownRequests}), is the host out of the load balancer? (${received.url})`,
    }
  },
})

function isRotationFacts(value: unknown): value is RotationFacts {
  return typeof value === 'object' && value !== null && 'windowMs' in value && 'requests' in value && 'restartedDuringWindow' in value
}
