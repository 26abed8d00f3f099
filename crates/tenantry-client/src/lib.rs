//! A typed client for Tenantry's HTTP API, on the same request and answer types as the server
//! (`tenantry-types`, re-exported as [`types`]).
//!
//! ```no_run
//! # async fn example() -> Result<(), tenantry_client::ClientError> {
//! use tenantry_client::{types::CreateOrgBody, Client};
//!
//! let tenantry = Client::new("http://127.0.0.1:8080")?.with_token("an access token");
//! let me = tenantry.me().await?;
//! let org = tenantry.create_org(&CreateOrgBody { name: "Acme".into(), ..Default::default() }).await?;
//! println!("{} owns {}", me.user.email, org.slug);
//! # Ok(()) }
//! ```
//!
//! With the `axum` feature, [`host`] gives a host app on axum what it needs on every request:
//! the caller of an access token (verified offline from the JWKS), a `require(permission)`
//! layer, and the caller of an API key (verified by Tenantry).

mod client;
mod operations;

#[cfg(feature = "axum")]
pub mod host;

pub use client::{Call, Client, ClientError};
pub use operations::path_segment;
pub use tenantry_types as types;
