//! Access tokens: EdDSA-signed JWTs that host apps verify offline with the JWKS.
//!
//! The Ed25519 key is generated on first start and kept in the database, so every node and every
//! restart signs with the same key. Expiry is checked against the service clock rather than by
//! the JWT library, so tests can move time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::context::Clock;
use crate::domain::models::SigningKey;
use crate::store::Store;
use crate::{Error, Result};

pub const ISSUER: &str = "tenantry";

/// The claims of an access token (SPEC 8).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    /// The user id.
    pub sub: String,
    /// The session (refresh-token family) the token belongs to; logging out ends it.
    pub sid: String,
    /// How the session's login was authenticated (RFC 8176): `["pwd"]` or `["pwd", "otp"]`.
    #[serde(default)]
    pub amr: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default)]
    pub permissions: Vec<String>,
    /// The user's teams in the active org.
    #[serde(default)]
    pub team_ids: Vec<String>,
    pub iat: i64,
    pub exp: i64,
}

pub struct TokenSigner {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// The public key, base64url, as the JWK `x` member.
    public_x: String,
}

impl TokenSigner {
    pub(crate) async fn load_or_create(store: &dyn Store, clock: &dyn Clock) -> Result<Self> {
        let mut tx = store.write().await?;
        let key = match tx.signing_key().await? {
            Some(key) => key,
            None => {
                let key = generate(clock.now())?;
                tx.insert_signing_key(&key).await?;
                tracing::info!(kid = %key.kid, "generated the token signing key");
                key
            }
        };
        tx.commit().await?;
        Self::from_key(&key)
    }

    /// The signer of a stored key (the benchmark signs its seeded sessions' tokens with it).
    pub fn from_key(key: &SigningKey) -> Result<Self> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&key.pkcs8)
            .map_err(|e| Error::Internal(format!("stored signing key is unusable: {e}")))?;
        let public = pair.public_key().as_ref();
        Ok(Self {
            kid: key.kid.clone(),
            encoding: EncodingKey::from_ed_der(&key.pkcs8),
            decoding: DecodingKey::from_ed_der(public),
            public_x: URL_SAFE_NO_PAD.encode(public),
        })
    }

    pub fn sign(&self, claims: &AccessClaims) -> Result<String> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(|e| Error::Internal(e.to_string()))
    }

    /// The claims of a token this instance signed and that has not expired at `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims> {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_exp = false;
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
            .map_err(|_| Error::Unauthorized("the access token is invalid".into()))?
            .claims;
        if claims.exp <= now.timestamp() {
            return Err(Error::Unauthorized("the access token has expired".into()));
        }
        Ok(claims)
    }

    /// The JSON Web Key Set host apps use to verify tokens offline.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [{
            "kty": "OKP", "crv": "Ed25519", "x": self.public_x,
            "kid": self.kid, "alg": "EdDSA", "use": "sig"
        }]})
    }
}

fn generate(now: DateTime<Utc>) -> Result<SigningKey> {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|e| Error::Internal(e.to_string()))?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(SigningKey { kid: thumbprint(pair.public_key().as_ref()), pkcs8: pkcs8.as_ref().to_vec(), created_at: now })
}

/// The RFC 7638 JWK thumbprint: a key id derived from the key itself.
fn thumbprint(public: &[u8]) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, URL_SAFE_NO_PAD.encode(public));
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> TokenSigner {
        TokenSigner::from_key(&generate(Utc::now()).unwrap()).unwrap()
    }

    fn claims(exp: i64) -> AccessClaims {
        AccessClaims {
            iss: ISSUER.into(),
            sub: "usr_1".into(),
            sid: "ses_1".into(),
            amr: vec!["pwd".into()],
            org_id: None,
            role: None,
            permissions: vec![],
            team_ids: vec![],
            iat: 0,
            exp,
        }
    }

    #[test]
    fn signs_and_verifies_until_expiry() {
        let signer = signer();
        let now = Utc::now();
        let token = signer.sign(&claims(now.timestamp() + 60)).unwrap();
        assert_eq!(signer.verify(&token, now).unwrap().sub, "usr_1");
        assert!(signer.verify(&token, now + chrono::Duration::seconds(61)).is_err());
    }

    #[test]
    fn refuses_another_instances_token() {
        let now = Utc::now();
        let token = signer().sign(&claims(now.timestamp() + 60)).unwrap();
        assert!(signer().verify(&token, now).is_err());
    }
}
