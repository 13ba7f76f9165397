//! Password hashing with argon2id, always off the async runtime (it costs tens of ms of CPU).

use crate::{CoreError, CoreResult};
use argon2::password_hash::{PasswordHash, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;

/// Hashes and verifies passwords. Holds a hash of a random password so that checking a
/// password for an unknown user costs the same as for a known one.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    dummy_hash: Arc<String>,
}

/// Shortest password accepted when an administrator sets one.
pub const MIN_PASSWORD_LEN: usize = 8;

impl PasswordHasher {
    /// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
    pub fn recommended() -> CoreResult<Self> {
        Self::with_params(19 * 1024, 2, 1)
    }

    /// Cheaper parameters for tests only; production uses [`PasswordHasher::recommended`].
    pub fn with_params(m_cost: u32, t_cost: u32, p_cost: u32) -> CoreResult<Self> {
        let params = Params::new(m_cost, t_cost, p_cost, None)
            .map_err(|e| CoreError::Internal(format!("argon2 parameters: {e}")))?;
        let dummy = hash_with(&params, &crate::secrets::new_short_token())?;
        Ok(PasswordHasher {
            params,
            dummy_hash: Arc::new(dummy),
        })
    }

    pub async fn hash(&self, password: String) -> CoreResult<String> {
        let params = self.params.clone();
        tokio::task::spawn_blocking(move || hash_with(&params, &password))
            .await
            .map_err(|e| CoreError::Internal(format!("hashing task: {e}")))?
    }

    /// True when `password` matches `phc`. With `phc = None` it verifies against the dummy
    /// hash and returns false, spending the same work.
    pub async fn verify(&self, phc: Option<String>, password: String) -> CoreResult<bool> {
        let real = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy_hash.as_ref().clone());
        let ok = tokio::task::spawn_blocking(move || {
            let Ok(parsed) = PasswordHash::new(&phc) else {
                return false;
            };
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .await
        .map_err(|e| CoreError::Internal(format!("verify task: {e}")))?;
        Ok(ok && real)
    }
}

fn hash_with(params: &Params, password: &str) -> CoreResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    argon2::PasswordHasher::hash_password(&argon, password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CoreError::Internal(format!("argon2: {e}")))
}

/// Checks an administrator-chosen password against the minimal policy.
pub fn check_password_policy(password: &str) -> CoreResult<()> {
    let n = password.chars().count();
    if !(MIN_PASSWORD_LEN..=256).contains(&n) {
        return Err(CoreError::invalid(
            "password",
            format!("must be {MIN_PASSWORD_LEN} to 256 characters"),
        ));
    }
    if password.chars().any(|c| c.is_control()) {
        return Err(CoreError::invalid(
            "password",
            "must not contain control characters",
        ));
    }
    Ok(())
}
