//! A page sent as pieces already in memory: the members page is its kept rows (most of its
//! bytes) between a head and a tail rendered for the request, and copying the rows into one
//! buffer with the rest cost more than rendering the rest. The pieces go out as they are, the
//! server writing them to the socket together.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};

/// Marks where the kept rows go in a rendered page. It cannot come from a value shown on a page:
/// every value is escaped (`<` becomes `&lt;`), so the first one in a page is the template's.
pub const ROWS_SLOT: &str = "<!--member-rows-->";

/// A response body of `Bytes` pieces, sent in order, with its exact length known up front.
pub struct Pieces {
    pieces: VecDeque<Bytes>,
    remaining: u64,
}

impl Pieces {
    /// `page` with `rows` in place of its first [`ROWS_SLOT`] (`page` as it is, without one).
    pub fn splice(page: String, rows: Bytes) -> Self {
        let pieces: VecDeque<Bytes> = match page.find(ROWS_SLOT) {
            Some(at) => {
                let mut head = Bytes::from(page);
                let tail = head.split_off(at).slice(ROWS_SLOT.len()..);
                [head, rows, tail].into()
            }
            None => [Bytes::from(page)].into(),
        };
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
        let (length, text) = sent(Pieces::splice(page, Bytes::from_static(b"<tr>a</tr>"))).await;
        assert_eq!(text, "<table><tr>a</tr></table><p>&lt;!--member-rows--&gt;</p>");
        assert_eq!(length, Some(text.len() as u64));
    }

    #[tokio::test]
    async fn a_page_without_a_slot_is_sent_as_it_is() {
        let (length, text) = sent(Pieces::splice("<p>no table</p>".into(), Bytes::from_static(b"<tr>"))).await;
        assert_eq!(text, "<p>no table</p>");
        assert_eq!(length, Some(15));
    }
}
