'use strict'
// The package entry: the generated native binding (index.js) made into the `Client`
// users hold. Glue only: the methods of ango-core's table are attached by name from
// `methods()` (required arguments positional, then `{ ...options, signal }`), arguments
// go to the native side as JSON text and results come back as JSON text, errors coded
// by the Rust side become `AngoError`s, an `AbortSignal` cancels any call, and row
// streams are async iterables. No API logic lives here.

const native = require('./index.js')

const MARKER = native.ERROR_MARKER

// napi's own argument-conversion failures (a string where a number belongs, ...).
const NAPI_ARGUMENT_CODES = new Set(['InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected',
  'FunctionExpected', 'NumberExpected', 'BooleanExpected', 'ArrayExpected', 'BigintExpected', 'DateExpected'])

/** An error from Ango Hub or from the SDK: `code` says which kind. */
class AngoError extends Error {
  constructor(info) {
    super(info.message)
    // A cancelled call is an AbortError, as `fetch` rejects on an aborted signal.
    this.name = info.code === 'CANCELLED' ? 'AbortError' : 'AngoError'
    this.code = info.code
    for (const key of ['status', 'body', 'retryAfterMs', 'cause']) if (info[key] !== undefined) this[key] = info[key]
  }
}

function convertError(err) {
  if (err instanceof AngoError || !err || typeof err.message !== 'string') return err
  if (err.message.startsWith(MARKER)) {
    // napi appends where a nested argument failed (" on TaskFilter.createdAt").
    const end = err.message.lastIndexOf('}') + 1
    try {
      const info = JSON.parse(err.message.slice(MARKER.length, end))
      const where = err.message.slice(end).trim()
      if (where) info.message = `${info.message} (${where})`
      return new AngoError(info)
    } catch {
      return err
    }
  }
  if (NAPI_ARGUMENT_CODES.has(err.code)) return new AngoError({ code: 'INVALID_ARGUMENT', message: err.message })
  // An uncoded napi failure: a panic caught at an entry point (`catch_unwind`), or
  // another failure inside the binding. Either way a bug, reported as one.
  if (err.code === 'GenericFailure') {
    return new AngoError({ code: 'INTERNAL', message: `internal error in the Ango SDK: ${err.message}` })
  }
  return err
}

function rethrow(err) {
  throw convertError(err)
}

const invalid = (message) => new AngoError({ code: 'INVALID_ARGUMENT', message })

/** `JSON.stringify(value)`, a circular or absurdly deep value refused as an argument
 * error; with `finite`, so are numbers JSON cannot carry (rather than sent as `null`). */
function toJson(value, what, finite = true) {
  try {
    return JSON.stringify(value === undefined ? null : value, (key, v) => {
      if (finite && typeof v === 'number' && !Number.isFinite(v)) {
        throw invalid(`${key ? `${key}: ` : ''}${v} is not a number JSON can carry`)
      }
      return v
    })
  } catch (err) {
    const why = err instanceof RangeError ? 'an argument is nested too deeply' : err.message
    throw invalid(`${what}: ${why}`)
  }
}

/** A result's JSON text as a value. */
function fromJson(text) {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new AngoError({ code: 'DECODE', message: `could not decode the response: ${err.message}` })
  }
}

function options(value, what) {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`${what}: expected an options object`)
  return value
}

/** A call's arguments keyed by name: `list` holds the positional ones (`positional`,
 * each with `name`), then an options object merged in. */
function namedArgs(name, positional, list, key = (p) => p.name) {
  if (list.length > positional.length + 1) {
    throw invalid(`${name}() takes ${positional.length} argument(s) and an options object, got ${list.length}`)
  }
  const values = {}
  positional.forEach((p, i) => { if (list[i] !== undefined) values[key(p)] = list[i] })
  return Object.assign(values, options(list[positional.length], `${name}() options`))
}

function checkSignal(signal) {
  if (signal === undefined || signal === null) return null
  if (typeof signal !== 'object' || typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function') {
    throw invalid('signal must be an AbortSignal')
  }
  return signal
}

