//! The download spool is an unnamed temporary file: nothing appears in the temporary
//! directory while an export is read, after it, or after a refused archive. (Its own
//! test binary, because it points `TMPDIR` at a fresh directory.)

use ango_testkit as support;

use ango_core::Error;
use ango_core::models::ExportFormat;
use support::{Recorder, Reply, TempDir};

fn zip_of(content: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    writer.start_file("p1.ndjson", options).unwrap();
    writer.write_all(content).unwrap();
    writer.finish().unwrap().into_inner()
}

#[test]
fn the_spool_file_never_shows_in_the_temporary_directory() {
    let tmp = TempDir::new();
    // SAFETY: the only test of this binary, set before any other thread reads the
    // environment.
    unsafe { std::env::set_var("TMPDIR", &tmp.path) };
    assert_eq!(std::env::temp_dir(), tmp.path);
    let entries = || std::fs::read_dir(&tmp.path).unwrap().count();

    let good = zip_of(b"{\"a\": 1}\n{\"b\": 2}\n");
    let mut corrupt = good.clone();
    // Flip a bit in the CRC of both headers: the data no longer matches.
    let central = corrupt.len() - 22;
    let central_start =
        u32::from_le_bytes(corrupt[central + 16..central + 20].try_into().unwrap()) as usize;
    corrupt[14] ^= 1;
    corrupt[central_start + 16] ^= 1;

    let server = Recorder::start();
    let url = format!("{}/files/p1.zip", server.url);
    server.push(Reply::bytes(good));
    let mut rows = server
        .client()
        .download_export(&url)
        .unwrap()
        .rows(ExportFormat::Ndjson)
        .unwrap();
    assert!(rows.next().unwrap().is_ok());
    assert_eq!(entries(), 0, "nothing visible while the rows are read");
    drop(rows);
    assert_eq!(entries(), 0);

    server.push(Reply::bytes(corrupt));
    let archive = server.client().download_export(&url).unwrap();
    assert!(matches!(archive.count_lines(), Err(Error::Archive(_))));
    drop(archive);
    assert_eq!(entries(), 0, "nothing left after a refused archive");

    server.push(Reply::bytes(b"not a zip".to_vec()));
    assert!(server.client().download_export(&url).is_err());
    assert_eq!(entries(), 0);
}
