// Type errors tsc must reject (node/test/types/check-negative.mjs): each line marked
// `// error TSxxxx` must fail with that code, and no other line may fail. This proves
// the type check of test/types can fail.
import type { Client, ExportRow, Project } from '../../../generated/types'

export function name(project: Project): string {
  return project.nmae // error TS2322
}

export function firstObject(row: ExportRow): number {
  return row.task?.tools?.[0]?.title ?? 0 // error TS2322
}

export async function reads(client: Client): Promise<void> {
  await client.getProject() // error TS2554
  await client.getProject('p1', { signal: true }) // error TS2322
  await client.getTasks('p1', { pageSise: 2 }) // error TS2353
  await client.getTasks('p1', { taskFilter: { stage: 3 } }) // error TS2322
}
