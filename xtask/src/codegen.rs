//! `cargo xtask codegen`: generates `crates/clerk-testing/src/generated/operations.rs` — the Backend API operation
//! table and the component schemas it references — and, through [`crate::codegen_api`], the typed client surface in
//! `crates/clerk-api/src/generated/`, from Clerk's OpenAPI spec; through [`crate::seed_mapping`], `docs/seed-mapping.md`
//! (the seed's functions and their Rust replacements, from `<root>/../shared/reference/seed-endpoints.csv`); through
//! [`crate::codegen_webhooks`], `crates/clerk-webhooks/src/generated/` from the webhooks spec beside that spec.
//!
//! The spec lives outside the repository (`<root>/../shared/clerk-spec/bapi-2026-05-12.yml` by default; `--spec PATH`
//! overrides it) and is never copied in. `--check` regenerates in memory and fails if a committed file differs (or a stale one remains).
//!
//! Schemas are emitted as compact JSON with object keys sorted, and with annotations (`description`, `example(s)`,
//! `title`, `externalDocs`, `deprecated`, `x-*`) stripped at schema level only: the keys of a `properties` map are
//! field names and are always kept. Schema `$ref`s stay as references into `SCHEMAS`; parameter, request body and
//! response `$ref`s are resolved inline.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

/// The default spec, relative to the workspace root.
const DEFAULT_SPEC: &str = "../shared/clerk-spec/bapi-2026-05-12.yml";
/// The generated file, relative to the workspace root.
const OUTPUT: &str = "crates/clerk-testing/src/generated/operations.rs";
/// The HTTP methods a path item may hold.
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
/// The prefix of a component schema reference.
const SCHEMA_PREFIX: &str = "#/components/schemas/";
/// Schema-object keys that only annotate and are not needed for validation.
const ANNOTATIONS: [&str; 6] = ["description", "example", "examples", "title", "externalDocs", "deprecated"];
/// How many `$ref` hops to follow before giving up (cycle guard).
const MAX_REF_DEPTH: usize = 32;

