//! The shapes of Tenantry's HTTP API: request bodies and the answers inside `{"data": …}`.
//!
//! The server serializes these, its OpenAPI document is derived from them, and the Rust client
//! (`tenantry-client`) deserializes them, so the three cannot drift apart. One module per area of
//! the API; everything is re-exported here. With the `core` feature (the server's) each view also
//! converts from the core record it shows.

pub mod accounts;
pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod authorize;
pub mod events;
pub mod invitations;
pub mod members;
pub mod meta;
pub mod mfa;
pub mod notifications;
pub mod orgs;
pub mod ownership;
pub mod plans;
pub mod roles;
pub mod teams;
pub mod usage;
pub mod verify;
pub mod views;
pub mod webhooks;
mod whole;

pub use tenantry_ids as ids;

pub use accounts::*;
pub use admin::*;
pub use api_keys::*;
pub use audit::*;
pub use authorize::*;
pub use events::*;
pub use invitations::*;
pub use members::*;
pub use meta::*;
pub use mfa::*;
pub use notifications::*;
pub use orgs::*;
pub use ownership::*;
pub use plans::*;
pub use roles::*;
pub use teams::*;
pub use usage::*;
pub use verify::*;
pub use views::*;
pub use webhooks::*;
