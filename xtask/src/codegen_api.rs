//! `cargo xtask codegen`, the `clerk-api` half: generates `crates/clerk-api/src/generated/` — one Rust type per
//! component schema (`models.rs`), and per `x-speakeasy-group` a file with the group accessor on `Client`, one request
//! builder per operation and the request/response types only that operation uses — from Clerk's OpenAPI spec.
//!
//! The rules, in short (the crate docs and `generated/mod.rs` show the result):
//!
//! - **Names**: group accessor = `x-speakeasy-group` in snake case (else the first tag), method =
//!   `x-speakeasy-name-override` in snake case (else the operationId), builder = the operationId in UpperCamel case;
//!   acronyms are words (`GetJwks`, `SamlConnection`). Every collision is an error to resolve in the overrides file
//!   (`xtask/clerk-api-overrides.json`), which also holds the few renames that read better than the rule.
//! - **Models**: objects (and `allOf` merges) are structs, string enums with two or more values are open enums
//!   (one value: `String`), arrays and maps are aliases. A `oneOf`/`anyOf` is an untagged enum when every variant has
//!   a required field no other variant has, else one struct with the fields of every variant (a field whose schema
//!   differs between variants keeps their common JSON type); `serde_json::Value` is left for schemas without a type.
//!   Inline objects become `<Parent><Field>` structs (`<OpId>Body`, `<OpId>Response`, `<OpId>Item` at the top), and
//!   one inline object of the same shape as an earlier struct of its file (or a model) is that struct.
//!   Required and non-nullable is `T`, anything else `Option<T>`. Integer `*_at` fields are `Timestamp`s; `id` of the
//!   schemas listed in the overrides and the `*_id` fields listed there are id newtypes (response side only).
//! - **Requests**: path parameters, required query parameters, required body fields and files are arguments of the
//!   group method; the rest are setters. JSON bodies are `<OpId>Body` structs (`Option<Nullable<T>>` for nullable
//!   fields). Lists (`[T]` or `{data: [T], total_count}`) answer `Page<T>`; with `limit`/`offset` they paginate.
//! - **Decoding by name** (`examples.rs`, hidden): `__decode_model` (component schema → its type),
//!   `__decode_response` (operationId → what `send()` decodes), `__decode_field` (a field of a response-side struct)
//!   and the type graph (`__model_type`, `__response_type`, `__field_type`), for `tests/spec_examples.rs`, which
//!   checks every example of the spec's response bodies against the generated types.
//!
//! Files are formatted with `rustfmt` (the workspace settings) before they are compared or written.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

pub(crate) mod docs;
mod examples;
pub(crate) mod names;
mod render;

use docs::{capitalized, deprecation_note, doc_or, first_paragraph, generic_field_doc, sanitize, sentence};
use names::{camel, enum_variants, field_ident, group_type, snake};

/// The generated directory, relative to the workspace root.
pub(crate) const OUTPUT_DIR: &str = "crates/clerk-api/src/generated";
/// The overrides file, relative to the workspace root.
pub(crate) const OVERRIDES: &str = "xtask/clerk-api-overrides.json";
/// The HTTP methods a path item may hold.
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
/// The prefix of a component schema reference.
const SCHEMA_PREFIX: &str = "#/components/schemas/";
/// The module holding the component schemas.
const MODELS: &str = "models";
/// The module decoding by name (for the spec-examples test).
const EXAMPLES: &str = "examples";
/// How wide generated doc comments are wrapped (before indentation).
const DOC_WIDTH: usize = 100;
/// Type names taken by the hand-written crate root or used unqualified by generated code.
const RESERVED_TYPES: &[&str] = &[
    "ApiError",
    "Body",
    "Bytes",
    "Client",
    "ClientBuilder",
    "ClerkError",
    "DecodeError",
    "Error",
    "FetchedUser",
    "FilePart",
    "Nullable",
    "OrganizationId",
    "Page",
    "Paginated",
    "Req",
    "RequestOptions",
    "RetryPolicy",
    "SessionId",
    "Timestamp",
    "TowerTransport",
    "UserId",
];
/// Methods of `Client` a group accessor may not take.
const RESERVED_ACCESSORS: &[&str] = &[
    "api_url",
    "authenticator",
    "builder",
    "execute",
    "from_env",
    "send_empty",
    "send_json",
    "send_text",
    "to_http",
    "verifier",
];
/// The methods of every builder.
const RESERVED_METHODS: &[&str] = &["build", "fetch_page", "options", "paginate", "send", "to_http_request"];
/// The private fields of every builder.
const RESERVED_FIELDS: &[&str] = &["body", "client", "options"];
/// Rust keywords (strict and reserved) that can be raw identifiers.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn", "else", "enum",
    "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "match", "mod", "move",
    "mut", "override", "priv", "pub", "ref", "return", "static", "struct", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];
/// Keywords that cannot be raw identifiers.
const NON_RAW: &[&str] = &["crate", "self", "Self", "super", "_"];

/// The generated files (name in `OUTPUT_DIR`, formatted text) and what they hold.
pub(crate) struct ApiFiles {
    /// `(file name, contents)`, sorted by name.
    pub(crate) files: Vec<(String, String)>,
    /// Operations (builders).
    pub(crate) operations: usize,
    /// Component schemas (one type each).
    pub(crate) models: usize,
    /// Open enums, in all files.
    pub(crate) enums: usize,
    /// Every generated type (models, nested types, bodies, responses, enums), builders and groups excluded.
    pub(crate) types: usize,
    /// Places approximated with `serde_json::Value`.
    pub(crate) json_values: Vec<String>,
    /// Every operation as a call on the client, in the spec's order (for `docs/seed-mapping.md`).
    pub(crate) calls: Vec<Call>,
}

/// One operation as a call on the client: `client.<group>().<method>(<args>)`.
pub(crate) struct Call {
    /// `operationId`.
    pub(crate) id: String,
    /// The group accessor.
    pub(crate) group: String,
    /// The method.
    pub(crate) method: String,
    /// The method's arguments (the required parameters), in order.
    pub(crate) args: Vec<String>,
    /// `GET`, ...
    pub(crate) http: String,
    /// The path template.
    pub(crate) path: String,
    /// What `send()` answers, as Rust (`User`, `Page<User>`, `()`).
    pub(crate) answer: String,
    /// The deprecation note, when deprecated.
    pub(crate) deprecated: Option<String>,
}

impl Call {
    /// The call as Rust: `client.users().get(user_id)`.
    pub(crate) fn rust(&self) -> String {
        format!("client.{}().{}({})", self.group, self.method, self.args.join(", "))
    }
}

impl ApiFiles {
    /// A one-line summary.
    pub(crate) fn summary(&self) -> String {
        let bytes: usize = self.files.iter().map(|(_, t)| t.len()).sum();
        format!(
            "{} files, {} operations, {} models, {} types, {} enums, {} `serde_json::Value` fields, {} bytes",
            self.files.len(),
            self.operations,
            self.models,
            self.types,
            self.enums,
            self.json_values.len(),
            bytes
        )
    }
}

