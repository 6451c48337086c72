// A Model plugin that pre-labels the demo project, end to end, offline.
//
// The plugin is an ordinary `runPlugin('model', ...)` plugin (the same code runs against
// Ango Hub). Here it connects to the Ango Hub emulator's plugin hub over Socket.IO, and
// the script asks the hub to run it on every task of the demo project not yet complete,
// as a workflow Plugin stage would: the plugin predicts the Weather classification (and
// a Car box), the runtime annotates the task through the API and moves it on. At the
// end the script reads the tasks back and prints what the plugin did, with the plugin
// sessions the hub recorded.
//
//   node examples/model_plugin.mjs                       embedded emulator
//   ango emulator --demo                                 or: a separate emulator ...
//   ANGO_HOST=http://127.0.0.1:PORT ANGO_API_KEY=KEY node examples/model_plugin.mjs
//   node examples/model_plugin.mjs --serve               only serve the plugin (Ctrl-C stops it)
//
// With `--serve` and PLUGIN_ID / PLUGIN_SECRET / ANGO_PLUGIN_HOST set to a real plugin's
// values, this is a deployable Model plugin.
import { createHash } from 'node:crypto'

import { AngoClient, runPlugin, startEmulator } from 'ango-hub'

const PLUGIN_ID = process.env.PLUGIN_ID || 'demo-model-plugin'
const PLUGIN_SECRET = process.env.PLUGIN_SECRET || 'demo-model-secret'

// The demo ontology's schema ids (see `ango emulator --demo`).
const WEATHER = 'c3d4e5f6a7b8c9d0e1f2a3b'
const WEATHER_OPTIONS = { sunny: '0pt10n0000000000005unny', rainy: '0pt10n000000000000ra1ny' }
const CAR = 'a1b2c3d4e5f6a7b8c9d0e1f'

// What the Hub sends as `categorySchema`: the plugin's class names mapped to the
// project's categories (set in the Hub when the plugin is added to a workflow).
const CATEGORY_SCHEMA = [
  { schemaId: WEATHER, modelClass: 'weather' },
  { schemaId: CAR, modelClass: 'car' },
]

// ------------------------------------------------------------------ the plugin

/** The model: a deterministic stand-in that reads the asset's URL. */
async function predict(data) {
  const classes = Object.fromEntries((data.categorySchema || []).map((c) => [c.modelClass, c.schemaId]))
  const config = JSON.parse(data.configJSON || '{}')
  const seed = createHash('sha256').update(String(data.dataURL || data.taskId)).digest()
  const weather = seed[0] % 3 === 0 ? 'rainy' : 'sunny'
  const answer = { objects: [], classifications: [] }
  if (classes.weather) answer.classifications.push({ schemaId: classes.weather, answer: WEATHER_OPTIONS[weather] })
  if (classes.car && config.boxes !== false) {
    answer.objects.push({
      schemaId: classes.car,
      objectId: `car-${seed.toString('hex').slice(0, 8)}`,
      'bounding-box': { x: seed[1] % 200, y: seed[2] % 120, width: 80, height: 40 },
    })
  }
  data.logger.info(`task ${data.taskId}: ${weather}, ${answer.objects.length} object(s)`)
  return { answer }
}

function startPlugin(host, apiHost, extra = {}) {
  return runPlugin('model', { id: PLUGIN_ID, secret: PLUGIN_SECRET, host, apiHost, concurrency: 4, ...extra }, predict)
}

// ------------------------------------------------------------------ driving it offline

