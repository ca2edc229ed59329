//! `cargo xtask codegen`, the seed-mapping half: writes `docs/seed-mapping.md`, which maps every function of the Elixir
//! seed SDK (`<root>/../shared/reference/seed-endpoints.csv`) to the Rust call that replaces it.
//!
//! Backend API rows come from the CSV's `operationId` and the generated client (group accessor, method, required
//! arguments, answer, HTTP method and path: the same data as `OPERATIONS`), so the file cannot drift from the client;
//! `--check` covers it like the generated code. The rows that are no Backend API call (supervisor, plug, HTTP layer,
//! local JWT verification and signing, the JWKS fetching strategy and its cache) map to the hand-chosen equivalents of
//! [`LOCAL`]; [`NOTES`] says where the seed was wrong and the Rust call follows the spec. Both tables are checked
//! against the CSV: a row without its entry, or an entry without its row, fails the generator.
//!
//! The generator also checks the CSV against the spec: each row's method and path must be the operation's, and its
//! required parameters must be the Rust call's arguments.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use crate::codegen_api::Call;

/// The generated file, relative to the workspace root.
pub(crate) const OUTPUT: &str = "docs/seed-mapping.md";
/// The seed's function list, relative to the workspace root.
const CSV: &str = "../shared/reference/seed-endpoints.csv";
/// The CSV's columns.
const COLUMNS: [&str; 10] = [
    "module",
    "function",
    "elixir_signature",
    "http_method",
    "path",
    "operationId",
    "request_kind",
    "required_params",
    "in_2026-05-12_spec",
    "notes",
];

/// What `{http}` in [`LOCAL`] stands for (the `Clerk.HTTP` rows).
const HTTP_REF: &str = "`clerk_api::Client` over a `clerk_core::HttpTransport` (see [the HTTP layer](#the-http-layer))";

/// The HTTP layer, described once after the table.
const HTTP: &str = "The seed's `Clerk.HTTP` functions took a URL and a body; the Rust client has no untyped calls. Each \
                    Backend API call is a typed builder on `clerk_api::Client`, which sets the `Authorization: Bearer` \
                    header, encodes the path, the query and the JSON or multipart body, decodes the answer into its \
                    type, and retries as its `RetryPolicy` says. It sends over a `clerk_core::HttpTransport`: the \
                    default is `clerk_core::HyperTransport` (a pooled hyper client over rustls, the seed's Finch pool), \
                    and `ClientBuilder::transport` or `ClientBuilder::tower_service` swap it. `.to_http_request()` on \
                    any builder gives the `http::Request` without sending it.";

