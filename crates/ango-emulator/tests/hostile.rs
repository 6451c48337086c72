//! The emulator against hostile clients: malformed framing, absurd sizes,
//! slow (slowloris) and silent connections, and unauthenticated file access.
//! After all of it the server must still answer normally.

use ango_testkit::client as common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ango_emulator::{Emulator, EmulatorConfig};
use common::{Api, raw, split_url};

const KEY: &str = "hostile-key";

fn start(cfg: EmulatorConfig) -> (Emulator, Api) {
    let emu = Emulator::start(cfg.api_key(KEY)).expect("start emulator");
    let api = Api::new(emu.url(), KEY);
    (emu, api)
}

/// Sends `bytes`, optionally half-closes, and returns the status code of the
/// answer (None when the server closed without answering).
fn exchange(host: &str, bytes: &[u8], half_close: bool) -> Option<u16> {
    let mut s = TcpStream::connect(host).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // The server may answer (and close) before everything is written.
    let _ = s.write_all(bytes);
    if half_close {
        let _ = s.shutdown(Shutdown::Write);
    }
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    text.strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
}

/// The malformed requests sent in a loop: (bytes, half-close, expected status).
fn malformed_cases() -> Vec<(Vec<u8>, bool, u16)> {
    let chunked = |body: &str| {
        format!(
            "POST /v2/project HTTP/1.1\r\nHost: x\r\napikey: {KEY}\r\nTransfer-Encoding: chunked\r\n\r\n{body}"
        )
        .into_bytes()
    };
    vec![
        // Bad hex in the chunk size.
        (chunked("zz\r\nhello\r\n0\r\n\r\n"), false, 400),
        // More hex digits than any u64.
        (
            chunked("fffffffffffffffffffff\r\nx\r\n0\r\n\r\n"),
            false,
            400,
        ),
        // u64::MAX: beyond the body limit (and an overflow for naive code).
        (chunked("ffffffffffffffff\r\nx\r\n"), false, 413),
        // A second chunk whose size overflows the running total.
        (chunked("2\r\n{}\r\nfffffffffffffffe\r\nx\r\n"), false, 413),
        // Missing CRLF after the chunk data.
        (chunked("2\r\n{}XX0\r\n\r\n"), false, 400),
        // Truncated: the client stops in the middle of a chunk.
        (chunked("10\r\nabc"), true, 400),
        // Truncated before the chunk size line ends.
        (chunked("1"), true, 400),
        // Empty chunk-size line.
        (chunked("\r\n\r\n"), false, 400),
        // A negative size.
        (chunked("-5\r\nabc\r\n"), false, 400),
        // Unsupported transfer coding.
        (
            b"POST /v2/project HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nxx".to_vec(),
            false,
            501,
        ),
        // Non-numeric and conflicting Content-Length.
        (
            b"POST /v2/project HTTP/1.1\r\nContent-Length: abc\r\n\r\n".to_vec(),
            false,
            400,
        ),
        (
            b"POST /v2/project HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"
                .to_vec(),
            false,
            400,
        ),
        (
            b"POST /v2/project HTTP/1.1\r\nContent-Length: -1\r\n\r\n".to_vec(),
            false,
            400,
        ),
        // Garbage request line, header without a colon, bad version.
        (b"\x00\x01\x02 \xff\xfe\r\n\r\n".to_vec(), false, 400),
        (
            b"GET / HTTP/1.1\r\nthis is not a header\r\n\r\n".to_vec(),
            false,
            400,
        ),
        (b"GET / SPDY/9\r\n\r\n".to_vec(), false, 400),
    ]
}

