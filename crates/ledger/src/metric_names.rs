//! Every metric name the ledger records, in one place (the gateway test `metric_names`
//! refuses a name written at a call site).

/// Histogram: writes committed together in one batch.
pub const LEDGER_BATCH_SIZE: &str = "ledger_batch_size";