/// The hand-chosen equivalents of the seed functions that are no Backend API call: `(module, function, Rust, crates)`.
/// `{op:<operationId>}` is replaced by the operation's call (`client.users().get(user_id)`), `{http}` by [`HTTP_REF`].
const LOCAL: &[(&str, &str, &str, &str)] = &[
    (
        "Clerk",
        "child_spec",
        "Nothing to supervise: build a `clerk_api::Client` (`Client::from_env()?.build()?` or \
         `Client::builder().secret_key(..)?.build()?`) and a `clerk_core::Verifier` once and clone them where needed",
        "clerk-api, clerk-core",
    ),
    (
        "Clerk",
        "init",
        "Building the verifier: `Verifier::builder().domain(domain)?.build()?` (keys from \
         `https://{domain}/.well-known/jwks.json`, like the seed's `:domain`), or `client.verifier().build()?` (keys \
         from `GET /jwks`); `Verifier::refresh_keys().await` at start-up is the seed's `first_fetch_sync`, \
         `VerifierBuilder::retry(RetryPolicy)` its retries, and `clerk_core::HyperTransport`'s pool its Finch pool",
        "clerk-core, clerk-api",
    ),
    (
        "Clerk",
        "start_link",
        "Building the `Client` and the `Verifier` (no process to start); `Verifier::spawn_key_refresh()` starts the \
         only background task, the key refresh",
        "clerk-api, clerk-core",
    ),
    (
        "Clerk.AuthenticationPlug",
        "call",
        "`Router::layer(clerk_axum::ClerkLayer::from_env()?)` / `App::wrap(clerk_actix::Clerk::from_env()?)`: \
         the token from `Authorization: Bearer`, else the `__session` cookie, verified; 401 `Unauthorized` on failure \
         (503 when Clerk cannot be reached); the plug's `fetch_user` is `FetchUser::Always` or the `ClerkUser` \
         extractor (`{op:GetUser}`, with an optional TTL cache); `clerk_session`/`current_user` are the `ClerkAuth` and \
         `ClerkUser` extractors. Framework-neutral: `clerk_core::Authenticator::authenticate(&headers)`",
        "clerk-axum, clerk-actix, clerk-core (engine), clerk-api (Backend API)",
    ),
    (
        "Clerk.AuthenticationPlug",
        "init",
        "Configuring the layer/middleware: `ClerkLayer::new(Authenticator::builder()…build()?)` (or \
         `Clerk::new(..)` for actix), `.optional()`, `.unavailable_status(..)`; the seed's `:session_key` is \
         `VerifierBuilder::cookie_name` (default `__session`)",
        "clerk-axum, clerk-actix, clerk-core (engine), clerk-api (Backend API)",
    ),
    ("Clerk.HTTP", "delete", "{http}: the typed `DELETE` calls, e.g. `{op:DeleteUser}`", "clerk-api, clerk-core"),
    (
        "Clerk.HTTP",
        "get",
        "{http}: the typed `GET` calls, e.g. `{op:GetUserList}` (query parameters are setters)",
        "clerk-api, clerk-core",
    ),
    ("Clerk.HTTP", "patch", "{http}: the typed `PATCH` calls, e.g. `{op:UpdateUser}`", "clerk-api, clerk-core"),
    ("Clerk.HTTP", "post", "{http}: the typed `POST` calls, e.g. `{op:CreateUser}`", "clerk-api, clerk-core"),
    (
        "Clerk.HTTP",
        "post_form",
        "{http}: the typed uploads take a `clerk_api::FilePart` (file name, content type, bytes), e.g. \
         `{op:SetUserProfileImage}`",
        "clerk-api, clerk-core",
    ),
    ("Clerk.HTTP", "put", "{http}: the typed `PUT` calls, e.g. `{op:UpsertTemplate}`", "clerk-api, clerk-core"),
    (
        "Clerk.HTTP",
        "put_form",
        "{http}: the typed uploads take a `clerk_api::FilePart`, e.g. `{op:UploadOrganizationLogo}`",
        "clerk-api, clerk-core",
    ),
    (
        "Clerk.Session",
        "generate_and_sign",
        "In tests: `clerk_testing::Emulator::session_token(user_id)?.mint()`, signed with the emulator's key and \
         verifiable against its JWKS; claims through the `TokenBuilder` (`.claim(..)`, `.organization(..)`, \
         `.lifetime(..)`)",
        "clerk-testing",
    ),
    (
        "Clerk.Session",
        "generate_and_sign!",
        "As `generate_and_sign`: `Emulator::session_token(user_id)?.mint()` (a `Result` instead of raising)",
        "clerk-testing",
    ),
    (
        "Clerk.Session",
        "verify_and_validate",
        "`clerk_core::Verifier::verify(token).await` → `SessionAuth` (signature, `exp`/`nbf` with clock skew, `azp` \
         against the authorized parties); the seed's `iss == https://{domain}` check is \
         `VerifierBuilder::issuer(IssuerCheck::Derived)`",
        "clerk-core",
    ),
    (
        "Clerk.Session",
        "verify_and_validate!",
        "As `verify_and_validate`: `Verifier::verify(token).await` (a `Result<SessionAuth, VerifyError>` instead of \
         raising)",
        "clerk-core",
    ),
    (
        "Clerk.Session.FetchingStrategy",
        "child_spec",
        "No process: the key cache lives in each `Verifier` (`VerifierBuilder::key_cache(KeyCacheConfig)`), and \
         `Verifier::spawn_key_refresh()` refreshes it ahead of expiry",
        "clerk-core",
    ),
    (
        "Clerk.Session.FetchingStrategy",
        "fetch_signers",
        "`Verifier::refresh_keys().await`: fetches now from the verifier's key source, `clerk_core::UrlJwks` (a \
         Frontend API JWKS URL, as the seed) or `clerk_core::BackendApiJwks` / `client.verifier()` (`GET /jwks`)",
        "clerk-core",
    ),
    (
        "Clerk.Session.FetchingStrategy",
        "init_opts",
        "`clerk_core::KeyCacheConfig` (`ttl`, `refresh_ahead`, `min_refresh_interval`, `stale_if_error`) and \
         `VerifierBuilder::retry(RetryPolicy)`",
        "clerk-core",
    ),
    (
        "Clerk.Session.FetchingStrategy.EtsCache",
        "check_state",
        "Internal to the per-verifier key cache: freshness follows `KeyCacheConfig` (`ttl`, `refresh_ahead`); \
         `Verifier::key_generation()` tells when the key set changed",
        "clerk-core",
    ),
    (
        "Clerk.Session.FetchingStrategy.EtsCache",
        "get_signers",
        "`Verifier::loaded_kids()`, for inspection (verification reads the cache itself)",
        "clerk-core",
    ),
    (
        "Clerk.Session.FetchingStrategy.EtsCache",
        "new",
        "Nothing to create: each `Verifier` owns its key cache, configured with \
         `VerifierBuilder::key_cache(KeyCacheConfig)`",
        "clerk-core",
    ),
    (
        "Clerk.Session.FetchingStrategy.EtsCache",
        "put_signers",
        "`Verifier::refresh_keys().await`: the cache is only filled by fetching (fixed keys: \
         `VerifierBuilder::jwks_json` or `jwt_key`)",
        "clerk-core",
    ),
    (
        "Clerk.Session.FetchingStrategy.EtsCache",
        "set_status",
        "Internal: an unknown `kid` triggers a refetch (at most once per `KeyCacheConfig::min_refresh_interval`); \
         `Verifier::refresh_keys().await` forces one",
        "clerk-core",
    ),
];

