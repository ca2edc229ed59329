//! `examples.rs`: decoding by name, so that a test can check every example of the spec against the generated types
//! without naming them: a component schema's type (`__decode_model`), an operation's answer (`__decode_response`)
//! and one field of a response-side struct (`__decode_field`), plus the type graph a test walks the spec's inline
//! schemas with (`__model_type`, `__response_type`, `__field_type`).

use std::fmt::Write as _;

use super::docs::doc;
use super::{Api, Def, EXAMPLES, Resp, Side, Ty};

/// The generated type a type holds (through `Vec`, maps, `Option` and `Page`), if any.
fn named(ty: &Ty) -> Option<&str> {
    match ty {
        Ty::Named(n) => Some(n),
        Ty::Vec(t) | Ty::Map(t) | Ty::Opt(t) | Ty::Page(t) => named(t),
        _ => None,
    }
}

/// The private decoding helper every function of the file uses.
const DECODE: &str = "/// Decodes `json` into `T` as the client decodes answers; the error names the JSON path.
fn decode<T: serde::de::DeserializeOwned>(json: &str) -> Result<(), String> {
    let mut de = serde_json::Deserializer::from_slice(json.as_bytes());
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(_) => de.end().map_err(|e| e.to_string()),
        Err(e) => Err(format!(\"at `{}`: {}\", e.path(), e.inner())),
    }
}
";

impl Api<'_> {
    /// A type as Rust source from `examples.rs`, with what it needs imported noted in `uses`.
    fn example_ty(&self, ty: &Ty, uses: &mut [bool; 2]) -> String {
        let text = self.rty(ty, EXAMPLES);
        uses[0] |= super::render::mentions(&text, "Timestamp");
        uses[1] |= super::render::mentions(&text, "Page");
        text
    }

    /// Renders `examples.rs` (unformatted).
    pub(super) fn render_examples(&self, header: &str) -> String {
        let mut uses = [false; 2];
        self.models_used.set(false);
        let mut body = String::new();

        // __decode_model and __model_type: every component schema.
        let mut decode_model = String::new();
        let mut model_type = String::new();
        for (name, _) in self.schemas {
            let Some(name) = name.as_str() else { continue };
            let rust = self.type_name(name);
            let ty = self.example_ty(&Ty::Named(rust.clone()), &mut uses);
            let _ = writeln!(decode_model, "        {name:?} => decode::<{ty}>(json),");
            let holder = match self.types.get(&rust).map(|t| &t.def) {
                Some(Def::Alias { ty }) => named(ty).map(str::to_owned),
                Some(_) => Some(rust.clone()),
                None => None,
            };
            if let Some(holder) = holder {
                let _ = writeln!(model_type, "        {name:?} => Some({holder:?}),");
            }
        }
        doc(
            &mut body,
            "",
            "Decodes `json` into the generated type of the component schema `schema` (its struct, enum or alias): \
             `None` for a schema the spec does not have, else whether it decodes (the error names the JSON path).",
        );
        body.push_str("#[doc(hidden)]\n#[must_use]\npub fn __decode_model(schema: &str, json: &str) -> Option<Result<(), String>> {\n");
        let _ = write!(body, "    Some(match schema {{\n{decode_model}        _ => return None,\n    }})\n}}\n\n");
        doc(
            &mut body,
            "",
            "The generated type holding the properties of the component schema `schema`: its own type, or the one \
             its alias wraps (`None` when it wraps no generated type).",
        );
        body.push_str("#[doc(hidden)]\n#[must_use]\npub fn __model_type(schema: &str) -> Option<&'static str> {\n");
        let _ = write!(body, "    match schema {{\n{model_type}        _ => None,\n    }}\n}}\n\n");

        // __decode_response and __response_type: every operation answering JSON.
        let mut decode_response = String::new();
        let mut response_type = String::new();
        for op in &self.ops {
            let Resp::Json(ty) = &op.resp else { continue };
            let text = self.example_ty(ty, &mut uses);
            let _ = writeln!(decode_response, "        {:?} => decode::<{text}>(json),", op.id);
            if let Some(n) = named(ty) {
                let page = matches!(ty, Ty::Page(_));
                let _ = writeln!(response_type, "        {:?} => Some(({n:?}, {page})),", op.id);
            }
        }
        doc(
            &mut body,
            "",
            "Decodes `json` as the answer of the operation `operation_id` (what its builder's `send()` decodes): \
             `None` for an unknown operation or one that does not answer JSON.",
        );
        body.push_str("#[doc(hidden)]\n#[must_use]\npub fn __decode_response(operation_id: &str, json: &str) -> Option<Result<(), String>> {\n");
        let _ =
            write!(body, "    Some(match operation_id {{\n{decode_response}        _ => return None,\n    }})\n}}\n\n");
        doc(
            &mut body,
            "",
            "The generated type of the answer of `operation_id` (the item type for lists) and whether the answer is \
             a `Page` of it.",
        );
        body.push_str(
            "#[doc(hidden)]\n#[must_use]\npub fn __response_type(operation_id: &str) -> Option<(&'static str, bool)> {\n",
        );
        let _ = write!(body, "    match operation_id {{\n{response_type}        _ => None,\n    }}\n}}\n\n");

        // __decode_field and __field_type: every field of every response-side struct.
        let mut decode_field = String::new();
        let mut field_type = String::new();
        for name in &self.order {
            let Some(Def::Struct { fields, side: Side::Response, .. }) = self.types.get(name).map(|t| &t.def) else {
                continue;
            };
            let _ = writeln!(decode_field, "        {name:?} => match field {{");
            let mut nested = String::new();
            for f in fields {
                let inner = self.example_ty(&f.ty, &mut uses);
                let inner = if f.boxed { format!("Box<{inner}>") } else { inner };
                let ty = if f.optional() { format!("Option<{inner}>") } else { inner };
                let _ = writeln!(decode_field, "            {:?} => decode::<{ty}>(json),", f.json);
                if let Some(n) = named(&f.ty) {
                    let _ = writeln!(nested, "            {:?} => Some({n:?}),", f.json);
                }
            }
            decode_field.push_str("            _ => return None,\n        },\n");
            if !nested.is_empty() {
                let _ = write!(
                    field_type,
                    "        {name:?} => match field {{\n{nested}            _ => None,\n        }},\n"
                );
            }
        }
        doc(
            &mut body,
            "",
            "Decodes `json` into the field `field` (its wire name) of the generated response-side struct `ty`, as \
             declared (`Option` when optional or nullable): `None` for an unknown struct or field.",
        );
        body.push_str("#[doc(hidden)]\n#[must_use]\npub fn __decode_field(ty: &str, field: &str, json: &str) -> Option<Result<(), String>> {\n");
        let _ = write!(body, "    Some(match ty {{\n{decode_field}        _ => return None,\n    }})\n}}\n\n");
        doc(
            &mut body,
            "",
            "The generated type held by the field `field` (its wire name) of the response-side struct `ty` (through \
             `Vec`, maps and `Option`): `None` when it holds none.",
        );
        body.push_str(
            "#[doc(hidden)]\n#[must_use]\npub fn __field_type(ty: &str, field: &str) -> Option<&'static str> {\n",
        );
        let _ = write!(body, "    match ty {{\n{field_type}        _ => None,\n    }}\n}}\n\n");
        body.push_str(DECODE);

        let mut out = header.to_owned();
        out.push_str(
            "//! Decoding by name, for the test that checks the spec's examples against the generated types\n",
        );
        out.push_str("//! (`tests/spec_examples.rs`): component schemas, operation answers, fields of response-side structs.\n\n");
        if uses[1] {
            out.push_str("use crate::pagination::Page;\n");
        }
        if uses[0] {
            out.push_str("use crate::types::Timestamp;\n");
        }
        if self.models_used.get() {
            out.push_str("use super::models::*;\n");
        }
        out.push('\n');
        out.push_str(&body);
        out
    }
}
