//! `cargo xtask fuzz [--seconds N] [--no-sanitizer] [TARGET]`: the coverage-guided fuzz targets of `fuzz/` (cargo-fuzz, libFuzzer).
//!
//! 1. Checks the nightly toolchain and cargo-fuzz are there (installs nothing: it says what to run).
//! 2. Builds every target once (`cargo +nightly fuzz build`, with AddressSanitizer), timed.
//! 3. Runs the named target, or each in turn, for N seconds (default 30):
//!    `cargo +nightly fuzz run <target> fuzz/target/corpus/<target> fuzz/corpus/<target> -- -max_total_time=N`.
//!    The seeds in `fuzz/corpus/<target>/` (in the repository) are read; what the fuzzer finds goes to the working
//!    corpus under `fuzz/target/corpus/` (kept between runs, never committed); a crash to `fuzz/artifacts/<target>/`.
//!    libFuzzer's output goes to `fuzz/target/logs/<target>.log`.
//! 4. Prints per target the executions, exec/s, coverage (libFuzzer's final `cov:` and `ft:`) and corpus size, and
//!    fails when any target crashed (a panic, a failed assertion, a sanitizer report, a timeout or out-of-memory),
//!    showing the end of its log and the input that did it.
//!
//! `--no-sanitizer` builds without AddressSanitizer and with 16 codegen units, in `fuzz/target/no-sanitizer/`: about
//! 2.5 minutes from scratch on a 2-core machine instead of 5, and 3 to 5 times the executions per second. Panics,
//! assertions, debug assertions and overflow checks fail the run as before; only memory errors in `unsafe` code
//! (none in this workspace's crates, which forbid it; some in their dependencies) go unseen. `cargo xtask ci` runs
//! that for 10 s per target (about 3.5 minutes in all, build included).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// libFuzzer's options for every run: a slow input is a finding (20 s per input), and the final statistics.
const LIBFUZZER_OPTIONS: [&str; 2] = ["-timeout=20", "-print_final_stats=1"];

/// The prefixes of the lines targets print about themselves.
const NOTES: [&str; 2] = ["fastclaims: ", "signed_tokens: "];

/// What one run reported.
#[derive(Debug, Default)]
struct Figures {
    executions: Option<u64>,
    exec_per_sec: Option<u64>,
    cov: Option<u64>,
    ft: Option<u64>,
    corpus: Option<String>,
    peak_rss_mb: Option<u64>,
    /// What a target prints about itself (`fastclaims: …`), the last line of each kind.
    notes: Vec<String>,
}

/// How to fuzz.
struct Options<'a> {
    seconds: u64,
    target: Option<&'a str>,
    /// AddressSanitizer on (cargo-fuzz's default); off: `--sanitizer none --codegen-units 16`, built apart.
    sanitizer: bool,
}

/// Seconds per target of the brief run `cargo xtask ci` makes.
const BRIEF_SECONDS: u64 = 10;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut options = Options { seconds: 30, target: None, sanitizer: true };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => {
                options.seconds = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .filter(|s| *s > 0)
                    .ok_or("--seconds takes a positive number")?;
            }
            "--no-sanitizer" => options.sanitizer = false,
            flag if flag.starts_with('-') => return Err(format!("fuzz: unknown option `{flag}`")),
            name if options.target.is_none() => options.target = Some(name),
            extra => return Err(format!("fuzz: one target at most (`{extra}`)")),
        }
    }
    fuzz(&options)
}

/// What `cargo xtask ci` runs: every target for [`BRIEF_SECONDS`], built without the sanitizer (about half the
/// build time; panics, assertions and debug assertions still fail it), so the targets keep compiling and clean.
pub(crate) fn brief() -> Result<(), String> {
    fuzz(&Options { seconds: BRIEF_SECONDS, target: None, sanitizer: false })
}

