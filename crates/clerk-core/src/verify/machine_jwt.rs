//! Machine tokens in JWT form (M2M JWTs, OAuth `at+jwt` access tokens): the same decoding, keys and times as
//! session tokens, then the kind (as Clerk's JavaScript SDK decides it) and the machine claims.

use std::borrow::Cow;

use serde::Deserialize;

use crate::claims::{Audience, NumericDate};
use crate::error::{Reason, VerifyError};
use crate::machine::{MACHINE_SUBJECT_PREFIX, MachineAuth, TokenType, json_has_machine_subject};

use super::checks::{check_audience, check_times};
use super::jws::{Cat, Claims, Decoded, Expect, Scratch, Typ, decode, invalid};
use super::{NeedKeys, ResolvedKey, Verifier};

/// The claims a machine JWT is checked on; the rest of the payload is read as JSON for the auth object. Only the
/// registered time claims and `sub` are strict: custom claims (M2M `aud` among them) never fail the token by
/// themselves.
#[derive(Deserialize)]
struct MachineClaims {
    sub: Option<String>,
    exp: Option<NumericDate>,
    nbf: Option<NumericDate>,
    iat: Option<NumericDate>,
    #[serde(default)]
    aud: MachineAudience,
}

/// A machine JWT's `aud`, which may hold anything: absent (or `null`), an audience, or something else. With an
/// expected audience configured, "something else" (a number, an object) fails the check, as in Clerk's JavaScript
/// SDK; without one it is ignored.
#[derive(Default)]
enum MachineAudience {
    #[default]
    Absent,
    Valid(Audience),
    Malformed,
}

impl<'de> Deserialize<'de> for MachineAudience {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Any {
            Valid(Audience),
            Null(()),
            Other(serde::de::IgnoredAny),
        }
        Ok(match Any::deserialize(d)? {
            Any::Valid(a) => Self::Valid(a),
            Any::Null(()) => Self::Absent,
            Any::Other(_) => Self::Malformed,
        })
    }
}

impl Claims<'_> for MachineClaims {}

