//! `from_env`: with the `api` feature, the Backend API joins when a secret key is set.

/// The authenticator the environment describes.
pub(crate) fn authenticator() -> Result<clerk_core::Authenticator, clerk_core::BuildError> {
    #[cfg(feature = "api")]
    return clerk_api::authenticator_from_env();
    #[cfg(not(feature = "api"))]
    return clerk_core::Authenticator::from_env();
}
