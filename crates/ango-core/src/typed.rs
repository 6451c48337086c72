//! The typed methods of [`Client`]: each sends the request of its namesake on
//! [`Raw`](crate::Raw) and decodes the reply into a model of [`types`](crate::types).

use serde_json::{Map, Value};

use crate::assets::GetAssetsParams;
use crate::client::Client;
use crate::error::Result;
use crate::export_row::{ExportRow, TypedRows};
use crate::issues::{CreateIssueParams, GetIssuesParams, UpdateIssueParams};
use crate::models::{ExportOptions, Llm, ProjectType, Storage};
use crate::pagination::Pages;
use crate::projects::CloneProjectOptions;
use crate::tasks::GetTasksParams;
use crate::types::{
    Asset, AssetList, Batch, Invite, InviteList, Issue, IssueData, IssueList, LlmData, LlmInfo,
    LlmList, Member, MemberList, Page, Project, ProjectData, ProjectList, StorageData, StorageInfo,
    StorageList, Task, TaskData, TaskList, decode_document,
};

impl Client {
    /// Lists projects, one page at a time (`GET /v2/listProjects`); the official
    /// defaults are page 1 and limit 10. JSON reply: [`Raw::list_projects`](crate::Raw::list_projects).
    pub fn list_projects(&self, page: u64, limit: u64) -> Result<Page<Project>> {
        let reply = self.raw().list_projects(page, limit)?;
        Ok(decode_document::<ProjectList>(reply, "a list of projects")?
            .data
            .into_page())
    }

    /// Reads one project (`GET /v2/project/{id}`), with its label set
    /// ([`Project::category_schema`]) and workflow ([`Project::stages`]).
    /// JSON reply: [`Raw::get_project`](crate::Raw::get_project).
    pub fn get_project(&self, project_id: &str) -> Result<Project> {
        let reply = self.raw().get_project(project_id)?;
        Ok(decode_document::<ProjectData>(reply, "a project")?
            .data
            .project)
    }

    /// Creates a project (`POST /v2/project`) and returns it; a missing description is
    /// sent as `""`. JSON reply: [`Raw::create_project`](crate::Raw::create_project).
    pub fn create_project(
        &self,
        name: &str,
        description: Option<&str>,
        project_type: Option<ProjectType>,
    ) -> Result<Project> {
        let reply = self.raw().create_project(name, description, project_type)?;
        Ok(decode_document::<ProjectData>(reply, "a project")?
            .data
            .project)
    }

    /// Copies a project's settings into a new project named "{name} copy"
    /// (`POST /v2/project/{id}/clone`) and returns the new project.
    /// JSON reply: [`Raw::clone_project`](crate::Raw::clone_project).
    pub fn clone_project(
        &self,
        project_id: &str,
        options: &CloneProjectOptions,
    ) -> Result<Project> {
        let reply = self.raw().clone_project(project_id, options)?;
        Ok(decode_document::<ProjectData>(reply, "a project")?
            .data
            .project)
    }

    /// Reads one task (`GET /v2/task/{id}`), with its answer when `include_answer`.
    /// JSON reply: [`Raw::get_task`](crate::Raw::get_task).
    pub fn get_task(&self, task_id: &str, include_answer: bool) -> Result<Task> {
        let reply = self.raw().get_task(task_id, include_answer)?;
        Ok(decode_document::<TaskData>(reply, "a task")?.data.task)
    }

    /// Lists a project's tasks, one page at a time (`GET /v2/project/{id}/tasks`).
    /// JSON reply: [`Raw::get_tasks`](crate::Raw::get_tasks).
    pub fn get_tasks(&self, project_id: &str, params: &GetTasksParams) -> Result<Page<Task>> {
        let reply = self.raw().get_tasks(project_id, params)?;
        Ok(decode_document::<TaskList>(reply, "a list of tasks")?
            .data
            .into_page())
    }

    /// Lists a project's assets, one page at a time (`GET /v2/project/{id}/assets`).
    /// JSON reply: [`Raw::get_assets`](crate::Raw::get_assets).
    pub fn get_assets(&self, project_id: &str, params: &GetAssetsParams) -> Result<Page<Asset>> {
        let reply = self.raw().get_assets(project_id, params)?;
        Ok(decode_document::<AssetList>(reply, "a list of assets")?
            .data
            .into_page())
    }