fn fuzz(options: &Options<'_>) -> Result<(), String> {
    let seconds = options.seconds;
    let (root, _) = crate::workspace_dirs()?;
    check_tools()?;
    let all = targets(&root)?;
    let chosen: Vec<&str> = match options.target {
        Some(t) if all.iter().any(|a| a == t) => vec![t],
        Some(t) => return Err(format!("fuzz: no target `{t}` (targets: {})", all.join(", "))),
        None => all.iter().map(String::as_str).collect(),
    };
    // The same flags for the build and every run (else `cargo fuzz run` builds again); a build without the sanitizer
    // gets its own directory, so that switching does not rebuild everything.
    let fuzz_dir = root.join("fuzz");
    let mut flags: Vec<String> = Vec::new();
    if !options.sanitizer {
        let dir = fuzz_dir.join("target").join("no-sanitizer");
        flags.extend(["--sanitizer", "none", "--codegen-units", "16", "--target-dir"].map(str::to_owned));
        flags.push(dir.display().to_string());
    }

    let started = Instant::now();
    crate::run("fuzz build", nightly_cargo().current_dir(&root).args(["fuzz", "build"]).args(&flags))?;
    eprintln!("xtask: fuzz: built in {:.0} s", started.elapsed().as_secs_f64());

    let logs = fuzz_dir.join("target").join("logs");
    fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    let mut failed = Vec::new();
    for name in &chosen {
        let work = fuzz_dir.join("target").join("corpus").join(name);
        fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
        let seeds = fuzz_dir.join("corpus").join(name);
        let log = logs.join(format!("{name}.log"));
        let out = fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut cmd = nightly_cargo();
        cmd.current_dir(&root)
            .args(["fuzz", "run"])
            .args(&flags)
            .arg(name)
            .arg(&work)
            .arg(&seeds)
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .args(LIBFUZZER_OPTIONS)
            .stdout(Stdio::null())
            .stderr(out);
        eprintln!("xtask: == fuzz {name} ({seconds} s): {cmd:?}");
        let run_started = Instant::now();
        let status = cmd.status().map_err(|e| format!("fuzz {name}: cannot start: {e}"))?;
        let elapsed = run_started.elapsed().as_secs_f64();
        let text = fs::read_to_string(&log).unwrap_or_default();
        let figures = parse(&text);
        eprintln!("xtask: fuzz {name}: {} in {elapsed:.0} s", summary(&figures));
        for note in &figures.notes {
            eprintln!("xtask: fuzz {name}: {note}");
        }
        if !status.success() {
            eprintln!("xtask: fuzz {name} FAILED ({status}); from {}:", log.display());
            for line in what_failed(&text) {
                eprintln!("    {line}");
            }
            failed.push(*name);
        }
    }
    eprintln!("xtask: fuzz: {} target(s) in {:.0} s", chosen.len(), started.elapsed().as_secs_f64());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fuzz: {} crashed (inputs under fuzz/artifacts/; reproduce with `cargo +nightly fuzz run <target> <input>`)",
            failed.join(", ")
        ))
    }
}

fn nightly_cargo() -> Command {
    // Through rustup's `cargo` proxy, not this process's `CARGO` (the stable cargo, which ignores `+nightly`); cargo-fuzz
    // then runs the nightly cargo too (`RUSTUP_TOOLCHAIN`, which `cargo xtask` inherited set to stable).
    let mut cmd = Command::new("cargo");
    cmd.arg("+nightly").env("RUSTUP_TOOLCHAIN", "nightly");
    for var in ["CARGO", "RUSTC", "RUSTDOC", "RUSTC_WRAPPER"] {
        cmd.env_remove(var);
    }
    cmd
}

/// The nightly toolchain (cargo-fuzz passes `-Z` flags) and cargo-fuzz itself.
fn check_tools() -> Result<(), String> {
    let nightly = nightly_cargo().arg("--version").output().is_ok_and(|o| o.status.success());
    if !nightly {
        return Err("fuzz: the nightly toolchain is missing (cargo-fuzz needs it): `rustup toolchain install nightly`"
            .to_owned());
    }
    let fuzz = nightly_cargo().args(["fuzz", "--version"]).output().is_ok_and(|o| o.status.success());
    if !fuzz {
        return Err("fuzz: cargo-fuzz is not installed: `cargo install --locked cargo-fuzz`".to_owned());
    }
    Ok(())
}

/// The fuzz targets: the `[[bin]]` names of `fuzz/Cargo.toml`, in its order.
fn targets(root: &Path) -> Result<Vec<String>, String> {
    let manifest: PathBuf = root.join("fuzz").join("Cargo.toml");
    let text = fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let mut in_bin = false;
    let mut names = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin
            && let Some(value) = line.strip_prefix("name").map(str::trim_start)
            && let Some(name) = value.strip_prefix('=').map(|v| v.trim().trim_matches('"'))
        {
            names.push(name.to_owned());
        }
    }
    if names.is_empty() {
        return Err(format!("{}: no [[bin]] targets", manifest.display()));
    }
    Ok(names)
}

