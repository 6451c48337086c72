//! Export: the request, the key-less download, reading the archive (whole JSON, NDJSON
//! rows, JSON-array rows), saving it, refusing hostile archives, and flat memory.

mod support;

use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

use ango_core::export::ExportLimits;
use ango_core::models::{ExportFormat, ExportOptions};
use ango_core::{Error, Value};
use serde_json::json;
use support::{Recorder, Reply, TempDir};

const DOWNLOAD_PATH: &str = "/files/exports/p1.zip";
const DOWNLOAD_QUERY: &str = "X-Amz-Signature=abc%2Fdef&X-Amz-Expires=120";

/// Queues the export answer (pointing back at this server) and the download reply.
fn serve_export(server: &Recorder, download: Reply) {
    server.push(Reply::json(json!({
        "status": "success",
        "data": {"exportPath": format!("{}{DOWNLOAD_PATH}?{DOWNLOAD_QUERY}", server.url)}
    })));
    server.push(download);
}

fn download_url(server: &Recorder) -> String {
    format!("{}{DOWNLOAD_PATH}?{DOWNLOAD_QUERY}", server.url)
}

/// A real archive with one entry, written by the `zip` crate.
fn zip_of(name: &str, content: &[u8], method: zip::CompressionMethod) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    writer.start_file(name, options).unwrap();
    writer.write_all(content).unwrap();
    writer.finish().unwrap().into_inner()
}

fn deflated_zip(name: &str, content: &[u8]) -> Vec<u8> {
    zip_of(name, content, zip::CompressionMethod::Deflated)
}

fn deflate(content: &[u8]) -> Vec<u8> {
    let mut encoder =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(content).unwrap();
    encoder.finish().unwrap()
}

fn crc_of(content: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(content);
    crc.sum()
}

/// One hand-written entry, for archives the `zip` crate would not write.
struct RawEntry<'a> {
    name: &'a str,
    /// General-purpose flags (bit 0: encrypted).
    flags: u16,
    /// 0 stored, 8 deflated.
    method: u16,
    crc: u32,
    data: &'a [u8],
    /// The decompressed size the headers declare.
    declared_size: u32,
}

