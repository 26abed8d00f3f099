//! The members page gzip-compressed for browsers that accept it, with nothing compressed per
//! request.
//!
//! A page's kept rows (most of its bytes, and the same on every view) are compressed once, when
//! they are rendered, into a piece of a deflate stream that needs nothing before it and ends
//! byte-aligned without closing the stream (a sync flush). A request then wraps them: the gzip
//! header and the page's head as *stored* (uncompressed) deflate blocks, the kept piece, the tail
//! as the final stored block, and the trailer, whose checksum is combined from the pieces'
//! checksums rather than computed over the whole page.
//!
//! Only the rows are compressed, and they carry no secret: the anti-forgery value lives in the
//! page's shared forms, which are in the stored head and tail. A compressed secret beside text an
//! attacker controls (a member's name) would let the compressed length leak it (BREACH); a stored
//! block's length says nothing about its content.

use std::io::Write;

use axum::body::Bytes;
use axum::http::{header, HeaderMap};
use flate2::write::DeflateEncoder;
use flate2::Compression;

/// Rows compressed once: a piece of a deflate stream, with the checksum and length of what it
/// holds.
#[derive(Clone)]
pub struct Deflated {
    bytes: Bytes,
    crc: crc32fast::Hasher,
}

impl Deflated {
    /// `plain` compressed as a self-contained, byte-aligned, unfinished piece of a deflate stream.
    pub fn of(plain: &[u8]) -> Self {
        let mut encoder = DeflateEncoder::new(Vec::with_capacity(plain.len() / 4), Compression::default());
        // Writing into a Vec cannot fail.
        encoder.write_all(plain).expect("compressing into memory");
        // A sync flush: everything written is out, and the piece ends on a byte boundary with
        // the stream still open. The encoder's own ending (`finish`) is never taken.
        encoder.flush().expect("compressing into memory");
        let bytes = Bytes::from(std::mem::take(encoder.get_mut()));
        let mut crc = crc32fast::Hasher::new();
        crc.update(plain);
        Self { bytes, crc }
    }

    /// Compressed bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
}

/// Whether the request's `Accept-Encoding` names gzip with a weight above zero.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let weight = parts
                .find_map(|param| param.trim().strip_prefix("q="))
                .map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
            (name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip")) && weight > 0.0
        })
}

/// The gzip member holding `head`, `rows` and `tail` in that order, as pieces to send: the
/// gzip header, the head as stored blocks, the kept rows as they are, the tail as the final
/// stored block, and the trailer. The head and tail go out as slices of themselves, each stored
/// block's five-byte header a small piece of its own before them, so nothing of the page is
/// copied.
pub fn around(head: Bytes, rows: &Deflated, tail: Bytes) -> Vec<Bytes> {
    // ID1 ID2, deflate, no flags, no modification time, no extra flags, unknown system.
    const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    // The checksum runs over the head, takes the rows' as if it had read them, and goes on.
    let mut crc = crc32fast::Hasher::new();
    crc.update(&head);
    crc.combine(&rows.crc);
    crc.update(&tail);
    let size = crc.total_len();
    let mut trailer = Vec::with_capacity(8);
    trailer.extend_from_slice(&crc.finalize().to_le_bytes());
    // ISIZE is the length modulo 2^32.
    trailer.extend_from_slice(&(size as u32).to_le_bytes());

    // Each stored block is two pieces, its header and its data.
    let mut pieces = Vec::with_capacity(2 * (stored_blocks(&head) + stored_blocks(&tail)) + 2);
    stored(&mut pieces, HEADER.to_vec(), head, false);
    pieces.push(rows.bytes.clone());
    stored(&mut pieces, Vec::new(), tail, true);
    pieces.push(Bytes::from(trailer));
    pieces
}

/// The most a stored block holds.
const STORED_MAX: usize = u16::MAX as usize;

/// How many stored blocks `data` takes: at least one, even when empty.
fn stored_blocks(data: &[u8]) -> usize {
    data.len().div_ceil(STORED_MAX).max(1)
}

/// Appends `data` to `pieces` as stored deflate blocks (at least one), the last of them final
/// when `last`: each block's header joins `before` (what precedes the first block) or is a piece
/// of its own, and its data is a slice of `data`. Each block begins on a byte boundary (what
/// comes before ends on one), so its three header bits fill one byte.
fn stored(pieces: &mut Vec<Bytes>, mut before: Vec<u8>, data: Bytes, last: bool) {
    let blocks = stored_blocks(&data);
    for block in 0..blocks {
        let part = data.slice(block * STORED_MAX..data.len().min((block + 1) * STORED_MAX));
        let length = part.len() as u16;
        before.push(u8::from(last && block + 1 == blocks));
        before.extend_from_slice(&length.to_le_bytes());
        before.extend_from_slice(&(!length).to_le_bytes());
        pieces.push(Bytes::from(std::mem::take(&mut before)));
        if !part.is_empty() {
            pieces.push(part);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use axum::http::HeaderValue;

    use super::*;

    fn gunzipped(pieces: &[Bytes]) -> Vec<u8> {
        let sent: Vec<u8> = pieces.iter().flat_map(|piece| piece.iter().copied()).collect();
        let mut plain = Vec::new();
        // `GzDecoder` checks the trailer's checksum and length, and reads one member only.
        flate2::read::GzDecoder::new(&sent[..]).read_to_end(&mut plain).expect("a valid gzip member");
        plain
    }

    #[test]
    fn the_pieces_make_one_gzip_member_of_head_rows_and_tail() {
        let rows: String =
            (0..50).map(|i| format!("<tr><td>Member {i}</td><td>m{i}@example.com</td></tr>\n")).collect();
        let (head, tail) = ("<html><table>".repeat(3), "</table></html>");
        let kept = Deflated::of(rows.as_bytes());
        assert!(kept.len() < rows.len() / 4, "{} of {}", kept.len(), rows.len());
        let pieces = around(Bytes::from(head.clone()), &kept, Bytes::from_static(tail.as_bytes()));
        assert_eq!(gunzipped(&pieces), format!("{head}{rows}{tail}").into_bytes());
    }

    #[test]
    fn heads_and_tails_longer_than_a_stored_block_and_empty_ones() {
        let long: Vec<u8> = (0..200_000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let kept = Deflated::of(b"<tr></tr>");
        for (head, tail) in [(&long[..], &b""[..]), (&b""[..], &long[..]), (&long[..100_000], &long[..70_000])] {
            let expected = [head, b"<tr></tr>", tail].concat();
            let pieces = around(Bytes::copy_from_slice(head), &kept, Bytes::copy_from_slice(tail));
            assert_eq!(gunzipped(&pieces), expected);
        }
        assert_eq!(gunzipped(&around(Bytes::new(), &Deflated::of(b""), Bytes::new())), b"");
    }

    #[test]
    fn gzip_is_accepted_only_when_named_with_a_weight_above_zero() {
        let accepts = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
            accepts_gzip(&headers)
        };
        assert!(accepts("gzip, deflate, br, zstd"));
        assert!(accepts("br;q=1.0, GZIP;q=0.5"));
        assert!(accepts("x-gzip"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("br, zstd"));
        assert!(!accepts("identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
