//! Every seed operation (`shared/reference/seed-endpoints.csv`) run once against the emulator over real HTTP, each
//! response body validated against its schema in Clerk's OpenAPI spec (read from `../shared/clerk-spec`, never
//! copied). Split by resource group; `coverage` checks that the groups together cover every seed operation.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

mod instance;
mod orgs;
mod support;
mod users;

#[test]
fn coverage() {
    let seed = support::seed_operation_ids();
    let covered: std::collections::BTreeSet<&str> =
        users::COVERED.iter().chain(orgs::COVERED).chain(instance::COVERED).copied().collect();
    let missing: Vec<&String> = seed.iter().filter(|id| !covered.contains(id.as_str())).collect();
    assert!(missing.is_empty(), "seed operations with no test: {missing:?}");
    assert_eq!(seed.len(), 105, "the seed has 105 distinct Backend API operations");
}
