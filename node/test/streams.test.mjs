// Async iteration: auto-paginated listings and the streamed NDJSON export.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'

import { RowStream } from '../ango.mjs'
import { setup, lastRequests } from './helpers.mjs'

let emulator
let client
let projectId
const TASKS = 230

before(async () => {
  ;({ emulator, client } = await setup())
  projectId = emulator.seedProject('Streams', TASKS)
})

after(() => emulator.stop())

test('iterTasks yields every task once, in as few requests as the server allows', async () => {
  const stream = client.iterTasks(projectId, { pageSize: 50 })
  assert.ok(stream instanceof RowStream)
  const ids = new Set()
  for await (const task of stream) {
    assert.equal(typeof task._id, 'string')
    ids.add(task._id)
  }
  assert.equal(ids.size, TASKS)
  const pages = (await lastRequests(emulator, 20)).filter((r) => r.path.endsWith('/tasks'))
  // pageSize bounds what is held ahead; requests ask for pages of 1000.
  assert.equal(pages.length, 1, `${pages.length} page requests`)
})

test('iterTasks applies the task filter', async () => {
  const first = (await client.getTasks(projectId, { limit: 1 })).data.tasks[0]
  const externalId = (await client.getTask(first._id)).data.task.externalId
  const rows = await client
    .iterTasks(projectId, { taskFilter: { externalId }, pageSize: 10 })
    .toArray()
  assert.equal(rows.length, 1)
  assert.equal(rows[0]._id, first._id)
})

test('breaking out of a loop closes the stream', async () => {
  const stream = client.iterTasks(projectId, { pageSize: 10 })
  let seen = 0
  for await (const _task of stream) {
    if (++seen === 15) break
  }
  assert.equal(seen, 15)
  assert.deepEqual(await stream.nextBatch(), [])
})

test('iterAssets and iterProjects', async () => {
  let assets = 0
  for await (const asset of client.iterAssets(projectId, { pageSize: 100 })) {
    assert.equal(typeof asset._id, 'string')
    assets++
  }
  assert.equal(assets, TASKS)
  const projects = await client.iterProjects({ pageSize: 1 }).toArray()
  assert.ok(projects.some((p) => p._id === projectId))
})

test('a bad page size is INVALID_ARGUMENT', () => {
  assert.throws(() => client.iterTasks(projectId, { pageSize: 5000 }), { code: 'INVALID_ARGUMENT' })
})

test('NDJSON export streams rows as an async iterable', async () => {
  const options = { exportFormat: 'ndjson', stage: ['Label'] }
  const stream = await client.exportV3(projectId, options)
  assert.ok(stream instanceof RowStream)
  let rows = 0
  for await (const row of stream) {
    assert.equal(typeof row.externalId, 'string')
    rows++
  }
  assert.equal(rows, TASKS)
  const again = await client.exportRows(projectId, options)
  const batch = await again.nextBatch(7)
  assert.equal(batch.length, 7)
  again.close()
  assert.deepEqual(await again.nextBatch(), [])
})

test('exportRows streams a JSON export too', async () => {
  let rows = 0
  for await (const _row of await client.exportRows(projectId, { stage: ['Label'] })) rows++
  assert.equal(rows, TASKS)
})

test('stream errors reject the iteration with a coded error', async () => {
  const bad = client.iterTasks('000000000000000000000000', { pageSize: 10 })
  await assert.rejects(bad.toArray(), (e) => e.code === 'HTTP' && e.status === 404)
})