/// A single-entry zip (local header, data, central directory, end record).
fn raw_zip(entry: &RawEntry) -> Vec<u8> {
    fn u16le(out: &mut Vec<u8>, v: u16) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    fn u32le(out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let name = entry.name.as_bytes();
    let mut out = Vec::new();
    u32le(&mut out, 0x0403_4b50);
    u16le(&mut out, 20);
    u16le(&mut out, entry.flags);
    u16le(&mut out, entry.method);
    u16le(&mut out, 0);
    u16le(&mut out, 0x21);
    u32le(&mut out, entry.crc);
    u32le(&mut out, entry.data.len() as u32);
    u32le(&mut out, entry.declared_size);
    u16le(&mut out, name.len() as u16);
    u16le(&mut out, 0);
    out.extend_from_slice(name);
    out.extend_from_slice(entry.data);
    let central_start = out.len();
    u32le(&mut out, 0x0201_4b50);
    u16le(&mut out, 20);
    u16le(&mut out, 20);
    u16le(&mut out, entry.flags);
    u16le(&mut out, entry.method);
    u16le(&mut out, 0);
    u16le(&mut out, 0x21);
    u32le(&mut out, entry.crc);
    u32le(&mut out, entry.data.len() as u32);
    u32le(&mut out, entry.declared_size);
    u16le(&mut out, name.len() as u16);
    u16le(&mut out, 0);
    u16le(&mut out, 0);
    u16le(&mut out, 0);
    u16le(&mut out, 0);
    u32le(&mut out, 0);
    u32le(&mut out, 0);
    out.extend_from_slice(name);
    let central_size = out.len() - central_start;
    u32le(&mut out, 0x0605_4b50);
    u16le(&mut out, 0);
    u16le(&mut out, 0);
    u16le(&mut out, 1);
    u16le(&mut out, 1);
    u32le(&mut out, central_size as u32);
    u32le(&mut out, central_start as u32);
    u16le(&mut out, 0);
    out
}

/// An honest hand-written deflated entry.
fn raw_deflated(name: &str, content: &[u8]) -> Vec<u8> {
    raw_zip(&RawEntry {
        name,
        flags: 0,
        method: 8,
        crc: crc_of(content),
        data: &deflate(content),
        declared_size: content.len() as u32,
    })
}

const BOMB_CHUNK: usize = 8 << 20;
const BOMB_CHUNKS: usize = 25;

/// 200 MiB of zeros as one raw deflate stream (about 200 KB), with its CRC.
///
/// Compressing 200 MiB takes seconds in a debug build, so two chunks are compressed with
/// full flushes (which make each chunk's output independent of what came before) and the
/// second chunk's output is repeated; the result is checked by decompressing it.
fn zero_bomb() -> &'static (Vec<u8>, u32) {
    static BOMB: OnceLock<(Vec<u8>, u32)> = OnceLock::new();
    BOMB.get_or_init(|| {
        let zeros = vec![0u8; BOMB_CHUNK];
        let mut compress = flate2::Compress::new(flate2::Compression::best(), false);
        let mut run = |input: &[u8], flush: flate2::FlushCompress| {
            let mut out = Vec::with_capacity(64 * 1024);
            let start = compress.total_in();
            loop {
                let consumed = (compress.total_in() - start) as usize;
                out.reserve(64 * 1024);
                let status = compress
                    .compress_vec(&input[consumed..], &mut out, flush)
                    .unwrap();
                let all_in = (compress.total_in() - start) as usize == input.len();
                if status == flate2::Status::StreamEnd || (all_in && out.len() < out.capacity()) {
                    return out;
                }
            }
        };
        let first = run(&zeros, flate2::FlushCompress::Full);
        let steady = run(&zeros, flate2::FlushCompress::Full);
        let end = run(&[], flate2::FlushCompress::Finish);
        let mut stream = first;
        for _ in 1..BOMB_CHUNKS {
            stream.extend_from_slice(&steady);
        }
        stream.extend_from_slice(&end);
        let expanded = std::io::copy(
            &mut flate2::read::DeflateDecoder::new(&stream[..]),
            &mut std::io::sink(),
        )
        .unwrap();
        assert_eq!(expanded, (BOMB_CHUNK * BOMB_CHUNKS) as u64, "bomb stream");
        let mut chunk_crc = flate2::Crc::new();
        chunk_crc.update(&zeros);
        let mut crc = flate2::Crc::new();
        for _ in 0..BOMB_CHUNKS {
            crc.combine(&chunk_crc);
        }
        (stream, crc.sum())
    })
}

fn archive_error(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::Archive(message)) => message,
        other => panic!("expected an archive error, got {other:?}"),
    }
}

#[test]
fn the_export_request_is_exact_and_the_download_carries_no_key() {
    let server = Recorder::start();
    let content = b"{\"externalId\": \"a.jpg\"}\n";
    serve_export(&server, Reply::bytes(deflated_zip("p1.ndjson", content)));
    let mut options = ExportOptions::new(Some(vec!["Label".into(), "Complete".into()]), None);
    options.batches = Some(vec!["b1".into()]);
    options.export_format = ExportFormat::Ndjson;
    let rows: Vec<Value> = server
        .client()
        .raw()
        .export_rows("p1", &options)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows, vec![json!({"externalId": "a.jpg"})]);

    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let export = &requests[0];
    assert_eq!(export.method, "GET");
    assert_eq!(export.path, "/v2/export");
    let mut expected = options.to_query();
    expected.push(("project".into(), "p1".into()));
    assert_eq!(export.query, expected);
    assert_eq!(export.header("apikey"), Some("test-key"));
    assert_eq!(
        export.header("content-type"),
        None,
        "as upstream: no JSON type"
    );
    assert!(export.body.is_empty());

    let download = &requests[1];
    assert_eq!(download.method, "GET");
    assert_eq!(download.path, DOWNLOAD_PATH);
    assert_eq!(
        download.raw_query, DOWNLOAD_QUERY,
        "the signed query is kept as is"
    );
    assert_eq!(
        download.header("apikey"),
        None,
        "the key must not leak to storage"
    );
}