#[test]
fn ten_thousand_malformed_or_slow_requests_leave_the_server_healthy() {
    // A small connection cap: any leaked slot would show up as 503s quickly.
    let (emu, api) = start(
        EmulatorConfig::default()
            .max_connections(48)
            .header_timeout_ms(300)
            .idle_timeout_ms(300)
            .max_body_bytes(1 << 20),
    );
    let host = split_url(emu.url()).0;
    let cases = Arc::new(malformed_cases());
    const MALFORMED: usize = 9_700;
    const SLOW: usize = 300;
    let next = Arc::new(AtomicUsize::new(0));
    let mismatches = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));

    // Slow clients first (in the background): slowloris heads that trickle a
    // byte at a time, and silent connections that never send anything.
    let slow_host = host.clone();
    let slow = std::thread::spawn(move || {
        let mut statuses = Vec::new();
        for round in 0..(SLOW / 30) {
            let handles: Vec<_> = (0..30)
                .map(|i| {
                    let host = slow_host.clone();
                    std::thread::spawn(move || {
                        let mut s = TcpStream::connect(&host).expect("connect");
                        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                        if (round + i) % 3 != 0 {
                            let _ = s.write_all(b"GET /v2/listProjects HTTP/1.1\r\n");
                            for _ in 0..40 {
                                if s.write_all(b"X").is_err() {
                                    break;
                                }
                                std::thread::sleep(Duration::from_millis(25));
                            }
                        }
                        let mut buf = Vec::new();
                        let _ = s.read_to_end(&mut buf);
                        String::from_utf8_lossy(&buf).get(9..12).map(str::to_string)
                    })
                })
                .collect();
            for h in handles {
                statuses.push(h.join().expect("slow client"));
            }
        }
        statuses
    });

    let started = Instant::now();
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let host = host.clone();
            let cases = cases.clone();
            let next = next.clone();
            let mismatches = mismatches.clone();
            std::thread::spawn(move || {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= MALFORMED {
                        return;
                    }
                    let (bytes, half_close, want) = &cases[n % cases.len()];
                    let got = exchange(&host, bytes, *half_close);
                    // 503 is acceptable only while the slow clients hold slots.
                    if got != Some(*want) && got != Some(503) {
                        let mut m = mismatches.lock().unwrap();
                        if m.len() < 20 {
                            m.push(format!(
                                "case {}: want {want}, got {got:?}",
                                n % cases.len()
                            ));
                        }
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("client thread");
    }
    let slow_statuses = slow.join().expect("slow clients");
    let mismatches = mismatches.lock().unwrap().clone();
    assert!(mismatches.is_empty(), "unexpected answers: {mismatches:?}");
    assert_eq!(slow_statuses.len(), SLOW);
    // Slowloris heads are cut off by the header deadline (408), silent
    // connections by the idle timeout (closed without an answer), or refused
    // at the cap (503); none may be served as a real request.
    for s in &slow_statuses {
        assert!(
            matches!(s.as_deref(), None | Some("408") | Some("503")),
            "slow client got {s:?}"
        );
    }
    assert!(
        slow_statuses.iter().any(|s| s.as_deref() == Some("408")),
        "no slow client was timed out: {slow_statuses:?}"
    );
    eprintln!(
        "{} malformed + {} slow requests in {:?}",
        MALFORMED,
        SLOW,
        started.elapsed()
    );

    // Every slot comes back.
    let deadline = Instant::now() + Duration::from_secs(10);
    while emu.open_connections() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(emu.open_connections(), 0, "connection slots leaked");

    // And the API still works, many times over the cap.
    for _ in 0..100 {
        let r = api.call("GET", "/v2/listProjects", None);
        assert_eq!(r.status, 200);
    }
    let created = api.call(
        "POST",
        "/v2/project",
        Some(&serde_json::json!({"name": "after the storm"})),
    );
    assert_eq!(created.status, 201, "{:?}", created.json());
}

#[test]
fn chunked_bodies_still_work_between_bad_ones() {
    let (emu, _api) = start(EmulatorConfig::default());
    let host = split_url(emu.url()).0;
    let mut s = TcpStream::connect(&host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = r#"{"name":"chunky"}"#;
    let (a, b) = body.split_at(7);
    let req = format!(
        "POST /v2/project HTTP/1.1\r\nHost: x\r\napikey: {KEY}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x};ext=1\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\nTrailer: x\r\n\r\n",
        a.len(),
        b.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 201"), "{text}");
    assert!(text.contains("chunky"), "{text}");
}

#[test]
fn huge_declared_sizes_are_refused_before_any_body_arrives() {
    let (emu, _api) = start(EmulatorConfig::default().max_body_bytes(1 << 20));
    let host = split_url(emu.url()).0;
    for len in [
        "2097152",
        "2147483647",
        "18446744073709551615",
        "99999999999999999999999999",
    ] {
        // Only the head is sent: a server that waited for (or allocated) the
        // body would time out the 10-second read below instead of answering.
        let req = format!(
            "POST /v2/project HTTP/1.1\r\nHost: x\r\napikey: {KEY}\r\nContent-Length: {len}\r\n\r\n"
        );
        assert_eq!(exchange(&host, req.as_bytes(), false), Some(413), "{len}");
    }
    // A chunk larger than the limit.
    let req = format!(
        "PUT /files/a/b.bin HTTP/1.1\r\napikey: {KEY}\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\n"
    );
    assert_eq!(exchange(&host, req.as_bytes(), false), Some(413));
    // Many small chunks that add up to more than the limit.
    let mut req = format!(
        "PUT /files/a/b.bin HTTP/1.1\r\napikey: {KEY}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    let chunk = vec![b'x'; 0x10000];
    for _ in 0..17 {
        req.extend_from_slice(b"10000\r\n");
        req.extend_from_slice(&chunk);
        req.extend_from_slice(b"\r\n");
    }
    assert_eq!(exchange(&host, &req, false), Some(413));
    // A body within the limit is accepted.
    let r = raw(
        &host,
        "PUT",
        "/files/a/ok.bin",
        &[("apikey", KEY)],
        Some(&vec![7u8; 1 << 19]),
    )
    .unwrap();
    assert_eq!(r.status, 200);
}

#[test]
fn a_body_that_stops_flowing_is_cut_off() {
    let (emu, api) = start(EmulatorConfig::default().header_timeout_ms(200));
    let host = split_url(emu.url()).0;
    let mut s = TcpStream::connect(&host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(
        format!("POST /v2/project HTTP/1.1\r\napikey: {KEY}\r\nContent-Length: 100\r\n\r\n{{")
            .as_bytes(),
    )
    .unwrap();
    let mut buf = Vec::new();
    // The server closes the connection; nothing was created.
    let _ = s.read_to_end(&mut buf);
    assert!(!String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 2"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while emu.open_connections() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(emu.open_connections(), 0);
    assert_eq!(api.call("GET", "/v2/listProjects", None).status, 200);
}

#[test]
fn files_need_the_key_or_an_emulator_signature() {
    let (emu, api) = start(EmulatorConfig::default().seed_demo(true));
    let host = split_url(emu.url()).0;
    // No key, no signature.
    for method in ["GET", "PUT", "DELETE"] {
        let r = raw(&host, method, "/files/x", &[], None).unwrap();
        assert!(matches!(r.status, 401 | 403), "{method}: {}", r.status);
    }
    let r = raw(&host, "PUT", "/files/p/assets/evil.bin", &[], Some(b"x")).unwrap();
    assert_eq!(r.status, 401);
    // A made-up or borrowed signature does not work either.
    let r = raw(
        &host,
        "GET",
        "/files/x?signature=0123456789abcdef0123456789abcdef",
        &[],
        None,
    )
    .unwrap();
    assert_eq!(r.status, 401);
    // With the key: the route works (404 for a missing file).
    let r = raw(&host, "GET", "/files/x", &[("apikey", KEY)], None).unwrap();
    assert_eq!(r.status, 404);

    // Upload and download URLs issued by the emulator work without the key.
    let projects = api.ok("GET", "/v2/listProjects", None);
    let pid = projects["data"]["projects"][0]["_id"]
        .as_str()
        .expect("demo project")
        .to_string();
    let up = api.ok(
        "GET",
        &format!("/v2/getUploadUrl?name=pic.png&project={pid}&type=assets"),
        None,
    );
    let upload_url = up["data"]["uploadUrl"].as_str().unwrap().to_string();
    let (_, target) = split_url(&upload_url);
    let r = raw(&host, "PUT", &target, &[], Some(b"PNGDATA")).unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let signed = api.ok(
        "GET",
        &format!(
            "/v2/getSignedUrl?name={}&project={pid}",
            upload_url.split('?').next().unwrap()
        ),
        None,
    );
    let (_, target) = split_url(signed["data"]["signedUrl"].as_str().unwrap());
    let r = raw(&host, "GET", &target, &[], None).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"PNGDATA");
    // The signature is bound to its file.
    let other = target.replace("pic.png", "other.png");
    let r = raw(&host, "GET", &other, &[], None).unwrap();
    assert_eq!(r.status, 401);
}

/// SplitMix64, for reproducible random mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Randomly damages a valid request: flipped, inserted, deleted and
/// duplicated bytes, or a cut.
fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        if v.is_empty() {
            break;
        }
        let i = rng.below(v.len());
        match rng.below(6) {
            0 => v[i] = rng.next() as u8,
            1 => {
                let alphabet = b"0123456789abcdefxX\r\n;: -";
                v.insert(i, alphabet[rng.below(alphabet.len())]);
            }
            2 => {
                v.remove(i);
            }
            3 => {
                let j = (i + rng.below(16)).min(v.len());
                let dup = v[i..j].to_vec();
                v.splice(i..i, dup);
            }
            4 => v.truncate(i),
            _ => {
                let digits = b"fffffffffffffffffff";
                v.splice(i..i, digits[..1 + rng.below(digits.len())].iter().copied());
            }
        }
    }
    v
}

#[test]
fn randomly_damaged_requests_never_break_the_server() {
    let (emu, api) = start(
        EmulatorConfig::default()
            .max_connections(32)
            .header_timeout_ms(300)
            .idle_timeout_ms(300)
            .max_body_bytes(1 << 16),
    );
    let host = split_url(emu.url()).0;
    let templates: Vec<Vec<u8>> = vec![
        format!(
            "POST /v2/project HTTP/1.1\r\nHost: x\r\napikey: {KEY}\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{{\"name\"\r\na\r\n:\"fuzzed\"}}\r\n0\r\n\r\n"
        )
        .into_bytes(),
        format!(
            "POST /v2/project HTTP/1.1\r\nHost: x\r\napikey: {KEY}\r\nContent-Length: 17\r\n\r\n{{\"name\":\"fuzzed\"}}"
        )
        .into_bytes(),
        format!("GET /v2/listProjects?page=1&limit=5 HTTP/1.1\r\napikey: {KEY}\r\n\r\n").into_bytes(),
        b"PUT /files/a/b.bin?signature=00 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc".to_vec(),
    ];
    let templates = Arc::new(templates);
    let next = Arc::new(AtomicUsize::new(0));
    const CASES: usize = 3_000;
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let host = host.clone();
            let templates = templates.clone();
            let next = next.clone();
            std::thread::spawn(move || {
                let mut rng = Rng(0xF00D + t as u64);
                let mut bad_status = Vec::new();
                while next.fetch_add(1, Ordering::SeqCst) < CASES {
                    let base = &templates[rng.below(templates.len())];
                    let req = mutate(&mut rng, base);
                    if let Some(status) = exchange(&host, &req, true)
                        && !(100..600).contains(&status)
                    {
                        bad_status.push(status);
                    }
                }
                bad_status
            })
        })
        .collect();
    for t in threads {
        let bad = t.join().expect("fuzz thread");
        assert!(bad.is_empty(), "invalid status codes: {bad:?}");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while emu.open_connections() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(emu.open_connections(), 0, "connection slots leaked");
    for _ in 0..50 {
        assert_eq!(api.call("GET", "/v2/listProjects", None).status, 200);
    }
}
