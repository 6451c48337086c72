//! Export: request an export, download its zip from the returned `exportPath`, and read
//! it as parsed JSON, as a stream of rows, or save it as is.
//!
//! The archive is spooled to an unnamed temporary file (private, and unlinked at once,
//! so nothing is left behind even if the process is killed) and its entry is
//! decompressed as it is read, so memory stays flat whatever the export's size. The
//! download never carries the API key (it is a signed storage URL); a download that
//! breaks off is resumed with a `Range` request, or started again, within the retry
//! policy. A hostile or corrupt archive is refused: entries with unsafe names,
//! encrypted entries, a local header that disagrees with the central directory, entries
//! larger or smaller than their header says or than [`ExportLimits`] allow, implausible
//! compression ratios, and a CRC-32 that does not match. Sizes and the CRC are checked
//! as the entry is streamed: a stream of rows ends with [`Error::Archive`] when the
//! entry turns out to be corrupt (the whole-document and counting readers check it
//! before returning anything).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::client::{Client, Raw};
use crate::error::{Error, Result};
use crate::http::get_external;
use crate::models::{ExportFormat, ExportOptions};
use crate::pyjson::truthy;

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

/// Reads `buf.len()` bytes or fewer of `file` at `offset`, without moving any cursor,
/// so several readers of one spool file never disturb each other.
#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

/// The bytes `[pos, end)` of the spool file.
struct FileSlice {
    file: Arc<File>,
    pos: u64,
    end: u64,
}

impl Read for FileSlice {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = (self.end - self.pos).min(buf.len() as u64) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = read_at(&self.file, &mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the archive ends inside its entry",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    FileSlice {
        file: Arc::new(file.try_clone()?),
        pos: offset,
        end: offset + buf.len() as u64,
    }
    .read_exact(buf)
}

/// Where the one entry of an archive lives, checked against the limits.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    data_start: u64,
    compressed: u64,
    uncompressed: u64,
    crc32: u32,
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
    let (crc32, data_start, header_start) =
        (entry.crc32(), entry.data_start(), entry.header_start());
    drop(entry);
    check_local_header(
        file,
        header_start,
        deflated,
        crc32,
        compressed,
        uncompressed,
    )?;
    Ok(Entry {
        name,
        data_start,
        compressed,
        uncompressed,
        crc32,
        deflated,
    })
}

/// The local header must agree with the central directory on the method, the CRC and
/// the sizes (unless it defers them to a data descriptor, or to zip64 fields).
fn check_local_header(
    file: &File,
    header_start: u64,
    deflated: bool,
    crc32: u32,
    compressed: u64,
    uncompressed: u64,
) -> Result<()> {
    let mut header = [0u8; 30];
    read_exact_at(file, &mut header, header_start)
        .map_err(|e| Error::Archive(format!("unreadable local header: {e}")))?;
    let u16_at = |i: usize| u16::from_le_bytes([header[i], header[i + 1]]);
    let u32_at =
        |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    if u32_at(0) != 0x0403_4b50 {
        return Err(Error::Archive("the entry's local header is missing".into()));
    }
    let disagree = |what: &str| {
        Error::Archive(format!(
            "the entry's local header and the central directory disagree on its {what}"
        ))
    };
    if (u16_at(8) == 8) != deflated {
        return Err(disagree("compression"));
    }
    let descriptor = u16_at(6) & (1 << 3) != 0;
    if descriptor {
        return Ok(());
    }
    if u32_at(14) != crc32 {
        return Err(disagree("CRC-32"));
    }
    let (local_compressed, local_size) = (u32_at(18), u32_at(22));
    let zip64 = local_compressed == u32::MAX || local_size == u32::MAX;
    if !zip64
        && (u64::from(local_compressed) != compressed || u64::from(local_size) != uncompressed)
    {
        return Err(disagree("sizes"));
    }
    Ok(())
}

