// The package works as CommonJS and as ESM, with the same objects.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

import * as esm from 'ango-hub'

const require = createRequire(import.meta.url)

test('require and import give the same API', () => {
  const cjs = require('ango-hub')
  for (const name of ['Client', 'AngoClient', 'AngoError', 'RowStream', 'Emulator', 'startEmulator']) {
    assert.equal(typeof cjs[name], 'function', name)
    assert.equal(esm[name], cjs[name], name)
  }
  assert.equal(esm.default, cjs)
})

test('every core method is on the client, camelCased', () => {
  const { AngoClient } = require('ango-hub')
  const methods = [
    'listProjects', 'getProject', 'createProject', 'cloneProject', 'deleteProject', 'purgeProject',
    'createLabelSet', 'updateWorkflowStages', 'updateBenchmarkSettings', 'updateLabelValidation',
    'addMembersToProject', 'getMetrics', 'getProjectPerformance', 'getAssetBuilderTemplates',
    'createAssetBuilderTemplate', 'rerunWebhook', 'getTask', 'getTasks', 'iterTasks',
    'getTaskHistory', 'assignTask', 'importLabels', 'annotateTask', 'reviewTask', 'requeueTasks',
    'updateTasksPriority', 'setTasksAsBenchmark', 'pluginLog', 'pluginResponse', 'getAssets',
    'iterAssets', 'iterProjects', 'deleteAssets', 'createAttachment', 'getBatches', 'createBatch',
    'createBatches', 'assignBatches', 'createIssue', 'getIssues', 'updateIssue',
    'addCommentToIssue', 'deleteIssue', 'getOrganizationMembers', 'updateOrganizationMembersRole',
    'deleteOrganizationMembers', 'getOrganizationInvites', 'inviteMembersToOrg',
    'deleteOrganizationInvites', 'sendNotification', 'getLlms', 'createLlm', 'deleteLlm',
    'getStorages', 'createStorage', 'deleteStorage', 'listStorageFiles', 'fileExplorer',
    'getUploadUrl', 'getSignedUrl', 'uploadFiles', 'uploadFilesCloud', 'uploadInstructions',
    'uploadChatAssets', 'exportV3', 'export', 'exportRows', 'exportToFile', 'requestExport',
    'makeRequest',
  ]
  for (const name of methods) assert.equal(typeof AngoClient.prototype[name], 'function', name)
})

test("every method of the core's table is attached, with its camelCase name", () => {
  const { Client } = require('ango-hub')
  const table = JSON.parse(require('../index.js').methods())
  assert.ok(table.length > 50)
  for (const method of table) {
    const fn = Client.prototype[method.node_name]
    assert.equal(typeof fn, 'function', method.node_name)
    assert.equal(fn.name, method.node_name)
  }
})
