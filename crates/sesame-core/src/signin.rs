//! Password sign-in (AUTH-2), lockout, SSO sessions and the sign-in log (AUTH-4).
//!
//! Every attempt costs one argon2id verification whatever the outcome (unknown user, no
//! password, locked account), so timing does not tell which UPNs exist. Every attempt is logged.

use crate::secrets;
use crate::{Core, CoreResult};
use sesame_model::*;
use sesame_store::StoreError;
use time::{Duration, OffsetDateTime};

/// Lockout policy: after `threshold` consecutive failures the account is locked for
/// `duration`; a success resets the count. While locked, even the right password fails.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    pub threshold: u32,
    pub duration: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            threshold: 5,
            duration: Duration::minutes(15),
        }
    }
}

pub struct SignInAttempt {
    pub tenant: TenantId,
    pub user_principal_name: String,
    pub password: String,
    pub ip: Option<String>,
    pub correlation_id: String,
}

/// Why a sign-in failed. The page says no more than "wrong name or password" for the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInFailure {
    /// Unknown user, no local password, or wrong password (indistinguishable on purpose).
    InvalidCredentials,
    Locked {
        until: OffsetDateTime,
    },
    Disabled,
}

impl SignInFailure {
    pub fn code(&self) -> &'static str {
        match self {
            SignInFailure::InvalidCredentials => "SESAME-2001",
            SignInFailure::Locked { .. } => "SESAME-2002",
            SignInFailure::Disabled => "SESAME-2003",
        }
    }

    /// The reason written to the sign-in log (more precise than what the user sees).
    fn log_reason(&self, detail: &str) -> String {
        format!("{} {detail}", self.code())
    }
}

pub struct SignedIn {
    pub user: User,
    pub session: Session,
    /// The cookie value; only its digest is stored.
    pub session_secret: String,
}

pub enum SignInOutcome {
    Success(Box<SignedIn>),
    Failure(SignInFailure),
}