#[test]
fn export_json_parses_the_whole_document() {
    let document = json!([
        {"externalId": "a.jpg", "task": {"tools": [], "classifications": []}},
        {"externalId": "b.jpg", "task": {"tools": [{"bounding-box": {"x": 1}}]}}
    ]);
    let server = Recorder::start();
    let text = serde_json::to_vec_pretty(&document).unwrap();
    serve_export(&server, Reply::bytes(deflated_zip("p1.json", &text)));
    let value = server
        .client()
        .raw()
        .export_json("p1", &ExportOptions::default())
        .unwrap();
    assert_eq!(value, document);
    assert_eq!(server.requests()[0].query_value("format"), Some("json"));

    // A stored (uncompressed) entry reads the same, and the archive describes itself.
    serve_export(
        &server,
        Reply::bytes(zip_of("p1.json", &text, zip::CompressionMethod::Stored)),
    );
    let archive = server
        .client()
        .export_archive("p1", &ExportOptions::default())
        .unwrap();
    assert_eq!(archive.entry_name(), "p1.json");
    assert_eq!(archive.uncompressed_size(), text.len() as u64);
    assert_eq!(archive.to_json().unwrap(), document);
    // An archive can be read more than once.
    assert_eq!(archive.to_json().unwrap(), document);
}

#[test]
fn ndjson_rows_skip_blank_lines_and_count_lines_agrees() {
    let content = b"{\"a\": 1}\n\n   \n{\"b\": [1, 2]}\r\n\t\n{\"c\": \"x\\ny\"}";
    let server = Recorder::start();
    server.push(Reply::bytes(deflated_zip("p1.ndjson", content)));
    let archive = server
        .client()
        .download_export(&download_url(&server))
        .unwrap();
    assert_eq!(archive.count_lines().unwrap(), 3);
    let rows: Vec<Value> = archive
        .rows(ExportFormat::Ndjson)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        rows,
        vec![json!({"a": 1}), json!({"b": [1, 2]}), json!({"c": "x\ny"})]
    );
}

#[test]
fn a_bad_ndjson_line_is_one_decode_error_that_ends_the_rows() {
    let content = b"{\"a\": 1}\n{\"b\": \n{\"c\": 3}\n";
    let server = Recorder::start();
    server.push(Reply::bytes(deflated_zip("p1.ndjson", content)));
    let mut rows = server
        .client()
        .download_export(&download_url(&server))
        .unwrap()
        .rows(ExportFormat::Ndjson)
        .unwrap();
    assert_eq!(rows.next().unwrap().unwrap(), json!({"a": 1}));
    assert!(matches!(rows.next(), Some(Err(Error::Decode { .. }))));
    assert!(rows.next().is_none());
}

#[test]
fn json_array_rows_stream_elements_with_tricky_content() {
    let document = r#"
    [
      {"a": "x]y", "b": [1, [2, 3], {"c": "}"}], "d": "quote \" and, comma"},
      "a string with ] and , and [ and { and \\",
      42 ,
      -1.5e3,
      null,
      true,
      [],
      {},
      {"nested": [[[]]], "escapes": "\\\"]\\\\", "u": "\u00e9 é ✓ \ud83d\ude00"},
      [{"x": ","}, "]"]
    ]
    "#;
    let expected: Vec<Value> = serde_json::from_str(document).unwrap();
    assert_eq!(expected.len(), 10);
    let server = Recorder::start();
    server.push(Reply::bytes(deflated_zip("p1.json", document.as_bytes())));
    let rows: Vec<Value> = server
        .client()
        .download_export(&download_url(&server))
        .unwrap()
        .rows(ExportFormat::Json)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows, expected);
}