/// Decompressed bytes of the entry, refusing more or fewer than the header declared
/// and a CRC-32 that does not match; the checks end the stream with an error before it
/// reports its end.
struct EntryReader {
    inner: Box<dyn Read + Send>,
    remaining: u64,
    crc: crc32fast::Hasher,
    expected_crc: u32,
    verified: bool,
}

impl Read for EntryReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            if !self.verified {
                if self.remaining > 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "entry is shorter than its header declares ({} bytes missing)",
                            self.remaining
                        ),
                    ));
                }
                let crc = self.crc.clone().finalize();
                if crc != self.expected_crc {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "CRC-32 mismatch: the entry is corrupt (header {:08x}, data {crc:08x})",
                            self.expected_crc
                        ),
                    ));
                }
                self.verified = true;
            }
            return Ok(0);
        }
        if n as u64 > self.remaining {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "entry is larger than its header declares",
            ));
        }
        self.remaining -= n as u64;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
}

fn open_entry(file: &Arc<File>, entry: &Entry) -> BufReader<EntryReader> {
    let raw = FileSlice {
        file: Arc::clone(file),
        pos: entry.data_start,
        end: entry.data_start.saturating_add(entry.compressed),
    };
    let inner: Box<dyn Read + Send> = if entry.deflated {
        Box::new(flate2::read::DeflateDecoder::new(raw))
    } else {
        Box::new(raw)
    };
    BufReader::with_capacity(
        256 * 1024,
        EntryReader {
            inner,
            remaining: entry.uncompressed,
            crc: crc32fast::Hasher::new(),
            expected_crc: entry.crc32,
            verified: false,
        },
    )
}

/// `error`, unless the rest of the entry shows it is corrupt (then that archive error):
/// text that does not parse is reported as bad JSON only when the archive is intact.
fn corrupt_or(reader: &mut impl Read, error: Error) -> Error {
    match io::copy(reader, &mut io::sink()) {
        Ok(_) => error,
        Err(e) => archive_error(e),
    }
}

fn archive_error(e: io::Error) -> Error {
    Error::Archive(format!("reading the export: {e}"))
}

/// A downloaded export archive.
#[derive(Debug)]
pub struct ExportArchive {
    /// The unnamed spool file: it disappears when the last reader drops it.
    file: Arc<File>,
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
        let mut reader = open_entry(&self.file, &self.entry);
        let parsed = serde_json::from_reader(&mut reader);
        parsed.map_err(|e| {
            // A refused or unreadable archive is an archive error, not bad JSON.
            if e.is_io() {
                Error::Archive(format!("reading the export: {e}"))
            } else {
                corrupt_or(
                    &mut reader,
                    Error::decode(format!("the export is not valid JSON: {e}"), b""),
                )
            }
        })
    }

    /// The whole decompressed entry, its size and CRC-32 checked: for callers that
    /// decode the document themselves (the Python binding builds Python objects from
    /// these bytes directly, without an intermediate [`Value`]).
    pub fn read_all(&self) -> Result<Vec<u8>> {
        let mut reader = open_entry(&self.file, &self.entry);
        // The declared size is checked against the limits already; it is only a hint.
        let mut bytes =
            Vec::with_capacity(usize::try_from(self.entry.uncompressed.min(1 << 30)).unwrap_or(0));
        reader.read_to_end(&mut bytes).map_err(archive_error)?;
        Ok(bytes)
    }

    /// Counts the rows: non-empty lines of NDJSON (as the official SDK counts them).
    pub fn count_lines(&self) -> Result<u64> {
        // Read through the buffer, never a whole line: a line may be as long as the entry.
        let mut reader = open_entry(&self.file, &self.entry);
        let (mut count, mut blank_so_far) = (0, true);
        loop {
            let chunk = reader.fill_buf().map_err(archive_error)?;
            if chunk.is_empty() {
                return Ok(count + u64::from(!blank_so_far));
            }
            for &byte in chunk {
                if byte == b'\n' {
                    count += u64::from(!blank_so_far);
                    blank_so_far = true;
                } else if !byte.is_ascii_whitespace() {
                    blank_so_far = false;
                }
            }
            let read = chunk.len();
            reader.consume(read);
        }
    }

    /// Streams the rows: one JSON value per NDJSON line, or per element of a JSON array.
    pub fn rows(self, format: ExportFormat) -> Result<ExportRows> {
        let reader = open_entry(&self.file, &self.entry);
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
                    // Read to the end so that the entry's size and CRC are checked.
                    io::copy(&mut self.reader, &mut io::sink()).map_err(archive_error)?;
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
                Some(Err(match error {
                    Error::Decode { .. } => corrupt_or(&mut self.reader, error),
                    other => other,
                }))
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
                let error = Error::decode(format!("invalid export row: {e}"), &text);
                Some(Err(corrupt_or(&mut self.reader, error)))
            }
        }
    }
}

