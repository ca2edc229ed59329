//! `ClerkWebhook`: a verified Clerk webhook event, as an actix extractor.

use std::fmt;
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use clerk_webhooks::{VerifiedMessage, Webhook, WebhookError, WebhookEvent};

use crate::{LocalBoxFuture, headers};

const TEXT: &str = "text/plain; charset=utf-8";

/// A Clerk webhook, verified and decoded: the handler runs only for a request signed with the endpoint's secret
/// (`svix-id`, `svix-timestamp`, `svix-signature`, or their `webhook-*` aliases) within the timestamp tolerance.
///
/// Configure the [`Webhook`] (the signing secret `whsec_…` from the Clerk Dashboard) as app data, on the route or
/// higher: `web::Data::new(webhook)` or `.app_data(webhook)`. Then:
///
/// ```
/// use actix_web::{App, HttpResponse, web};
/// use clerk_actix::ClerkWebhook;
/// use clerk_webhooks::{Event, Webhook};
///
/// async fn clerk_webhook(ClerkWebhook(event): ClerkWebhook) -> HttpResponse {
///     // `event.id` (the svix-id) is the same on every retry: deduplicate on it.
///     match &event.event {
///         Event::UserCreated(user) => println!("welcome {}", user.id),
///         Event::UserDeleted(user) => println!("goodbye {:?}", user.id),
///         other => println!("ignoring {}", other.event_type()),
///     }
///     HttpResponse::Ok().finish()
/// }
///
/// # fn main() -> Result<(), clerk_webhooks::WebhookError> {
/// let webhook = Webhook::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")?; // CLERK_WEBHOOK_SIGNING_SECRET
/// let app = App::new().service(
///     web::resource("/webhooks/clerk").app_data(web::Data::new(webhook)).route(web::post().to(clerk_webhook)),
/// );
/// # let _ = app; Ok(()) }
/// ```
///
/// The body is read up to [`Webhook::body_limit`] (1 MiB by default): a larger `Content-Length` is refused before
/// anything is read, and a chunked body stops being read once past the limit (`413`). The signature is checked over
/// the raw bytes, then the body is decoded into a [`WebhookEvent`] (an unknown event type is not an error: see
/// [`clerk_webhooks::Event`]). Refusals are a [`ClerkWebhookError`]: `400 Bad Request` with no detail, the reason in
/// `tracing` (target `clerk::webhooks`).
///
/// Mount the webhook route outside any [`Clerk`](crate::Clerk) middleware in required mode: Clerk's
/// requests carry no session.
#[derive(Debug, Clone)]
pub struct ClerkWebhook(pub WebhookEvent);

impl ClerkWebhook {
    /// The event.
    #[must_use]
    pub fn into_inner(self) -> WebhookEvent {
        self.0
    }
}

impl Deref for ClerkWebhook {
    type Target = WebhookEvent;

    fn deref(&self) -> &WebhookEvent {
        &self.0
    }
}

/// A verified Clerk webhook, not decoded: the message id, timestamp and raw body (derefs to [`VerifiedMessage`]), for
/// handlers that decode the body into their own types ([`VerifiedMessage::parse`]). Reads and verifies the request
/// like [`ClerkWebhook`] and refuses the same way, except that the body need not be an event.
///
/// ```
/// use actix_web::HttpResponse;
/// use clerk_actix::VerifiedWebhook;
/// use serde_json::Value;
///
/// async fn clerk_webhook(message: VerifiedWebhook) -> HttpResponse {
///     // `message.id()` (the svix-id) is the same on every retry: deduplicate on it.
///     match message.parse::<Value>() {
///         Ok(payload) => HttpResponse::Ok().body(payload["type"].to_string()),
///         Err(_) => HttpResponse::BadRequest().finish(),
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct VerifiedWebhook(pub VerifiedMessage);

impl VerifiedWebhook {
    /// The verified message.
    #[must_use]
    pub fn into_inner(self) -> VerifiedMessage {
        self.0
    }
}

impl Deref for VerifiedWebhook {
    type Target = VerifiedMessage;

    fn deref(&self) -> &VerifiedMessage {
        &self.0
    }
}

impl FromRequest for VerifiedWebhook {
    type Error = ClerkWebhookError;
    type Future = LocalBoxFuture<Result<Self, ClerkWebhookError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let verified = verify(req, payload);
        Box::pin(async move { verified.await.map(Self) })
    }
}

