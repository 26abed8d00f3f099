//! The in-memory state the services share, each bounded and each kept exact by the cache changes
//! every write commits (see `service::unit_of_work`): what a user may do in an org (`grants`),
//! API keys by secret (`key_cache`), live sessions (`session_cache`), member pages
//! (`member_pages`), the pending invitations an org page lists (`pending_invitations`), what
//! `/v1/me` shows (`me`), and the per-key counters of the request path — rate windows
//! (`rate_limit`), login throttling (`throttle`) and key usage waiting to be flushed
//! (`key_usage`) — sharded (`shards`) so that concurrent requests do not queue on one lock. Each
//! cache counts its hits and misses (`lookups`) for the metrics, drops a fill that raced an
//! invalidation (`generation`), and forgets every entry of a user or an org at once without
//! walking its entries (`scopes`).

mod generation;
pub mod grants;
pub mod key_cache;
pub mod key_usage;
pub mod lookups;
pub mod me;
pub mod member_pages;
pub mod pending_invitations;
pub mod rate_limit;
mod scopes;
pub mod session_cache;
mod shards;
pub mod throttle;
