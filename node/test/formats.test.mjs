// The format converters (formats.js): COCO, YOLO and VOC from the shared fixture
// export, COCO and YOLO back to the import format, and exportAs on the emulator.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import ango, { AngoClient, AngoError, convert, cocoToImport, exportAs, formats, yoloToImport } from '../ango.mjs'
import { setup } from './helpers.mjs'

const FIXTURES = fileURLToPath(new URL('../../tests/fixtures/formats/', import.meta.url))
const EXPORT = join(FIXTURES, 'export.ndjson')
const ONTOLOGY = join(FIXTURES, 'ontology.json')

// What converting the fixture export reports, per format (shared with the Rust and Python suites).
const EXPECTED = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8'))

let dir
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ango-formats-'))
})
after(() => rmSync(dir, { recursive: true, force: true }))

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'))

function issue(report, reason, objectId) {
  const found = report.issues.find((i) => i.reason === reason && (objectId === undefined || i.objectId === objectId))
  assert.ok(found, `no ${reason} issue in ${JSON.stringify(report.issues)}`)
  return found
}

/** Export rows with boxes and polygons on images of known sizes. */
function generatedRows(n) {
  return Array.from({ length: n }, (_, i) => ({
    externalId: `img-${i}.jpg`,
    asset: `https://s/img-${i}.jpg`,
    metadata: { width: 640 + i, height: 480 },
    task: {
      taskId: `t${i}`,
      tools: [
        { objectId: `b${i}`, schemaId: 'schema00000000000000car', title: 'Car', 'bounding-box': { x: 10 + i, y: 20, width: 30, height: 40 + i } },
        { objectId: `p${i}`, schemaId: 'schema0000000000000road', title: 'Road', polygon: [[0, 100], [150, 100 + i], [150, 200], [0, 200]] },
      ],
    },
  }))
}

test('convert: the fixture export to COCO, with every unrepresentable row reported', async () => {
  const out = join(dir, 'coco.json')
  const report = await convert(EXPORT, { to: 'coco', ontology: ONTOLOGY, out })
  assert.deepEqual([report.format, report.rows, report.images, report.annotations], ['coco', 11, 7, 8])
  assert.deepEqual(report.byReason, EXPECTED.coco.byReason)
  const { byReason, ...counts } = EXPECTED.coco
  assert.ok(byReason)
  for (const [name, value] of Object.entries(counts)) assert.equal(report[name], value, name)
  assert.equal(report.issueCount, 13)
  assert.equal(report.issues.length, 13)
  assert.equal(report.rowsWithIssues, 8)

  const coco = readJson(out)
  assert.deepEqual(coco.categories.map((c) => c.name), ['Car', 'Road', 'Person', 'Sign'])
  assert.equal(coco.images.length, 7)
  assert.equal(coco.annotations.length, 8)
  const o1 = coco.annotations.find((a) => a.ango_object_id === 'o1')
  assert.deepEqual(o1.bbox, [10, 20, 100, 50])

  const point = issue(report, 'unsupported-shape', 'o6')
  assert.deepEqual([point.row, point.externalId, point.detail], [2, 'cat2.jpg', 'point'])
  const pdf = issue(report, 'not-an-image')
  assert.deepEqual([pdf.row, pdf.detail], [3, 'pdf'])
  assert.equal(issue(report, 'unreadable-row').row, 7)
})

test('convert: rows in memory and ontology objects give the same result', async () => {
  const lines = readFileSync(EXPORT, 'utf8').split('\n').filter((l) => l.trim())
  const ontology = readJson(ONTOLOGY)
  const expected = await convert(EXPORT, { to: 'coco', ontology: ONTOLOGY, out: join(dir, 'a.json') })
  // NDJSON lines as text are read as the file is.
  const fromLines = await convert(lines, { to: 'coco', ontology, out: join(dir, 'b.json') })
  assert.deepEqual(fromLines, expected)
  assert.deepEqual(readJson(join(dir, 'b.json')), readJson(join(dir, 'a.json')))
  const wrapped = { data: { project: { categorySchema: ontology } } }
  assert.deepEqual(await formats.convert(lines, { to: 'coco', ontology: wrapped, out: join(dir, 'c.json') }), expected)
  assert.deepEqual(await ango.convert(lines, { to: 'coco', ontology: ontology.tools, out: join(dir, 'd.json') }), expected)
})

