//! Tenants, applications and active signing keys — read on every sign-in, written by an
//! administrator now and then — served from memory.
//!
//! - A write made through this process's `Core` empties the cache once the store has it, so
//!   the next read on this node sees it.
//! - A write made by another node (several nodes on one PostgreSQL) is seen once the entry is
//!   older than [`MAX_AGE`], when it is read again from the store.
//! - A read that raced a write does not put the old value back: values are only kept when no
//!   invalidation happened since the read began (a generation counter).
//!
//! Sessions, users and assignments are never cached: signing out, disabling a user or
//! removing an assignment takes effect on the next request, on every node.

use crate::{Core, CoreResult};
use sesame_model::{AppId, Application, PageRequest, Tenant, TenantId};
use sesame_xmlsec::SigningKey;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use time::{Duration, OffsetDateTime};

/// How long another node's write may go unseen.
pub(crate) const MAX_AGE: Duration = Duration::seconds(1);

/// The tenant's SAML applications by identifier (entityID).
pub(crate) type SamlIndex = HashMap<String, AppId>;

#[derive(Default)]
pub(crate) struct ConfigCache {
    generation: AtomicU64,
    pub(crate) tenants: Map<TenantId, Arc<Tenant>>,
    pub(crate) apps: Map<(TenantId, AppId), Arc<Application>>,
    pub(crate) saml_index: Map<TenantId, Arc<SamlIndex>>,
    pub(crate) signing_keys: Map<(TenantId, AppId), Arc<SigningKey>>,
}

impl ConfigCache {
    /// Call before reading what will be kept, and hand it to [`Map::keep`].
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Forgets everything: call after a write to tenants, apps or their certificates.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.tenants.clear();
        self.apps.clear();
        self.saml_index.clear();
        self.signing_keys.clear();
    }
}

pub(crate) struct Map<K, V>(Mutex<HashMap<K, (V, OffsetDateTime)>>);

impl<K, V> Default for Map<K, V> {
    fn default() -> Self {
        Map(Mutex::new(HashMap::new()))
    }
}

impl<K: Eq + Hash, V: Clone> Map<K, V> {
    fn lock(&self) -> MutexGuard<'_, HashMap<K, (V, OffsetDateTime)>> {
        // A panic while holding the lock leaves a map that is still consistent.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value loaded less than [`MAX_AGE`] before `now`.
    pub(crate) fn fresh(&self, key: &K, now: OffsetDateTime) -> Option<V> {
        let map = self.lock();
        let (value, loaded_at) = map.get(key)?;
        (now - *loaded_at < MAX_AGE && *loaded_at <= now).then(|| value.clone())
    }

    /// Keeps `value`, read at `loaded_at`, unless the cache was invalidated since `generation`.
    pub(crate) fn keep(
        &self,
        cache: &ConfigCache,
        generation: u64,
        key: K,
        value: V,
        loaded_at: OffsetDateTime,
    ) {
        let mut map = self.lock();
        // Checked under the lock: `invalidate` bumps the generation before clearing.
        if cache.generation() == generation {
            map.insert(key, (value, loaded_at));
        }
    }

    fn clear(&self) {
        self.lock().clear();
    }
}

impl Core {
    /// `map[key]` when fresh, else `load()`, kept for the next reads.
    async fn cached<K, V, F>(&self, map: &Map<K, V>, key: K, load: F) -> CoreResult<V>
    where
        K: Eq + Hash,
        V: Clone,
        F: Future<Output = CoreResult<V>>,
    {
        let now = self.now();
        if let Some(v) = map.fresh(&key, now) {
            return Ok(v);
        }
        let generation = self.config.generation();
        let value = load.await?;
        map.keep(&self.config, generation, key, value.clone(), now);
        Ok(value)
    }

    /// The tenant (NotFound `tenant`).
    pub async fn tenant(&self, id: TenantId) -> CoreResult<Arc<Tenant>> {
        self.cached(&self.config.tenants, id, async {
            Ok(Arc::new(self.store.get_tenant(id).await?))
        })
        .await
    }

    /// The tenant's application (NotFound `app`).
    pub async fn app(&self, tenant: TenantId, id: AppId) -> CoreResult<Arc<Application>> {
        self.cached(&self.config.apps, (tenant, id), async {
            Ok(Arc::new(self.store.get_app(tenant, id).await?))
        })
        .await
    }

    /// The tenant's SAML application whose identifiers include `entity_id`.
    pub async fn find_saml_app(
        &self,
        tenant: TenantId,
        entity_id: &str,
    ) -> CoreResult<Option<Arc<Application>>> {
        let index = self
            .cached(
                &self.config.saml_index,
                tenant,
                self.load_saml_index(tenant),
            )
            .await?;
        match index.get(entity_id) {
            Some(&id) => match self.app(tenant, id).await {
                Ok(app) => Ok(Some(app)),
                // Deleted by another node since the index was read.
                Err(crate::CoreError::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            },
            None => Ok(None),
        }
    }

    async fn load_saml_index(&self, tenant: TenantId) -> CoreResult<Arc<SamlIndex>> {
        let mut index = SamlIndex::new();
        let mut page = PageRequest::new(Some(PageRequest::MAX_LIMIT), None);
        loop {
            let apps = self.store.list_apps(tenant, &page).await?;
            for app in &apps.items {
                for identifier in app.saml.iter().flat_map(|s| &s.identifiers) {
                    // Two apps may claim one identifier: the oldest (first listed) answers.
                    index.entry(identifier.clone()).or_insert(app.id);
                }
            }
            match apps.next {
                Some(next) => page.after = Some(next),
                None => return Ok(Arc::new(index)),
            }
        }
    }

    /// The app's active signing key.
    pub async fn active_signing_key(
        &self,
        tenant: TenantId,
        app: AppId,
    ) -> CoreResult<Arc<SigningKey>> {
        self.cached(
            &self.config.signing_keys,
            (tenant, app),
            self.load_active_signing_key(tenant, app),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::seconds(1_800_000_000 + secs)
    }

    #[test]
    fn values_expire_after_max_age() {
        let cache = ConfigCache::default();
        let g = cache.generation();
        let t = TenantId(uuid::Uuid::nil());
        cache.saml_index.keep(&cache, g, t, Arc::default(), at(0));
        assert!(cache.saml_index.fresh(&t, at(0)).is_some());
        assert!(
            cache
                .saml_index
                .fresh(&t, at(0) + MAX_AGE - Duration::milliseconds(1))
                .is_some()
        );
        assert!(cache.saml_index.fresh(&t, at(0) + MAX_AGE).is_none());
        // A clock that went back does not make an entry live forever.
        assert!(cache.saml_index.fresh(&t, at(-5)).is_none());
    }

    #[test]
    fn invalidation_empties_and_refuses_reads_that_began_before_it() {
        let cache = ConfigCache::default();
        let t = TenantId(uuid::Uuid::nil());
        let before = cache.generation();
        cache
            .saml_index
            .keep(&cache, before, t, Arc::default(), at(0));
        cache.invalidate();
        assert!(cache.saml_index.fresh(&t, at(0)).is_none());
        // A read that started before the write finishes after it: not kept.
        cache
            .saml_index
            .keep(&cache, before, t, Arc::default(), at(0));
        assert!(cache.saml_index.fresh(&t, at(0)).is_none());
        // A read that started after it is.
        let after = cache.generation();
        cache
            .saml_index
            .keep(&cache, after, t, Arc::default(), at(0));
        assert!(cache.saml_index.fresh(&t, at(0)).is_some());
    }
}
