//! Every example in the spec's response schemas deserialises into its generated type.
//!
//! The spec is read at test time (it is never copied into the repository). Every `example`/`examples` keyword is
//! found by walking it, and each one that describes (part of) a response body is decoded with the generated
//! decode-by-name functions (`clerk_api::__decode_model`, `__decode_response`, `__decode_field`):
//!
//! - on a component schema: into that schema's model; on a property of one: into that field of the model (nested
//!   inline objects are followed through the generated type graph, `__field_type`);
//! - in `components/responses/*/content/*` and in every operation's `responses/*/content/*`: into the model a
//!   `$ref` names, or, for an inline schema, into the operation's generated answer type (and its fields).
//!
//! Property examples are checked one by one against their field: no object is assembled from them (that would
//! invent the missing data). Examples the walk cannot tie to a generated type are skipped and counted with the
//! reason; every example keyword of the spec must be either reached by the walk or sit in a parameter or a request
//! body (out of scope), so that nothing is silently left out. An example that contradicts the spec's own schema goes
//! in [`ALLOWED`] with the reason; a failure anywhere else is a generator bug.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml::Value as Yaml;

/// The spec, outside the repository.
const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/clerk-spec/bapi-2026-05-12.yml");

/// Examples (JSON pointer of the example value) that contradict the spec's own schema, with the reason. Empty:
/// every example the spec gives for a response body fits its schema and the generated type.
const ALLOWED: &[(&str, &str)] = &[];

/// The fewest decode checks that must pass, so that the test cannot pass vacuously.
const MIN_CHECKED: usize = 180;