impl Raw<'_> {
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
        let mut file = tempfile::tempfile()
            .map_err(|e| Error::io("creating a temporary file for the export", e))?;
        self.download_to(url, &mut file)?;
        let entry = locate_entry(&file, limits)?;
        Ok(ExportArchive {
            file: Arc::new(file),
            entry,
        })
    }

    /// Downloads `url` into `out` (rewound and emptied first). A body that breaks off
    /// (a dropped connection, fewer bytes than its `Content-Length`) is resumed with a
    /// `Range` request when the server honours it, else downloaded again, at most
    /// `max_retries` times; a failure to write `out` is [`Error::Io`].
    fn download_to(&self, url: &str, out: &mut File) -> Result<u64> {
        let settings = self.settings();
        let mut response = get_external(self, url)?;
        let mut download = Download::start(&response);
        let mut broken_offs = 0;
        let cancel = self.active_cancel();
        let cancel = cancel.as_ref();
        loop {
            let body = crate::cancel::CancelRead {
                inner: response.into_body().into_reader(),
                cancel: cancel.cloned(),
            };
            let copied =
                crate::cancel::during(cancel, || copy_body(body, out, &mut download.written));
            if copied.is_err() {
                crate::cancel::check(cancel)?;
            }
            let broke_off = match copied {
                Ok(()) => match download.expected_end {
                    Some(end) if download.written != end => {
                        format!("the body ended after {} of {end} bytes", download.written)
                    }
                    _ => {
                        out.flush()
                            .map_err(|e| Error::io("writing the export to a temporary file", e))?;
                        return Ok(download.written);
                    }
                },
                Err(CopyError::Write(e)) => {
                    return Err(Error::io("writing the export to a temporary file", e));
                }
                Err(CopyError::Read(e)) => e.to_string(),
            };
            if broken_offs >= settings.retry.max_retries {
                return Err(Error::Connection(format!(
                    "downloading the export: {broke_off} (after {broken_offs} resumptions)"
                )));
            }
            broken_offs += 1;
            crate::cancel::sleep(cancel, settings.retry.backoff(broken_offs))?;
            response = match self.resume(url, &download) {
                Some(resumed) => resumed,
                None => {
                    let fresh = get_external(self, url)?;
                    download = Download::start(&fresh);
                    restart(out)?;
                    fresh
                }
            };
        }
    }

    /// Asks for the rest of a broken-off download; `None` when it must start again.
    fn resume(&self, url: &str, download: &Download) -> Option<ureq::http::Response<ureq::Body>> {
        if download.written == 0 || !download.resumable {
            return None;
        }
        let settings = self.settings();
        let mut request = self
            .agent()
            .get(url)
            .header("range", format!("bytes={}-", download.written));
        if let Some(validator) = &download.validator {
            request = request.header("if-range", validator.as_str());
        }
        let response = request
            .config()
            .timeout_connect(settings.connect_timeout)
            .timeout_global(settings.download_timeout)
            .http_status_as_error(false)
            .build()
            .call();
        // A resumption that fails in any way is replaced by a fresh download.
        let response = response.ok()?;
        let continues_here = response.status().as_u16() == 206
            && response
                .headers()
                .get("content-range")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("bytes "))
                .and_then(|v| v.split('-').next())
                .and_then(|start| start.trim().parse::<u64>().ok())
                == Some(download.written);
        continues_here.then_some(response)
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

    /// Exports and returns the whole decompressed export, undecoded (see
    /// [`ExportArchive::read_all`]).
    pub fn export_bytes(&self, project_id: &str, options: &ExportOptions) -> Result<Vec<u8>> {
        self.export_archive(project_id, options)?.read_all()
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
        let folder = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let mut partial = tempfile::Builder::new()
            .prefix(".ango-export-")
            .suffix(".part")
            .tempfile_in(folder)
            .map_err(|e| {
                Error::io(
                    format!("creating a temporary file in {}", folder.display()),
                    e,
                )
            })?;
        let size = self.download_to(&url, partial.as_file_mut())?;
        // Only a whole, intact archive replaces `path`.
        verify_archive(partial.as_file())?;
        partial
            .persist(path)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e.error))?;
        Ok(size)
    }
}

