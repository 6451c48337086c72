// startEmulator's options are read and checked by the emulator crate (one set of rules).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readFileSync } from 'node:fs'
import { startEmulator } from '../ango.mjs'

const FIXTURE = new URL('../../tests/fixtures/emulator/options.json', import.meta.url)
const { refused } = JSON.parse(readFileSync(FIXTURE, 'utf8'))

test('refused emulator options reject with INVALID_ARGUMENT and the emulator\'s message', async () => {
  assert.ok(refused.length >= 10)
  for (const { options, message } of refused) {
    await assert.rejects(startEmulator(options), (error) => {
      assert.equal(error.code, 'INVALID_ARGUMENT', JSON.stringify(options))
      assert.ok(error.message.startsWith(message), `${error.message} / ${message}`)
      return true
    })
  }
})

test('accepted options reach the emulator', async () => {
  const emulator = await startEmulator({ apiKey: 'fixed-key', seedDemo: true, rngSeed: 2 ** 40, workers: 2 })
  try {
    assert.equal(emulator.apiKey, 'fixed-key')
    await assert.rejects(emulator.runPlugin('p', {}, { waitMs: -1 }), {
      code: 'INVALID_ARGUMENT',
      message: /waitMs must be a number of milliseconds in 0..=3600000, got -1/,
    })
  } finally {
    emulator.stop()
  }
})
