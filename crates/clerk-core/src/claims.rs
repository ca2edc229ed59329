//! Session token claims, v1 and v2, deserialised once into typed structs.

use std::borrow::Cow;

use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::{Deserialize, Serialize};

/// A claim string borrowed from the payload text when it has no JSON escapes (no allocation), owned otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Str<'a>(pub(crate) Cow<'a, str>);

impl Str<'_> {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn into_owned(self) -> String {
        self.0.into_owned()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A claim string kept by the auth object: a range of the payload text it keeps anyway, or owned when the JSON
/// had escapes. Saves one allocation per claim on the verification path.
#[derive(Debug, Clone)]
pub(crate) enum Text {
    Span(u32, u32),
    Owned(Box<str>),
}

impl Text {
    /// `s` as a range of `base` when it points into it, else a copy.
    pub(crate) fn new(s: Str<'_>, base: &str) -> Self {
        if let Cow::Borrowed(b) = &s.0 {
            let start = (b.as_ptr() as usize).wrapping_sub(base.as_ptr() as usize);
            if let (Ok(a), Some(end)) = (u32::try_from(start), start.checked_add(b.len()))
                && end <= base.len()
                && let Ok(e) = u32::try_from(end)
            {
                return Self::Span(a, e);
            }
        }
        Self::Owned(s.0.into_owned().into_boxed_str())
    }

    /// The text, given the same `base`.
    pub(crate) fn get<'s>(&'s self, base: &'s str) -> &'s str {
        match self {
            Self::Span(a, e) => base.get(*a as usize..*e as usize).unwrap_or_default(),
            Self::Owned(s) => s,
        }
    }
}

/// A JWT NumericDate, kept in milliseconds so fractional seconds compare exactly as the official SDKs compare them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct NumericDate(pub(crate) i64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NumericDate;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number of seconds since the epoch")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumericDate, E> {
                i64::try_from(v)
                    .ok()
                    .and_then(|v| v.checked_mul(1000))
                    .map(NumericDate)
                    .ok_or_else(|| E::custom("date out of range"))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumericDate, E> {
                v.checked_mul(1000).map(NumericDate).ok_or_else(|| E::custom("date out of range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NumericDate, E> {
                let ms = v * 1000.0;
                if ms.is_finite() && ms.abs() < 9.0e15 {
                    #[allow(clippy::cast_possible_truncation)]
                    Ok(NumericDate(ms.floor() as i64))
                } else {
                    Err(E::custom("date out of range"))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// An `aud` claim: a string or an array of strings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub(crate) enum Audience {
    One(String),
    Many(Vec<String>),
}

/// The impersonator of an impersonated session (`act`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Actor {
    /// The actor's user id (or another subject).
    pub sub: String,
    /// The actor's issuer, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The actor's session id, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The actor type, when given.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub actor_type: Option<String>,
}

/// v2 organization claim `o`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub(crate) struct OrgV2<'a> {
    #[serde(borrow)]
    pub(crate) id: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) slg: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) rol: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) per: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) fpm: Option<Str<'a>>,
}

/// A field that must not make the whole token invalid when malformed: it reads as absent and checks fail closed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Lenient<T>(pub(crate) Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Self(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either<T> {
            Ok(T),
            Other(IgnoredAny),
        }
        Ok(match Either::<T>::deserialize(d)? {
            Either::Ok(v) => Self(Some(v)),
            Either::Other(_) => Self(None),
        })
    }
}

/// The `fva` claim: minutes since the first and the second factor were verified. Informational, so never fatal: any
/// value but exactly two integers reads as absent (and reverification checks fail closed). Parsed in one pass
/// without buffering the value (an untagged enum would copy it into serde's intermediate `Content` first).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Fva(pub(crate) Option<[i64; 2]>);

/// Visits any JSON value; `Fva` for the top level, `Option<i64>` for an array element.
struct FvaVisitor;

