// AbortSignal on every call: against misbehaving local servers (one that never answers,
// a 503 asking to wait, a slow page, stalled storage PUTs) an aborted call rejects at
// once with an AngoError coded CANCELLED, and the native work stops: nothing is sent
// after the abort.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { AngoClient, AngoError } from '../ango.mjs'

const LIMIT = { timeout: 30_000 }

/** A server answering with `handler(req, res, requests)`; `requests` lists what came. */
async function serve(handler) {
  const requests = []
  const sockets = new Set()
  const server = createServer((req, res) => {
    requests.push({ method: req.method, url: req.url, closed: false })
    const entry = requests[requests.length - 1]
    req.socket.on('close', () => (entry.closed = true))
    req.resume()
    req.on('end', () => handler(req, res, requests))
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}`
  const stop = () => {
    for (const socket of sockets) socket.destroy()
    return new Promise((resolve) => server.close(resolve))
  }
  return { url, requests, stop }
}

const json = (res, status, body, headers = {}) => {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

/** Resolves once `check()` holds (polled), or fails after 10 s. */
async function until(check, what) {
  for (let i = 0; i < 1000; i++) {
    if (check()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  assert.fail(`timed out waiting for ${what}`)
}

const isCancelled = (err) => err instanceof AngoError && err.code === 'CANCELLED' && err.name === 'AbortError'

test('an aborted signal rejects before anything is sent', LIMIT, async () => {
  const server = await serve((req, res) => json(res, 200, { status: 'success', data: {} }))
  try {
    const client = new AngoClient({ apiKey: 'k', host: server.url, maxRetries: 0 })
    const controller = new AbortController()
    controller.abort()
    await assert.rejects(client.getProject('p1', { signal: controller.signal }), isCancelled)
    await assert.rejects(client.listProjects({ limit: 5, signal: controller.signal }), isCancelled)
    await assert.rejects(client.uploadFiles('p1', [], { signal: controller.signal }), isCancelled)
    await assert.rejects(client.iterProjects({ signal: controller.signal }).toArray(), isCancelled)
    await assert.rejects(client.getProject('p1', { signal: 'nope' }), { code: 'INVALID_ARGUMENT' })
    assert.equal(server.requests.length, 0)
    // Without a signal, or with one that never fires, the call goes through.
    await client.getProject('p1')
    await client.getProject('p1', { signal: new AbortController().signal })
    assert.equal(server.requests.length, 2)
  } finally {
    await server.stop()
  }
})

test('an abort during a request that never answers rejects at once and drops the request', LIMIT, async () => {
  const server = await serve(() => {}) // never answers
  try {
    const client = new AngoClient({ apiKey: 'k', host: server.url, maxRetries: 3, timeoutMs: 600_000 })
    const controller = new AbortController()
    const call = client.getProject('p1', { signal: controller.signal })
    await until(() => server.requests.length === 1, 'the request')
    controller.abort(new Error('user gave up'))
    const err = await call.catch((e) => e)
    assert.ok(isCancelled(err), String(err))
    assert.equal(err.cause.message, 'user gave up')
    // The native side stops waiting for the answer and closes its connection.
    await until(() => server.requests[0].closed, 'the connection to close')
    assert.equal(server.requests.length, 1)
  } finally {
    await server.stop()
  }
})

test('an abort during a Retry-After wait sends no retry', LIMIT, async () => {
  const server = await serve((req, res) => json(res, 503, { status: 'error' }, { 'retry-after': '1' }))
  try {
    const client = new AngoClient({ apiKey: 'k', host: server.url, maxRetries: 5 })
    const controller = new AbortController()
    const call = client.listProjects({ signal: controller.signal })
    await until(() => server.requests.length === 1, 'the first attempt')
    controller.abort()
    await assert.rejects(call, isCancelled)
    // The retry was due after 1 s: wait past it.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    assert.equal(server.requests.length, 1)
  } finally {
    await server.stop()
  }
})

function page(offset, n, total) {
  const tasks = Array.from({ length: n }, (_, i) => ({ _id: `t${offset + i}` }))
  return { status: 'success', data: { tasks, total } }
}

test('aborting an iterator stops it between pages', LIMIT, async () => {
  const server = await serve((req, res) => {
    if (/[?&]page=1(&|$)/.test(req.url)) return json(res, 200, page(0, 1000, 5000))
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1_000_000 })
    res.write('{"status":"success","data":{"tasks":[') // ... and never the rest
  })
  try {
    const client = new AngoClient({ apiKey: 'k', host: server.url, maxRetries: 0, concurrency: 2 })
    const controller = new AbortController()
    const seen = []
    const reading = (async () => {
      for await (const task of client.iterTasks('p1', { pageSize: 100, signal: controller.signal })) seen.push(task._id)
    })()
    await until(() => seen.length === 1000 && server.requests.length >= 2, 'the first page and a slow one')
    controller.abort()
    await assert.rejects(reading, isCancelled)
    assert.equal(seen.length, 1000)
    const sent = server.requests.length
    await until(() => server.requests.every((r) => r.closed || /page=1(&|$)/.test(r.url)), 'the slow pages to be dropped')
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.equal(server.requests.length, sent, 'no page was asked for after the abort')
  } finally {
    await server.stop()
  }
})

test('aborting an upload rejects at once and reports every file', LIMIT, async () => {
  let puts = 0
  const server = await serve((req, res) => {
    const path = req.url.split('?')[0]
    if (req.method === 'GET' && path === '/v2/project/p1') {
      return json(res, 200, { status: 'success', data: { project: { _id: 'p1', type: 'ango' } } })
    }
    if (req.method === 'GET' && path === '/v2/getUploadUrl') {
      const name = new URL(req.url, server.url).searchParams.get('name')
      return json(res, 200, { status: 'success', data: { uploadUrl: `${server.url}/bucket/${name}?sig=1` } })
    }
    if (req.method === 'PUT') {
      puts += 1
      if (puts <= 2) {
        res.writeHead(200, { 'content-length': 0 })
        return res.end()
      }
      return // later PUTs never get an answer
    }
    json(res, 200, { status: 'success', data: {} })
  })
  const dir = mkdtempSync(join(tmpdir(), 'ango-cancel-'))
  const files = Array.from({ length: 6 }, (_, i) => {
    const path = join(dir, `f${i}.txt`)
    writeFileSync(path, `file ${i}`)
    return path
  })
  try {
    const client = new AngoClient({ apiKey: 'k', host: server.url, maxRetries: 0, timeoutMs: 600_000 })
    const controller = new AbortController()
    const upload = client.uploadFiles('p1', files, { concurrency: 2, signal: controller.signal })
    await until(() => puts >= 3, 'a stalled PUT')
    controller.abort()
    const err = await upload.catch((e) => e)
    assert.ok(isCancelled(err), String(err))
    // Once the native work has stopped, the report says what happened to each file.
    const report = await err.report
    assert.equal(report.files.length, files.length)
    assert.deepEqual(
      report.files.map((f) => f.path),
      files,
    )
    for (const file of report.files) {
      assert.equal(file.status.outcome, 'failed', JSON.stringify(file))
      assert.match(file.status.error, /cancelled/)
    }
    assert.equal(report.registration_error, 'operation cancelled')
    assert.ok(!server.requests.some((r) => r.url.endsWith('/cloud')), 'nothing was registered')
    assert.ok(puts <= files.length)
  } finally {
    await server.stop()
  }
})

test('aborting an export stops its download', LIMIT, async () => {
  const server = await serve((req, res) => {
    const path = req.url.split('?')[0]
    if (path === '/v2/export') {
      return json(res, 200, { status: 'success', data: { exportPath: `${server.url}/exports/p1.zip?sig=1` } })
    }
    // The archive: announced, then a trickle that never completes.
    res.writeHead(200, { 'content-type': 'application/zip', 'content-length': 50_000_000 })
    const timer = setInterval(() => res.write(Buffer.alloc(16)), 20)
    res.on('close', () => clearInterval(timer))
  })
  try {
    const client = new AngoClient({ apiKey: 'k', host: server.url, maxRetries: 0, timeoutMs: 600_000 })
    const controller = new AbortController()
    const rows = client.exportRows('p1', { exportFormat: 'ndjson', signal: controller.signal })
    await until(() => server.requests.some((r) => r.url.startsWith('/exports/')), 'the download')
    controller.abort()
    await assert.rejects(rows, isCancelled)
    const download = server.requests.find((r) => r.url.startsWith('/exports/'))
    await until(() => download.closed, 'the download to be dropped')
    assert.equal(server.requests.length, 2)
  } finally {
    await server.stop()
  }
})
