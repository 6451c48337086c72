// startEmulator's options are read and checked by the emulator crate (one set of rules).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startEmulator } from '../ango.mjs'

test('refused emulator options reject with INVALID_ARGUMENT and the emulator\'s message', async () => {
  for (const [options, message] of [
    [{ failRate: 1.5 }, 'failRate must be a number between 0 and 1, got 1.5'],
    [{ dropRate: -0.1 }, 'dropRate must be a number between 0 and 1, got -0.1'],
    [{ failRate: 0.7, dropRate: 0.7 }, 'fail_rate + drop_rate must be at most 1'],
    [{ port: 70000 }, 'port must be a port number in 0..=65535'],
    [{ workers: 0 }, 'workers must be a positive integer, got 0'],
    [{ latencyMs: 1.5 }, 'latencyMs must be a whole number >= 0'],
    [{ latencyMS: 1 }, 'unknown emulator option "latencyMS"'],
  ]) {
    await assert.rejects(startEmulator(options), (error) => {
      assert.equal(error.code, 'INVALID_ARGUMENT', JSON.stringify(options))
      assert.ok(error.message.includes(message), `${error.message} / ${message}`)
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
