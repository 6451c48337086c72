'use strict'
// The package entry: the generated native binding (index.js) plus what napi cannot
// express. Errors coded by the Rust side become `AngoError`s with `code`, `status`
// and `body`, and row streams become async iterables. No API logic lives here.

const native = require('./index.js')

const MARKER = native.ERROR_MARKER

// napi's own argument-conversion failures (a string where a number belongs, ...).
const NAPI_ARGUMENT_CODES = new Set([
  'InvalidArg',
  'ObjectExpected',
  'StringExpected',
  'NameExpected',
  'FunctionExpected',
  'NumberExpected',
  'BooleanExpected',
  'ArrayExpected',
  'BigintExpected',
  'DateExpected',
])

/** An error from Ango Hub or from the SDK: `code` says which kind. */
class AngoError extends Error {
  constructor(info) {
    super(info.message)
    this.name = 'AngoError'
    this.code = info.code
    if (info.status !== undefined) this.status = info.status
    if (info.body !== undefined) this.body = info.body
    if (info.retryAfterMs !== undefined) this.retryAfterMs = info.retryAfterMs
  }
}

function convertError(err) {
  if (err && typeof err.message === 'string') {
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
    if (NAPI_ARGUMENT_CODES.has(err.code)) {
      return new AngoError({ code: 'INVALID_ARGUMENT', message: err.message })
    }
    // An uncoded napi failure: a panic caught at an entry point (`catch_unwind`), or
    // another failure inside the binding. Either way a bug, reported as one.
    if (err.code === 'GenericFailure') {
      return new AngoError({ code: 'INTERNAL', message: `internal error in the Ango SDK: ${err.message}` })
    }
  }
  return err
}

// The native side converts JSON arguments recursively: a circular or absurdly deep
// object would overflow its stack and abort the process, so such arguments are refused
// here first, as `JSON.stringify` refuses them.
const MAX_DEPTH = 512

function checkJson(value, depth, ancestors) {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return
  if (ancestors.has(value)) {
    throw new AngoError({ code: 'INVALID_ARGUMENT', message: 'an argument contains itself (a circular structure)' })
  }
  if (depth >= MAX_DEPTH) {
    throw new AngoError({ code: 'INVALID_ARGUMENT', message: `an argument is nested more than ${MAX_DEPTH} levels deep` })
  }
  ancestors.add(value)
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) checkJson(value[i], depth + 1, ancestors)
  } else {
    for (const key in value) checkJson(value[key], depth + 1, ancestors)
  }
  ancestors.delete(value)
}

function checkArgs(args) {
  const ancestors = new Set()
  for (const arg of args) checkJson(arg, 0, ancestors)
}

function rethrow(err) {
  throw convertError(err)
}

// Wraps a native function so that its errors are converted. A Promise-returning
// function rejects, never throws: an argument refused before the call started (which
// napi throws synchronously) rejects its Promise too.
function withErrors(fn, returnsPromise) {
  return function (...args) {
    let result
    try {
      checkArgs(args)
      result = fn.apply(this, args)
    } catch (err) {
      if (returnsPromise) return Promise.reject(convertError(err))
      rethrow(err)
    }
    return result && typeof result.then === 'function' ? result.catch(rethrow) : result
  }
}

// `isAsync(name)` tells which methods return Promises (per the generated index.d.ts).
function wrapMethods(proto, isAsync) {
  for (const name of Object.getOwnPropertyNames(proto)) {
    const desc = Object.getOwnPropertyDescriptor(proto, name)
    if (name !== 'constructor' && typeof desc.value === 'function') {
      Object.defineProperty(proto, name, { ...desc, value: withErrors(desc.value, isAsync(name)) })
    }
  }
}

// On the client only `iter*` (a RowStream) and `withOptions` (a client) are synchronous.
wrapMethods(native.AngoClient.prototype, (name) => !name.startsWith('iter') && name !== 'withOptions')
wrapMethods(native.RowStream.prototype, (name) => name === 'nextBatch')
// The emulator's plugin-hub calls return Promises; `seedProject` and `stop` do not.
const EMULATOR_ASYNC = new Set(['runPlugin', 'pluginSessions', 'pluginSession', 'registerPlugin', 'plugins', 'waitForPlugin'])
wrapMethods(native.Emulator.prototype, (name) => EMULATOR_ASYNC.has(name))

const plugins = require('./plugins.js')
wrapMethods(plugins.Plugin.prototype, (name) => name === 'shutdown' || name === 'wait')

// `for await (const row of stream)`: rows are fetched in batches on the thread pool;
// leaving the loop early closes the stream.
native.RowStream.prototype[Symbol.asyncIterator] = function () {
  const stream = this
  let batch = []
  let index = 0
  let finished = false
  return {
    async next() {
      while (index >= batch.length) {
        if (finished) return { done: true, value: undefined }
        batch = await stream.nextBatch()
        index = 0
        if (batch.length === 0) finished = true
      }
      return { done: false, value: batch[index++] }
    },
    async return() {
      finished = true
      batch = []
      stream.close()
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

class AngoClient extends native.AngoClient {
  constructor(options) {
    try {
      super(options)
    } catch (err) {
      rethrow(err)
    }
  }
}

// The format converters, Promise-returning like the client's methods.
const formats = {}
for (const [name, fn] of Object.entries(require('./formats.js'))) formats[name] = withErrors(fn, true)

module.exports = {
  AngoClient,
  AngoError,
  RowStream: native.RowStream,
  Emulator: native.Emulator,
  startEmulator: withErrors(native.startEmulator, true),
  ...plugins,
  formats,
  ...formats,
}
