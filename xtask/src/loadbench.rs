//! `cargo xtask loadbench`: the axum and actix example apps with and without Clerk authentication, under concurrent
//! load on loopback, with a repeated token and with distinct tokens.
//!
//! 1. Installs `wrk` (Debian package) when it is missing: `apt-get install -y wrk`, after `apt-get update` if that
//!    fails (see `docs/decisions/0007-load-tool.md`).
//! 2. Builds `tests/examples/loadbench_server.rs` in release mode and starts it: eight apps on eight loopback ports
//!    in one process (axum and actix, each without the middleware, with it, with it but without a verified-token
//!    cache, and without it but doing the floor's bare RSA check on every request), one in-process emulator for
//!    the keys, the RSA floor measured on the same key, the distinct tokens written to
//!    `target/loadbench/<pid>/tokens.txt`.
//! 3. Checks every app answers `GET /me` with the same body with a token, and the protected ones `401` without.
//! 4. Runs wrk (`-t2 -c64 -d6s` by default, 6 rounds; one untimed warm-up second per run in the first round) against
//!    each app for `GET /me`: the same `Authorization` header every time, then a different token for every request
//!    (each wrk thread cycles through its own slice of the file). The unprotected apps get the same requests and
//!    ignore the header. Within a round a framework's four apps run back to back, their order rotated from one
//!    round to the next, so their ratios are taken under similar conditions; the tables show medians over rounds.
//! 5. Prints markdown tables: throughput, latency and server CPU per request, protected ÷ unprotected, the
//!    distinct-token runs against the RSA floor, and the cache-off control (a full verification on every request,
//!    with the repeated token and with distinct tokens).
//!
//! Everything targets 127.0.0.1 and is bounded in time: wrk runs are killed 30 s past their duration, the server
//! must be ready within 10 minutes and serves for at most 1 hour.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The wrk script: every thread reads the token file, takes its own slice (all of it when the file has fewer lines
/// than there are threads) and cycles through pre-formatted `GET /me` requests; `done` prints one JSON line.
const LUA: &str = r#"-- written by `cargo xtask loadbench`
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