#[test]
fn empty_and_malformed_json_arrays() {
    let server = Recorder::start();
    let rows_of = |content: &str| {
        server.push(Reply::bytes(deflated_zip("p1.json", content.as_bytes())));
        server
            .client()
            .download_export(&download_url(&server))
            .unwrap()
            .rows(ExportFormat::Json)
            .unwrap()
            .collect::<Vec<_>>()
    };
    assert!(rows_of("[]").is_empty());
    assert!(rows_of("\n  [ \n ]\n").is_empty());

    let not_an_array = rows_of(r#"{"a": 1}"#);
    assert_eq!(not_an_array.len(), 1);
    assert!(matches!(not_an_array[0], Err(Error::Decode { .. })));

    let truncated = rows_of("[1, 2");
    assert_eq!(truncated.len(), 2, "{truncated:?}");
    assert_eq!(truncated[0].as_ref().unwrap(), &json!(1));
    assert!(matches!(truncated[1], Err(Error::Decode { .. })));

    let bad_element = rows_of(r#"[{"a": 1}, {"b": tru}, {"c": 3}]"#);
    assert_eq!(bad_element.len(), 2, "{bad_element:?}");
    assert!(matches!(bad_element[1], Err(Error::Decode { .. })));
}

#[test]
fn export_to_file_writes_the_zip_unchanged() {
    let zip = deflated_zip("p1.json", b"[{\"externalId\": \"a.jpg\"}]");
    let server = Recorder::start();
    serve_export(&server, Reply::bytes(zip.clone()));
    let dir = TempDir::new();
    let path = dir.join("export.zip");
    let size = server
        .client()
        .export_to_file("p1", &ExportOptions::default(), &path)
        .unwrap();
    assert_eq!(size, zip.len() as u64);
    assert_eq!(std::fs::read(&path).unwrap(), zip);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].header("apikey"), None);
}

#[test]
fn a_failed_export_to_file_leaves_no_partial_file() {
    let dir = TempDir::new();
    let path = dir.join("export.zip");
    let server = Recorder::start();
    let client = server.client();

    serve_export(&server, Reply::status(404, "<Error>NoSuchKey</Error>"));
    let err = client
        .export_to_file("p1", &ExportOptions::default(), &path)
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    let left: Vec<_> = std::fs::read_dir(&dir.path).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");

    // An earlier export at the path survives a failed one, and is replaced by a good one.
    std::fs::write(&path, b"earlier export").unwrap();
    serve_export(&server, Reply::status(500, "oops"));
    client
        .export_to_file("p1", &ExportOptions::default(), &path)
        .unwrap_err();
    assert_eq!(std::fs::read(&path).unwrap(), b"earlier export");
    let zip = deflated_zip("p1.json", b"[]");
    serve_export(&server, Reply::bytes(zip.clone()));
    client
        .export_to_file("p1", &ExportOptions::default(), &path)
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), zip);
    assert_eq!(std::fs::read_dir(&dir.path).unwrap().count(), 1);
}

#[test]
fn entries_with_unsafe_names_are_refused() {
    for name in [
        "../evil.json",
        "exports/../../evil.json",
        "/etc/passwd",
        "C:\\evil.json",
        "",
    ] {
        let server = Recorder::start();
        server.push(Reply::bytes(raw_deflated(name, b"[]")));
        let message = archive_error(server.client().download_export(&download_url(&server)));
        assert!(message.contains("unsafe name"), "{name:?}: {message}");
    }
    // The same archive with a plain name is fine: the refusals are about the name.
    let server = Recorder::start();
    server.push(Reply::bytes(raw_deflated("p1.json", b"[1]")));
    let archive = server
        .client()
        .download_export(&download_url(&server))
        .unwrap();
    assert_eq!(archive.to_json().unwrap(), json!([1]));
}