/// Runs `cargo xtask codegen [--check] [--spec PATH]`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut check = false;
    let mut spec: Option<PathBuf> = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--spec" => {
                let path = args.next().ok_or("codegen: `--spec` needs a path")?;
                spec = Some(PathBuf::from(path));
            }
            other => match other.strip_prefix("--spec=") {
                Some(path) => spec = Some(PathBuf::from(path)),
                None => {
                    return Err(format!("codegen: unknown argument `{other}` (expected `--check` or `--spec PATH`)"));
                }
            },
        }
    }
    let root = workspace_root()?;
    let spec = spec.unwrap_or_else(|| root.join(DEFAULT_SPEC));
    let (doc, file_name) = read_spec(&spec)?;

    let testing = Gen::new(&doc)?.generate(&file_name)?;
    let api = crate::codegen_api::generate(&doc, &file_name, &root)?;
    let seed = crate::seed_mapping::generate(&root, &file_name, &api.calls)?;
    // The webhooks spec is read from the Backend API spec's directory.
    let (webhooks_doc, webhooks_file) = read_spec(&spec.with_file_name(crate::codegen_webhooks::SPEC_FILE))?;
    let webhooks = crate::codegen_webhooks::generate(&webhooks_doc, &webhooks_file, &root)?;
    let api_dir = root.join(crate::codegen_api::OUTPUT_DIR);
    let mut outputs: Vec<(String, &str)> = vec![(OUTPUT.to_owned(), testing.text.as_str())];
    for (name, text) in &api.files {
        outputs.push((format!("{}/{name}", crate::codegen_api::OUTPUT_DIR), text.as_str()));
    }
    for (name, text) in &webhooks.files {
        outputs.push((format!("{}/{name}", crate::codegen_webhooks::OUTPUT_DIR), text.as_str()));
    }
    outputs.push((crate::seed_mapping::OUTPUT.to_owned(), seed.as_str()));
    // Files of the generated directories that the generators no longer write.
    let mut stale = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&api_dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".rs") && !api.files.iter().any(|(n, _)| *n == name) {
                stale.push(format!("{}/{name}", crate::codegen_api::OUTPUT_DIR));
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(root.join(crate::codegen_webhooks::OUTPUT_DIR)) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".rs") && !webhooks.files.iter().any(|(n, _)| *n == name) {
                stale.push(format!("{}/{name}", crate::codegen_webhooks::OUTPUT_DIR));
            }
        }
    }
    stale.sort();
    let changed: Vec<&(String, &str)> = outputs
        .iter()
        .filter(|(path, text)| std::fs::read_to_string(root.join(path)).ok().as_deref() != Some(*text))
        .collect();

    if check {
        if !changed.is_empty() || !stale.is_empty() {
            let list: Vec<&str> =
                changed.iter().map(|(p, _)| p.as_str()).chain(stale.iter().map(String::as_str)).collect();
            return Err(format!(
                "generated code is out of date: run `cargo xtask codegen` ({} differ from {})",
                list.join(", "),
                spec.display()
            ));
        }
        println!("codegen: {OUTPUT} is up to date ({})", testing.summary());
        println!("codegen: {}/ is up to date ({})", crate::codegen_api::OUTPUT_DIR, api.summary());
        println!("codegen: {}/ is up to date ({})", crate::codegen_webhooks::OUTPUT_DIR, webhooks.summary());
        println!("codegen: {} is up to date", crate::seed_mapping::OUTPUT);
        return Ok(());
    }
    for (path, text) in &changed {
        let path = root.join(path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("codegen: cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("codegen: cannot write {}: {e}", path.display()))?;
    }
    for path in &stale {
        std::fs::remove_file(root.join(path)).map_err(|e| format!("codegen: cannot remove {path}: {e}"))?;
    }
    println!("codegen: {OUTPUT} ({})", testing.summary());
    println!("codegen: {}/ ({})", crate::codegen_api::OUTPUT_DIR, api.summary());
    println!("codegen: {}/ ({})", crate::codegen_webhooks::OUTPUT_DIR, webhooks.summary());
    for field in &webhooks.demoted {
        println!("codegen:   optional (the spec's examples omit it): {field}");
    }
    println!("codegen: {} ({} bytes)", crate::seed_mapping::OUTPUT, seed.len());
    for place in &api.json_values {
        println!("codegen:   as `serde_json::Value`: {place}");
    }
    println!("codegen: {} file(s) written, {} removed", changed.len(), stale.len());
    Ok(())
}

/// `--check` for `cargo xtask ci`: fails when the committed file is stale.
pub(crate) fn check() -> Result<(), String> {
    run(&["--check".to_owned()])
}

/// The workspace root: the parent of the xtask manifest directory.
fn workspace_root() -> Result<PathBuf, String> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| "codegen: the xtask manifest directory has no parent".to_owned())
}

/// The generated file and what it holds.
struct Generated {
    /// The file contents.
    text: String,
    /// How many operations it lists.
    operations: usize,
    /// How many component schemas it lists.
    schemas: usize,
}

impl Generated {
    /// A one-line summary.
    fn summary(&self) -> String {
        format!("{} operations, {} schemas, {} bytes", self.operations, self.schemas, self.text.len())
    }
}

/// Reads and parses the spec; answers it with its file name.
fn read_spec(spec: &Path) -> Result<(Yaml, String), String> {
    let text =
        std::fs::read_to_string(spec).map_err(|e| format!("codegen: cannot read spec {}: {e}", spec.display()))?;
    let doc: Yaml =
        serde_yaml::from_str(&text).map_err(|e| format!("codegen: cannot parse spec {}: {e}", spec.display()))?;
    let file_name = spec.file_name().map_or_else(|| spec.display().to_string(), |n| n.to_string_lossy().into_owned());
    Ok((doc, file_name))
}

/// Where a parameter lives (mirrors `clerk_testing::spec::Location`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Location {
    /// `in: path`.
    Path,
    /// `in: query`.
    Query,
    /// `in: header`.
    Header,
}

impl Location {
    /// The Rust expression for this location.
    fn rust(self) -> &'static str {
        match self {
            Self::Path => "Location::Path",
            Self::Query => "Location::Query",
            Self::Header => "Location::Header",
        }
    }
}

/// One parameter.
struct ParamOut {
    /// Its name.
    name: String,
    /// Where it lives.
    location: Location,
    /// Whether it is required.
    required: bool,
    /// Its schema, compact JSON.
    schema: String,
}

