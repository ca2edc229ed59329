//! Small types the models share: timestamps, tri-state nullable fields, open enums.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Clerk timestamp: milliseconds since the Unix epoch, as the API sends it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Milliseconds since the epoch.
    #[must_use]
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch.
    #[must_use]
    pub const fn as_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// As a `SystemTime` (before the epoch for negative values).
    #[must_use]
    pub fn to_system_time(self) -> SystemTime {
        let d = Duration::from_millis(self.0.unsigned_abs());
        if self.0 >= 0 { UNIX_EPOCH + d } else { UNIX_EPOCH - d }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.0)
    }
}

/// A request field that can be set to a value, set to `null` (to clear it), or left out. Left out is
/// `Option::None` around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nullable<T> {
    /// Send `null`.
    Null,
    /// Send the value.
    Value(T),
}

impl<T> From<T> for Nullable<T> {
    fn from(v: T) -> Self {
        Self::Value(v)
    }
}

impl From<&str> for Nullable<String> {
    fn from(v: &str) -> Self {
        Self::Value(v.to_owned())
    }
}

impl<T: Serialize> Serialize for Nullable<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => s.serialize_none(),
            Self::Value(v) => v.serialize(s),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(d)?.map_or(Self::Null, Self::Value))
    }
}

/// Defines an open string enum: known values as variants, anything else kept in `Unknown(String)` so an added value
/// on Clerk's side never breaks decoding.
#[macro_export]
#[doc(hidden)]
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $value:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value this version of the SDK does not know.
            Unknown(String),
        }

        impl $name {
            /// The value as Clerk spells it.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $value,)*
                    Self::Unknown(s) => s,
                }
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(match s {
                    $($value => Self::$variant,)*
                    other => Self::Unknown(other.to_owned()),
                })
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                Ok(s.parse().unwrap_or_else(|never: ::std::convert::Infallible| match never {}))
            }
        }
    };
}

#[cfg(test)]
#[allow(unreachable_pub)]
mod tests {
    use super::*;

    open_enum!(
        /// Test enum.
        Status {
            /// Active.
            Active => "active",
            /// Revoked.
            Revoked => "revoked",
        }
    );

    #[test]
    fn open_enums_keep_unknown_values() {
        let s: Status = serde_json::from_str("\"active\"").unwrap();
        assert_eq!(s, Status::Active);
        let s: Status = serde_json::from_str("\"brand_new\"").unwrap();
        assert_eq!(s, Status::Unknown("brand_new".into()));
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"brand_new\"");
    }

    #[test]
    fn nullable_serialises_three_ways() {
        #[derive(Serialize)]
        struct Body {
            #[serde(skip_serializing_if = "Option::is_none")]
            a: Option<Nullable<String>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            b: Option<Nullable<String>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            c: Option<Nullable<String>>,
        }
        let b = Body { a: None, b: Some(Nullable::Null), c: Some("x".to_owned().into()) };
        assert_eq!(serde_json::to_string(&b).unwrap(), r#"{"b":null,"c":"x"}"#);
        assert_eq!(Timestamp(1_700_000_000_123).as_secs(), 1_700_000_000);
    }
}
