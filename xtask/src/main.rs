//! Workspace automation. `cargo xtask ci` runs what CI runs: format check, clippy with warnings denied, each crate
//! with each feature alone, the tests, every benchmark once in test mode, and the documentation build with warnings
//! denied, after checking the generated code is up to date; then each fuzz target for a few seconds.
//! `cargo xtask codegen` regenerates `crates/clerk-testing/src/generated/operations.rs`,
//! `crates/clerk-api/src/generated/` and `docs/seed-mapping.md` from Clerk's OpenAPI spec (and the seed's function
//! list).

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod codegen;
mod codegen_api;
mod codegen_webhooks;
mod fuzz;
mod icount;
mod loadbench;
mod seed_mapping;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("test") => test(),
        Some("bench-test") => bench_test(),
        Some("codegen") => codegen::run(&args[1..]),
        Some("loadbench") => loadbench::run(&args[1..]),
        Some("icount") => icount::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("help" | "--help" | "-h") | None => {
            usage();
            Ok(())
        }
        Some(other) => Err(format!("unknown task `{other}`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage() {
    eprintln!(
        "usage: cargo xtask <task>\n\ntasks:\n  ci     codegen --check, fmt check, clippy -D warnings, each feature alone (cargo hack), tests, benches in\n         test mode, docs -D warnings, cargo deny, each fuzz target for 10 s\n  test   the workspace tests (what `ci` runs)\n  bench-test\n         every bench target once in test mode: sanity checks and each case once, no summary (what `ci` runs)\n  codegen [--check] [--spec PATH]\n         regenerate crates/clerk-testing/src/generated/operations.rs, crates/clerk-api/src/generated/\n         and docs/seed-mapping.md from the OpenAPI spec (default spec: ../shared/clerk-spec/bapi-2026-05-12.yml;\n         --check fails if a file is stale)\n  loadbench [--duration SECS] [--rounds N] ...\n         the axum and actix example apps with and without Clerk auth under wrk load on loopback\n         (installs wrk from Debian if missing; see docs/performance.md)\n  icount  instructions per verification and per request under callgrind, against the bare RSA check\n         (needs valgrind; see docs/performance.md)\n  fuzz [--seconds N] [--no-sanitizer] [TARGET]\n         the cargo-fuzz targets of fuzz/, each (or TARGET) for N seconds (default 30); needs nightly and\n         cargo-fuzz; --no-sanitizer: what ci runs"
    );
}

/// The workspace root and the target directory (`CARGO_TARGET_DIR` when set).
fn workspace_dirs() -> Result<(PathBuf, PathBuf), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().ok_or("no workspace root")?.to_path_buf();
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    Ok((root, target))
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
}

fn run(step: &str, cmd: &mut Command) -> Result<(), String> {
    eprintln!("xtask: == {step}: {cmd:?}");
    let status = cmd.status().map_err(|e| format!("{step}: cannot start: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{step} failed ({status})")) }
}

fn test() -> Result<(), String> {
    run("tests", cargo().args(["test", "--workspace", "--all-features", "--no-fail-fast"]).env("INSTA_UPDATE", "no"))
}

/// Every bench target of the workspace once, in criterion's test mode (`cargo bench -- --test`), in the `bench`
/// profile the documented commands use: each bench's sanity checks (every implementation accepts the token, every
/// malformed input gets its reason, the cache states the cases rely on, the client and raw requests agree), then each
/// case once. The benches' `main`s skip their interleaved summaries in test mode, so this takes seconds once built.
/// `--bench '*'` picks the bench targets only: the libraries' unit tests (already run by `test`) are not rebuilt.
fn bench_test() -> Result<(), String> {
    run(
        "benches (test mode)",
        cargo()
            .args(["bench", "--workspace", "--all-features", "--bench", "*", "--", "--test"])
            .env_remove("CLERK_BENCH_QUICK"),
    )
}

/// Every library crate with each of its features alone (and with none): a feature that does not compile on its own
/// (an import only another feature brings, a `cfg` left out) fails here, not in a user's build. Libraries only: with
/// resolver 3 their dev-dependencies' features do not leak into these builds, so cargo-hack's `--no-dev-deps` (which
/// rewrites the manifests while it runs, and leaves them rewritten if interrupted) is not needed.
fn features() -> Result<(), String> {
    let installed = cargo().args(["hack", "--version"]).output().is_ok_and(|o| o.status.success());
    if !installed {
        return Err("cargo-hack is not installed: `cargo install --locked cargo-hack` (.ci/run does this)".to_owned());
    }
    run(
        "features",
        cargo().args([
            "hack",
            "check",
            "--workspace",
            "--exclude",
            "xtask",
            "--exclude",
            "clerk-workspace-tests",
            "--each-feature",
        ]),
    )
}

fn ci() -> Result<(), String> {
    eprintln!("xtask: == codegen --check");
    codegen::check()?;
    run("fmt", cargo().args(["fmt", "--all", "--", "--check"]))?;
    run("clippy", cargo().args(["clippy", "--workspace", "--all-targets", "--all-features", "--", "-D", "warnings"]))?;
    features()?;
    test()?;
    bench_test()?;
    run("doc", cargo().args(["doc", "--workspace", "--no-deps", "--all-features"]).env("RUSTDOCFLAGS", "-D warnings"))?;
    deny()?;
    fuzz::brief()?;
    Ok(())
}

/// `cargo deny check licenses bans sources` (advisories need the network's advisory database).
fn deny() -> Result<(), String> {
    let installed = cargo().args(["deny", "--version"]).output().is_ok_and(|o| o.status.success());
    if !installed {
        return Err("cargo-deny is not installed: `cargo install --locked cargo-deny` (.ci/run does this)".to_owned());
    }
    run("deny", cargo().args(["deny", "check", "licenses", "bans", "sources"]))
}
