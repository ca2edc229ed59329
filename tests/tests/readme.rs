//! The README's promises: it opens with the demo command and the test command, and CI runs that test command.
#![allow(missing_docs, clippy::unwrap_used)]

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The commands of the first shell block of README.md, comments stripped.
fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let block = readme.split("```sh").nth(1).expect("README.md opens with a ```sh block");
    let block = block.split("```").next().unwrap();
    block.lines().map(|l| l.split(" #").next().unwrap().trim().to_owned()).filter(|l| !l.is_empty()).collect()
}

#[test]
fn readme_opens_with_demo_then_tests() {
    let cmds = readme_commands();
    assert_eq!(cmds.len(), 2, "exactly two commands: the demo and the tests: {cmds:?}");
    assert!(cmds[0].starts_with("cargo run"), "first command runs the demo: {}", cmds[0]);
    // The README must come before any other content: the block is the first thing after the title.
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let before: Vec<&str> = readme.split("```sh").next().unwrap().lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(before.len(), 1, "only the title precedes the commands: {before:?}");
}

#[test]
fn ci_runs_the_readme_test_command() {
    let cmds = readme_commands();
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    let runs: Vec<&str> = ci.lines().map(str::trim).filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
    assert!(runs.contains(&cmds[1].as_str()), ".ci/run must run `{}` verbatim", cmds[1]);
    assert!(runs.contains(&cmds[0].as_str()), ".ci/run must run the demo `{}` verbatim", cmds[0]);
}

#[test]
fn demo_example_exists() {
    let cmds = readme_commands();
    let example = cmds[0].split("--example").nth(1).unwrap().split_whitespace().next().unwrap();
    let krate = cmds[0].split("-p ").nth(1).unwrap().split_whitespace().next().unwrap();
    let path = root().join("crates").join(krate).join("examples").join(format!("{example}.rs"));
    assert!(path.exists(), "{path:?}");
}