impl Verifier {
    /// Verifies a machine token in JWT form: an M2M JWT (subject `mch_…`) or an OAuth JWT access token (header `typ`
    /// `at+jwt`, RFC 9068), against the instance keys, as Clerk's JavaScript SDK (`verifyMachineAuthToken`) does.
    ///
    /// The same checks as [`verify`](Self::verify), in the same order, with the same key store (unknown-`kid`
    /// refresh, stale keys through outages), algorithms, size bound and clock skew: compact form, header, key,
    /// signature, then `sub`, `exp`, `nbf`, `iat` and the audience. Then, as the JS SDK:
    ///
    /// - which kind: a `sub` starting with `mch_` makes an M2M token (its header `typ` must be absent or `JWT`, its
    ///   `cat` absent, M2M or "ignore"); else a `typ` of `at+jwt`/`application/at+jwt` makes an OAuth token (its
    ///   `cat`, when present, must not be the session or M2M category); anything else — a session token among them —
    ///   is refused with [`Reason::TokenTypeMismatch`], before any key or RSA work;
    /// - authorized parties (`azp`), the strict issuer check and the pending-session rule are session-token rules
    ///   and are not applied; the audience is, when configured and the token has an `aud`.
    ///
    /// Machine JWTs are not put in the verified-token cache. Opaque machine tokens (`ak_…`, `mt_…`, `oat_…`) are
    /// refused here (`token-invalid`): only the Backend API can verify them (`clerk-api`).
    ///
    /// # Errors
    /// A [`VerifyError`] whose [`reason()`](VerifyError::reason) is Clerk's reason code.
    pub fn verify_machine_jwt<'a>(
        &'a self,
        token: &'a str,
    ) -> impl Future<Output = Result<MachineAuth, VerifyError>> + Send + 'a {
        self.with_keys(token, Self::machine_now)
    }

    /// [`verify_machine_jwt`](Self::verify_machine_jwt) up to the key, as [`verify_now`](Self::verify_now).
    fn machine_now(&self, token: &str, key: Option<ResolvedKey>) -> Result<Result<MachineAuth, VerifyError>, NeedKeys> {
        let inner = &*self.inner;
        if token.len() > inner.options.max_token_bytes {
            return Ok(Err(super::oversized()));
        }
        let mut scratch = Scratch::new();
        let decoded = match decode::<MachineClaims>(token, &inner.options, Expect::Machine, &mut scratch) {
            Ok(d) => d,
            Err(e) => return Ok(Err(e)),
        };
        let kind = match machine_kind(&decoded) {
            Ok(kind) => kind,
            Err(e) => return Ok(Err(e)),
        };
        let kid = decoded.header_kid.clone();
        match key {
            Some((key, _generation)) => Ok(self.finish_machine(decoded, &key, kind)),
            None => inner
                .keys
                .with_fast_key(kid.as_deref(), |key, _generation| self.finish_machine(decoded, key, kind))
                .ok_or_else(|| NeedKeys(kid.map(Cow::into_owned))),
        }
    }

    /// Machine JWT steps 4 on: signature, then claims.
    fn finish_machine(
        &self,
        decoded: Decoded<'_, '_, MachineClaims>,
        key: &crate::jwk::VerifyingKey,
        kind: TokenType,
    ) -> Result<MachineAuth, VerifyError> {
        let inner = &*self.inner;
        decoded.check_signature(key)?;
        let claims = decoded
            .claims
            .ok_or(VerifyError::with_detail(Reason::TokenVerificationFailed, "a claim has the wrong type"))?;
        let Some(sub) = claims.sub else {
            return Err(VerifyError::with_detail(Reason::TokenVerificationFailed, "`sub` is required"));
        };
        let Some(exp) = claims.exp else {
            return Err(VerifyError::with_detail(Reason::TokenVerificationFailed, "`exp` is required"));
        };
        let o = &inner.options;
        let now = i64::try_from(inner.clock.now_millis()).unwrap_or(i64::MAX);
        check_times(exp.0, claims.nbf.map(|d| d.0), claims.iat.map(|d| d.0), now, o.skew_ms)?;
        match &claims.aud {
            MachineAudience::Valid(aud) => check_audience(&o.audience, Some(aud))?,
            MachineAudience::Malformed if !o.audience.is_empty() => {
                return Err(VerifyError::with_detail(Reason::TokenVerificationFailed, "audience not accepted"));
            }
            MachineAudience::Absent | MachineAudience::Malformed => {}
        }
        let payload: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(decoded.payload).map_err(|_| invalid("payload is not a JSON object"))?;
        Ok(MachineAuth::from_jwt(kind, payload, sub, exp.0))
    }
}

/// Which kind of machine JWT a decoded token is (before any key or RSA work), as Clerk's JavaScript SDK decides it:
/// a machine subject makes an M2M token, else a `typ` of `at+jwt` an OAuth access token; anything else is refused.
fn machine_kind(decoded: &Decoded<'_, '_, MachineClaims>) -> Result<TokenType, VerifyError> {
    // Claims of the wrong type do not hide the kind (they fail the token after the signature check).
    let machine_subject = match &decoded.claims {
        Some(c) => c.sub.as_deref().is_some_and(|s| s.starts_with(MACHINE_SUBJECT_PREFIX)),
        None => json_has_machine_subject(decoded.payload.as_bytes()),
    };
    if machine_subject {
        if decoded.typ == Typ::AccessToken {
            return Err(invalid("`typ` of an M2M token must be JWT"));
        }
        if !matches!(decoded.cat, Cat::Absent | Cat::M2m | Cat::Ignore) {
            return Err(VerifyError::with_detail(Reason::TokenTypeMismatch, "not an M2M token category"));
        }
        Ok(TokenType::M2mToken)
    } else if decoded.typ == Typ::AccessToken {
        if matches!(decoded.cat, Cat::Session | Cat::M2m) {
            return Err(VerifyError::with_detail(Reason::TokenTypeMismatch, "not an OAuth token category"));
        }
        Ok(TokenType::OAuthToken)
    } else {
        Err(VerifyError::with_detail(Reason::TokenTypeMismatch, "not a machine token"))
    }
}
