//! Storages: listing (with id selection), creating, deleting, listing files and the
//! file explorer.

mod support;

use ango_core::models::{Storage, StorageProvider};
use ango_core::storage::ListStorageFilesParams;
use serde_json::{Map, json};
use support::{Recorder, Reply};

fn storages_reply() -> Reply {
    Reply::json(json!({"status": "success", "data": {"storages": [
        {"_id": "s1", "name": "one"},
        {"_id": "s2", "name": "two"}
    ]}}))
}

#[test]
fn get_storages_without_id_returns_the_whole_response() {
    let server = Recorder::start();
    server.push(storages_reply());
    let all = server.client().raw().get_storages(None).unwrap();
    assert_eq!(all["data"]["storages"].as_array().unwrap().len(), 2);
    server.only().assert_call("GET", "/v2/storages", &[], "");
}

#[test]
fn get_storages_with_id_returns_the_matching_storage() {
    let server = Recorder::start();
    server.push(storages_reply());
    let one = server.client().raw().get_storages(Some("s2")).unwrap();
    assert_eq!(one, json!({"_id": "s2", "name": "two"}));
    server
        .only()
        .assert_call("GET", "/v2/storages", &[("_id", "s2")], "");
}

#[test]
fn get_storages_with_an_unmatched_id_returns_the_whole_response() {
    let server = Recorder::start();
    server.push(storages_reply());
    let result = server.client().raw().get_storages(Some("nope")).unwrap();
    assert_eq!(result["status"], "success");
    assert_eq!(result["data"]["storages"][0]["_id"], "s1");
    server.push(Reply::json(json!({"status": "success"})));
    let result = server.client().raw().get_storages(Some("s1")).unwrap();
    assert_eq!(result, json!({"status": "success"}));
}

#[test]
fn delete_storage_uses_delete() {
    let server = Recorder::start();
    server.client().delete_storage("s1").unwrap();
    server
        .only()
        .assert_call("DELETE", "/v2/storages/s1", &[], "");
}

#[test]
fn list_storage_files_defaults() {
    let server = Recorder::start();
    server
        .client()
        .list_storage_files("s1", "bucket", &ListStorageFilesParams::default())
        .unwrap();
    server.only().assert_call(
        "GET",
        "/v2/storages/s1/files",
        &[
            ("bucketName", "bucket"),
            ("path", ""),
            ("getSignedUrls", "true"),
            ("retryOnSlowDown", "true"),
        ],
        "",
    );
}

#[test]
fn list_storage_files_with_every_option() {
    let server = Recorder::start();
    let params = ListStorageFilesParams {
        path: "a/b c&d".into(),
        get_signed_urls: false,
        retry_on_slow_down: false,
    };
    server
        .client()
        .list_storage_files("s1", "bucket", &params)
        .unwrap();
    server.only().assert_call(
        "GET",
        "/v2/storages/s1/files",
        &[
            ("bucketName", "bucket"),
            ("path", "a/b c&d"),
            ("getSignedUrls", "false"),
            ("retryOnSlowDown", "false"),
        ],
        "",
    );
}

#[test]
fn file_explorer_adds_bucket_and_storage_to_the_options() {
    let server = Recorder::start();
    let client = server.client();
    client.file_explorer("bk", "s1", &Map::new()).unwrap();
    server.last().assert_call(
        "POST",
        "/v2/file-explorer",
        &[],
        r#"{"bucket": "bk", "storageId": "s1"}"#,
    );
    // A key already present keeps its place, as a Python dict assignment does.
    let options = json!({"bucket": "old", "folder": "f", "upload": false})
        .as_object()
        .unwrap()
        .clone();
    client.file_explorer("bk", "s1", &options).unwrap();
    server.last().assert_call(
        "POST",
        "/v2/file-explorer",
        &[],
        r#"{"bucket": "bk", "folder": "f", "upload": false, "storageId": "s1"}"#,
    );
}

#[test]
fn create_storage_posts_the_official_body() {
    let server = Recorder::start();
    let mut storage = Storage::new("s", StorageProvider::Aws);
    storage.public_key = Some("pk".into());
    storage.private_key = Some("sk".into());
    server.client().raw().create_storage(&storage).unwrap();
    server.only().assert_call(
        "POST",
        "/v2/storages/",
        &[],
        r#"{"name": "s", "provider": "AWS", "publicKey": "pk", "privateKey": "sk", "region": "eu-central-1", "credentials": null}"#,
    );
}
