// Every Client method against the emulator: the request it sends and its effect. Table
// methods take their required arguments positionally, then `{ ...optional, signal }`.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { setup, lastRequest, lastRequests } from './helpers.mjs'

let emulator
let client
let projectId
let taskIds = []
const dir = mkdtempSync(join(tmpdir(), 'ango-node-test-'))

before(async () => {
  ;({ emulator, client } = await setup())
  const created = await client.createProject('Methods', { description: 'every method', projectType: 'ango' })
  projectId = created.data.project._id
})

after(() => emulator.stop())

async function expectRequest(method, path) {
  const request = await lastRequest(emulator)
  assert.equal(request.method, method)
  assert.equal(request.path, path)
}

describe('projects', () => {
  test('listProjects and getProject', async () => {
    const list = await client.listProjects({ page: 1, limit: 5 })
    assert.ok(list.data.projects.some((p) => p._id === projectId))
    await expectRequest('GET', '/v2/listProjects')
    const project = await client.getProject(projectId)
    assert.equal(project.data.project.name, 'Methods')
    assert.equal(project.data.project.description, 'every method')
    await expectRequest('GET', `/v2/project/${projectId}`)
  })

  test('createLabelSet sends the ontology the core serialises', async () => {
    await client.createLabelSet(projectId, {
      tools: [
        {
          tool: 'bounding-box',
          title: 'Vehicle',
          classifications: [
            { tool: 'radio', title: 'Occluded', options: [{ value: 'yes' }, { value: 'no' }] },
          ],
        },
      ],
      classifications: [
        {
          tool: 'tree-dropdown',
          title: 'Scene',
          schemaId: 'scene',
          treeOptions: [{ title: 'Outdoor', key: 'out', children: [{ title: 'Street', key: 'street' }] }],
        },
        { tool: 'text', title: 'Notes', parentOptionId: 'street', regex: '^[a-z]+$' },
      ],
      relations: [{ tool: 'one-to-one', title: 'Follows' }],
    })
    await expectRequest('POST', `/v2/project/${projectId}`)
    const schema = (await client.getProject(projectId)).data.project.categorySchema
    const [vehicle] = schema.tools
    assert.equal(vehicle.tool, 'bounding-box')
    assert.match(vehicle.schemaId, /^[0-9a-f]{32}$/)
    assert.match(vehicle.color, /^#[0-9A-F]{6}$/)
    assert.deepEqual(
      vehicle.classifications[0].options.map((o) => o.value),
      ['yes', 'no'],
    )
    const [scene, notes] = schema.classifications
    assert.deepEqual(
      scene.options.map((o) => [o.value, o.schemaId]),
      [
        ['Outdoor', 'out'],
        ['Outdoor / Street', 'street'],
      ],
    )
    assert.equal(notes.parentOptionId, 'street')
    assert.equal(notes.regex, '^[a-z]+$')
    assert.equal(schema.relations[0].tool, 'one-to-one')
  })

  test('createLabelSet sends a raw schema as is', async () => {
    const other = (await client.createProject('Raw schema')).data.project._id
    const raw = { tools: [], classifications: [], relations: [] }
    await client.createLabelSet(other, { rawCategorySchema: raw })
    assert.deepEqual((await client.getProject(other)).data.project.categorySchema, raw)
  })

  test('an unknown tool is INVALID_ARGUMENT before any request', async () => {
    const before = emulator.requestCount
    await assert.rejects(
      client.createLabelSet(projectId, { tools: [{ tool: 'lasso', title: 'x' }] }),
      (e) => e.code === 'INVALID_ARGUMENT' && /lasso/.test(e.message),
    )
    assert.equal(emulator.requestCount, before)
  })

  test('cloneProject, deleteProject, purgeProject', async () => {
    const source = (await client.createProject('To clone')).data.project._id
    const clone = await client.cloneProject(source, { batches: false })
    await expectRequest('POST', `/v2/project/${source}/clone`)
    const cloneId = clone.data.project._id
    assert.notEqual(cloneId, source)
    await client.deleteProject(cloneId)
    await expectRequest('DELETE', `/v2/project/${cloneId}`)
    await client.purgeProject(source, 'To clone')
    await expectRequest('POST', `/v2/project/${source}/purge`)
  })

  test('workflow, benchmark and validation settings', async () => {
    const { stages } = (await client.getProject(projectId)).data.project
    await client.updateWorkflowStages(projectId, stages)
    await expectRequest('POST', `/v2/project/${projectId}`)
    await client.updateBenchmarkSettings(projectId, true, { benchmarkRatio: 10, benchmarkCutoff: false })
    await expectRequest('POST', `/v2/project/${projectId}`)
    const project = (await client.getProject(projectId)).data.project
    assert.equal(project.benchmarkEnabled, true)
    assert.equal(project.benchmarkRatio, 10)
    await client.updateLabelValidation(projectId, { customValidationEnabled: false })
    await expectRequest('POST', `/v2/project/${projectId}/labelValidation`)
  })

  test('addMembersToProject, getMetrics, getProjectPerformance', async () => {
    await client.addMembersToProject(projectId, [emulator.adminEmail], 'Reviewer')
    await expectRequest('POST', `/v2/project/${projectId}/assigned`)
    await client.getMetrics(projectId, 'TimePerTask')
    await expectRequest('GET', `/v2/${projectId}/overview/TimePerTask`)
    await client.getProjectPerformance(projectId, { interval: [new Date('2024-01-01T00:00:00Z'), '2024-02-01'] })
    await expectRequest('POST', `/v2/performance/${projectId}`)
    await assert.rejects(client.getMetrics(projectId, 'Speed'), { code: 'INVALID_ARGUMENT' })
  })

  test('asset-builder templates and rerunWebhook', async () => {
    await client.createAssetBuilderTemplate(projectId, {
      name: 'Pair',
      template: '<div>{{left}}</div>',
      externalIdColumn: 'id',
      dataConfig: { id: { type: 'text' }, left: { type: 'text' } },
    })
    await expectRequest('POST', `/v2/project/${projectId}/assetBuilderTemplates`)
    const templates = await client.getAssetBuilderTemplates(projectId)
    assert.ok(Array.isArray(templates))
    const csv = join(dir, 'pairs.csv')
    writeFileSync(csv, 'id;left\nrow-1;hello\nrow-2;world\n')
    // A project of its own, so that the assets below are counted without these.
    const builderProject = (await client.createProject('Builder')).data.project._id
    await client.createAssetBuilderTemplate(builderProject, {
      name: 'Pair',
      template: '<div>{{left}}</div>',
      externalIdColumn: 'id',
      dataConfig: { id: { type: 'text' }, left: { type: 'text' } },
    })
    const brushUrl = await client.uploadBrushArray(builderProject, [2, 2], [0, 1, 1, 0])
    assert.ok(brushUrl.endsWith('.png') && !brushUrl.includes('?'))
    await assert.rejects(client.uploadBrushArray(builderProject, [2, 2], [0, 1, 1]), { code: 'INVALID_ARGUMENT' })
    const [template] = await client.getAssetBuilderTemplates(builderProject)
    const built = await client.uploadFilesWithAssetBuilder(builderProject, template._id, csv, { parseConfig: { delimiter: ';' } })
    assert.equal(built.data.assets.assetsCreated, 2)
    await expectRequest('POST', `/v2/project/${builderProject}/cloud`)
    await assert.rejects(client.uploadFilesWithAssetBuilder(builderProject, 'nope', csv), { code: 'NOT_FOUND' })
    const stage = (await client.getProject(projectId)).data.project.stages[0].id
    await client.rerunWebhook(projectId, stage).catch(() => {})
    // The official path has a double slash; the emulator logs it normalised.
    await expectRequest('POST', `/v2/project/${projectId}/rerun-webhook`)
  })
})

describe('assets, tasks and batches', () => {
  test('uploadFiles uploads in parallel and reports each file', async () => {
    const paths = ['a.jpg', 'b.jpg', 'c.jpg'].map((name) => {
      const path = join(dir, name)
      writeFileSync(path, Buffer.from(`image ${name}`))
      return path
    })
    const progress = []
    const report = await client.uploadFiles(
      projectId,
      [
        paths[0],
        { path: paths[1], externalId: 'second', metadata: { camera: 2 } },
        paths[2],
        join(dir, 'missing.jpg'),
      ],
      { onProgress: (done, total) => progress.push([done, total]) },
    )
    // Progress events are queued to the event loop; let them arrive.
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(progress[0], [0, 4])
    assert.deepEqual(progress.at(-1), [4, 4])
    assert.equal(report.files.length, 4)
    // The core's one shape of the upload report.
    assert.deepEqual(
      report.files.map((f) => f.status.outcome),
      ['uploaded', 'uploaded', 'uploaded', 'failed'],
    )
    assert.equal(report.files[1].external_id, 'second')
    assert.equal(report.registration_error, null)
    assert.match(report.files[3].status.error, /missing\.jpg/)
    assert.ok(report.response)
    const tasks = await client.getTasks(projectId, { limit: 10 })
    assert.equal(tasks.data.tasks.length, 3)
    taskIds = tasks.data.tasks.map((t) => t._id)
  })

  test('uploadFilesCloud registers assets by URL', async () => {
    await client.uploadFilesCloud(projectId, [
      { data: 'https://example.com/d.jpg', externalId: 'd.jpg' },
    ])
    await expectRequest('POST', `/v2/project/${projectId}/cloud`)
    const assets = await client.getAssets(projectId, { filters: { externalId: 'd.jpg' } })
    assert.equal(assets.data.assets.length, 1)
  })

  test('getAssets pages and filters', async () => {
    const page = await client.getAssets(projectId, { page: 1, limit: 2 })
    assert.equal(page.data.assets.length, 2)
    assert.equal(page.data.total, 4)
    await expectRequest('GET', `/v2/project/${projectId}/assets`)
  })

  test('getTask, getTasks with a TaskFilter, getTaskHistory', async () => {
    const task = await client.getTask(taskIds[0], { includeAnswer: true })
    assert.equal(task.data.task._id, taskIds[0])
    await expectRequest('GET', `/v2/task/${taskIds[0]}`)
    const second = await client.getTasks(projectId, {
      taskFilter: { externalId: 'second', stage: ['Label', 'Start'] },
    })
    assert.equal(second.data.tasks.length, 1)
    const none = await client.getTasks(projectId, { taskFilter: { externalId: { regex: '^zzz' } } })
    assert.equal(none.data.tasks.length, 0)
    await client.getTaskHistory({ taskId: taskIds[0] })
    await expectRequest('GET', `/v2/task/${taskIds[0]}/history`)
    assert.deepEqual(await client.getTaskHistory(), {})
  })

  test('assignTask, annotateTask, reviewTask', async () => {
    await client.assignTask(projectId, [taskIds[0]], 'Label', emulator.adminEmail)
    await expectRequest('POST', '/v2/task/assign')
    const ok = await client.annotateTask(taskIds[0], {
      answer: { classifications: [{ schemaId: 'scene', answer: 'street' }] },
    })
    assert.equal(ok, true)
    await expectRequest('POST', `/v2/annotate/${taskIds[0]}`)
    const stored = (await client.getTask(taskIds[0], { includeAnswer: true })).data.task.answer
    assert.equal(stored.classifications.length, 1)
    await client.reviewTask(taskIds[0], 'Accepted')
    await expectRequest('POST', `/v2/review/${taskIds[0]}`)
  })

  test('importLabels', async () => {
    await client.importLabels(projectId, [
      { externalId: 'second', classifications: [{ schemaId: 'scene', answer: 'out' }] },
    ])
    await expectRequest('POST', '/v2/import/labels')
  })

  test('requeueTasks, updateTasksPriority, setTasksAsBenchmark', async () => {
    await client.requeueTasks(projectId, 'Label', { filters: { taskIds: [taskIds[1]] }, options: { removeAssignee: true } })
    await expectRequest('POST', `/v2/project/${projectId}/requeueTasks`)
    await client.updateTasksPriority(projectId, 7, { filters: { taskIds: [taskIds[2]] } })
    await expectRequest('POST', `/v2/project/${projectId}/updatePriority`)
    const task = (await client.getTask(taskIds[2])).data.task
    assert.equal(task.priority, 7)
    await client.setTasksAsBenchmark(projectId, [taskIds[2]])
    await expectRequest('POST', `/v2/project/${projectId}/benchmark-tasks`)
    await assert.rejects(client.updateTasksPriority(projectId, 1, { filters: [1, 2] }), { code: 'INVALID_ARGUMENT' })
  })

  test('batches', async () => {
    await client.createBatch(projectId, 'first')
    await expectRequest('POST', `/v2/batches/${projectId}`)
    await client.createBatches(projectId, ['first', 'second'])
    const batches = await client.getBatches(projectId)
    assert.deepEqual(batches.map((b) => b.name).sort(), ['first', 'second'])
    const assets = (await client.getAssets(projectId)).data.assets
    await client.assignBatches(projectId, [assets[0]._id], [batches[0]._id])
    await expectRequest('POST', '/v2/assignBatches')
    await assert.rejects(client.getProjectPerformance(projectId, { batches: ['nope'] }), { code: 'NOT_FOUND' })
  })

  test('createAttachment and deleteAssets', async () => {
    const assets = (await client.getAssets(projectId, { filters: { externalId: 'd.jpg' } })).data.assets
    await client.createAttachment(projectId, [
      { externalId: 'd.jpg', attachments: [{ type: 'TEXT', value: 'see also' }] },
    ])
    await expectRequest('POST', '/v2/attachments')
    await client.deleteAssets(projectId, [assets[0]._id])
    await expectRequest('DELETE', `/v2/project/${projectId}/assets`)
    const left = await client.getAssets(projectId, { filters: { externalId: 'd.jpg' } })
    assert.equal(left.data.assets.length, 0)
  })

  test('signed URLs and instructions', async () => {
    const url = await client.getUploadUrl('x.png', projectId, 'assets')
    assert.match(url, /^http:\/\/127\.0\.0\.1/)
    await expectRequest('GET', '/v2/getUploadUrl')
    const signed = await client.getSignedUrl('http://127.0.0.1/files/x.png', projectId, 'assets')
    assert.equal(typeof signed, 'string')
    const instructions = join(dir, 'instructions.pdf')
    writeFileSync(instructions, '%PDF-1.4 test')
    await client.uploadInstructions(projectId, instructions)
    await expectRequest('POST', `/v2/project/${projectId}/instructions`)
    await assert.rejects(client.uploadInstructions(projectId, join(dir, 'none.pdf')), { code: 'IO' })
  })

  test('uploadChatAssets', async () => {
    await client.uploadChatAssets(projectId, { numberOfAssets: 2 })
    await expectRequest('POST', `/v2/project/${projectId}/chat`)
    await assert.rejects(client.uploadChatAssets(projectId, { numberOfAssets: 0 }), {
      code: 'INVALID_ARGUMENT',
    })
  })
})

describe('issues', () => {
  test('create, list, update, comment, delete', async () => {
    const created = await client.createIssue(taskIds[0], 'Box too loose', { position: [10, 20] })
    await expectRequest('POST', '/v2/issues')
    const issueId = created.data.issue._id
    const issues = await client.getIssues(projectId, { taskId: taskIds[0] })
    assert.ok(issues.data.issues.some((i) => i._id === issueId))
    await client.updateIssue(issueId, { status: 'Resolved' })
    await expectRequest('POST', `/v2/issues/${issueId}`)
    await client.addCommentToIssue(issueId, 'fixed now')
    await expectRequest('POST', `/v2/issues/${issueId}/comment`)
    await client.deleteIssue(projectId, issueId)
    await expectRequest('DELETE', `/v2/issues/${issueId}`)
    await assert.rejects(client.createIssue(taskIds[0], 'x', { objectId: 'o', page: 1 }), {
      code: 'INVALID_ARGUMENT',
    })
  })
})

describe('organization, storage and LLMs', () => {
  test('members and invites', async () => {
    const org = emulator.organizationId
    const members = await client.getOrganizationMembers(org)
    assert.ok(JSON.stringify(members).includes(emulator.adminEmail))
    await expectRequest('GET', `/v2/organization/${org}/users`)
    await client.inviteMembersToOrg(org, {
      to: ['new@example.com'],
      organizationRole: 'member',
      projectAssignments: [{ projectId, projectRole: 'Labeler' }],
    })
    await expectRequest('POST', `/v2/organization/${org}/invites`)
    const invites = await client.getOrganizationInvites(org)
    assert.ok(JSON.stringify(invites).includes('new@example.com'))
    await client.deleteOrganizationInvites(org, ['new@example.com'])
    await expectRequest('DELETE', `/v2/organization/${org}/invites`)
    await client.updateOrganizationMembersRole(org, [{ email: emulator.adminEmail, organizationRole: 'admin' }])
    await expectRequest('POST', `/v2/organization/${org}/users`)
    await client.deleteOrganizationMembers(org, ['nobody@example.com'])
    await expectRequest('DELETE', `/v2/organization/${org}/users`)
    await assert.rejects(
      client.inviteMembersToOrg(org, { to: ['x@example.com'], organizationRole: 'owner' }),
      { code: 'INVALID_ARGUMENT' },
    )
  })

  test('sendNotification', async () => {
    await client.sendNotification([emulator.adminEmail], 'hello', { title: 'Title', clickableLink: 'https://example.com' })
    await expectRequest('POST', '/v2/notifications')
  })

  test('storages', async () => {
    const created = await client.createStorage({
      name: 'bucket',
      provider: 'AWS',
      publicKey: 'AKIA',
      privateKey: 'secret',
      region: 'eu-west-1',
    })
    await expectRequest('POST', '/v2/storages')
    const storageId = created.data.storage._id
    const one = await client.getStorages({ storageId })
    assert.equal(one._id, storageId)
    await client.listStorageFiles(storageId, 'bucket', { path: 'images/' })
    await expectRequest('GET', `/v2/storages/${storageId}/files`)
    await client.fileExplorer('bucket', storageId, { options: { path: '' } })
    await expectRequest('POST', '/v2/file-explorer')
    await client.deleteStorage(storageId)
    await expectRequest('DELETE', `/v2/storages/${storageId}`)
  })

  test('LLMs', async () => {
    const created = await client.createLlm({
      name: 'gpt',
      provider: 'openai',
      model: 'gpt-4o',
      apiKey: 'sk-test',
    })
    await expectRequest('POST', '/v2/llms')
    const llmId = created.data.llm._id
    const one = await client.getLlms({ llmId })
    assert.equal(one._id, llmId)
    await client.deleteLlm(llmId)
    await expectRequest('DELETE', `/v2/llms/${llmId}`)
  })

  test('plugin callbacks', async () => {
    await client.pluginLog({ session: 's', logs: [] })
    await expectRequest('POST', '/v2/pluginLog')
    await client.pluginResponse({ session: 's', response: 'done' })
    await expectRequest('POST', '/v2/pluginResponse')
  })
})

describe('makeRequest', () => {
  test('sends any request and returns the answer', async () => {
    const answer = await client.makeRequest('get', `/v2/project/${projectId}`)
    assert.equal(answer.data.project._id, projectId)
    await expectRequest('GET', `/v2/project/${projectId}`)
    await assert.rejects(client.makeRequest('GET', 'v2/x'), { code: 'INVALID_ARGUMENT' })
  })
})

describe('export', () => {
  test('exportV3 JSON resolves to the parsed export', async () => {
    const rows = await client.exportV3(projectId, { stage: ['Label', 'Complete', 'Start'] })
    assert.ok(Array.isArray(rows))
    assert.ok(rows.length >= 1)
    const recent = await lastRequests(emulator, 5)
    assert.ok(recent.some((r) => r.method === 'GET' && r.path === '/v2/export'))
    assert.deepEqual(await client.export(projectId, { stage: ['Label', 'Complete', 'Start'] }), rows)
  })

  test('exportToFile and requestExport', async () => {
    const path = join(dir, 'export.zip')
    const bytes = await client.exportToFile(projectId, path)
    assert.equal(statSync(path).size, bytes)
    const url = await client.requestExport(projectId, { exportFormat: 'ndjson' })
    assert.match(url, /^http/)
    assert.equal(await client.exportV3(projectId, { zipFilePath: join(dir, 'again.zip') }), null)
    await assert.rejects(client.exportV3(projectId, { exportFormat: 'xml' }), { code: 'INVALID_ARGUMENT' })
    // No path, or a path where no archive is saved, is refused before anything is sent.
    await assert.rejects(client.exportToFile(projectId), { code: 'INVALID_ARGUMENT', message: /path/ })
    await assert.rejects(client.exportRows(projectId, { zipFilePath: path }), { code: 'INVALID_ARGUMENT' })
    await assert.rejects(client.requestExport(projectId, { zipFilePath: path }), { code: 'INVALID_ARGUMENT' })
  })
})