/// Where the seed was wrong (`true`: the Rust call follows the spec instead) or needs a word: `(module, function,
/// wrong, note)`. Every row whose CSV notes mention the Elixir implementation has one.
const NOTES: &[(&str, &str, bool, &str)] = &[
    (
        "Clerk.ActorToken",
        "create",
        true,
        "The seed merged a top-level `actor_id` string into the body, which the spec's schema \
         (`additionalProperties: false`) rejects; the Rust call takes the spec's `actor` object \
         (`{\"sub\": \"user_…\"}`).",
    ),
    ("Clerk.ActorToken", "revoke", true, "It left out `/revoke`; that path is in no spec."),
    (
        "Clerk.AllowList",
        "delete",
        false,
        "The seed's `identifier` argument is the entry's id (`identifier_id`), not the email address or phone number.",
    ),
    (
        "Clerk.Beta",
        "update_production_instance_domain",
        true,
        "The answer is `202 Accepted` without a body, which the seed's HTTP layer had no clause for; `send()` \
         answers `()`.",
    ),
    ("Clerk.Client", "verify", true, "That path is in no spec version."),
    (
        "Clerk.JWKS",
        "get",
        false,
        "Session verification does not need this call: a `clerk_core::Verifier` fetches its own keys (the seed used \
         the Frontend API JWKS, as `VerifierBuilder::domain` does; `client.verifier()` uses this endpoint).",
    ),
    (
        "Clerk.Miscellaneous",
        "interstitial_markup",
        true,
        "That path is in no spec, and the seed JSON-decoded the HTML page; `send()` answers the page as a `String`.",
    ),
    (
        "Clerk.Organization",
        "update_logo",
        true,
        "The seed sent the file as a plain text part without file name or content type; the `FilePart` argument \
         carries both.",
    ),
    (
        "Clerk.OrganizationMembership",
        "delete",
        true,
        "The seed forwarded its `params` as a query string; the spec defines no query parameters and none are sent.",
    ),
    (
        "Clerk.Session",
        "create_session_from_jwt_template",
        false,
        "The path parameter is the template's name, not its id; the optional body field `expires_in_seconds` is a \
         setter.",
    ),
    ("Clerk.Template", "get", false, "The seed's `id` argument is the template's `slug`."),
    (
        "Clerk.Webhook",
        "create",
        true,
        "The seed sent its `params` as a JSON body; the spec defines no body and none is sent.",
    ),
    (
        "Clerk.Webhook",
        "delete",
        true,
        "That path is in no spec: there is one Svix app per instance, so the Rust call takes no id.",
    ),
];

