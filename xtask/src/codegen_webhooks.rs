//! `cargo xtask codegen`, the `clerk-webhooks` half: generates `crates/clerk-webhooks/src/generated/` — one Rust type
//! per component schema of Clerk's webhooks spec (`models.rs`) and the [`Event`] enum with one variant per event type
//! (`events.rs`) — from `webhooks-2025-04-15.yml` (read beside the Backend API spec, never copied in).
//!
//! The rules, in short (the crate docs and `docs/decisions/0008-webhooks.md` show the result):
//!
//! - **Names** follow the `clerk-api` generator (its `names`/`docs` helpers are shared): a schema is its name in
//!   UpperCamel case, an inline object or string enum is `<Parent><Field>`, an event's variant is its type in
//!   UpperCamel case (`organizationInvitation.created` → `OrganizationInvitationCreated`), an event's inline data
//!   schema is `<Variant>Payload`. [`TYPE_NAMES`] renames a few; two rule names renamed to one name must have the same
//!   shape (one type), and a stale entry fails the generator.
//! - **Models are lenient**, because a webhook that fails to decode is a webhook lost: every struct keeps unknown
//!   properties in `extra` (`#[serde(flatten)]`); string enums with two or more values are open enums (unknown
//!   values kept in `Unknown(String)`), one value is a `String`; a `oneOf` of several shapes is one struct with the
//!   fields of every variant (a field whose schema differs between variants keeps their common JSON type). A field
//!   is a plain `T` only when the schema requires it, does not mark it nullable, **and every example of the spec that
//!   holds its object has it, non-null**; anything else is `Option<T>`. Required arrays and maps default to empty.
//!   User, session and organization ids are `clerk-core`'s newtypes.
//! - **Examples are checked here**: every event's example (inline `example`, or `examples` → `#/components/examples`)
//!   is walked through the generated types; a value of the wrong JSON type fails the generator.
//!
//! [`Event`]: https://docs.rs/clerk-webhooks/latest/clerk_webhooks/enum.Event.html

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

// The naming and rustdoc helpers of the `clerk-api` generator (`pub(super)` there), compiled here a second time so
// that both generators name and document things the same way. Not every helper is used by this half.
use crate::codegen_api::{docs, names};

use docs::{deprecation_note, doc, doc_or, first_paragraph, generic_field_doc, sanitize, sentence};
use names::{camel, enum_variants, field_ident};

/// The generated directory, relative to the workspace root.
pub(crate) const OUTPUT_DIR: &str = "crates/clerk-webhooks/src/generated";
/// The webhooks spec's file name; it is read from the directory of the Backend API spec.
pub(crate) const SPEC_FILE: &str = "webhooks-2025-04-15.yml";
/// The prefix of a component schema reference.
const SCHEMA_PREFIX: &str = "#/components/schemas/";
/// The prefix of a component example reference.
const EXAMPLE_PREFIX: &str = "#/components/examples/";
/// The envelope schema: hand-written in the crate (`WebhookEvent`); only its `event_attributes` type is generated.
const ENVELOPE: &str = "WebhookEventPayload";
/// Rule name → Rust name.
const TYPE_NAMES: &[(&str, &str)] = &[
    // The inline data of `organizationInvitation.created` and `.revoked`: the same shape, one type.
    ("OrganizationInvitationCreatedPayload", "OrganizationInvitationPayload"),
    ("OrganizationInvitationRevokedPayload", "OrganizationInvitationPayload"),
    // Their nested `data` object and the one of `OrganizationInvitationAcceptedPayload`: the same shape, one type.
    ("OrganizationInvitationPayloadData", "OrganizationInvitationData"),
    ("OrganizationInvitationAcceptedPayloadData", "OrganizationInvitationData"),
];
/// Schemas whose `id` field is an id newtype.
const ID_NEWTYPES: &[(&str, &str)] =
    &[("User", "UserId"), ("Session", "SessionId"), ("Organization", "OrganizationId")];
/// Fields that are id newtypes wherever they are strings.
const ID_FIELDS: &[(&str, &str)] =
    &[("user_id", "UserId"), ("session_id", "SessionId"), ("organization_id", "OrganizationId")];
/// Type names the hand-written crate takes.
const RESERVED_TYPES: &[&str] = &[
    "Event",
    "EventType",
    "OrganizationId",
    "PayloadError",
    "SessionId",
    "UserId",
    "VerifiedMessage",
    "Webhook",
    "WebhookError",
    "WebhookEvent",
];
/// Variant names of `Event` the hand-written fallbacks take.
const RESERVED_VARIANTS: &[&str] = &["Unknown", "Undecoded"];

/// The generated files (name in `OUTPUT_DIR`, formatted text) and what they hold.
pub(crate) struct WebhookFiles {
    /// `(file name, contents)`, sorted by name.
    pub(crate) files: Vec<(String, String)>,
    /// Event types.
    pub(crate) events: usize,
    /// Generated types (structs and enums).
    pub(crate) types: usize,
    /// Examples walked.
    pub(crate) examples: usize,
    /// Fields the schema requires that are `Option` because an example lacks them (`Type.field`).
    pub(crate) demoted: Vec<String>,
}

impl WebhookFiles {
    /// A one-line summary.
    pub(crate) fn summary(&self) -> String {
        let bytes: usize = self.files.iter().map(|(_, t)| t.len()).sum();
        format!(
            "{} files, {} event types, {} types, {} examples checked, {} required fields optional per the examples, \
             {} bytes",
            self.files.len(),
            self.events,
            self.types,
            self.examples,
            self.demoted.len(),
            bytes
        )
    }
}