impl<'de> Visitor<'de> for FvaVisitor {
    type Value = Fva;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Fva, A::Error> {
        let mut out = [0i64; 2];
        let (mut n, mut ok) = (0usize, true);
        while let Some(item) = seq.next_element::<LenientI64>()? {
            match (out.get_mut(n), item.0) {
                (Some(slot), Some(v)) => *slot = v,
                _ => ok = false,
            }
            n = n.saturating_add(1);
        }
        Ok(Fva((ok && n == 2).then_some(out)))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Fva, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Fva(None))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Fva, E> {
        Ok(Fva(None))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Fva, E> {
        Ok(Fva(None))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Fva, E> {
        Ok(Fva(None))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Fva, E> {
        Ok(Fva(None))
    }

    fn visit_str<E>(self, _: &str) -> Result<Fva, E> {
        Ok(Fva(None))
    }

    fn visit_unit<E>(self) -> Result<Fva, E> {
        Ok(Fva(None))
    }

    fn visit_none<E>(self) -> Result<Fva, E> {
        Ok(Fva(None))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Fva, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Deserialize<'de> for Fva {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FvaVisitor)
    }
}

/// An array element of `fva`: an integer that fits `i64`, or `None` for anything else (consumed, never an error).
struct LenientI64(Option<i64>);

impl<'de> Deserialize<'de> for LenientI64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LenientI64;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_i64<E>(self, v: i64) -> Result<LenientI64, E> {
                Ok(LenientI64(Some(v)))
            }

            fn visit_u64<E>(self, v: u64) -> Result<LenientI64, E> {
                Ok(LenientI64(i64::try_from(v).ok()))
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<LenientI64, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LenientI64(None))
            }

            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<LenientI64, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(LenientI64(None))
            }

            fn visit_bool<E>(self, _: bool) -> Result<LenientI64, E> {
                Ok(LenientI64(None))
            }

            fn visit_f64<E>(self, _: f64) -> Result<LenientI64, E> {
                Ok(LenientI64(None))
            }

            fn visit_str<E>(self, _: &str) -> Result<LenientI64, E> {
                Ok(LenientI64(None))
            }

            fn visit_unit<E>(self) -> Result<LenientI64, E> {
                Ok(LenientI64(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// Every claim this SDK reads, v1 and v2 together. Unknown claims are ignored here and stay readable through the
/// raw payload. A claim of the wrong type fails the token (`token-verification-failed`, as the official SDKs), except
/// the informational ones marked
/// [`Lenient`].
#[derive(Debug, Default, PartialEq, Deserialize)]
pub(crate) struct RawClaims<'a> {
    #[serde(borrow)]
    pub(crate) sub: Option<Str<'a>>,
    pub(crate) exp: Option<NumericDate>,
    pub(crate) nbf: Option<NumericDate>,
    pub(crate) iat: Option<NumericDate>,
    #[serde(borrow)]
    pub(crate) azp: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) iss: Option<Str<'a>>,
    pub(crate) aud: Option<Audience>,
    #[serde(borrow)]
    pub(crate) sid: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) jti: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) sts: Option<Str<'a>>,
    pub(crate) act: Option<Actor>,
    #[serde(default)]
    pub(crate) fva: Fva,
    pub(crate) v: Option<u32>,
    // v1
    #[serde(borrow)]
    pub(crate) org_id: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) org_slug: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) org_role: Option<Str<'a>>,
    #[serde(default)]
    pub(crate) org_permissions: Lenient<Vec<String>>,
    // v2
    #[serde(borrow)]
    pub(crate) o: Option<OrgV2<'a>>,
    #[serde(borrow)]
    pub(crate) fea: Option<Str<'a>>,
    #[serde(borrow)]
    pub(crate) pla: Option<Str<'a>>,
}

/// Splits a comma list into trimmed, non-empty items.
pub(crate) fn comma_list(s: &str) -> impl Iterator<Item = &str> {
    s.split([',']).map(str::trim).filter(|x| !x.is_empty())
}

/// The org-scoped feature names of a v2 `fea` claim, in order (scope containing `o`: `o`, `uo`, `ou`).
pub(crate) fn org_features(fea: &str) -> impl Iterator<Item = &str> {
    comma_list(fea).filter_map(|item| {
        let (scope, name) = item.split_once([':'])?;
        scope.as_bytes().contains(&b'o').then_some(name)
    })
}

