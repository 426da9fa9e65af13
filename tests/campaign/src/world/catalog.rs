//! [`Catalog`]: the org's products as they were before any catalog change,
//! to remove a product's WHMCS mapping and put it back.

use serde_json::{Value, json};

use super::World;
use crate::actors::staff::text;

/// Products as the org had them before any catalog change.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// ProductCode → (Id, WHMCS_Product_Id__c).
    products: Vec<(String, String, Value)>,
}

impl Catalog {
    /// The org's products now.
    pub fn read(world: &World) -> Self {
        Self {
            products: world
                .org
                .records("Product2")
                .iter()
                .map(|p| {
                    (
                        text(p, "ProductCode"),
                        text(p, "Id"),
                        p["WHMCS_Product_Id__c"].clone(),
                    )
                })
                .collect(),
        }
    }

    /// The codes of the products mapped to WHMCS product `pid`.
    pub fn codes_of_pid(&self, pid: u32) -> Vec<String> {
        let pid = pid.to_string();
        self.products
            .iter()
            .filter(|(_, _, mapping)| match mapping {
                Value::String(s) => *s == pid,
                Value::Number(n) => n.to_string() == pid,
                _ => false,
            })
            .map(|(code, _, _)| code.clone())
            .collect()
    }

    /// Removes the WHMCS mapping of `code` (as staff would); why not, if refused.
    pub fn unmap(&self, world: &World, code: &str) -> Result<(), String> {
        let Some((_, id, _)) = self.products.iter().find(|(c, _, _)| c == code) else {
            return Err(format!("no product {code}"));
        };
        world
            .org
            .update("Product2", id, json!({"WHMCS_Product_Id__c": null}))
            .map_err(|e| e.to_string())
    }

    /// Puts the WHMCS mapping of `code` back.
    pub fn remap(&self, world: &World, code: &str) {
        if let Some((_, id, mapping)) = self.products.iter().find(|(c, _, _)| c == code) {
            let _ = world
                .org
                .update("Product2", id, json!({"WHMCS_Product_Id__c": mapping}));
        }
    }

    /// Puts every product's mapping back.
    pub fn restore(&self, world: &World) {
        for (_, id, mapping) in &self.products {
            let current = world
                .org
                .record(id)
                .map(|r| r["WHMCS_Product_Id__c"].clone());
            if current.as_ref() != Some(mapping) {
                let _ = world
                    .org
                    .update("Product2", id, json!({"WHMCS_Product_Id__c": mapping}));
            }
        }
    }
}
