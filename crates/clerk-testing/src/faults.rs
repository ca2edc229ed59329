//! Faults on demand and the request log.

use std::sync::Mutex;
use std::time::Duration;

/// A fault to inject on a route.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Wait this long, then answer normally.
    Latency(Duration),
    /// Answer with this status and a Clerk-shaped error body.
    Status(u16),
    /// Answer `429 Too Many Requests` with `Retry-After: <secs>`.
    RateLimited {
        /// The `Retry-After` value in seconds.
        retry_after_secs: u64,
    },
    /// Answer `200` with a body that is not valid JSON.
    MalformedBody,
    /// Close the connection without answering.
    DropConnection,
    /// Answer with exactly this status and JSON body text (e.g. `{"keys": []}`).
    Respond {
        /// The status code.
        status: u16,
        /// The body, sent as `application/json`.
        body: String,
    },
}

#[derive(Debug)]
struct Rule {
    route: String,
    fault: Fault,
    remaining: Option<usize>,
}

/// One request the emulator served (or refused).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method, upper case.
    pub method: String,
    /// The path, without the query (e.g. `/v1/users/user_123`).
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The spec operation it matched, if any.
    pub operation_id: Option<&'static str>,
    /// The status answered (0 when the connection was dropped).
    pub status: u16,
    /// The fault injected, if any.
    pub fault: Option<Fault>,
}

/// The fault rules and the request log of one emulator. Rules match a route given as an exact path (`/v1/jwks`,
/// `/.well-known/jwks.json`), an operation id (`GetUser`), or `*` for every request; the first matching rule with
/// uses left applies.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<Rule>>,
    log: Mutex<Vec<RecordedRequest>>,
}

impl Faults {
    /// Injects `fault` on `route` for every request until [`clear`](Self::clear).
    pub fn inject(&self, route: impl Into<String>, fault: Fault) {
        self.push(route.into(), fault, None);
    }

    /// Injects `fault` on `route` for the next `times` matching requests only.
    pub fn inject_times(&self, route: impl Into<String>, fault: Fault, times: usize) {
        self.push(route.into(), fault, Some(times));
    }

    fn push(&self, route: String, fault: Fault, remaining: Option<usize>) {
        self.rules.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(Rule { route, fault, remaining });
    }

    /// Removes every fault rule.
    pub fn clear(&self) {
        self.rules.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    }

    /// Takes the fault for a request, consuming one use of a counted rule.
    pub(crate) fn take(&self, path: &str, operation_id: Option<&str>) -> Option<Fault> {
        let mut rules = self.rules.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let idx = rules.iter().position(|r| {
            r.remaining != Some(0) && (r.route == "*" || r.route == path || Some(r.route.as_str()) == operation_id)
        })?;
        let rule = &mut rules[idx];
        if let Some(n) = &mut rule.remaining {
            *n -= 1;
        }
        Some(rule.fault.clone())
    }

    pub(crate) fn record(&self, req: RecordedRequest) {
        self.log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(req);
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        self.log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    pub(crate) fn clear_requests(&self) {
        self.log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_rules_run_out() {
        let f = Faults::default();
        f.inject_times("/v1/jwks", Fault::Status(503), 2);
        f.inject("GetUser", Fault::DropConnection);
        assert_eq!(f.take("/v1/jwks", Some("GetJWKS")), Some(Fault::Status(503)));
        assert_eq!(f.take("/v1/jwks", Some("GetJWKS")), Some(Fault::Status(503)));
        assert_eq!(f.take("/v1/jwks", Some("GetJWKS")), None);
        assert_eq!(f.take("/v1/users/u", Some("GetUser")), Some(Fault::DropConnection));
        f.clear();
        assert_eq!(f.take("/v1/users/u", Some("GetUser")), None);
    }
}
