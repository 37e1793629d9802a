//! Where vendors are registered: adding a vendor is one line in `Registry::builtin`.

use std::sync::Arc;

use connector::Connector;
use connector::sim::{SimControl, SimSettingsError};
use serde_json::Value;

pub type SimFactory = fn(&Value, Arc<SimControl>) -> Result<axum::Router, SimSettingsError>;

pub struct VendorEntry {
    pub connector: Arc<dyn Connector>,
    pub simulator: SimFactory,
}

pub struct Registry {
    vendors: Vec<VendorEntry>,
}

macro_rules! vendor {
    ($krate:ident) => {
        VendorEntry {
            connector: $krate::connector(),
            simulator: $krate::sim::router,
        }
    };
}

impl Registry {
    pub fn builtin() -> Self {
        Registry {
            vendors: vec![
                vendor!(vendor_juniper),
                vendor!(vendor_axim),
                vendor!(vendor_adobe_vipmp),
                vendor!(vendor_impilo),
            ],
        }
    }

    pub fn get(&self, kind: &str) -> Option<&VendorEntry> {
        self.vendors.iter().find(|v| v.connector.kind() == kind)
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        self.vendors.iter().map(|v| v.connector.kind()).collect()
    }
}
