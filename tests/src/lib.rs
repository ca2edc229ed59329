//! Workspace-level tests. The README's Rust snippets, and those of the guides that span several crates
//! (`docs/webhooks.md`, `docs/machine-auth.md`), are compiled here as doctests, so they stay true. (Each framework
//! crate compiles its own guide: `docs/axum.md` in `clerk-axum`, `docs/actix.md` in `clerk-actix`.)

#[doc = include_str!("../../README.md")]
#[allow(dead_code)]
mod readme {}

#[doc = include_str!("../../docs/webhooks.md")]
#[allow(dead_code)]
mod webhooks_guide {}

#[doc = include_str!("../../docs/machine-auth.md")]
#[allow(dead_code)]
mod machine_auth_guide {}