/// The HTTP methods a path item may hold.
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// What an example is decoded into.
#[derive(Clone, Copy)]
enum Target<'t> {
    /// A component schema's model.
    Model(&'t str),
    /// An operation's answer (what its builder's `send()` decodes).
    Response(&'t str),
    /// A field (wire name) of a generated response-side struct.
    Field(&'t str, &'t str),
    /// Nothing: skipped, for this reason.
    Skip(&'static str),
}

/// Where the walk is inside a schema: the generated type holding its properties, or why there is none.
type Holder = Result<&'static str, &'static str>;

/// The tallies.
#[derive(Default)]
struct Run {
    /// Example keywords reached (`…/example`, `…/examples`), as JSON pointers.
    keywords: BTreeSet<String>,
    /// Examples reached, as JSON pointers of the values.
    examples: BTreeSet<String>,
    /// Examples found, by source.
    found: BTreeMap<&'static str, usize>,
    /// Decode checks passed, by source (one example can be checked against more than one type).
    decoded: BTreeMap<&'static str, usize>,
    /// Examples skipped, by reason.
    skipped: BTreeMap<&'static str, usize>,
    /// Allow-listed failures met.
    allowed: BTreeSet<&'static str>,
    /// Failures.
    failures: Vec<String>,
}

/// Escapes a JSON pointer token.
fn esc(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Follows a local `$ref`.
fn pointer<'d>(doc: &'d Yaml, reference: &str) -> Option<&'d Yaml> {
    let mut v = doc;
    for token in reference.strip_prefix("#/")?.split('/') {
        let token = token.replace("~1", "/").replace("~0", "~");
        v = match v {
            Yaml::Mapping(m) => m.get(token.as_str())?,
            Yaml::Sequence(s) => s.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

/// The `$ref` of a node, if it is one.
fn reference(v: &Yaml) -> Option<&str> {
    v.get("$ref").and_then(Yaml::as_str)
}

/// The entries of a mapping, string keys only.
fn entries(v: Option<&Yaml>) -> impl Iterator<Item = (&str, &Yaml)> {
    v.and_then(Yaml::as_mapping).into_iter().flatten().filter_map(|(k, v)| Some((k.as_str()?, v)))
}

/// The lowest 2xx status of an operation's responses: the one its builder decodes.
fn success_status(op: &Yaml) -> Option<String> {
    let mut best: Option<(u16, String)> = None;
    for (status, _) in op.get("responses").and_then(Yaml::as_mapping).into_iter().flatten() {
        let text = match status {
            Yaml::String(s) => s.clone(),
            Yaml::Number(n) => n.to_string(),
            _ => continue,
        };
        if let Ok(code) = text.parse::<u16>()
            && (200..300).contains(&code)
            && best.as_ref().is_none_or(|(b, _)| code < *b)
        {
            best = Some((code, text));
        }
    }
    best.map(|(_, text)| text)
}

/// Every operation: `(path, method, operation)`.
fn operations(doc: &Yaml) -> Vec<(&str, &str, &Yaml)> {
    let mut out = Vec::new();
    for (path, item) in entries(doc.get("paths")) {
        for (method, op) in entries(Some(item)) {
            if METHODS.contains(&method) {
                out.push((path, method, op));
            }
        }
    }
    out
}

impl Run {
    /// The examples of a schema or media-type object: `example`, `examples` as a list (JSON Schema) or as a map of
    /// Example objects (media type, `$ref`s to `components/examples` followed).
    fn examples_of<'d>(&mut self, doc: &'d Yaml, node: &'d Yaml, at: &str) -> Vec<(String, &'d Yaml)> {
        let mut out = Vec::new();
        if let Some(v) = node.get("example") {
            self.keywords.insert(format!("{at}/example"));
            out.push((format!("{at}/example"), v));
        }
        match node.get("examples") {
            Some(Yaml::Sequence(list)) => {
                self.keywords.insert(format!("{at}/examples"));
                out.extend(list.iter().enumerate().map(|(i, v)| (format!("{at}/examples/{i}"), v)));
            }
            Some(Yaml::Mapping(map)) => {
                self.keywords.insert(format!("{at}/examples"));
                for (name, ex) in map {
                    let name = esc(name.as_str().unwrap_or_default());
                    let ex = match reference(ex) {
                        Some(r) => pointer(doc, r).unwrap_or(ex),
                        None => ex,
                    };
                    match ex.get("value") {
                        Some(v) => out.push((format!("{at}/examples/{name}/value"), v)),
                        None => self.skip(&format!("{at}/examples/{name}"), "an external example (`externalValue`)"),
                    }
                }
            }
            Some(_) => self.failures.push(format!("{at}/examples: neither a list nor a map")),
            None => {}
        }
        out
    }

    /// Counts an example as found (once per example, whatever the number of checks).
    fn found(&mut self, source: &'static str, at: &str) {
        if self.examples.insert(at.to_owned()) {
            *self.found.entry(source).or_default() += 1;
        }
    }

    /// Counts an example as skipped.
    fn skip(&mut self, at: &str, reason: &'static str) {
        if self.examples.insert(at.to_owned()) {
            *self.skipped.entry(reason).or_default() += 1;
        }
    }

    /// Checks one example against its target.
    fn check(&mut self, source: &'static str, at: &str, value: &Yaml, target: Target<'_>) {
        let json = match serde_json::to_string(value) {
            Ok(json) => json,
            Err(e) => {
                self.failures.push(format!("{at}: the example is not JSON: {e}"));
                return;
            }
        };
        let (result, what) = match target {
            Target::Model(schema) => (clerk_api::__decode_model(schema, &json), format!("the model of `{schema}`")),
            Target::Response(op) => match clerk_api::__decode_response(op, &json) {
                Some(r) => (Some(r), format!("the answer of `{op}`")),
                None => return self.skip(at, "the operation does not answer JSON"),
            },
            Target::Field(ty, field) => (clerk_api::__decode_field(ty, field, &json), format!("`{ty}.{field}`")),
            Target::Skip(reason) => return self.skip(at, reason),
        };
        self.found(source, at);
        match result {
            Some(Ok(())) => *self.decoded.entry(source).or_default() += 1,
            Some(Err(e)) => match ALLOWED.iter().find(|(p, _)| *p == at) {
                Some((p, _)) => {
                    self.allowed.insert(p);
                }
                None => self.failures.push(format!("{at}: {json} does not decode into {what}: {e}")),
            },
            None => self.failures.push(format!("{at}: no generated type for {what}")),
        }
    }

    /// Walks a schema whose properties live in `holder`: each property's examples are checked against its field,
    /// nested inline objects are followed. `$ref`s are not followed (component schemas are walked on their own).
    fn walk(&mut self, doc: &Yaml, source: &'static str, schema: &Yaml, at: &str, holder: Holder) {
        for (name, prop) in entries(schema.get("properties")) {
            let p = format!("{at}/properties/{}", esc(name));
            let target = match holder {
                Ok(ty) => Target::Field(ty, name),
                Err(reason) => Target::Skip(reason),
            };
            for (ex_at, value) in self.examples_of(doc, prop, &p) {
                self.check(source, &ex_at, value, target);
            }
            if reference(prop).is_some() {
                continue;
            }
            let child = holder.and_then(|ty| {
                clerk_api::__field_type(ty, name).ok_or("inside a field that holds no generated struct")
            });
            self.walk(doc, source, prop, &p, child);
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            for (i, sub) in schema.get(key).and_then(Yaml::as_sequence).into_iter().flatten().enumerate() {
                let p = format!("{at}/{key}/{i}");
                for (ex_at, _) in self.examples_of(doc, sub, &p) {
                    self.skip(&ex_at, "on an allOf/oneOf/anyOf member (no single generated type)");
                }
                if reference(sub).is_none() {
                    // Inline members' properties are fields of the same (merged) struct.
                    self.walk(doc, source, sub, &p, holder);
                }
            }
        }
        for key in ["items", "additionalProperties"] {
            let Some(sub) = schema.get(key).filter(|s| s.is_mapping()) else { continue };
            let p = format!("{at}/{key}");
            for (ex_at, _) in self.examples_of(doc, sub, &p) {
                self.skip(&ex_at, "on array items or map values (no single generated type)");
            }
            if reference(sub).is_none() {
                self.walk(doc, source, sub, &p, holder);
            }
        }
    }

    /// Walks an operation's inline answer schema with its generated answer type (a `Page` envelope unwrapped).
    fn walk_answer(&mut self, doc: &Yaml, source: &'static str, schema: &Yaml, at: &str, op: &str) {
        let Some((ty, page)) = clerk_api::__response_type(op) else {
            return self.walk(doc, source, schema, at, Err("the operation's answer holds no generated struct"));
        };
        if !page {
            return self.walk(doc, source, schema, at, Ok(ty));
        }
        if let Some(items) = schema.get("items") {
            for (ex_at, _) in self.examples_of(doc, items, &format!("{at}/items")) {
                self.skip(&ex_at, "on a list item schema (no single generated type)");
            }
            if reference(items).is_none() {
                self.walk(doc, source, items, &format!("{at}/items"), Ok(ty));
            }
            return;
        }
        for (name, prop) in entries(schema.get("properties")) {
            let p = format!("{at}/properties/{}", esc(name));
            for (ex_at, _) in self.examples_of(doc, prop, &p) {
                self.skip(&ex_at, "on the `data`/`total_count` envelope of a list");
            }
            if let Some(items) = prop.get("items") {
                let p = format!("{p}/items");
                for (ex_at, _) in self.examples_of(doc, items, &p) {
                    self.skip(&ex_at, "on a list item schema (no single generated type)");
                }
                if reference(items).is_none() {
                    self.walk(doc, source, items, &p, Ok(ty));
                }
            }
        }
    }

    /// One response object: media-type examples, schema-level examples and the examples inside an inline schema.
    /// `ops` are the operations answering with it (their lowest 2xx); empty: `why` none.
    fn response(&mut self, doc: &Yaml, source: &'static str, resp: &Yaml, at: &str, ops: &[&str], why: &'static str) {
        for (ct, media) in entries(resp.get("content")) {
            let p = format!("{at}/content/{}", esc(ct));
            let schema = media.get("schema");
            let model = schema.and_then(reference).and_then(|r| r.strip_prefix("#/components/schemas/"));
            let mut examples = self.examples_of(doc, media, &p);
            if let Some(schema) = schema {
                examples.extend(self.examples_of(doc, schema, &format!("{p}/schema")));
            }
            for (ex_at, value) in &examples {
                match (model, schema, ops) {
                    (Some(model), _, _) => self.check(source, ex_at, value, Target::Model(model)),
                    (None, Some(_), [_, ..]) => {
                        for op in ops {
                            self.check(source, ex_at, value, Target::Response(op));
                        }
                    }
                    (None, Some(_), []) => self.check(source, ex_at, value, Target::Skip(why)),
                    (None, None, _) => self.check(source, ex_at, value, Target::Skip("no schema")),
                }
            }
            let Some(schema) = schema.filter(|s| reference(s).is_none()) else { continue };
            if ops.is_empty() {
                self.walk(doc, source, schema, &format!("{p}/schema"), Err(why));
            }
            for op in ops {
                self.walk_answer(doc, source, schema, &format!("{p}/schema"), op);
            }
        }
    }
}

/// Every `example`/`examples` keyword of the spec (not a property of that name, not inside an example value).
fn all_keywords(v: &Yaml, at: &str, out: &mut BTreeSet<String>) {
    match v {
        Yaml::Mapping(m) => {
            for (k, child) in m {
                let Some(k) = k.as_str() else { continue };
                let p = format!("{at}/{}", esc(k));
                if k == "example" || k == "examples" {
                    out.insert(p);
                    continue;
                }
                if k == "properties" {
                    for (name, prop) in entries(Some(child)) {
                        all_keywords(prop, &format!("{p}/{}", esc(name)), out);
                    }
                    continue;
                }
                all_keywords(child, &p, out);
            }
        }
        Yaml::Sequence(s) => {
            for (i, child) in s.iter().enumerate() {
                all_keywords(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Whether an example keyword sits in a parameter or a request body (not a response body: out of scope).
fn out_of_scope(at: &str) -> bool {
    at.contains("/parameters/")
        || at.contains("/requestBody/")
        || at.starts_with("/components/parameters/")
        || at.starts_with("/components/requestBodies/")
        || at.starts_with("/components/headers/")
        || (at.contains("/responses/") && at.contains("/headers/"))
}

#[test]
fn every_response_example_decodes_into_its_model() {
    let text = std::fs::read_to_string(SPEC).unwrap_or_else(|e| panic!("cannot read the spec at {SPEC}: {e}"));
    let doc: Yaml = serde_yaml::from_str(&text).expect("the spec parses");
    let mut run = Run::default();

    // Component schemas, their properties and the inline objects nested in them.
    for (name, schema) in entries(doc.get("components").and_then(|c| c.get("schemas"))) {
        let at = format!("/components/schemas/{}", esc(name));
        for (ex_at, value) in run.examples_of(&doc, schema, &at) {
            run.check("components.schemas", &ex_at, value, Target::Model(name));
        }
        if reference(schema).is_none() {
            let holder = clerk_api::__model_type(name).ok_or("the schema holds no generated struct");
            run.walk(&doc, "components.schemas", schema, &at, holder);
        }
    }

    // Which operations answer (lowest 2xx) with each component response.
    let mut answering: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (_, _, op) in operations(&doc) {
        let (Some(id), Some(status)) = (op.get("operationId").and_then(Yaml::as_str), success_status(op)) else {
            continue;
        };
        let resp = op.get("responses").and_then(|r| r.get(status.as_str()));
        if let Some(name) = resp.and_then(reference).and_then(|r| r.strip_prefix("#/components/responses/")) {
            answering.entry(name).or_default().push(id);
        }
    }

    // Component responses.
    for (name, resp) in entries(doc.get("components").and_then(|c| c.get("responses"))) {
        let at = format!("/components/responses/{}", esc(name));
        let ops = answering.get(name).map_or(&[][..], Vec::as_slice);
        let why = "an inline schema of a component response no operation answers with: no generated type";
        run.response(&doc, "components.responses", resp, &at, ops, why);
    }

    // Every operation's own (inline) responses; `$ref`'d ones are the component responses above.
    for (path, method, op) in operations(&doc) {
        let id = op.get("operationId").and_then(Yaml::as_str).expect("every operation has an operationId");
        let success = success_status(op);
        for (status, resp) in op.get("responses").and_then(Yaml::as_mapping).into_iter().flatten() {
            let status = match status {
                Yaml::String(s) => s.clone(),
                Yaml::Number(n) => n.to_string(),
                _ => continue,
            };
            if reference(resp).is_some() {
                continue;
            }
            let at = format!("/paths/{}/{method}/responses/{status}", esc(path));
            let is_success = success.as_deref() == Some(status.as_str());
            let why = if status.starts_with('2') {
                "an inline schema of a 2xx answer the builder does not decode (not the lowest 2xx): no generated type"
            } else {
                "an inline schema of an error answer: no generated type (errors decode into `clerk_api::ClerkError`)"
            };
            let ops: Vec<&str> = if is_success { vec![id] } else { Vec::new() };
            run.response(&doc, "paths.*.responses", resp, &at, &ops, why);
        }
    }

    // Every example keyword of the spec was reached, or is out of scope.
    let mut every = BTreeSet::new();
    all_keywords(&doc, "", &mut every);
    let mut out_of_scope_count = 0;
    for at in every.difference(&run.keywords) {
        if out_of_scope(at) {
            out_of_scope_count += 1;
        } else {
            run.failures.push(format!("{at}: an example the walk did not reach"));
        }
    }
    for (at, reason) in ALLOWED {
        if !run.allowed.contains(at) {
            run.failures.push(format!("{at}: allow-listed ({reason}) but it decodes now, or was not found"));
        }
    }

    let found: usize = run.found.values().sum();
    let checked: usize = run.decoded.values().sum();
    let skipped: usize = run.skipped.values().sum();
    println!("spec examples ({SPEC}):");
    println!("  example keywords in the spec: {}", every.len());
    println!("  out of scope (parameters, request bodies): {out_of_scope_count} keywords");
    println!("  response-body examples checked against a generated type: {found}");
    for (source, n) in &run.found {
        println!("    from {source}: {n} found, {} decode checks passed", run.decoded.get(source).unwrap_or(&0));
    }
    println!("  allow-listed (the example contradicts the spec's schema): {}", run.allowed.len());
    println!("  skipped: {skipped}");
    for (reason, n) in &run.skipped {
        println!("    {n}: {reason}");
    }
    assert!(run.failures.is_empty(), "{} example(s) fail:\n{}", run.failures.len(), run.failures.join("\n"));
    assert!(checked >= MIN_CHECKED, "only {checked} decode checks passed (expected at least {MIN_CHECKED})");
}
