//! Export: request an export, download its zip from the returned `exportPath`, and read
//! it as parsed JSON, as a stream of rows, or save it as is.
//!
//! The archive is spooled to a temporary file and its entry is decompressed as it is
//! read, so memory stays flat whatever the export's size. The download never carries
//! the API key (it is a signed storage URL), and a hostile archive is refused: entries
//! with unsafe names, encrypted entries, entries larger than their header says or than
//! [`ExportLimits`] allow, and implausible compression ratios.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::http::get_external;
use crate::models::{ExportFormat, ExportOptions};

/// Safety limits applied while reading an export archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportLimits {
    /// The largest decompressed entry accepted (default 64 GiB).
    pub max_uncompressed_bytes: u64,
    /// The largest decompressed/compressed ratio accepted for entries over 64 MiB
    /// (default 1000; JSON exports compress about 10–50 times).
    pub max_ratio: u64,
}

impl Default for ExportLimits {
    fn default() -> Self {
        ExportLimits {
            max_uncompressed_bytes: 64 << 30,
            max_ratio: 1000,
        }
    }
}

/// A file in the temporary directory, removed when dropped.
#[derive(Debug)]
struct TempFile {
    path: PathBuf,
}

impl TempFile {
    fn create() -> Result<(TempFile, File)> {
        let path =
            std::env::temp_dir().join(format!("ango-export-{}.zip", uuid::Uuid::new_v4().simple()));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
        Ok((TempFile { path }, file))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Where the one entry of an archive lives, checked against the limits.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    data_start: u64,
    compressed: u64,
    uncompressed: u64,
    deflated: bool,
}

fn locate_entry(file: &File, limits: &ExportLimits) -> Result<Entry> {
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| Error::Archive(format!("not a zip archive: {e}")))?;
    if archive.is_empty() {
        return Err(Error::Archive("the export archive is empty".into()));
    }
    let entry = archive
        .by_index_raw(0)
        .map_err(|e| Error::Archive(format!("unreadable entry: {e}")))?;
    let name = entry.name().to_string();
    let unsafe_name = name.is_empty()
        || name.starts_with('/')
        || name.contains('\\')
        || name.contains('\0')
        || name.split('/').any(|part| part == "..")
        || entry.enclosed_name().is_none();
    if unsafe_name {
        return Err(Error::Archive(format!(
            "refusing an entry with an unsafe name: {name:?}"
        )));
    }
    if entry.encrypted() {
        return Err(Error::Archive("refusing an encrypted entry".into()));
    }
    let deflated = match entry.compression() {
        zip::CompressionMethod::Stored => false,
        zip::CompressionMethod::Deflated => true,
        other => return Err(Error::Archive(format!("unsupported compression {other:?}"))),
    };
    let (compressed, uncompressed) = (entry.compressed_size(), entry.size());
    if uncompressed > limits.max_uncompressed_bytes {
        return Err(Error::Archive(format!(
            "the entry would decompress to {uncompressed} bytes, over the limit of {}",
            limits.max_uncompressed_bytes
        )));
    }
    if uncompressed > 64 << 20 && uncompressed / compressed.max(1) > limits.max_ratio {
        return Err(Error::Archive(format!(
            "refusing a compression ratio over {}:1 (a zip bomb?)",
            limits.max_ratio
        )));
    }
    Ok(Entry {
        name,
        data_start: entry.data_start(),
        compressed,
        uncompressed,
        deflated,
    })
}

/// Decompressed bytes of the entry, refusing more than the header declared.
struct EntryReader {
    inner: Box<dyn Read + Send>,
    remaining: u64,
}

impl Read for EntryReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.remaining {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "entry is larger than its header declares",
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

fn open_entry(path: &Path, entry: &Entry) -> Result<BufReader<EntryReader>> {
    let mut file =
        File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    file.seek(SeekFrom::Start(entry.data_start))
        .map_err(|e| Error::io("seeking in the export archive", e))?;
    let raw = file.take(entry.compressed);
    let inner: Box<dyn Read + Send> = if entry.deflated {
        Box::new(flate2::read::DeflateDecoder::new(raw))
    } else {
        Box::new(raw)
    };
    Ok(BufReader::with_capacity(
        256 * 1024,
        EntryReader {
            inner,
            remaining: entry.uncompressed,
        },
    ))
}

fn archive_error(e: io::Error) -> Error {
    Error::Archive(format!("reading the export: {e}"))
}

/// A downloaded export archive.
#[derive(Debug)]
pub struct ExportArchive {
    file: TempFile,
    entry: Entry,
}

impl ExportArchive {
    /// The name of the exported file inside the archive.
    pub fn entry_name(&self) -> &str {
        &self.entry.name
    }

    /// The decompressed size the archive declares.
    pub fn uncompressed_size(&self) -> u64 {
        self.entry.uncompressed
    }

    /// Parses the whole entry as one JSON document (what the official SDK returns).
    pub fn to_json(&self) -> Result<Value> {
        let reader = open_entry(&self.file.path, &self.entry)?;
        serde_json::from_reader(reader).map_err(|e| {
            // A refused or unreadable archive is an archive error, not bad JSON.
            if e.is_io() {
                Error::Archive(format!("reading the export: {e}"))
            } else {
                Error::decode(format!("the export is not valid JSON: {e}"), b"")
            }
        })
    }

