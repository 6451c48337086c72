// ESM entry: the same objects as the CommonJS entry.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const ango = require('./ango.js')

export const { Client, AngoClient, AngoError, RowStream, Emulator, startEmulator } = ango
export const { Plugin, ExportPlugin, ModelPlugin, BatchModelPlugin, FileExplorerPlugin, InputPlugin, MarkdownPlugin, runPlugin, PLUGIN_KINDS } = ango
export const { formats, convert, exportAs, cocoToImport, yoloToImport } = ango
export default ango