/// The request body.
enum BodyOut {
    /// No body.
    None,
    /// `application/json`.
    Json { required: bool, schema: String },
    /// `multipart/form-data`.
    Multipart { required: bool, schema: String },
}

/// One response.
struct ResponseOut {
    /// The status code, 0 for `default`.
    status: u16,
    /// The first content type.
    content_type: Option<String>,
    /// Its schema, compact JSON.
    schema: Option<String>,
}

/// One operation.
struct OperationOut {
    /// `operationId`.
    id: String,
    /// Upper-case method.
    method: String,
    /// Path template.
    path: String,
    /// Whether the security requirement is non-empty.
    auth: bool,
    /// `deprecated`.
    deprecated: bool,
    /// `x-speakeasy-group`.
    group: String,
    /// `x-speakeasy-name-override`.
    name: String,
    /// Parameters.
    params: Vec<ParamOut>,
    /// Body.
    body: BodyOut,
    /// Responses, by status.
    responses: Vec<ResponseOut>,
}

/// The generator: the parsed spec plus the component schemas referenced so far.
struct Gen<'a> {
    /// The whole spec.
    doc: &'a Yaml,
    /// `components.schemas`.
    components: &'a serde_yaml::Mapping,
    /// Component schema names referenced but not yet emitted.
    pending: Vec<String>,
    /// Component schema names ever referenced.
    seen: BTreeSet<String>,
}

impl<'a> Gen<'a> {
    /// A generator over `doc`.
    fn new(doc: &'a Yaml) -> Result<Self, String> {
        static EMPTY: std::sync::OnceLock<serde_yaml::Mapping> = std::sync::OnceLock::new();
        let components = match doc.get("components").and_then(|c| c.get("schemas")) {
            Some(s) => s.as_mapping().ok_or("codegen: `components.schemas` is not a mapping")?,
            None => EMPTY.get_or_init(serde_yaml::Mapping::new),
        };
        Ok(Self { doc, components, pending: Vec::new(), seen: BTreeSet::new() })
    }

    /// Renders the whole file.
    fn generate(mut self, file_name: &str) -> Result<Generated, String> {
        let operations = self.operations()?;
        let mut schemas = BTreeMap::new();
        while let Some(name) = self.pending.pop() {
            let schema = self
                .components
                .get(name.as_str())
                .ok_or_else(|| format!("codegen: `{SCHEMA_PREFIX}{name}` does not exist"))?;
            let json = self.schema(schema, &format!("{SCHEMA_PREFIX}{name}"))?;
            schemas.insert(name, compact(&json));
        }

        let mut out = String::with_capacity(1 << 20);
        let _ = writeln!(out, "// @generated by `cargo xtask codegen` from {file_name} — do not edit.");
        out.push('\n');
        out.push_str("pub(crate) static OPERATIONS: &[Operation] = &[\n");
        for op in &operations {
            render_operation(&mut out, op);
        }
        out.push_str("];\n\n");
        out.push_str("pub(crate) static SCHEMAS: &[(&str, &str)] = &[\n");
        for (name, schema) in &schemas {
            let _ = writeln!(out, "    ({}, {}),", lit(name), raw(schema));
        }
        out.push_str("];\n");
        Ok(Generated { text: out, operations: operations.len(), schemas: schemas.len() })
    }

