// Uses the emulator handle's declarations (node/generated/emulator.d.ts, generated from
// the emulator's control table) as a TypeScript user would; checked with typed-usage.ts.
import { startEmulator, type Emulator, type HubPlugin, type PluginSession } from '../../ango'

export async function emulatorUsage(): Promise<string> {
  const emulator: Emulator = await startEmulator({ latencyMs: 0 })
  try {
    const project: string = emulator.seedProject('typed', 3, { completed: true })
    const plugin: HubPlugin = await emulator.registerPlugin('p', 'secret', { restUrl: 'http://127.0.0.1:9' })
    const session: PluginSession = await emulator.runPlugin(plugin.id, { projectId: project }, { waitMs: 0 })
    const count: number = emulator.requestCount
    // @ts-expect-error: seedProject answers at once, not with a Promise
    await emulator.seedProject('x').then(() => 0)
    // @ts-expect-error: waitMs is a number of milliseconds
    await emulator.runPlugin('p', {}, { waitMs: '1' })
    // @ts-expect-error: an unknown option
    await emulator.waitForPlugin('p', { timeout: 1 })
    return `${emulator.url} ${session.status} ${count}`
  } finally {
    emulator.stop()
  }
}
