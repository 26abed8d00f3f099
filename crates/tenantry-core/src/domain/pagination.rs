//! Cursor pagination. A cursor is the opaque (base64url) form of the last row's sort key; pages
//! are fetched with `key > cursor`, so rows inserted meanwhile never shift or repeat a page.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// The sort key of the last row already seen.
    pub after: Option<String>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("limit must be between 1 and {MAX_LIMIT}")]
    Limit,
    #[error("is not a cursor this API issued")]
    Cursor,
}

impl PageRequest {
    pub fn parse(cursor: Option<&str>, limit: Option<u32>) -> Result<Self, PageError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(PageError::Limit);
        }
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(cursor) => {
                let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| PageError::Cursor)?;
                let text = String::from_utf8(bytes).map_err(|_| PageError::Cursor)?;
                Some(text.strip_prefix("k:").ok_or(PageError::Cursor)?.to_owned())
            }
        };
        Ok(Self { after, limit })
    }

    pub fn first(limit: u32) -> Self {
        Self { after: None, limit }
    }

    /// How many rows to fetch: one more than the page, to learn whether another page exists.
    pub fn fetch_limit(&self) -> u32 {
        self.limit + 1
    }
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `fetch_limit()` rows, `key` giving each row's sort key.
    pub fn from_rows(mut rows: Vec<T>, request: &PageRequest, key: impl Fn(&T) -> String) -> Self {
        let has_more = rows.len() > request.limit as usize;
        rows.truncate(request.limit as usize);
        let next_cursor = if has_more { rows.last().map(|last| encode_cursor(&key(last))) } else { None };
        Self { items: rows, next_cursor }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }
}

fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("k:{key}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let request = PageRequest::first(2);
        let page = Page::from_rows(vec!["a", "b", "c"], &request, |s| s.to_string());
        assert_eq!(page.items, vec!["a", "b"]);
        let next = PageRequest::parse(page.next_cursor.as_deref(), Some(2)).unwrap();
        assert_eq!(next.after.as_deref(), Some("b"));
        assert_eq!(PageRequest::parse(Some("!!"), None), Err(PageError::Cursor));
        assert_eq!(PageRequest::parse(None, Some(0)), Err(PageError::Limit));
        assert_eq!(PageRequest::parse(None, Some(101)), Err(PageError::Limit));
    }

    #[test]
    fn the_last_page_has_no_cursor() {
        let page = Page::from_rows(vec![1, 2], &PageRequest::first(2), |n| n.to_string());
        assert!(page.next_cursor.is_none());
    }
}