#[test]
fn entries_with_a_data_descriptor_are_read() {
    // Streaming zip writers leave the local header's sizes at zero (flag bit 3) and put
    // them in a descriptor after the data; the central directory has the real ones.
    let content = b"{\"a\": 1}\n{\"b\": 2}\n";
    let data = deflate(content);
    let mut zip = raw_zip(&RawEntry {
        name: "p1.ndjson",
        flags: 1 << 3,
        method: 8,
        crc: crc_of(content),
        data: &data,
        declared_size: content.len() as u32,
    });
    // Zero the local header's CRC and sizes, and insert the descriptor after the data.
    zip[14..26].fill(0);
    let data_end = 30 + "p1.ndjson".len() + data.len();
    let mut descriptor = vec![0x50, 0x4b, 0x07, 0x08];
    descriptor.extend_from_slice(&crc_of(content).to_le_bytes());
    descriptor.extend_from_slice(&(data.len() as u32).to_le_bytes());
    descriptor.extend_from_slice(&(content.len() as u32).to_le_bytes());
    zip.splice(data_end..data_end, descriptor.iter().copied());
    // The central directory and the end record moved by the descriptor's length.
    let end = zip.len() - 22;
    let central_offset = u32::from_le_bytes(zip[end + 16..end + 20].try_into().unwrap());
    zip[end + 16..end + 20]
        .copy_from_slice(&(central_offset + descriptor.len() as u32).to_le_bytes());

    let server = Recorder::start();
    server.push(Reply::bytes(zip));
    let rows: Vec<Value> = server
        .client()
        .download_export(&download_url(&server))
        .unwrap()
        .rows(ExportFormat::Ndjson)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows, vec![json!({"a": 1}), json!({"b": 2})]);
}

#[test]
fn encrypted_entries_are_refused() {
    let content = b"[1]";
    let server = Recorder::start();
    server.push(Reply::bytes(raw_zip(&RawEntry {
        name: "p1.json",
        flags: 1,
        method: 8,
        crc: crc_of(content),
        data: &deflate(content),
        declared_size: content.len() as u32,
    })));
    let message = archive_error(server.client().download_export(&download_url(&server)));
    assert!(message.contains("encrypted"), "{message}");
}

#[test]
fn unsupported_compression_is_refused() {
    let content = b"[1]";
    let server = Recorder::start();
    server.push(Reply::bytes(raw_zip(&RawEntry {
        name: "p1.json",
        flags: 0,
        method: 12, // bzip2
        crc: crc_of(content),
        data: content,
        declared_size: content.len() as u32,
    })));
    let message = archive_error(server.client().download_export(&download_url(&server)));
    assert!(message.contains("unsupported compression"), "{message}");
}

#[test]
fn a_zip_bomb_is_refused_by_the_limits() {
    let (stream, crc) = zero_bomb();
    let size = (BOMB_CHUNK * BOMB_CHUNKS) as u32;
    let bomb = raw_zip(&RawEntry {
        name: "p1.ndjson",
        flags: 0,
        method: 8,
        crc: *crc,
        data: stream,
        declared_size: size,
    });
    let server = Recorder::start();
    let client = server.client();

    // The default limits refuse its ratio (over 1000:1) before decompressing anything.
    server.push(Reply::bytes(bomb.clone()));
    let message = archive_error(client.download_export(&download_url(&server)));
    assert!(message.contains("compression ratio"), "{message}");

    // A size limit refuses it too.
    server.push(Reply::bytes(bomb.clone()));
    let limits = ExportLimits {
        max_uncompressed_bytes: 100 << 20,
        max_ratio: u64::MAX,
    };
    let message =
        archive_error(client.download_export_with_limits(&download_url(&server), &limits));
    assert!(message.contains("over the limit"), "{message}");

    // Limits raised on purpose let it through, and it reads as what it is.
    server.push(Reply::bytes(bomb));
    let limits = ExportLimits {
        max_uncompressed_bytes: 1 << 30,
        max_ratio: 10_000,
    };
    let archive = client
        .download_export_with_limits(&download_url(&server), &limits)
        .unwrap();
    assert_eq!(archive.uncompressed_size(), size as u64);
    // All zeros, no newline: one "line" of whitespace-free bytes that is not JSON.
    let mut rows = archive.rows(ExportFormat::Json).unwrap();
    assert!(matches!(rows.next(), Some(Err(Error::Decode { .. }))));
}

