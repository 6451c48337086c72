// The shared wire fixture (tests/fixtures/wire/make_request_endpoints.json): what the
// core sends for a makeRequest endpoint, checked through the Node binding (the Rust and
// Python suites read the same cases).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { readFileSync } from 'node:fs'

import { AngoClient } from '../ango.mjs'

const FIXTURE = new URL('../../tests/fixtures/wire/make_request_endpoints.json', import.meta.url)
const { cases } = JSON.parse(readFileSync(FIXTURE, 'utf8'))

test('makeRequest sends each fixture endpoint as requests does', async () => {
  assert.ok(cases.length >= 25)
  const seen = []
  const server = http.createServer((req, res) => {
    seen.push(req.url)
    const body = JSON.stringify({ status: 'success', data: {} })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const client = new AngoClient({ apiKey: 'k', host: `http://127.0.0.1:${server.address().port}`, maxRetries: 0 })
    for (const [given, wire] of cases) {
      seen.length = 0
      await client.makeRequest('GET', given)
      assert.deepEqual(seen, [wire], JSON.stringify(given))
    }
  } finally {
    server.closeAllConnections()
    server.close()
  }
})
