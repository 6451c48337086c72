// Types of the emulator: the handle's class is generated from the emulator's control
// table (generated/emulator.d.ts); the hub's JSON results, the option objects and
// `startEmulator` are declared here by hand.
import type { Emulator } from './generated/emulator'

export { Emulator } from './generated/emulator'

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
