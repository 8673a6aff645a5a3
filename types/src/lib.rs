//! What the browser and the server both speak: the words Herald stores and sends (statuses,
//! roles, kinds, channels, plans, audit actions) as enums, each with the one text it has in the
//! database, in JSON and in URLs. No web framework and no database here, so the wasm front end
//! can use them too; the `sqlx` feature stores them as text on SQLite and PostgreSQL.

mod audit;
pub mod clock;
mod delivery;
mod endpoint;
pub mod log;
mod people;
pub mod stats;
mod wire;

pub use audit::{AuditAction, AuditEntry, AuditGroup};
pub use delivery::{DeliveryKind, DeliveryStatus, FailureClass, HealthState, JobStatus, RecoverStatus, StatusFilter};
pub use endpoint::{
    AuthHeaderOut, Channel, Endpoint, EndpointStatus, Health, HttpMethod, LastFailure, PayloadShape, DEFAULT_IN_FLIGHT, MAX_IN_FLIGHT,
    MAX_PER_SECOND,
};
pub use people::{ActorKind, Invitation, Member, Plan, Role, StaffRole};
pub use wire::{FoundDelivery, Job};

/// A text that is not one of an enum's values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

impl std::fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} is not a {}", self.value, self.kind)
    }
}

impl std::error::Error for UnknownValue {}

/// Defines an enum stored and sent as text: `as_str`, `parse`, `ALL`, `Display`, `FromStr`,
/// serde as the text, (feature `sqlx`) a text column on both databases, and (feature `utoipa`)
/// a string enum in the OpenAPI document.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The value with exactly this text.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::UnknownValue;
            fn from_str(text: &str) -> Result<$name, $crate::UnknownValue> {
                $name::parse(text).ok_or_else(|| $crate::UnknownValue { kind: stringify!($name), value: text.to_string() })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
                $name::parse(&text).ok_or_else(|| serde::de::Error::unknown_variant(&text, &[$($text),+]))
            }
        }

        /// In the API's OpenAPI document: a string, one of the texts.
        #[cfg(feature = "utoipa")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        #[cfg(feature = "utoipa")]
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        #[cfg(feature = "sqlx")]
        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            String: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as sqlx::Type<DB>>::compatible(ty)
            }
        }

        #[cfg(feature = "sqlx")]
        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(value: <DB as sqlx::Database>::ValueRef<'r>) -> Result<$name, sqlx::error::BoxDynError> {
                let text = <&'r str as sqlx::Decode<'r, DB>>::decode(value)?;
                Ok(text.parse::<$name>()?)
            }
        }

        #[cfg(feature = "sqlx")]
        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            &'q str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&'q str as sqlx::Encode<'q, DB>>::encode_by_ref(&self.as_str(), buf)
            }
        }
    };
}
pub(crate) use text_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_reads_back_from_its_text_in_json() {
        for status in DeliveryStatus::ALL {
            let json = serde_json::to_string(status).unwrap();
            assert_eq!(json, format!("\"{status}\""));
            assert_eq!(serde_json::from_str::<DeliveryStatus>(&json).unwrap(), *status);
        }
        assert_eq!(serde_json::to_string(&FailureClass::Http401403).unwrap(), "\"http_401_403\"");
        assert_eq!("owner".parse::<Role>(), Ok(Role::Owner));
        assert_eq!("boss".parse::<Role>().unwrap_err().to_string(), "\"boss\" is not a Role");
        let err = serde_json::from_str::<Channel>("\"sms\"").unwrap_err().to_string();
        assert!(err.contains("unknown variant `sms`, expected `http` or `email`"), "{err}");
    }
}