/// What [`Client::export_output`] is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportTarget<'a> {
    /// The official `exportV3` result: with `path`, the archive saved there; for the
    /// NDJSON format, the rows as a stream (and, with `count_rows`, their count, as the
    /// official SDK returns it); otherwise the whole export's bytes.
    V3 {
        /// Where to save the archive.
        path: Option<&'a Path>,
        /// Count the NDJSON rows first.
        count_rows: bool,
    },
    /// The rows as a stream, in either format ([`Raw::export_rows`]).
    Rows,
    /// Only the archive's signed URL ([`Client::request_export`]).
    Url,
}

/// What [`Client::export_output`] produced.
#[derive(Debug)]
pub enum ExportOutput {
    /// The archive, saved to the path given: its size in bytes.
    Saved(u64),
    /// The whole decompressed export (JSON format), undecoded.
    Document(Vec<u8>),
    /// The rows, streamed from the downloaded archive, and their count when it was
    /// asked for.
    Rows(ExportRows, Option<u64>),
    /// The archive's signed URL.
    Url(String),
}

impl Client {
    /// One export, as the bindings' export methods ask for it ([`ExportTarget`]).
    pub fn export_output(
        &self,
        project_id: &str,
        options: &ExportOptions,
        target: ExportTarget<'_>,
    ) -> Result<ExportOutput> {
        let (path, count_rows) = match target {
            ExportTarget::Url => {
                return self
                    .request_export(project_id, options)
                    .map(ExportOutput::Url);
            }
            ExportTarget::Rows => {
                let rows = self.raw().export_rows(project_id, options)?;
                return Ok(ExportOutput::Rows(rows, None));
            }
            ExportTarget::V3 { path, count_rows } => (path, count_rows),
        };
        if let Some(path) = path {
            return self
                .export_to_file(project_id, options, path)
                .map(ExportOutput::Saved);
        }
        if options.export_format != ExportFormat::Ndjson {
            return self
                .export_bytes(project_id, options)
                .map(ExportOutput::Document);
        }
        let archive = self.export_archive(project_id, options)?;
        let count = count_rows.then(|| archive.count_lines()).transpose()?;
        Ok(ExportOutput::Rows(
            archive.rows(options.export_format)?,
            count,
        ))
    }
}

/// Checks a downloaded archive completely: its structure, sizes and CRC-32.
fn verify_archive(file: &File) -> Result<()> {
    let file = Arc::new(
        file.try_clone()
            .map_err(|e| Error::io("reading the downloaded export", e))?,
    );
    let entry = locate_entry(&file, &ExportLimits::default())?;
    io::copy(&mut open_entry(&file, &entry), &mut io::sink()).map_err(archive_error)?;
    Ok(())
}

/// Where a download stands, for resuming it.
#[derive(Debug)]
struct Download {
    /// Bytes written to the spool file.
    written: u64,
    /// The byte count at which the body is complete, when the server said.
    expected_end: Option<u64>,
    /// The server accepts byte ranges and the body is not re-encoded in transit.
    resumable: bool,
    /// An `ETag` or `Last-Modified` to make sure a resumption continues the same file.
    validator: Option<String>,
}

