// Calls run on the libuv thread pool: the event loop keeps turning while they wait.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'

import { setup } from './helpers.mjs'

let emulator
let client

before(async () => {
  ;({ emulator, client } = await setup({ latencyMs: 150, workers: 32 }))
})

after(() => emulator.stop())

test('20 concurrent calls complete while timers keep ticking', async () => {
  let ticks = 0
  const timer = setInterval(() => ticks++, 5)
  try {
    const ticksAtStart = ticks
    const results = await Promise.all(Array.from({ length: 20 }, () => client.listProjects()))
    assert.equal(results.length, 20)
    for (const result of results) assert.equal(result.status, 'success')
    assert.ok(ticks > ticksAtStart, `the event loop ticked ${ticks - ticksAtStart} times`)
  } finally {
    clearInterval(timer)
  }
})

test('a pending call does not block synchronous work', async () => {
  const pending = client.listProjects()
  let resolved = false
  pending.then(() => {
    resolved = true
  })
  // The Promise exists before the request ends: this line runs first.
  assert.equal(resolved, false)
  await pending
  assert.equal(resolved, true)
})
