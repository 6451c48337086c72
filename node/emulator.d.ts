// Types of the emulator handle (written by hand: its methods are attached by ango.js
// from the emulator's control table, `ango_emulator::control::METHODS`, whose names,
// parameters and defaults these declarations follow).
/** A running emulator; `stop()` it when done (it also stops when garbage-collected). */
export declare class Emulator {
  /** Base URL, `http://127.0.0.1:PORT`: pass it as the client's `host`. */
  get url(): string
  /** The API key the emulator accepts. */
  get apiKey(): string
  /** The emulated organization's id. */
  get organizationId(): string
  /** The email of the API key's user (an organization admin). */
  get adminEmail(): string
  /**
   * Creates a project with a demo ontology and `tasks` tasks (default 10) in the Label
   * stage; returns its id.
   */
  seedProject(name: string, tasks?: number, options?: { objectsPerTask?: number; completed?: boolean } | null): string
  /**
   * Runs plugin `id` through the hub (as `POST /__emulator/plugins/{id}/run`): sends
   * `data` (a missing `session`, `apiKey`, `orgId`, `runBy`, `configJSON` is filled
   * in) to the plugin, connected over Socket.IO or registered with a REST URL, and
   * resolves to the session once it ends or `waitMs` runs out. Occupies a thread-pool
   * thread while it waits. Rejects with `NOT_FOUND` (404) for an unknown plugin and
   * `INVALID_ARGUMENT` for data that is not an object (400) or a `session` id
   * already used (409).
   */
  runPlugin(id: string, data?: Record<string, any> | null, options?: RunPluginOptions | undefined | null): Promise<PluginSession>
  /** The sessions of plugin `id` (oldest first), with their responses and logs. */
  pluginSessions(id: string): Promise<PluginSession[]>
  /** One session by its id (of any plugin), or `null`. */
  pluginSession(sessionId: string): Promise<PluginSession | null>
  /**
   * Registers (or updates) a plugin. A Socket.IO plugin needs no registration (its
   * first heartbeat registers it with its secret); with `restUrl`, the plugin is one
   * served with the REST connector, which the hub calls with `POST {restUrl}/plugin`.
   */
  registerPlugin(id: string, secret: string, options?: RegisterPluginOptions | undefined | null): Promise<HubPlugin>
  /** The plugins the hub knows, with their connection state. */
  plugins(): Promise<HubPlugin[]>
  /**
   * Resolves once plugin `id` is connected to the hub over Socket.IO (its first
   * heartbeat registers it), so that `runPlugin` reaches it; rejects with `TIMEOUT`
   * after `timeoutMs` (default 10000), or at once when the emulator is stopped.
   */
  waitForPlugin(id: string, options?: WaitForPluginOptions | undefined | null): Promise<HubPlugin>
  /** Requests received so far. */
  get requestCount(): number
  /** Whether the emulator is serving (false once stopped). */
  get running(): boolean
  /** Stops serving and frees the port; ends the waits in progress. Idempotent. */
  stop(): void
}
/** Options of `startEmulator`; every field is optional. */
export interface EmulatorOptions {
  /** TCP port on 127.0.0.1 (default 0: any free port). */
  port?: number
  /** The API key clients must send (default: a random one). */
  apiKey?: string
  /** Latency added to every API request, in milliseconds. */
  latencyMs?: number
  /** Probability (0..=1) that a request is answered 429 or 503. */
  failRate?: number
  /** Probability (0..=1) that a request's connection is dropped. */
  dropRate?: number
  /** Seed of the fault-injection random generator. */
  rngSeed?: number
  /** Create a demo project with an ontology and tasks at start. */
  seedDemo?: boolean
  /** Pooled connection threads. */
  workers?: number
  /** Largest accepted request body, in bytes. */
  maxBodyBytes?: number
  /** Milliseconds allowed to receive a request head. */
  headerTimeoutMs?: number
  /** Milliseconds a keep-alive connection may stay silent. */
  idleTimeoutMs?: number
  /** Open connections beyond which new ones are answered 503. */
  maxConnections?: number
  /** Plugin hub: Engine.IO ping interval, in milliseconds. */
  pluginPingIntervalMs?: number
  /** Plugin hub: milliseconds a plugin has to answer a ping. */
  pluginPingTimeoutMs?: number
}
/** A plugin the emulator's hub knows (type only: the hub's JSON is passed through). */
export interface HubPlugin {
  /** The plugin id. */
  id: string
  /** Whether a Socket.IO connection has joined as this plugin. */
  connected: boolean
  /** The REST connector's base URL, for a plugin registered with one. */
  restUrl?: string | null
  /** When the last `heartbeat` arrived (ISO 8601), if any. */
  lastHeartbeat?: string | null
}
/**
 * One run of a plugin recorded by the emulator's hub (type only: the hub's JSON is
 * passed through, with any field it adds).
 */
export interface PluginSession {
  /** The session id (sent to the plugin as `data.session`). */
  session: string
  /** The plugin that ran. */
  pluginId: string
  /**
   * `pending` (not ended yet), `done`, `error` (an error record, or a failed REST
   * call) or `timeout` (`runPlugin`'s `waitMs` ran out first).
   */
  status: 'pending' | 'done' | 'error' | 'timeout'
  /** The plugin's `response` (for a workflow run: the annotation it sent). */
  response: any
  /** Whether the plugin sent an error record. */
  error: boolean
  /** The error record's message. */
  message?: string | null
  /** Every `response` record the plugin sent for this session. */
  records: any[]
  /** The plugin's log records (`{level, msg, session, ...}`), in arrival order. */
  logs: Array<{ level: string; msg: string; session?: string; [field: string]: any }>
  /** The data sent to the plugin, without `apiKey`. */
  data: Record<string, any>
  /** Whether the run came from a workflow Plugin stage (or `data.workflow`). */
  workflow: boolean
  /** The workflow task, for a workflow run. */
  taskId?: string | null
  /** Whether the request has been sent to the plugin. */
  dispatched: boolean
  /** Whether the plugin acknowledged the `plugin` event. */
  acked: boolean
  /** When the session opened (ISO 8601). */
  createdAt: string
  /** When it ended (ISO 8601). */
  endedAt?: string | null
}
/** Options of `Emulator.runPlugin`. */
export interface RunPluginOptions {
  /**
   * How long to wait for the session to end (default 30000 ms, at most one hour);
   * past it the session is marked `timeout`. `0` returns at once with the session
   * `pending`.
   */
  waitMs?: number
}
/** Options of `Emulator.registerPlugin`. */
export interface RegisterPluginOptions {
  /**
   * The base URL of a plugin served with the REST connector: the hub then calls
   * `POST {restUrl}/plugin` with the `Secret` header.
   */
  restUrl?: string
}
/** Options of `Emulator.waitForPlugin`. */
export interface WaitForPluginOptions {
  /** How long to wait for the plugin (default 10000 ms). */
  timeoutMs?: number
}
/** Starts an emulator on 127.0.0.1; resolves once it accepts connections. */
export declare function startEmulator(options?: EmulatorOptions | undefined | null): Promise<Emulator>
