//! Which API calls may be sent twice: one table giving every endpoint its retry class.
//!
//! [`ApiCall`](crate::http::ApiCall) looks the class up here from the method and the
//! path it sends to; no call site decides for itself. An endpoint missing from the table
//! is [`RetryClass::Safe`] for `GET`/`HEAD`/`OPTIONS` and [`RetryClass::BeforeSend`] for
//! every other method (so a new or `make_request` call that changes state is never
//! repeated after the server may have acted on it).

use ureq::http::Method;

/// How safe a call is to send again after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryClass {
    /// Repeating it leaves the server in the same state (reads, and calls that set a
    /// value rather than add one): retried after timeouts, dropped connections and
    /// 408/429/500/502/503/504.
    Safe,
    /// Repeating it could act twice (create, submit, move, notify): retried only when
    /// the request cannot have reached the server (connection refused, DNS failure,
    /// connect timeout) or the server said it did not act (429, 503).
    BeforeSend,
    /// Sent at most once by the SDK, whatever happens: the caller decides.
    Never,
}

use RetryClass::{BeforeSend, Never, Safe};

/// One row: method, path template (`{}` is one non-empty path segment), class, why.
struct Route {
    method: &'static str,
    path: &'static str,
    class: RetryClass,
    #[allow(dead_code)] // documentation, read in tests
    why: &'static str,
}

const fn row(
    method: &'static str,
    path: &'static str,
    class: RetryClass,
    why: &'static str,
) -> Route {
    Route {
        method,
        path,
        class,
        why,
    }
}

/// Every endpoint the crate calls. Keep the reasons: they are the review record.
#[rustfmt::skip]
const ROUTES: &[Route] = &[
    // Reads: repeating a read changes nothing.
    row("GET", "/v2/listProjects", Safe, "read"),
    row("GET", "/v2/project/{}", Safe, "read"),
    row("GET", "/v2/project/{}/tasks", Safe, "read"),
    row("GET", "/v2/project/{}/assets", Safe, "read"),
    row("GET", "/v2/task/{}", Safe, "read"),
    row("GET", "/v2/task/{}/history", Safe, "read"),
    row("GET", "/v2/taskHistory/{}", Safe, "read"),
    row("GET", "/v2/{}/overview/{}", Safe, "read"),
    row("GET", "/v2/issues", Safe, "read"),
    row("GET", "/v2/storages", Safe, "read"),
    row("GET", "/v2/storages/{}/files", Safe, "read (signed URLs are minted anew, harmless)"),
    row("GET", "/v2/llms", Safe, "read"),
    row("GET", "/v2/organization/{}/users", Safe, "read"),
    row("GET", "/v2/organization/{}/invites", Safe, "read"),
    row("GET", "/v2/export", Safe, "read: each call prepares a fresh export link"),
    row("GET", "/v2/getUploadUrl", Safe, "mints a signed URL; an unused one expires"),
    row("GET", "/v2/getSignedUrl", Safe, "mints a signed URL; an unused one expires"),
    // Deletes: deleting twice leaves the same state (the second may answer 404).
    row("DELETE", "/v2/project/{}", Safe, "soft delete: same end state"),
    row("DELETE", "/v2/project/{}/assets", Safe, "soft delete of given ids: same end state"),
    row("DELETE", "/v2/issues/{}", Safe, "delete by id: same end state"),
    row("DELETE", "/v2/llms/{}", Safe, "delete by id: same end state"),
    row("DELETE", "/v2/storages/{}", Safe, "delete by id: same end state"),
    row("DELETE", "/v2/organization/{}/users", Safe, "removes given emails: same end state"),
    row("DELETE", "/v2/organization/{}/invites", Safe, "withdraws given emails: same end state"),
    // Projects.
    row("POST", "/v2/project", BeforeSend, "creates a project: a repeat makes a second one"),
    row("POST", "/v2/project/{}", Safe, "sets categorySchema/stages/benchmark fields to the values sent"),
    row("POST", "/v2/project/{}/clone", BeforeSend, "creates a project copy"),
    row("POST", "/v2/project/{}/purge", Never, "irreversible purge of a project and its files: never sent twice by the SDK, the caller decides"),
    row("POST", "/v2/project/{}/labelValidation", Safe, "sets validation settings to the values sent"),
    row("POST", "/v2/project/{}/assigned", BeforeSend, "adds members: the server may record or notify twice"),
    row("POST", "/v2/performance/{}", Safe, "a read sent as POST"),
    row("POST", "/v2/project/{}/assetBuilderTemplates", BeforeSend, "creates a template"),
    row("POST", "/v2//project/{}/rerun-webhook", BeforeSend, "triggers a webhook run with outside effects"),
    // Batches and assets.
    row("POST", "/v2/batches/{}", BeforeSend, "appends batches: a repeat can add a duplicate"),
    row("POST", "/v2/assignBatches", Safe, "sets batch membership of the given assets"),
    row("POST", "/v2/attachments", BeforeSend, "appends attachments: a repeat duplicates them"),
    row("POST", "/v2/project/{}/cloud", BeforeSend, "registers assets: a repeat duplicates them (upload reports 'unknown' instead)"),
    row("POST", "/v2/project/{}/instructions", BeforeSend, "uploads a file into the project"),
    row("POST", "/v2/project/{}/chat", BeforeSend, "creates chat assets"),
    row("POST", "/v2/file-explorer", BeforeSend, "may import files as assets"),
    // Tasks.
    row("POST", "/v2/task/assign", Safe, "sets the assignee of the given tasks"),
    row("POST", "/v2/import/labels", BeforeSend, "imports labels: a repeat after the server acted can import again or advance tasks"),
    row("POST", "/v2/annotate/{}", BeforeSend, "saves an answer and, with nextStage, submits the task: a repeat could submit the next stage's task"),
    row("POST", "/v2/review/{}", BeforeSend, "records a review decision that moves the task on"),
    row("POST", "/v2/project/{}/requeueTasks", BeforeSend, "moves tasks back: a repeat after others progressed requeues again"),
    row("POST", "/v2/project/{}/updatePriority", Safe, "sets the priority to the value sent"),
    row("POST", "/v2/project/{}/benchmark-tasks", Safe, "sets the benchmark flag to the value sent"),
    row("POST", "/v2/pluginLog", BeforeSend, "appends a log record"),
    row("POST", "/v2/pluginResponse", BeforeSend, "completes a plugin session"),
    // Issues, organization, notifications, storages, LLMs.
    row("POST", "/v2/issues", BeforeSend, "creates an issue"),
    row("POST", "/v2/issues/{}", Safe, "sets the fields sent on one issue"),
    row("POST", "/v2/issues/{}/comment", BeforeSend, "adds a comment"),
    row("POST", "/v2/organization/{}/users", Safe, "sets roles to the values sent"),
    row("POST", "/v2/organization/{}/invites", BeforeSend, "sends invitation e-mails"),
    row("POST", "/v2/notifications", BeforeSend, "sends notifications"),
    row("POST", "/v2/llms/", BeforeSend, "creates an LLM configuration"),
    row("POST", "/v2/storages/", BeforeSend, "creates a storage"),
];