test('convert: YOLO detection and VOC', async () => {
  const root = join(dir, 'yolo')
  const report = await convert(EXPORT, { to: 'yolo', ontology: ONTOLOGY, out: root })
  assert.equal(report.format, 'yolo')
  assert.deepEqual(report.byReason, EXPECTED.yolo.byReason)
  assert.deepEqual([report.images, report.annotations], [EXPECTED.yolo.images, EXPECTED.yolo.annotations])
  assert.equal(report.byReason.classification, 1)
  assert.ok(report.byReason['outline-to-box'] >= 1, 'outlines kept as boxes are reported')
  const yaml = readFileSync(join(root, 'data.yaml'), 'utf8')
  assert.match(yaml, /Car/)
  assert.doesNotMatch(yaml, /Pin/)
  const files = readdirSync(join(root, 'labels'), { recursive: true }).filter((f) => f.endsWith('.txt'))
  assert.equal(files.length, report.images)
  // An image without boxes has an empty label file.
  const lines = files.flatMap((f) => readFileSync(join(root, 'labels', f), 'utf8').split('\n').filter(Boolean))
  assert.equal(lines.length, report.annotations)
  for (const line of lines) {
    const values = line.split(' ')
    assert.equal(values.length, 5)
    assert.ok(values.slice(1).every((v) => Number(v) >= 0 && Number(v) <= 1), line)
  }
  const voc = await convert(EXPORT, { to: 'voc', ontology: ONTOLOGY, out: join(dir, 'voc') })
  assert.deepEqual(voc.byReason, EXPECTED.voc.byReason)
  const xml = readdirSync(join(dir, 'voc'), { recursive: true }).filter((f) => f.endsWith('.xml'))
  assert.equal(xml.length, voc.images)
})

test('convert: errors are AngoErrors with a code, and reject', async () => {
  const rejects = (promise, code, message) =>
    assert.rejects(promise, (err) => {
      assert.ok(err instanceof AngoError, String(err))
      assert.equal(err.code, code)
      if (message) assert.match(err.message, message)
      return true
    })
  await rejects(convert(EXPORT, { to: 'tiff', ontology: ONTOLOGY, out: join(dir, 'x') }), 'INVALID_ARGUMENT', /unknown format/)
  await rejects(convert(join(dir, 'missing.ndjson'), { to: 'coco', ontology: ONTOLOGY, out: join(dir, 'x.json') }), 'IO')
  await rejects(convert(EXPORT, { to: 'coco', ontology: join(dir, 'none.json'), out: join(dir, 'x.json') }), 'IO')
  writeFileSync(join(dir, 'bad.json'), '{not json')
  await rejects(convert(EXPORT, { to: 'coco', ontology: join(dir, 'bad.json'), out: join(dir, 'x.json') }), 'DECODE')
  await rejects(convert(EXPORT, { to: 'coco', ontology: { tools: [{ tool: 'laser' }] }, out: join(dir, 'x.json') }), 'INVALID_ARGUMENT')
  await rejects(convert(42, { to: 'coco', ontology: ONTOLOGY, out: join(dir, 'x.json') }), 'INVALID_ARGUMENT')
  await rejects(convert(EXPORT), 'INVALID_ARGUMENT', /options object/)
  await rejects(convert(EXPORT, { to: 7, ontology: ONTOLOGY, out: 'x' }), 'INVALID_ARGUMENT')
})