/// Generates and formats every file of `OUTPUT_DIR` from the parsed spec and the overrides file (`root` is the
/// workspace root).
pub(crate) fn generate(doc: &Yaml, spec_name: &str, root: &Path) -> Result<ApiFiles, String> {
    let overrides = root.join(OVERRIDES);
    let text = std::fs::read_to_string(&overrides)
        .map_err(|e| format!("codegen: cannot read overrides {}: {e}", overrides.display()))?;
    let json: Json = serde_json::from_str(&text)
        .map_err(|e| format!("codegen: cannot parse overrides {}: {e}", overrides.display()))?;
    let ov = Overrides::parse(&json)?;
    let mut api = Api::new(doc, ov)?;
    api.collect()?;
    api.check_names()?;
    api.box_cycles();
    let mut files = api.render(spec_name)?;
    let formatted = format_all(&files, root)?;
    for ((_, text), f) in files.iter_mut().zip(formatted) {
        *text = f;
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let enums = api.types.values().filter(|t| matches!(t.def, Def::Enum { .. })).count();
    let calls = api.ops.iter().map(|op| api.call(op)).collect();
    Ok(ApiFiles {
        files,
        operations: api.ops.len(),
        models: api.schemas.len(),
        enums,
        types: api.types.len(),
        json_values: api.json_values.clone(),
        calls,
    })
}

/// Formats every file with `rustfmt` (workspace settings, edition 2024), in parallel.
fn format_all(files: &[(String, String)], root: &Path) -> Result<Vec<String>, String> {
    std::thread::scope(|s| {
        let handles: Vec<_> = files.iter().map(|(name, text)| s.spawn(move || rustfmt(name, text, root))).collect();
        handles.into_iter().map(|h| h.join().map_err(|_| "codegen: rustfmt thread panicked".to_owned())?).collect()
    })
}

/// Formats one file through `rustfmt` on stdin, from the workspace root (so its `rustfmt.toml` applies, as it does
/// for `cargo fmt`; the settings are passed too).
pub(crate) fn rustfmt(name: &str, text: &str, root: &Path) -> Result<String, String> {
    let rustfmt = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".to_owned());
    let mut child = Command::new(rustfmt)
        .current_dir(root)
        .args(["--edition", "2024", "--config", "max_width=120,use_small_heuristics=Max", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("codegen: cannot start rustfmt: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("codegen: rustfmt has no stdin")?;
    let input = text.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().map_err(|e| format!("codegen: rustfmt failed: {e}"))?;
    writer.join().map_err(|_| "codegen: rustfmt writer panicked".to_owned())?.map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "codegen: rustfmt rejected the generated {name}: {}",
            String::from_utf8_lossy(&out.stderr).lines().take(20).collect::<Vec<_>>().join("\n")
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("codegen: rustfmt output is not UTF-8: {e}"))
}

// ---------------------------------------------------------------------------------------------------------------
// Overrides
// ---------------------------------------------------------------------------------------------------------------

/// `xtask/clerk-api-overrides.json`.
#[derive(Default)]
struct Overrides {
    /// Component schema name → Rust type name.
    type_names: BTreeMap<String, String>,
    /// Component schema name → the id newtype of its `id` field.
    id_newtypes: BTreeMap<String, String>,
    /// Field name → id newtype (response side).
    id_fields: BTreeMap<String, String>,
    /// `x-speakeasy-group` → group accessor.
    groups: BTreeMap<String, String>,
    /// The rule's name of an inline type (`<OpId>Response`, `<Parent><Field>`) → Rust type name.
    inline_type_names: BTreeMap<String, String>,
    /// Per operationId.
    operations: BTreeMap<String, OpOverride>,
}

/// Overrides of one operation.
#[derive(Default)]
struct OpOverride {
    /// Group accessor.
    group: Option<String>,
    /// Method name.
    method: Option<String>,
    /// `text`, `empty` or `json`: how the answer is read.
    response: Option<String>,
    /// The deprecation note.
    deprecated: Option<String>,
    /// Parameter or body field (wire name) → Rust name.
    renames: BTreeMap<String, String>,
}

/// Reads `{ "k": "v" }` into a map; keys starting with `_` are comments.
fn string_map(v: &Json, at: &str) -> Result<BTreeMap<String, String>, String> {
    let obj = v.as_object().ok_or_else(|| format!("codegen: overrides `{at}` is not an object"))?;
    let mut out = BTreeMap::new();
    for (k, v) in obj {
        if k.starts_with('_') {
            continue;
        }
        let v = v.as_str().ok_or_else(|| format!("codegen: overrides `{at}.{k}` is not a string"))?;
        out.insert(k.clone(), v.to_owned());
    }
    Ok(out)
}

impl Overrides {
    /// Parses the overrides file, refusing unknown keys.
    fn parse(json: &Json) -> Result<Self, String> {
        let obj = json.as_object().ok_or("codegen: the overrides file is not an object")?;
        let mut ov = Self::default();
        for (key, v) in obj {
            match key.as_str() {
                k if k.starts_with('_') => {}
                "type_names" => ov.type_names = string_map(v, key)?,
                "id_newtypes" => ov.id_newtypes = string_map(v, key)?,
                "id_fields" => ov.id_fields = string_map(v, key)?,
                "groups" => ov.groups = string_map(v, key)?,
                "inline_type_names" => ov.inline_type_names = string_map(v, key)?,
                "operations" => {
                    let ops = v.as_object().ok_or("codegen: overrides `operations` is not an object")?;
                    for (id, o) in ops {
                        if id.starts_with('_') {
                            continue;
                        }
                        let o = o.as_object().ok_or_else(|| format!("codegen: overrides `operations.{id}`"))?;
                        let mut op = OpOverride::default();
                        for (k, v) in o {
                            let at = format!("operations.{id}.{k}");
                            let s = || v.as_str().map(str::to_owned).ok_or(format!("codegen: overrides `{at}`"));
                            match k.as_str() {
                                k if k.starts_with('_') => {}
                                "group" => op.group = Some(s()?),
                                "method" => op.method = Some(s()?),
                                "response" => op.response = Some(s()?),
                                "deprecated" => op.deprecated = Some(s()?),
                                "renames" => op.renames = string_map(v, &at)?,
                                _ => return Err(format!("codegen: unknown overrides key `{at}`")),
                            }
                        }
                        ov.operations.insert(id.clone(), op);
                    }
                }
                other => return Err(format!("codegen: unknown overrides key `{other}`")),
            }
        }
        Ok(ov)
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------------------------

/// A Rust type.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ty {
    /// `String`.
    String,
    /// `i64`.
    I64,
    /// `f64`.
    F64,
    /// `bool`.
    Bool,
    /// `Timestamp`.
    Timestamp,
    /// An id newtype (`crate::UserId`).
    Id(String),
    /// `serde_json::Value`.
    Json,
    /// `serde_json::Map<String, serde_json::Value>`.
    JsonMap,
    /// `std::collections::BTreeMap<String, T>`.
    Map(Box<Self>),
    /// `Vec<T>`.
    Vec(Box<Self>),
    /// `Option<T>` (inside maps).
    Opt(Box<Self>),
    /// `Page<T>`.
    Page(Box<Self>),
    /// A generated type.
    Named(String),
    /// `FilePart` (multipart).
    File,
}

/// Which way a type travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Decoded from answers (and components): `#[non_exhaustive]`, Serialize + Deserialize, id newtypes.
    Response,
    /// Built by callers and sent: public, constructible, Serialize only.
    Request,
}

/// One struct field.
#[derive(Debug, Clone)]
struct Field {
    /// The wire name.
    json: String,
    /// The Rust name (maybe `r#type`).
    rust: String,
    /// The type, without the `Option`/`Nullable` wrapping.
    ty: Ty,
    /// In `required`.
    required: bool,
    /// `nullable: true`.
    nullable: bool,
    /// Rustdoc text.
    doc: String,
    /// `deprecated: true`: the note.
    deprecated: Option<String>,
    /// Boxed to break a recursive type.
    boxed: bool,
}

impl Field {
    /// Whether the field is `Option<..>` in a response struct.
    fn optional(&self) -> bool {
        !self.required || self.nullable
    }
}

/// A generated type's definition.
#[derive(Debug, Clone)]
enum Def {
    /// A struct.
    Struct {
        /// Its fields.
        fields: Vec<Field>,
        /// Which way it travels.
        side: Side,
        /// Keeps additional properties (`#[serde(flatten)] extra`), request side.
        extra: bool,
    },
    /// An open enum.
    Enum {
        /// `(variant, value)`.
        variants: Vec<(String, String)>,
    },
    /// A type alias.
    Alias {
        /// The aliased type.
        ty: Ty,
    },
    /// An untagged enum of component types, with an `Other(serde_json::Value)` fallback.
    Untagged {
        /// `(variant, type)`.
        variants: Vec<(String, Ty)>,
    },
}

/// A generated type.
#[derive(Debug, Clone)]
struct TypeDef {
    /// The Rust name.
    name: String,
    /// The module (file stem) it lives in.
    module: String,
    /// Rustdoc text.
    doc: String,
    /// The definition.
    def: Def,
    /// An identity for deduplication (the same schema registered twice).
    key: Option<String>,
}

/// One parameter of an operation.
#[derive(Debug, Clone)]
struct Param {
    /// The wire name.
    json: String,
    /// The Rust name.
    rust: String,
    /// `String`, `I64`, `F64`, `Bool` or `Vec(String)`.
    ty: Ty,
    /// Required.
    required: bool,
    /// Rustdoc text.
    doc: String,
    /// `deprecated: true`: the note.
    deprecated: Option<String>,
    /// An array sent as one comma-separated value (`explode: false`).
    comma: bool,
}

/// The request body of an operation.
#[derive(Debug, Clone)]
enum BodyKind {
    /// None.
    None,
    /// A JSON object: the `<OpId>Body` struct.
    Json { name: String, fields: Vec<Field> },
    /// A JSON array of `item`.
    JsonArray { item: Ty },
    /// `multipart/form-data` fields (`Ty::File` or `Ty::String`).
    Multipart { fields: Vec<Field> },
}

/// How the answer is read.
#[derive(Debug, Clone)]
enum Resp {
    /// `send_empty`.
    Empty,
    /// `send_text`.
    Text,
    /// `send_json` into the type.
    Json(Ty),
}

/// One operation.
#[derive(Debug, Clone)]
struct Op {
    /// `operationId`.
    id: String,
    /// The builder struct.
    builder: String,
    /// Group accessor (snake case).
    group: String,
    /// Method name.
    method: String,
    /// `GET`, ...
    http: String,
    /// The path template.
    path: String,
    /// The summary, sanitized.
    summary: String,
    /// The description's first paragraph, sanitized.
    description: Option<String>,
    /// The deprecation note.
    deprecated: Option<String>,
    /// Path parameters, in path order.
    path_params: Vec<Param>,
    /// Query parameters.
    query: Vec<Param>,
    /// The body.
    body: BodyKind,
    /// The answer.
    resp: Resp,
    /// Whether it paginates (a `Page` answer and `limit`/`offset`).
    paginate: bool,
}

/// An object schema flattened: its properties (`allOf`s and `$ref`s merged) and its required names.
type Flat<'a> = (Vec<(String, &'a Yaml)>, BTreeSet<String>);

/// The generator state.
struct Api<'a> {
    /// The spec.
    doc: &'a Yaml,
    /// `components.schemas`.
    schemas: &'a serde_yaml::Mapping,
    /// The overrides.
    ov: Overrides,
    /// Every generated type by name.
    types: BTreeMap<String, TypeDef>,
    /// Type names in registration order.
    order: Vec<String>,
    /// `module:side:shape` of every struct → its name: an inline object of the same shape as a struct of its
    /// module (or a model) is that struct.
    shapes: HashMap<String, String>,
    /// `inline_type_names` entries used (to refuse stale ones).
    used_names: BTreeSet<String>,
    /// The operations, in spec order.
    ops: Vec<Op>,
    /// Where `serde_json::Value` stands for something more precise.
    json_values: Vec<String>,
    /// Override entries used (to refuse stale ones).
    used_ops: BTreeSet<String>,
    /// Set when a rendered type refers to `models` from another module (the file then imports them).
    models_used: std::cell::Cell<bool>,
}

