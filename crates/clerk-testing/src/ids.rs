//! Clerk-style identifiers (`user_2bVftRtFezPdchfaz9999999999`).

use rand::Rng as _;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` random base62 characters.
pub(crate) fn random_base62(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len).map(|_| char::from(BASE62[rng.gen_range(0..BASE62.len())])).collect()
}

/// A new id with Clerk's shape: prefix, `_`, 27 base62 characters.
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_base62(27))
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_have_clerk_shape() {
        let id = super::new_id("user");
        assert!(id.starts_with("user_"));
        assert_eq!(id.len(), 5 + 27);
        assert!(id[5..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(super::new_id("user"), id);
    }
}
