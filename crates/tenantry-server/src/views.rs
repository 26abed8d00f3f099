//! Answers in the API's envelopes (SPEC 10b). The shapes themselves are `tenantry-types`', shared
//! with the OpenAPI document and the clients; this module wraps them for axum.

use tenantry_core::domain::pagination::Page;
pub use tenantry_types::views::*;

pub fn data<T>(data: T) -> axum::Json<Data<T>> {
    axum::Json(Data { data })
}

pub fn list<R, T>(page: Page<R>, view: impl FnMut(R) -> T) -> axum::Json<List<T>> {
    let next_cursor = page.next_cursor.clone();
    axum::Json(List { data: page.items.into_iter().map(view).collect(), pagination: PaginationView { next_cursor } })
}

/// `list`, for a page that is shared (one a cache holds).
pub fn list_shared<R, T>(page: &Page<R>, view: impl FnMut(&R) -> T) -> axum::Json<List<T>> {
    let next_cursor = page.next_cursor.clone();
    axum::Json(List { data: page.items.iter().map(view).collect(), pagination: PaginationView { next_cursor } })
}
