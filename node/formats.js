'use strict'
// Format converters (ango-core's `formats`): Ango exports to COCO, YOLO and Pascal
// VOC, a project's export straight to one of them, and COCO or YOLO annotations back
// to Ango's import format. Each call is a Promise computed on the libuv thread pool;
// this file only names the arguments (their defaults and checks are the core's).
// `ango.js` calls these with `this` holding the call's cancellation token and `json`,
// which writes the arguments as JSON text (refusing circular ones), and makes
// them reject with `AngoError`s (and on `signal`).

const native = require('./index.js')

// A missing options object is an argument error (`InvalidArg`, which ango.js turns
// into an `AngoError` with code `INVALID_ARGUMENT`, as napi's own argument errors).
function options(value, name) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw Object.assign(new TypeError(`${name}: expected an options object`), { code: 'InvalidArg' })
  }
  return value
}

/**
 * Converts an export (an `.ndjson`/`.json` file path, or an array of rows) to
 * `to` (`'coco'`, `'yolo'`, `'yolo-seg'`, `'voc'`) at `out`; resolves to the report.
 */
function convert(input, opts) {
  const { to, ontology, out } = options(opts, 'convert(input, { to, ontology, out })')
  return native.formatsCall('convert', this.json({ export: input, to, ontology, out }))
}

/** Exports a project and converts it on the fly to `to` at `out`. */
function exportAs(client, projectId, opts) {
  const { to, out, exportOptions, ontology } = options(opts, 'exportAs(client, projectId, { to, out })')
  const nativeClient = this && this.nativeOf ? this.nativeOf(client) : client
  return native.formatsCall('export_as', this.json({ projectId, to, out, exportOptions, ontology }), nativeClient, this && this.token)
}

/** COCO annotations (a path or the parsed document) to `importLabels` items. */
function cocoToImport(coco, ontology, opts = {}) {
  const { assets } = options(opts, 'cocoToImport(coco, ontology, { assets })')
  return native.formatsCall('coco_to_import', this.json({ coco, ontology, assets }))
}

/** A YOLO dataset directory to `importLabels` items, matched to `assets`. */
function yoloToImport(dir, ontology, assets) {
  return native.formatsCall('yolo_to_import', this.json({ dir, ontology, assets }))
}

module.exports = { convert, exportAs, cocoToImport, yoloToImport }