impl Core {
    pub async fn sign_in_with_password(
        &self,
        mut attempt: SignInAttempt,
    ) -> CoreResult<SignInOutcome> {
        let now = self.now();
        let upn = attempt.user_principal_name.trim().to_lowercase();
        let user = match normalize_upn(&upn) {
            Ok(n) => match self.store.find_user_by_upn(attempt.tenant, &n).await {
                Ok(u) => Some(u),
                Err(StoreError::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            },
            Err(_) => None,
        };
        let credential = match &user {
            Some(u) => match self.store.get_password(attempt.tenant, u.id).await {
                Ok(c) => Some(c),
                Err(StoreError::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let locked_until = credential
            .as_ref()
            .and_then(|c| c.locked_until)
            .filter(|until| *until > now);
        let password_ok = self
            .passwords
            .verify(
                credential.as_ref().map(|c| c.hash.clone()),
                std::mem::take(&mut attempt.password),
            )
            .await?;

        // Users of a federated domain sign in at their own IdP only (SAML-SP-1): a local
        // password, even a right one, must not bypass it. The work above was spent anyway.
        if self.home_realm(attempt.tenant, &upn).await?.is_some() {
            return self
                .fail(
                    &attempt,
                    &upn,
                    user.map(|u| u.id),
                    SignInFailure::InvalidCredentials,
                    "domain is federated: password sign-in refused",
                    now,
                )
                .await;
        }

        // Guests invited through direct federation (DIR-4) sign in at their IdP only; a
        // password stored for one (there should be none) is never honoured.
        if user
            .as_ref()
            .is_some_and(|u| u.source == UserSource::FederatedGuest)
        {
            return self
                .fail(
                    &attempt,
                    &upn,
                    user.map(|u| u.id),
                    SignInFailure::InvalidCredentials,
                    "federated guest: password sign-in refused",
                    now,
                )
                .await;
        }

        let (user, credential) = match (user, credential) {
            (Some(u), Some(c)) => (u, c),
            (user, _) => {
                let detail = if user.is_some() {
                    "no local password"
                } else {
                    "unknown user"
                };
                return self
                    .fail(
                        &attempt,
                        &upn,
                        user.map(|u| u.id),
                        SignInFailure::InvalidCredentials,
                        detail,
                        now,
                    )
                    .await;
            }
        };
        if let Some(until) = locked_until {
            return self
                .fail(
                    &attempt,
                    &upn,
                    Some(user.id),
                    SignInFailure::Locked { until },
                    "account locked",
                    now,
                )
                .await;
        }
        if !password_ok {
            let policy = self.settings.lockout;
            let after = self
                .store
                .update_password(
                    attempt.tenant,
                    user.id,
                    Box::new(move |c| {
                        c.failed_attempts += 1;
                        if c.failed_attempts >= policy.threshold {
                            c.failed_attempts = 0;
                            c.locked_until = Some(now + policy.duration);
                        }
                        c.updated_at = now;
                        Ok(())
                    }),
                )
                .await?;
            let failure = match after.locked_until {
                Some(until) if until > now => SignInFailure::Locked { until },
                _ => SignInFailure::InvalidCredentials,
            };
            let detail = match failure {
                SignInFailure::Locked { .. } => "wrong password; account now locked",
                _ => "wrong password",
            };
            return self
                .fail(&attempt, &upn, Some(user.id), failure, detail, now)
                .await;
        }
        if !user.account_enabled {
            return self
                .fail(
                    &attempt,
                    &upn,
                    Some(user.id),
                    SignInFailure::Disabled,
                    "account disabled",
                    now,
                )
                .await;
        }
        if credential.failed_attempts > 0 || credential.locked_until.is_some() {
            self.store
                .update_password(
                    attempt.tenant,
                    user.id,
                    Box::new(move |c| {
                        c.failed_attempts = 0;
                        c.locked_until = None;
                        c.updated_at = now;
                        Ok(())
                    }),
                )
                .await?;
        }
        let signed_in = self.open_session(attempt.tenant, user).await?;
        self.log_sign_in(
            &attempt,
            &upn,
            Some(signed_in.user.id),
            SignInResult::Success,
            None,
            now,
        )
        .await?;
        Ok(SignInOutcome::Success(Box::new(signed_in)))
    }

    /// Creates an SSO session for `user` (whatever proved who they are): the cookie secret and
    /// its stored digest. Shared by password and federated sign-in.
    pub(crate) async fn open_session(&self, tenant: TenantId, user: User) -> CoreResult<SignedIn> {
        let now = self.now();
        let session_secret = secrets::new_token("");
        let session = Session {
            id_digest: secrets::digest(&session_secret),
            tenant_id: tenant,
            user_id: user.id,
            authenticated_at: now,
            expires_at: now + self.settings.session_lifetime,
        };
        self.store.create_session(&session).await?;
        Ok(SignedIn {
            user,
            session,
            session_secret,
        })
    }

    async fn fail(
        &self,
        attempt: &SignInAttempt,
        upn: &str,
        user: Option<UserId>,
        failure: SignInFailure,
        detail: &str,
        now: OffsetDateTime,
    ) -> CoreResult<SignInOutcome> {
        let result = match failure {
            SignInFailure::Locked { .. } => SignInResult::Locked,
            _ => SignInResult::Failure,
        };
        self.log_sign_in(
            attempt,
            upn,
            user,
            result,
            Some(failure.log_reason(detail)),
            now,
        )
        .await?;
        Ok(SignInOutcome::Failure(failure))
    }

    async fn log_sign_in(
        &self,
        attempt: &SignInAttempt,
        upn: &str,
        user: Option<UserId>,
        result: SignInResult,
        reason: Option<String>,
        now: OffsetDateTime,
    ) -> CoreResult<()> {
        let event = SignInEvent {
            id: SignInId(self.new_uuid()),
            tenant_id: attempt.tenant,
            at: now,
            user_id: user,
            user_principal_name: upn.chars().take(256).collect(),
            app_id: None,
            protocol: "password".to_string(),
            result,
            reason,
            ip: attempt.ip.clone(),
            correlation_id: attempt.correlation_id.clone(),
        };
        self.store.append_sign_in(&event).await?;
        tracing::info!(
            tenant = %attempt.tenant,
            result = result.as_str(),
            correlation_id = %attempt.correlation_id,
            reason = event.reason.as_deref().unwrap_or(""),
            "sign-in"
        );
        Ok(())
    }

    /// The live session behind a cookie value, with its user; `None` if absent, expired or
    /// the user can no longer sign in.
    pub async fn current_session(
        &self,
        tenant: TenantId,
        secret: &str,
    ) -> CoreResult<Option<(Session, User)>> {
        let digest = secrets::digest(secret);
        let (session, user) = match self.store.get_session_with_user(tenant, &digest).await {
            Ok(found) => found,
            Err(StoreError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if session.expires_at <= self.now() || !user.account_enabled {
            return Ok(None);
        }
        Ok(Some((session, user)))
    }

    /// Ends the session behind a cookie value; ending an absent session is not an error.
    pub async fn sign_out(&self, tenant: TenantId, secret: &str) -> CoreResult<()> {
        match self
            .store
            .delete_session(tenant, &secrets::digest(secret))
            .await
        {
            Ok(()) | Err(StoreError::NotFound(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
