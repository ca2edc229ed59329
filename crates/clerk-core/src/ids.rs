//! Identifier newtypes shared by every crate of the workspace.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The prefix Clerk gives ids of this kind.
            pub const PREFIX: &'static str = $prefix;

            /// Wraps an id. No check is made: Clerk may change its formats.
            #[must_use]
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Unwraps the id.
            #[must_use]
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl From<&$name> for String {
            fn from(id: &$name) -> Self {
                id.0.clone()
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

id_type!(
    /// A user id (`user_…`).
    UserId,
    "user_"
);
id_type!(
    /// A session id (`sess_…`).
    SessionId,
    "sess_"
);
id_type!(
    /// An organization id (`org_…`).
    OrganizationId,
    "org_"
);
id_type!(
    /// A machine id (`mch_…`): the subject of M2M tokens, and of API keys issued to a machine.
    MachineId,
    "mch_"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_transparent() {
        let id = UserId::new("user_123");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"user_123\"");
        let back: UserId = serde_json::from_str("\"user_123\"").unwrap();
        assert_eq!(back, id);
        assert_eq!(id, "user_123");
        assert_eq!(id.as_str(), "user_123");
        assert_eq!(format!("{id} {id:?}"), "user_123 \"user_123\"");
        assert_eq!(SessionId::PREFIX, "sess_");
    }
}
