//! End-to-end tests for the Clerk workspace live in `tests/`.
