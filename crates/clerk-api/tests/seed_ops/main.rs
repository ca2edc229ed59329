//! Every seed operation (`shared/reference/seed-endpoints.csv`) through the typed client:
//!
//! - a snapshot of each request as built (`.to_http_request()`, no sending), one `.snap` per operation under
//!   `tests/snapshots/`, checked against the seed's method and path;
//! - each operation run against the emulator over real HTTP in flows that create what it needs, the answer decoded
//!   into the typed model; the emulator checks every request against Clerk's OpenAPI spec, and each flow asserts
//!   the emulator answered every operation it promises with a 2xx;
//! - `coverage`: the flows together promise exactly the seed's operations, and so do the snapshots.
// The seed includes operations Clerk has deprecated (SAML connections, templates): they are exercised on purpose.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, unreachable_pub, deprecated)]

mod instance;
mod orgs;
mod requests;
mod support;
mod users;

use std::collections::BTreeSet;

/// Every flow's promised operations.
fn flows() -> impl Iterator<Item = &'static [&'static str]> {
    users::FLOWS.iter().chain(orgs::FLOWS).chain(instance::FLOWS).copied()
}

#[test]
fn coverage() {
    let seed = support::seed_operation_ids();
    assert_eq!(seed.len(), 105, "the seed has 105 distinct Backend API operations");
    let ran: BTreeSet<String> = flows().flatten().map(|s| (*s).to_owned()).collect();
    let missing: Vec<&String> = seed.difference(&ran).collect();
    let extra: Vec<&String> = ran.difference(&seed).collect();
    assert!(missing.is_empty(), "seed operations no flow runs: {missing:?}");
    assert!(extra.is_empty(), "flows promise operations outside the seed: {extra:?}");

    let client = support::snapshot_client();
    let snapped: Vec<&str> = requests::all(&client).into_iter().map(|(id, _)| id).collect();
    let unique: BTreeSet<String> = snapped.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(unique.len(), snapped.len(), "one snapshot per operation");
    assert_eq!(unique, seed, "the snapshots are the seed operations");
}

#[test]
fn snapshots() {
    let seed = support::seed_operations();
    let client = support::snapshot_client();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_omit_expression(true);
    let _guard = settings.bind_to_scope();
    for (op_id, req) in requests::all(&client) {
        let req = req.unwrap_or_else(|e| panic!("{op_id}: the builder refused its arguments: {e}"));
        let s = &seed[op_id];
        assert_eq!(req.method().as_str(), s.method, "{op_id}: method");
        assert_eq!(req.uri().host(), Some("api.clerk.com"), "{op_id}: host");
        assert!(support::path_matches(&s.path, req.uri().path()), "{op_id}: {} is not /v1{}", req.uri().path(), s.path);
        insta::assert_snapshot!(op_id, support::render(&req));
    }
}