const COCO = {
  images: [
    { id: 1, file_name: 'train/cat1.jpg', width: 10, height: 10 },
    { id: 2, file_name: 'missing.jpg', width: 10, height: 10 },
    { id: 3, file_name: 'cat2.jpg', width: 10, height: 10 },
  ],
  categories: [{ id: 7, name: 'car ' }, { id: 8, name: 'Bicycle' }],
  annotations: [
    { id: 1, image_id: 1, category_id: 7, bbox: [1, 2, 3, 4] },
    { id: 2, image_id: 1, category_id: 8, bbox: [1, 2, 3, 4] },
    { id: 3, image_id: 2, category_id: 7, bbox: [1, 2, 3, 4] },
    { id: 4, image_id: 3, category_id: 7, bbox: [0, 0, 5, 5], segmentation: [[0, 0, 5, 0, 5, 5]] },
  ],
}

test('cocoToImport matches images to assets by external id and reports the rest', async () => {
  const assets = [{ externalId: 'cat1.jpg', metadata: { width: 10, height: 10 } }, 'cat2.jpg']
  const { labels, report } = await cocoToImport(COCO, ONTOLOGY, { assets })
  assert.deepEqual([report.images, report.matchedImages, report.annotations], [3, 2, 4])
  assert.deepEqual(report.unmatchedImages, ['missing.jpg'])
  assert.deepEqual(report.unmatchedCategories, { Bicycle: 1 })
  assert.equal(report.items, 2)
  const byId = Object.fromEntries(labels.map((item) => [item.externalId, item.objects]))
  assert.deepEqual(byId['cat1.jpg'], [
    { schemaId: 'schema00000000000000car', title: 'Car', 'bounding-box': { x: 1, y: 2, width: 3, height: 4 } },
  ])
  assert.deepEqual(byId['cat2.jpg'][0]['bounding-box'], { x: 0, y: 0, width: 5, height: 5 })

  // From a file, without assets: every image under its file_name.
  writeFileSync(join(dir, 'in.json'), JSON.stringify(COCO))
  const plain = await cocoToImport(join(dir, 'in.json'), ONTOLOGY)
  assert.equal(plain.report.matchedImages, 3)
  assert.deepEqual(plain.labels.map((l) => l.externalId).sort(), ['cat2.jpg', 'missing.jpg', 'train/cat1.jpg'])

  await assert.rejects(cocoToImport({ images: 3 }, ONTOLOGY), (e) => e instanceof AngoError && e.code === 'INVALID_ARGUMENT')
  await assert.rejects(cocoToImport(COCO, ONTOLOGY, { assets: [{ id: 1 }] }), (e) => e.code === 'INVALID_ARGUMENT' && /assets\[0\]/.test(e.message))
  await assert.rejects(cocoToImport(join(dir, 'none.json'), ONTOLOGY), (e) => e.code === 'IO')
})

test('COCO and YOLO round trips through the import format keep every box', async () => {
  const rows = generatedRows(8)
  const report = await convert(rows, { to: 'coco', ontology: ONTOLOGY, out: join(dir, 'gen.json') })
  assert.equal(report.issueCount, 0)
  const { labels, report: dryRun } = await cocoToImport(join(dir, 'gen.json'), ONTOLOGY, { assets: rows })
  assert.deepEqual(dryRun.unmatchedImages, [])
  assert.equal(dryRun.objects, 16)
  const boxes = Object.fromEntries(labels.flatMap((l) => l.objects).filter((o) => o['bounding-box']).map((o) => [o.objectId, o['bounding-box']]))
  for (const row of rows) assert.deepEqual(boxes[`b${row.task.taskId.slice(1)}`], row.task.tools[0]['bounding-box'])

  const root = join(dir, 'gen-yolo')
  const yolo = await convert(rows, { to: 'yolo-seg', ontology: ONTOLOGY, out: root })
  const back = await yoloToImport(root, ONTOLOGY, rows)
  assert.equal(back.report.matchedImages, 8)
  assert.equal(back.report.annotations, yolo.annotations)
  assert.deepEqual(back.report.issues, [])
  writeFileSync(join(root, 'labels', 'stranger.txt'), '0 0.5 0.5 0.1 0.1\n')
  const noSize = [{ ...rows[0], metadata: {} }, ...rows.slice(1)]
  const partial = await yoloToImport(root, ONTOLOGY, noSize)
  assert.deepEqual(partial.report.unmatchedImages, ['labels/stranger.txt'])
  assert.ok(partial.report.issues.some((i) => /no width\/height/.test(i.reason)))
})

