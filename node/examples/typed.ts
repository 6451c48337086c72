// A TypeScript example, type-checked by `npm run typecheck` (tsc --noEmit): the
// options and ontology objects are typed by the generated declarations.
import {
  AngoClient,
  AngoError,
  startEmulator,
  type ApiDocument,
  type ProjectData,
  type ClassificationCategory,
  type ExportOptions,
  type TaskFilter,
  type ToolCategory,
} from 'ango-hub'

async function main(): Promise<void> {
  const emulator = await startEmulator({ latencyMs: 0 })
  try {
    const ango = new AngoClient({ apiKey: emulator.apiKey, host: emulator.url, maxRetries: 2 })
    const created = (await ango.createProject('Typed', { projectType: 'ango' })) as ApiDocument<ProjectData>
    const projectId: string = created.data.project?._id ?? ''

    const vehicle: ToolCategory = { tool: 'bounding-box', title: 'Vehicle' }
    const scene: ClassificationCategory = {
      tool: 'tree-dropdown',
      title: 'Scene',
      treeOptions: [{ title: 'Outdoor', children: [{ title: 'Street', key: 'street' }] }],
    }
    const detail: ClassificationCategory = { tool: 'text', title: 'Detail', parentOptionId: 'street' }
    await ango.createLabelSet(projectId, { tools: [vehicle], classifications: [scene, detail] })

    const filter: TaskFilter = {
      stage: ['Label'],
      createdAt: { gte: new Date('2024-01-01').toISOString(), lt: Date.now() },
      priority: { gte: 0 },
    }
    const controller = new AbortController()
    for await (const task of ango.iterTasks(projectId, { taskFilter: filter, pageSize: 200, signal: controller.signal })) {
      console.log(task._id, task.stage)
    }

    const options: ExportOptions = { exportFormat: 'ndjson', stage: ['Label'], includeHistory: false }
    const rows = await ango.exportRows(projectId, options)
    const all: any[] = await rows.toArray()
    console.log(`${all.length} rows`)

    try {
      await ango.getProject('missing')
    } catch (error) {
      if (error instanceof AngoError && error.code === 'HTTP') console.log(error.status, error.body)
    }
  } finally {
    emulator.stop()
  }
}

void main()