    /// [`Client::get_assets`] with the filters as the official SDK takes them (`None`
    /// sends `filters=null`). JSON reply: [`Raw::get_assets_page`](crate::Raw::get_assets_page).
    pub fn get_assets_page(
        &self,
        project_id: &str,
        page: u64,
        limit: u64,
        filters: Option<&Map<String, Value>>,
    ) -> Result<Page<Asset>> {
        let reply = self
            .raw()
            .get_assets_page(project_id, page, limit, filters)?;
        Ok(decode_document::<AssetList>(reply, "a list of assets")?
            .data
            .into_page())
    }

    /// A project's batches, read with [`Client::get_project`] (an empty list when the
    /// project has none). As JSON: [`Raw::get_batches`](crate::Raw::get_batches).
    pub fn get_batches(&self, project_id: &str) -> Result<Vec<Batch>> {
        Ok(self.get_project(project_id)?.batches)
    }

    /// Opens an issue on a task (`POST /v2/issues`) and returns it.
    /// JSON reply: [`Raw::create_issue`](crate::Raw::create_issue).
    pub fn create_issue(
        &self,
        task_id: &str,
        content: &str,
        params: &CreateIssueParams,
    ) -> Result<Issue> {
        let reply = self.raw().create_issue(task_id, content, params)?;
        Ok(decode_document::<IssueData>(reply, "an issue")?.data.issue)
    }

    /// Lists a project's issues (`GET /v2/issues`).
    /// JSON reply: [`Raw::get_issues`](crate::Raw::get_issues).
    pub fn get_issues(&self, project_id: &str, params: &GetIssuesParams) -> Result<Page<Issue>> {
        let reply = self.raw().get_issues(project_id, params)?;
        Ok(decode_document::<IssueList>(reply, "a list of issues")?
            .data
            .into_page())
    }

    /// Changes an issue (`POST /v2/issues/{id}`) and returns it.
    /// JSON reply: [`Raw::update_issue`](crate::Raw::update_issue).
    pub fn update_issue(&self, issue_id: &str, params: &UpdateIssueParams) -> Result<Issue> {
        let reply = self.raw().update_issue(issue_id, params)?;
        Ok(decode_document::<IssueData>(reply, "an issue")?.data.issue)
    }

    /// The organization's members (`GET /v2/organization/{id}/users`).
    /// JSON reply: [`Raw::get_organization_members`](crate::Raw::get_organization_members).
    pub fn get_organization_members(&self, organization_id: &str) -> Result<Vec<Member>> {
        let reply = self.raw().get_organization_members(organization_id)?;
        Ok(decode_document::<MemberList>(reply, "a list of members")?
            .data
            .users)
    }

    /// The organization's pending invitations.
    /// JSON reply: [`Raw::get_organization_invites`](crate::Raw::get_organization_invites).
    pub fn get_organization_invites(&self, organization_id: &str) -> Result<Vec<Invite>> {
        let reply = self.raw().get_organization_invites(organization_id)?;
        Ok(
            decode_document::<InviteList>(reply, "a list of invitations")?
                .data
                .invites,
        )
    }

    /// The organization's LLM configurations (`GET /v2/llms`); with `llm_id` (sent as
    /// `_id`), only the one with that id (none if the server has no such one).
    /// JSON reply: [`Raw::get_llms`](crate::Raw::get_llms).
    pub fn get_llms(&self, llm_id: Option<&str>) -> Result<Vec<LlmInfo>> {
        let llm_id = llm_id.filter(|id| !id.is_empty());
        let reply = self.get("/v2/llms").query_opt("_id", llm_id).send()?;
        let mut llms = decode_document::<LlmList>(reply, "a list of LLM configurations")?
            .data
            .llms;
        if let Some(id) = llm_id {
            llms.retain(|llm| llm.id.as_deref() == Some(id));
        }
        Ok(llms)
    }

