//! Federation with external SAML identity providers (issue 5): domain federation settings, the
//! replay cache of accepted assertions, and the AuthnRequests awaiting their Response. One role
//! trait, kept apart from the directory; the replay cache and outstanding requests live in the
//! store so that every node shares them.

use async_trait::async_trait;
use sesame_model::{DomainFederation, GuestInvitation, OutstandingAuthnRequest, TenantId};
use time::OffsetDateTime;

use crate::StoreResult;

#[async_trait]
pub trait FederationStore {
    /// Creates or replaces the federation of `federation.domain` and marks the domain
    /// `Federated`, in one transaction. NotFound `domain` when the tenant has no such domain;
    /// Aborted when the domain is unverified.
    async fn put_federation(&self, federation: &DomainFederation) -> StoreResult<()>;
    /// NotFound `federation`.
    async fn get_federation(&self, tenant: TenantId, domain: &str)
    -> StoreResult<DomainFederation>;
    /// The tenant's federations, ordered by domain.
    async fn list_federations(&self, tenant: TenantId) -> StoreResult<Vec<DomainFederation>>;
    /// Removes the federation and sets the domain back to `Verified`, in one transaction.
    /// NotFound `federation`.
    async fn delete_federation(&self, tenant: TenantId, domain: &str) -> StoreResult<()>;

    /// Records that the assertion `assertion_id` of `issuer` was accepted, to be kept until
    /// `keep_until`. Conflict `assertion` when it was already recorded (a replay).
    async fn remember_assertion(
        &self,
        tenant: TenantId,
        issuer: &str,
        assertion_id: &str,
        keep_until: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Whether the assertion `assertion_id` of `issuer` is in the replay cache (read only: the
    /// SSO test tool asks without recording anything).
    async fn assertion_seen(
        &self,
        tenant: TenantId,
        issuer: &str,
        assertion_id: &str,
    ) -> StoreResult<bool>;
    /// Forgets assertions kept until before `now`, across tenants; returns how many.
    async fn purge_expired_assertions(&self, now: OffsetDateTime) -> StoreResult<u64>;

    /// Conflict `authn_request` on a duplicate id; NotFound `tenant`.
    async fn save_authn_request(&self, request: &OutstandingAuthnRequest) -> StoreResult<()>;
    /// Removes and returns the request (each can be taken once; expiry is the caller's check).
    /// NotFound `authn_request`.
    async fn take_authn_request(
        &self,
        tenant: TenantId,
        id: &str,
    ) -> StoreResult<OutstandingAuthnRequest>;
    /// Reads the request without taking it (the SSO test tool). NotFound `authn_request`.
    async fn find_authn_request(
        &self,
        tenant: TenantId,
        id: &str,
    ) -> StoreResult<OutstandingAuthnRequest>;
    /// Forgets requests that expired before `now`, across tenants; returns how many.
    async fn purge_expired_authn_requests(&self, now: OffsetDateTime) -> StoreResult<u64>;

    /// Creates or replaces the direct federation (B2B guests, SAML-SP-5) of a partner domain,
    /// in one transaction with its limits: Aborted when `domain` is a verified (or federated)
    /// domain of the tenant, or when the tenant would have more than `max_federations`
    /// federations, domain and direct together. NotFound `tenant`.
    async fn put_direct_federation(
        &self,
        federation: &DomainFederation,
        max_federations: u32,
    ) -> StoreResult<()>;
    /// Replaces the settings of an existing federation (domain federation when `direct` is
    /// false, direct federation otherwise) without creating one: the metadata refresh job must
    /// not bring back a federation removed meanwhile, nor undo an administrator's change made
    /// while it read the metadata. NotFound `federation`; Aborted when the stored federation's
    /// `updated_at` is no longer `federation.updated_at`.
    async fn update_federation(
        &self,
        federation: &DomainFederation,
        direct: bool,
    ) -> StoreResult<()>;
    /// NotFound `federation`.
    async fn get_direct_federation(
        &self,
        tenant: TenantId,
        domain: &str,
    ) -> StoreResult<DomainFederation>;
    /// Ordered by domain.
    async fn list_direct_federations(&self, tenant: TenantId)
    -> StoreResult<Vec<DomainFederation>>;
    /// NotFound `federation`.
    async fn delete_direct_federation(&self, tenant: TenantId, domain: &str) -> StoreResult<()>;

    /// Conflict `guest_invitation` when the address is already invited; NotFound `user` when
    /// the user does not exist in the tenant.
    async fn create_guest_invitation(&self, invitation: &GuestInvitation) -> StoreResult<()>;
    /// NotFound `guest_invitation`.
    async fn get_guest_invitation(
        &self,
        tenant: TenantId,
        email: &str,
    ) -> StoreResult<GuestInvitation>;
    /// Ordered by e-mail.
    async fn list_guest_invitations(&self, tenant: TenantId) -> StoreResult<Vec<GuestInvitation>>;
    /// Binds a not-yet-redeemed invitation to `issuer` and `name_id` at `at`, in one statement
    /// (two first sign-ins cannot both bind it), and returns the invitation as it now stands:
    /// the caller compares its binding with what it presented. NotFound `guest_invitation`.
    async fn redeem_guest_invitation(
        &self,
        tenant: TenantId,
        email: &str,
        issuer: &str,
        name_id: &str,
        at: OffsetDateTime,
    ) -> StoreResult<GuestInvitation>;
}