impl Download {
    fn start(response: &ureq::http::Response<ureq::Body>) -> Download {
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let encoded =
            header("content-encoding").is_some_and(|e| !e.eq_ignore_ascii_case("identity"));
        Download {
            written: 0,
            expected_end: if encoded {
                None
            } else {
                header("content-length").and_then(|v| v.trim().parse().ok())
            },
            resumable: !encoded
                && header("accept-ranges").is_some_and(|v| v.eq_ignore_ascii_case("bytes")),
            validator: header("etag").or_else(|| header("last-modified")),
        }
    }
}

/// Empties the spool file for a download from the start.
fn restart(out: &mut File) -> Result<()> {
    out.set_len(0)
        .and_then(|()| out.seek(SeekFrom::Start(0)).map(drop))
        .map_err(|e| Error::io("resetting the temporary export file", e))
}

/// Why copying a body stopped.
#[derive(Debug)]
enum CopyError {
    /// Reading the body failed: the download broke off.
    Read(io::Error),
    /// Writing the spool file failed (a full disk): not a network problem.
    Write(io::Error),
}

/// Copies `body` to `out`, counting into `written`, keeping read and write failures apart.
fn copy_body(
    mut body: impl Read,
    out: &mut impl Write,
    written: &mut u64,
) -> Result<(), CopyError> {
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        out.write_all(&buf[..n]).map_err(CopyError::Write)?;
        *written += n as u64;
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose disk is full.
    struct FullDisk;

    impl Write for FullDisk {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from_raw_os_error(28)) // ENOSPC
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A body that breaks off after some bytes.
    struct BrokenBody(usize);

    impl Read for BrokenBody {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"));
            }
            let n = self.0.min(buf.len());
            buf[..n].fill(b'x');
            self.0 -= n;
            Ok(n)
        }
    }

    #[test]
    fn write_and_read_failures_are_told_apart() {
        let mut written = 0;
        let full = copy_body(&b"some bytes"[..], &mut FullDisk, &mut written);
        assert!(matches!(full, Err(CopyError::Write(_))), "{full:?}");
        assert_eq!(written, 0);
        let mut sink = Vec::new();
        let broken = copy_body(BrokenBody(1000), &mut sink, &mut written);
        assert!(matches!(broken, Err(CopyError::Read(_))), "{broken:?}");
        assert_eq!((written, sink.len()), (1000, 1000));
    }

    /// Serves `body` once per connection on loopback; returns the URL.
    fn serve(body: Vec<u8>) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/files/p1.zip", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(&body);
            }
        });
        url
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_is_an_io_error_not_a_connection_error() {
        let Ok(mut full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
            return; // no /dev/full in this sandbox: the unit test above covers the split
        };
        let url = serve(vec![7u8; 1 << 20]);
        let client = Client::builder("k")
            .host("http://127.0.0.1:9")
            .max_retries(0)
            .build()
            .unwrap();
        let error = client.download_to(&url, &mut full).unwrap_err();
        assert!(matches!(error, Error::Io { .. }), "{error:?}");
        assert_eq!(error.code(), "IO");
    }
}

/// The export arguments of the v1.3.14 SDK, as its documentation wrote them:
/// `exportV3(project_id, batches, stage, format, type, zip_file_path, filters)` and the
/// `updated_at` window and `batches` of `export(project_id, assignees, completed_at,
/// updated_at, batches)`. Deserializes from an object with those keys (each optional);
/// [`LegacyExportArgs::options`] gives the [`ExportOptions`] they stand for.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LegacyExportArgs {
    /// Batches to export.
    pub batches: Option<Vec<String>>,
    /// Stages to export (default: `Complete`, as [`ExportOptions::new`]).
    pub stage: Option<Vec<String>>,
    /// `json` or `ndjson`, in any case.
    pub format: Option<String>,
    /// `task` or `issue`, in any case.
    #[serde(rename = "type")]
    pub export_type: Option<String>,
    /// The old query flags: `sendEmail`, `includeMetadata`, `includeHistory`,
    /// `includeOnlyKeyFrames`, `includeIdleBlurDurations` (`"true"`/`"false"`, any
    /// case) and `doNotNotify`; other keys are not supported by the export API.
    pub filters: Option<serde_json::Map<String, Value>>,
    /// An `updatedAt` window: `[from, to]` (either may be `null`) or a `TimeFilter`.
    pub updated_at: Option<Value>,
}

