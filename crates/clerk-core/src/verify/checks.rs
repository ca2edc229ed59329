//! Steps 5 on of Clerk's order: the claims of a token whose signature verified (times, authorized parties,
//! audience, issuer, pending sessions).

use crate::auth::{AuthParts, SessionStatus};
use crate::claims::{Audience, RawClaims, Str};
use crate::error::{Reason, VerifyError};

use super::options::{Options, PendingSessions};

/// A session token's claims, checked at `now_ms`; what the auth object takes from them, and `exp` (ms).
pub(super) fn check_session_claims(
    o: &Options,
    mut claims: RawClaims<'_>,
    payload: &str,
    now_ms: u64,
) -> Result<(AuthParts, i64), VerifyError> {
    let Some(sub) = claims.sub.take() else {
        return Err(VerifyError::with_detail(Reason::TokenVerificationFailed, "`sub` is required"));
    };
    let Some(exp) = claims.exp else {
        return Err(VerifyError::with_detail(Reason::TokenVerificationFailed, "`exp` is required"));
    };
    let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
    check_times(exp.0, claims.nbf.map(|d| d.0), claims.iat.map(|d| d.0), now, o.skew_ms)?;
    if !o.authorized_parties.is_empty() {
        match claims.azp.as_ref().map(Str::as_str) {
            Some(azp) if o.authorized_parties.iter().any(|p| p == azp) => {}
            _ => return Err(VerifyError::new(Reason::TokenInvalidAuthorizedParties)),
        }
    }
    check_audience(&o.audience, claims.aud.as_ref())?;
    if !o.issuers.is_empty() && !claims.iss.as_ref().is_some_and(|iss| o.issuers.iter().any(|x| x == iss.as_str())) {
        return Err(VerifyError::new(Reason::TokenInvalidIssuer));
    }
    let parts = AuthParts::new(claims, payload, sub);
    if o.pending == PendingSessions::Reject && parts.status == SessionStatus::Pending {
        return Err(VerifyError::new(Reason::SessionTokenPending));
    }
    Ok((parts, exp.0))
}

#[inline]
pub(super) fn check_audience(expected: &[String], aud: Option<&Audience>) -> Result<(), VerifyError> {
    if expected.is_empty() {
        return Ok(());
    }
    let ok = match aud {
        None => true,
        Some(Audience::One(a)) => a.is_empty() || expected.iter().any(|x| x == a),
        Some(Audience::Many(list)) => list.is_empty() || list.iter().any(|a| expected.iter().any(|x| x == a)),
    };
    if ok { Ok(()) } else { Err(VerifyError::with_detail(Reason::TokenVerificationFailed, "audience not accepted")) }
}

#[inline]
pub(super) fn check_times(
    exp_ms: i64,
    nbf_ms: Option<i64>,
    iat_ms: Option<i64>,
    now_ms: i64,
    skew_ms: i64,
) -> Result<(), VerifyError> {
    if exp_ms <= now_ms.saturating_sub(skew_ms) {
        return Err(VerifyError::new(Reason::TokenExpired));
    }
    if nbf_ms.is_some_and(|nbf| nbf > now_ms.saturating_add(skew_ms)) {
        return Err(VerifyError::new(Reason::TokenNotActiveYet));
    }
    if iat_ms.is_some_and(|iat| iat > now_ms.saturating_add(skew_ms)) {
        return Err(VerifyError::new(Reason::TokenIatInTheFuture));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_times_semantics() {
        let now = 1_000_000;
        // exp <= now - skew is expired; exactly at the boundary too.
        assert_eq!(check_times(now - 5000, None, None, now, 5000).unwrap_err().reason(), Reason::TokenExpired);
        assert!(check_times(now - 4999, None, None, now, 5000).is_ok());
        // Zero skew honoured.
        assert_eq!(check_times(now, None, None, now, 0).unwrap_err().reason(), Reason::TokenExpired);
        assert!(check_times(now + 1, None, None, now, 0).is_ok());
        assert_eq!(
            check_times(now + 10_000, Some(now + 5001), None, now, 5000).unwrap_err().reason(),
            Reason::TokenNotActiveYet
        );
        assert!(check_times(now + 10_000, Some(now + 5000), None, now, 5000).is_ok());
        assert_eq!(
            check_times(now + 10_000, None, Some(now + 5001), now, 5000).unwrap_err().reason(),
            Reason::TokenIatInTheFuture
        );
    }
}