    /// Counts the rows: non-empty lines of NDJSON (as the official SDK counts them).
    pub fn count_lines(&self) -> Result<u64> {
        let mut reader = open_entry(&self.file.path, &self.entry)?;
        let mut count = 0;
        let mut line = Vec::new();
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).map_err(archive_error)? == 0 {
                return Ok(count);
            }
            if line.iter().any(|b| !b.is_ascii_whitespace()) {
                count += 1;
            }
        }
    }

    /// Streams the rows: one JSON value per NDJSON line, or per element of a JSON array.
    pub fn rows(self, format: ExportFormat) -> Result<ExportRows> {
        let reader = open_entry(&self.file.path, &self.entry)?;
        Ok(ExportRows {
            _archive: self,
            reader,
            format,
            state: ArrayState::BeforeStart,
            done: false,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArrayState {
    BeforeStart,
    InArray,
    Ended,
}

/// An iterator over the rows of an export; the archive is deleted when it is dropped.
pub struct ExportRows {
    _archive: ExportArchive,
    reader: BufReader<EntryReader>,
    format: ExportFormat,
    state: ArrayState,
    done: bool,
}

impl std::fmt::Debug for ExportRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportRows")
            .field("format", &self.format)
            .field("done", &self.done)
            .finish()
    }
}

impl ExportRows {
    fn next_line(&mut self) -> Result<Option<Vec<u8>>> {
        let mut line = Vec::new();
        loop {
            line.clear();
            if self
                .reader
                .read_until(b'\n', &mut line)
                .map_err(archive_error)?
                == 0
            {
                return Ok(None);
            }
            if line.iter().any(|b| !b.is_ascii_whitespace()) {
                return Ok(Some(line));
            }
        }
    }

    fn next_byte(&mut self) -> Result<Option<u8>> {
        let buf = self.reader.fill_buf().map_err(archive_error)?;
        let Some(&b) = buf.first() else {
            return Ok(None);
        };
        self.reader.consume(1);
        Ok(Some(b))
    }

    fn skip_whitespace(&mut self) -> Result<Option<u8>> {
        loop {
            match self.next_byte()? {
                Some(b) if b.is_ascii_whitespace() => continue,
                other => return Ok(other),
            }
        }
    }

    /// The next element of a top-level JSON array, read without loading the rest.
    fn next_element(&mut self) -> Result<Option<Vec<u8>>> {
        let malformed =
            |what: &str| Error::decode(format!("the export is not a JSON array: {what}"), b"");
        if self.state == ArrayState::BeforeStart {
            match self.skip_whitespace()? {
                Some(b'[') => self.state = ArrayState::InArray,
                _ => return Err(malformed("no opening bracket")),
            }
        }
        if self.state == ArrayState::Ended {
            return Ok(None);
        }
        let mut element = Vec::new();
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        loop {
            let Some(b) = self.next_byte()? else {
                return Err(malformed("it ends early"));
            };
            if in_string {
                element.push(b);
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth > 0 => depth -= 1,
                b']' => {
                    self.state = ArrayState::Ended;
                    return if element.iter().all(u8::is_ascii_whitespace) {
                        Ok(None)
                    } else {
                        Ok(Some(element))
                    };
                }
                b',' if depth == 0 => return Ok(Some(element)),
                _ => {}
            }
            element.push(b);
        }
    }
}

impl ExportRows {
    /// The next row as its JSON text, undecoded: for callers with a faster decoder of
    /// their own (the Python binding hands it to the interpreter's `json.loads`).
    pub fn next_raw(&mut self) -> Option<Result<Vec<u8>>> {
        if self.done {
            return None;
        }
        let row = match self.format {
            ExportFormat::Ndjson => self.next_line(),
            ExportFormat::Json => self.next_element(),
        };
        match row {
            Ok(Some(text)) => Some(Ok(text)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(error) => {
                self.done = true;
                Some(Err(error))
            }
        }
    }
}

impl Iterator for ExportRows {
    type Item = Result<Value>;

    fn next(&mut self) -> Option<Result<Value>> {
        let text = match self.next_raw()? {
            Ok(text) => text,
            Err(error) => return Some(Err(error)),
        };
        match serde_json::from_slice(&text) {
            Ok(row) => Some(Ok(row)),
            Err(e) => {
                self.done = true;
                Some(Err(Error::decode(
                    format!("invalid export row: {e}"),
                    &text,
                )))
            }
        }
    }
}

impl Client {
    /// Asks for an export (`GET /v2/export`) and returns its download URL (`data.exportPath`).
    ///
    /// The server keeps one export file per project: concurrent exports of the same
    /// project may overwrite each other (as with the official SDK).
    pub fn request_export(&self, project_id: &str, options: &ExportOptions) -> Result<String> {
        let mut call = self.get("/v2/export").without_content_type();
        for (name, value) in options.to_query() {
            call = call.query(&name, value);
        }
        let response = call.query("project", project_id).send()?;
        response
            .get("data")
            .and_then(|d| d.get("exportPath"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                Error::decode(
                    "the export response has no data.exportPath",
                    response.to_string().as_bytes(),
                )
            })
    }

    /// Downloads an export archive from its URL (without the API key) into a temporary
    /// file, and checks it against the default [`ExportLimits`].
    pub fn download_export(&self, url: &str) -> Result<ExportArchive> {
        self.download_export_with_limits(url, &ExportLimits::default())
    }

    /// Like [`Client::download_export`], checking the archive against `limits`: lower
    /// them to refuse big exports early, raise them for an export known to be huge.
    pub fn download_export_with_limits(
        &self,
        url: &str,
        limits: &ExportLimits,
    ) -> Result<ExportArchive> {
        let (temp, mut file) = TempFile::create()?;
        self.download_to(url, &mut file)?;
        let entry = locate_entry(&file, limits)?;
        Ok(ExportArchive { file: temp, entry })
    }

    fn download_to(&self, url: &str, out: &mut impl Write) -> Result<u64> {
        let response = get_external(self, url)?;
        let mut body = response.into_body().into_reader();
        let copied = io::copy(&mut body, out)
            .map_err(|e| Error::Connection(format!("downloading the export: {e}")))?;
        out.flush()
            .map_err(|e| Error::io("writing the export", e))?;
        Ok(copied)
    }

    /// Exports and downloads the archive.
    pub fn export_archive(
        &self,
        project_id: &str,
        options: &ExportOptions,
    ) -> Result<ExportArchive> {
        let url = self.request_export(project_id, options)?;
        self.download_export(&url)
    }

    /// Exports and parses the whole export (JSON format) as one value, as the official
    /// `exportV3` does.
    pub fn export_json(&self, project_id: &str, options: &ExportOptions) -> Result<Value> {
        self.export_archive(project_id, options)?.to_json()
    }

    /// Exports and streams the rows: NDJSON lines, or JSON array elements, one at a time.
    pub fn export_rows(&self, project_id: &str, options: &ExportOptions) -> Result<ExportRows> {
        self.export_archive(project_id, options)?
            .rows(options.export_format)
    }

    /// Exports and saves the zip as downloaded; returns its size in bytes.
    ///
    /// The download goes to a temporary file beside `path`, renamed to `path` once
    /// complete: a failed export leaves no partial file, and an existing file at `path`
    /// is only replaced by a whole download.
    pub fn export_to_file(
        &self,
        project_id: &str,
        options: &ExportOptions,
        path: impl AsRef<Path>,
    ) -> Result<u64> {
        let path = path.as_ref();
        let url = self.request_export(project_id, options)?;
        let mut partial = path.as_os_str().to_owned();
        partial.push(format!(".{}.part", uuid::Uuid::new_v4().simple()));
        let partial = PathBuf::from(partial);
        let mut file = File::create(&partial)
            .map_err(|e| Error::io(format!("creating {}", partial.display()), e))?;
        let saved = self.download_to(&url, &mut file).and_then(|size| {
            drop(file);
            std::fs::rename(&partial, path)
                .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
            Ok(size)
        });
        if saved.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        saved
    }
}

/// The rows of an NDJSON export and how many there are: the official SDK's
/// `(iterator, num_lines)`, streamed.
#[derive(Debug)]
pub struct NdjsonRows {
    rows: ExportRows,
    line_count: u64,
}

impl NdjsonRows {
    /// The number of rows (non-empty lines), counted in a first streaming pass over the
    /// downloaded archive before any row is yielded.
    pub fn line_count(&self) -> u64 {
        self.line_count
    }

    /// The underlying row stream (for [`ExportRows::next_raw`]).
    pub fn into_rows(self) -> ExportRows {
        self.rows
    }
}

impl Iterator for NdjsonRows {
    type Item = Result<Value>;

    fn next(&mut self) -> Option<Result<Value>> {
        self.rows.next()
    }
}

impl ExportArchive {
    /// Counts the NDJSON rows, then streams them.
    pub fn ndjson_rows(self) -> Result<NdjsonRows> {
        let line_count = self.count_lines()?;
        Ok(NdjsonRows {
            rows: self.rows(ExportFormat::Ndjson)?,
            line_count,
        })
    }
}

impl Client {
    /// Exports as NDJSON (whatever `options.export_format` says) and streams the rows,
    /// with their count.
    pub fn export_ndjson(&self, project_id: &str, options: &ExportOptions) -> Result<NdjsonRows> {
        let options = ExportOptions {
            export_format: ExportFormat::Ndjson,
            ..options.clone()
        };
        self.export_archive(project_id, &options)?.ndjson_rows()
    }

    /// Exports as JSON (whatever `options.export_format` says) and streams the elements
    /// of the top-level array one at a time, without parsing the whole document.
    pub fn export_json_rows(
        &self,
        project_id: &str,
        options: &ExportOptions,
    ) -> Result<ExportRows> {
        let options = ExportOptions {
            export_format: ExportFormat::Json,
            ..options.clone()
        };
        self.export_archive(project_id, &options)?
            .rows(ExportFormat::Json)
    }
}
