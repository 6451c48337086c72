'use strict'
// The Ango Hub plugin runtime for Node: the Rust runtime (ango-plugins) runs the
// Socket.IO or REST connector and a bounded worker pool; this file only turns each
// request into the `data` object of the official runtime (with `logger` and, for
// Export, `jsonExport`), awaits the user's callback and hands its result back.

const native = require('./index.js')

const KINDS = Object.freeze(native.pluginKinds())

// Options as JSON text; a circular or absurdly deep object is an argument error (napi
// would recurse into it on the native stack).
function optionsJson(options) {
  try {
    return JSON.stringify(options)
  } catch (err) {
    throw Object.assign(new TypeError(`plugin options: ${err.message}`), { code: 'InvalidArg' })
  }
}

function makeLogger(plugin, token) {
  const send = (level, message, fields) => {
    const text = typeof message === 'string' ? message : String(message)
    let json
    if (fields !== undefined && fields !== null) {
      try {
        json = JSON.stringify(fields)
      } catch {
        json = undefined
      }
    }
    plugin.log(token, level, text, json)
  }
  return {
    debug: (message, fields) => send('DEBUG', message, fields),
    info: (message, fields) => send('INFO', message, fields),
    warn: (message, fields) => send('WARNING', message, fields),
    warning: (message, fields) => send('WARNING', message, fields),
    error: (message, fields) => send('ERROR', message, fields),
    critical: (message, fields) => send('CRITICAL', message, fields),
    /** `level` is a name (`'INFO'`) or a number (Python's 10..50, or any other). */
    log: (level, message, fields) => send(String(level), message, fields),
    isEnabledFor: (level) => plugin.logEnabled(token, String(level)),
  }
}

// Export rows as an async iterable (read in batches from the downloaded archive).
function exportRows(plugin, token) {
  return {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const batch = plugin.exportNext(token, 256)
        if (!batch) return
        for (const line of batch) yield JSON.parse(line)
      }
    },
  }
}

// The callback's result as JSON text for the runtime, which reads it per kind: its first
// Buffer, Uint8Array or ArrayBuffer travels as bytes (`null` in the JSON), other typed
// arrays as lists of numbers.
function toOutcome(result) {
  let file
  const valueJson = JSON.stringify(result, function (key, value) {
    const raw = this[key]
    if (file === undefined && (raw instanceof Uint8Array || raw instanceof ArrayBuffer)) {
      file = raw instanceof ArrayBuffer ? Buffer.from(raw) : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
      return null
    }
    return ArrayBuffer.isView(raw) ? Array.from(raw) : value
  })
  return { valueJson, file }
}

function messageOf(err) {
  if (err instanceof Error) return err.message || String(err)
  return String(err)
}

/** A plugin: `start()` connects it (or serves it over REST) and returns it. */
class Plugin {
  constructor(kind, options, callback) {
    if (!KINDS.includes(kind)) {
      throw new TypeError(`unknown plugin kind ${JSON.stringify(kind)} (one of ${KINDS.join(', ')})`)
    }
    if (typeof callback !== 'function') throw new TypeError('the callback must be a function')
    this.kind = kind
    this.options = { ...options }
    this.callback = callback
    this._native = null
  }

  _dispatch(token, requestJson) {
    const plugin = this._native
    let data
    try {
      data = JSON.parse(requestJson)
    } catch (err) {
      plugin.complete(token, { error: `undecodable request: ${messageOf(err)}` })
      return
    }
    data.logger = makeLogger(plugin, token)
    if (this.kind === 'export') data.jsonExport = exportRows(plugin, token)
    Promise.resolve()
      .then(() => this.callback(data))
      .then(
        (result) => plugin.complete(token, toOutcome(result)),
        (err) => plugin.complete(token, { error: messageOf(err) }),
      )
      .catch((err) => plugin.complete(token, { error: messageOf(err) }))
  }

  /** Connects (WS) or starts serving (REST); returns this plugin. */
  start() {
    if (this._native) return this
    const { handleSignals, ...options } = this.options
    this._native = native.startPlugin(this.kind, optionsJson(options), (token, json) => this._dispatch(token, json))
    if (handleSignals) {
      const stop = () => {
        this.shutdown().then(() => process.exit(0))
      }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    }
    return this
  }

  /** Stops taking work, lets running callbacks finish, disconnects. */
  async shutdown() {
    if (this._native) await this._native.shutdown()
  }

  /** Resolves to true once stopped, false after `timeoutMs`. */
  wait(timeoutMs = 2 ** 31) {
    return this._native ? this._native.wait(timeoutMs) : Promise.resolve(true)
  }

  /** After the plugin stopped on its own (reconnection attempts exhausted): why, once. */
  takeError() {
    return this._native ? this._native.takeError() : null
  }

  /** Whether the Socket.IO connection to the Hub is up. */
  get connected() {
    return this._native ? this._native.isConnected() : false
  }

  /** REST connector: the port it listens on. */
  get port() {
    const port = this._native ? this._native.port() : null
    return port === null || port === undefined ? null : port
  }
}

class ExportPlugin extends Plugin {
  constructor(options, callback) {
    super('export', options, callback)
  }
}
class ModelPlugin extends Plugin {
  constructor(options, callback) {
    super('model', options, callback)
  }
}
class BatchModelPlugin extends Plugin {
  constructor(options, callback) {
    super('batchModel', options, callback)
  }
}
class FileExplorerPlugin extends Plugin {
  constructor(options, callback) {
    super('fileExplorer', options, callback)
  }
}
class InputPlugin extends Plugin {
  constructor(options, callback) {
    super('input', options, callback)
  }
}
class MarkdownPlugin extends Plugin {
  constructor(options, callback) {
    super('markdown', options, callback)
  }
}

/**
 * Starts a plugin of `kind` and returns it; `callback(data)` may be async. With
 * `handleSignals` (default true) SIGINT/SIGTERM drain running work and exit 0.
 */
function runPlugin(kind, options, callback) {
  return new Plugin(kind, { handleSignals: true, ...options }, callback).start()
}

module.exports = {
  Plugin,
  ExportPlugin,
  ModelPlugin,
  BatchModelPlugin,
  FileExplorerPlugin,
  InputPlugin,
  MarkdownPlugin,
  runPlugin,
  PLUGIN_KINDS: KINDS,
}
