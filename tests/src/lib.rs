//! Workspace-level tests. The README's Rust snippets are compiled here as doctests, so they stay true.

#[doc = include_str!("../../README.md")]
#[allow(dead_code)]
mod readme {}
