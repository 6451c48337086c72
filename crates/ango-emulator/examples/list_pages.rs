//! Times the task listing of a seeded project, one 1000-task page at a time, over a
//! plain keep-alive HTTP/1.1 connection (no client library in the measurement).
//!
//! ```text
//! cargo run --release -p ango-emulator --example list_pages -- [tasks] [page_size] [rounds] [query] [tasks|assets]
//! ```
//!
//! Prints the median, minimum and maximum time per page and per full listing.
//! `query` is appended to every page's query string (e.g. `includeAnswer=true` or
//! `sort=-priority`); the last argument lists assets instead of tasks.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ango_emulator::{Emulator, EmulatorConfig};

/// One GET on a keep-alive connection; returns the status and the body length.
fn get(r: &mut BufReader<TcpStream>, w: &mut TcpStream, key: &str, target: &str) -> (u16, usize) {
    write!(
        w,
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\napikey: {key}\r\nAccept-Encoding: gzip\r\n\r\n"
    )
    .expect("write request");
    let mut line = String::new();
    r.read_line(&mut line).expect("status line");
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let mut len = 0usize;
    loop {
        line.clear();
        r.read_line(&mut line).expect("header line");
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().expect("content-length");
        }
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).expect("body");
    (status, len)
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let size: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let rounds: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let extra = args.get(3).cloned().unwrap_or_default();
    let kind = args.get(4).map_or("tasks", String::as_str);

    let emu = Emulator::start(EmulatorConfig::default()).expect("start emulator");
    let t0 = Instant::now();
    let pid = emu.seed_project("bench", n);
    eprintln!("seeded {n} tasks in {:?}", t0.elapsed());

    let stream = TcpStream::connect(emu.url().trim_start_matches("http://")).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut w = stream.try_clone().expect("clone");
    let mut r = BufReader::new(stream);
    let pages = n.div_ceil(size);
    let mut per_page = Vec::new();
    let mut per_listing = Vec::new();
    let mut bytes = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        bytes = 0;
        for page in 1..=pages {
            let target = format!(
                "/v2/project/{pid}/{kind}?page={page}&limit={size}&includeAnswer=false{}{extra}",
                if extra.is_empty() { "" } else { "&" }
            );
            let t = Instant::now();
            let (status, len) = get(&mut r, &mut w, emu.api_key(), &target);
            per_page.push(t.elapsed());
            assert_eq!(status, 200, "page {page}");
            bytes += len;
        }
        per_listing.push(start.elapsed());
    }
    let min = *per_page.iter().min().expect("pages");
    let max = *per_page.iter().max().expect("pages");
    println!(
        "{n} {kind}, pages of {size}, {rounds} rounds: per page median {:?} (min {min:?}, max {max:?}); \
         per listing median {:?}; {bytes} body bytes per listing",
        median(&mut per_page),
        median(&mut per_listing),
    );
}