/// The retry class of a call to `path` (query string, if any, ignored).
pub(crate) fn class_of(method: &Method, path: &str) -> RetryClass {
    let path = path.split(['?', '#']).next().unwrap_or("");
    ROUTES
        .iter()
        .find(|route| route.method == method.as_str() && matches(route.path, path))
        .map(|route| route.class)
        .unwrap_or_else(|| default_class(method))
}

fn default_class(method: &Method) -> RetryClass {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        Safe
    } else {
        BeforeSend
    }
}

/// Whether `path` fits `template`, segment by segment (`{}` is any non-empty segment).
fn matches(template: &str, path: &str) -> bool {
    let mut want = template.split('/');
    let mut got = path.split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return true,
            (Some("{}"), Some(segment)) if !segment.is_empty() => {}
            (Some(w), Some(g)) if w == g => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_changing_calls_are_never_repeated_after_sending() {
        for (method, path) in [
            (
                Method::POST,
                "/v2/annotate/t1?nextStage=true&isPlugin=false",
            ),
            (Method::POST, "/v2/review/t1"),
            (Method::POST, "/v2/import/labels"),
            (Method::POST, "/v2/project/p1/cloud?batches=%5B%5D"),
            (Method::POST, "/v2/project"),
            (Method::POST, "/v2/issues"),
            (Method::POST, "/v2/batches/p1"),
            (Method::PUT, "/v2/anything"),
            (Method::PATCH, "/v2/project/p1"),
            (Method::POST, "/v2/unknown/endpoint"),
        ] {
            assert_eq!(class_of(&method, path), BeforeSend, "{method} {path}");
        }
        assert_eq!(class_of(&Method::POST, "/v2/project/p1/purge"), Never);
    }

    #[test]
    fn reads_and_setters_are_safe() {
        for (method, path) in [
            (Method::GET, "/v2/project/p1/tasks?page=1"),
            (Method::GET, "/v2/not/in/table"),
            (Method::POST, "/v2/project/p1"),
            (Method::POST, "/v2/task/assign"),
            (Method::POST, "/v2/performance/p1"),
            (Method::DELETE, "/v2/project/p1"),
        ] {
            assert_eq!(class_of(&method, path), Safe, "{method} {path}");
        }
        // An empty id segment is not an id.
        assert_eq!(class_of(&Method::DELETE, "/v2/project/"), BeforeSend);
    }

    #[test]
    fn every_row_is_reachable_and_explained() {
        for route in ROUTES {
            assert!(!route.why.is_empty(), "{}", route.path);
            let concrete = route.path.replace("{}", "x1");
            let method: Method = route.method.parse().unwrap();
            assert_eq!(
                class_of(&method, &concrete),
                route.class,
                "{} {} is shadowed by an earlier row",
                route.method,
                route.path
            );
        }
    }
}
