// Types of the format converters (formats.js), re-exported by the package entry both
// at the top level and as the `formats` namespace.
import type { Client, ExportOptions } from './ango'

/** What `convert` and `exportAs` write. */
export type TargetFormat = 'coco' | 'yolo' | 'yolo-seg' | 'voc'

/**
 * An ontology: the path of a JSON file, a category schema (`{ tools, classifications,
 * relations }`), an object with a `categorySchema`, a `getProject` answer, or a list of
 * tools. Its region tools (bounding box, polygon, segmentation, rotated box), in order,
 * are the classes.
 */
export type Ontology = string | Record<string, any> | any[]

/** One thing a conversion could not represent (or changed, such as `outline-to-box`). */
export interface ConversionIssue {
  /** The row's number in the export, from 1. */
  row: number
  externalId: string | null
  objectId: string | null
  /** A stable name: `not-an-image`, `classification`, `unsupported-shape`, ... */
  reason: string
  detail: string
}

/** What a conversion wrote and what it could not represent. */
export interface ConversionReport {
  format: string
  rows: number
  images: number
  annotations: number
  /** Coordinates moved inside the image (YOLO and VOC need them inside). */
  clipped: number
  rowsWithIssues: number
  issueCount: number
  /** Every issue, counted by reason. */
  byReason: Record<string, number>
  /** The first 10,000 issues, in export order. */
  issues: ConversionIssue[]
}

/** An annotation that will not be imported. */
export interface ImportIssue {
  image: string
  annotation: string | null
  reason: string
}

/** The dry run of an import: what would be imported and what does not match. */
export interface ImportReport {
  images: number
  matchedImages: number
  /** Images with no asset of that external id (left out). */
  unmatchedImages: string[]
  annotations: number
  objects: number
  items: number
  /** Annotations per category name that is not a region tool of the ontology. */
  unmatchedCategories: Record<string, number>
  issues: ImportIssue[]
}

/** `importLabels` items and the dry-run report. */
export interface ImportPlan {
  labels: Array<{ externalId: string; objects: any[] }>
  report: ImportReport
}

/**
 * Assets to match images to: objects as `getAssets` lists them (or export rows), with
 * `externalId` and `metadata.width`/`height`, or bare external ids.
 */
export type Assets = Array<string | { externalId: string; metadata?: Record<string, any>; [key: string]: any }>

export interface ConvertOptions {
  to: TargetFormat
  ontology: Ontology
  /** A file for COCO, a directory for YOLO and VOC. */
  out: string
  /** Rejects the promise with `CANCELLED` once fired. */
  signal?: AbortSignal
}

export interface ExportAsOptions {
  to: TargetFormat
  out: string
  /** Which tasks (as `exportRows`; default: the `Complete` stage); the format is ignored. */
  exportOptions?: ExportOptions
  /** Default: the project's own ontology. */
  ontology?: Ontology
  /** Cancels the export: the promise rejects with an `AngoError` of code `CANCELLED`. */
  signal?: AbortSignal
}

/**
 * Converts an export (an `.ndjson`/`.json` file path, or an array of rows: objects or
 * NDJSON lines) to `to` at `out`, streamed from a file. What the format cannot
 * represent is counted and listed in the report, never dropped silently.
 */
export declare function convert(input: string | any[], options: ConvertOptions): Promise<ConversionReport>

/** Exports a project and converts it on the fly (the export is never held in memory). */
export declare function exportAs(client: Client, projectId: string, options: ExportAsOptions): Promise<ConversionReport>

/**
 * COCO annotations (a file path or the parsed document) to `importLabels` items.
 * Images are matched to `assets` by external id (unmatched ones are reported and left
 * out); without `assets`, every image is imported under its `file_name`.
 */
export declare function cocoToImport(
  coco: string | Record<string, any>,
  ontology: Ontology,
  options?: { assets?: Assets; signal?: AbortSignal },
): Promise<ImportPlan>

/**
 * A YOLO dataset directory (`data.yaml`, `labels/`) to `importLabels` items; the assets'
 * width and height undo YOLO's normalisation.
 */
export declare function yoloToImport(dir: string, ontology: Ontology, assets: Assets): Promise<ImportPlan>
