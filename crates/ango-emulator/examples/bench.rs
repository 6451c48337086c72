//! Rough throughput check: `cargo run --release -p ango-emulator --example bench [threads] [seconds]`.
//!
//! Sends keep-alive requests from several threads to a local emulator, then
//! times a large NDJSON export of a seeded project.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ango_emulator::{Emulator, EmulatorConfig};

fn get(
    stream: &mut BufReader<TcpStream>,
    host: &str,
    target: &str,
    key: &str,
) -> std::io::Result<(u16, Vec<u8>)> {
    let req = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\napikey: {key}\r\n\r\n");
    stream.get_mut().write_all(req.as_bytes())?;
    let mut line = String::new();
    stream.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        stream.read_line(&mut h)?;
        if h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body)?;
    Ok((status, body))
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let threads: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(4);
    let secs: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(3);
    let emu = Emulator::start(EmulatorConfig::default())?;
    let pid = emu.seed_project("bench", 1000);
    let host = emu.url().trim_start_matches("http://").to_string();
    let key = emu.api_key().to_string();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (host, key, pid) = (host.clone(), key.clone(), pid.clone());
            std::thread::spawn(move || -> std::io::Result<u64> {
                let mut s = BufReader::new(TcpStream::connect(&host)?);
                let mut n = 0;
                while Instant::now() < deadline {
                    let (st, _) = get(
                        &mut s,
                        &host,
                        &format!("/v2/project/{pid}/tasks?page=3&limit=10"),
                        &key,
                    )?;
                    assert_eq!(st, 200);
                    n += 1;
                }
                Ok(n)
            })
        })
        .collect();
    let total: u64 = handles
        .into_iter()
        .map(|h| h.join().ok().and_then(Result::ok).unwrap_or(0))
        .sum();
    println!(
        "{threads} threads: {:.0} requests/s (task list, limit 10, 1000 tasks)",
        total as f64 / secs as f64
    );

    let n_tasks = 50_000;
    let t0 = Instant::now();
    let big = emu.seed_project_with("export", n_tasks, 12, true);
    println!("seeded {n_tasks} annotated tasks in {:?}", t0.elapsed());
    let mut s = BufReader::new(TcpStream::connect(&host)?);
    let t0 = Instant::now();
    let (st, body) = get(
        &mut s,
        &host,
        &format!("/v2/export?project={big}&format=ndjson"),
        &key,
    )?;
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let path = v["data"]["exportPath"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    println!("export status {st} built in {:?}", t0.elapsed());
    let target = path
        .trim_start_matches("http://")
        .split_once('/')
        .map(|(_, t)| format!("/{t}"))
        .unwrap_or_default();
    let (st, zip) = get(&mut s, &host, &target, &key)?;
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(zip.clone())).map_err(std::io::Error::other)?;
    let entry = archive.by_index(0).map_err(std::io::Error::other)?;
    println!(
        "download status {st}: zip {} MB, ndjson {} MB, total {:?}",
        zip.len() / 1_000_000,
        entry.size() / 1_000_000,
        t0.elapsed()
    );
    Ok(())
}
