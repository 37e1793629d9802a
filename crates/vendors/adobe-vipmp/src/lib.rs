//! adobe-vipmp connector.