/// One CSV row.
struct Row {
    /// `module`.
    module: String,
    /// `function`.
    function: String,
    /// `elixir_signature`.
    signature: String,
    /// `http_method`, `-` for none.
    http: String,
    /// `path`, `-` for none.
    path: String,
    /// `operationId`, `-` for none.
    op: String,
    /// `required_params`.
    required: String,
    /// `in_2026-05-12_spec`.
    in_spec: String,
    /// `notes`.
    notes: String,
}

/// Parses CSV (RFC 4180: quoted fields, `""` escapes, CRLF or LF).
fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err("an unterminated quoted field".to_owned());
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

/// Reads the CSV's rows, checking its columns.
fn rows(text: &str) -> Result<Vec<Row>, String> {
    let mut records = parse_csv(text)?.into_iter();
    let header = records.next().ok_or("the CSV is empty")?;
    if header != COLUMNS {
        return Err(format!("the CSV's columns are {header:?}, expected {COLUMNS:?}"));
    }
    records
        .enumerate()
        .map(|(i, r)| {
            let [module, function, signature, http, path, op, _kind, required, in_spec, notes]: [String; 10] =
                r.try_into().map_err(|r: Vec<String>| format!("line {}: {} fields, expected 10", i + 2, r.len()))?;
            Ok(Row { module, function, signature, http, path, op, required, in_spec, notes })
        })
        .collect()
}

/// A markdown table cell: pipes escaped, on one line.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Replaces `{op:<operationId>}` by the operation's call and `{http}` by [`HTTP_REF`].
fn expand(text: &str, calls: &[Call]) -> Result<String, String> {
    let mut out = text.replace("{http}", HTTP_REF);
    while let Some(start) = out.find("{op:") {
        let end = start + out[start..].find('}').ok_or("an unterminated `{op:` placeholder")?;
        let id = &out[start + 4..end];
        let call = calls.iter().find(|c| c.id == id).ok_or_else(|| format!("`{{op:{id}}}` names no operation"))?;
        out = format!("{}{}{}", &out[..start], call.rust(), &out[end + 1..]);
    }
    Ok(out)
}

/// Checks a row's required parameters (`path:a,b; body:c`, `body[]:c,d`) against the call's arguments: path
/// parameters are the first arguments, in order; each body field is an argument (`body[]` is the `items` list).
fn check_required(row: &Row, call: &Call) -> Result<(), String> {
    let at = format!("{}.{} ({})", row.module, row.function, call.id);
    let mut expected: Vec<String> = Vec::new();
    let mut path_count = 0;
    for part in row.required.split(';').map(str::trim).filter(|p| !p.is_empty() && *p != "-") {
        let (kind, names) = part.split_once(':').ok_or_else(|| format!("{at}: cannot read `{part}`"))?;
        let names = names.split(',').map(str::trim).filter(|n| !n.is_empty());
        match kind.trim() {
            "path" => {
                for n in names {
                    if call.args.get(path_count).map(String::as_str) != Some(n) {
                        return Err(format!("{at}: the CSV's path parameter `{n}` is not argument {path_count}"));
                    }
                    path_count += 1;
                }
            }
            "body" => expected.extend(names.map(str::to_owned)),
            "body[]" => expected.push("items".to_owned()),
            other => return Err(format!("{at}: unknown parameter kind `{other}`")),
        }
    }
    for n in &expected {
        if !call.args.contains(n) {
            return Err(format!("{at}: the CSV's required `{n}` is not an argument of `{}`", call.rust()));
        }
    }
    Ok(())
}

