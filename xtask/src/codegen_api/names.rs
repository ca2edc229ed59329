//! Rust names from spec names: words, UpperCamel and snake case, identifiers, enum variants.

use super::{KEYWORDS, NON_RAW};

/// The words of an identifier in any case: `getM2MTokens` → get, M2M, Tokens; `SAMLConnection` → SAML, Connection.
/// `OAuth` is one word.
pub(crate) fn words(s: &str) -> Vec<String> {
    let s = s.replace("OAuth", "Oauth");
    let mut out = Vec::new();
    for seg in s.split(|c: char| !c.is_ascii_alphanumeric()).filter(|s| !s.is_empty()) {
        let chars: Vec<char> = seg.chars().collect();
        let mut word = String::new();
        for (i, &c) in chars.iter().enumerate() {
            if i > 0 && c.is_ascii_uppercase() {
                let prev = chars[i - 1];
                let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
                if prev.is_ascii_lowercase() || ((prev.is_ascii_uppercase() || prev.is_ascii_digit()) && next_lower) {
                    out.push(std::mem::take(&mut word));
                }
            }
            word.push(c);
        }
        out.push(word);
    }
    out
}

/// UpperCamel case.
pub(crate) fn camel(s: &str) -> String {
    let mut out = String::new();
    for w in words(s) {
        let lower = w.to_ascii_lowercase();
        let mut chars = lower.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    out
}

/// snake case.
pub(crate) fn snake(s: &str) -> String {
    words(s).iter().map(|w| w.to_ascii_lowercase()).collect::<Vec<_>>().join("_")
}

/// A Rust field or method name for a wire name.
pub(crate) fn field_ident(s: &str) -> String {
    let mut name = snake(s);
    if name.is_empty() {
        name = "field".to_owned();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    if NON_RAW.contains(&name.as_str()) {
        name.push('_');
    } else if KEYWORDS.contains(&name.as_str()) {
        name.insert_str(0, "r#");
    }
    name
}

/// The group struct of an accessor: `organization_memberships` → `OrganizationMemberships`.
pub(crate) fn group_type(group: &str) -> String {
    camel(group)
}

/// Variant names for enum values: UpperCamel, `-x` → `XDesc`, `*` → `Any`, unique.
pub(crate) fn enum_variants(values: &[String]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for v in values {
        let mut name = camel(v);
        if let Some(rest) = v.strip_prefix('-') {
            name = format!("{}Desc", camel(rest));
        }
        if name.is_empty() {
            name = match v.as_str() {
                "" => "Empty".to_owned(),
                "*" => "Any".to_owned(),
                _ => "Value".to_owned(),
            };
        }
        if name.starts_with(|c: char| c.is_ascii_digit()) {
            name.insert(0, 'V');
        }
        if name == "Unknown" || name == "Self" {
            name.push_str("Value");
        }
        let base = name.clone();
        let mut n = 2;
        while out.iter().any(|(existing, _)| *existing == name) {
            name = format!("{base}{n}");
            n += 1;
        }
        out.push((name, v.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(camel("GetJWKS"), "GetJwks");
        assert_eq!(camel("getM2MTokens"), "GetM2mTokens");
        assert_eq!(camel("OAuthApplicationWithSecret"), "OauthApplicationWithSecret");
        assert_eq!(camel("JWKS.ed25519.PublicKey"), "JwksEd25519PublicKey");
        assert_eq!(camel("CommercePlan-2"), "CommercePlan2");
        assert_eq!(camel("verification_otp"), "VerificationOtp");
        assert_eq!(snake("emailSMSTemplates"), "email_sms_templates");
        assert_eq!(snake("generateSvixAuthURL"), "generate_svix_auth_url");
        assert_eq!(snake("RotateSCIMDirectoryAPIKey"), "rotate_scim_directory_api_key");
        assert_eq!(field_ident("type"), "r#type");
        assert_eq!(field_ident("x5t#S256"), "x5t_s256");
        assert_eq!(field_ident("statementID"), "statement_id");
    }

    #[test]
    fn enum_variants_are_unique() {
        let v = enum_variants(&["a_b".into(), "-a_b".into(), "".into(), "*".into(), "unknown".into(), "1x".into()]);
        let names: Vec<&str> = v.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["AB", "ABDesc", "Empty", "Any", "UnknownValue", "V1x"]);
    }
}
