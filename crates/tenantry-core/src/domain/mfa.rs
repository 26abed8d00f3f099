//! Multi-factor authentication: TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, ±1 step),
//! single-use recovery codes, the key that seals TOTP secrets at rest, and the QR code an
//! authenticator app scans.
//!
//! The code arithmetic is `totp-rs`'s; what is Tenantry's is the rule around it: a code is
//! accepted only for a step later than the last one accepted, so a code is never used twice.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use qrcodegen::{QrCode, QrCodeEcc};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, TOTP};

use super::secret::hash_token;

/// Seconds per step.
pub const STEP_SECS: u64 = 30;
/// Steps accepted either side of the current one (clock drift between phone and server).
pub const SKEW_STEPS: u64 = 1;
/// 160-bit secrets, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;
/// Recovery codes issued per enrolment.
pub const RECOVERY_CODES: usize = 10;
/// 80 random bits per recovery code: enough that their SHA-256 hashes cannot be reversed.
const RECOVERY_CODE_BYTES: usize = 10;

/// A user's TOTP secret, in the clear only in memory.
pub struct TotpSecret(Vec<u8>);

impl TotpSecret {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// A secret as an authenticator app is given it (base32); `None` if it is not base32.
    pub fn from_base32(text: &str) -> Option<Self> {
        totp_rs::Secret::Encoded(text.trim().to_uppercase()).to_bytes().ok().map(Self)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn totp(&self, issuer: Option<String>, account: String) -> TOTP {
        TOTP::new_unchecked(Algorithm::SHA1, 6, SKEW_STEPS as u8, STEP_SECS, self.0.clone(), issuer, account)
    }

    /// The secret as authenticator apps take it typed in (RFC 4648 base32, no padding).
    pub fn base32(&self) -> String {
        self.totp(None, String::new()).get_secret_base32()
    }

    /// The `otpauth://totp/…` URL the QR code carries.
    pub fn otpauth_url(&self, issuer: &str, account: &str) -> String {
        self.totp(Some(issuer.replace(':', " ")), account.replace(':', " ")).get_url()
    }

    /// The code for a step.
    pub fn code_at_step(&self, step: u64) -> String {
        self.totp(None, String::new()).generate(step * STEP_SECS)
    }

    /// The step `code` belongs to, if it is the code of the current step or one either side and
    /// that step is later than `last_used_step`. Every candidate is compared in constant time.
    pub fn accepted_step(&self, code: &str, unix_secs: u64, last_used_step: u64) -> Option<u64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let now = unix_secs / STEP_SECS;
        let mut found = None;
        for step in now.saturating_sub(SKEW_STEPS)..=now + SKEW_STEPS {
            if same_in_constant_time(self.code_at_step(step).as_bytes(), code.as_bytes()) && step > last_used_step {
                found = Some(step);
            }
        }
        found
    }
}

/// Compares without stopping at the first difference, so timing tells nothing about the code.
fn same_in_constant_time(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// Seals TOTP secrets at rest with AES-256-GCM; the user's id is the associated data, so a sealed
/// secret copied to another user's row does not open.
pub struct MfaCipher {
    key: LessSafeKey,
    fingerprint: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CipherError {
    #[error("the MFA encryption key must be 32 bytes, base64-encoded")]
    BadKey,
    #[error("a sealed MFA secret does not open with this key")]
    Unopenable,
}

impl MfaCipher {
    /// A cipher from the base64 form of a 32-byte key.
    pub fn from_base64(encoded: &str) -> Result<Self, CipherError> {
        let bytes = STANDARD.decode(encoded.trim()).map_err(|_| CipherError::BadKey)?;
        if bytes.len() != 32 {
            return Err(CipherError::BadKey);
        }
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| CipherError::BadKey)?;
        let fingerprint = hash_token(&format!("tenantry-mfa-key:{}", STANDARD.encode(Sha256::digest(&bytes))));
        Ok(Self { key: LessSafeKey::new(key), fingerprint })
    }

    /// The base64 form of 32 new random bytes.
    pub fn new_key(random: &dyn crate::context::Random) -> String {
        let mut bytes = [0u8; 32];
        random.fill(&mut bytes);
        STANDARD.encode(bytes)
    }

    /// A value that names the key without revealing it: kept in the database to notice a
    /// configured key that is not the one the stored secrets were sealed with.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub fn seal(&self, secret: &TotpSecret, owner: &str, random: &dyn crate::context::Random) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        random.fill(&mut nonce);
        let mut sealed = secret.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(owner.as_bytes()), &mut sealed)
            .expect("AES-GCM seals any secret shorter than 64 GiB");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        STANDARD.encode(out)
    }

    pub fn open(&self, sealed: &str, owner: &str) -> Result<TotpSecret, CipherError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| CipherError::Unopenable)?;
        if bytes.len() < NONCE_LEN {
            return Err(CipherError::Unopenable);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CipherError::Unopenable)?;
        let mut buffer = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(owner.as_bytes()), &mut buffer)
            .map_err(|_| CipherError::Unopenable)?;
        Ok(TotpSecret(plain.to_vec()))
    }
}

