//! Access tokens: HS256 JWTs carrying the user id and the user's token version.
//!
//! The algorithm is pinned (a token whose header names any other, `none` included, is
//! refused before its signature is looked at), `exp`, `iat` and `sub` are required, a
//! token issued (`iat`) or valid from (`nbf`) more than a minute in the future is
//! refused, and
//! the token version ties every token to the account's current state: disabling,
//! deleting or changing the password bumps the version and ends all older tokens.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`, so that instances whose
/// clocks differ slightly accept each other's tokens.
const LEEWAY_SECONDS: u64 = 60;

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
    /// The sign-in session the token belongs to: it stops working when that session
    /// ends (logout, a reused refresh token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<i32>,
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
    /// The key that signs refresh tokens (the server secret).
    refresh_key: std::sync::Arc<[u8]>,
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
        validation.validate_nbf = true;
        validation.validate_aud = false;
        Ok(Self {
            encoding,
            decoding,
            validation,
            ttl_seconds,
            refresh_key: secret.into(),
        })
    }

    /// Lifetime of the tokens these keys issue.
    pub fn ttl_seconds(&self) -> u64 {
        self.ttl_seconds
    }

    /// The key refresh tokens are signed with.
    pub fn refresh_key(&self) -> &[u8] {
        &self.refresh_key
    }

    /// Issues a token for a user at `now` (seconds since the epoch).
    pub fn issue(&self, user_id: i32, token_version: i32, now: i64) -> AppResult<String> {
        self.issue_for_session(user_id, token_version, None, now)
    }

    /// Issues a token of a sign-in session at `now`. The same arguments give the same
    /// token (HS256 is deterministic), which is how a refresh retried within the grace
    /// gets the pair it was already given.
    pub fn issue_for_session(
        &self,
        user_id: i32,
        token_version: i32,
        session: Option<i32>,
        now: i64,
    ) -> AppResult<String> {
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now,
            exp: now + self.ttl_seconds as i64,
            ver: token_version,
            sid: session,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)
    }

    /// Verifies signature, algorithm and expiry; the account checks come after.
    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        self.verify_at(token, chrono::Utc::now().timestamp())
    }

    /// [`TokenKeys::verify`] with the clock given, for `iat` (jsonwebtoken checks `exp`
    /// and `nbf` against the system clock itself).
    pub fn verify_at(&self, token: &str, now: i64) -> Result<Claims, AppError> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| {
                let reason = match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => "the token has expired",
                    jsonwebtoken::errors::ErrorKind::ImmatureSignature => {
                        "the token is not valid yet"
                    }
                    _ => "the token is not valid",
                };
                AppError::Unauthorized(reason.to_owned())
            })?;
        if claims.iat > now.saturating_add(LEEWAY_SECONDS as i64) {
            return Err(AppError::Unauthorized(
                "the token is issued in the future".to_owned(),
            ));
        }
        Ok(claims)
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
    fn tokens_from_the_future_are_refused_beyond_the_leeway() {
        let keys = TokenKeys::new(SECRET, 3600).unwrap();
        let soon = keys.issue(7, 0, now() + 30).unwrap();
        assert!(keys.verify(&soon).is_ok(), "within the leeway");
        let later = keys.issue(7, 0, now() + 600).unwrap();
        assert!(keys.verify(&later).is_err(), "iat ten minutes ahead");
        #[derive(Serialize)]
        struct WithNbf {
            sub: String,
            iat: i64,
            exp: i64,
            nbf: i64,
            ver: i32,
        }
        let claims = WithNbf {
            sub: "7".into(),
            iat: now(),
            exp: now() + 3600,
            nbf: now() + 600,
            ver: 0,
        };
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET).unwrap(),
        )
        .unwrap();
        assert!(keys.verify(&token).is_err(), "nbf ten minutes ahead");
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
