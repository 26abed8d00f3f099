//! Typed identifiers: a fixed prefix plus a ULID (`org_01HX…`), so an id of one kind can never be
//! passed where another is expected, and a wrong-kind id in a URL is rejected at parse time.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ulid::Ulid;

/// Why a string is not an id of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected an id of the form {prefix}<ULID>")]
pub struct IdParseError {
    pub prefix: &'static str,
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Ulid);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn new() -> Self {
                Self(Ulid::new())
            }

            pub fn from_ulid(ulid: Ulid) -> Self {
                Self(ulid)
            }

            pub fn ulid(&self) -> Ulid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", $prefix, self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.strip_prefix($prefix)
                    .and_then(|rest| Ulid::from_string(rest).ok())
                    .map(Self)
                    .ok_or(IdParseError { prefix: $prefix })
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                raw.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

typed_id!(
    /// A user account.
    UserId, "usr_"
);
typed_id!(
    /// An organization (tenant).
    OrgId, "org_"
);
typed_id!(
    /// A user's membership in one org.
    MembershipId, "mem_"
);
typed_id!(
    /// An audit event.
    EventId, "evt_"
);
typed_id!(
    /// A login session: the family of refresh tokens issued from one login.
    SessionId, "ses_"
);
typed_id!(
    /// A message in the email outbox.
    MessageId, "msg_"
);
typed_id!(
    /// An invitation to join an org.
    InvitationId, "inv_"
);
typed_id!(
    /// An org-bound API key.
    ApiKeyId, "key_"
);
typed_id!(
    /// A custom role of one org.
    RoleId, "role_"
);

typed_id!(
    /// A team: a sub-group of one org's members.
    TeamId, "team_"
);
typed_id!(
    /// A webhook endpoint of the instance.
    WebhookId, "wh_"
);
typed_id!(
    /// One message to one destination (a webhook endpoint, an org's Slack or Telegram channel).
    DeliveryId, "dlv_"
);

/// A reference by id or by slug, for the kinds whose slugs are unique (orgs across the instance,
/// teams within their org). Parsed once, where the request is read; anything that is not a
/// well-formed id is taken as a slug, and a slug nothing has (such as a malformed id) is simply
/// not found.
macro_rules! id_or_slug {
    ($(#[$doc:meta])* $name:ident, $id:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
        #[serde(from = "String")]
        pub enum $name {
            Id($id),
            Slug(String),
        }

        impl From<&str> for $name {
            fn from(raw: &str) -> Self {
                match raw.parse::<$id>() {
                    Ok(id) if raw.starts_with($id::PREFIX) => Self::Id(id),
                    _ => Self::Slug(raw.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(raw: String) -> Self {
                Self::from(raw.as_str())
            }
        }

        impl From<$id> for $name {
            fn from(id: $id) -> Self {
                Self::Id(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    Self::Id(id) => id.fmt(f),
                    Self::Slug(slug) => f.write_str(slug),
                }
            }
        }
    };
}

id_or_slug!(
    /// How a request names an org: by its id (`org_…`) or by its slug.
    OrgRef, OrgId
);
id_or_slug!(
    /// How a request names a team of the org in its path: by its id (`team_…`) or its slug.
    TeamRef, TeamId
);

impl TeamRef {
    /// Whether this names `team` (whose slug is `slug`).
    pub fn names(&self, team: TeamId, slug: &str) -> bool {
        match self {
            Self::Id(id) => *id == team,
            Self::Slug(s) => s == slug,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_string_form() {
        let id = OrgId::new();
        let text = id.to_string();
        assert!(text.starts_with("org_"));
        assert_eq!(text.parse::<OrgId>().unwrap(), id);
    }

    #[test]
    fn an_org_is_named_by_id_or_else_by_slug() {
        let id = OrgId::new();
        assert_eq!(OrgRef::from(id.to_string()), OrgRef::Id(id));
        assert_eq!(OrgRef::from("acme"), OrgRef::Slug("acme".into()));
        // A malformed id is taken as a slug, which no org has: it is not found, like any other.
        assert_eq!(OrgRef::from("org_nope"), OrgRef::Slug("org_nope".into()));
        let parsed: OrgRef = serde_json::from_str(&format!("\"{id}\"")).unwrap();
        assert_eq!(parsed, OrgRef::Id(id));
    }

    #[test]
    fn refuses_another_kinds_prefix() {
        let user = UserId::new().to_string();
        assert!(user.parse::<OrgId>().is_err());
        assert!("org_not-a-ulid".parse::<OrgId>().is_err());
    }
}