local reqs, n, i = {}, 0, 0
function init(args)
  local threads = tonumber(args[2])
  local all = {}
  for line in io.lines(args[1]) do
    if #line > 0 then all[#all + 1] = line end
  end
  local first, last = 1, #all
  if #all >= threads then
    local per = math.floor(#all / threads)
    first = id * per + 1
    last = first + per - 1
  end
  for k = first, last do
    reqs[#reqs + 1] = wrk.format("GET", "/me", { ["Authorization"] = "Bearer " .. all[k] })
  end
  n = #reqs
  i = 0
end

function request()
  i = i % n + 1
  return reqs[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'LOADBENCH {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"mean_us":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"#;

/// "Limited only by the RSA floor": authentication may add at most this many times the server CPU per request that
/// the bare RSA check adds (clerk-core's own target for a cold verification is 1.15× the floor, in-process).
const RSA_BOUND_FACTOR: f64 = 1.2;

const USAGE: &str = "usage: cargo xtask loadbench [--duration SECS] [--threads N] [--connections N] [--distinct N] \
                     [--rounds N] [--warmup SECS] [--pin]\n  --pin: the server on CPU 0 only, wrk on CPU 1 only (taskset)";

#[derive(Debug, Clone)]
struct Options {
    duration: u64,
    threads: usize,
    connections: usize,
    distinct: usize,
    rounds: usize,
    warmup: u64,
    /// Server on CPU 0, wrk on CPU 1 (`taskset`): the server's work is not interleaved with the client's on a core.
    pin: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o =
        Options { duration: 6, threads: 2, connections: 64, distinct: 20_000, rounds: 6, warmup: 1, pin: false };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if matches!(flag.as_str(), "-h" | "--help") {
            return Err(USAGE.to_owned());
        }
        if flag == "--pin" {
            o.pin = true;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let n: u64 = value.parse().map_err(|_| format!("{flag}: not a number: {value}"))?;
        match flag.as_str() {
            "--duration" => o.duration = n.clamp(1, 120),
            "--threads" => o.threads = (n as usize).clamp(1, 64),
            "--connections" => o.connections = (n as usize).clamp(1, 4096),
            "--distinct" => o.distinct = (n as usize).clamp(1000, 200_000),
            "--rounds" => o.rounds = (n as usize).clamp(1, 10),
            "--warmup" => o.warmup = n.min(30),
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    if o.connections < o.threads {
        return Err("--connections must be at least --threads".to_owned());
    }
    Ok(o)
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let opts = parse(args)?;
    let wrk_version = ensure_wrk()?;
    let (root, target) = super::workspace_dirs()?;
    // One directory per run: two runs at once (each with its own emulator and keys) must not share token files.
    let out = target.join("loadbench").join(std::process::id().to_string());
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;

    super::run(
        "build the load-bench server",
        super::cargo().current_dir(&root).args([
            "build",
            "--release",
            "-p",
            "clerk-workspace-tests",
            "--example",
            "loadbench_server",
        ]),
    )?;
    let bin = target.join("release/examples/loadbench_server");

    let script = out.join("loadbench.lua");
    std::fs::write(&script, LUA).map_err(|e| format!("{}: {e}", script.display()))?;
    let distinct_file = out.join("tokens.txt");
    let repeated_file = out.join("token.txt");

    eprintln!("xtask: == start the server (mints {} + 4097 tokens, measures the RSA floor)", opts.distinct);
    let mut server = Server::start(&bin, &distinct_file, &opts)?;
    let ready = server.ready.clone();
    let token = ready["token"].as_str().ok_or("READY without token")?.to_owned();
    std::fs::write(&repeated_file, format!("{token}\n")).map_err(|e| e.to_string())?;
    let port = |name: &str| ready["ports"][name].as_u64().map(|p| p as u16).ok_or(format!("no port {name}"));
    // Per framework: without auth, with auth (the example app), with auth and no verified-token cache (a full
    // verification on every request: the control that tells the HTTP path's cost from the tokens' pattern).
    let apps: Vec<(&str, &str, bool, u16)> = vec![
        ("axum", "axum_plain", false, port("axum_plain")?),
        ("axum", "axum_clerk", true, port("axum_clerk")?),
        ("axum", "axum_nocache", true, port("axum_nocache")?),
        ("axum", "axum_rsa", false, port("axum_rsa")?),
        ("actix", "actix_plain", false, port("actix_plain")?),
        ("actix", "actix_clerk", true, port("actix_clerk")?),
        ("actix", "actix_nocache", true, port("actix_nocache")?),
        ("actix", "actix_rsa", false, port("actix_rsa")?),
    ];
    sanity_check(&apps, &token)?;

    let clk_tck = clock_ticks();
    let mut results: BTreeMap<(String, &str), Vec<Run>> = BTreeMap::new();
    let load_start = loadavg();
    for round in 0..opts.rounds {
        for (mode, file) in [("repeated", &repeated_file), ("distinct", &distinct_file)] {
            // Each framework's four apps back to back, their order rotated from one round to the next, so that
            // a drift in the machine's speed does not favour any of them.
            let order: Vec<_> = apps
                .chunks(4)
                .flat_map(|group| {
                    let mut group = group.to_vec();
                    group.rotate_left(round % 4);
                    group
                })
                .collect();
            for &(_, app, _, port) in &order {
                if round == 0 && opts.warmup > 0 {
                    wrk(&script, file, port, &opts, opts.warmup)?;
                }
                let cpu0 = proc_cpu_ticks(server.pid());
                let busy0 = machine_busy_ticks();
                let load1 = loadavg().0;
                let t = Instant::now();
                let (w, wrk_ticks) = wrk(&script, file, port, &opts, opts.duration)?;
                let wall = t.elapsed().as_secs_f64();
                let cpu = (proc_cpu_ticks(server.pid()) - cpu0) as f64 / clk_tck;
                let busy = (machine_busy_ticks() - busy0) as f64 / clk_tck;
                let errors = ["connect", "read", "write", "status", "timeout"]
                    .iter()
                    .map(|k| w[*k].as_u64().unwrap_or(0))
                    .sum::<u64>();
                let requests = w["requests"].as_f64().unwrap_or(0.0);
                let secs = w["duration_us"].as_f64().unwrap_or(1.0) / 1e6;
                let r = Run {
                    rps: requests / secs,
                    p50_us: w["p50_us"].as_f64().unwrap_or(0.0),
                    p99_us: w["p99_us"].as_f64().unwrap_or(0.0),
                    cpu_us_per_req: cpu * 1e6 / requests.max(1.0),
                    server_cores: cpu / wall,
                    machine_cores: busy / wall,
                    wrk_cores: wrk_ticks as f64 / clk_tck / wall,
                    load1,
                    errors,
                };
                eprintln!(
                    "xtask: round {} {mode:8} {app:11} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  server {:>5.1} µs/req \
                     ({:.2} cores, wrk {:.2}, others {:.2})  load {:.2}  errors {}",
                    round + 1,
                    r.rps,
                    r.p50_us / 1e3,
                    r.p99_us / 1e3,
                    r.cpu_us_per_req,
                    r.server_cores,
                    r.wrk_cores,
                    r.others(),
                    r.load1,
                    r.errors
                );
                if errors > 0 {
                    return Err(format!(
                        "{app} {mode}: wrk reported {errors} errors (non-2xx, socket or timeouts): {w}"
                    ));
                }
                results.entry((mode.to_owned(), app)).or_default().push(r);
            }
        }
    }
    let load_end = loadavg();
    server.stop();

    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    report(&opts, &ready, &results, &ReportContext { date, wrk_version, load_start, load_end });
    let _ = std::fs::remove_dir_all(&out); // ~20 MB of tokens
    Ok(())
}

#[derive(Debug, Clone, Copy)]
struct Run {
    rps: f64,
    p50_us: f64,
    p99_us: f64,
    cpu_us_per_req: f64,
    server_cores: f64,
    machine_cores: f64,
    wrk_cores: f64,
    load1: f64,
    errors: u64,
}

impl Run {
    /// CPU used by everything but the server and wrk during the run (other jobs), in cores.
    fn others(&self) -> f64 {
        (self.machine_cores - self.server_cores - self.wrk_cores).max(0.0)
    }
}

struct ReportContext {
    date: String,
    wrk_version: String,
    load_start: (f64, f64, f64),
    load_end: (f64, f64, f64),
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => f64::midpoint(v[n / 2 - 1], v[n / 2]),
    }
}

fn report(opts: &Options, ready: &Value, results: &BTreeMap<(String, &str), Vec<Run>>, ctx: &ReportContext) {
    let get = |mode: &str, app: &str| results.get(&(mode.to_owned(), app)).cloned().unwrap_or_default();
    let med = |runs: &[Run], f: fn(&Run) -> f64| median(runs.iter().map(f).collect());
    let cores = ready["cores"].as_f64().unwrap_or(2.0);
    // The floor is the fastest batch: the cheapest an RSA check gets on this machine (the median is printed too).
    let floor_ns = ready["floor"]["ns_min"].as_f64().unwrap_or(f64::NAN);
    let floor_median_ns = ready["floor"]["ns_median"].as_f64().unwrap_or(f64::NAN);
    let floor_threads_rate = ready["floor"]["threads_per_sec"].as_f64().unwrap_or(f64::NAN);
    let ceiling = cores / (floor_ns / 1e9);

    println!(
        "`cargo xtask loadbench` — {}; nproc = {}{}; {}",
        ctx.date,
        cores,
        if opts.pin { " (pinned: the server on CPU 0 alone, wrk on CPU 1)" } else { "" },
        ctx.wrk_version
    );
    println!(
        "wrk -t{} -c{} -d{}s, {} round(s){}; `GET /me`, token {} bytes; {} distinct tokens (+{} cache fillers); \
         load average {:.2} / {:.2} / {:.2} before, {:.2} / {:.2} / {:.2} after",
        opts.threads,
        opts.connections,
        opts.duration,
        opts.rounds,
        if opts.rounds > 1 { " (medians; ratios: median of per-round ratios)" } else { "" },
        ready["token_bytes"],
        ready["distinct"],
        ready["fillers"],
        ctx.load_start.0,
        ctx.load_start.1,
        ctx.load_start.2,
        ctx.load_end.0,
        ctx.load_end.1,
        ctx.load_end.2,
    );
    let all: Vec<Run> = results.values().flatten().copied().collect();
    let disturbed = all.iter().filter(|r| r.others() > 0.25).count();
    println!(
        "Other jobs (and steal) used more than 0.25 cores during {disturbed} of {} runs (median {:.2} cores){}",
        all.len(),
        median(all.iter().map(Run::others).collect()),
        if disturbed * 4 > all.len() { ": **the numbers are distorted; rerun on a quiet machine**." } else { "." }
    );
    println!();
    println!(
        "| framework | tokens | without auth | with auth | with ÷ without | target | met? | p50 / p99 without | \
         p50 / p99 with | server CPU per request without / with |"
    );
    println!("|---|---|---:|---:|---:|---|:-:|---:|---:|---:|");
    for fw in ["axum", "actix"] {
        for mode in ["repeated", "distinct"] {
            let plain = get(mode, &format!("{fw}_plain"));
            let clerk = get(mode, &format!("{fw}_clerk"));
            let ratio = median(plain.iter().zip(&clerk).map(|(p, c)| c.rps / p.rps).collect());
            let (target, met) = if mode == "repeated" {
                ("≥ 0.90×", if ratio >= 0.9 { "yes" } else { "**no**" })
            } else {
                ("RSA floor (below)", "see below")
            };
            println!(
                "| {fw} | {mode} | {:.0} req/s | {:.0} req/s | {ratio:.2}× | {target} | {met} | {:.2} / {:.2} ms | \
                 {:.2} / {:.2} ms | {:.1} / {:.1} µs |",
                med(&plain, |r| r.rps),
                med(&clerk, |r| r.rps),
                med(&plain, |r| r.p50_us) / 1e3,
                med(&plain, |r| r.p99_us) / 1e3,
                med(&clerk, |r| r.p50_us) / 1e3,
                med(&clerk, |r| r.p99_us) / 1e3,
                med(&plain, |r| r.cpu_us_per_req),
                med(&clerk, |r| r.cpu_us_per_req),
            );
        }
    }
    println!();
    println!(
        "RSA floor (aws-lc-rs `verify_sig`, same key, measured in the server before the runs): {:.1} µs per check \
         on 1 thread (fastest batch of 100; median batch {:.1} µs); {:.0} checks/s on {} threads. Ceiling = nproc ÷ \
         floor = {:.0} req/s.",
        floor_ns / 1e3,
        floor_median_ns / 1e3,
        floor_threads_rate,
        ready["floor"]["threads"],
        ceiling,
    );
    let ip = &ready["in_process"];
    let ip_auth_distinct_us = ip["authenticate_distinct_ns"].as_f64().unwrap_or(f64::NAN) / 1e3;
    let ip_verify_distinct_us = ip["verify_distinct_ns"].as_f64().unwrap_or(f64::NAN) / 1e3;
    // The bare RSA check timed in batches alternating with `verify`'s: the in-process ratios' denominator.
    let ip_floor_us = ip["floor_interleaved_ns"].as_f64().unwrap_or(f64::NAN) / 1e3;
    println!();
    println!(
        "In-process, one thread, no HTTP (what both middlewares delegate to): `Verifier::verify` {:.1} µs \
         ({:.2}× the {:.1} µs of the bare RSA check timed in alternate batches with it) and \
         `Authenticator::authenticate` {ip_auth_distinct_us:.1} µs per distinct token; \
         {:.0} ns and {:.0} ns per call with the repeated (cached) token. Their futures are {} and {} bytes. \
         The example's `/me` body costs {:.2} µs from a fresh auth object (organization and permissions decoded on \
         first use: every request with a new token) and {:.2} µs once decoded (a cached token; the unprotected \
         apps' pre-verified session).",
        ip_verify_distinct_us,
        ip_verify_distinct_us / ip_floor_us,
        ip_floor_us,
        ip["verify_repeated_ns"].as_f64().unwrap_or(f64::NAN),
        ip["authenticate_repeated_ns"].as_f64().unwrap_or(f64::NAN),
        ip["verify_future_bytes"],
        ip["authenticate_future_bytes"],
        ip["me_json_fresh_ns"].as_f64().unwrap_or(f64::NAN) / 1e3,
        ip["me_json_decoded_ns"].as_f64().unwrap_or(f64::NAN) / 1e3,
    );
    println!();
    println!(
        "Distinct tokens against the RSA floor over HTTP: the `_rsa` apps are the unprotected apps doing the floor's \
         bare RSA check (same key, same signature size) on every request, under the same client. \
         \"Limited only by the RSA floor\" is read as: authentication adds at most {RSA_BOUND_FACTOR}× the server CPU \
         that the bare RSA check adds."
    );
    println!();
    println!(
        "| framework | req/s RSA app | req/s with auth | with auth ÷ RSA app | server CPU per request: without auth / RSA \
         app / with auth | added by RSA | added by auth | auth ÷ RSA | RSA-bound? |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|:-:|");
    let replay = &ready["cache_replay"];
    let hit_rate = replay["hits"].as_f64().unwrap_or(0.0) / replay["calls"].as_f64().unwrap_or(1.0).max(1.0);
    for fw in ["axum", "actix"] {
        let plain = get("distinct", &format!("{fw}_plain"));
        let clerk = get("distinct", &format!("{fw}_clerk"));
        let rsa = get("distinct", &format!("{fw}_rsa"));
        let per_round = |f: &dyn Fn(&Run, &Run, &Run) -> f64| {
            median(plain.iter().zip(&clerk).zip(&rsa).map(|((p, c), r)| f(p, c, r)).collect())
        };
        let throughput = per_round(&|_, c, r| c.rps / r.rps);
        let added_rsa = per_round(&|p, _, r| r.cpu_us_per_req - p.cpu_us_per_req);
        let added_auth = per_round(&|p, c, _| c.cpu_us_per_req - p.cpu_us_per_req);
        let factor =
            per_round(&|p, c, r| (c.cpu_us_per_req - p.cpu_us_per_req) / (r.cpu_us_per_req - p.cpu_us_per_req));
        // Every request pays one RSA check (no cache hits), and the rest of authentication is a small surcharge on it.
        let bound = if hit_rate < 0.01 && factor <= RSA_BOUND_FACTOR { "yes" } else { "**no**" };
        println!(
            "| {fw} | {:.0} | {:.0} | {throughput:.2}× | {:.1} / {:.1} / {:.1} µs | {added_rsa:.1} µs | \
             {added_auth:.1} µs | {factor:.2}× | {bound} |",
            med(&rsa, |r| r.rps),
            med(&clerk, |r| r.rps),
            med(&plain, |r| r.cpu_us_per_req),
            med(&rsa, |r| r.cpu_us_per_req),
            med(&clerk, |r| r.cpu_us_per_req),
        );
    }
    println!();
    let ip_nocache_us = ip["authenticate_nocache_ns"].as_f64().unwrap_or(f64::NAN) / 1e3;
    println!(
        "Control — the protected apps with the verified-token cache turned off (every request pays a full \
         verification whatever the client sends; in-process, `authenticate` without a cache costs {ip_nocache_us:.1} \
         µs, {:.2}× the bare RSA check timed with `verify` above), next to the RSA apps, with each token pattern:",
        ip_nocache_us / ip_floor_us,
    );
    println!();
    println!(
        "| framework | tokens | req/s RSA app | req/s cache off | added by RSA | added by auth (cache off) | auth ÷ RSA | \
         auth ÷ in-process `authenticate` |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for fw in ["axum", "actix"] {
        for mode in ["repeated", "distinct"] {
            let plain = get(mode, &format!("{fw}_plain"));
            let nocache = get(mode, &format!("{fw}_nocache"));
            let rsa = get(mode, &format!("{fw}_rsa"));
            let added_auth =
                median(plain.iter().zip(&nocache).map(|(p, c)| c.cpu_us_per_req - p.cpu_us_per_req).collect());
            let added_rsa = median(plain.iter().zip(&rsa).map(|(p, r)| r.cpu_us_per_req - p.cpu_us_per_req).collect());
            println!(
                "| {fw} | {mode} | {:.0} | {:.0} | {added_rsa:.1} µs | {added_auth:.1} µs | {:.2}× | {:.2}× |",
                med(&rsa, |r| r.rps),
                med(&nocache, |r| r.rps),
                added_auth / added_rsa,
                added_auth / ip_nocache_us,
            );
        }
    }
    println!();
    println!(
        "Cache check: replaying the distinct-token pattern ({} threads' slices interleaved, 3 cycles) on a pre-filled \
         verifier gave {} hits in {} verifications.",
        opts.threads, replay["hits"], replay["calls"]
    );
    println!();
    println!(
        "Per run (cores = CPU time ÷ wall time: the server, wrk, and everything else: other jobs and hypervisor steal):"
    );
    println!();
    println!(
        "| tokens | app | round | req/s | p50 | p99 | server µs/req | server cores | wrk cores | other cores | \
         load (1 min) |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for mode in ["repeated", "distinct"] {
        for app in [
            "axum_plain",
            "axum_clerk",
            "axum_nocache",
            "axum_rsa",
            "actix_plain",
            "actix_clerk",
            "actix_nocache",
            "actix_rsa",
        ] {
            for (i, r) in get(mode, app).iter().enumerate() {
                println!(
                    "| {mode} | {app} | {} | {:.0} | {:.2} ms | {:.2} ms | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} |",
                    i + 1,
                    r.rps,
                    r.p50_us / 1e3,
                    r.p99_us / 1e3,
                    r.cpu_us_per_req,
                    r.server_cores,
                    r.wrk_cores,
                    r.others(),
                    r.load1
                );
            }
        }
    }
}

/// wrk's version line; installs the Debian package when wrk is missing.
fn ensure_wrk() -> Result<String, String> {
    let version = || {
        // `wrk -v` prints its version and usage, and exits 1.
        Command::new("wrk").arg("-v").output().ok().and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
            text.lines().next().filter(|l| l.starts_with("wrk ")).map(str::to_owned)
        })
    };
    if let Some(v) = version() {
        return Ok(v);
    }
    eprintln!("xtask: wrk not found: installing the Debian package");
    let install = || Command::new("apt-get").args(["install", "-y", "wrk"]).status().is_ok_and(|s| s.success());
    if !install() {
        let _ = super::run("apt-get update", Command::new("apt-get").arg("update"));
        if !install() {
            return Err("cannot install wrk: run `apt-get install -y wrk` as root (Debian/Ubuntu)".to_owned());
        }
    }
    version().ok_or_else(|| "wrk was installed but does not run".to_owned())
}

/// The running server. Killed when dropped.
struct Server {
    child: Child,
    ready: Value,
}

impl Server {
    fn start(bin: &Path, tokens_file: &Path, opts: &Options) -> Result<Self, String> {
        let mut child = pinned(bin.as_os_str(), opts.pin.then_some("0"))
            .arg("--tokens-file")
            .arg(tokens_file)
            .args(["--distinct", &opts.distinct.to_string(), "--threads", &opts.threads.to_string()])
            .args(["--max-secs", "3600"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(json) = line.strip_prefix("LOADBENCH_READY ") {
                    let _ = tx.send(json.to_owned());
                } else {
                    eprintln!("server: {line}");
                }
            }
        });
        let mut server = Self { child, ready: Value::Null };
        let line = rx
            .recv_timeout(Duration::from_secs(600))
            .map_err(|_| "the server did not become ready within 10 minutes (or exited)".to_owned())?;
        server.ready = serde_json::from_str(&line).map_err(|e| format!("bad READY line: {e}"))?;
        eprintln!(
            "xtask: server ready in {:.1} s (minting {:.1} s); floor {:.1} µs; cache replay: {} hits / {}",
            server.ready["startup_secs"].as_f64().unwrap_or(0.0),
            server.ready["mint_secs"].as_f64().unwrap_or(0.0),
            server.ready["floor"]["ns_median"].as_f64().unwrap_or(0.0) / 1e3,
            server.ready["cache_replay"]["hits"],
            server.ready["cache_replay"]["calls"],
        );
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `program`, on the given CPU list only when `cpus` is set (`taskset` execs it: same process id).
fn pinned(program: &std::ffi::OsStr, cpus: Option<&str>) -> Command {
    match cpus {
        Some(cpus) => {
            let mut c = Command::new("taskset");
            c.args(["-c", cpus]).arg(program);
            c
        }
        None => Command::new(program),
    }
}

/// One wrk run against `127.0.0.1:port`: its `done` JSON and its CPU time in clock ticks (sampled every 20 ms until
/// it exits, so the last few milliseconds are missed). Killed 30 s past its duration.
fn wrk(script: &Path, tokens: &Path, port: u16, opts: &Options, secs: u64) -> Result<(Value, u64), String> {
    let mut child = pinned("wrk".as_ref(), opts.pin.then_some("1"))
        .args([
            format!("-t{}", opts.threads),
            format!("-c{}", opts.connections),
            format!("-d{secs}s"),
            "--timeout".to_owned(),
            "2s".to_owned(),
            "-s".to_owned(),
        ])
        .arg(script)
        .arg("--")
        .arg(format!("http://127.0.0.1:{port}/me"))
        .arg(tokens)
        .arg(opts.threads.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start wrk: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(secs + 30);
    let mut ticks = 0;
    let status = loop {
        ticks = ticks.max(proc_cpu_ticks(child.id()));
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("wrk against port {port} did not finish in {} s", secs + 30));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut stdout);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut stderr);
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("LOADBENCH "))
        .ok_or_else(|| format!("wrk ({status}) printed no result line\nstdout:\n{stdout}\nstderr:\n{stderr}"))?;
    let result = serde_json::from_str(line).map_err(|e| format!("wrk result line: {e}: {line}"))?;
    Ok((result, ticks))
}

/// One HTTP/1.1 request on a fresh connection: (status, body).
fn get(port: u16, path: &str, token: Option<&str>) -> Result<(u16, String), String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect {port}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}Connection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| format!("read {port}: {e}"))?;
    let text = String::from_utf8_lossy(&raw);
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).ok_or("no status line")?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

