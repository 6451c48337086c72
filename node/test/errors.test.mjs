// Errors: AngoError with code, status and body; never the API key.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'

import { AngoClient, AngoError, startEmulator } from '../ango.mjs'
import { setup } from './helpers.mjs'

let emulator
let client

before(async () => {
  ;({ emulator, client } = await setup())
})

after(() => emulator.stop())

test('a wrong API key is HTTP 401 with the server body as message', async () => {
  const secret = 'wrong-key-that-must-not-leak'
  const wrong = new AngoClient({ apiKey: secret, host: emulator.url, maxRetries: 0 })
  const error = await wrong.listProjects().then(
    () => assert.fail('should reject'),
    (e) => e,
  )
  assert.ok(error instanceof AngoError)
  assert.ok(error instanceof Error)
  assert.equal(error.code, 'HTTP')
  assert.equal(error.status, 401)
  assert.equal(error.message, error.body)
  assert.equal(JSON.parse(error.body).error.statusCode, 401)
  assert.ok(!JSON.stringify({ ...error, message: error.message, stack: error.stack }).includes(secret))
})

test('an unknown project is HTTP 404', async () => {
  await assert.rejects(client.getProject('000000000000000000000000'), { code: 'HTTP', status: 404 })
})

test('invalid arguments are INVALID_ARGUMENT, as rejections', async () => {
  await assert.rejects(client.createProject('x', { projectType: 'video' }), {
    code: 'INVALID_ARGUMENT',
    message: /ProjectType/,
  })
  await assert.rejects(client.getProject(42), { name: 'AngoError', code: 'INVALID_ARGUMENT' })
  await assert.rejects(client.getProject('p', { bogus: 1 }), { code: 'INVALID_ARGUMENT', message: /bogus/ })
  await assert.rejects(client.getProject('p', {}, 'extra'), { code: 'INVALID_ARGUMENT' })
  await assert.rejects(client.getProject('p', 'not options'), { code: 'INVALID_ARGUMENT' })
  await assert.rejects(client.uploadFiles('p', [42]), { code: 'INVALID_ARGUMENT', message: /path/ })
  await assert.rejects(client.uploadFiles('p', [{ path: 'x', bogus: 1 }]), { code: 'INVALID_ARGUMENT', message: /bogus/ })
  await assert.rejects(client.uploadFiles('p', [], { storageID: 's' }), { code: 'INVALID_ARGUMENT', message: /storageID/ })
  assert.throws(() => client.iterTasks('p', { limitt: 5 }), { code: 'INVALID_ARGUMENT', message: /limitt/ })
  await assert.rejects(client.getTasks('p', { taskFilter: { createdAt: { gt: 'yesterday' } } }), {
    code: 'INVALID_ARGUMENT',
  })
})

test('bad client options are refused, and no error shows the key', () => {
  for (const bad of ['sk-live-secret-1', { apiKey: 987654321 }, { apiKey: ['sk-live-secret-1'] }]) {
    assert.throws(() => new AngoClient(bad), (err) => {
      assert.equal(err.code, 'INVALID_ARGUMENT')
      assert.doesNotMatch(err.message, /sk-live-secret-1|987654321/)
      return true
    })
  }
  // An option the client does not have (such as Python's `timeout`, in seconds) is named.
  assert.throws(() => new AngoClient({ apiKey: 'k', timeout: 5000 }), { code: 'INVALID_ARGUMENT', message: /timeout/ })
  assert.throws(() => new AngoClient({ apiKey: 'k' }).withOptions({ retries: 1 }), { code: 'INVALID_ARGUMENT' })
})

test('the constructor validates and reads the environment', () => {
  assert.throws(() => new AngoClient({ apiKey: 'k', host: 'imeritapi.ango.ai' }), {
    code: 'INVALID_ARGUMENT',
  })
  const saved = { key: process.env.ANGO_API_KEY, host: process.env.ANGO_HOST }
  try {
    delete process.env.ANGO_API_KEY
    assert.throws(() => new AngoClient(), { code: 'INVALID_ARGUMENT', message: /ANGO_API_KEY/ })
    process.env.ANGO_API_KEY = 'from-env'
    process.env.ANGO_HOST = 'http://127.0.0.1:9/'
    const fromEnv = new AngoClient()
    assert.equal(fromEnv.host, 'http://127.0.0.1:9')
    assert.equal(new AngoClient({ host: emulator.url }).host, emulator.url)
  } finally {
    for (const [name, value] of [['ANGO_API_KEY', saved.key], ['ANGO_HOST', saved.host]]) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
})

test('nothing listening is CONNECTION', async () => {
  const stopped = await setup()
  const host = stopped.emulator.url
  stopped.emulator.stop()
  const offline = new AngoClient({ apiKey: 'k', host, maxRetries: 0 })
  await assert.rejects(offline.listProjects(), { code: 'CONNECTION' })
})

test('a slow server is TIMEOUT', async () => {
  const slow = await setup({ latencyMs: 1500 })
  try {
    const impatient = new AngoClient({
      apiKey: slow.emulator.apiKey,
      host: slow.emulator.url,
      timeoutMs: 200,
      maxRetries: 0,
    })
    await assert.rejects(impatient.listProjects(), { code: 'TIMEOUT' })
  } finally {
    slow.emulator.stop()
  }
})

test('429 answers are RATE_LIMITED once retries run out', async () => {
  const flaky = await setup({ failRate: 1, rngSeed: 7 })
  try {
    const error = await flaky.client.listProjects().catch((e) => e)
    assert.ok(['RATE_LIMITED', 'HTTP'].includes(error.code), error.code)
    assert.ok([429, 503].includes(error.status))
  } finally {
    flaky.emulator.stop()
  }
})

test('withOptions changes limits for some calls and shares the key', async () => {
  const slow = await startEmulator({ latencyMs: 300 })
  try {
    const client = new AngoClient({ apiKey: slow.apiKey, host: slow.url, maxRetries: 0 })
    const created = await client.createProject('patience')
    const projectId = created.data.project._id
    const hurried = client.withOptions({ timeoutMs: 50 })
    await assert.rejects(hurried.getProject(projectId), { code: 'TIMEOUT' })
    const project = await client.getProject(projectId)
    assert.equal(project.data.project.name, 'patience')
    assert.throws(() => client.withOptions({ timeoutMs: -1 }), { code: 'INVALID_ARGUMENT' })
  } finally {
    slow.stop()
  }
})
