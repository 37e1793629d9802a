//! Checks of `connections[].sync` (the status sync cadence).

use super::check::Ctx;
use super::model::ConnectionConfig;
use crate::sync::cadence::Cadence;

pub(super) fn cadences(cx: &mut Ctx<'_>, conns: &[(usize, ConnectionConfig)]) {
    for (i, c) in conns {
        if let Err(errors) = Cadence::from_config(c.sync.as_ref()) {
            for (pointer, message) in errors {
                cx.error(format!("/connections/{i}/sync{pointer}"), message);
            }
        }
    }
}