    /// Every (path, method), sorted by path then method.
    fn operations(&mut self) -> Result<Vec<OperationOut>, String> {
        let paths = self.doc.get("paths").and_then(Yaml::as_mapping).ok_or("codegen: the spec has no `paths`")?;
        let global_auth = self.doc.get("security").is_some_and(|s| !is_empty_list(s));
        let mut ops = Vec::new();
        for (path, item) in paths {
            let path = path.as_str().ok_or("codegen: a path key is not a string")?;
            let item = self.resolve(item, path)?;
            let path_params = match item.get("parameters") {
                Some(p) => {
                    p.as_sequence().ok_or_else(|| format!("codegen: {path}: `parameters` is not a list"))?.as_slice()
                }
                None => &[],
            };
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    let at = format!("{} {path}", method.to_uppercase());
                    ops.push(self.operation(path, method, op, path_params, global_auth, &at)?);
                }
            }
        }
        ops.sort_by(|a, b| (a.path.as_str(), a.method.as_str()).cmp(&(b.path.as_str(), b.method.as_str())));
        Ok(ops)
    }

    /// One operation.
    fn operation(
        &mut self,
        path: &str,
        method: &str,
        op: &Yaml,
        path_params: &'a [Yaml],
        global_auth: bool,
        at: &str,
    ) -> Result<OperationOut, String> {
        let id =
            op.get("operationId").and_then(Yaml::as_str).ok_or_else(|| format!("codegen: {at}: no operationId"))?;
        let auth = match op.get("security") {
            Some(s) => !is_empty_list(s),
            None => global_auth,
        };
        let deprecated = op.get("deprecated").and_then(Yaml::as_bool).unwrap_or(false);
        let group = op.get("x-speakeasy-group").and_then(Yaml::as_str).unwrap_or_default();
        let name = op.get("x-speakeasy-name-override").and_then(Yaml::as_str).unwrap_or_default();

        // Path-level parameters first; an operation-level one with the same name and location replaces it.
        let mut params: Vec<ParamOut> = Vec::new();
        let op_params = match op.get("parameters") {
            Some(p) => p.as_sequence().ok_or_else(|| format!("codegen: {at}: `parameters` is not a list"))?.as_slice(),
            None => &[],
        };
        for param in path_params.iter().chain(op_params) {
            if let Some(param) = self.param(param, at)? {
                match params.iter_mut().find(|p| p.name == param.name && p.location == param.location) {
                    Some(existing) => *existing = param,
                    None => params.push(param),
                }
            }
        }

        let body = match op.get("requestBody") {
            Some(body) => self.body(body, at)?,
            None => BodyOut::None,
        };

        let mut responses = Vec::new();
        if let Some(rs) = op.get("responses") {
            let rs = rs.as_mapping().ok_or_else(|| format!("codegen: {at}: `responses` is not a mapping"))?;
            for (status, response) in rs {
                responses.push(self.response(status, response, at)?);
            }
        }
        responses.sort_by_key(|r| r.status);
        if let Some(w) = responses.windows(2).find(|w| w[0].status == w[1].status) {
            return Err(format!("codegen: {at}: status {} is listed twice", w[0].status));
        }

        Ok(OperationOut {
            id: id.to_owned(),
            method: method.to_uppercase(),
            path: path.to_owned(),
            auth,
            deprecated,
            group: group.to_owned(),
            name: name.to_owned(),
            params,
            body,
            responses,
        })
    }

    /// One parameter; `None` for cookie parameters.
    fn param(&mut self, param: &Yaml, at: &str) -> Result<Option<ParamOut>, String> {
        let param = self.resolve(param, at)?;
        let name = param
            .get("name")
            .and_then(Yaml::as_str)
            .ok_or_else(|| format!("codegen: {at}: a parameter has no name"))?;
        let at = format!("{at} parameter `{name}`");
        let location = match param.get("in").and_then(Yaml::as_str) {
            Some("path") => Location::Path,
            Some("query") => Location::Query,
            Some("header") => Location::Header,
            Some("cookie") => return Ok(None),
            other => return Err(format!("codegen: {at}: unsupported location {other:?}")),
        };
        let required = param.get("required").and_then(Yaml::as_bool).unwrap_or(location == Location::Path);
        let schema = match (param.get("schema"), param.get("content").and_then(Yaml::as_mapping)) {
            (Some(schema), _) => Some(schema),
            (None, Some(content)) => content.iter().next().and_then(|(_, media)| media.get("schema")),
            (None, None) => None,
        };
        let schema = match schema {
            Some(schema) => compact(&self.schema(schema, &at)?),
            None => "{}".to_owned(),
        };
        Ok(Some(ParamOut { name: name.to_owned(), location, required, schema }))
    }

    /// The request body; JSON preferred over multipart.
    fn body(&mut self, body: &Yaml, at: &str) -> Result<BodyOut, String> {
        let body = self.resolve(body, at)?;
        let required = body.get("required").and_then(Yaml::as_bool).unwrap_or(false);
        let content = match body.get("content") {
            Some(c) => c.as_mapping().ok_or_else(|| format!("codegen: {at}: request `content` is not a mapping"))?,
            None => return Ok(BodyOut::None),
        };
        let mut json = None;
        let mut multipart = None;
        for (media_type, media) in content {
            let media_type =
                media_type.as_str().ok_or_else(|| format!("codegen: {at}: a media type is not a string"))?;
            let essence = media_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
            match essence.as_str() {
                "application/json" => json = json.or(Some(media)),
                "multipart/form-data" => multipart = multipart.or(Some(media)),
                _ => return Err(format!("codegen: {at}: unsupported request content type `{media_type}`")),
            }
        }
        let at = format!("{at} request body");
        let mut schema_of = |media: &Yaml| -> Result<String, String> {
            match media.get("schema") {
                Some(schema) => Ok(compact(&self.schema(schema, &at)?)),
                None => Ok("{}".to_owned()),
            }
        };
        Ok(match (json, multipart) {
            (Some(media), _) => BodyOut::Json { required, schema: schema_of(media)? },
            (None, Some(media)) => BodyOut::Multipart { required, schema: schema_of(media)? },
            (None, None) => BodyOut::None,
        })
    }

    /// One response.
    fn response(&mut self, status: &Yaml, response: &Yaml, at: &str) -> Result<ResponseOut, String> {
        let status = match status {
            Yaml::String(s) if s == "default" => 0,
            Yaml::String(s) => s.parse::<u16>().map_err(|_| format!("codegen: {at}: unsupported status `{s}`"))?,
            Yaml::Number(n) => n
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .ok_or_else(|| format!("codegen: {at}: unsupported status `{n}`"))?,
            other => return Err(format!("codegen: {at}: unsupported status {other:?}")),
        };
        let at = format!("{at} response {status}");
        let response = self.resolve(response, &at)?;
        let first = match response.get("content") {
            Some(c) => {
                c.as_mapping().ok_or_else(|| format!("codegen: {at}: `content` is not a mapping"))?.iter().next()
            }
            None => None,
        };
        let Some((content_type, media)) = first else {
            return Ok(ResponseOut { status, content_type: None, schema: None });
        };
        let content_type =
            content_type.as_str().ok_or_else(|| format!("codegen: {at}: a media type is not a string"))?;
        let schema = match media.get("schema") {
            Some(schema) => Some(compact(&self.schema(schema, &at)?)),
            None => None,
        };
        Ok(ResponseOut { status, content_type: Some(content_type.to_owned()), schema })
    }

    /// Follows `$ref`s (to parameters, request bodies, responses, path items) until a non-reference object.
    fn resolve<'b>(&self, mut value: &'b Yaml, at: &str) -> Result<&'b Yaml, String>
    where
        'a: 'b,
    {
        for _ in 0..MAX_REF_DEPTH {
            let Some(reference) = value.get("$ref") else { return Ok(value) };
            let reference = reference.as_str().ok_or_else(|| format!("codegen: {at}: `$ref` is not a string"))?;
            value = self.pointer(reference).ok_or_else(|| format!("codegen: {at}: cannot resolve `{reference}`"))?;
        }
        Err(format!("codegen: {at}: `$ref` chain too long (cycle?)"))
    }

    /// Looks up a local JSON pointer (`#/a/b`).
    fn pointer(&self, reference: &str) -> Option<&'a Yaml> {
        let pointer = reference.strip_prefix('#')?;
        let mut value = self.doc;
        for token in pointer.split('/').skip(1) {
            let token = token.replace("~1", "/").replace("~0", "~");
            value = match value {
                Yaml::Mapping(m) => m.get(token.as_str())?,
                Yaml::Sequence(s) => s.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(value)
    }

    /// Records a reference to a component schema.
    fn reference(&mut self, name: &str, at: &str) -> Result<(), String> {
        if !self.components.contains_key(name) {
            return Err(format!("codegen: {at}: `{SCHEMA_PREFIX}{name}` does not exist"));
        }
        if self.seen.insert(name.to_owned()) {
            self.pending.push(name.to_owned());
        }
        Ok(())
    }

    /// A schema object without annotations, its component `$ref`s recorded.
    fn schema(&mut self, schema: &Yaml, at: &str) -> Result<Json, String> {
        let map = match schema {
            Yaml::Mapping(map) => map,
            Yaml::Bool(b) => return Ok(Json::Bool(*b)),
            other => return Err(format!("codegen: {at}: a schema is not an object: {other:?}")),
        };
        let mut out = serde_json::Map::new();
        for (key, value) in map {
            let key = key_string(key, at)?;
            if ANNOTATIONS.contains(&key.as_str()) || key.starts_with("x-") {
                continue;
            }
            let json = match key.as_str() {
                "properties" => {
                    let props =
                        value.as_mapping().ok_or_else(|| format!("codegen: {at}: `properties` is not a mapping"))?;
                    let mut out = serde_json::Map::new();
                    for (name, prop) in props {
                        let name = key_string(name, at)?;
                        let prop = self.schema(prop, &format!("{at}.{name}"))?;
                        out.insert(name, prop);
                    }
                    Json::Object(out)
                }
                "items" | "not" | "additionalProperties" => match value {
                    Yaml::Sequence(items) => {
                        Json::Array(items.iter().map(|s| self.schema(s, at)).collect::<Result<_, _>>()?)
                    }
                    _ => self.schema(value, at)?,
                },
                "allOf" | "oneOf" | "anyOf" => {
                    let list = value.as_sequence().ok_or_else(|| format!("codegen: {at}: `{key}` is not a list"))?;
                    Json::Array(list.iter().map(|s| self.schema(s, at)).collect::<Result<_, _>>()?)
                }
                "$ref" => {
                    let reference = value.as_str().ok_or_else(|| format!("codegen: {at}: `$ref` is not a string"))?;
                    let name = reference
                        .strip_prefix(SCHEMA_PREFIX)
                        .filter(|n| !n.contains('/'))
                        .ok_or_else(|| format!("codegen: {at}: unsupported schema `$ref` `{reference}`"))?;
                    self.reference(&name.replace("~1", "/").replace("~0", "~"), at)?;
                    Json::String(reference.to_owned())
                }
                "discriminator" => {
                    if let Some(mapping) = value.get("mapping").and_then(Yaml::as_mapping) {
                        for target in mapping.values().filter_map(Yaml::as_str) {
                            match target.strip_prefix(SCHEMA_PREFIX) {
                                Some(name) => self.reference(name, at)?,
                                None if !target.contains('/') => self.reference(target, at)?,
                                None => return Err(format!("codegen: {at}: unsupported discriminator `{target}`")),
                            }
                        }
                    }
                    to_json(value, at)?
                }
                _ => to_json(value, at)?,
            };
            out.insert(key, json);
        }
        Ok(Json::Object(out))
    }
}

