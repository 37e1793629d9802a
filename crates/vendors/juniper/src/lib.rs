//! juniper connector.