const cancelled = (signal) =>
  new AngoError({ code: 'CANCELLED', message: 'operation cancelled', cause: signal && signal.reason })

/** A native token cancelled when `signal` fires (already cancelled if it has), and
 * `detach()` to stop listening; `{ token: null }` without a signal. */
function tokenFor(signal) {
  if (!signal) return { token: null, detach() {} }
  const token = new native.CancelToken()
  if (signal.aborted) {
    token.cancel()
    return { token, detach() {} }
  }
  const onAbort = () => token.cancel()
  signal.addEventListener('abort', onAbort, { once: true })
  return { token, detach: () => signal.removeEventListener('abort', onAbort) }
}

/** `work`, rejected with `CANCELLED` as soon as `signal` fires (the native work stops
 * at its next checkpoint; its late outcome is dropped). */
function abortable(signal, work) {
  work = work.catch(rethrow)
  if (!signal) return work
  work.catch(() => {})
  if (signal.aborted) return Promise.reject(cancelled(signal))
  let onAbort
  const aborted = new Promise((_, reject) => {
    onAbort = () => reject(cancelled(signal))
    signal.addEventListener('abort', onAbort, { once: true })
  })
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort))
}

/** Runs `start(token)`, a native call returning a Promise, under `signal`, and
 * resolves to `keep(result, signal, detach)` (by default the result, the token done
 * with). Never throws: an argument refused before the call started rejects too. */
function run(signal, start, keep = (out, _signal, detach) => (detach(), out)) {
  let detach = () => {}
  try {
    signal = checkSignal(signal)
    if (signal && signal.aborted) return Promise.reject(cancelled(signal))
    const bound = tokenFor(signal)
    detach = bound.detach
    return abortable(signal, start(bound.token)).then((out) => keep(out, signal, detach), (err) => {
      detach()
      throw err
    })
  } catch (err) {
    detach()
    return Promise.reject(convertError(err))
  }
}

/** `fn()`, a Promise; what it throws (refused options) becomes a rejection. */
function safely(fn) {
  try {
    return fn()
  } catch (err) {
    return Promise.reject(convertError(err))
  }
}

const NATIVE = Symbol('native')
const SIGNAL = Symbol('signal')
const DETACH = Symbol('detach')

/** JSON text as a value, or a row stream that keeps the call's token (cancelled when
 * the signal fires while it is read). */
function streamed(out, signal, detach) {
  if (typeof out === 'string') {
    detach()
    return fromJson(out)
  }
  out[SIGNAL] = signal
  out[DETACH] = detach
  return out
}

// `for await (const row of stream)`: rows are fetched in batches on the thread pool;
// leaving the loop early (or aborting its signal) closes the stream.
native.RowStream.prototype[Symbol.asyncIterator] = function () {
  const rows = this
  let batch = []
  let index = 0
  let finished = false
  const finish = () => {
    finished = true
    batch = []
    rows.close()
    if (rows[DETACH]) rows[DETACH]()
  }
  return {
    async next() {
      while (index >= batch.length) {
        if (finished) return { done: true, value: undefined }
        try {
          batch = await abortable(rows[SIGNAL], rows.nextBatch())
        } catch (err) {
          finish()
          throw err
        }
        index = 0
        if (batch.length === 0) finish()
      }
      return { done: false, value: batch[index++] }
    },
    async return() {
      finish()
      return { done: true, value: undefined }
    },
    [Symbol.asyncIterator]() {
      return this
    },
  }
}

/** Reads a whole stream into an array (for small results). */
native.RowStream.prototype.toArray = async function () {
  const rows = []
  for await (const row of this) rows.push(row)
  return rows
}

/** An Ango Hub client: every method of ango-core's table, plus listings as streams,
 * uploads with progress and exports. Every Promise method takes `{ signal }`. */
class Client {
  constructor(options) {
    try {
      this[NATIVE] = options instanceof native.AngoClient ? options : new native.AngoClient(toJson(options, 'client options'))
    } catch (err) {
      rethrow(err)
    }
  }

