// Types of the package entry: the generated native types (index.d.ts) plus what
// ango.js adds.
export * from './index'
export * from './plugins'
export * from './formats'
export * as formats from './formats'

/** The machine-readable kind of an `AngoError` (ango-core's `Error::code()`). */
export type AngoErrorCode =
  | 'HTTP'
  | 'RATE_LIMITED'
  | 'TIMEOUT'
  | 'CONNECTION'
  | 'TRANSPORT'
  | 'DECODE'
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'IO'
  | 'ARCHIVE'
  /** The server's answers contradicted each other (e.g. a listing total that changed). */
  | 'INCONSISTENT'
  /** The operation was cancelled before it finished. */
  | 'CANCELLED'
  /** A bug inside the SDK (a Rust panic) was caught instead of aborting the process. */
  | 'INTERNAL'

/** Every error the SDK throws or rejects with. */
export declare class AngoError extends Error {
  readonly name: 'AngoError'
  /** What kind of failure. */
  readonly code: AngoErrorCode
  /**
   * The HTTP status, for `HTTP` and `RATE_LIMITED`, and for the emulator's plugin-hub
   * errors (`NOT_FOUND` 404, `INVALID_ARGUMENT` 400 or 409).
   */
  readonly status?: number
  /** The server's response body, for `HTTP` and `RATE_LIMITED` (also the message). */
  readonly body?: string
  /** How long the server asked to wait before retrying, if it said. */
  readonly retryAfterMs?: number
}

declare module './index' {
  interface RowStream extends AsyncIterable<any> {
    /** Reads the whole stream into an array (for small results). */
    toArray(): Promise<any[]>
  }
}