/** The emulator's plugin API over HTTP (when it runs in another process). */
async function admin(url, apiKey, method, path, body) {
  const response = await fetch(url + path, {
    method,
    headers: { apikey: apiKey, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`)
  return response.json()
}

/** The hub's plugin calls: the embedded emulator's methods, or its HTTP routes. */
function hubOf(emulator, url, apiKey) {
  if (emulator) {
    return {
      waitForPlugin: () => emulator.waitForPlugin(PLUGIN_ID, { timeoutMs: 20_000 }),
      run: (data) => emulator.runPlugin(PLUGIN_ID, data, { waitMs: 30_000 }),
      sessions: () => emulator.pluginSessions(PLUGIN_ID),
    }
  }
  return {
    async waitForPlugin() {
      const deadline = Date.now() + 20_000
      for (;;) {
        const { plugins } = await admin(url, apiKey, 'GET', '/__emulator/plugins')
        if (plugins.some((p) => p.id === PLUGIN_ID && p.connected)) return
        if (Date.now() > deadline) throw new Error('the plugin did not connect to the emulator')
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    },
    run: (data) => admin(url, apiKey, 'POST', `/__emulator/plugins/${PLUGIN_ID}/run?wait=30`, data),
    sessions: async () => (await admin(url, apiKey, 'GET', `/__emulator/plugins/${PLUGIN_ID}/sessions`)).sessions,
  }
}

async function demoProject(ango) {
  const { data } = await ango.listProjects({ page: 1, limit: 50 })
  const project = data.projects.find((p) => p.name === 'Demo project')
  if (!project) throw new Error("no 'Demo project' on this hub: start the emulator with --demo")
  return project._id
}

async function main() {
  if (process.argv.includes('--serve')) {
    const apiHost = process.env.ANGO_HOST || 'https://imeritapi.ango.ai'
    // Runs until SIGINT/SIGTERM, which drain the running predictions first.
    startPlugin(process.env.ANGO_PLUGIN_HOST || apiHost, apiHost)
    return
  }

  const emulator = process.env.ANGO_HOST ? null : await startEmulator({ seedDemo: true })
  const url = emulator ? emulator.url : process.env.ANGO_HOST
  const apiKey = emulator ? emulator.apiKey : process.env.ANGO_API_KEY || ''
  if (emulator) console.log(`Using an embedded Ango Hub emulator at ${url}`)
  const ango = new AngoClient({ apiKey, host: url })
  const hub = hubOf(emulator, url, apiKey)
  // The emulator serves Socket.IO on its own port, beside the API.
  const plugin = startPlugin(url, url, { handleSignals: false })
  try {
    await hub.waitForPlugin()
    const projectId = await demoProject(ango)
    const tasks = []
    for await (const task of ango.iterTasks(projectId)) {
      if (!['Complete', 'Archive'].includes(task.stage ?? 'Label')) tasks.push(task)
    }
    console.log(`Plugin ${PLUGIN_ID} connected; ${tasks.length} task(s) of the demo project to pre-label`)

    const started = performance.now()
    for (const task of tasks) {
      const asset = task.asset
      const session = await hub.run({
        projectId,
        taskId: task._id,
        assetId: asset && typeof asset === 'object' ? asset._id : asset,
        dataURL: task.data || task.externalId,
        workflow: true,
        overwrite: true,
        categorySchema: CATEGORY_SCHEMA,
      })
      if (session.status !== 'done') {
        console.log(`  task ${task._id}: ${session.status} ${session.message ?? JSON.stringify(session.response)}`)
      }
    }
    const elapsed = (performance.now() - started) / 1000

    // Shutting down drains the plugin: its last log records reach the hub first.
    await plugin.shutdown()

    let labelled = 0
    for (const task of tasks) {
      const { answer } = (await ango.getTask(task._id, { includeAnswer: true })).data.task
      if ((answer?.classifications ?? []).some((c) => c.schemaId === WEATHER)) labelled += 1
    }
    const sessions = await hub.sessions()
    const logs = sessions.reduce((n, s) => n + (s.logs?.length ?? 0), 0)
    console.log(
      `Pre-labelled ${labelled}/${tasks.length} task(s) in ${elapsed.toFixed(2)} s ` +
        `(${sessions.length} plugin session(s), ${logs} log record(s))`,
    )
    const last = sessions.at(-1)
    if (last) console.log(`Last session: ${last.status}, logs: ${JSON.stringify(last.logs.map((r) => r.msg))}`)
    if (labelled !== tasks.length) process.exitCode = 1
  } finally {
    await plugin.shutdown()
    emulator?.stop()
  }
}

await main()