impl LegacyExportArgs {
    /// The options these arguments stand for, and the `filters` keys the export API no
    /// longer supports (ignored; the caller may warn about them). A format, type or
    /// window that is not one is [`Error::InvalidArgument`].
    pub fn options(&self) -> Result<(ExportOptions, Vec<String>)> {
        use crate::models::{ExportType, TimeFilter, Timestamp};
        let mut options = ExportOptions::new(self.stage.clone(), None);
        options.batches = self.batches.clone();
        if let Some(format) = &self.format {
            options.export_format = format.to_ascii_lowercase().parse::<ExportFormat>()?;
        }
        if let Some(kind) = &self.export_type {
            options.export_type = kind.to_ascii_lowercase().parse::<ExportType>()?;
        }
        let mut ignored = Vec::new();
        for (key, value) in self.filters.iter().flatten() {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let on = text.eq_ignore_ascii_case("true");
            match key.as_str() {
                "sendEmail" => options.send_email = on,
                "includeMetadata" => options.include_metadata = on,
                "includeHistory" => options.include_history = on,
                "includeOnlyKeyFrames" => options.include_key_frames_only = on,
                "includeIdleBlurDurations" => options.include_idle_blur_durations = on,
                "doNotNotify" => options.notify = !on,
                _ => ignored.push(key.clone()),
            }
        }
        options.updated_at = match &self.updated_at {
            None | Some(Value::Null) => None,
            Some(Value::Array(pair)) if pair.len() == 2 => {
                let end = |v: &Value| -> Result<Option<Timestamp>> {
                    serde_json::from_value(v.clone())
                        .map_err(|e| Error::invalid(format!("updated_at: {e}")))
                };
                Some(TimeFilter {
                    from_date: end(&pair[0])?,
                    to_date: end(&pair[1])?,
                })
            }
            Some(window @ Value::Object(_)) => Some(
                serde_json::from_value(window.clone())
                    .map_err(|e| Error::invalid(format!("updated_at: {e}")))?,
            ),
            Some(_) => {
                return Err(Error::invalid(
                    "a time window is [from_datetime, to_datetime]",
                ));
            }
        };
        Ok((options, ignored))
    }
}

/// An export as the Python SDK's `exportV3()` and `export()` take their arguments, the
/// v1.3.14 positional forms included: `exportV3(project_id, batches, stage, format,
/// type, zip_file_path, filters)` (a list where the options belong is the batches, a
/// list where the path belongs the stages) and `export(project_id, assignees,
/// completed_at, updated_at, batches)` (options that are not an `ExportOptions` object,
/// or a path that is not text, are the assignees and the completion window).
/// Deserializes from an object with the parameters' names.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExportArgs {
    /// `export` for `export()`'s forms; anything else (or nothing) is `exportV3()`.
    pub method: Option<String>,
    /// An [`ExportOptions`] object, `null`, or a v1.3.14 positional argument.
    pub options: Value,
    /// Where to save the archive, `null`, or a v1.3.14 positional argument.
    pub zip_file_path: Value,
    /// `exportV3()`'s and `export()`'s older filters.
    pub batches: Value,
    /// `exportV3()`'s older stages.
    pub stage: Value,
    /// `exportV3()`'s older format.
    pub format: Value,
    /// `exportV3()`'s older type.
    #[serde(rename = "type")]
    pub export_type: Value,
    /// `exportV3()`'s older query flags.
    pub filters: Value,
    /// `export()`'s assignees (no longer filtered by the export API).
    pub assignees: Value,
    /// `export()`'s completion window (no longer filtered by the export API).
    pub completed_at: Value,
    /// `export()`'s update window.
    pub updated_at: Value,
}

