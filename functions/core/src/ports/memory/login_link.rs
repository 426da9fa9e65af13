//! `InMemoryLoginLinks`.

use std::collections::HashMap;
use std::sync::Mutex;

use super::lock;
use crate::domain::Login;
use crate::ports::{LinkCreation, LoginLink, LoginLinks, StoreError};

/// [`LoginLinks`] in memory: the first link of a login stays.
#[derive(Debug, Default)]
pub struct InMemoryLoginLinks {
    links: Mutex<HashMap<Login, LoginLink>>,
}

impl InMemoryLoginLinks {
    /// No links.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many logins are linked.
    pub fn len(&self) -> usize {
        lock(&self.links).len()
    }

    /// Whether no login is linked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl LoginLinks for InMemoryLoginLinks {
    async fn link_of(&self, login: &Login) -> Result<Option<LoginLink>, StoreError> {
        Ok(lock(&self.links).get(login).cloned())
    }

    async fn create(&self, link: &LoginLink) -> Result<LinkCreation, StoreError> {
        let mut links = lock(&self.links);
        if let Some(existing) = links.get(&link.login) {
            return Ok(LinkCreation::Exists(existing.clone()));
        }
        links.insert(link.login.clone(), link.clone());
        Ok(LinkCreation::Created)
    }
}