impl FromRequest for ClerkWebhook {
    type Error = ClerkWebhookError;
    type Future = LocalBoxFuture<Result<Self, ClerkWebhookError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let verified = verify(req, payload);
        Box::pin(async move {
            let message = verified.await?;
            message.event().map(Self).map_err(|e| ClerkWebhookError::not_an_event(e, message.id()))
        })
    }
}

/// The configured verifier: `web::Data<Webhook>` or a bare `Webhook` in app data.
fn configured(req: &HttpRequest) -> Option<Webhook> {
    req.app_data::<web::Data<Webhook>>().map(|w| Webhook::clone(w)).or_else(|| req.app_data::<Webhook>().cloned())
}

/// The declared body length, when there is a readable `Content-Length`.
fn content_length(req: &HttpRequest) -> Option<u64> {
    req.headers().get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// Finds the verifier, reads the body within its limit and verifies it with the headers: `413` as soon as the body
/// is known to exceed the limit (by its `Content-Length`, before reading; else while reading, never buffering more
/// than the limit and one chunk).
fn verify(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl std::future::Future<Output = Result<VerifiedMessage, ClerkWebhookError>> + 'static {
    let found = configured(req).ok_or_else(ClerkWebhookError::missing).and_then(|webhook| {
        let limit = webhook.body_limit();
        match content_length(req) {
            Some(n) if usize::try_from(n).map_or(true, |n| n > limit) => Err(ClerkWebhookError::too_large(limit)),
            _ => Ok(webhook),
        }
    });
    // Taken now (the payload is borrowed only during this call); read in the future.
    let found =
        found.map(|webhook| (webhook, headers::webhook(req.headers()), web::Payload::from_request(req, payload)));
    async move {
        let (webhook, headers, body) = found?;
        let limit = webhook.body_limit();
        let body = body.await.map_err(|e| ClerkWebhookError::unreadable(&e))?;
        let body = match body.to_bytes_limited(limit).await {
            Ok(Ok(body)) => body,
            Ok(Err(e)) => return Err(ClerkWebhookError::unreadable(&e)),
            Err(_) => return Err(ClerkWebhookError::too_large(limit)),
        };
        webhook.verify_bytes(&headers, body).map_err(ClerkWebhookError::refused)
    }
}

/// Why a webhook request was refused, as an actix [`ResponseError`]: `400 Bad Request` (a missing or invalid
/// header, a stale or future timestamp, no matching signature, a verified body that is not an event, a body that
/// could not be read), `413 Payload Too Large` (over [`Webhook::body_limit`]), `500` when no [`Webhook`] is
/// configured. Bodies are fixed text and never say why; the reason goes to `tracing` (target `clerk::webhooks`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClerkWebhookError {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// Not proven to come from Clerk, or (verified) not an event.
    Refused(WebhookError),
    TooLarge {
        limit: usize,
    },
    Unreadable,
    Missing,
}

impl ClerkWebhookError {
    /// Verification failed: not proven to come from Clerk.
    fn refused(e: WebhookError) -> Self {
        if let WebhookError::BodyTooLarge { limit } = e {
            return Self::too_large(limit);
        }
        tracing::info!(target: "clerk::webhooks", reason = e.reason(), error = %e, "webhook refused");
        Self { kind: Kind::Refused(e) }
    }

    /// Verified, but the body is not an event: Clerk did send it, so this is worth a warning.
    fn not_an_event(e: WebhookError, id: &str) -> Self {
        tracing::warn!(target: "clerk::webhooks", reason = e.reason(), error = %e, svix_id = id, "verified webhook refused: not an event");
        Self { kind: Kind::Refused(e) }
    }

    fn too_large(limit: usize) -> Self {
        tracing::info!(target: "clerk::webhooks", reason = "body-too-large", limit, "webhook refused: body over the limit");
        Self { kind: Kind::TooLarge { limit } }
    }

    fn unreadable(e: &dyn fmt::Display) -> Self {
        tracing::info!(target: "clerk::webhooks", reason = "body-unreadable", error = %e, "webhook refused: the body could not be read");
        Self { kind: Kind::Unreadable }
    }

    fn missing() -> Self {
        tracing::error!(target: "clerk::webhooks", reason = "webhook-missing", "a Clerk webhook extractor ran without a clerk_webhooks::Webhook in app data (add `.app_data(web::Data::new(webhook))` to the route)");
        Self { kind: Kind::Missing }
    }

