// A realistic workflow against a local emulator: create a project and its ontology,
// upload images, walk the tasks, import labels, and stream the export as NDJSON.
//
//   node examples/quickstart.mjs            (from node/, after `npm run build`)
//
// With ANGO_API_KEY (and optionally ANGO_HOST) set, it runs unchanged against that
// Ango Hub instead of the embedded emulator.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { AngoClient, startEmulator } from 'ango-hub'

const emulator = process.env.ANGO_API_KEY ? null : await startEmulator()
try {
  const ango = emulator
    ? new AngoClient({ apiKey: emulator.apiKey, host: emulator.url, timeoutMs: 30_000 })
    : new AngoClient({ timeoutMs: 30_000 })

  const { data } = await ango.createProject('Street scenes', { description: 'Vehicles and weather' })
  const projectId = data.project._id
  console.log(`created project ${projectId}`)

  await ango.createLabelSet(projectId, {
    tools: [
      {
        tool: 'bounding-box',
        title: 'Vehicle',
        classifications: [
          { tool: 'radio', title: 'Kind', options: [{ value: 'car' }, { value: 'truck' }] },
        ],
      },
    ],
    classifications: [
      { tool: 'single-dropdown', title: 'Weather', schemaId: 'weather', options: [
        { value: 'sunny', schemaId: 'sunny' },
        { value: 'rainy', schemaId: 'rainy' },
      ] },
    ],
  })

  const dir = mkdtempSync(join(tmpdir(), 'ango-quickstart-'))
  const files = ['frame-001.jpg', 'frame-002.jpg', 'frame-003.jpg'].map((name) => {
    const path = join(dir, name)
    writeFileSync(path, Buffer.from(`not really a JPEG: ${name}`))
    return { path, externalId: name }
  })
  const report = await ango.uploadFiles(projectId, files)
  console.log(`uploaded ${report.files.filter((f) => f.status.outcome === 'uploaded').length}/${files.length} files`)

  const externalIds = []
  for await (const task of ango.iterTasks(projectId, { pageSize: 100 })) {
    externalIds.push(task.externalId)
  }
  console.log(`tasks: ${externalIds.join(', ')}`)

  await ango.importLabels(
    projectId,
    externalIds.map((externalId, i) => ({
      externalId,
      classifications: [{ schemaId: 'weather', answer: i % 2 ? 'rainy' : 'sunny' }],
    })),
  )

  let rows = 0
  const stream = await ango.exportV3(projectId, { exportFormat: 'ndjson', stage: ['Label'] })
  for await (const row of stream) {
    rows++
    console.log(`export row: ${row.externalId}`)
  }
  console.log(`exported ${rows} rows`)
} finally {
  emulator?.stop()
}
