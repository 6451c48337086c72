// Uses the generated declarations (node/generated/types.d.ts) as a TypeScript user
// would; `tsc -p test/types --strict --noEmit` must accept it (node/run-tests.sh).
// The `@ts-expect-error` lines are checks too: tsc fails if they compile, so the
// types cannot quietly decay into `any`.
import type { ApiDocument, Client, ExportObject, ExportRow, ProjectData, Task, TaskFilter } from '../../generated/types'
import { AngoError } from '../../ango'

/** The titles of an export row's objects (the v3 `task`, then the older `tasks`). */
export function objectTitles(row: ExportRow): string[] {
  const tasks = [...(row.task ? [row.task] : []), ...(row.tasks ?? [])]
  const objects: ExportObject[] = tasks.flatMap((task) => task.tools ?? [])
  return objects.map((object) => {
    const box = object['bounding-box']
    const area = box ? Math.abs(box.width * box.height) : 0
    return `${object.title ?? object.schemaId ?? '?'} (${area})`
  })
}

export async function summary(client: Client, projectId: string, rows: ExportRow[]): Promise<string[]> {
  const controller = new AbortController()
  const { signal } = controller
  const lines: string[] = []

  const reply: ApiDocument<ProjectData> = await client.getProject(projectId, { signal })
  const project = reply.data.project
  const name: string = project?.name ?? '(unnamed)'
  lines.push(`${name}: ${project?.stages?.map((stage) => stage.name ?? stage.id).join(' -> ') ?? 'no workflow'}`)
  // @ts-expect-error a misspelt field is `unknown`, not a string
  const typo: string = project?.nmae

  // Argument types in camelCase, as Node users write them.
  const taskFilter: TaskFilter = { stage: ['Label'], reviewStatus: 'Accepted', createdAt: { gte: new Date('2024-01-01T00:00:00Z'), lt: Date.now() }, updatedAt: { gte: '2024-01-01' } }
  const page = await client.getTasks(projectId, { page: 1, limit: 50, taskFilter, signal })
  await client.getProjectPerformance(projectId, { interval: [new Date('2024-01-01T00:00:00Z'), '2024-02-01'], signal })
  const tasks: Task[] = page.data.tasks ?? []
  for (const task of tasks) {
    lines.push(`${task._id ?? '?'} in ${task.stage ?? '?'}`)
  }
  const total: number = page.data.total ?? tasks.length
  lines.push(`${total} tasks`)

  for (const row of rows) lines.push(...objectTitles(row))

  try {
    controller.abort()
    await client.getProject(projectId, { signal })
  } catch (error) {
    if (error instanceof AngoError && error.code === 'CANCELLED') lines.push('cancelled')
    else if (error instanceof AngoError) lines.push(`${error.code} ${error.status ?? ''}`)
    else throw error
  }
  // @ts-expect-error the required project id is missing
  await client.getProject()
  // @ts-expect-error `signal` is an AbortSignal
  await client.getProject(projectId, { signal: 'stop' })
  void typo
  return lines
}
