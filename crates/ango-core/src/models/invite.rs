//! Organization invitations and role changes.

use serde_json::{Value, json};

use super::enums::{OrganizationRole, ProjectRole};

/// A project (and role in it) that an invited user joins.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProjectAssignment {
    /// The project id.
    #[serde(alias = "projectId", default, deserialize_with = "super::null_default")]
    pub project_id: String,
    /// The role in that project.
    #[serde(alias = "projectRole")]
    pub project_role: ProjectRole,
}

impl ProjectAssignment {
    /// `{"projectId", "projectRole"}`.
    pub fn to_value(&self) -> Value {
        json!({ "projectId": self.project_id, "projectRole": self.project_role.as_str() })
    }
}

/// An invitation of one or more e-mail addresses to the organization.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Invitation {
    /// Who to invite.
    #[serde(default, deserialize_with = "super::null_default")]
    pub to: Vec<String>,
    /// Their organization role.
    #[serde(alias = "organizationRole")]
    pub organization_role: OrganizationRole,
    /// Projects they join on acceptance.
    #[serde(default, alias = "projectAssignments")]
    pub project_assignments: Option<Vec<ProjectAssignment>>,
}

impl Invitation {
    /// The request body (`projectAssignments` only when there are some).
    pub fn to_value(&self) -> Value {
        let mut body =
            json!({ "to": self.to, "organizationRole": self.organization_role.as_str() });
        if let Some(assignments) = self.project_assignments.as_ref().filter(|a| !a.is_empty()) {
            body["projectAssignments"] = Value::Array(
                assignments
                    .iter()
                    .map(ProjectAssignment::to_value)
                    .collect(),
            );
        }
        body
    }
}

/// A change of one member's organization role.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoleUpdate {
    /// The member's e-mail.
    #[serde(default, deserialize_with = "super::null_default")]
    pub email: String,
    /// The new role.
    #[serde(alias = "organizationRole")]
    pub organization_role: OrganizationRole,
}

impl RoleUpdate {
    /// `{"email", "organizationRole"}`.
    pub fn to_value(&self) -> Value {
        json!({ "email": self.email, "organizationRole": self.organization_role.as_str() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyjson;

    #[test]
    fn invitation_matches_the_official_dict() {
        let mut inv = Invitation {
            to: vec!["a@x.com".into()],
            organization_role: OrganizationRole::Member,
            project_assignments: None,
        };
        assert_eq!(
            pyjson::to_string(&inv.to_value()),
            r#"{"to": ["a@x.com"], "organizationRole": "member"}"#
        );
        inv.project_assignments = Some(vec![ProjectAssignment {
            project_id: "p".into(),
            project_role: ProjectRole::Labeler,
        }]);
        assert_eq!(
            pyjson::to_string(&inv.to_value()),
            r#"{"to": ["a@x.com"], "organizationRole": "member", "projectAssignments": [{"projectId": "p", "projectRole": "Labeler"}]}"#
        );
        let update = RoleUpdate {
            email: "b@x.com".into(),
            organization_role: OrganizationRole::Admin,
        };
        assert_eq!(
            pyjson::to_string(&update.to_value()),
            r#"{"email": "b@x.com", "organizationRole": "admin"}"#
        );
    }
}