/// Decodes v2 organization permissions: for org feature `i`, `fpm[i]` is a decimal bitmask over `per`
/// (least significant bit first); a set bit `j` grants `org:<feature>:<per[j]>`. Malformed entries grant nothing.
///
/// Runs on the first permission check of every new session token, so it allocates only the result (a list, and one
/// exactly sized string per permission) and reads each list once per feature.
pub(crate) fn decode_v2_permissions(fea: Option<&str>, per: Option<&str>, fpm: Option<&str>) -> Vec<String> {
    let (Some(fea), Some(per), Some(fpm)) = (fea, per, fpm) else { return Vec::new() };
    // The lists are short (a few items): split by comparing each character, not with a substring searcher.
    let comma = [','];
    let mut out = Vec::new();
    // Org feature `i` takes mask `i` (a malformed mask grants nothing, for its feature only).
    for (feature, mask) in org_features(fea).zip(fpm.split(comma)) {
        let Ok(mut mask) = mask.trim().parse::<u64>() else { continue };
        // Bit `j` of a mask stands for permission `j` (only 64 bits exist); an empty name grants nothing.
        for perm in per.split(comma) {
            if mask == 0 {
                break;
            }
            let perm = perm.trim();
            if mask & 1 != 0 && !perm.is_empty() {
                let mut p = String::with_capacity("org:".len() + feature.len() + 1 + perm.len());
                p.push_str("org:");
                p.push_str(feature);
                p.push(':');
                p.push_str(perm);
                out.push(p);
            }
            mask >>= 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_permission_vector_from_clerk_behaviour() {
        let got = decode_v2_permissions(
            Some("o:repositories,o:projects"),
            Some("read,create,update,delete,revoke"),
            Some("7,21"),
        );
        assert_eq!(
            got,
            [
                "org:repositories:read",
                "org:repositories:create",
                "org:repositories:update",
                "org:projects:read",
                "org:projects:update",
                "org:projects:revoke",
            ]
        );
    }

    #[test]
    fn v2_permissions_skip_user_features_and_bad_masks() {
        // u: features do not take an fpm slot; a malformed mask grants nothing for its feature only.
        let got = decode_v2_permissions(Some("u:x,o:a,uo:b,o:c"), Some("read,write"), Some("1,x,3"));
        assert_eq!(got, ["org:a:read", "org:c:read", "org:c:write"]);
        assert!(decode_v2_permissions(None, Some("read"), Some("1")).is_empty());
        assert!(decode_v2_permissions(Some("o:a"), Some("read"), None).is_empty());
        // Bits beyond the permission list are ignored.
        assert_eq!(decode_v2_permissions(Some("o:a"), Some("read"), Some("255")), ["org:a:read"]);
        // More org features than masks: the features without a mask grant nothing; empty permission names neither.
        assert_eq!(
            decode_v2_permissions(Some("o:a,o:b"), Some("read,,write"), Some("7")),
            ["org:a:read", "org:a:write"]
        );
        // Only 64 permissions can be addressed.
        let many: Vec<String> = (0..70).map(|i| format!("p{i}")).collect();
        let all = decode_v2_permissions(Some("o:a"), Some(&many.join(",")), Some(&u64::MAX.to_string()));
        assert_eq!(all.len(), 64);
        assert_eq!(all.last().map(String::as_str), Some("org:a:p63"));
    }

    #[test]
    fn numeric_dates() {
        let d: NumericDate = serde_json::from_str("1700000000").unwrap();
        assert_eq!(d.0, 1_700_000_000_000);
        let d: NumericDate = serde_json::from_str("1700000000.5").unwrap();
        assert_eq!(d.0, 1_700_000_000_500);
        assert!(serde_json::from_str::<NumericDate>("\"1700000000\"").is_err());
        assert!(serde_json::from_str::<NumericDate>("1e300").is_err());
        assert!(serde_json::from_str::<NumericDate>("null").is_err());
    }

    #[test]
    fn lenient_fields_do_not_fail_the_claims() {
        let c: RawClaims<'_> = serde_json::from_str(r#"{"sub":"user_1","fva":"bad","org_permissions":7}"#).unwrap();
        assert!(c.fva.0.is_none());
        assert!(c.org_permissions.0.is_none());
        let c: RawClaims<'_> = serde_json::from_str(r#"{"sub":"user_1","fva":[3,-1]}"#).unwrap();
        assert_eq!(c.fva.0, Some([3, -1]));
        // Anything but exactly two integers that fit i64 reads as absent, and never fails the claims.
        for fva in [
            "null",
            "true",
            "7",
            "1.5",
            r#""3,4""#,
            "[]",
            "[1]",
            "[1,2,3]",
            "[1,2.0]",
            "[1,9223372036854775808]",
            r#"[1,"2"]"#,
            "[[1],2]",
            r#"[{"a":[1,2]},2]"#,
            r#"{"0":1,"1":2}"#,
        ] {
            let json = format!(r#"{{"sub":"user_1","fva":{fva},"sid":"sess_1"}}"#);
            let c: RawClaims<'_> = serde_json::from_str(&json).unwrap_or_else(|e| panic!("fva {fva}: {e}"));
            assert!(c.fva.0.is_none(), "fva {fva}");
            assert_eq!(c.sid.as_ref().map(Str::as_str), Some("sess_1"), "fva {fva}: the rest still parses");
        }
        let c: RawClaims<'_> = serde_json::from_str(r#"{"sub":"user_1","fva":[0,9223372036854775807]}"#).unwrap();
        assert_eq!(c.fva.0, Some([0, i64::MAX]));
        assert!(serde_json::from_str::<RawClaims<'_>>(r#"{"sub":1}"#).is_err());
        assert!(serde_json::from_str::<RawClaims<'_>>(r#"{"exp":"1"}"#).is_err());
        assert!(serde_json::from_str::<RawClaims<'_>>(r#"{"sub":"a","sub":"b"}"#).is_err());
    }
}