/// Generates and formats every file of `OUTPUT_DIR` from the parsed webhooks spec (`root` is the workspace root).
pub(crate) fn generate(doc: &Yaml, spec_name: &str, root: &Path) -> Result<WebhookFiles, String> {
    let mut g = Gen::new(doc)?;
    g.collect()?;
    let examples = g.check_examples()?;
    g.check_overrides()?;
    let mut files = g.render(spec_name);
    for (name, text) in &mut files {
        *text = crate::codegen_api::rustfmt(&format!("webhooks {name}"), text, root)?;
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(WebhookFiles {
        files,
        events: g.events.len(),
        types: g.types.len(),
        examples,
        demoted: g.demoted.iter().map(|(t, f)| format!("{t}.{f}")).collect(),
    })
}

// ---------------------------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------------------------

/// A Rust type.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ty {
    /// `String`.
    Str,
    /// `i64`.
    I64,
    /// `f64`.
    F64,
    /// `bool`.
    Bool,
    /// `serde_json::Value`.
    Json,
    /// `serde_json::Map<String, serde_json::Value>`.
    JsonMap,
    /// A `clerk-core` id newtype.
    Id(&'static str),
    /// `Vec<T>`.
    Vec(Box<Self>),
    /// A generated type.
    Named(String),
}

/// One struct field.
#[derive(Debug, Clone)]
struct Field {
    /// The JSON name.
    json: String,
    /// The Rust name.
    rust: String,
    /// The type (without `Option`).
    ty: Ty,
    /// Required by the schema.
    required: bool,
    /// `nullable: true`.
    nullable: bool,
    /// The doc text.
    doc: String,
    /// The deprecation note.
    deprecated: Option<String>,
}

/// What a generated type is.
#[derive(Debug, Clone)]
enum Def {
    /// A struct (with `extra`).
    Struct { fields: Vec<Field> },
    /// An open string enum.
    Enum { values: Vec<String> },
}

/// One generated type.
#[derive(Debug, Clone)]
struct TypeDef {
    /// The doc text.
    doc: String,
    /// The definition.
    def: Def,
}

/// One event type.
struct EventDef {
    /// `user.created`.
    name: String,
    /// `UserCreated`.
    variant: String,
    /// The description.
    doc: String,
    /// The data type.
    data: Ty,
    /// The example payload (the whole envelope), when the spec has one.
    example: Option<Json>,
}

/// The generator's state.
struct Gen<'a> {
    /// The spec.
    doc: &'a Yaml,
    /// `components.schemas`.
    schemas: &'a serde_yaml::Mapping,
    /// Every generated type by name.
    types: BTreeMap<String, TypeDef>,
    /// Type names in rendering order.
    order: Vec<String>,
    /// Component schema name → Rust name, for those generated or being generated.
    components: BTreeMap<String, String>,
    /// The event types, in the spec's order.
    events: Vec<EventDef>,
    /// `TYPE_NAMES` entries used.
    renames_used: BTreeSet<&'static str>,
    /// `(type, field)` required by the schema but absent or null in an example.
    demoted: BTreeSet<(String, String)>,
}

/// `schema.key` as a string.
fn ystr<'y>(schema: &'y Yaml, key: &str) -> Option<&'y str> {
    schema.get(key).and_then(Yaml::as_str)
}

/// `schema.key` as a bool (absent is false).
fn ybool(schema: &Yaml, key: &str) -> bool {
    schema.get(key).and_then(Yaml::as_bool).unwrap_or(false)
}

