// The client against misbehaving servers and absurd options (issue 13, binding side).
// Whatever happens, a call resolves or rejects with an `AngoError` carrying a `code`;
// no panic ever aborts the process, no argument overflows the native stack.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'

import { AngoClient, AngoError, convert } from '../ango.mjs'

const SECRET = 'hostile-secret-key-42'
const PAGE = JSON.stringify({ status: 'success', data: { projects: [], total: 0 } })

/** A local server answering every request with `handle`; records each request. */
async function serve(handle) {
  const requests = []
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method, url: req.url, headers: req.headers })
    handle(req, res)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}`
  return {
    url,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(resolve)
      }),
  }
}

const reply = (status, body = '{}', headers = {}) => (req, res) => {
  res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers })
  res.end(body)
}

/** Awaits `promise`: a value or an AngoError with a code is fine, anything else fails. */
async function settles(promise) {
  try {
    return await promise
  } catch (error) {
    assert.ok(error instanceof AngoError, `not an AngoError: ${error}`)
    assert.equal(typeof error.code, 'string')
    return error
  }
}

/** Builds a client with `options`: either it is refused with a coded AngoError, or it works. */
function clientOrError(url, options) {
  try {
    return new AngoClient({ apiKey: SECRET, host: url, maxRetries: 0, ...options })
  } catch (error) {
    assert.ok(error instanceof AngoError, `not an AngoError: ${error}`)
    assert.equal(typeof error.code, 'string')
    return null
  }
}

test('absurd Retry-After headers are a coded error, not a crash', async () => {
  for (const [name, value] of [
    ['retry-after', '1e30'],
    ['retry-after-ms', '1e40'],
    ['retry-after', 'NaN'],
    ['retry-after', '-5'],
  ]) {
    const server = await serve(reply(429, '{"message":"slow down"}', { [name]: value }))
    try {
      const client = new AngoClient({ apiKey: SECRET, host: server.url, maxRetries: 0 })
      const error = await settles(client.listProjects())
      assert.ok(error instanceof AngoError, `${name}: ${value} resolved`)
      if (error.code === 'RATE_LIMITED') assert.equal(error.status, 429)
      else assert.equal(error.code, 'INTERNAL') // a caught panic, before the core fix
    } finally {
      await server.close()
    }
  }
})

test('absurd timeouts, counts and user agents are refused or work, never abort', async () => {
  const server = await serve(reply(200, PAGE))
  try {
    const options = [
      { timeoutMs: 1e25 },
      { timeoutMs: NaN },
      { timeoutMs: -1 },
      { timeoutMs: Infinity },
      { connectTimeoutMs: 1e300 },
      { maxRetries: -1 },
      { maxRetries: 1e20 },
      { concurrency: NaN },
      { concurrency: 2 ** 40 },
      { userAgent: 'evil\r\nx-injected: 1' },
      { userAgent: 'line\nbreak' },
    ]
    for (const option of options) {
      const client = clientOrError(server.url, option)
      if (client) {
        const result = await settles(client.listProjects())
        if (!(result instanceof AngoError)) assert.equal(result.status, 'success')
      }
      const base = new AngoClient({ apiKey: SECRET, host: server.url, maxRetries: 0 })
      try {
        base.withOptions(option)
      } catch (error) {
        assert.ok(error instanceof AngoError && typeof error.code === 'string', String(error))
      }
    }
    const injected = server.requests.filter((r) => 'x-injected' in r.headers)
    assert.deepEqual(injected, [])
    // Negative, fractional and non-finite counts are INVALID_ARGUMENT, not wrapped.
    for (const bad of [{ maxRetries: -1 }, { concurrency: 1.5 }, { maxRetries: NaN }]) {
      assert.throws(() => new AngoClient({ apiKey: SECRET, host: server.url, ...bad }), {
        code: 'INVALID_ARGUMENT',
      })
    }
  } finally {
    await server.close()
  }
})

test('an absurd ANGO_TIMEOUT in the environment is refused or works, never aborts', async () => {
  const server = await serve(reply(200, PAGE))
  const saved = process.env.ANGO_TIMEOUT
  try {
    for (const value of ['1e20', '1e308', 'NaN', '-1']) {
      process.env.ANGO_TIMEOUT = value
      const client = clientOrError(server.url, {})
      if (client) await settles(client.listProjects())
    }
  } finally {
    if (saved === undefined) delete process.env.ANGO_TIMEOUT
    else process.env.ANGO_TIMEOUT = saved
    await server.close()
  }
})

test('huge, negative or fractional page and limit reject before any request', async () => {
  const server = await serve(reply(200, PAGE))
  try {
    const client = new AngoClient({ apiKey: SECRET, host: server.url, maxRetries: 0 })
    const calls = [
      () => client.listProjects({ page: -1, limit: 10 }),
      () => client.listProjects({ page: 1, limit: 1e30 }),
      () => client.listProjects({ page: NaN }),
      () => client.listProjects({ page: 1.5 }),
      () => client.getTasks('p', { page: -1 }),
      () => client.getTasks('p', { limit: Infinity }),
      () => client.getAssets('p', { page: 2 ** 64 }),
      () => client.getAssets('p', { limit: -3 }),
    ]
    for (const call of calls) {
      await assert.rejects(call(), { name: 'AngoError', code: 'INVALID_ARGUMENT' })
    }
    for (const call of [
      () => client.iterProjects({ pageSize: -1 }),
      () => client.iterAssets('p', { pageSize: 1e30 }),
      () => client.iterTasks('p', { pageSize: NaN }),
    ]) {
      assert.throws(call, { code: 'INVALID_ARGUMENT' })
    }
    assert.deepEqual(server.requests, [])
    // The largest exact values still go through.
    await client.listProjects({ page: Number.MAX_SAFE_INTEGER, limit: 1 })
    assert.match(server.requests[0].url, /page=9007199254740991/)
  } finally {
    await server.close()
  }
})

test('circular or absurdly deep JSON arguments are refused, not a stack overflow', async () => {
  const server = await serve(reply(200, PAGE))
  try {
    const client = new AngoClient({ apiKey: SECRET, host: server.url, maxRetries: 0 })
    const loop = { a: 1 }
    loop.self = loop
    const ring = [1, 2]
    ring.push({ back: ring })
    let deep = {}
    for (let i = 0; i < 100000; i++) deep = { deep }
    await assert.rejects(client.makeRequest('POST', '/v2/x', { payload: loop }), { code: 'INVALID_ARGUMENT', message: /circular/ })
    await assert.rejects(client.importLabels('p', ring), { code: 'INVALID_ARGUMENT' })
    await assert.rejects(client.getAssets('p', { filters: loop }), { code: 'INVALID_ARGUMENT' })
    await assert.rejects(client.makeRequest('POST', '/v2/x', { payload: deep }), { code: 'INVALID_ARGUMENT', message: /deep/ })
    assert.throws(() => client.iterAssets('p', { filters: loop }), { code: 'INVALID_ARGUMENT' })
    // Options objects converted natively are refused the same way, not a native stack overflow.
    assert.throws(() => new AngoClient({ apiKey: SECRET, host: server.url, extra: loop }), { code: 'INVALID_ARGUMENT' })
    assert.throws(() => client.withOptions({ deep }), { code: 'INVALID_ARGUMENT', message: /deep/ })
    await assert.rejects(convert([loop], { to: 'coco', ontology: {}, out: 'x.json' }), { code: 'INVALID_ARGUMENT' })
    assert.deepEqual(server.requests, [])
    // A shared (not circular) object is fine.
    const shared = { x: 1 }
    await client.makeRequest('POST', '/v2/x', { payload: { a: shared, b: shared, c: [shared, shared] } })
    assert.equal(server.requests.length, 1)
  } finally {
    await server.close()
  }
})

test('a body that is not JSON is DECODE', async () => {
  const server = await serve(reply(200, '<html>surprise</html>'))
  try {
    const client = new AngoClient({ apiKey: SECRET, host: server.url, maxRetries: 0 })
    await assert.rejects(client.getProject('p'), { code: 'DECODE' })
    await assert.rejects(client.iterProjects().toArray(), { code: 'DECODE' })
  } finally {
    await server.close()
  }
})

test('a redirect to another origin does not carry the key', async () => {
  const elsewhere = await serve(reply(200, PAGE))
  const server = await serve(reply(302, '', { location: `${elsewhere.url}/v2/listProjects` }))
  try {
    const client = new AngoClient({ apiKey: SECRET, host: server.url, maxRetries: 0 })
    await settles(client.listProjects())
    assert.deepEqual(
      elsewhere.requests.filter((r) => Object.values(r.headers).includes(SECRET)),
      [],
    )
  } finally {
    await server.close()
    await elsewhere.close()
  }
})