/// What [`ExportArgs::resolve`] makes of an export's arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedExport {
    /// What to export.
    pub options: ExportOptions,
    /// Where to save the archive, if anywhere.
    pub path: Option<String>,
    /// Arguments given that the export API no longer honours: a deprecation warning each.
    pub deprecated: Vec<String>,
    /// Older `filters` keys the export API does not support, ignored: a warning each.
    pub ignored: Vec<String>,
}

impl ExportArgs {
    /// The options, the path and the warnings these arguments stand for. Options given
    /// together with the older filters, or older filters that are not what they should
    /// be, are [`Error::InvalidArgument`].
    pub fn resolve(mut self) -> Result<ResolvedExport> {
        use std::mem::take;
        let mut deprecated = Vec::new();
        let older = if self.method.as_deref() == Some("export") {
            let positional = !(self.options.is_object() || self.options.is_null())
                || !(self.zip_file_path.is_string() || self.zip_file_path.is_null());
            if positional {
                if self.assignees.is_null() {
                    self.assignees = std::mem::take(&mut self.options);
                }
                if self.completed_at.is_null() {
                    self.completed_at = std::mem::take(&mut self.zip_file_path);
                }
                (self.options, self.zip_file_path) = (Value::Null, Value::Null);
            }
            if truthy(&self.assignees) || truthy(&self.completed_at) {
                deprecated.push(
                    "export(): 'assignees' and 'completed_at' are no longer supported by the \
                     export API and are ignored; use ExportOptions"
                        .to_string(),
                );
            }
            let given = [
                &self.assignees,
                &self.completed_at,
                &self.updated_at,
                &self.batches,
            ];
            let given = given.iter().any(|v| truthy(v));
            given.then(|| {
                serde_json::json!({"batches": take(&mut self.batches),
                                   "updated_at": take(&mut self.updated_at)})
            })
        } else {
            if self.options.is_array() && self.batches.is_null() {
                self.batches = std::mem::take(&mut self.options);
            } else if self.options.is_array() {
                self.options = Value::Null;
            }
            if self.zip_file_path.is_array() && self.stage.is_null() {
                self.stage = std::mem::take(&mut self.zip_file_path);
            } else if self.zip_file_path.is_array() {
                self.zip_file_path = Value::Null;
            }
            let given = [
                &self.batches,
                &self.stage,
                &self.format,
                &self.export_type,
                &self.filters,
            ];
            let given = given.iter().any(|v| !v.is_null());
            given.then(|| {
                serde_json::json!({"batches": take(&mut self.batches), "stage": take(&mut self.stage),
                                   "format": take(&mut self.format), "type": take(&mut self.export_type),
                                   "filters": take(&mut self.filters)})
            })
        };
        let (options, ignored_filters) = match older {
            Some(_) if !self.options.is_null() => {
                return Err(Error::invalid(
                    "pass either options or the older filters (batches, stage, format, type, \
                     filters, updated_at), not both",
                ));
            }
            Some(older) => serde_json::from_value::<LegacyExportArgs>(older)
                .map_err(|e| Error::invalid(format!("the older export arguments: {e}")))?
                .options()?,
            None if self.options.is_null() => (ExportOptions::default(), Vec::new()),
            None => (
                serde_json::from_value(self.options)
                    .map_err(|e| Error::invalid(format!("options: {e}")))?,
                Vec::new(),
            ),
        };
        let path = match self.zip_file_path {
            Value::Null => None,
            Value::String(path) => Some(path).filter(|p| !p.is_empty()),
            other => {
                return Err(Error::invalid(format!(
                    "zip_file_path must be a path, got {other}"
                )));
            }
        };
        let ignored = ignored_filters.iter().map(|key| {
            format!("exportV3(): filter '{key}' is not supported by the export API and is ignored")
        });
        Ok(ResolvedExport {
            options,
            path,
            deprecated,
            ignored: ignored.collect(),
        })
    }
}

