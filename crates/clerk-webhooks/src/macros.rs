//! The open string enum of the generated models.

/// Defines an open string enum: known values as variants, anything else kept in `Unknown(String)`, so a value Clerk
/// adds never breaks decoding.
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

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                s.parse().unwrap_or_else(|never: ::std::convert::Infallible| match never {})
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
                Ok(Self::from(&*s))
            }
        }
    };
}

pub(crate) use open_enum;

#[cfg(test)]
#[allow(unreachable_pub)]
mod tests {
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
        assert_eq!(Status::from("revoked").to_string(), "revoked");
    }
}