    /// Adds an LLM configuration (`POST /v2/llms/`) and returns it.
    /// JSON reply: [`Raw::create_llm`](crate::Raw::create_llm).
    pub fn create_llm(&self, llm: &Llm) -> Result<LlmInfo> {
        let reply = self.raw().create_llm(llm)?;
        Ok(decode_document::<LlmData>(reply, "an LLM configuration")?
            .data
            .llm)
    }

    /// The organization's storages (`GET /v2/storages`); with `storage_id` (sent as
    /// `_id`), only the one with that id (none if the server has no such one).
    /// JSON reply: [`Raw::get_storages`](crate::Raw::get_storages).
    pub fn get_storages(&self, storage_id: Option<&str>) -> Result<Vec<StorageInfo>> {
        let storage_id = storage_id.filter(|id| !id.is_empty());
        let reply = self
            .get("/v2/storages")
            .query_opt("_id", storage_id)
            .send()?;
        let mut storages = decode_document::<StorageList>(reply, "a list of storages")?
            .data
            .storages;
        if let Some(id) = storage_id {
            storages.retain(|storage| storage.id.as_deref() == Some(id));
        }
        Ok(storages)
    }

    /// Connects a cloud storage (`POST /v2/storages/`) and returns it.
    /// JSON reply: [`Raw::create_storage`](crate::Raw::create_storage).
    pub fn create_storage(&self, storage: &Storage) -> Result<StorageInfo> {
        let reply = self.raw().create_storage(storage)?;
        Ok(decode_document::<StorageData>(reply, "a storage")?
            .data
            .storage)
    }

    /// Every task of a project matching `params`, as [`Task`]s (pages as
    /// [`Raw::iter_tasks`](crate::Raw::iter_tasks), which yields JSON values; each item is
    /// decoded straight from the reply's text).
    pub fn iter_tasks(
        &self,
        project_id: &str,
        params: &GetTasksParams,
        page_size: Option<u64>,
    ) -> Result<Pages<Task>> {
        Ok(self
            .raw()
            .iter_tasks(project_id, params, page_size)?
            .with_raw_items()
            .typed())
    }

    /// Every asset of a project matching `filters`, as [`Asset`]s (pages as
    /// [`Raw::iter_assets`](crate::Raw::iter_assets)).
    pub fn iter_assets(
        &self,
        project_id: &str,
        filters: &Map<String, Value>,
        page_size: Option<u64>,
    ) -> Result<Pages<Asset>> {
        Ok(self
            .raw()
            .iter_assets(project_id, filters, page_size)?
            .with_raw_items()
            .typed())
    }

    /// Every project visible to the API key, as [`Project`]s (pages as
    /// [`Raw::iter_projects`](crate::Raw::iter_projects)).
    pub fn iter_projects(&self, page_size: Option<u64>) -> Result<Pages<Project>> {
        Ok(self
            .raw()
            .iter_projects(page_size)?
            .with_raw_items()
            .typed())
    }

    /// Exports and reads the whole export (JSON format), one [`ExportRow`] per asset.
    /// The export as one JSON value: [`Raw::export_json`](crate::Raw::export_json).
    pub fn export_json(&self, project_id: &str, options: &ExportOptions) -> Result<Vec<ExportRow>> {
        self.export_archive(project_id, options)?
            .rows(options.export_format)?
            .typed()
            .collect()
    }

    /// Exports and streams the rows as [`ExportRow`]s, one at a time (NDJSON lines or
    /// JSON array elements, per `options.export_format`). JSON values:
    /// [`Raw::export_rows`](crate::Raw::export_rows).
    pub fn export_rows(&self, project_id: &str, options: &ExportOptions) -> Result<TypedRows> {
        Ok(self.raw().export_rows(project_id, options)?.typed())
    }

    /// Exports as JSON (whatever `options.export_format` says) and streams the rows as
    /// [`ExportRow`]s without parsing the whole document. JSON values:
    /// [`Raw::export_json_rows`](crate::Raw::export_json_rows).
    pub fn export_json_rows(&self, project_id: &str, options: &ExportOptions) -> Result<TypedRows> {
        Ok(self.raw().export_json_rows(project_id, options)?.typed())
    }
}