#[test]
fn an_entry_larger_than_its_header_declares_is_refused_while_reading() {
    // A bomb that lies: 200 MiB behind a header that says 1000 bytes. Reading stops at
    // the declared size instead of inflating the rest.
    let (stream, crc) = zero_bomb();
    let liar = raw_zip(&RawEntry {
        name: "p1.ndjson",
        flags: 0,
        method: 8,
        crc: *crc,
        data: stream,
        declared_size: 1000,
    });
    let server = Recorder::start();
    let client = server.client();
    server.push(Reply::bytes(liar.clone()));
    let mut rows = client
        .download_export(&download_url(&server))
        .unwrap()
        .rows(ExportFormat::Ndjson)
        .unwrap();
    let message = archive_error(rows.next().unwrap());
    assert!(message.contains("larger than its header"), "{message}");
    assert!(rows.next().is_none());

    server.push(Reply::bytes(liar.clone()));
    let archive = client.download_export(&download_url(&server)).unwrap();
    let message = archive_error(archive.count_lines());
    assert!(message.contains("larger than its header"), "{message}");

    // Small and honest-looking: a JSON document longer than declared.
    let content = br#"[{"externalId": "a.jpg"}, {"externalId": "b.jpg"}]"#;
    server.push(Reply::bytes(raw_zip(&RawEntry {
        name: "p1.json",
        flags: 0,
        method: 8,
        crc: crc_of(content),
        data: &deflate(content),
        declared_size: 10,
    })));
    let archive = client.download_export(&download_url(&server)).unwrap();
    let message = archive_error(archive.to_json());
    assert!(message.contains("larger than its header"), "{message}");

    // The same for a stored entry whose data is longer than its declared size.
    server.push(Reply::bytes(raw_zip(&RawEntry {
        name: "p1.json",
        flags: 0,
        method: 0,
        crc: crc_of(content),
        data: content,
        declared_size: 10,
    })));
    let rows = client
        .download_export(&download_url(&server))
        .unwrap()
        .rows(ExportFormat::Json)
        .unwrap()
        .collect::<Vec<_>>();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(matches!(rows[0], Err(Error::Archive(_))));
}

#[test]
fn empty_archives_and_non_zip_bodies_are_refused() {
    let server = Recorder::start();
    let client = server.client();
    // Only the end-of-central-directory record.
    let mut empty = vec![0x50, 0x4b, 0x05, 0x06];
    empty.extend_from_slice(&[0; 18]);
    server.push(Reply::bytes(empty));
    let message = archive_error(client.download_export(&download_url(&server)));
    assert!(message.contains("empty"), "{message}");

    let writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    server.push(Reply::bytes(writer.finish().unwrap().into_inner()));
    let message = archive_error(client.download_export(&download_url(&server)));
    assert!(message.contains("empty"), "{message}");

    server.push(Reply::status(
        200,
        "<html><body>Access denied</body></html>",
    ));
    let message = archive_error(client.download_export(&download_url(&server)));
    assert!(message.contains("not a zip"), "{message}");

    server.push(Reply::bytes(Vec::new()));
    archive_error(client.download_export(&download_url(&server)));

    // A download cut short loses the central directory.
    let zip = deflated_zip("p1.json", &[b' '; 4096]);
    server.push(Reply::bytes(zip[..zip.len() / 2].to_vec()));
    archive_error(client.download_export(&download_url(&server)));
}

