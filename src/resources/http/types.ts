// The public shapes of `http()`: options, the response, where a request starts.

export type Via = 'runner' | 'host'

export interface HttpOptions {
  /** Default GET. */
  method?: string
  /** Request headers, e.g. `{ Host: 'blog.example.com' }` to reach a name-based virtual host. */
  headers?: Record<string, string>
  body?: string
  /** Limit for the whole request (connect, headers and body); default: the run's `--timeout`. */
  timeoutMs?: number
  /** Verify the server's certificate (https only). Default true. */
  tlsVerify?: boolean
  /** Where the request starts: the machine running verify, or the host under test. Default 'runner'. */
  via?: Via
  /** Body bytes kept; the rest is dropped and `truncated` is set. Default 1 MiB. */
  maxBodyBytes?: number
  /** Follow 3xx responses with a Location (at most 10). Default false: the redirect is the value. */
  followRedirects?: boolean
}

export interface HttpResponse {
  /** The URL that answered: the requested one, or the last redirect target when following redirects. */
  url: string
  status: number
  headers: Record<string, string | string[]>
  body: string
  truncated: boolean
  elapsedMs: number
  /** The body parsed as JSON; throws an HttpError naming the url when it is not JSON. */
  json<T = unknown>(): T
}
