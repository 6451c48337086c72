// A Node plugin over the Socket.IO connector, against the embedded emulator's plugin
// hub: `emulator.runPlugin` reaches it, sessions record responses, error records and
// logs, and a workflow Plugin stage sends it tasks that its annotation moves on.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'

import { AngoClient, AngoError, runPlugin, startEmulator } from '../ango.mjs'

const ID = 'node-model'
const SECRET = 'node-secret'
const WEATHER = { schemaId: 'weather', answer: 'sunny' }

let emulator
let client
let plugin
/** Every `data` the callback received, by session id. */
const received = new Map()

// One callback for every test: `data.mode` (or a workflow run) says what to do.
function callback(data) {
  received.set(data.session, data)
  switch (data.mode) {
    case 'throw':
      throw new Error(`model exploded on ${data.taskId}`)
    case 'log':
      data.logger.info('predicting', { step: 2 })
      data.logger.debug('below LOGLEVEL: neither sent nor echoed')
      return { answer: { classifications: [WEATHER] } }
    case 'promise':
      // A plain function returning a Promise that settles on a later tick.
      return new Promise((resolve) => {
        setTimeout(() => resolve({ answer: { objects: [{ objectId: `late-${data.taskId}` }] } }), 50)
      })
    default:
      return (async () => {
        await new Promise((resolve) => setImmediate(resolve))
        return { answer: { classifications: [WEATHER], objects: [] } }
      })()
  }
}

function pluginOptions(extra = {}) {
  // `useEnv: false`: the WS connector whatever CONNECTOR says.
  return { id: ID, secret: SECRET, host: emulator.url, apiHost: emulator.url, useEnv: false, echoLogs: false, handleSignals: false, ...extra }
}