#[test]
fn a_missing_export_path_is_a_decode_error_and_nothing_is_downloaded() {
    let server = Recorder::start();
    server.push(Reply::json(json!({"status": "success", "data": {}})));
    let err = server
        .client()
        .raw()
        .export_json("p1", &ExportOptions::default())
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_eq!(server.requests().len(), 1);

    server.clear();
    server.push(Reply::json(
        json!({"status": "success", "data": {"exportPath": 7}}),
    ));
    let err = server
        .client()
        .request_export("p1", &ExportOptions::default())
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn http_errors_of_the_export_and_the_download_are_http_errors() {
    let server = Recorder::start();
    server.push(Reply::status(
        403,
        r#"{"status":"fail","message":"Forbidden"}"#,
    ));
    let err = server
        .client()
        .raw()
        .export_json("p1", &ExportOptions::default())
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert_eq!(server.requests().len(), 1);

    server.clear();
    serve_export(&server, Reply::status(404, "<Error>NoSuchKey</Error>"));
    let err = server
        .client()
        .raw()
        .export_json("p1", &ExportOptions::default())
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.body(), Some("<Error>NoSuchKey</Error>"));
    assert_eq!(server.requests()[1].header("apikey"), None);
}

#[test]
fn a_failed_download_is_retried_without_the_key() {
    let server = Recorder::start();
    server.push(Reply::status(503, "busy"));
    server.push(Reply::bytes(deflated_zip("p1.json", b"[1, 2]")));
    let client = ango_core::Client::builder("test-key")
        .host(&server.url)
        .retry_policy(ango_core::RetryPolicy {
            max_retries: 2,
            initial_backoff: std::time::Duration::from_millis(1),
            max_backoff: std::time::Duration::from_millis(5),
            ..ango_core::RetryPolicy::default()
        })
        .progress(ango_core::ProgressMode::Off)
        .build()
        .unwrap();
    let archive = client.download_export(&download_url(&server)).unwrap();
    assert_eq!(archive.to_json().unwrap(), json!([1, 2]));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.header("apikey").is_none()));
}

// ---------------------------------------------------------------------------------------
// Memory: a ~100 MB NDJSON export is read row by row with flat memory.
//
// Peak RSS (VmHWM) is per process and the tests of this file run in parallel threads, so
// the measurement runs in a child process that runs only this test.

const MEMORY_CHILD_ENV: &str = "ANGO_EXPORT_MEMORY_CHILD_ZIP";
const MEMORY_ROWS_ENV: &str = "ANGO_EXPORT_MEMORY_CHILD_ROWS";
const MEMORY_TEST: &str = "a_100_mb_ndjson_export_is_streamed_in_flat_memory";

fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Writes a deflated NDJSON export of about 100 MB to `path`; returns its row count.
fn write_big_export(path: &Path) -> u64 {
    let rows = 100_000u64;
    let file = std::fs::File::create(path).unwrap();
    let mut writer = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    writer.start_file("big.ndjson", options).unwrap();
    let padding = "abcdefghijklmnopqrstuvwxyz0123456789".repeat(25);
    let mut line = String::new();
    for i in 0..rows {
        line.clear();
        line.push_str(&format!(
            "{{\"externalId\": \"image_{i:08}.jpg\", \"task\": {{\"taskId\": \"t{i}\", \
             \"tools\": [{{\"bounding-box\": {{\"x\": {i}, \"y\": 2, \"width\": 3, \"height\": 4}}}}], \
             \"classifications\": []}}, \"pad\": \"{padding}\"}}\n"
        ));
        writer.write_all(line.as_bytes()).unwrap();
    }
    writer.finish().unwrap().flush().unwrap();
    rows
}