    /// The status this error answers with (also [`ResponseError::status_code`]).
    #[must_use]
    pub const fn status(&self) -> StatusCode {
        match self.kind {
            Kind::Refused(_) | Kind::Unreadable => StatusCode::BAD_REQUEST,
            Kind::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::Missing => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Why, as a stable code for logs and metrics: a [`WebhookError::reason`] (`no-matching-signature`,
    /// `timestamp-too-old`, `missing-header`, `invalid-payload`, …), `body-too-large`, `body-unreadable` (the
    /// connection failed while the body was read) or `webhook-missing` (no [`Webhook`] configured).
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match &self.kind {
            Kind::Refused(e) => e.reason(),
            Kind::TooLarge { .. } => "body-too-large",
            Kind::Unreadable => "body-unreadable",
            Kind::Missing => "webhook-missing",
        }
    }

    /// The verifier's error, when verification or decoding refused the request (also the
    /// [`source`](std::error::Error::source)).
    #[must_use]
    pub const fn webhook_error(&self) -> Option<&WebhookError> {
        match &self.kind {
            Kind::Refused(e) => Some(e),
            Kind::TooLarge { .. } | Kind::Unreadable | Kind::Missing => None,
        }
    }
}

impl fmt::Display for ClerkWebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Refused(_) => f.write_str("webhook refused"),
            Kind::TooLarge { limit } => write!(f, "webhook refused: the body is larger than {limit} bytes"),
            Kind::Unreadable => f.write_str("webhook refused: the body could not be read"),
            Kind::Missing => f.write_str("no Clerk webhook verifier (clerk_webhooks::Webhook) is configured"),
        }
    }
}

impl std::error::Error for ClerkWebhookError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.webhook_error().map(|e| e as _)
    }
}

impl ResponseError for ClerkWebhookError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status();
        HttpResponse::build(status)
            .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(TEXT)))
            .body(status.canonical_reason().unwrap_or("Bad Request"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_bodies_and_reasons() {
        let cases = [
            (
                ClerkWebhookError::refused(WebhookError::NoMatchingSignature),
                400,
                "Bad Request",
                "no-matching-signature",
            ),
            (ClerkWebhookError::refused(WebhookError::TimestampTooOld), 400, "Bad Request", "timestamp-too-old"),
            (
                ClerkWebhookError::refused(WebhookError::BodyTooLarge { limit: 1 }),
                413,
                "Payload Too Large",
                "body-too-large",
            ),
            (ClerkWebhookError::too_large(1), 413, "Payload Too Large", "body-too-large"),
            (
                ClerkWebhookError::not_an_event(WebhookError::InvalidPayload(payload()), "msg_1"),
                400,
                "Bad Request",
                "invalid-payload",
            ),
            (ClerkWebhookError::unreadable(&"connection reset"), 400, "Bad Request", "body-unreadable"),
            (ClerkWebhookError::missing(), 500, "Internal Server Error", "webhook-missing"),
        ];
        for (e, status, body, reason) in cases {
            assert_eq!(e.status().as_u16(), status);
            assert_eq!(e.reason(), reason);
            let resp = e.error_response();
            assert_eq!(resp.status().as_u16(), status);
            assert_eq!(resp.headers().get(header::CONTENT_TYPE).unwrap(), TEXT);
            let bytes = actix_web::body::to_bytes(resp.into_body());
            let bytes = futures_now(bytes).unwrap();
            assert_eq!(bytes, body.as_bytes());
        }
        let e = ClerkWebhookError::refused(WebhookError::MissingHeader("svix-id"));
        assert_eq!(e.webhook_error(), Some(&WebhookError::MissingHeader("svix-id")));
        assert!(std::error::Error::source(&e).is_some());
        assert!(!e.to_string().contains("svix"), "Display says nothing of the detail");
    }

    /// A payload error (its constructor is private to clerk-webhooks).
    fn payload() -> clerk_webhooks::PayloadError {
        match WebhookEvent::from_json("msg_1", b"[]") {
            Err(WebhookError::InvalidPayload(p)) => p,
            other => panic!("{other:?}"),
        }
    }

    /// Polls a future that completes at once.
    fn futures_now<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        match f.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("pending"),
        }
    }
}