#[cfg(test)]
mod legacy_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_old_arguments_are_export_options() {
        let args: LegacyExportArgs = serde_json::from_value(json!({
            "batches": ["b"], "format": "NDJSON", "type": "Issue",
            "filters": {"sendEmail": "True", "includeHistory": false, "doNotNotify": "true",
                        "assignee": "x@y"},
            "updated_at": ["2024-01-02T03:04:05", null],
        }))
        .unwrap();
        let (options, ignored) = args.options().unwrap();
        assert_eq!(options.batches, Some(vec!["b".to_string()]));
        assert_eq!(options.stage, Some(vec!["Complete".to_string()]));
        assert_eq!(options.export_format, ExportFormat::Ndjson);
        assert_eq!(options.export_type, crate::models::ExportType::Issue);
        assert!(options.send_email && !options.include_history && options.include_metadata);
        assert!(!options.notify);
        assert_eq!(ignored, ["assignee"]);
        let window = options.updated_at.unwrap();
        assert!(window.from_date.is_some() && window.to_date.is_none());

        let (default, ignored) = LegacyExportArgs::default().options().unwrap();
        assert_eq!(default, ExportOptions::default());
        assert!(ignored.is_empty());
        for bad in [
            json!({"format": "xml"}),
            json!({"updated_at": [1]}),
            json!({"updated_at": "x"}),
        ] {
            let args: LegacyExportArgs = serde_json::from_value(bad.clone()).unwrap();
            assert!(
                matches!(args.options(), Err(Error::InvalidArgument(_))),
                "{bad}"
            );
        }
        assert!(serde_json::from_value::<LegacyExportArgs>(json!({"zip": 1})).is_err());
    }

    fn resolve(args: Value) -> Result<ResolvedExport> {
        serde_json::from_value::<ExportArgs>(args)
            .unwrap()
            .resolve()
    }

    #[test]
    fn the_v1_3_14_positional_forms_are_read() {
        // exportV3(project_id, batches, stage): lists where options and path belong.
        let v3 = resolve(json!({"options": ["b1"], "zip_file_path": ["Review"]})).unwrap();
        assert_eq!(v3.options.batches, Some(vec!["b1".to_string()]));
        assert_eq!(v3.options.stage, Some(vec!["Review".to_string()]));
        assert_eq!(v3.path, None);
        // exportV3 with options and a path, as today.
        let today =
            resolve(json!({"options": {"export_format": "ndjson"}, "zip_file_path": "a.zip"}));
        let today = today.unwrap();
        assert_eq!(today.options.export_format, ExportFormat::Ndjson);
        assert_eq!(today.path.as_deref(), Some("a.zip"));
        assert!(today.deprecated.is_empty());
        let ignored = resolve(json!({"filters": {"assignee": "x"}})).unwrap();
        assert_eq!(
            ignored.ignored,
            ["exportV3(): filter 'assignee' is not supported by the export API and is ignored"]
        );
        // export(project_id, assignees, completed_at, updated_at, batches).
        let old = resolve(json!({"method": "export", "options": ["a@x"],
                                 "zip_file_path": ["2024-01-01", null], "batches": ["b"]}))
        .unwrap();
        assert_eq!(old.options.batches, Some(vec!["b".to_string()]));
        assert_eq!(old.deprecated.len(), 1);
        assert_eq!(old.path, None);
        let plain = resolve(json!({"method": "export", "zip_file_path": "x.zip"})).unwrap();
        assert_eq!(
            (plain.options, plain.path.as_deref()),
            (ExportOptions::default(), Some("x.zip"))
        );
        for bad in [
            json!({"options": {}, "batches": ["b"]}),
            json!({"method": "export", "options": {}, "updated_at": ["2024-01-01", null]}),
            json!({"zip_file_path": 5}),
            json!({"options": {"no_such_option": 1}}),
        ] {
            assert!(
                matches!(resolve(bad.clone()), Err(Error::InvalidArgument(_))),
                "{bad}"
            );
        }
        assert!(serde_json::from_value::<ExportArgs>(json!({"zip": 1})).is_err());
    }
}