  /** The API host in use, without a trailing slash. */
  get host() {
    return this[NATIVE].host
  }

  /** A client sharing this one's connections and key, with some settings changed. */
  withOptions(changes) {
    try {
      return new Client(this[NATIVE].withOptions(toJson(changes, 'client options')))
    } catch (err) {
      rethrow(err)
    }
  }

  /** Uploads local files in parallel and registers them; resolves to the upload report.
   * Aborted, it rejects at once with `CANCELLED`; the error's `report` then resolves to
   * each file's outcome once the native work has stopped (files not started are
   * `failed`, nothing is registered after the abort). */
  uploadFiles(projectId, files, opts) {
    return safely(() => {
      const { signal, onProgress, ...rest } = options(opts, 'uploadFiles')
      let work = null
      const start = (token) =>
        (work = this[NATIVE].uploadFiles(projectId, toJson(files, 'files'), toJson(rest, 'options'), onProgress, token))
      return run(signal, start).then(fromJson, (err) => {
        if (err.code === 'CANCELLED' && work) {
          err.report = work.then(fromJson, rethrow)
          err.report.catch(() => {})
        }
        throw err
      })
    })
  }

  /** Exports a project: the parsed export (JSON format), a row stream (NDJSON), or
   * `null` after saving the archive to `zipFilePath`. */
  exportV3(projectId, opts) {
    return this.#export('v3', projectId, opts, 'exportV3').then((out) => (typeof out === 'number' ? null : out))
  }

  /** The same as `exportV3`. */
  export(projectId, opts) {
    return this.exportV3(projectId, opts)
  }

  /** Exports a project as a stream of rows, in either format. */
  exportRows(projectId, opts) {
    return this.#export('rows', projectId, opts, 'exportRows')
  }

  /** Asks for an export; resolves to the archive's signed URL. */
  requestExport(projectId, opts) {
    return this.#export('url', projectId, opts, 'requestExport')
  }

  /** Exports a project's archive (zip) to `path`; resolves to its size in bytes. */
  exportToFile(projectId, path, opts) {
    if (typeof path !== 'string' || path === '') return Promise.reject(invalid('exportToFile(): path must be a file path'))
    return this.#export('v3', projectId, { ...options(opts, 'exportToFile'), zipFilePath: path }, 'exportToFile')
  }

  /** One native export (`target`: `v3`, `rows` or `url`): the parsed JSON, or a row stream. */
  #export(target, projectId, opts, name) {
    return safely(() => {
      const { signal, zipFilePath, ...rest } = options(opts, name)
      const start = (token) => this[NATIVE].export(projectId, toJson(rest, 'options'), target, zipFilePath, token)
      return run(signal, start, streamed)
    })
  }

  /** Encodes a brush mask (`shape` `[h, w]`, `[h, w, 3]`, `[h, w, 4]`, or with
   * `medical` a `[z, y, x]` volume; `values` row by row), uploads it and resolves to
   * its URL for `brushDataUrl` / `medicalBrushDataUrl`. */
  uploadBrushArray(projectId, shape, values, opts) {
    return safely(() => {
      const { signal, medical = false } = options(opts, 'uploadBrushArray')
      return run(signal, (token) => this[NATIVE].uploadBrushArray(projectId, shape, values, medical, token)).then(fromJson)
    })
  }
}

// The table's methods: `name(required..., { ...optional, signal })`.
for (const method of JSON.parse(native.methods())) {
  const required = method.params.filter((p) => p.default === null)
  const fn = function (...args) {
    return safely(() => {
      const { signal, ...values } = namedArgs(method.node_name, required, args)
      return run(signal, (token) => this[NATIVE].call(method.name, toJson(values, 'arguments'), token)).then(fromJson)
    })
  }
  Object.defineProperty(fn, 'name', { value: method.node_name })
  Object.defineProperty(Client.prototype, method.node_name, { value: fn, writable: true, configurable: true })
}

