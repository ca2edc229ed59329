//! Webhook extractors: `ClerkWebhook` (a verified, typed event) and `VerifiedWebhook` (the verified raw message).

use std::ops::Deref;

use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use clerk_webhooks::{VerifiedMessage, Webhook, WebhookError, WebhookEvent};
use http::{HeaderMap, StatusCode, header};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};

/// A verified Clerk webhook, decoded into a typed [`WebhookEvent`] (derefs to it: [`id`](WebhookEvent::id), the
/// `svix-id` to deduplicate on; [`event_type`](WebhookEvent::event_type); [`event`](WebhookEvent::event), the typed
/// [`Event`](clerk_webhooks::Event); [`raw`](WebhookEvent::raw), the payload as received).
///
/// It reads the request body, so it comes last among a handler's arguments. The [`Webhook`] (the endpoint's signing
/// secret) comes from the request's extensions: add it with `axum::Extension(webhook)` as a layer of the webhook
/// route.
///
/// ```
/// use axum::{Extension, Json, Router, routing::post};
/// use clerk_axum::{ClerkWebhook, Event, Webhook};
/// use serde_json::{Value, json};
///
/// async fn clerk_webhook(webhook: ClerkWebhook) -> Json<Value> {
///     match &webhook.event {
///         Event::UserCreated(user) => println!("welcome {}", user.id),
///         Event::UserDeleted(deleted) => println!("goodbye {:?}", deleted.id),
///         other => println!("ignoring {}", other.event_type()),
///     }
///     Json(json!({ "id": webhook.id, "type": webhook.event_type }))
/// }
///
/// # fn main() -> Result<(), clerk_axum::WebhookError> {
/// // In production: Webhook::new(&std::env::var("CLERK_WEBHOOK_SIGNING_SECRET")?)
/// let webhook = Webhook::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")?;
/// let app: Router = Router::new().route("/webhooks/clerk", post(clerk_webhook).layer(Extension(webhook)));
/// # let _ = app; Ok(()) }
/// ```
///
/// Rejections ([`WebhookRejection`]): a body over [`Webhook::body_limit`] → `413` (the `Content-Length` is checked
/// before anything is read, and a chunked body is read no further than the limit); missing or malformed headers, a
/// timestamp outside the tolerance (a replay), no matching signature, or a verified body that is not an event →
/// `400 Bad Request`; no [`Webhook`] in the extensions → `500`. Bodies never say why: the reason
/// ([`WebhookError::reason`]) goes to a `tracing` event with target `clerk::webhooks`.
///
/// Clerk (Svix) retries a delivery that is not answered `2xx`, with the same id: answer `2xx` once the event is
/// handled (or known), and deduplicate on [`WebhookEvent::id`].
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
/// like [`ClerkWebhook`], and rejects the same way (except that the body need not be an event).
///
/// ```
/// use axum::http::StatusCode;
/// use clerk_axum::VerifiedWebhook;
///
/// #[derive(serde::Deserialize)]
/// struct Envelope {
///     r#type: String,
/// }
///
/// async fn clerk_webhook(message: VerifiedWebhook) -> StatusCode {
///     match message.parse::<Envelope>() {
///         Ok(envelope) => {
///             println!("{} {}", message.id(), envelope.r#type);
///             StatusCode::NO_CONTENT
///         }
///         Err(_) => StatusCode::BAD_REQUEST,
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

impl<S: Send + Sync> FromRequest<S> for VerifiedWebhook {
    type Rejection = WebhookRejection;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        verify(req).await.map(Self)
    }
}

impl<S: Send + Sync> FromRequest<S> for ClerkWebhook {
    type Rejection = WebhookRejection;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let message = verify(req).await?;
        message.event().map(Self).map_err(|e| WebhookRejection::not_an_event(&e, message.id()))
    }
}

/// Reads the body within the limit and verifies it with the headers.
async fn verify(req: Request) -> Result<VerifiedMessage, WebhookRejection> {
    let (parts, body) = req.into_parts();
    let Some(webhook) = parts.extensions.get::<Webhook>() else {
        tracing::error!(target: "clerk::webhooks", "a Clerk webhook extractor ran without a Webhook in the request extensions (add `.layer(axum::Extension(webhook))` to the route)");
        return Err(WebhookRejection { kind: Kind::Misconfigured });
    };
    let limit = webhook.body_limit();
    let body = read(&parts.headers, body, limit).await?;
    webhook.verify_bytes(&parts.headers, body).map_err(|e| WebhookRejection::refused(&e))
}

