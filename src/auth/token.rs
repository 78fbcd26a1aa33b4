//! Access tokens: HS256 JWTs carrying the user id and the user's token version.
//!
//! The algorithm is pinned (a token whose header names any other, `none` included, is
//! refused before its signature is looked at), `exp`, `iat` and `sub` are required, and
//! the token version ties every token to the account's current state: disabling,
//! deleting or changing the password bumps the version and ends all older tokens.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// Seconds of clock skew tolerated on `exp`.
const LEEWAY_SECONDS: u64 = 5;

/// The claims of a newsdesk access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, as a string (RFC 7519 wants a string).
    pub sub: String,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
    /// The user's token version when the token was issued.
    pub ver: i32,
}

impl Claims {
    /// The user id named by `sub`.
    pub fn user_id(&self) -> Option<i32> {
        self.sub.parse().ok()
    }
}

/// Signing and verification keys, built once from the server secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_seconds: u64,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("ttl_seconds", &self.ttl_seconds)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// Keys for HS256 from the server secret.
    pub fn new(secret: &[u8], ttl_seconds: u64) -> AppResult<Self> {
        let encoding = EncodingKey::from_secret(secret).map_err(AppError::internal)?;
        let decoding = DecodingKey::from_secret(secret).map_err(AppError::internal)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_aud = false;
        Ok(Self {
            encoding,
            decoding,
            validation,
            ttl_seconds,
        })
    }

    /// Lifetime of the tokens these keys issue.
    pub fn ttl_seconds(&self) -> u64 {
        self.ttl_seconds
    }

    /// Issues a token for a user at `now` (seconds since the epoch).
    pub fn issue(&self, user_id: i32, token_version: i32, now: i64) -> AppResult<String> {
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now,
            exp: now + self.ttl_seconds as i64,
            ver: token_version,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)
    }

    /// Verifies signature, algorithm and expiry; the account checks come after.
    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| {
                let reason = match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => "the token has expired",
                    _ => "the token is not valid",
                };
                AppError::Unauthorized(reason.to_owned())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn issued_tokens_verify() {
        let keys = TokenKeys::new(SECRET, 3600).unwrap();
        let token = keys.issue(7, 3, now()).unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!(claims.user_id(), Some(7));
        assert_eq!(claims.ver, 3);
    }

    #[test]
    fn expired_tokens_are_refused() {
        let keys = TokenKeys::new(SECRET, 60).unwrap();
        let token = keys.issue(7, 0, now() - 3600).unwrap();
        assert!(keys.verify(&token).is_err());
    }

    #[test]
    fn another_secret_is_refused() {
        let keys = TokenKeys::new(SECRET, 3600).unwrap();
        let other = TokenKeys::new(b"another secret that is long enough!!", 3600).unwrap();
        let token = other.issue(7, 0, now()).unwrap();
        assert!(keys.verify(&token).is_err());
    }

    #[test]
    fn alg_none_is_refused() {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = b64.encode(format!(
            r#"{{"sub":"1","iat":{},"exp":{},"ver":0}}"#,
            now(),
            now() + 3600
        ));
        let keys = TokenKeys::new(SECRET, 3600).unwrap();
        assert!(keys.verify(&format!("{header}.{body}.")).is_err());
    }
}
