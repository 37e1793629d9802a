//! axim connector.
