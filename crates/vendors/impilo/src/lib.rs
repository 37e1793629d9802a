//! impilo connector.