test('exportAs streams a project of the emulator to COCO', async () => {
  const { emulator, client } = await setup()
  try {
    const projectId = (await client.createProject('Formats')).data.project._id
    await client.createLabelSet(projectId, { rawCategorySchema: readJson(ONTOLOGY) })
    const rows = generatedRows(5)
    await client.uploadFilesCloud(projectId, rows.map((r) => ({ data: r.asset, externalId: r.externalId, metadata: r.metadata })))
    await convert(rows, { to: 'coco', ontology: ONTOLOGY, out: join(dir, 'src.json') })
    const assets = (await client.getAssets(projectId, { limit: 50 })).data.assets
    const { labels, report: dryRun } = await cocoToImport(join(dir, 'src.json'), ONTOLOGY, { assets })
    assert.equal(dryRun.matchedImages, 5)
    await client.importLabels(projectId, labels)

    // The project's own ontology; the imported tasks wait in the Label stage.
    const out = join(dir, 'exported.json')
    const report = await exportAs(client, projectId, { to: 'coco', out, exportOptions: { stage: ['Label'] } })
    assert.deepEqual([report.images, report.annotations, report.issueCount], [5, 10, 0])
    const coco = readJson(out)
    assert.deepEqual(coco.images.map((i) => i.file_name).sort(), rows.map((r) => r.externalId).sort())
    assert.equal(coco.annotations.length, 10)
    assert.deepEqual(coco.categories.map((c) => c.name), ['Car', 'Road', 'Person', 'Sign'])

    const yolo = await exportAs(client, projectId, { to: 'yolo-seg', out: join(dir, 'ey'), exportOptions: { stage: ['Label'] }, ontology: ONTOLOGY })
    assert.deepEqual([yolo.images, yolo.annotations], [5, 10])
    // The default options export the Complete stage only, empty here.
    const complete = await exportAs(client, projectId, { to: 'coco', out: join(dir, 'complete.json') })
    assert.equal(complete.rows, 0)

    await assert.rejects(exportAs(client, projectId, { to: 'gif', out: join(dir, 'g') }), (e) => e.code === 'INVALID_ARGUMENT')
    await assert.rejects(exportAs({}, projectId, { to: 'coco', out: join(dir, 'g') }), (e) => e.code === 'INVALID_ARGUMENT')
    await assert.rejects(exportAs(client, 'no-such-project', { to: 'coco', out: join(dir, 'n.json') }), AngoError)
  } finally {
    emulator.stop()
  }
})

test('exportAs rejects with the server error of a failing hub and leaves no output', async () => {
  const server = createServer((req, res) => {
    req.resume()
    res.writeHead(500, { 'content-type': 'application/json' })
    res.end('{"status":"error","message":"export broke"}')
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const sub = mkdtempSync(join(dir, 'failing-'))
  try {
    const client = new AngoClient({ apiKey: 'k', host: `http://127.0.0.1:${server.address().port}`, maxRetries: 0 })
    const out = join(sub, 'coco.json')
    await assert.rejects(exportAs(client, 'p1', { to: 'coco', out, ontology: ONTOLOGY }), (e) => e instanceof AngoError && e.code === 'HTTP' && e.status === 500)
    // Without an ontology, the project's is read first: that fails the same way.
    await assert.rejects(exportAs(client, 'p1', { to: 'coco', out }), (e) => e.code === 'HTTP')
    assert.deepEqual(readdirSync(sub), [])
  } finally {
    server.close()
  }
})
