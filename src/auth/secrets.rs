//! Random bearer secrets and the hashes that are kept of them.

use base64::Engine;
use sha2::{Digest, Sha256};

/// A new secret: `prefix` and 32 random bytes in URL-safe base64, so a token is
/// recognised in a log or a leak scan by its prefix.
pub fn random_token(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The SHA-256 of a token in hex: what is stored of a token that only needs checking.
pub fn sha256_hex(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(64);
    for b in digest {
        use std::fmt::Write;
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_and_distinct() {
        let a = random_token("nd_");
        let b = random_token("nd_");
        assert!(a.starts_with("nd_") && a.len() == 3 + 43);
        assert_ne!(a, b);
        assert_eq!(sha256_hex("abc").len(), 64);
        assert_eq!(
            &sha256_hex("abc")[..16],
            "ba7816bf8f01cfea",
            "the SHA-256 of \"abc\" (FIPS 180-2's example)"
        );
    }
}