/// The `required` list of a schema.
fn required_of(schema: &Yaml) -> BTreeSet<String> {
    schema
        .get("required")
        .and_then(Yaml::as_sequence)
        .map(|s| s.iter().filter_map(Yaml::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The properties of an object schema, `allOf` parts merged (later parts win, keeping the first position), with the
/// schema each property comes from.
struct Props<'y> {
    /// `(name, schema, owning component schema)`.
    list: Vec<(String, &'y Yaml, Option<String>)>,
    /// The required names.
    required: BTreeSet<String>,
}

impl<'a> Gen<'a> {
    /// A generator over a parsed spec.
    fn new(doc: &'a Yaml) -> Result<Self, String> {
        let schemas = doc
            .get("components")
            .and_then(|c| c.get("schemas"))
            .and_then(Yaml::as_mapping)
            .ok_or("codegen: the webhooks spec has no `components.schemas`")?;
        Ok(Self {
            doc,
            schemas,
            types: BTreeMap::new(),
            order: Vec::new(),
            components: BTreeMap::new(),
            events: Vec::new(),
            renames_used: BTreeSet::new(),
            demoted: BTreeSet::new(),
        })
    }

    /// A component schema by name.
    fn schema(&self, name: &str, at: &str) -> Result<&'a Yaml, String> {
        self.schemas.get(name).ok_or_else(|| format!("codegen: {at}: `{SCHEMA_PREFIX}{name}` does not exist"))
    }

    /// The component name of a `$ref`.
    fn ref_name<'s>(reference: &'s str, at: &str) -> Result<&'s str, String> {
        reference
            .strip_prefix(SCHEMA_PREFIX)
            .filter(|n| !n.contains('/'))
            .ok_or_else(|| format!("codegen: {at}: unsupported `$ref` `{reference}`"))
    }

    /// The Rust name of a rule name, after `TYPE_NAMES`.
    fn rename(&mut self, rule: &str) -> String {
        match TYPE_NAMES.iter().find(|(from, _)| *from == rule) {
            Some((from, to)) => {
                self.renames_used.insert(from);
                (*to).to_owned()
            }
            None => rule.to_owned(),
        }
    }

    /// Registers a type; a second definition under the same name must have the same shape.
    fn define(&mut self, name: &str, def: TypeDef, at: &str) -> Result<(), String> {
        if RESERVED_TYPES.contains(&name) {
            return Err(format!(
                "codegen: {at}: the type name `{name}` is taken by the crate: rename it in TYPE_NAMES"
            ));
        }
        if let Some(existing) = self.types.get(name) {
            if shape(&existing.def) == shape(&def.def) {
                return Ok(());
            }
            return Err(format!(
                "codegen: {at}: two different types are named `{name}`: rename one in TYPE_NAMES (codegen_webhooks.rs)"
            ));
        }
        self.order.push(name.to_owned());
        self.types.insert(name.to_owned(), def);
        Ok(())
    }

    /// Generates every component schema (in the spec's order) and the event types.
    fn collect(&mut self) -> Result<(), String> {
        let names: Vec<String> = self.schemas.keys().filter_map(Yaml::as_str).map(str::to_owned).collect();
        for name in &names {
            if name == ENVELOPE {
                let envelope = self.schema(name, name)?;
                let attributes = envelope
                    .get("properties")
                    .and_then(|p| p.get("event_attributes"))
                    .ok_or_else(|| format!("codegen: `{ENVELOPE}` has no `event_attributes`"))?;
                self.field_type(attributes, "", "event_attributes", None, ENVELOPE)?;
            } else {
                self.component(name, name)?;
            }
        }
        if !self.types.contains_key("EventAttributes") {
            return Err("codegen: `EventAttributes` was not generated".to_owned());
        }
        self.collect_events()
    }

    /// The event types of `x-webhooks`.
    fn collect_events(&mut self) -> Result<(), String> {
        let hooks = self
            .doc
            .get("x-webhooks")
            .and_then(Yaml::as_mapping)
            .ok_or("codegen: the webhooks spec has no `x-webhooks`")?;
        let mut variants = BTreeSet::new();
        for (name, item) in hooks {
            let name = name.as_str().ok_or("codegen: an `x-webhooks` key is not a string")?.to_owned();
            let op = item.get("post").ok_or_else(|| format!("codegen: {name}: no `post` operation"))?;
            let media = op
                .get("requestBody")
                .and_then(|b| b.get("content"))
                .and_then(|c| c.get("application/json"))
                .ok_or_else(|| format!("codegen: {name}: no `application/json` request body"))?;
            let schema = media.get("schema").ok_or_else(|| format!("codegen: {name}: no request schema"))?;
            let data = Self::data_schema(schema).ok_or_else(|| format!("codegen: {name}: no `data` property"))?;
            let variant = camel(&name);
            if variant.is_empty() || RESERVED_VARIANTS.contains(&variant.as_str()) || !variants.insert(variant.clone())
            {
                return Err(format!("codegen: {name}: the variant name `{variant}` is empty, reserved or taken"));
            }
            let data = match data.get("$ref").and_then(Yaml::as_str) {
                Some(reference) => Ty::Named(self.component(Self::ref_name(reference, &name)?, &name)?),
                None => {
                    let rule = format!("{variant}Payload");
                    let rust = self.rename(&rule);
                    let doc = format!("The data of a `{name}` event.");
                    self.object(data, &rust, None, doc, &name)?;
                    Ty::Named(rust)
                }
            };
            let example = self.example(media, &name)?;
            let doc = ystr(op, "description").map(first_paragraph).unwrap_or_default();
            self.events.push(EventDef { name, variant, doc, data, example });
        }
        if self.events.is_empty() {
            return Err("codegen: the webhooks spec lists no event types".to_owned());
        }
        Ok(())
    }

    /// The `data` property schema of an event's request schema (`allOf: [envelope, {properties: {data}}]`).
    fn data_schema(schema: &Yaml) -> Option<&Yaml> {
        if let Some(data) = schema.get("properties").and_then(|p| p.get("data")) {
            return Some(data);
        }
        schema.get("allOf")?.as_sequence()?.iter().find_map(Self::data_schema)
    }

    /// An event's example: inline `example`, else the first of `examples` (resolving `#/components/examples`).
    fn example(&self, media: &Yaml, at: &str) -> Result<Option<Json>, String> {
        if let Some(example) = media.get("example") {
            return crate::codegen::to_json(example, at).map(Some);
        }
        let Some(first) = media.get("examples").and_then(Yaml::as_mapping).and_then(|m| m.values().next()) else {
            return Ok(None);
        };
        let example = match first.get("$ref").and_then(Yaml::as_str) {
            Some(reference) => {
                let name = reference
                    .strip_prefix(EXAMPLE_PREFIX)
                    .ok_or_else(|| format!("codegen: {at}: unsupported example `$ref` `{reference}`"))?;
                self.doc
                    .get("components")
                    .and_then(|c| c.get("examples"))
                    .and_then(|e| e.get(name))
                    .ok_or_else(|| format!("codegen: {at}: example `{reference}` does not exist"))?
            }
            None => first,
        };
        let value = example.get("value").ok_or_else(|| format!("codegen: {at}: an example has no `value`"))?;
        crate::codegen::to_json(value, at).map(Some)
    }

    /// The Rust name of a component schema, generating it on first use.
    fn component(&mut self, name: &str, at: &str) -> Result<String, String> {
        if let Some(rust) = self.components.get(name) {
            return Ok(rust.clone());
        }
        let schema = self.schema(name, at)?;
        let rule = camel(name);
        let rust = self.rename(&rule);
        self.components.insert(name.to_owned(), rust.clone());
        let doc = doc_or(ystr(schema, "description"), &format!("The `{name}` object."));
        if schema.get("enum").is_some() || ystr(schema, "type").is_some_and(|t| t != "object") {
            return Err(format!("codegen: {at}: the component `{name}` is not an object (unsupported)"));
        }
        self.object(schema, &rust, Some(name), doc, at)?;
        Ok(rust)
    }

    /// Collects the properties of an object schema through `allOf` and `$ref`s.
    fn props(&self, schema: &'a Yaml, owner: Option<&str>, out: &mut Props<'a>, at: &str) -> Result<(), String> {
        if let Some(reference) = schema.get("$ref").and_then(Yaml::as_str) {
            let name = Self::ref_name(reference, at)?;
            return self.props(self.schema(name, at)?, Some(name), out, at);
        }
        if let Some(parts) = schema.get("allOf").and_then(Yaml::as_sequence) {
            for part in parts {
                self.props(part, owner, out, at)?;
            }
        }
        if let Some(props) = schema.get("properties").and_then(Yaml::as_mapping) {
            for (name, prop) in props {
                let name = name.as_str().ok_or_else(|| format!("codegen: {at}: a property name is not a string"))?;
                let entry = (name.to_owned(), prop, owner.map(str::to_owned));
                match out.list.iter_mut().find(|(n, _, _)| n == name) {
                    Some(slot) => *slot = entry,
                    None => out.list.push(entry),
                }
            }
        }
        out.required.extend(required_of(schema));
        Ok(())
    }

    /// Generates a struct for an object schema (properties and `allOf` parts).
    fn object(
        &mut self,
        schema: &'a Yaml,
        rust: &str,
        owner: Option<&str>,
        doc: String,
        at: &str,
    ) -> Result<(), String> {
        let mut props = Props { list: Vec::new(), required: BTreeSet::new() };
        self.props(schema, owner, &mut props, at)?;
        let mut fields = Vec::new();
        for (json, prop, prop_owner) in &props.list {
            let at = format!("{at}.{json}");
            let required = props.required.contains(json);
            // A property merged in from another component names its nested types after that component, so they
            // are the component's own types (`SessionStatus`, not `SessionEventPayloadStatus`).
            let parent = match prop_owner.as_deref() {
                Some(o) if Some(o) != owner => self.component(o, &at)?,
                _ => rust.to_owned(),
            };
            fields.push(self.field(prop, &parent, json, prop_owner.as_deref().or(owner), required, &at)?);
        }
        self.finish_struct(rust, doc, fields, at)
    }

    /// Checks the field names and registers a struct.
    fn finish_struct(&mut self, rust: &str, doc: String, fields: Vec<Field>, at: &str) -> Result<(), String> {
        let mut seen = BTreeSet::new();
        for f in &fields {
            if f.rust == "extra" || !seen.insert(f.rust.clone()) {
                return Err(format!("codegen: {at}: the field name `{}` is taken", f.rust));
            }
        }
        self.define(rust, TypeDef { doc, def: Def::Struct { fields } }, at)
    }

    /// One field of a struct.
    fn field(
        &mut self,
        prop: &'a Yaml,
        parent: &str,
        json: &str,
        owner: Option<&str>,
        required: bool,
        at: &str,
    ) -> Result<Field, String> {
        let (ty, nullable) = self.field_type(prop, parent, json, owner, at)?;
        let target = self.target(prop, at)?;
        let description = ystr(prop, "description").or_else(|| target.and_then(|t| ystr(t, "description")));
        let mut text = doc_or(description, &generic_field_doc(json));
        if let (Some(v), Ty::Str) = (single_value(prop), &ty) {
            let _ = write!(text, " Always `{v}`.");
        }
        let deprecated = ybool(prop, "deprecated").then(|| deprecation_note(description.unwrap_or_default(), false));
        Ok(Field { json: json.to_owned(), rust: field_ident(json), ty, required, nullable, doc: text, deprecated })
    }

    /// The component a property refers to (directly or through a single `allOf`/`oneOf`), if any.
    fn target(&self, prop: &'a Yaml, at: &str) -> Result<Option<&'a Yaml>, String> {
        if let Some(reference) = prop.get("$ref").and_then(Yaml::as_str) {
            return self.schema(Self::ref_name(reference, at)?, at).map(Some);
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some([only]) = prop.get(key).and_then(Yaml::as_sequence).map(Vec::as_slice) {
                return self.target(only, at);
            }
        }
        Ok(None)
    }

    /// The type of a property, and whether it is nullable.
    fn field_type(
        &mut self,
        prop: &'a Yaml,
        parent: &str,
        json: &str,
        owner: Option<&str>,
        at: &str,
    ) -> Result<(Ty, bool), String> {
        let nullable = ybool(prop, "nullable");
        if let Some(reference) = prop.get("$ref").and_then(Yaml::as_str) {
            let name = Self::ref_name(reference, at)?;
            let target_nullable = ybool(self.schema(name, at)?, "nullable");
            return Ok((Ty::Named(self.component(name, at)?), nullable || target_nullable));
        }
        let inline = || format!("{parent}{}", camel(json));
        for key in ["allOf", "oneOf", "anyOf"] {
            let Some(parts) = prop.get(key).and_then(Yaml::as_sequence) else { continue };
            if let [only] = parts.as_slice() {
                let (ty, inner) = self.field_type(only, parent, json, owner, at)?;
                return Ok((ty, nullable || inner));
            }
            let rule = inline();
            let rust = self.rename(&rule);
            let doc_at = if parent.is_empty() { json.to_owned() } else { format!("{parent}.{json}") };
            if key == "allOf" {
                let doc = format!("`{doc_at}`.");
                self.object(prop, &rust, owner, doc, at)?;
            } else {
                self.union(parts, &rust, &doc_at, at)?;
            }
            return Ok((Ty::Named(rust), nullable));
        }
        let ty = match ystr(prop, "type") {
            Some("string") => {
                let values: Vec<String> = prop
                    .get("enum")
                    .and_then(Yaml::as_sequence)
                    .map(|v| v.iter().filter_map(Yaml::as_str).map(str::to_owned).collect())
                    .unwrap_or_default();
                if values.len() >= 2 {
                    let rule = inline();
                    let rust = self.rename(&rule);
                    let doc = doc_or(ystr(prop, "description"), &format!("The values of `{parent}.{json}`."));
                    self.define(&rust, TypeDef { doc, def: Def::Enum { values } }, at)?;
                    Ty::Named(rust)
                } else if json == "id" && owner.is_some() {
                    ID_NEWTYPES.iter().find(|(s, _)| Some(*s) == owner).map_or(Ty::Str, |(_, id)| Ty::Id(id))
                } else {
                    ID_FIELDS.iter().find(|(f, _)| *f == json).map_or(Ty::Str, |(_, id)| Ty::Id(id))
                }
            }
            Some("integer") => Ty::I64,
            Some("number") => Ty::F64,
            Some("boolean") => Ty::Bool,
            Some("array") => {
                let items = prop.get("items").ok_or_else(|| format!("codegen: {at}: an array without `items`"))?;
                let (item, _) = self.field_type(items, &format!("{parent}{}", camel(json)), "item", owner, at)?;
                Ty::Vec(Box::new(item))
            }
            Some("object") | None
                if prop.get("properties").and_then(Yaml::as_mapping).is_some_and(|p| !p.is_empty()) =>
            {
                let rule = inline();
                let rust = self.rename(&rule);
                let doc_at = if parent.is_empty() { json.to_owned() } else { format!("{parent}.{json}") };
                let doc = doc_or(ystr(prop, "description"), &format!("`{doc_at}`."));
                self.object(prop, &rust, None, doc, at)?;
                Ty::Named(rust)
            }
            Some("object") => Ty::JsonMap,
            None => Ty::Json,
            Some(other) => return Err(format!("codegen: {at}: unsupported type `{other}`")),
        };
        Ok((ty, nullable))
    }

    /// A `oneOf`/`anyOf` of several shapes: one struct with the fields of every variant. A field is required when
    /// every variant requires it; a field whose schemas differ between variants keeps their common JSON type.
    fn union(&mut self, parts: &'a [Yaml], rust: &str, doc_at: &str, at: &str) -> Result<(), String> {
        let mut variants: Vec<(Option<String>, Props<'a>)> = Vec::new();
        for part in parts {
            let name = part.get("$ref").and_then(Yaml::as_str).map(|r| Self::ref_name(r, at)).transpose()?;
            let mut props = Props { list: Vec::new(), required: BTreeSet::new() };
            self.props(part, name, &mut props, at)?;
            variants.push((name.map(str::to_owned), props));
        }
        let mut names: Vec<&str> = Vec::new();
        for (_, props) in &variants {
            for (json, _, _) in &props.list {
                if !names.contains(&json.as_str()) {
                    names.push(json);
                }
            }
        }
        let mut fields = Vec::new();
        for json in names {
            let at = format!("{at}.{json}");
            let mut schemas: Vec<(&'a Yaml, Option<&str>)> = Vec::new();
            let mut required = true;
            for (_, props) in &variants {
                match props.list.iter().find(|(n, _, _)| n == json) {
                    Some((_, schema, owner)) => schemas.push((*schema, owner.as_deref())),
                    None => required = false,
                }
                required &= props.required.contains(json);
            }
            let (first, owner) = schemas[0];
            if schemas.iter().all(|(s, _)| strip(s) == strip(first)) {
                fields.push(self.field(first, rust, json, owner, required, &at)?);
            } else {
                // Differing schemas: their common JSON type, and no nested type is generated for any of them.
                fields.push(Field {
                    json: json.to_owned(),
                    rust: field_ident(json),
                    ty: common_type(schemas.iter().map(|(s, _)| *s)),
                    required,
                    nullable: schemas.iter().any(|(s, _)| ybool(s, "nullable")),
                    doc: doc_or(ystr(first, "description"), &generic_field_doc(json)),
                    deprecated: None,
                });
            }
        }
        let refs: Vec<String> =
            variants.iter().filter_map(|(n, _)| n.as_deref()).map(|n| format!("[`{}`]", camel(n))).collect();
        let doc = if refs.len() == variants.len() {
            format!("`{doc_at}`: one of {}, as one struct with the fields of all.", refs.join(", "))
        } else {
            format!("`{doc_at}`: one of several shapes, as one struct with the fields of all.")
        };
        self.finish_struct(rust, doc, fields, at)
    }

    /// Fails on `TYPE_NAMES` entries the spec no longer needs.
    fn check_overrides(&self) -> Result<(), String> {
        let stale: Vec<&str> =
            TYPE_NAMES.iter().map(|(from, _)| *from).filter(|from| !self.renames_used.contains(from)).collect();
        if stale.is_empty() {
            Ok(())
        } else {
            Err(format!("codegen: stale TYPE_NAMES entries in xtask/src/codegen_webhooks.rs: {}", stale.join(", ")))
        }
    }

    // -----------------------------------------------------------------------------------------------------------
    // Examples
    // -----------------------------------------------------------------------------------------------------------

    /// Walks every event example through the types: records required fields the examples lack (they become
    /// `Option`) and fails on values of the wrong JSON type. Answers how many examples were walked.
    fn check_examples(&mut self) -> Result<usize, String> {
        let mut demoted = BTreeSet::new();
        let mut count = 0;
        for event in &self.events {
            let Some(example) = &event.example else { continue };
            count += 1;
            let at = format!("the example of `{}`", event.name);
            if example.get("type").and_then(Json::as_str) != Some(event.name.as_str()) {
                return Err(format!("codegen: {at}: its `type` is not `{}`", event.name));
            }
            let data = example.get("data").ok_or_else(|| format!("codegen: {at}: no `data`"))?;
            self.observe(data, &event.data, &format!("{at}: data"), &mut demoted)?;
            if let Some(attributes) = example.get("event_attributes") {
                let ty = Ty::Named("EventAttributes".to_owned());
                self.observe(attributes, &ty, &format!("{at}: event_attributes"), &mut demoted)?;
            }
        }
        self.demoted = demoted;
        Ok(count)
    }

    /// Checks one example value against a type.
    fn observe(&self, value: &Json, ty: &Ty, at: &str, demoted: &mut BTreeSet<(String, String)>) -> Result<(), String> {
        let fits = match ty {
            Ty::Str | Ty::Id(_) => value.is_string(),
            Ty::I64 => value.as_i64().is_some(),
            Ty::F64 => value.is_number(),
            Ty::Bool => value.is_boolean(),
            Ty::Json => true,
            Ty::JsonMap => value.is_object(),
            Ty::Vec(item) => {
                let items = value.as_array().ok_or_else(|| format!("codegen: {at}: expected an array"))?;
                for (i, v) in items.iter().enumerate() {
                    self.observe(v, item, &format!("{at}[{i}]"), demoted)?;
                }
                true
            }
            Ty::Named(name) => match self.types.get(name).map(|t| &t.def) {
                Some(Def::Enum { .. }) => value.is_string(),
                Some(Def::Struct { fields }) => {
                    let object = value.as_object().ok_or_else(|| format!("codegen: {at}: expected an object"))?;
                    for f in fields {
                        match object.get(&f.json) {
                            None | Some(Json::Null) => {
                                if f.required && !f.nullable {
                                    demoted.insert((name.clone(), f.json.clone()));
                                }
                            }
                            Some(v) => self.observe(v, &f.ty, &format!("{at}.{}", f.json), demoted)?,
                        }
                    }
                    true
                }
                None => return Err(format!("codegen: {at}: unknown type `{name}`")),
            },
        };
        if fits { Ok(()) } else { Err(format!("codegen: {at}: the example value does not fit `{ty:?}`")) }
    }

    // -----------------------------------------------------------------------------------------------------------
    // Rendering
    // -----------------------------------------------------------------------------------------------------------

    /// Whether a field is an `Option`.
    fn optional(&self, owner: &str, f: &Field) -> bool {
        !f.required || f.nullable || self.demoted.contains(&(owner.to_owned(), f.json.clone()))
    }

    /// A type as Rust source.
    fn rty(ty: &Ty) -> String {
        match ty {
            Ty::Str => "String".to_owned(),
            Ty::I64 => "i64".to_owned(),
            Ty::F64 => "f64".to_owned(),
            Ty::Bool => "bool".to_owned(),
            Ty::Json => "serde_json::Value".to_owned(),
            Ty::JsonMap => "serde_json::Map<String, serde_json::Value>".to_owned(),
            Ty::Id(id) => (*id).to_owned(),
            Ty::Vec(t) => format!("Vec<{}>", Self::rty(t)),
            Ty::Named(n) => n.clone(),
        }
    }

    /// Renders every file (unformatted).
    fn render(&self, spec_name: &str) -> Vec<(String, String)> {
        let header = format!("// @generated by `cargo xtask codegen` from {spec_name} — do not edit.\n");
        let mut files = Vec::new();

        let mut m = header.clone();
        m.push_str("//! The generated half of the crate: the spec's schemas as types and its event types.\n\n");
        m.push_str("mod events;\npub mod models;\n\npub use events::*;\n");
        files.push(("mod.rs".to_owned(), m));

        let mut body = String::new();
        for name in &self.order {
            self.render_type(&mut body, name, &self.types[name]);
        }
        let mut out = header.clone();
        out.push_str(
            "//! The component schemas of the webhooks spec, one type each, and the types nested in them.\n//!\n\
             //! Every struct keeps the properties it does not model in `extra`; string enums are open.\n\n",
        );
        let used: BTreeSet<&str> = self
            .types
            .values()
            .filter_map(|t| match &t.def {
                Def::Struct { fields } => Some(fields.iter().filter_map(|f| id_of(&f.ty))),
                Def::Enum { .. } => None,
            })
            .flatten()
            .collect();
        let ids: Vec<&str> = used.into_iter().collect();
        if !ids.is_empty() {
            let _ = writeln!(out, "use clerk_core::{{{}}};\n", ids.join(", "));
        }
        if body.contains("open_enum!") {
            out.push_str("use crate::macros::open_enum;\n\n");
        }
        out.push_str(&body);
        files.push(("models.rs".to_owned(), out));

        files.push(("events.rs".to_owned(), self.render_events(&header)));
        files
    }

    /// One type.
    fn render_type(&self, out: &mut String, name: &str, t: &TypeDef) {
        match &t.def {
            Def::Enum { values } => {
                out.push_str("open_enum! {\n");
                doc(out, "    ", &t.doc);
                let _ = writeln!(out, "    {name} {{");
                for (variant, value) in enum_variants(values) {
                    let _ = writeln!(out, "        /// `{value}`");
                    let _ = writeln!(out, "        {variant} => {value:?},");
                }
                out.push_str("    }\n}\n\n");
            }
            Def::Struct { fields } => {
                doc(out, "", &t.doc);
                out.push_str("#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]\n");
                out.push_str("#[non_exhaustive]\n");
                let _ = writeln!(out, "pub struct {name} {{");
                for f in fields {
                    let mut text = f.doc.clone();
                    if let Some(note) = &f.deprecated {
                        let _ = write!(text, "\n\nDeprecated: {}", sentence(&sanitize(note)));
                    }
                    if f.required && !f.nullable && self.optional(name, f) {
                        text.push_str(
                            "\n\nRequired by the spec, but the spec's own examples omit it (or send `null`), so it is \
                             optional here.",
                        );
                    }
                    doc(out, "    ", &text);
                    let inner = Self::rty(&f.ty);
                    let mut attrs: Vec<String> = Vec::new();
                    if f.rust.trim_start_matches("r#") != f.json {
                        attrs.push(format!("rename = {:?}", f.json));
                    }
                    let ty = if self.optional(name, f) {
                        attrs.push("default".to_owned());
                        attrs.push("skip_serializing_if = \"Option::is_none\"".to_owned());
                        format!("Option<{inner}>")
                    } else {
                        if matches!(f.ty, Ty::Vec(_) | Ty::JsonMap) {
                            attrs.push("default".to_owned());
                        }
                        inner
                    };
                    if !attrs.is_empty() {
                        let _ = writeln!(out, "    #[serde({})]", attrs.join(", "));
                    }
                    let _ = writeln!(out, "    pub {}: {ty},", f.rust);
                }
                out.push_str("    /// Properties this version of the SDK does not model, kept as received.\n");
                out.push_str("    #[serde(flatten)]\n");
                out.push_str("    pub extra: serde_json::Map<String, serde_json::Value>,\n");
                out.push_str("}\n\n");
            }
        }
    }

    /// `events.rs`: `EventType`, `Event` and its decoding.
    fn render_events(&self, header: &str) -> String {
        let mut out = header.to_owned();
        out.push_str("//! The event types of the webhooks spec and the typed [`Event`].\n\n");
        out.push_str("use super::models::*;\nuse crate::macros::open_enum;\n\n");

        out.push_str("open_enum! {\n");
        doc(
            &mut out,
            "    ",
            "The type of a webhook event (its `type`), as Clerk spells it. Values this version of the SDK does not \
             know are kept in `Unknown`.",
        );
        out.push_str("    EventType {\n");
        for e in &self.events {
            doc(&mut out, "        ", &event_doc(e));
            let _ = writeln!(out, "        {} => {:?},", e.variant, e.name);
        }
        out.push_str("    }\n}\n\n");

        out.push_str("impl EventType {\n");
        out.push_str("    /// Every event type of the spec, in its order.\n");
        out.push_str("    pub const ALL: &'static [Self] = &[\n");
        for e in &self.events {
            let _ = writeln!(out, "        Self::{},", e.variant);
        }
        out.push_str("    ];\n}\n\n");

        doc(
            &mut out,
            "",
            "A webhook event's data, typed by the event's type.\n\nOne variant per event type of the spec, holding \
             the `data` object decoded into its model (boxed: the models are large). An event type this version of \
             the SDK does not know is [`Event::Unknown`]; a known type whose `data` does not fit its model is \
             [`Event::Undecoded`]. Neither is an error, and neither loses data.",
        );
        out.push_str("#[derive(Debug, Clone, PartialEq)]\n#[non_exhaustive]\npub enum Event {\n");
        for e in &self.events {
            let data = Self::rty(&e.data);
            doc(&mut out, "    ", &format!("{} Data: [`{data}`].", event_doc(e)));
            let _ = writeln!(out, "    {}(Box<{data}>),", e.variant);
        }
        out.push_str(
            "    /// An event type this version of the SDK does not know, its `data` kept as received.
    Unknown {
        /// The event's `type`.
        event_type: String,
        /// The event's `data`.
        data: serde_json::Value,
    },
    /// A known event type whose `data` does not fit its model (Clerk changed the shape, or the sender is not
    /// Clerk), kept as received.
    Undecoded {
        /// The event's `type`.
        event_type: String,
        /// The event's `data`.
        data: serde_json::Value,
        /// Where and why decoding stopped: a path into `data` and what was wrong there, never a value.
        error: String,
    },
}

impl Event {
    /// Decodes an event's `data` by its `type`: a typed variant, [`Event::Undecoded`] when the data does not fit
    /// the type's model, [`Event::Unknown`] for a type this version does not know. Never fails.
    #[must_use]
    pub fn decode(event_type: &str, data: &serde_json::Value) -> Self {
        match event_type {
",
        );
        for e in &self.events {
            let _ = writeln!(
                out,
                "            {:?} => crate::event::typed(event_type, data, Self::{}),",
                e.name, e.variant
            );
        }
        out.push_str(
            "            _ => Self::Unknown { event_type: event_type.to_owned(), data: data.clone() },
        }
    }

    /// The event's type, as Clerk spells it (`user.created`).
    #[must_use]
    pub fn event_type(&self) -> &str {
        match self {
",
        );
        for e in &self.events {
            let _ = writeln!(out, "            Self::{}(_) => {:?},", e.variant, e.name);
        }
        out.push_str(
            "            Self::Unknown { event_type, .. } | Self::Undecoded { event_type, .. } => event_type,
        }
    }

    /// The event's type as an [`EventType`].
    #[must_use]
    pub fn kind(&self) -> EventType {
        match self {
",
        );
        for e in &self.events {
            let _ = writeln!(out, "            Self::{}(_) => EventType::{},", e.variant, e.variant);
        }
        out.push_str(
            "            Self::Unknown { event_type, .. } | Self::Undecoded { event_type, .. } => {
                event_type.parse().unwrap_or_else(|never: std::convert::Infallible| match never {})
            }
        }
    }

    /// Whether the data was decoded into its model (not [`Event::Unknown`] or [`Event::Undecoded`]).
    #[must_use]
    pub fn is_typed(&self) -> bool {
        !matches!(self, Self::Unknown { .. } | Self::Undecoded { .. })
    }

    /// The data serialised back to JSON (the typed model, `extra` included), for tests.
    #[doc(hidden)]
    pub fn __data_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
",
        );
        for e in &self.events {
            let _ = writeln!(out, "            Self::{}(data) => serde_json::to_value(data),", e.variant);
        }
        out.push_str(
            "            Self::Unknown { data, .. } | Self::Undecoded { data, .. } => Ok(data.clone()),
        }
    }

    /// The Rust type an event type's data decodes into, for tests.
    #[doc(hidden)]
    #[must_use]
    pub fn __data_type(event_type: &str) -> Option<&'static str> {
        match event_type {
",
        );
        for e in &self.events {
            let _ = writeln!(out, "            {:?} => Some({:?}),", e.name, Self::rty(&e.data));
        }
        out.push_str("            _ => None,\n        }\n    }\n}\n");
        out
    }
}

/// The doc of an event type: "`user.created`: User created."
fn event_doc(e: &EventDef) -> String {
    if e.doc.is_empty() { format!("`{}`.", e.name) } else { format!("`{}`: {}", e.name, sentence(&sanitize(&e.doc))) }
}

/// The id newtype a type is or holds.
fn id_of(ty: &Ty) -> Option<&'static str> {
    match ty {
        Ty::Id(id) => Some(id),
        Ty::Vec(item) => id_of(item),
        _ => None,
    }
}

