// Shared test helpers: an emulator per test file and a look at what it received.
import { AngoClient, startEmulator } from '../ango.mjs'

/** Starts an emulator and a client for it; `stop()` ends the emulator. */
export async function setup(options = {}) {
  const emulator = await startEmulator(options)
  const client = new AngoClient({ apiKey: emulator.apiKey, host: emulator.url, maxRetries: 0 })
  return { emulator, client }
}

/** The last `n` requests the emulator served, newest first: `{ method, path, status }`. */
export async function lastRequests(emulator, n = 1) {
  const response = await fetch(`${emulator.url}/__emulator/requests?limit=${n}`, {
    headers: { apikey: emulator.apiKey },
  })
  const { data } = await response.json()
  return data.recent.filter((r) => r.path.startsWith('/v2'))
}

/** The last API request served. */
export async function lastRequest(emulator) {
  const [request] = await lastRequests(emulator, 1)
  return request
}