/// A recovery code as shown to its owner: four groups of four base32 characters.
pub fn recovery_code(random: &dyn crate::context::Random) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut bytes = [0u8; RECOVERY_CODE_BYTES];
    random.fill(&mut bytes);
    // 80 bits in 16 characters of 5 bits each.
    let mut bits: u128 = 0;
    for byte in bytes {
        bits = (bits << 8) | u128::from(byte);
    }
    let chars: Vec<char> = (0..16).map(|i| char::from(ALPHABET[((bits >> (75 - 5 * i)) & 31) as usize])).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// The stored form of a recovery code, however it was typed (case, spaces, dashes).
pub fn recovery_code_hash(typed: &str) -> String {
    let normal: String = typed.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
    hash_token(&format!("recovery:{normal}"))
}

/// A QR code of `text` as a small standalone SVG (black modules on white, 4-module quiet zone).
pub fn qr_svg(text: &str) -> String {
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).expect("an otpauth URL fits in a QR code");
    let border = 4;
    let size = qr.size() + 2 * border;
    let mut path = String::new();
    for y in 0..qr.size() {
        for x in 0..qr.size() {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" shape-rendering=\"crispEdges\" \
         role=\"img\" aria-label=\"QR code for the authenticator app\"><rect width=\"100%\" height=\"100%\" \
         fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows: the 8-digit values, whose last six digits are the 6-digit
    /// codes this service uses.
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
        let vectors = [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (time, expected) in vectors {
            assert_eq!(secret.code_at_step(time / STEP_SECS), expected[2..], "at T = {time}");
        }
    }

    #[test]
    fn the_base32_form_reads_back() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
        assert_eq!(secret.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(TotpSecret::from_base32(&secret.base32()).unwrap().as_bytes(), secret.as_bytes());
        assert!(TotpSecret::from_base32("not base32!").is_none());
    }

    #[test]
    fn one_step_either_side_is_accepted_two_are_not_and_no_step_twice() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
        let now = 1_234_567_890;
        let step = now / STEP_SECS;
        for offset in [-1i64, 0, 1] {
            let at = step.checked_add_signed(offset).unwrap();
            assert_eq!(secret.accepted_step(&secret.code_at_step(at), now, 0), Some(at), "offset {offset}");
        }
        for offset in [-2i64, 2] {
            let at = step.checked_add_signed(offset).unwrap();
            assert_eq!(secret.accepted_step(&secret.code_at_step(at), now, 0), None, "offset {offset}");
        }
        // The step just used, or an earlier one, is refused.
        assert_eq!(secret.accepted_step(&secret.code_at_step(step), now, step), None);
        assert_eq!(secret.accepted_step(&secret.code_at_step(step - 1), now, step), None);
        assert_eq!(secret.accepted_step("12345", now, 0), None);
        assert_eq!(secret.accepted_step("abcdef", now, 0), None);
    }

    struct Counting(std::sync::atomic::AtomicU8);
    impl crate::context::Random for Counting {
        fn fill(&self, buf: &mut [u8]) {
            for b in buf {
                *b = self.0.fetch_add(7, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_for_its_owner() {
        let random = Counting(std::sync::atomic::AtomicU8::new(1));
        let cipher = MfaCipher::from_base64(&MfaCipher::new_key(&random)).unwrap();
        let other = MfaCipher::from_base64(&MfaCipher::new_key(&random)).unwrap();
        let secret = TotpSecret::from_bytes(vec![9; SECRET_BYTES]);
        let sealed = cipher.seal(&secret, "usr_a", &random);
        assert!(!sealed.contains(&STANDARD.encode(secret.as_bytes())));
        assert_eq!(cipher.open(&sealed, "usr_a").unwrap().as_bytes(), secret.as_bytes());
        assert!(cipher.open(&sealed, "usr_b").is_err());
        assert!(other.open(&sealed, "usr_a").is_err());
        assert_ne!(cipher.fingerprint(), other.fingerprint());
        assert!(MfaCipher::from_base64("c2hvcnQ=").is_err());
    }

    #[test]
    fn recovery_codes_read_as_groups_and_hash_however_they_are_typed() {
        let random = Counting(std::sync::atomic::AtomicU8::new(3));
        let code = recovery_code(&random);
        assert_eq!(code.len(), 19);
        assert_eq!(code.split('-').count(), 4);
        assert_eq!(recovery_code_hash(&code), recovery_code_hash(&code.to_uppercase().replace('-', " ")));
        assert_ne!(recovery_code_hash(&code), recovery_code_hash("aaaa-aaaa-aaaa-aaaa"));
    }

    #[test]
    fn the_qr_code_is_an_svg() {
        let svg = qr_svg("otpauth://totp/Tenantry:ada%40example.com?secret=ABC&issuer=Tenantry");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>") && svg.contains("M4,4h1v1h-1z"));
    }
}
