//! Typed identifiers live in their own crate so the API's shared types (`tenantry-types`) and
//! its clients use the same ones without the core.

pub use tenantry_ids::*;