/// Follows a `$ref` chain to its target.
fn resolve<'b>(doc: &'b Yaml, mut v: &'b Yaml) -> Result<&'b Yaml, String> {
    for _ in 0..32 {
        let Some(r) = v.get("$ref").and_then(Yaml::as_str) else { return Ok(v) };
        v = pointer(doc, r).ok_or_else(|| format!("codegen: cannot resolve `{r}`"))?;
    }
    Err("codegen: `$ref` chain too long".to_owned())
}

/// Looks up a local JSON pointer.
fn pointer<'b>(doc: &'b Yaml, reference: &str) -> Option<&'b Yaml> {
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

/// The component a schema `$ref`s, if it is one.
fn ref_name(schema: &Yaml) -> Option<&str> {
    schema.get("$ref").and_then(Yaml::as_str).and_then(|r| r.strip_prefix(SCHEMA_PREFIX))
}

/// A string field of a YAML mapping.
fn ystr<'b>(v: &'b Yaml, key: &str) -> Option<&'b str> {
    v.get(key).and_then(Yaml::as_str)
}

/// A boolean field of a YAML mapping (false when absent).
fn ybool(v: &Yaml, key: &str) -> bool {
    v.get(key).and_then(Yaml::as_bool).unwrap_or(false)
}

/// A list field of a YAML mapping (empty when absent).
fn yseq<'b>(v: &'b Yaml, key: &str) -> &'b [Yaml] {
    v.get(key).and_then(Yaml::as_sequence).map_or(&[], Vec::as_slice)
}