/// The body, refused with `413` as soon as it is known to exceed `limit`: by its `Content-Length` (or the size the
/// transport knows), before reading; else while reading, never buffering more than the limit.
async fn read(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, WebhookRejection> {
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let too_large = |len: u64| usize::try_from(len).map_or(true, |len| len > limit);
    if declared.is_some_and(too_large) || too_large(body.size_hint().lower()) {
        return Err(WebhookRejection::too_large(limit));
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(WebhookRejection::too_large(limit)),
        Err(e) => {
            tracing::info!(target: "clerk::webhooks", reason = "body-unreadable", error = %e, "webhook refused: the body could not be read");
            Err(WebhookRejection { kind: Kind::BadRequest { reason: "body-unreadable" } })
        }
    }
}

/// Why a webhook request was refused, as an axum response: `400 Bad Request` (not proven to come from Clerk, or not
/// an event), `413 Payload Too Large`, or `500` when no [`Webhook`] is configured for the route. Bodies are fixed
/// (`Bad Request`, `Payload Too Large`, `Internal Server Error`) and never say why; [`reason`](Self::reason) does, for
/// handlers that take `Result<ClerkWebhook, WebhookRejection>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRejection {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    BadRequest { reason: &'static str },
    TooLarge,
    Misconfigured,
}

impl WebhookRejection {
    /// Verification failed: not proven to come from Clerk.
    fn refused(e: &WebhookError) -> Self {
        if let WebhookError::BodyTooLarge { limit } = e {
            return Self::too_large(*limit);
        }
        let reason = e.reason();
        tracing::info!(target: "clerk::webhooks", reason, error = %e, "webhook refused");
        Self { kind: Kind::BadRequest { reason } }
    }

    /// Verified, but the body is not an event: Clerk did send it, so this is worth a warning.
    fn not_an_event(e: &WebhookError, id: &str) -> Self {
        let reason = e.reason();
        tracing::warn!(target: "clerk::webhooks", reason, error = %e, svix_id = id, "verified webhook refused: not an event");
        Self { kind: Kind::BadRequest { reason } }
    }

    fn too_large(limit: usize) -> Self {
        tracing::info!(target: "clerk::webhooks", reason = "body-too-large", limit, "webhook refused: body over the limit");
        Self { kind: Kind::TooLarge }
    }

    /// The status this rejection answers with: `400`, `413` or `500`.
    #[must_use]
    pub const fn status(&self) -> StatusCode {
        match self.kind {
            Kind::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::Misconfigured => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Why, as a stable code for logs and metrics: a [`WebhookError::reason`] (`no-matching-signature`,
    /// `timestamp-too-old`, `missing-header`, `invalid-payload`, …), `body-too-large`, `body-unreadable` (the
    /// connection failed while the body was read) or `webhook-missing` (no [`Webhook`] configured).
    #[must_use]
    pub const fn reason(&self) -> &'static str {
        match self.kind {
            Kind::BadRequest { reason } => reason,
            Kind::TooLarge => "body-too-large",
            Kind::Misconfigured => "webhook-missing",
        }
    }
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        let body = match self.kind {
            Kind::BadRequest { .. } => "Bad Request",
            Kind::TooLarge => "Payload Too Large",
            Kind::Misconfigured => "Internal Server Error",
        };
        (self.status(), body).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_to_400_or_413_with_their_reason() {
        let cases = [
            (WebhookError::NoMatchingSignature, StatusCode::BAD_REQUEST, "no-matching-signature"),
            (WebhookError::TimestampTooOld, StatusCode::BAD_REQUEST, "timestamp-too-old"),
            (WebhookError::TimestampTooNew, StatusCode::BAD_REQUEST, "timestamp-too-new"),
            (WebhookError::MissingHeader("svix-id"), StatusCode::BAD_REQUEST, "missing-header"),
            (WebhookError::InvalidTimestamp, StatusCode::BAD_REQUEST, "invalid-timestamp"),
            (WebhookError::BodyTooLarge { limit: 1 }, StatusCode::PAYLOAD_TOO_LARGE, "body-too-large"),
        ];
        for (error, status, reason) in cases {
            let r = WebhookRejection::refused(&error);
            assert_eq!((r.status(), r.reason()), (status, reason), "{error:?}");
        }
        let missing = WebhookRejection { kind: Kind::Misconfigured };
        assert_eq!((missing.status(), missing.reason()), (StatusCode::INTERNAL_SERVER_ERROR, "webhook-missing"));
    }

    #[test]
    fn extractors_and_rejections_are_send_and_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<ClerkWebhook>();
        check::<VerifiedWebhook>();
        check::<WebhookRejection>();
    }
}