/// The single value of a one-value string enum.
fn single_value(prop: &Yaml) -> Option<&str> {
    match prop.get("enum").and_then(Yaml::as_sequence).map(Vec::as_slice) {
        Some([only]) => only.as_str(),
        _ => None,
    }
}

/// A schema without annotations, for comparing variants' fields.
fn strip(schema: &Yaml) -> Yaml {
    match schema {
        Yaml::Mapping(map) => {
            let mut out = serde_yaml::Mapping::new();
            for (k, v) in map {
                let key = k.as_str().unwrap_or_default();
                if matches!(key, "description" | "example" | "examples" | "deprecated") || key.starts_with("x-") {
                    continue;
                }
                out.insert(k.clone(), strip(v));
            }
            Yaml::Mapping(out)
        }
        Yaml::Sequence(items) => Yaml::Sequence(items.iter().map(strip).collect()),
        other => other.clone(),
    }
}

/// The common JSON type of differing schemas: `String`, `i64`, `f64`, `bool` when all agree, else `Value`.
fn common_type<'y>(schemas: impl Iterator<Item = &'y Yaml>) -> Ty {
    let kinds: BTreeSet<&str> = schemas.map(|s| ystr(s, "type").unwrap_or("?")).collect();
    match kinds.into_iter().collect::<Vec<_>>().as_slice() {
        ["string"] => Ty::Str,
        ["integer"] => Ty::I64,
        ["integer", "number"] | ["number"] => Ty::F64,
        ["boolean"] => Ty::Bool,
        _ => Ty::Json,
    }
}

