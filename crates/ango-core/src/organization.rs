//! Organization: members, invitations, roles, notifications and LLM configurations.

use serde_json::{Map, Value, json};

use crate::client::{Client, Raw};
use crate::error::Result;
use crate::http::encode_component;
use crate::models::{Invitation, Llm, RoleUpdate};
use crate::storage::select_by_id;

impl Raw<'_> {
    /// Lists the organization's members (`GET /v2/organization/{id}/users`).
    pub fn get_organization_members(&self, organization_id: &str) -> Result<Value> {
        self.get(users_path(organization_id)).send()
    }

    /// Lists the organization's pending invitations
    /// (`GET /v2/organization/{id}/invites?status=pending`).
    pub fn get_organization_invites(&self, organization_id: &str) -> Result<Value> {
        self.get(invites_path(organization_id))
            .query("status", "pending")
            .send()
    }

    /// Reads the organization's LLM configurations (`GET /v2/llms`).
    ///
    /// With `llm_id` (sent as `_id`), the result is the one configuration whose `_id`
    /// matches it in `data.llms`, or the whole response when none matches, as in the
    /// official SDK. Without it, the whole response.
    pub fn get_llms(&self, llm_id: Option<&str>) -> Result<Value> {
        let llm_id = llm_id.filter(|id| !id.is_empty());
        let response = self.get("/v2/llms").query_opt("_id", llm_id).send()?;
        Ok(match llm_id {
            Some(id) => select_by_id(response, "llms", id),
            None => response,
        })
    }

    /// Adds an LLM configuration to the organization (`POST /v2/llms/`).
    pub fn create_llm(&self, llm: &Llm) -> Result<Value> {
        self.post("/v2/llms/").json(&llm.to_value()).send()
    }
}

impl Client {
    /// Changes members' organization roles (`POST /v2/organization/{id}/users`).
    pub fn update_organization_members_role(
        &self,
        organization_id: &str,
        role_updates: &[RoleUpdate],
    ) -> Result<Value> {
        let users: Vec<Value> = role_updates.iter().map(RoleUpdate::to_value).collect();
        self.post(users_path(organization_id))
            .json(&json!({ "users": users }))
            .send()
    }

    /// Removes members, by email, from the organization
    /// (`DELETE /v2/organization/{id}/users` with a JSON body).
    pub fn delete_organization_members(
        &self,
        organization_id: &str,
        member_emails: &[String],
    ) -> Result<Value> {
        self.delete(users_path(organization_id))
            .json(&json!({ "users": member_emails }))
            .send()
    }

    /// Invites people to the organization, optionally with project roles
    /// (`POST /v2/organization/{id}/invites`).
    pub fn invite_members_to_org(
        &self,
        organization_id: &str,
        invitation: &Invitation,
    ) -> Result<Value> {
        self.post(invites_path(organization_id))
            .json(&invitation.to_value())
            .send()
    }

    /// Withdraws invitations, by email (`DELETE /v2/organization/{id}/invites` with a JSON body).
    pub fn delete_organization_invites(
        &self,
        organization_id: &str,
        invite_emails: &[String],
    ) -> Result<Value> {
        self.delete(invites_path(organization_id))
            .json(&json!({ "invites": invite_emails }))
            .send()
    }

    /// Sends a notification, shown as coming from the key's user, to members of the
    /// organization (`POST /v2/notifications`). `clickable_link` must be an absolute
    /// http(s) URL.
    pub fn send_notification(
        &self,
        receivers: &[String],
        message: &str,
        title: Option<&str>,
        clickable_link: Option<&str>,
    ) -> Result<Value> {
        let mut body = Map::new();
        body.insert("receivers".into(), json!(receivers));
        body.insert("message".into(), json!(message));
        if let Some(title) = title {
            body.insert("title".into(), json!(title));
        }
        if let Some(link) = clickable_link {
            body.insert("clickableLink".into(), json!(link));
        }
        self.post("/v2/notifications").json(&body).send()
    }

    /// Removes an LLM configuration (`DELETE /v2/llms/{id}`).
    pub fn delete_llm(&self, llm_id: &str) -> Result<Value> {
        self.delete(format!("/v2/llms/{}", encode_component(llm_id)))
            .send()
    }
}

fn users_path(organization_id: &str) -> String {
    format!(
        "/v2/organization/{}/users",
        encode_component(organization_id)
    )
}

fn invites_path(organization_id: &str) -> String {
    format!(
        "/v2/organization/{}/invites",
        encode_component(organization_id)
    )
}