/// Whether a `security` value is an empty list.
fn is_empty_list(value: &Yaml) -> bool {
    value.as_sequence().is_some_and(Vec::is_empty)
}

/// A mapping key as a string.
fn key_string(key: &Yaml, at: &str) -> Result<String, String> {
    match key {
        Yaml::String(s) => Ok(s.clone()),
        Yaml::Number(n) => Ok(n.to_string()),
        Yaml::Bool(b) => Ok(b.to_string()),
        other => Err(format!("codegen: {at}: unsupported mapping key {other:?}")),
    }
}

/// A YAML value (data, not a schema) as JSON.
pub(crate) fn to_json(value: &Yaml, at: &str) -> Result<Json, String> {
    Ok(match value {
        Yaml::Null => Json::Null,
        Yaml::Bool(b) => Json::Bool(*b),
        Yaml::Number(n) => {
            if let Some(u) = n.as_u64() {
                Json::from(u)
            } else if let Some(i) = n.as_i64() {
                Json::from(i)
            } else {
                let f = n.as_f64().ok_or_else(|| format!("codegen: {at}: unsupported number {n}"))?;
                Json::Number(
                    serde_json::Number::from_f64(f).ok_or_else(|| format!("codegen: {at}: unsupported number {n}"))?,
                )
            }
        }
        Yaml::String(s) => Json::String(s.clone()),
        Yaml::Sequence(items) => Json::Array(items.iter().map(|v| to_json(v, at)).collect::<Result<_, _>>()?),
        Yaml::Mapping(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                out.insert(key_string(k, at)?, to_json(v, at)?);
            }
            Json::Object(out)
        }
        Yaml::Tagged(tagged) => return Err(format!("codegen: {at}: unsupported YAML tag {}", tagged.tag)),
    })
}