#[test]
fn a_100_mb_ndjson_export_is_streamed_in_flat_memory() {
    if let Ok(zip_path) = std::env::var(MEMORY_CHILD_ENV) {
        let rows: u64 = std::env::var(MEMORY_ROWS_ENV).unwrap().parse().unwrap();
        return read_big_export_in_this_process(Path::new(&zip_path), rows);
    }
    if peak_rss_bytes().is_none() {
        eprintln!("skipped: no /proc/self/status VmHWM on this system");
        return;
    }
    let dir = TempDir::new();
    let zip_path = dir.join("big.zip");
    let rows = write_big_export(&zip_path);
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([MEMORY_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(MEMORY_CHILD_ENV, &zip_path)
        .env(MEMORY_ROWS_ENV, rows.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "child failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("1 passed"),
        "the child did not run the test\n{stdout}"
    );
    for line in stderr.lines().filter(|l| l.contains("peak RSS")) {
        eprintln!("child: {line}");
    }
}

fn read_big_export_in_this_process(zip_path: &Path, expected_rows: u64) {
    let server = Recorder::start();
    let client = server.client();
    let options = ExportOptions {
        export_format: ExportFormat::Ndjson,
        ..ExportOptions::default()
    };
    serve_export(&server, Reply::file(zip_path));
    let before = peak_rss_bytes().unwrap();

    let archive = client.export_archive("p1", &options).unwrap();
    let size = archive.uncompressed_size();
    assert!(size > 95_000_000, "the export is {size} bytes");
    let mut count = 0u64;
    for row in archive.rows(ExportFormat::Ndjson).unwrap() {
        let row = row.unwrap();
        assert_eq!(row["task"]["taskId"], format!("t{count}"));
        count += 1;
    }
    assert_eq!(count, expected_rows);

    let growth = peak_rss_bytes().unwrap().saturating_sub(before);
    eprintln!(
        "read {count} rows ({size} bytes); peak RSS grew by {} KiB",
        growth / 1024
    );
    assert!(
        growth < 80 << 20,
        "peak RSS grew by {growth} bytes reading a {size}-byte export"
    );
}

#[test]
fn export_ndjson_counts_the_rows_then_streams_them() {
    let content = b"{\"a\": 1}\n\n{\"b\": 2}\n  \n{\"c\": 3}\n";
    let server = Recorder::start();
    serve_export(&server, Reply::bytes(deflated_zip("p1.ndjson", content)));
    // The options say JSON: export_ndjson asks for NDJSON anyway.
    let rows = server
        .client()
        .export_ndjson("p1", &ExportOptions::default())
        .unwrap();
    assert_eq!(rows.line_count(), 3);
    let rows: Vec<Value> = rows.map(Result::unwrap).collect();
    assert_eq!(
        rows,
        vec![json!({"a": 1}), json!({"b": 2}), json!({"c": 3})]
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "one export call and one download");
    assert_eq!(requests[0].query_value("format"), Some("ndjson"));
    assert_eq!(requests[1].header("apikey"), None);
}

#[test]
fn export_json_rows_streams_the_array_elements() {
    let document = json!([{"externalId": "a.jpg"}, {"externalId": "b.jpg", "x": [1, {"y": "]"}]}]);
    let server = Recorder::start();
    serve_export(
        &server,
        Reply::bytes(deflated_zip(
            "p1.json",
            &serde_json::to_vec_pretty(&document).unwrap(),
        )),
    );
    let options = ExportOptions {
        export_format: ExportFormat::Ndjson,
        ..ExportOptions::default()
    };
    let rows: Vec<Value> = server
        .client()
        .raw()
        .export_json_rows("p1", &options)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(Value::Array(rows), document);
    assert_eq!(server.requests()[0].query_value("format"), Some("json"));
}