/// The final figures of a libFuzzer log: its last status line (`#N DONE cov: C ft: F corp: K/S …`) and the
/// `stat::` lines of `-print_final_stats`.
fn parse(log: &str) -> Figures {
    let mut f = Figures::default();
    let field = |words: &[&str], key: &str| -> Option<String> {
        words.iter().position(|w| *w == key).and_then(|i| words.get(i + 1)).map(|v| (*v).to_owned())
    };
    for line in log.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some(count) = words.first().and_then(|w| w.strip_prefix('#')).and_then(|n| n.parse::<u64>().ok()) {
            if let Some(cov) = field(&words, "cov:").and_then(|v| v.parse().ok()) {
                f.executions = Some(count);
                f.cov = Some(cov);
                f.ft = field(&words, "ft:").and_then(|v| v.parse().ok());
                f.corpus = field(&words, "corp:");
            }
        } else if let Some((key, value)) = line.strip_prefix("stat::").and_then(|s| s.split_once(':')) {
            let value = value.trim().parse().ok();
            match key {
                "number_of_executed_units" => f.executions = value.or(f.executions),
                "average_exec_per_sec" => f.exec_per_sec = value,
                "peak_rss_mb" => f.peak_rss_mb = value,
                _ => {}
            }
        } else if let Some(kind) = NOTES.iter().find(|k| line.starts_with(*k)) {
            // Counts a target prints now and then (the differential target's answer rate): the last one counts.
            f.notes.retain(|n| !n.starts_with(kind));
            f.notes.push(line.to_owned());
        }
    }
    f
}

/// The lines of a failed run's log that say what happened: a panic's message, libFuzzer's and the sanitizer's
/// verdict, where the input went; else the end of the log.
fn what_failed(log: &str) -> Vec<&str> {
    let lines: Vec<&str> = log.lines().collect();
    let mut picked: Vec<&str> = Vec::new();
    for (i, &line) in lines.iter().enumerate() {
        if line.contains(" panicked at ") {
            // The message follows, up to the backtrace.
            picked.extend(lines[i..].iter().take(8).take_while(|l| !l.starts_with("stack backtrace:")));
        } else if line.contains("ERROR: ") || line.starts_with("SUMMARY: ") || line.contains("Test unit written to") {
            picked.push(line);
        }
    }
    if picked.is_empty() {
        picked.extend(&lines[lines.len().saturating_sub(40)..]);
    }
    picked
}

fn summary(f: &Figures) -> String {
    let n = |v: Option<u64>| v.map_or_else(|| "?".to_owned(), |v| v.to_string());
    format!(
        "{} executions, {} exec/s, cov {} ft {}, corpus {}, peak RSS {} MB",
        n(f.executions),
        n(f.exec_per_sec),
        n(f.cov),
        n(f.ft),
        f.corpus.as_deref().unwrap_or("?"),
        n(f.peak_rss_mb)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzers_final_figures() {
        let log = "#6\tINITED cov: 548 ft: 719 corp: 5/315b exec/s: 0 rss: 40Mb\n\
                   #473045\tDONE   cov: 1502 ft: 4247 corp: 1238/98Kb lim: 353 exec/s: 43004 rss: 523Mb\n\
                   fastclaims: 1048576 UTF-8 inputs, 10 read as claims by serde_json, 5 answered (50.0 %)\n\
                   Done 473045 runs in 11 second(s)\n\
                   stat::number_of_executed_units: 473046\n\
                   stat::average_exec_per_sec:     43004\n\
                   stat::peak_rss_mb:              523\n";
        let f = parse(log);
        assert_eq!((f.executions, f.exec_per_sec, f.cov, f.ft), (Some(473_046), Some(43_004), Some(1502), Some(4247)));
        assert_eq!((f.corpus.as_deref(), f.peak_rss_mb), (Some("1238/98Kb"), Some(523)));
        assert_eq!(f.notes.len(), 1);
    }

    #[test]
    fn says_what_failed() {
        let log = "INFO: Seed: 1\nthread '<unnamed>' (30181) panicked at fuzz_targets/credentials.rs:61:5:\nboom\n\
                   stack backtrace:\n   0: __rustc::rust_begin_unwind\n==30181== ERROR: libFuzzer: deadly signal\n\
                   SUMMARY: libFuzzer: deadly signal\nartifact_prefix='a/'; Test unit written to a/crash-ff4b\n";
        let lines = what_failed(log);
        assert_eq!(lines.len(), 5, "{lines:?}");
        assert_eq!(lines[1], "boom");
        assert!(lines[4].ends_with("a/crash-ff4b"));
        assert_eq!(what_failed("a\nb").len(), 2);
    }

    #[test]
    fn finds_the_targets_of_the_fuzz_manifest() {
        let (root, _) = crate::workspace_dirs().unwrap();
        let names = targets(&root).unwrap();
        assert!(names.iter().any(|n| n == "fastclaims_differential"), "{names:?}");
        for name in &names {
            assert!(root.join("fuzz/fuzz_targets").join(format!("{name}.rs")).is_file(), "{name}");
            assert!(root.join("fuzz/corpus").join(name).is_dir(), "seeds for {name}");
        }
    }
}
