// Types of the plugin runtime (plugins.js), re-exported by the package entry.

/** The six Ango Hub plugin kinds. */
export type PluginKind = 'export' | 'model' | 'batchModel' | 'fileExplorer' | 'input' | 'markdown'

/** Options of a plugin; only `id` and `secret` are required. */
export interface PluginRunOptions {
  /** The plugin id, from the Hub UI. */
  id: string
  /** The plugin secret, from the Hub UI. */
  secret: string
  /** Socket.IO host (default `https://eu-api.ango.ai`); only scheme, host and port are used. */
  host?: string
  /** REST API host for the runtime's own calls (default `https://imeritapi.ango.ai`). */
  apiHost?: string
  /** `'WS'` (default) or `'REST'`; default from env `CONNECTOR`. */
  connector?: 'WS' | 'REST' | 'ws' | 'rest'
  /** REST port (env `PORT`, default 8080; 0 = any free port). */
  port?: number
  /** REST bind address (default `0.0.0.0`). */
  bindAddress?: string
  /** Records below this level are neither sent nor echoed (env `LOGLEVEL`, default INFO). */
  logLevel?: 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL' | string
  /** Echo log records on stderr (default true). */
  echoLogs?: boolean
  /** Callbacks running at once (Model default 1, other kinds 8). */
  concurrency?: number
  /** Requests waiting for a worker before `overflow` applies (default 1024). */
  queueCapacity?: number
  /** Beyond `queueCapacity`: keep queueing (default) or refuse with an error record. */
  overflow?: 'queue' | 'reject'
  /** Ango heartbeat interval (default 60000 ms). */
  heartbeatIntervalMs?: number
  /** Timeout of each HTTP call the runtime makes (default 120000 ms). */
  httpTimeoutMs?: number
  /** Time to open the websocket and join `/plugin` (default 20000 ms). */
  connectTimeoutMs?: number
  /** First reconnection delay (default 1000 ms); doubles up to `reconnectMaxDelayMs`. */
  reconnectInitialDelayMs?: number
  /** Longest reconnection delay (default 30000 ms). */
  reconnectMaxDelayMs?: number
  /** Failed reconnection attempts in a row before the plugin stops (default: never). */
  reconnectMaxAttempts?: number
  /** Read `CONNECTOR`, `PORT`, `LOGLEVEL` from the environment first (default true). */
  useEnv?: boolean
  /** SIGINT/SIGTERM drain running work and exit 0 (default true with `runPlugin`). */
  handleSignals?: boolean
}

/** The per-request logger: records reach the Hub's Plugin Sessions dialog. */
export interface PluginLogger {
  debug(message: unknown, fields?: Record<string, unknown>): void
  info(message: unknown, fields?: Record<string, unknown>): void
  warn(message: unknown, fields?: Record<string, unknown>): void
  warning(message: unknown, fields?: Record<string, unknown>): void
  error(message: unknown, fields?: Record<string, unknown>): void
  critical(message: unknown, fields?: Record<string, unknown>): void
  /** `level`: a name, or a number (10 DEBUG .. 50 CRITICAL, others `"Level N"`). */
  log(level: string | number, message: unknown, fields?: Record<string, unknown>): void
  isEnabledFor(level: string | number): boolean
}

/** What a callback receives: the Hub's request plus the runtime's additions. */
export interface PluginData {
  session?: string
  apiKey?: string
  orgId?: string
  runBy?: string
  projectId?: string
  /** The user's Config JSON, as a string. */
  configJSON?: string
  /** `[]` when the Hub sent none (not for Export). */
  batches?: string[] | null
  /** The request's logger. */
  logger: PluginLogger
  /** Export: the exported rows, one object per task. */
  jsonExport?: AsyncIterable<any>
  /** Export: how many rows `jsonExport` has. */
  numTasks?: number
  [key: string]: any
}

/** What an Export callback returns (or the legacy `[fileName, file]`). */
export interface ExportResult {
  file: Buffer | Uint8Array | ArrayBuffer | string
  /** Default `export.json` for a binary file; required with a string. */
  fileName?: string
  storageId?: string
}

/** A brush mask: `shape` `[h, w]`, `[h, w, 3|4]` or (medical) `[d, h, w]`, values row-major. */
export interface BrushArray {
  shape: number[]
  data: ArrayLike<number>
}

/** What a Model callback returns: an AnnotationPayload (or a bare Answer). */
export interface ModelResult {
  answer?: { objects?: any[]; classifications?: any[]; relations?: any[] } | null
  brushDataUrl?: string | null
  medicalBrushDataUrl?: string | null
  /** Uploaded as a PNG when `brushDataUrl` is unset (workflow path). */
  brushData?: BrushArray
  /** Uploaded as NRRD when `medicalBrushDataUrl` is unset (workflow path). */
  medicalBrushData?: BrushArray
  [key: string]: any
}

/**
 * A plugin callback. Throwing (or rejecting), or returning nothing, ends the Hub
 * session with an error record that carries the message.
 */
export type PluginCallbackFn<R = any> = (data: PluginData) => R | Promise<R>

export declare class Plugin {
  constructor(kind: PluginKind, options: PluginRunOptions, callback: PluginCallbackFn)
  readonly kind: PluginKind
  /** Connects (WS) or starts serving (REST); returns this plugin. */
  start(): this
  /** Stops taking work, lets running callbacks finish, disconnects. */
  shutdown(): Promise<void>
  /** Resolves to true once stopped, false after `timeoutMs`. */
  wait(timeoutMs?: number): Promise<boolean>
  /** After the plugin stopped on its own (reconnection attempts exhausted): why, once. */
  takeError(): string | null
  /** Whether the Socket.IO connection to the Hub is up. */
  readonly connected: boolean
  /** REST connector: the port it listens on. */
  readonly port: number | null
}

export declare class ExportPlugin extends Plugin {
  constructor(options: PluginRunOptions, callback: PluginCallbackFn<ExportResult | [string, Buffer | Uint8Array | string]>)
}
export declare class ModelPlugin extends Plugin {
  constructor(options: PluginRunOptions, callback: PluginCallbackFn<ModelResult>)
}
export declare class BatchModelPlugin extends Plugin {
  constructor(options: PluginRunOptions, callback: PluginCallbackFn)
}
export declare class FileExplorerPlugin extends Plugin {
  constructor(options: PluginRunOptions, callback: PluginCallbackFn)
}
export declare class InputPlugin extends Plugin {
  constructor(options: PluginRunOptions, callback: PluginCallbackFn)
}
export declare class MarkdownPlugin extends Plugin {
  constructor(options: PluginRunOptions, callback: PluginCallbackFn)
}

/**
 * Starts a plugin of `kind` and returns it. With `handleSignals` (default true)
 * SIGINT/SIGTERM drain running work and exit 0.
 */
export declare function runPlugin(
  kind: PluginKind,
  options: PluginRunOptions,
  callback: PluginCallbackFn,
): Plugin

export declare const PLUGIN_KINDS: readonly PluginKind[]