/// A definition's shape, for telling two types of one name apart.
fn shape(def: &Def) -> String {
    match def {
        Def::Enum { values } => format!("enum {values:?}"),
        Def::Struct { fields } => {
            let mut out = String::from("struct");
            for f in fields {
                let _ = write!(out, " {}:{:?}:{}:{}", f.json, f.ty, f.required, f.nullable);
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A spec with one event, an inline enum, a union and an example that omits a required field.
    const SPEC: &str = r##"
x-webhooks:
  thing.created:
    post:
      description: Thing created
      requestBody:
        content:
          application/json:
            schema:
              allOf:
                - $ref: '#/components/schemas/WebhookEventPayload'
                - properties:
                    data:
                      $ref: '#/components/schemas/Thing'
            example:
              type: thing.created
              data: {id: t_1, kind: a, verification: {status: x}}
components:
  schemas:
    WebhookEventPayload:
      properties:
        event_attributes:
          type: object
          properties:
            http_request:
              type: object
              properties:
                client_ip: {type: string}
    Thing:
      type: object
      properties:
        id: {type: string}
        user_id: {type: string}
        kind: {type: string, enum: [a, b]}
        count: {type: integer}
        verification:
          oneOf:
            - $ref: '#/components/schemas/VA'
            - $ref: '#/components/schemas/VB'
      required: [id, kind, count]
    VA:
      type: object
      properties:
        status: {type: string, enum: [x]}
      required: [status]
    VB:
      type: object
      properties:
        status: {type: string, enum: [y]}
        extra_b: {type: boolean}
      required: [status]
"##;

    #[test]
    fn builds_types_and_demotes_what_examples_omit() -> Result<(), String> {
        let doc: Yaml = serde_yaml::from_str(SPEC).map_err(|e| e.to_string())?;
        let mut g = Gen::new(&doc)?;
        g.collect()?;
        assert_eq!(g.check_examples()?, 1);
        g.check_overrides().err().ok_or("the stale renames should be reported")?;
        assert!(g.types.contains_key("EventAttributes") && g.types.contains_key("EventAttributesHttpRequest"));
        assert!(matches!(g.types["ThingKind"].def, Def::Enum { .. }));
        let Def::Struct { fields } = &g.types["ThingVerification"].def else { return Err("not a struct".into()) };
        assert_eq!(fields.iter().map(|f| f.json.as_str()).collect::<Vec<_>>(), ["status", "extra_b"]);
        assert_eq!(fields[0].ty, Ty::Str);
        assert!(fields[0].required && !fields[1].required);
        let Def::Struct { fields } = &g.types["Thing"].def else { return Err("not a struct".into()) };
        assert_eq!(fields[1].ty, Ty::Id("UserId"));
        // `count` is required but the example lacks it.
        assert_eq!(g.demoted.iter().cloned().collect::<Vec<_>>(), [("Thing".to_owned(), "count".to_owned())]);
        let files = g.render("spec.yml");
        let events = &files.iter().find(|(n, _)| n == "events.rs").ok_or("no events.rs")?.1;
        assert!(events.contains("ThingCreated(Box<Thing>)"));
        let models = &files.iter().find(|(n, _)| n == "models.rs").ok_or("no models.rs")?.1;
        assert!(models.contains("pub count: Option<i64>,"));
        assert!(models.contains("pub id: String,"));
        Ok(())
    }

    #[test]
    fn a_wrongly_typed_example_fails() -> Result<(), String> {
        let doc: Yaml = serde_yaml::from_str(&SPEC.replace("id: t_1", "id: 5")).map_err(|e| e.to_string())?;
        let mut g = Gen::new(&doc)?;
        g.collect()?;
        let err = g.check_examples().err().ok_or("should fail")?;
        assert!(err.contains("data.id"), "{err}");
        Ok(())
    }
}