/// A schema's shape as text, annotations left out (deduplication key).
fn shape(v: &Yaml) -> String {
    match v {
        Yaml::Mapping(m) => {
            let mut s = String::from("{");
            for (k, v) in m {
                let k = k.as_str().unwrap_or_default();
                if matches!(k, "description" | "example" | "examples" | "title") || k.starts_with("x-") {
                    continue;
                }
                let _ = write!(s, "{k}:{},", shape(v));
            }
            s.push('}');
            s
        }
        Yaml::Sequence(items) => format!("[{}]", items.iter().map(shape).collect::<Vec<_>>().join(",")),
        Yaml::String(s) => format!("{s:?}"),
        other => serde_yaml::to_string(other).unwrap_or_default().trim().to_owned(),
    }
}

/// The shape of the type a schema gives, nullability and one-element wrappers (`oneOf: [X]`) left out: two
/// variants' fields with the same core shape get the same type.
fn core_shape(v: &Yaml) -> String {
    for key in ["allOf", "oneOf", "anyOf"] {
        if let [only] = yseq(v, key)
            && v.get("properties").is_none()
        {
            return core_shape(only);
        }
    }
    match v.as_mapping() {
        Some(m) => {
            let mut m = m.clone();
            for key in ["nullable", "deprecated", "type"] {
                if key != "type" || m.contains_key("$ref") {
                    m.remove(key);
                }
            }
            shape(&Yaml::Mapping(m))
        }
        None => shape(v),
    }
}

impl<'a> Api<'a> {
    /// A generator over `doc`.
    fn new(doc: &'a Yaml, ov: Overrides) -> Result<Self, String> {
        let schemas = doc
            .get("components")
            .and_then(|c| c.get("schemas"))
            .and_then(Yaml::as_mapping)
            .ok_or("codegen: the spec has no `components.schemas`")?;
        Ok(Self {
            doc,
            schemas,
            ov,
            types: BTreeMap::new(),
            order: Vec::new(),
            shapes: HashMap::new(),
            used_names: BTreeSet::new(),
            ops: Vec::new(),
            json_values: Vec::new(),
            used_ops: BTreeSet::new(),
            models_used: std::cell::Cell::new(false),
        })
    }

    /// The Rust type name of a component schema.
    fn type_name(&self, schema: &str) -> String {
        self.ov.type_names.get(schema).cloned().unwrap_or_else(|| camel(schema))
    }

