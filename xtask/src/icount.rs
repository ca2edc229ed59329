//! `cargo xtask icount`: instruction counts per verification and per request, from callgrind.
//!
//! Wall-clock ratios on a small shared machine move by several percent from run to run (and by more under HTTP
//! load); callgrind counts the same instructions for the same binary and inputs whatever else the machine does.
//! Both sides of every ratio are counted in the same run.
//!
//! 1. Builds, in release mode, `crates/clerk-core/examples/icount.rs` (the verification benchmark's cases against
//!    the bare RSA check) and `tests/examples/middleware_icount.rs` (a `GET /me` through each framework's example
//!    app with the middleware, against the same routes without it and with the bare RSA check instead).
//! 2. Runs each under `valgrind --tool=callgrind` (install: `apt-get install valgrind`), output in
//!    `target/icount/`.
//! 3. Reads the inclusive count of every `icount_case_*` function with `callgrind_annotate`, divides by the
//!    number of calls each case makes (200), and prints the ratios.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Verifications or requests per case (both programs' `N`).
const N: f64 = 200.0;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(a) = args.first() {
        return Err(format!("unknown option {a}\nusage: cargo xtask icount"));
    }
    // `callgrind_annotate --version` prints its version and exits 255: whether it starts is what counts.
    let found = |tool: &str| Command::new(tool).arg("--version").output().is_ok();
    if !found("valgrind") || !found("callgrind_annotate") {
        return Err("valgrind is not installed: `apt-get install valgrind`".to_owned());
    }
    let (root, target) = super::workspace_dirs()?;
    let out = target.join("icount");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;

    let core = counts(&root, &target, &out, "clerk-core", "icount")?;
    let web = counts(&root, &target, &out, "clerk-workspace-tests", "middleware_icount")?;

    println!("## Instructions per verification (`crates/clerk-core/examples/icount.rs`, callgrind)\n");
    println!("| case | instructions | ÷ floor |\n|---|---:|---:|");
    let floor = *core.get("floor").ok_or("no floor case")?;
    for (case, n) in &core {
        println!("| {case} | {n:.0} | {:.3}× |", n / floor);
    }
    println!("\n## Instructions per `GET /me` (`tests/examples/middleware_icount.rs`, in-process, callgrind)\n");
    println!(
        "| framework | without auth | bare RSA check | with auth, distinct tokens | added by RSA | added by auth | \
         auth ÷ RSA | with auth, repeated token | repeated ÷ without |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for fw in ["axum", "actix"] {
        let get = |case: &str| web.get(&format!("{fw}_{case}")).copied().ok_or(format!("no case {fw}_{case}"));
        let (plain, rsa, clerk, repeated) = (get("plain")?, get("rsa")?, get("clerk")?, get("clerk_repeated")?);
        println!(
            "| {fw} | {plain:.0} | {rsa:.0} | {clerk:.0} | {:.0} | {:.0} | {:.3}× | {repeated:.0} | {:.2}× |",
            rsa - plain,
            clerk - plain,
            (clerk - plain) / (rsa - plain),
            repeated / plain
        );
    }
    Ok(())
}

/// Builds `example` of `package`, runs it under callgrind and answers each `icount_case_*` function's inclusive
/// instruction count divided by [`N`].
fn counts(
    root: &Path,
    target: &Path,
    out: &Path,
    package: &str,
    example: &str,
) -> Result<BTreeMap<String, f64>, String> {
    super::run(
        &format!("build {example}"),
        super::cargo().current_dir(root).args(["build", "--release", "-p", package, "--example", example]),
    )?;
    let bin = target.join("release/examples").join(example);
    let data = out.join(format!("{example}.callgrind"));
    let mut callgrind = Command::new("valgrind");
    callgrind.arg("--tool=callgrind").arg(format!("--callgrind-out-file={}", data.display())).arg("--quiet").arg(&bin);
    super::run(&format!("{example} under callgrind"), &mut callgrind)?;
    let report = Command::new("callgrind_annotate")
        .args(["--inclusive=yes", "--threshold=100"])
        .arg(&data)
        .output()
        .map_err(|e| format!("callgrind_annotate: {e}"))?;
    if !report.status.success() {
        return Err(format!("callgrind_annotate failed: {}", String::from_utf8_lossy(&report.stderr)));
    }
    let cases = parse(&String::from_utf8_lossy(&report.stdout));
    if cases.is_empty() {
        return Err(format!("no icount_case_* function in {}", data.display()));
    }
    Ok(cases)
}

/// `icount_case_<name>` lines of `callgrind_annotate --inclusive=yes`: `  67,659,298 ( 0.46%)  ???:crate::icount_case_x [...]`.
fn parse(report: &str) -> BTreeMap<String, f64> {
    report
        .lines()
        .filter_map(|line| {
            let (_, after) = line.split_once("icount_case_")?;
            let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            let count: String = line.split_whitespace().next()?.chars().filter(char::is_ascii_digit).collect();
            Some((name, count.parse::<f64>().ok()? / N))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_callgrind_annotate_lines() {
        let report = "    67,659,298 ( 0.46%)  ???:middleware_icount::icount_case_axum_clerk [/x/middleware_icount]\n\
                      3,526,180 ( 0.02%)  ???:icount::icount_case_floor [/x/icount]\n\
                      1,000 ( 0.00%)  ???:other::function [/x]\n";
        let cases = super::parse(report);
        assert_eq!(cases.len(), 2);
        assert!((cases["axum_clerk"] - 338_296.49).abs() < 1e-6);
        assert!((cases["floor"] - 17_630.9).abs() < 1e-6);
    }
}
