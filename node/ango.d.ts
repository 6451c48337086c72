// Types of the package entry. The result interfaces and the table methods of `Client`
// are generated from the Rust types and ango-core's method table
// (generated/types.d.ts); this file adds what ango.js writes by hand: the constructor,
// listings as streams, uploads with progress, exports, `AngoError`.
import type { Client as TableClient, Asset, ClientOptions, ExportOptions, Project, Task, TaskFilter, UploadReport } from './generated/types'

export * from './generated/types'
export {
  Tool,
  Classification,
  Relation,
  Metrics,
  OrganizationRole,
  ProjectRole,
  StorageProvider,
  LlmProvider,
  StorageFileType,
  ExportType,
  ExportFormat,
  TaskType,
  ProjectType,
  ReviewStatus,
  MedicalPlane,
} from './index'
export * from './plugins'
export * from './emulator'
export * from './formats'
export * as formats from './formats'

/** The machine-readable kind of an `AngoError` (ango-core's `Error::code()`). */
export type AngoErrorCode =
  | 'HTTP'
  | 'RATE_LIMITED'
  | 'TIMEOUT'
  | 'CONNECTION'
  | 'TRANSPORT'
  | 'DECODE'
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'IO'
  | 'ARCHIVE'
  /** The server's answers contradicted each other (e.g. a listing total that changed). */
  | 'INCONSISTENT'
  /** The call was aborted through its `signal` (the error's `name` is then `AbortError`). */
  | 'CANCELLED'
  /** A bug inside the SDK (a Rust panic) was caught instead of aborting the process. */
  | 'INTERNAL'

/** Every error the SDK throws or rejects with. */
export declare class AngoError extends Error {
  /** `AbortError` for `CANCELLED`, else `AngoError`. */
  readonly name: 'AngoError' | 'AbortError'
  /** What kind of failure. */
  readonly code: AngoErrorCode
  /**
   * The HTTP status, for `HTTP` and `RATE_LIMITED`, and for the emulator's plugin-hub
   * errors (`NOT_FOUND` 404, `INVALID_ARGUMENT` 400 or 409).
   */
  readonly status?: number
  /** The server's response body, for `HTTP` and `RATE_LIMITED` (also the message). */
  readonly body?: string
  /** How long the server asked to wait before retrying, if it said. */
  readonly retryAfterMs?: number
  /** For `CANCELLED`: the signal's `reason`. */
  readonly cause?: unknown
  /** For a cancelled `uploadFiles`: each file's outcome, once the native work has stopped. */
  readonly report?: Promise<UploadReport>
}

/** Rows read lazily in batches on the thread pool: `for await (const row of rows)`. */
export declare class RowStream<T = any> implements AsyncIterable<T> {
  private constructor()
  /** Up to `max` next rows (default 256); `[]` once the stream is over. */
  nextBatch(max?: number): Promise<T[]>
  /** Stops the stream early and frees what it holds. */
  close(): void
  /** Reads the whole stream into an array (for small results). */
  toArray(): Promise<T[]>
  [Symbol.asyncIterator](): AsyncIterator<T>
}

/** Cancels a call: it rejects at once with an `AngoError` of code `CANCELLED`. */
export interface Abortable {
  signal?: AbortSignal
}

type GetTasksOptions = NonNullable<Parameters<TableClient['getTasks']>[1]>

/** Options of `iterTasks`: those of `getTasks` but `page` and `limit`, plus `pageSize`. */
export type IterTasksOptions = Omit<GetTasksOptions, 'page' | 'limit'> & {
  /** Items held ahead of the consumer, per parallel transfer (default 100, at most 1000). */
  pageSize?: number
  taskFilter?: TaskFilter | null
}

/** A local file to upload: its path, or the path with what to attach to its asset. */
export type UploadFile =
  | string
  | { path: string; externalId?: string | null; contextData?: unknown; metadata?: unknown }

/** Options of `uploadFiles`. */
export interface UploadOptions extends Abortable {
  storageId?: string | null
  /** Batches (names or ids) to put the assets in. */
  batches?: string[] | null
  priority?: number
  /** Parallel uploads (default: the client's `concurrency`). */
  concurrency?: number
  /** Called (through the event loop) as files finish. */
  onProgress?: (done: number, total: number) => void
}

/** An Ango Hub client: the table's methods (generated), plus the methods below. */
export declare class Client extends TableClient {
  /** Missing `apiKey`/`host` are read from `ANGO_API_KEY` / `ANGO_HOST`. */
  constructor(options?: ClientOptions | null)
  /** The API host in use, without a trailing slash. */
  readonly host: string
  /** A client sharing this one's connections and key, with some settings changed. */
  withOptions(options: ClientOptions): Client
  /** Every task of a project matching `options`, fetched ahead in pages. */
  iterTasks(projectId: string, options?: IterTasksOptions & Abortable): RowStream<Task>
  /** Every asset of a project matching `filters`. */
  iterAssets(
    projectId: string,
    options?: { filters?: Record<string, unknown> | null; pageSize?: number } & Abortable,
  ): RowStream<Asset>
  /** Every project visible to the API key. */
  iterProjects(options?: { pageSize?: number } & Abortable): RowStream<Project>
  /** Uploads local files in parallel and registers them as assets. */
  uploadFiles(projectId: string, files: UploadFile[], options?: UploadOptions): Promise<UploadReport>
  /** The parsed export (JSON format), a row stream (NDJSON), or `null` with `zipFilePath`. */
  exportV3(projectId: string, options?: ExportOptions & { zipFilePath?: string } & Abortable): Promise<any>
  /** The same as `exportV3`. */
  export(projectId: string, options?: ExportOptions & { zipFilePath?: string } & Abortable): Promise<any>
  /** The export as a stream of rows, in either format. */
  exportRows(projectId: string, options?: ExportOptions & Abortable): Promise<RowStream>
  /** Saves the export's archive (zip) to `path`; resolves to its size in bytes. */
  exportToFile(projectId: string, path: string, options?: ExportOptions & Abortable): Promise<number>
  /** Asks for an export; resolves to the archive's signed URL. */
  requestExport(projectId: string, options?: ExportOptions & Abortable): Promise<string>
  /** Uploads a brush mask; resolves to its URL. */
  uploadBrushArray(
    projectId: string,
    shape: number[],
    values: number[],
    options?: { medical?: boolean } & Abortable,
  ): Promise<string>
}

/** The same class as `Client` (its earlier name). */
export { Client as AngoClient }
