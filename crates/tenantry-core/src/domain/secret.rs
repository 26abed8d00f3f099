//! Opaque secrets handed to people (refresh, verification, reset and invitation tokens): random,
//! URL-safe, and stored only as their SHA-256 so a database leak reveals none of them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// 256 random bits: comfortably above the 128-bit floor for bearer tokens.
pub const TOKEN_BYTES: usize = 32;

/// A freshly made secret: `plain` goes to its holder once, `hash` to the store.
pub struct IssuedToken {
    pub plain: String,
    pub hash: String,
}

impl IssuedToken {
    pub fn from_random(bytes: [u8; TOKEN_BYTES]) -> Self {
        let plain = URL_SAFE_NO_PAD.encode(bytes);
        let hash = hash_token(&plain);
        Self { plain, hash }
    }
}

/// The stored form of a token: lowercase hex SHA-256. Tokens carry ≥ 128 random bits, so a fast
/// hash is enough (there is nothing to brute-force, unlike a password).
/// The SHA-256 of `plain`, as bytes: the key of in-memory lookups, which need no text.
pub fn token_digest(plain: &str) -> [u8; 32] {
    Sha256::digest(plain.as_bytes()).into()
}

pub fn hash_token(plain: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(plain.as_bytes());
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_of_the_plain_text_and_not_the_plain_text() {
        let token = IssuedToken::from_random([7; TOKEN_BYTES]);
        assert_eq!(token.hash, hash_token(&token.plain));
        assert_ne!(token.hash, token.plain);
        assert_eq!(token.hash.len(), 64);
    }

    #[test]
    fn the_hash_is_lowercase_hex_sha256() {
        // The stored hashes of existing tokens and keys depend on exactly this form.
        assert_eq!(hash_token("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