/// Compact JSON with object keys sorted (independently of serde_json's `preserve_order` feature).
fn compact(value: &Json) -> String {
    fn write(out: &mut String, value: &Json) {
        match value {
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(out, item);
                }
                out.push(']');
            }
            Json::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                out.push('{');
                for (i, (key, item)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Json::String(key.clone()).to_string());
                    out.push(':');
                    write(out, item);
                }
                out.push('}');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(&mut out, value);
    out
}

/// A Rust string literal.
fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// A Rust raw string literal with enough `#`s that the content cannot end it.
fn raw(s: &str) -> String {
    let mut longest = 0;
    for (i, _) in s.match_indices('"') {
        let run = s[i + 1..].bytes().take_while(|&b| b == b'#').count();
        longest = longest.max(run + 1);
    }
    let hashes = "#".repeat(longest.max(1));
    format!("r{hashes}\"{s}\"{hashes}")
}

/// One `Operation { .. }` entry.
fn render_operation(out: &mut String, op: &OperationOut) {
    let _ = writeln!(out, "    Operation {{");
    let _ = writeln!(out, "        id: {},", lit(&op.id));
    let _ = writeln!(out, "        method: {},", lit(&op.method));
    let _ = writeln!(out, "        path: {},", lit(&op.path));
    let _ = writeln!(out, "        auth: {},", op.auth);
    let _ = writeln!(out, "        deprecated: {},", op.deprecated);
    let _ = writeln!(out, "        group: {},", lit(&op.group));
    let _ = writeln!(out, "        name: {},", lit(&op.name));
    if op.params.is_empty() {
        let _ = writeln!(out, "        params: &[],");
    } else {
        let _ = writeln!(out, "        params: &[");
        for p in &op.params {
            let _ = writeln!(
                out,
                "            Param {{ name: {}, location: {}, required: {}, schema: {} }},",
                lit(&p.name),
                p.location.rust(),
                p.required,
                raw(&p.schema)
            );
        }
        let _ = writeln!(out, "        ],");
    }
    match &op.body {
        BodyOut::None => {
            let _ = writeln!(out, "        body: Body::None,");
        }
        BodyOut::Json { required, schema } => {
            let _ = writeln!(out, "        body: Body::Json {{ required: {required}, schema: {} }},", raw(schema));
        }
        BodyOut::Multipart { required, schema } => {
            let _ = writeln!(out, "        body: Body::Multipart {{ required: {required}, schema: {} }},", raw(schema));
        }
    }
    if op.responses.is_empty() {
        let _ = writeln!(out, "        responses: &[],");
    } else {
        let _ = writeln!(out, "        responses: &[");
        for r in &op.responses {
            let content_type =
                r.content_type.as_deref().map_or_else(|| "None".to_owned(), |c| format!("Some({})", lit(c)));
            let schema = r.schema.as_deref().map_or_else(|| "None".to_owned(), |s| format!("Some({})", raw(s)));
            let _ = writeln!(
                out,
                "            Response {{ status: {}, content_type: {content_type}, schema: {schema} }},",
                r.status
            );
        }
        let _ = writeln!(out, "        ],");
    }
    let _ = writeln!(out, "    }},");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_literals_cannot_be_terminated_by_content() {
        assert_eq!(raw("{}"), "r#\"{}\"#");
        assert_eq!(raw(r##"{"$ref":"#/x"}"##), "r##\"{\"$ref\":\"#/x\"}\"##");
        assert_eq!(raw(r###"a"##b"###), "r###\"a\"##b\"###");
    }

    #[test]
    fn annotations_are_stripped_but_property_names_kept() -> Result<(), String> {
        let doc: Yaml = serde_yaml::from_str(
            "components:\n  schemas:\n    A:\n      type: object\n      description: d\n      x-foo: 1\n      properties:\n        description:\n          type: string\n          example: e\n        title:\n          $ref: '#/components/schemas/B'\n          description: ignored\n    B:\n      type: string\n      enum: [a]\n      default: a\n",
        )
        .map_err(|e| e.to_string())?;
        let mut g = Gen::new(&doc)?;
        let a = doc.get("components").and_then(|c| c.get("schemas")).and_then(|s| s.get("A")).ok_or("no A")?;
        let json = g.schema(a, "A")?;
        assert_eq!(
            compact(&json),
            r##"{"properties":{"description":{"type":"string"},"title":{"$ref":"#/components/schemas/B"}},"type":"object"}"##
        );
        assert_eq!(g.pending, vec!["B".to_owned()]);
        Ok(())
    }
}