    /// A component schema by name.
    fn component(&self, name: &str) -> Result<&'a Yaml, String> {
        self.schemas.get(name).ok_or_else(|| format!("codegen: `{SCHEMA_PREFIX}{name}` does not exist"))
    }

    /// Registers a type; the same key under the same name is the same type.
    fn register(&mut self, td: TypeDef) -> Result<String, String> {
        let name = td.name.clone();
        if let Some(old) = self.types.get(&name) {
            if old.key.is_some() && old.key == td.key {
                return Ok(name);
            }
            return Err(format!(
                "codegen: two generated types are named `{name}` (in `{}` and `{}`): add a rename to {OVERRIDES}",
                old.module, td.module
            ));
        }
        if RESERVED_TYPES.contains(&name.as_str()) {
            return Err(format!("codegen: the type name `{name}` is taken by the crate: add a rename to {OVERRIDES}"));
        }
        self.order.push(name.clone());
        self.types.insert(name.clone(), td);
        Ok(name)
    }

    /// The name of an inline type: the rule's, unless the overrides rename it.
    fn inline_name(&mut self, generated: &str) -> String {
        match self.ov.inline_type_names.get(generated) {
            Some(name) => {
                self.used_names.insert(generated.to_owned());
                name.clone()
            }
            None => generated.to_owned(),
        }
    }

    /// Walks the spec: component schemas first, then operations.
    fn collect(&mut self) -> Result<(), String> {
        for (name, schema) in self.schemas {
            let name = name.as_str().ok_or("codegen: a schema name is not a string")?;
            self.component_type(name, schema)?;
        }
        for key in self.ov.type_names.keys() {
            if !self.schemas.contains_key(key.as_str()) {
                return Err(format!("codegen: {OVERRIDES}: `type_names.{key}` names no schema"));
            }
        }
        let paths = self.doc.get("paths").and_then(Yaml::as_mapping).ok_or("codegen: the spec has no `paths`")?;
        for (path, item) in paths {
            let path = path.as_str().ok_or("codegen: a path is not a string")?;
            let item = resolve(self.doc, item)?;
            let Some(map) = item.as_mapping() else { continue };
            for (method, op) in map {
                let Some(method) = method.as_str().filter(|m| METHODS.contains(m)) else { continue };
                let op = self.operation(path, method, item, op)?;
                self.ops.push(op);
            }
        }
        for id in self.ov.operations.keys() {
            if !self.used_ops.contains(id) {
                return Err(format!("codegen: {OVERRIDES}: `operations.{id}` names no operation"));
            }
        }
        for name in self.ov.inline_type_names.keys() {
            if !self.used_names.contains(name) {
                return Err(format!("codegen: {OVERRIDES}: `inline_type_names.{name}` names no generated type"));
            }
        }
        Ok(())
    }

    /// The type of one component schema.
    fn component_type(&mut self, name: &str, schema: &'a Yaml) -> Result<(), String> {
        let rust = self.type_name(name);
        let doc = doc_or(ystr(schema, "description"), &format!("The `{name}` object."));
        let key = Some(format!("component:{name}"));
        let module = MODELS.to_owned();
        if is_struct(schema) {
            let fields = self.fields(schema, &rust, Side::Response, MODELS, Some(name))?;
            self.shapes
                .entry(format!("{MODELS}:{:?}:{}", Side::Response, shape(schema)))
                .or_insert_with(|| rust.clone());
            self.register(TypeDef {
                name: rust,
                module,
                doc,
                def: Def::Struct { fields, side: Side::Response, extra: false },
                key,
            })?;
            return Ok(());
        }
        let ty = self.ty(schema, &rust, Side::Response, MODELS, &format!("`{name}`"), true)?;
        if matches!(&ty, Ty::Named(n) if *n == rust) {
            return Ok(()); // an enum or untagged enum registered under the schema's own name
        }
        self.register(TypeDef { name: rust, module, doc, def: Def::Alias { ty }, key })?;
        Ok(())
    }

    /// The properties of an object schema, `allOf`s and `$ref`s merged, and its required names.
    fn flatten(&self, schema: &'a Yaml) -> Result<Flat<'a>, String> {
        let schema = resolve(self.doc, schema)?;
        let mut props: Vec<(String, &'a Yaml)> = Vec::new();
        let mut required = BTreeSet::new();
        for sub in yseq(schema, "allOf") {
            let (p, r) = self.flatten(sub)?;
            for (name, s) in p {
                match props.iter_mut().find(|(n, _)| *n == name) {
                    Some(slot) => slot.1 = s,
                    None => props.push((name, s)),
                }
            }
            required.extend(r);
        }
        if let Some(map) = schema.get("properties").and_then(Yaml::as_mapping) {
            for (name, s) in map {
                let name = name.as_str().ok_or("codegen: a property name is not a string")?.to_owned();
                match props.iter_mut().find(|(n, _)| *n == name) {
                    Some(slot) => slot.1 = s,
                    None => props.push((name, s)),
                }
            }
        }
        for r in yseq(schema, "required") {
            if let Some(r) = r.as_str() {
                required.insert(r.to_owned());
            }
        }
        Ok((props, required))
    }

    /// The fields of an object schema whose struct is `parent`.
    fn fields(
        &mut self,
        schema: &'a Yaml,
        parent: &str,
        side: Side,
        module: &str,
        component: Option<&str>,
    ) -> Result<Vec<Field>, String> {
        let (props, required) = self.flatten(schema)?;
        let mut out: Vec<Field> = Vec::new();
        for (json, prop) in props {
            let field = self.field(&json, prop, None, required.contains(&json), parent, side, module, component)?;
            if out.iter().any(|f| f.rust == field.rust) {
                return Err(format!("codegen: `{parent}.{json}`: two fields are named `{}` in Rust", field.rust));
            }
            out.push(field);
        }
        Ok(out)
    }

    /// One field of the struct `parent`; `forced` replaces the type the schema would give.
    #[allow(clippy::too_many_arguments)]
    fn field(
        &mut self,
        json: &str,
        prop: &'a Yaml,
        forced: Option<Ty>,
        required: bool,
        parent: &str,
        side: Side,
        module: &str,
        component: Option<&str>,
    ) -> Result<Field, String> {
        let at = format!("`{parent}.{json}`");
        let single = if forced.is_none() { single_value(prop) } else { None };
        let mut ty = match forced {
            Some(ty) => ty,
            None => self.ty(prop, &format!("{parent}{}", camel(json)), side, module, &at, false)?,
        };
        let target = resolve(self.doc, prop)?;
        let nullable = ybool(prop, "nullable")
            || ybool(target, "nullable")
            || yseq(prop, "allOf").iter().any(|s| ybool(s, "nullable"));
        if ty == Ty::I64 && json.ends_with("_at") {
            ty = Ty::Timestamp;
        }
        if side == Side::Response && ty == Ty::String {
            let newtype = match component {
                Some(c) if json == "id" => self.ov.id_newtypes.get(c),
                _ => None,
            }
            .or_else(|| self.ov.id_fields.get(json));
            if let Some(n) = newtype {
                ty = Ty::Id(n.clone());
            }
        }
        let description = ystr(prop, "description").or_else(|| ystr(target, "description"));
        let mut doc = doc_or(description, &generic_field_doc(json));
        if let (Some(v), Ty::String) = (single, &ty) {
            let _ = write!(doc, " Always `{v}`.");
        }
        let deprecated = ybool(prop, "deprecated").then(|| deprecation_note(description.unwrap_or_default(), false));
        Ok(Field {
            json: json.to_owned(),
            rust: field_ident(json),
            ty,
            required,
            nullable,
            doc,
            deprecated,
            boxed: false,
        })
    }

    /// One struct for a `oneOf`/`anyOf` of objects: every variant's fields, required only where every variant
    /// requires them; a field whose schema differs between variants keeps the common JSON type.
    fn merged(
        &mut self,
        schema: &'a Yaml,
        list: &'a [Yaml],
        hint: &str,
        side: Side,
        module: &str,
        at: &str,
    ) -> Result<Option<String>, String> {
        let mut variants = Vec::new();
        for s in list {
            if !is_struct(resolve(self.doc, s)?) {
                return Ok(None);
            }
            variants.push(self.flatten(s)?);
        }
        let mut names: Vec<String> = Vec::new();
        for (props, _) in &variants {
            for (n, _) in props {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
        }
        let mut fields: Vec<Field> = Vec::new();
        for name in names {
            let schemas: Vec<&'a Yaml> =
                variants.iter().filter_map(|(p, _)| p.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)).collect();
            let required = schemas.len() == variants.len() && variants.iter().all(|(_, r)| r.contains(&name));
            let first = core_shape(schemas[0]);
            let forced = if schemas.iter().all(|s| core_shape(s) == first) {
                None
            } else {
                let mut types = BTreeSet::new();
                for s in &schemas {
                    types.insert(ystr(resolve(self.doc, s)?, "type").unwrap_or_default());
                }
                Some(match types.into_iter().collect::<Vec<_>>().as_slice() {
                    ["string"] => Ty::String,
                    ["integer"] => Ty::I64,
                    ["number"] | ["integer", "number"] => Ty::F64,
                    ["boolean"] => Ty::Bool,
                    _ => {
                        self.json_values.push(format!("`{hint}.{name}` (differs between variants)"));
                        Ty::Json
                    }
                })
            };
            let mut field = self.field(&name, schemas[0], forced, required, hint, side, module, None)?;
            field.nullable |= schemas.iter().any(|s| ybool(s, "nullable"));
            fields.push(field);
        }
        let names: Vec<String> =
            list.iter().filter_map(ref_name).map(|r| format!("[`{}`]", self.type_name(r))).collect();
        let fallback = if names.len() == list.len() {
            format!("{at}: one of {}, as one struct with the fields of all.", names.join(", "))
        } else {
            format!("{at}: one of several shapes, as one struct with the fields of all.")
        };
        let doc = doc_or(ystr(schema, "description"), &fallback);
        let key = Some(format!("{module}:{}", shape(schema)));
        let name = self.register(TypeDef {
            name: hint.to_owned(),
            module: module.to_owned(),
            doc,
            def: Def::Struct { fields, side, extra: false },
            key,
        })?;
        Ok(Some(name))
    }

    /// The Rust type of a schema; nested types are named `hint`. `own` is set for a component's own schema.
    fn ty(
        &mut self,
        schema: &'a Yaml,
        hint: &str,
        side: Side,
        module: &str,
        at: &str,
        own: bool,
    ) -> Result<Ty, String> {
        if let Some(r) = ref_name(schema) {
            self.component(r)?;
            return Ok(Ty::Named(self.type_name(r)));
        }
        if schema.get("$ref").is_some() {
            return Err(format!("codegen: {at}: unsupported `$ref`"));
        }
        let all_of = yseq(schema, "allOf");
        if all_of.len() == 1 && schema.get("properties").is_none() {
            return self.ty(&all_of[0], hint, side, module, at, false);
        }
        if is_struct(schema) {
            let sh = shape(schema);
            for m in [module, MODELS] {
                if let Some(name) = self.shapes.get(&format!("{m}:{side:?}:{sh}")) {
                    return Ok(Ty::Named(name.clone()));
                }
            }
            let hint = self.inline_name(hint);
            let fields = self.fields(schema, &hint, side, module, None)?;
            let extra =
                side == Side::Request && schema.get("additionalProperties").and_then(Yaml::as_bool) == Some(true);
            let fallback = if at.starts_with('`') { format!("The {at} object.") } else { sentence(&capitalized(at)) };
            let doc = doc_or(ystr(schema, "description"), &fallback);
            let name = self.register(TypeDef {
                name: hint,
                module: module.to_owned(),
                doc,
                def: Def::Struct { fields, side, extra },
                key: None,
            })?;
            self.shapes.insert(format!("{module}:{side:?}:{sh}"), name.clone());
            return Ok(Ty::Named(name));
        }
        for key in ["oneOf", "anyOf"] {
            let list = yseq(schema, key);
            if list.is_empty() {
                continue;
            }
            if list.len() == 1 {
                return self.ty(&list[0], hint, side, module, at, false);
            }
            if let Some(variants) = self.untagged(list)? {
                let doc = doc_or(
                    ystr(schema, "description"),
                    &format!(
                        "{at}: one of {}.",
                        variants.iter().map(|(v, _)| format!("[`{v}`]")).collect::<Vec<_>>().join(", ")
                    ),
                );
                let key = Some(format!("{module}:{}", shape(schema)));
                let name = self.register(TypeDef {
                    name: hint.to_owned(),
                    module: module.to_owned(),
                    doc,
                    def: Def::Untagged { variants },
                    key,
                })?;
                return Ok(Ty::Named(name));
            }
            if let Some(name) = self.merged(schema, list, hint, side, module, at)? {
                return Ok(Ty::Named(name));
            }
            self.json_values.push(format!("{at} (`{key}`)"));
            return Ok(Ty::Json);
        }
        let ty = match ystr(schema, "type") {
            Some("string") => {
                if ystr(schema, "format") == Some("binary") {
                    Ty::File
                } else {
                    let values: Vec<String> =
                        yseq(schema, "enum").iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
                    if values.len() >= 2 {
                        let variants = enum_variants(&values);
                        let doc = match ystr(schema, "description").map(first_paragraph).filter(|d| !d.is_empty()) {
                            Some(d) if !own => format!("{at}: {}", sentence(&sanitize(&d))),
                            Some(d) => sentence(&sanitize(&d)),
                            None => format!("The values of {at}."),
                        };
                        let key = Some(format!("{module}:enum:{}", values.join("|")));
                        let name = self.inline_name(hint);
                        let name = self.register(TypeDef {
                            name,
                            module: module.to_owned(),
                            doc,
                            def: Def::Enum { variants },
                            key,
                        })?;
                        Ty::Named(name)
                    } else {
                        Ty::String
                    }
                }
            }
            Some("integer") => Ty::I64,
            Some("number") => Ty::F64,
            Some("boolean") => Ty::Bool,
            Some("array") => {
                let items = schema.get("items").ok_or_else(|| format!("codegen: {at}: an array without `items`"))?;
                let item_hint = if own { format!("{hint}Item") } else { hint.to_owned() };
                Ty::Vec(Box::new(self.ty(items, &item_hint, side, module, &format!("an item of {at}"), false)?))
            }
            Some("object") | None if schema.get("type").is_some() || schema.get("additionalProperties").is_some() => {
                match schema.get("additionalProperties") {
                    Some(addl @ Yaml::Mapping(_)) if addl.get("type").is_some() || addl.get("$ref").is_some() => {
                        let inner =
                            self.ty(addl, &format!("{hint}Value"), side, module, &format!("{at}{{}}"), false)?;
                        let inner = if ybool(addl, "nullable") { Ty::Opt(Box::new(inner)) } else { inner };
                        Ty::Map(Box::new(inner))
                    }
                    _ => Ty::JsonMap,
                }
            }
            None => {
                self.json_values.push(format!("{at} (no type)"));
                Ty::Json
            }
            Some(other) => return Err(format!("codegen: {at}: unsupported type `{other}`")),
        };
        Ok(ty)
    }

    /// The variants of an untagged enum, when every one is a component object with a required field that no other
    /// variant has (so decoding cannot pick the wrong one).
    fn untagged(&self, list: &'a [Yaml]) -> Result<Option<Vec<(String, Ty)>>, String> {
        let mut shapes = Vec::new();
        for s in list {
            let Some(name) = ref_name(s) else { return Ok(None) };
            let schema = self.component(name)?;
            if !is_struct(schema) {
                return Ok(None);
            }
            let (props, required) = self.flatten(schema)?;
            shapes.push((name, props.into_iter().map(|(n, _)| n).collect::<BTreeSet<_>>(), required));
        }
        for (i, (_, _, required)) in shapes.iter().enumerate() {
            let unique =
                required.iter().any(|r| shapes.iter().enumerate().all(|(j, (_, p, _))| i == j || !p.contains(r)));
            if !unique {
                return Ok(None);
            }
        }
        Ok(Some(shapes.iter().map(|(n, _, _)| (self.type_name(n), Ty::Named(self.type_name(n)))).collect()))
    }

    /// One operation.
    fn operation(&mut self, path: &str, method: &str, item: &'a Yaml, op: &'a Yaml) -> Result<Op, String> {
        let at = format!("{} {path}", method.to_uppercase());
        let id = ystr(op, "operationId").ok_or_else(|| format!("codegen: {at}: no operationId"))?.to_owned();
        let ov = self.ov.operations.get(&id);
        if ov.is_some() {
            self.used_ops.insert(id.clone());
        }
        let ov_group = ov.and_then(|o| o.group.clone());
        let ov_method = ov.and_then(|o| o.method.clone());
        let ov_response = ov.and_then(|o| o.response.clone());
        let ov_deprecated = ov.and_then(|o| o.deprecated.clone());
        let renames = ov.map(|o| o.renames.clone()).unwrap_or_default();

        let group = match (ov_group, ystr(op, "x-speakeasy-group")) {
            (Some(g), _) => g,
            (None, Some(g)) => self.ov.groups.get(g).cloned().unwrap_or_else(|| snake(g)),
            (None, None) => {
                let tag = yseq(op, "tags").first().and_then(Yaml::as_str).ok_or_else(|| {
                    format!("codegen: {at}: no `x-speakeasy-group` and no tag: add a group to {OVERRIDES}")
                })?;
                snake(tag)
            }
        };
        let method_name = match (ov_method, ystr(op, "x-speakeasy-name-override")) {
            (Some(m), _) => m,
            (None, Some(m)) => snake(m),
            (None, None) => snake(&id),
        };
        let builder = camel(&id);
        let summary = ystr(op, "summary").map(|s| sanitize(&first_paragraph(s))).unwrap_or_else(|| id.clone());
        let description =
            ystr(op, "description").map(first_paragraph).filter(|s| !s.is_empty()).map(|s| sentence(&sanitize(&s)));
        let deprecated = if ybool(op, "deprecated") {
            Some(ov_deprecated.unwrap_or_else(|| deprecation_note(ystr(op, "description").unwrap_or_default(), true)))
        } else {
            None
        };

        // Parameters: path-level first, an operation-level one of the same name and location replaces it.
        let mut params: Vec<(&'a Yaml, String, String)> = Vec::new();
        for p in yseq(item, "parameters").iter().chain(yseq(op, "parameters")) {
            let p = resolve(self.doc, p)?;
            let name = ystr(p, "name").ok_or_else(|| format!("codegen: {at}: a parameter has no name"))?.to_owned();
            let loc = ystr(p, "in").unwrap_or_default().to_owned();
            match params.iter_mut().find(|(_, n, l)| *n == name && *l == loc) {
                Some(slot) => slot.0 = p,
                None => params.push((p, name, loc)),
            }
        }
        let mut path_params = Vec::new();
        let mut query = Vec::new();
        for (p, name, loc) in &params {
            let rust = renames.get(name).cloned().unwrap_or_else(|| field_ident(name));
            let schema = p.get("schema").map(|s| resolve(self.doc, s)).transpose()?;
            let ty = match schema.and_then(|s| ystr(s, "type")) {
                _ if name == "limit" || name == "offset" => Ty::I64,
                Some("integer") => Ty::I64,
                Some("number") => Ty::F64,
                Some("boolean") => Ty::Bool,
                Some("array") => Ty::Vec(Box::new(Ty::String)),
                _ => Ty::String,
            };
            let mut doc = doc_or(ystr(p, "description"), &format!("The `{name}` parameter."));
            if let Some(values) = schema.map(enum_values).filter(|v| !v.is_empty()) {
                let _ =
                    write!(doc, " One of {}.", values.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", "));
            }
            let param = Param {
                json: name.clone(),
                rust,
                ty,
                required: ybool(p, "required") || loc == "path",
                doc,
                deprecated: ybool(p, "deprecated")
                    .then(|| deprecation_note(ystr(p, "description").unwrap_or_default(), false)),
                comma: p.get("explode").and_then(Yaml::as_bool) == Some(false),
            };
            match loc.as_str() {
                "path" => path_params.push(param),
                "query" => query.push(param),
                "header" | "cookie" => return Err(format!("codegen: {at}: `{loc}` parameters are not supported")),
                other => return Err(format!("codegen: {at}: unsupported parameter location `{other}`")),
            }
        }
        // Path parameters in path order.
        let order: Vec<String> =
            path.split('{').skip(1).filter_map(|s| s.split('}').next()).map(str::to_owned).collect();
        path_params.sort_by_key(|p| order.iter().position(|o| *o == p.json).unwrap_or(usize::MAX));
        for p in &path_params {
            if !order.contains(&p.json) {
                return Err(format!("codegen: {at}: path parameter `{}` is not in the path", p.json));
            }
        }

        let module = group.clone();
        let body = match op.get("requestBody") {
            Some(b) => self.body(resolve(self.doc, b)?, &builder, &module, &at, &renames)?,
            None => BodyKind::None,
        };
        let resp = self.response(op, &builder, &module, &at, ov_response.as_deref())?;
        let has = |n: &str| query.iter().any(|q| q.json == n && !q.required && q.ty == Ty::I64);
        let paginate = matches!(&resp, Resp::Json(Ty::Page(_))) && has("limit") && has("offset");

        let op = Op {
            id,
            builder,
            group,
            method: method_name,
            http: method.to_uppercase(),
            path: path.to_owned(),
            summary,
            description,
            deprecated,
            path_params,
            query,
            body,
            resp,
            paginate,
        };
        check_members(&op)?;
        Ok(op)
    }

    /// The request body.
    fn body(
        &mut self,
        body: &'a Yaml,
        builder: &str,
        module: &str,
        at: &str,
        renames: &BTreeMap<String, String>,
    ) -> Result<BodyKind, String> {
        let Some(content) = body.get("content").and_then(Yaml::as_mapping) else { return Ok(BodyKind::None) };
        let mut json = None;
        let mut multipart = None;
        for (ct, media) in content {
            let ct = ct.as_str().unwrap_or_default();
            match ct.split(';').next().unwrap_or_default().trim() {
                "application/json" => json = json.or(Some(media)),
                "multipart/form-data" => multipart = multipart.or(Some(media)),
                other => return Err(format!("codegen: {at}: unsupported request content type `{other}`")),
            }
        }
        let rename = |fields: &mut Vec<Field>| {
            for f in fields {
                if let Some(r) = renames.get(&f.json) {
                    f.rust.clone_from(r);
                }
            }
        };
        if let Some(media) = json {
            let Some(schema) = media.get("schema") else { return Ok(BodyKind::None) };
            let schema = resolve(self.doc, schema)?;
            if ystr(schema, "type") == Some("array") {
                let items = schema.get("items").ok_or_else(|| format!("codegen: {at}: an array body without items"))?;
                let item = self.ty(
                    items,
                    &format!("{builder}Item"),
                    Side::Request,
                    module,
                    &format!("`{builder}` item"),
                    false,
                )?;
                return Ok(BodyKind::JsonArray { item });
            }
            if !is_struct(schema) {
                return Err(format!("codegen: {at}: a JSON body that is not an object or array"));
            }
            let name = format!("{builder}Body");
            let mut fields = self.fields(schema, &name, Side::Request, module, None)?;
            rename(&mut fields);
            self.register(TypeDef {
                name: name.clone(),
                module: module.to_owned(),
                doc: format!("The request body of [`{builder}`]."),
                def: Def::Struct { fields: fields.clone(), side: Side::Request, extra: false },
                key: None,
            })?;
            return Ok(BodyKind::Json { name, fields });
        }
        if let Some(media) = multipart {
            let schema =
                media.get("schema").ok_or_else(|| format!("codegen: {at}: a multipart body without schema"))?;
            let mut fields = self.fields(schema, &format!("{builder}Body"), Side::Request, module, None)?;
            rename(&mut fields);
            for f in &mut fields {
                match f.ty {
                    // A file is what an upload is for: always an argument.
                    Ty::File => f.required = true,
                    Ty::String => {}
                    _ => return Err(format!("codegen: {at}: multipart field `{}` is not a string or file", f.json)),
                }
            }
            return Ok(BodyKind::Multipart { fields });
        }
        Ok(BodyKind::None)
    }

    /// How the answer is read, from the lowest 2xx response.
    fn response(
        &mut self,
        op: &'a Yaml,
        builder: &str,
        module: &str,
        at: &str,
        force: Option<&str>,
    ) -> Result<Resp, String> {
        match force {
            Some("text") => return Ok(Resp::Text),
            Some("empty") => return Ok(Resp::Empty),
            Some("json") | None => {}
            Some(other) => return Err(format!("codegen: {OVERRIDES}: unknown response kind `{other}`")),
        }
        let responses =
            op.get("responses").and_then(Yaml::as_mapping).ok_or_else(|| format!("codegen: {at}: no responses"))?;
        let mut best: Option<(u16, &'a Yaml)> = None;
        for (status, r) in responses {
            let status = match status {
                Yaml::String(s) => s.parse::<u16>().ok(),
                Yaml::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
                _ => None,
            };
            if let Some(s) = status.filter(|s| (200..300).contains(s))
                && best.is_none_or(|(b, _)| s < b)
            {
                best = Some((s, r));
            }
        }
        let Some((_, r)) = best else { return Ok(Resp::Empty) };
        let r = resolve(self.doc, r)?;
        let Some((ct, media)) = r.get("content").and_then(Yaml::as_mapping).and_then(|c| c.iter().next()) else {
            return Ok(Resp::Empty);
        };
        if ct.as_str().unwrap_or_default().starts_with("text/") {
            return Ok(Resp::Text);
        }
        let Some(schema) = media.get("schema") else { return Ok(Resp::Json(Ty::Json)) };
        let what = format!("the answer of `{builder}`");
        // Lists: `[T]`, or `{data: [T], total_count}`.
        if let Some(items) = list_items(self.doc, resolve(self.doc, schema)?)? {
            let (hint, module) = match ref_name(schema) {
                Some(r) => (format!("{}Item", self.type_name(r)), MODELS),
                None => (format!("{builder}Item"), module),
            };
            let item = self.ty(items, &hint, Side::Response, module, &format!("an item of {what}"), false)?;
            return Ok(Resp::Json(Ty::Page(Box::new(item))));
        }
        Ok(Resp::Json(self.ty(schema, &format!("{builder}Response"), Side::Response, module, &what, false)?))
    }

    /// Refuses clashing names: types, builders and groups share the crate root; accessors and methods must be unique.
    fn check_names(&self) -> Result<(), String> {
        let mut taken: BTreeMap<String, String> =
            self.types.iter().map(|(n, t)| (n.clone(), format!("a type in `{}`", t.module))).collect();
        let mut groups: BTreeMap<&str, ()> = BTreeMap::new();
        for op in &self.ops {
            groups.insert(&op.group, ());
        }
        for g in groups.keys() {
            let name = group_type(g);
            if let Some(other) = taken.insert(name.clone(), format!("the group `{g}`")) {
                return Err(format!(
                    "codegen: `{name}` is both the group `{g}` and {other}: add a rename to {OVERRIDES}"
                ));
            }
            if RESERVED_ACCESSORS.contains(g) || KEYWORDS.contains(g) || *g == MODELS || *g == EXAMPLES {
                return Err(format!("codegen: the group accessor `{g}` is taken: add a group override to {OVERRIDES}"));
            }
        }
        let mut methods = BTreeMap::new();
        for op in &self.ops {
            if let Some(other) = taken.insert(op.builder.clone(), format!("the builder of `{}`", op.id)) {
                return Err(format!("codegen: `{}` is both the builder of `{}` and {other}", op.builder, op.id));
            }
            if let Some(other) = methods.insert((op.group.clone(), op.method.clone()), op.id.clone()) {
                return Err(format!(
                    "codegen: `{}().{}()` is both `{other}` and `{}`: add a method override to {OVERRIDES}",
                    op.group, op.method, op.id
                ));
            }
        }
        Ok(())
    }

    /// Boxes fields that make a struct contain itself.
    fn box_cycles(&mut self) {
        fn direct(ty: &Ty) -> Option<&str> {
            match ty {
                Ty::Named(n) => Some(n),
                Ty::Opt(t) => direct(t),
                _ => None,
            }
        }
        let names: Vec<String> = self.order.clone();
        let mut done = BTreeSet::new();
        for start in names {
            let mut stack = vec![start.clone()];
            self.visit(&start, &mut stack, &mut done, direct);
        }
    }

    /// Depth-first search marking back edges as boxed.
    fn visit(
        &mut self,
        name: &str,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        direct: fn(&Ty) -> Option<&str>,
    ) {
        if !done.insert(name.to_owned()) {
            return;
        }
        let targets: Vec<(usize, String)> = match self.types.get(name).map(|t| &t.def) {
            Some(Def::Struct { fields, .. }) => {
                fields.iter().enumerate().filter_map(|(i, f)| direct(&f.ty).map(|n| (i, n.to_owned()))).collect()
            }
            Some(Def::Untagged { variants }) => variants
                .iter()
                .enumerate()
                .filter_map(|(i, (_, t))| direct(t).map(|n| (usize::MAX - i, n.to_owned())))
                .collect(),
            _ => Vec::new(),
        };
        for (i, target) in targets {
            if stack.contains(&target) {
                if let Some(TypeDef { def: Def::Struct { fields, .. }, .. }) = self.types.get_mut(name)
                    && let Some(f) = fields.get_mut(i)
                {
                    f.boxed = true;
                }
                continue;
            }
            stack.push(target.clone());
            self.visit(&target, stack, done, direct);
            stack.pop();
        }
    }
}

/// The items of a list answer: `[T]`, or `{data: [T], total_count}` (no other properties).
fn list_items<'b>(doc: &'b Yaml, schema: &'b Yaml) -> Result<Option<&'b Yaml>, String> {
    if ystr(schema, "type") == Some("array") {
        return Ok(schema.get("items"));
    }
    let Some(props) = schema.get("properties").and_then(Yaml::as_mapping) else { return Ok(None) };
    let Some(data) = props.get("data") else { return Ok(None) };
    let data = resolve(doc, data)?;
    let only = props.keys().all(|k| matches!(k.as_str(), Some("data" | "total_count")));
    if only && ystr(data, "type") == Some("array") && props.contains_key("total_count") {
        return Ok(data.get("items"));
    }
    Ok(None)
}

/// Whether a schema becomes a struct: properties, or an `allOf` of objects.
fn is_struct(schema: &Yaml) -> bool {
    let props = schema.get("properties").and_then(Yaml::as_mapping).is_some_and(|m| !m.is_empty());
    let all_of = yseq(schema, "allOf");
    props || all_of.len() > 1 || (all_of.len() == 1 && schema.get("properties").is_some())
}

/// The string values of an enum schema.
fn enum_values(schema: &Yaml) -> Vec<String> {
    let own: Vec<String> = yseq(schema, "enum").iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
    if own.is_empty()
        && let Some(items) = schema.get("items")
    {
        return yseq(items, "enum").iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
    }
    own
}

/// The value of a one-value string enum.
fn single_value(schema: &Yaml) -> Option<&str> {
    match yseq(schema, "enum") {
        [v] => v.as_str(),
        _ => None,
    }
}

/// Refuses member names that clash on a builder: setters and arguments must be unique, setters must not be one of
/// the fixed methods, and what the builder stores as a field must not be one of its fixed fields.
fn check_members(op: &Op) -> Result<(), String> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut names: Vec<(&str, bool)> =
        op.path_params.iter().chain(&op.query).map(|p| (p.rust.as_str(), true)).collect();
    match &op.body {
        BodyKind::Json { fields, .. } => names.extend(fields.iter().map(|f| (f.rust.as_str(), false))),
        BodyKind::Multipart { fields } => names.extend(fields.iter().map(|f| (f.rust.as_str(), true))),
        BodyKind::JsonArray { .. } => names.push(("items", false)),
        BodyKind::None => {}
    }
    for (n, stored) in names {
        if RESERVED_METHODS.contains(&n) || (stored && RESERVED_FIELDS.contains(&n)) || !seen.insert(n) {
            return Err(format!(
                "codegen: `{}`: the parameter or field `{n}` clashes on the builder: add a rename to {OVERRIDES}",
                op.id
            ));
        }
    }
    Ok(())
}
