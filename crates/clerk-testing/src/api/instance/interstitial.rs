//! The interstitial: the HTML page that loads Clerk's JavaScript to refresh a session in the browser.

use serde_json::Value;

use super::helpers::frontend_host;
use crate::Shared;
use crate::api::Handled;
use crate::errors::ApiError;
use crate::server::{Ctx, Reply};

pub(super) fn handle(shared: &Shared, ctx: &Ctx) -> Handled {
    let r = match ctx.op.id {
        "GetPublicInterstitial" => interstitial(shared, ctx),
        _ => return None,
    };
    Some(r)
}

fn html_escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A JavaScript string literal that is safe inside `<script>`.
pub(super) fn js_string(v: &str) -> String {
    Value::String(v.to_owned()).to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// The Frontend API host a publishable key names (`pk_test_` + base64 of `host$`).
pub(super) fn publishable_key_host(pk: &str) -> Option<String> {
    use base64::Engine as _;
    let encoded = pk.strip_prefix("pk_test_").or_else(|| pk.strip_prefix("pk_live_"))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded))
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_suffix('$').filter(|h| !h.is_empty() && !h.contains(char::is_whitespace)).map(str::to_owned)
}

fn interstitial(shared: &Shared, ctx: &Ctx) -> Result<Reply, ApiError> {
    let pk = ctx.query_one("publishable_key").filter(|v| !v.is_empty());
    let from_key = match pk {
        Some(k) => Some(
            publishable_key_host(k)
                .ok_or_else(|| ApiError::param_invalid("publishable_key", "is not a publishable key"))?,
        ),
        None => None,
    };
    let frontend_api = ctx
        .query_one("frontend_api")
        .or_else(|| ctx.query_one("frontendApi"))
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .or(from_key)
        .ok_or_else(|| {
            ApiError::new(
                400,
                "missing_frontend_api",
                "missing frontend API",
                "Either frontend_api or publishable_key must be given.",
            )
        })?;
    let proxy_url = ctx.query_one("proxy_url").filter(|v| !v.is_empty());
    let domain = ctx.query_one("domain").filter(|v| !v.is_empty());
    let sign_in_url = ctx.query_one("sign_in_url").filter(|v| !v.is_empty());
    let script_host = match (proxy_url, domain) {
        (Some(p), _) => p.trim_end_matches('/').to_owned(),
        (None, Some(d)) if ctx.query_bool("use_domain_for_script") == Some(true) => format!("https://clerk.{d}"),
        _ if frontend_api.contains("://") => frontend_api.clone(),
        _ if frontend_api == frontend_host(shared) => shared.issuer(),
        _ => format!("https://{frontend_api}"),
    };
    let script = format!("{script_host}/npm/@clerk/clerk-js@5/dist/clerk.browser.js");
    let pk_attr = pk.map(|k| format!(" data-clerk-publishable-key=\"{}\"", html_escape(k))).unwrap_or_default();
    let proxy_attr = proxy_url.map(|p| format!(" data-clerk-proxy-url=\"{}\"", html_escape(p))).unwrap_or_default();
    let domain_attr = domain.map(|d| format!(" data-clerk-domain=\"{}\"", html_escape(d))).unwrap_or_default();
    let opt = |v: Option<&str>| v.map_or_else(|| "undefined".to_owned(), js_string);
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <meta name="robots" content="noindex" />
    <title>Clerk interstitial</title>
    <script>
      window.__clerk_frontend_api = {fapi};
      window.__clerk_publishable_key = {pk};
      window.__clerk_proxy_url = {proxy};
      window.__clerk_domain = {domain};
      window.__clerk_sign_in_url = {sign_in};
      window.startClerk = async () => {{
        function formRedirect() {{
          const form = '<form method="get" action="" name="redirect"></form>';
          document.body.innerHTML = document.body.innerHTML + form;
          const searchParams = new URLSearchParams(window.location.search);
          searchParams.set('__clerk_synced', 'true');
          document.forms.redirect.action = window.location.pathname + '?' + searchParams.toString();
          document.forms.redirect.submit();
        }}
        const Clerk = window.Clerk;
        try {{
          await Clerk.load({{ signInUrl: window.__clerk_sign_in_url }});
          if (Clerk.loaded) {{
            if (window.location.href.indexOf('#') === -1) {{
              window.location.href = window.location.href;
            }} else if (window.navigator.userAgent.toLowerCase().includes('firefox/')) {{
              formRedirect();
            }} else {{
              window.location.reload();
            }}
          }}
        }} catch (err) {{
          console.error('Clerk: ', err);
        }}
      }};
    </script>
    <script src="{src}" data-clerk-frontend-api="{fapi_attr}"{pk_attr}{proxy_attr}{domain_attr} async crossorigin="anonymous" onload="window.startClerk()"></script>
  </head>
  <body></body>
</html>
"#,
        fapi = js_string(&frontend_api),
        pk = opt(pk),
        proxy = opt(proxy_url),
        domain = opt(domain),
        sign_in = opt(sign_in_url),
        src = html_escape(&script),
        fapi_attr = html_escape(&frontend_api),
    );
    Ok(Reply::Html(200, html))
}
