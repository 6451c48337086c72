// The plugin runtime from Node, over the REST connector (the Socket.IO connector is
// the same Rust runtime, tested frame by frame in crates/ango-plugins/tests).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'

import { runPlugin, ModelPlugin, AngoError, startEmulator, PLUGIN_KINDS } from '../ango.mjs'

/** A recording API: every request is kept; every answer is a success. */
async function recordingApi() {
  const requests = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => (body += chunk))
    req.on('end', () => {
      requests.push({ method: req.method, path: req.url, headers: req.headers, body: body ? JSON.parse(body) : null })
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ status: 'success', data: {} }))
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${server.address().port}`, requests, close: () => server.close() }
}

function options(apiHost, extra = {}) {
  return {
    id: 'PID',
    secret: 's3cret',
    connector: 'REST',
    port: 0,
    bindAddress: '127.0.0.1',
    apiHost,
    echoLogs: false,
    useEnv: false,
    handleSignals: false,
    ...extra,
  }
}

async function post(plugin, body, secret = 's3cret') {
  const headers = { 'content-type': 'application/json' }
  if (secret !== null) headers.Secret = secret
  const response = await fetch(`http://127.0.0.1:${plugin.port}/plugin`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  })
  return { status: response.status, body: await response.json() }
}

const request = (session) => ({ session, apiKey: 'user-key', orgId: 'o1', runBy: 'u1', configJSON: '{}' })

test('an async callback answers, logs reach pluginLog, errors end the session with a record', async () => {
  const api = await recordingApi()
  const plugin = runPlugin('batchModel', options(api.url), async (data) => {
    if (data.session === 'raise') throw new Error('boom')
    if (data.session === 'none') return undefined
    data.logger.info('working', { step: 1 })
    data.logger.debug('not at INFO')
    await new Promise((resolve) => setTimeout(resolve, 20))
    return { batches: data.batches, hasLogger: typeof data.logger.info === 'function' }
  })
  try {
    assert.equal(typeof plugin.port, 'number')
    assert.deepEqual(await post(plugin, request('s1'), null), { status: 401, body: { detail: 'Unauthorized' } })
    assert.deepEqual(await post(plugin, request('s1')), {
      status: 200,
      body: { response: { batches: [], hasLogger: true }, session: 's1' },
    })
    await new Promise((resolve) => setTimeout(resolve, 200)) // logs are sent off the event loop
    const logs = api.requests.filter((r) => r.path === '/v2/pluginLog')
    assert.equal(logs.length, 1)
    assert.equal(logs[0].headers.apikey, 'user-key')
    assert.deepEqual(logs[0].body, {
      step: 1, level: 'INFO', organization: 'o1', pluginId: 'PID', runBy: 'u1', session: 's1', msg: 'working',
    })

    assert.deepEqual(await post(plugin, request('raise')), { status: 500, body: { detail: 'boom' } })
    const record = api.requests.filter((r) => r.path === '/v2/pluginResponse').at(-1)
    assert.deepEqual(record.body, { error: true, message: 'boom', session: 'raise' })

    const none = await post(plugin, request('none'))
    assert.equal(none.status, 500)
    const last = api.requests.filter((r) => r.path === '/v2/pluginResponse').at(-1)
    assert.equal(last.body.session, 'none')
    assert.equal(last.body.error, true)
  } finally {
    await plugin.shutdown()
    assert.equal(await plugin.wait(1000), true)
    api.close()
  }
})

test('a model plugin class answers with the Answer of its payload', async () => {
  const api = await recordingApi()
  const plugin = new ModelPlugin(options(api.url, { concurrency: 2 }), (data) => ({
    answer: { objects: [{ objectId: data.taskId }] },
  })).start()
  try {
    assert.deepEqual(await post(plugin, { ...request('m1'), taskId: 't1' }), {
      status: 200,
      body: { response: { objects: [{ objectId: 't1' }], classifications: [], relations: [] }, session: 'm1' },
    })
  } finally {
    await plugin.shutdown()
    api.close()
  }
})

test('results are read by the runtime per kind: typed-array brushes, refused binary data', async () => {
  const api = await recordingApi()
  const model = new ModelPlugin(options(api.url), (data) => {
    if (data.session === 'short') return { answer: {}, brushData: { shape: [2, 2], data: new Uint8Array(3) } }
    return { answer: { objects: [1] }, brushData: { shape: [1, 2], data: Float32Array.from([0, 1]) } }
  }).start()
  const batch = runPlugin('batchModel', options(api.url), () => ({ blob: Buffer.from('x') }))
  try {
    assert.deepEqual(await post(model, request('brush')), {
      status: 200,
      body: { response: { objects: [1], classifications: [], relations: [] }, session: 'brush' },
    })
    const short = await post(model, request('short'))
    assert.equal(short.status, 500)
    assert.match(short.body.detail, /brush array of shape \[2, 2\] needs 4 values, got 3/)
    const binary = await post(batch, request('b1'))
    assert.equal(binary.status, 500)
    assert.match(binary.body.detail, /BatchModelPlugin returned binary data/)
    assert.ok(PLUGIN_KINDS.includes('fileExplorer') && Object.isFrozen(PLUGIN_KINDS))
  } finally {
    await model.shutdown()
    await batch.shutdown()
    api.close()
  }
})

test('an export plugin streams rows and uploads the returned file', async () => {
  const emulator = await startEmulator()
  const project = emulator.seedProject('plugin export', 3)
  let seen = null
  const plugin = runPlugin('export', options(emulator.url), async (data) => {
    const rows = []
    for await (const row of data.jsonExport) rows.push(row)
    seen = { numTasks: data.numTasks, rows: rows.length, hasBatches: 'batches' in data }
    return { file: Buffer.from(`rows=${rows.length}`), fileName: 'out.json' }
  })
  try {
    const answer = await post(plugin, { ...request('e1'), apiKey: emulator.apiKey, projectId: project, stage: ['Label'] })
    assert.deepEqual(answer, { status: 200, body: null })
    assert.equal(seen.numTasks, seen.rows)
    assert.equal(seen.rows, 3)
    assert.equal(seen.hasBatches, false)
    const response = await fetch(`${emulator.url}/__emulator/requests?limit=20`, { headers: { apikey: emulator.apiKey } })
    const paths = (await response.json()).data.recent.map((r) => `${r.method} ${r.path}`)
    assert.ok(paths.includes('POST /v2/pluginResponse'), paths.join('\n'))
    assert.ok(paths.some((p) => p.startsWith('PUT ')), paths.join('\n'))
  } finally {
    await plugin.shutdown()
    emulator.stop()
  }
})

test('bad options are refused as AngoErrors before anything starts', () => {
  assert.throws(
    () => runPlugin('batchModel', options('http://127.0.0.1:9', { overflow: 'sometimes' }), () => 1),
    (err) => err instanceof AngoError && err.code === 'INVALID_ARGUMENT',
  )
  assert.throws(() => runPlugin('nope', options('http://127.0.0.1:9'), () => 1), TypeError)
})

test('a plugin that cannot reach its hub stops after its reconnection attempts', async () => {
  const plugin = runPlugin(
    'batchModel',
    {
      id: 'PID', secret: 's', host: 'http://127.0.0.1:9', echoLogs: false, useEnv: false,
      handleSignals: false, connector: 'WS', reconnectInitialDelayMs: 10, reconnectMaxAttempts: 1,
      connectTimeoutMs: 2000,
    },
    () => 1,
  )
  assert.equal(await plugin.wait(10000), true)
  assert.match(plugin.takeError(), /1 attempts/)
  assert.equal(plugin.connected, false)
})