/// Generates `docs/seed-mapping.md` (`root` is the workspace root).
pub(crate) fn generate(root: &Path, spec_name: &str, calls: &[Call]) -> Result<String, String> {
    let path = root.join(CSV);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("codegen: cannot read the seed CSV {}: {e}", path.display()))?;
    let rows = rows(&text).map_err(|e| format!("codegen: {}: {e}", path.display()))?;
    let csv_name = path.file_name().map_or_else(|| CSV.to_owned(), |n| n.to_string_lossy().into_owned());
    render(&rows, &csv_name, spec_name, calls).map_err(|e| format!("codegen: {OUTPUT}: {e}"))
}

/// Renders the file.
fn render(rows: &[Row], csv_name: &str, spec_name: &str, calls: &[Call]) -> Result<String, String> {
    let mut used_local = BTreeSet::new();
    let mut used_notes = BTreeSet::new();
    let mut table = String::new();
    let mut wrong = String::new();
    let (mut api_rows, mut local_rows) = (0, 0);
    let mut modules = BTreeSet::new();
    for row in rows {
        let key = (row.module.as_str(), row.function.as_str());
        let name = format!("{}.{}", row.module, row.function);
        modules.insert(row.module.as_str());
        let local = LOCAL.iter().find(|(m, f, _, _)| (*m, *f) == key);
        let note = NOTES.iter().find(|(m, f, _, _)| (*m, *f) == key);
        if local.is_some() {
            used_local.insert(key);
        }
        if note.is_some() {
            used_notes.insert(key);
        }
        let call = if row.op == "-" {
            None
        } else {
            let call = calls
                .iter()
                .find(|c| c.id == row.op)
                .ok_or_else(|| format!("{name}: the CSV's operation `{}` is not in the spec", row.op))?;
            if (call.http.as_str(), call.path.as_str()) != (row.http.as_str(), row.path.as_str()) {
                return Err(format!(
                    "{name}: the CSV says `{} {}`, the spec's `{}` is `{} {}`",
                    row.http, row.path, call.id, call.http, call.path
                ));
            }
            check_required(row, call)?;
            Some(call)
        };
        let mentions_elixir = row.notes.contains("Elixir") || row.notes.contains("ELIXIR");
        if mentions_elixir && note.is_none() {
            return Err(format!("{name}: the CSV's notes mention the Elixir implementation: add a note to NOTES"));
        }
        if row.notes.contains("ELIXIR_ACTUAL") && !note.is_some_and(|n| n.2) {
            return Err(format!("{name}: the CSV records what the seed sent (ELIXIR_ACTUAL): mark its note wrong"));
        }

        let (rust, via) = match (call, local) {
            (_, Some((_, _, rust, crates))) => {
                let via = match call {
                    Some(c) => format!("{crates}; `{} {}`", c.http, c.path),
                    None => (*crates).to_owned(),
                };
                local_rows += 1;
                (expand(rust, calls)?, via)
            }
            (Some(c), None) => {
                api_rows += 1;
                (format!("`{}` → `{}`", c.rust(), c.answer), format!("`{} {}`", c.http, c.path))
            }
            (None, None) => {
                return Err(format!("{name} is no Backend API call (no operationId): add its equivalent to LOCAL"));
            }
        };
        // What the seed sent, when the CSV records it, then the note.
        let seed_did = note.map(|(_, _, _, text)| {
            match row.notes.split("[ELIXIR_ACTUAL: ").nth(1).and_then(|s| s.split(']').next()) {
                Some(actual) => format!("It sent `{actual}`. {text}"),
                None => (*text).to_owned(),
            }
        });
        let mut notes: Vec<String> = Vec::new();
        match (note, &seed_did) {
            (Some((_, _, true, _)), Some(did)) => notes.push(format!("**Seed bug:** {did}")),
            (_, Some(did)) => notes.push(did.clone()),
            _ => {}
        }
        if let Some(change) = row.in_spec.strip_prefix("yes (changed: ").and_then(|s| s.strip_suffix(')')) {
            notes.push(format!("Changed in the 2026-05-12 spec: {change}."));
        }
        if let Some(dep) = call.and_then(|c| c.deprecated.as_deref()) {
            let dep = dep.trim_end_matches('.');
            notes.push(if dep.to_ascii_lowercase().starts_with("deprecated") {
                format!("D{}.", &dep[1..])
            } else {
                format!("Deprecated: {dep}.")
            });
        }
        let _ = writeln!(
            table,
            "| `{}` | `{}` | `{}` | {} | {} | {} |",
            cell(&row.module),
            cell(&row.function),
            cell(&row.signature),
            cell(&rust),
            cell(&via),
            cell(&notes.join(" "))
        );
        if let (Some((_, _, true, _)), Some(did), Some(c)) = (note, &seed_did, call) {
            let _ = writeln!(wrong, "| `{name}` | {} | `{}` (`{} {}`) |", cell(did), cell(&c.rust()), c.http, c.path);
        }
    }
    for (m, f, _, _) in LOCAL {
        if !used_local.contains(&(*m, *f)) {
            return Err(format!("LOCAL has `{m}.{f}`, which is not a row of the CSV"));
        }
    }
    for (m, f, _, _) in NOTES {
        if !used_notes.contains(&(*m, *f)) {
            return Err(format!("NOTES has `{m}.{f}`, which is not a row of the CSV"));
        }
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!-- @generated by `cargo xtask codegen` from {csv_name} and {spec_name} (xtask/src/seed_mapping.rs) — do not edit. -->\n"
    );
    out.push_str("# The Elixir seed, function by function, in Rust\n\n");
    let _ = writeln!(
        out,
        "Every public function of the Elixir seed SDK ({} functions in {} modules, from \
         `../shared/reference/{csv_name}`) and the Rust call that replaces it: {api_rows} are Backend API calls of \
         `clerk-api`, {local_rows} are something else (the supervisor, the plug, the HTTP layer, local session-token \
         verification and signing, the JWKS fetching strategy and its cache) and map to a hand-chosen equivalent.\n",
        rows.len(),
        modules.len()
    );
    out.push_str(
        "- **Backend API calls** are builders on a `clerk_api::Client` (`Client::from_env()?.build()?`): the required \
         parameters are the method's arguments, as shown; optional parameters are setters; `.send().await` sends the \
         request and answers the type after `→` (lists answer a `Page`; those with `limit`/`offset` also \
         `.paginate()`, which streams every item). The \
         call, its answer and the HTTP method and path are the spec's and the generated client's (`OPERATIONS`), so \
         they follow the spec where the seed did not.\n",
    );
    out.push_str(
        "- **The other rows** name the `clerk-core`, `clerk-api` or `clerk-testing` items that do the same job. The \
         plug's replacement is the framework middleware of `clerk-axum` and `clerk-actix`, over `clerk_core::Authenticator`.\n",
    );
    out.push_str(
        "- This file is generated by `cargo xtask codegen` from the CSV, the spec and the generated client (the \
         hand-written equivalents live in `xtask/src/seed_mapping.rs`); `cargo xtask codegen --check` fails when it \
         is stale. The generator also checks the CSV against the spec: method, path and required parameters.\n\n",
    );
    out.push_str("| Module | Function | Elixir signature | Rust | HTTP (spec) / crate | Notes |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    out.push_str(&table);
    out.push_str("\n## The HTTP layer\n\n");
    out.push_str(HTTP);
    out.push_str("\n\n## Where the seed was wrong\n\n");
    out.push_str("The seed's implementation disagrees with the spec here; the Rust call does what the spec says.\n\n");
    out.push_str("| Seed function | What the seed did | Rust (the spec) |\n|---|---|---|\n");
    out.push_str(&wrong);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse_csv;

    #[test]
    fn csv() {
        let rows = parse_csv("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\r\n").unwrap_or_default();
        assert_eq!(rows, [vec!["a", "b", "c"], vec!["x, y", "say \"hi\"", ""]]);
    }
}