/** Polls `check()` until it returns a truthy value (bounded). */
async function eventually(check, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

before(async () => {
  emulator = await startEmulator()
  client = new AngoClient({ apiKey: emulator.apiKey, host: emulator.url, maxRetries: 0 })
  plugin = runPlugin('model', pluginOptions(), callback)
  const joined = await emulator.waitForPlugin(ID, { timeoutMs: 10_000 })
  assert.equal(joined.id, ID)
  assert.equal(joined.connected, true)
})

after(async () => {
  await plugin?.shutdown()
  emulator?.stop()
})

test('the plugin joins the hub over Socket.IO and runPlugin gets its answer', async () => {
  assert.equal(plugin.connected, true)
  const listed = (await emulator.plugins()).find((p) => p.id === ID)
  assert.equal(listed.connected, true)
  assert.equal(listed.restUrl, null)
  assert.match(listed.lastHeartbeat, /^\d{4}-\d\d-\d\dT/)

  const session = await emulator.runPlugin(ID, { taskId: 't-1', projectId: 'p-1' }, { waitMs: 10_000 })
  assert.equal(session.status, 'done', JSON.stringify(session))
  assert.equal(session.error, false)
  assert.equal(session.pluginId, ID)
  assert.equal(session.workflow, false)
  assert.deepEqual(session.response, { objects: [], classifications: [WEATHER], relations: [] })
  assert.deepEqual(session.records, [{ response: session.response, session: session.session }])
  // The hub filled in the request the way Ango Hub does; the key is not recorded.
  const data = received.get(session.session)
  assert.equal(data.taskId, 't-1')
  assert.equal(data.apiKey, emulator.apiKey)
  assert.equal(data.orgId, emulator.organizationId)
  assert.equal(typeof data.logger.info, 'function')
  assert.equal(session.data.taskId, 't-1')
  assert.equal('apiKey' in session.data, false)
  const again = await emulator.pluginSession(session.session)
  assert.equal(again.status, 'done')
  assert.deepEqual(again.response, session.response)
})

test('a callback that throws ends the session with an error record carrying its message', async () => {
  const session = await emulator.runPlugin(ID, { mode: 'throw', taskId: 't-2' }, { waitMs: 10_000 })
  assert.equal(session.status, 'error', JSON.stringify(session))
  assert.equal(session.error, true)
  assert.equal(session.message, 'model exploded on t-2')
  assert.deepEqual(session.records, [{ error: true, message: 'model exploded on t-2', session: session.session }])
  // The plugin keeps serving after a failure.
  const next = await emulator.runPlugin(ID, { taskId: 't-2b' }, { waitMs: 10_000 })
  assert.equal(next.status, 'done')
})

test("the callback's log records are recorded in its session", async () => {
  const { session: id, status } = await emulator.runPlugin(ID, { mode: 'log', taskId: 't-3' }, { waitMs: 10_000 })
  assert.equal(status, 'done')
  // Log records travel on their own thread: they may land just after the response.
  const session = await eventually(async () => {
    const s = await emulator.pluginSession(id)
    return s.logs.length > 0 && s
  }, 'the log record')
  assert.equal(session.logs.length, 1, JSON.stringify(session.logs))
  const [record] = session.logs
  assert.equal(record.msg, 'predicting')
  assert.equal(record.level, 'INFO')
  assert.equal(record.step, 2)
  assert.equal(record.session, id)
  assert.equal(record.pluginId, ID)
  assert.equal(record.organization, emulator.organizationId)
  const sessions = await emulator.pluginSessions(ID)
  assert.ok(sessions.some((s) => s.session === id && s.logs.length === 1))
})

test('a callback returning a Promise is awaited', async () => {
  const session = await emulator.runPlugin(ID, { mode: 'promise', taskId: 't-4' }, { waitMs: 10_000 })
  assert.equal(session.status, 'done', JSON.stringify(session))
  assert.deepEqual(session.response.objects, [{ objectId: 'late-t-4' }])
})

test("a workflow Plugin stage sends a task and the plugin's annotation moves it on", async () => {
  const { data } = await client.createProject('node plugin workflow')
  const projectId = data.project._id
  await client.updateWorkflowStages(projectId, [
    { id: 'Start', type: 'Start', name: 'Start', next: ['P1'] },
    {
      id: 'P1', type: 'Plugin', name: 'Model', pluginId: ID, overwrite: true,
      categorySchema: [{ schemaId: 'weather', modelClass: 'weather' }], next: ['Label'],
    },
    { id: 'Label', type: 'Label', name: 'Label', next: ['Complete'] },
    { id: 'Complete', type: 'Complete', name: 'Complete', next: [] },
  ])
  await client.uploadFilesCloud(projectId, [{ data: 'https://example.com/a.png', externalId: 'a.png' }])

  const session = await eventually(async () => {
    const s = (await emulator.pluginSessions(ID)).find((s) => s.workflow && s.data.projectId === projectId)
    return s && s.status !== 'pending' && s
  }, 'the workflow session to end')
  assert.equal(session.status, 'done', JSON.stringify(session))
  const sent = received.get(session.session)
  assert.equal(sent.workflow, true)
  assert.equal(sent.stageId, 'P1')
  assert.equal(sent.dataURL, 'https://example.com/a.png')
  assert.deepEqual(sent.categorySchema, [{ schemaId: 'weather', modelClass: 'weather' }])
  // The plugin annotated through the API with nextStage: the task left the Plugin stage.
  const task = (await client.getTask(session.taskId, { includeAnswer: true })).data.task
  assert.equal(task.stage, 'Label')
  assert.deepEqual(task.answer.classifications.map((c) => c.answer), ['sunny'])
  assert.deepEqual(session.response.answer.classifications.map((c) => c.answer), ['sunny'])
})

test('a REST plugin registered with registerPlugin is called by the hub', async () => {
  const rest = runPlugin('batchModel', pluginOptions({ id: 'node-rest', connector: 'REST', port: 0, bindAddress: '127.0.0.1' }), async (data) => ({ echoed: data.note }))
  try {
    const registered = await emulator.registerPlugin('node-rest', SECRET, { restUrl: `http://127.0.0.1:${rest.port}` })
    assert.deepEqual({ id: registered.id, connected: registered.connected }, { id: 'node-rest', connected: false })
    const session = await emulator.runPlugin('node-rest', { note: 'hi' }, { waitMs: 10_000 })
    assert.equal(session.status, 'done', JSON.stringify(session))
    assert.deepEqual(session.response, { echoed: 'hi' })
    // A wrong secret: the plugin answers 401 and the session records the failure.
    await emulator.registerPlugin('node-rest', 'wrong', { restUrl: `http://127.0.0.1:${rest.port}` })
    const refused = await emulator.runPlugin('node-rest', { note: 'no' }, { waitMs: 10_000 })
    assert.equal(refused.status, 'error')
    assert.match(refused.message, /401/)
  } finally {
    await rest.shutdown()
  }
})

test('hub errors are AngoErrors with code and status', async () => {
  const rejects = (promise, code, status, message) =>
    assert.rejects(promise, (err) => {
      assert.ok(err instanceof AngoError, String(err))
      assert.equal(err.code, code)
      assert.equal(err.status, status)
      if (message) assert.match(err.message, message)
      return true
    })
  await rejects(emulator.runPlugin('nobody', {}), 'NOT_FOUND', 404, /Plugin not found: nobody/)
  await rejects(emulator.runPlugin(ID, [1, 2]), 'INVALID_ARGUMENT', 400, /JSON object/)
  const done = await emulator.runPlugin(ID, { taskId: 't-5' }, { waitMs: 10_000 })
  await rejects(emulator.runPlugin(ID, { session: done.session }), 'INVALID_ARGUMENT', 409, /already exists/)
  await rejects(emulator.registerPlugin(' ', 'x'), 'INVALID_ARGUMENT', 400)
  await rejects(emulator.registerPlugin('r', 'x', { restUrl: 'ftp://nowhere' }), 'INVALID_ARGUMENT', 400)
  await rejects(emulator.runPlugin(ID, {}, { waitMs: -1 }), 'INVALID_ARGUMENT', undefined, /waitMs/)
  await rejects(emulator.runPlugin(ID, {}, { waitMs: NaN }), 'INVALID_ARGUMENT', undefined, /waitMs/)
  await rejects(emulator.waitForPlugin('never', { timeoutMs: 30 }), 'TIMEOUT', undefined, /never/)
  const circular = {}
  circular.self = circular
  await rejects(emulator.runPlugin(ID, circular), 'INVALID_ARGUMENT', undefined, /circular/)
  assert.deepEqual(await emulator.pluginSession('no-such-session'), null)
  assert.deepEqual(await emulator.pluginSessions('nobody'), [])
})

test('waitMs 0 returns the session pending; a silent wait ends in timeout', async () => {
  const stopped = await startEmulator()
  try {
    // Registered but not connected: nothing can answer.
    await stopped.registerPlugin('offline', 's')
    const pending = await stopped.runPlugin('offline', {}, { waitMs: 0 })
    assert.equal(pending.status, 'pending')
    assert.equal(pending.dispatched, false)
    const late = await stopped.runPlugin('offline', {}, { waitMs: 100 })
    assert.equal(late.status, 'timeout')
  } finally {
    stopped.stop()
  }
  await assert.rejects(stopped.plugins(), (err) => err instanceof AngoError && /stopped/.test(err.message))
})

test('a process with a connected plugin exits by itself after shutdown and stop', async () => {
  const ango = new URL('../ango.mjs', import.meta.url).href
  const script = `
    import { runPlugin, startEmulator } from ${JSON.stringify(ango)}
    const emulator = await startEmulator()
    const plugin = runPlugin('model', { id: 'p', secret: 's', host: emulator.url, apiHost: emulator.url,
      useEnv: false, echoLogs: false, handleSignals: false }, async () => ({ answer: {} }))
    await emulator.waitForPlugin('p')
    const session = await emulator.runPlugin('p', {}, { waitMs: 10000 })
    await plugin.shutdown()
    emulator.stop()
    console.log(session.status)
  `
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk) => (out += chunk))
  child.stderr.on('data', (chunk) => (err += chunk))
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  const [code, signal] = await new Promise((resolve) => child.on('exit', (c, s) => resolve([c, s])))
  clearTimeout(killer)
  assert.equal(signal, null, `the process did not exit by itself (killed); stderr: ${err}`)
  assert.equal(code, 0, err)
  assert.equal(out.trim(), 'done')
})

test('stop() ends a waitForPlugin at once', async () => {
  const short = await startEmulator()
  // Without the stop, this would reject with TIMEOUT after 5 s.
  const waiting = short.waitForPlugin('never-connects', { timeoutMs: 5_000 })
  await new Promise((resolve) => setTimeout(resolve, 50))
  short.stop()
  await assert.rejects(waiting, (err) => err instanceof AngoError && err.code === 'INVALID_ARGUMENT' && /stopped/.test(err.message))
})