// The listings: `iterTasks(projectId, { ...options, signal })`, ...: a row stream at once.
for (const listing of JSON.parse(native.listings())) {
  const required = listing.params.filter((p) => p.default === null)
  const fn = function (...args) {
    let detach = () => {}
    try {
      const { signal, project_id: projectId = null, ...rest } = namedArgs(listing.node_name, required, args)
      const checked = checkSignal(signal)
      const bound = tokenFor(checked)
      detach = bound.detach
      const kind = listing.name.slice('iter_'.length)
      return streamed(this[NATIVE].iter(kind, projectId, toJson(rest, 'options'), bound.token), checked, detach)
    } catch (err) {
      detach()
      rethrow(err)
    }
  }
  Object.defineProperty(Client.prototype, listing.node_name, { value: fn, writable: true, configurable: true })
}

// Errors of the other native classes become `AngoError`s too. A Promise-returning
// function rejects, never throws. Their object arguments are converted by napi
// recursively: a circular or absurdly deep one would overflow the native stack, so it
// is refused first, as `JSON.stringify` refuses it (other values are the callee's to check).
function withErrors(fn, returnsPromise) {
  return function (...args) {
    let result
    try {
      for (const arg of args) if (arg !== null && typeof arg === 'object') toJson(arg, 'an argument', false)
      result = fn.apply(this, args)
    } catch (err) {
      if (returnsPromise) return Promise.reject(convertError(err))
      rethrow(err)
    }
    return result && typeof result.then === 'function' ? result.catch(rethrow) : result
  }
}

function wrapMethods(proto, isAsync) {
  for (const name of Object.getOwnPropertyNames(proto)) {
    const desc = Object.getOwnPropertyDescriptor(proto, name)
    if (name !== 'constructor' && typeof desc.value === 'function') {
      Object.defineProperty(proto, name, { ...desc, value: withErrors(desc.value, isAsync(name)) })
    }
  }
}

wrapMethods(native.RowStream.prototype, (name) => name === 'nextBatch')
const nextBatchText = native.RowStream.prototype.nextBatch
/** Up to `max` next rows (default 256); `[]` once the stream is over. */
native.RowStream.prototype.nextBatch = function (max) {
  return nextBatchText.call(this, max).then(fromJson)
}

// The emulator handle's properties and methods, from its control table
// (`ango_emulator::control`): `name(positional..., { ...options })`; a `blocking` one
// returns a Promise and runs on the thread pool.
for (const method of JSON.parse(native.Emulator.methods())) {
  const positional = method.params.filter((p) => p.node_positional)
  const args = (list) => toJson(namedArgs(method.node_name, positional, list, (p) => p.node_name), `${method.node_name}()`)
  const blocking = method.style === 'blocking'
  const fn = withErrors(function (...list) {
    return blocking ? this.call(method.name, args(list)).then(fromJson) : fromJson(this.callSync(method.name, args(list)))
  }, blocking)
  const desc = method.style === 'property' ? { get: fn } : { value: Object.defineProperty(fn, 'name', { value: method.node_name }), writable: true }
  Object.defineProperty(native.Emulator.prototype, method.node_name, { ...desc, configurable: true })
}

const plugins = require('./plugins.js')
wrapMethods(plugins.Plugin.prototype, (name) => name === 'shutdown' || name === 'wait')

// The format converters, Promise-returning and abortable like the client's methods.
const formats = {}
for (const [name, fn] of Object.entries(require('./formats.js'))) {
  formats[name] = function (...args) {
    const last = args[args.length - 1]
    const signal = last && typeof last === 'object' && !Array.isArray(last) ? last.signal : undefined
    const context = (token) => ({ token, nativeOf: (client) => client[NATIVE], json: (value) => toJson(value, name) })
    return run(signal, (token) => fn.apply(context(token), args)).then(fromJson)
  }
}

module.exports = {
  Client,
  AngoClient: Client,
  AngoError,
  RowStream: native.RowStream,
  Emulator: native.Emulator,
  startEmulator: withErrors(native.startEmulator, true),
  ...plugins,
  formats,
  ...formats,
}
