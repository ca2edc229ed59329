//! JWT templates: named claim sets that session tokens can be minted with.

use serde_json::{Value, json};

use super::State;
use super::helpers::{assign, flag, get, get_mut, remove};
use crate::api::{Handled, list, obj, ok, s};
use crate::errors::ApiError;
use crate::ids;
use crate::server::{Ctx, Reply};
use crate::store::Store;

impl State {
    /// A JWT template by its name.
    pub(crate) fn jwt_template_by_name(&self, name: &str) -> Option<Value> {
        self.jwt_templates.values().find(|t| t["name"] == name).cloned()
    }
}

pub(super) fn handle(store: &mut Store, ctx: &Ctx) -> Handled {
    let r = match ctx.op.id {
        "CreateJWTTemplate" => create_jwt_template(store, ctx),
        "GetJWTTemplate" => {
            get(&store.instance.jwt_templates, ctx.path("template_id"), "JWT template").cloned().and_then(ok)
        }
        "ListJWTTemplates" => list(ctx, store.instance.jwt_templates.values().cloned().collect()),
        "UpdateJWTTemplate" => update_jwt_template(store, ctx),
        "DeleteJWTTemplate" => {
            remove(&mut store.instance.jwt_templates, ctx.path("template_id"), "jwt_template", "JWT template")
        }
        _ => return None,
    };
    Some(r)
}

/// Claims every session token carries; a template cannot set them.
const RESERVED_CLAIMS: [&str; 7] = ["azp", "exp", "iat", "iss", "jti", "nbf", "sub"];

const SIGNING_ALGORITHMS: [&str; 9] = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512"];

/// Checks a create/update body and returns the template fields it sets.
fn jwt_template_fields(st: &State, body: &Value, except: Option<&str>) -> Result<Value, ApiError> {
    let name = s(body, "name").unwrap_or_default().trim().to_owned();
    if name.is_empty() {
        return Err(ApiError::param_invalid("name", "must not be blank"));
    }
    if st.jwt_templates.values().any(|t| t["name"] == name.as_str() && except.is_none_or(|id| t["id"] != id)) {
        return Err(ApiError::conflict(
            "form_identifier_exists",
            "name",
            "A JWT template with this name already exists.",
        ));
    }
    let claims = obj(body, "claims");
    if let Some(reserved) = claims.as_object().and_then(|c| RESERVED_CLAIMS.iter().find(|r| c.contains_key(**r))) {
        return Err(ApiError::unprocessable(
            "jwt_template_reserved_claim",
            format!("The claim {reserved} is reserved and cannot be set by a template."),
        )
        .with_meta(json!({ "param_name": "claims" })));
    }
    let custom = flag(body, "custom_signing_key").unwrap_or(false);
    let algorithm = if custom {
        let alg = s(body, "signing_algorithm").ok_or_else(|| ApiError::param_missing("signing_algorithm"))?;
        if !SIGNING_ALGORITHMS.contains(&alg) {
            return Err(ApiError::param_invalid("signing_algorithm", "is not a supported algorithm"));
        }
        if s(body, "signing_key").is_none_or(str::is_empty) {
            return Err(ApiError::param_missing("signing_key"));
        }
        alg
    } else {
        "RS256"
    };
    Ok(json!({
        "name": name,
        "claims": claims,
        "lifetime": body.get("lifetime").and_then(Value::as_i64).unwrap_or(60),
        "allowed_clock_skew": body.get("allowed_clock_skew").and_then(Value::as_i64).unwrap_or(5),
        "custom_signing_key": custom,
        "signing_algorithm": algorithm,
    }))
}

fn create_jwt_template(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let fields = jwt_template_fields(&store.instance, &ctx.json, None)?;
    let now = store.now_ms();
    let id = ids::new_id("jtmp");
    let mut t = json!({ "object": "jwt_template", "id": id, "created_at": now, "updated_at": now });
    assign(&mut t, &fields);
    store.instance.jwt_templates.insert(id, t.clone());
    ok(t)
}

fn update_jwt_template(store: &mut Store, ctx: &Ctx) -> Result<Reply, ApiError> {
    let id = ctx.path("template_id");
    get(&store.instance.jwt_templates, id, "JWT template")?;
    let fields = jwt_template_fields(&store.instance, &ctx.json, Some(id))?;
    let now = store.now_ms();
    let t = get_mut(&mut store.instance.jwt_templates, id, "JWT template")?;
    // The claims are replaced, not merged.
    assign(t, &fields);
    t["updated_at"] = json!(now);
    ok(t.clone())
}
