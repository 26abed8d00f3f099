//! Tenantry's domain and use cases.
//!
//! `domain` holds value types that parse instead of validate (ids, emails, slugs, presets);
//! `service` holds one module per capability, each the single home of its rules; `store` is the
//! persistence contract the services call, implemented once per database.

pub mod caches;
pub mod context;
pub mod domain;
pub mod error;
pub mod service;
pub mod store;
pub mod tokens;

pub use error::{Error, Result};
pub use service::Tenantry;
