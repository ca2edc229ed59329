//! The Backend API operation table, generated from Clerk's OpenAPI spec by `cargo xtask codegen`
//! (`src/generated/operations.rs`), and the types it is written in.
//!
//! Schemas are kept as compact JSON text (OpenAPI 3.0 schema objects without descriptions or examples); `$ref`s point
//! to `#/components/schemas/<Name>` and resolve through [`SCHEMAS`].

#![allow(dead_code)]

/// Where a parameter lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    /// A path segment `{name}`.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
}

/// One parameter of an operation.
#[derive(Debug)]
pub(crate) struct Param {
    /// The parameter name.
    pub(crate) name: &'static str,
    /// Where it lives.
    pub(crate) location: Location,
    /// Whether it must be present.
    pub(crate) required: bool,
    /// Its schema (compact JSON; `$ref`s into [`SCHEMAS`]).
    pub(crate) schema: &'static str,
}

/// The request body an operation takes.
#[derive(Debug)]
pub(crate) enum Body {
    /// No body.
    None,
    /// `application/json` with this schema.
    Json {
        /// Whether the body is required.
        required: bool,
        /// Its schema.
        schema: &'static str,
    },
    /// `multipart/form-data` with this schema.
    Multipart {
        /// Whether the body is required.
        required: bool,
        /// Its schema.
        schema: &'static str,
    },
}

/// One documented response.
#[derive(Debug)]
pub(crate) struct Response {
    /// The status code; 0 for `default`.
    pub(crate) status: u16,
    /// The content type, when the response has a body.
    pub(crate) content_type: Option<&'static str>,
    /// The schema, when the response has a body (often a `$ref`).
    pub(crate) schema: Option<&'static str>,
}

/// One operation of the Backend API.
#[derive(Debug)]
pub(crate) struct Operation {
    /// The spec's `operationId`.
    pub(crate) id: &'static str,
    /// The HTTP method, upper case.
    pub(crate) method: &'static str,
    /// The path template, relative to `/v1` (e.g. `/users/{user_id}`).
    pub(crate) path: &'static str,
    /// Whether the operation requires the secret key (the spec's `security` is not empty).
    pub(crate) auth: bool,
    /// Whether the spec marks it deprecated.
    pub(crate) deprecated: bool,
    /// `x-speakeasy-group`, if any.
    pub(crate) group: &'static str,
    /// `x-speakeasy-name-override`, if any.
    pub(crate) name: &'static str,
    /// Path, query and header parameters (path-level and operation-level merged).
    pub(crate) params: &'static [Param],
    /// The request body.
    pub(crate) body: Body,
    /// The documented responses.
    pub(crate) responses: &'static [Response],
}

include!("generated/operations.rs");
