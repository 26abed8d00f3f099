//! A page sent as pieces already in memory: the members page is its kept rows (most of its
//! bytes) between a head and a tail rendered for the request, and copying the rows into one
//! buffer with the rest cost more than rendering the rest. The pieces go out as they are, the
//! server writing them to the socket together; to a browser that accepts gzip they go out as one
//! gzip member around the rows compressed when they were kept (`super::gzip`).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::gzip::{self, Deflated};

/// Marks where the kept rows go in a rendered page. It cannot come from a value shown on a page:
/// every value is escaped (`<` becomes `&lt;`), so the first one in a page is the template's.
pub const ROWS_SLOT: &str = "<!--member-rows-->";

/// Rows rendered beforehand, and compressed once when they are kept.
#[derive(Clone)]
pub struct Rows {
    pub plain: Bytes,
    pub deflated: Option<Deflated>,
}

impl Rows {
    /// Rows rendered for this request only, never compressed.
    pub fn plain(plain: impl Into<Bytes>) -> Self {
        Self { plain: plain.into(), deflated: None }
    }
}

/// A response body of `Bytes` pieces, sent in order, with its exact length known up front.
pub struct Pieces {
    pieces: VecDeque<Bytes>,
    remaining: u64,
}

impl Pieces {
    /// `page` with `rows` in place of its first [`ROWS_SLOT`] (`page` as it is, without one);
    /// gzip-compressed when `gzip` and the rows were compressed, which the second value tells.
    pub fn splice(page: String, rows: Rows, gzip: bool) -> (Self, bool) {
        let Some(at) = page.find(ROWS_SLOT) else { return (Self::of([Bytes::from(page)]), false) };
        let mut head = Bytes::from(page);
        let tail = head.split_off(at).slice(ROWS_SLOT.len()..);
        match rows.deflated.filter(|_| gzip) {
            Some(deflated) => (Self::of(gzip::around(head, &deflated, tail)), true),
            None => (Self::of([head, rows.plain, tail]), false),
        }
    }

    fn of(pieces: impl Into<VecDeque<Bytes>>) -> Self {
        let pieces = pieces.into();
        let remaining = pieces.iter().map(|p| p.len() as u64).sum();
        Self { pieces, remaining }
    }
}

impl Body for Pieces {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        Poll::Ready(this.pieces.pop_front().map(|piece| {
            this.remaining -= piece.len() as u64;
            Ok(Frame::data(piece))
        }))
    }

    fn is_end_stream(&self) -> bool {
        self.pieces.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn sent(body: Pieces) -> (Option<u64>, String) {
        let length = body.size_hint().exact();
        let bytes = body.collect().await.unwrap().to_bytes();
        (length, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn the_rows_take_the_place_of_the_first_slot() {
        let page = format!("<table>{ROWS_SLOT}</table><p>&lt;!--member-rows--&gt;</p>");
        let (body, gzipped) = Pieces::splice(page, Rows::plain(Bytes::from_static(b"<tr>a</tr>")), true);
        assert!(!gzipped, "rows rendered for one request are not compressed");
        let (length, text) = sent(body).await;
        assert_eq!(text, "<table><tr>a</tr></table><p>&lt;!--member-rows--&gt;</p>");
        assert_eq!(length, Some(text.len() as u64));
    }

    #[tokio::test]
    async fn kept_rows_go_out_compressed_only_to_a_browser_that_accepts_gzip() {
        let rows = "<tr><td>a</td></tr>".repeat(50);
        let kept = Rows { plain: Bytes::from(rows.clone()), deflated: Some(Deflated::of(rows.as_bytes())) };
        let page = || format!("<table>{ROWS_SLOT}</table>");
        let (body, gzipped) = Pieces::splice(page(), kept.clone(), false);
        assert!(!gzipped);
        assert_eq!(sent(body).await.1, format!("<table>{rows}</table>"));
        let (body, gzipped) = Pieces::splice(page(), kept, true);
        assert!(gzipped);
        let length = body.size_hint().exact();
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(length, Some(bytes.len() as u64));
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text).unwrap();
        assert_eq!(text, format!("<table>{rows}</table>"));
    }

    #[tokio::test]
    async fn a_page_without_a_slot_is_sent_as_it_is() {
        let (body, _) = Pieces::splice("<p>no table</p>".into(), Rows::plain(Bytes::from_static(b"<tr>")), false);
        let (length, text) = sent(body).await;
        assert_eq!(text, "<p>no table</p>");
        assert_eq!(length, Some(15));
    }
}