/// Each app answers `/me` with a token (the same body with and without auth, per framework); the protected ones
/// refuse a request without.
fn sanity_check(apps: &[(&str, &str, bool, u16)], token: &str) -> Result<(), String> {
    let mut bodies: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for &(fw, app, protected, port) in apps {
        let (status, body) = get(port, "/me", Some(token))?;
        if status != 200 {
            return Err(format!("{app}: GET /me with a token answered {status}: {body}"));
        }
        bodies.entry(fw).or_default().push(body);
        let (status, _) = get(port, "/me", None)?;
        let expected = if protected { 401 } else { 200 };
        if status != expected {
            return Err(format!("{app}: GET /me without a token answered {status}, expected {expected}"));
        }
    }
    for (fw, b) in &bodies {
        if b.windows(2).any(|w| w[0] != w[1]) {
            return Err(format!("{fw}: the apps with and without auth answer different bodies: {b:?}"));
        }
    }
    eprintln!("xtask: sanity check passed: same /me body with and without auth, 401 without a token when protected");
    Ok(())
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// utime + stime of a process, in clock ticks.
fn proc_cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses): state is field 3; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let f = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    f(11) + f(12)
}

/// All CPUs' busy time (everything but idle and iowait; steal included), in clock ticks.
fn machine_busy_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(cpu) = stat.lines().next() else { return 0 };
    let v: Vec<u64> = cpu.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    total - idle
}

fn loadavg() -> (f64, f64, f64) {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let v: Vec<f64> = text.split_whitespace().take(3).filter_map(|x| x.parse().ok()).collect();
    (v.first().copied().unwrap_or(0.0), v.get(1).copied().unwrap_or(0.0), v.get(2).copied().unwrap_or(0.0))
}
