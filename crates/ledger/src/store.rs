//! The store logic, written once and instantiated for SQLite and PostgreSQL (`ledger_store!`).
//! Both run the same SQL text: `$N` parameters work in both, booleans are `TRUE`/`FALSE`,
//! and every guarded transition is one `UPDATE ... WHERE state IN (...)` whose row count
//! says whether it applied. Each backend module provides `ts(OffsetDateTime) -> Ts` (the
//! bound timestamp type) and `read_ts(&Row, &str) -> Result<String, LedgerError>`.

/// The record columns, as a macro so queries stay `&'static str` (sqlx audits dynamic SQL).
macro_rules! cols {
    () => {
        "id, client, order_ref, idem_key, body_hash, route, connection, vendor, state, vendor_order_id, vendor_status, attempts, http_status, response, never_sent, trace_id, created_at, updated_at, replay_token, lookup, note"
    };
}

macro_rules! ledger_store {
    ($store:ident, $row:ty) => {
        impl $store {
            /// Claims the key or reports what holds it. `send_now` records the new (or
            /// re-armed) record as `sending` with one more attempt, saving the caller a
            /// `mark_sending` round trip.
            pub(crate) async fn begin(
                &self,
                n: NewRecord,
                send_now: bool,
            ) -> Result<Begin, LedgerError> {
                crate::check_new(&n)?;
                let ts = now();
                let (state, attempts) = if send_now {
                    (RecordState::Sending, 1_i64)
                } else {
                    (RecordState::Received, 0_i64)
                };
                let inserted = sqlx::query(concat!(
                    "INSERT INTO orders (id, client, order_ref, idem_key, body_hash, route, connection, vendor, state, attempts, never_sent, trace_id, created_at, updated_at) ",
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, FALSE, $11, $12, $13) ",
                    "ON CONFLICT (client, idem_key) DO NOTHING RETURNING ",
                    cols!()
                ))
                .bind(&n.id)
                .bind(&n.client)
                .bind(&n.order_ref)
                .bind(&n.idem_key)
                .bind(&n.body_hash)
                .bind(&n.route)
                .bind(&n.connection)
                .bind(&n.vendor)
                .bind(state.as_str())
                .bind(attempts)
                .bind(&n.trace_id)
                .bind(ts.clone())
                .bind(ts)
                .fetch_optional(self.writes())
                .await?;
                if let Some(row) = inserted {
                    return Ok(Begin::Started(to_record(&row)?));
                }
                // The key is taken. Records are never deleted, so it can be read; a lost
                // re-arm race means another caller changed it: read and classify again.
                let mut last = None;
                for _ in 0..4 {
                    let Some(rec) = self.find_by_key(&n.client, &n.idem_key).await? else {
                        return Err(LedgerError::Db(
                            "the record holding this idempotency key vanished".into(),
                        ));
                    };
                    if rec.body_hash != n.body_hash {
                        return Ok(Begin::Conflict(rec));
                    }
                    match rec.state {
                        RecordState::Received | RecordState::Sending => {
                            return Ok(Begin::InProgress(rec));
                        }
                        RecordState::Unknown => return Ok(Begin::Unknown(rec)),
                        RecordState::Failed if rec.never_sent => {
                            if let Some(r) = self.rearm(&rec.id, state, attempts).await? {
                                return Ok(Begin::Retry(r));
                            }
                            last = Some(rec);
                        }
                        RecordState::Accepted | RecordState::Rejected | RecordState::Failed => {
                            return Ok(Begin::Replay(rec));
                        }
                    }
                }
                // Only reached when retries keep failing and re-arming under us.
                match last {
                    Some(rec) => Ok(Begin::InProgress(rec)),
                    None => Err(LedgerError::Db("begin did not settle".into())),
                }
            }

            /// `failed` + `never_sent` -> `state`, in one guarded UPDATE: one winner.
            async fn rearm(
                &self,
                id: &str,
                state: RecordState,
                extra_attempts: i64,
            ) -> Result<Option<Record>, LedgerError> {
                let row = sqlx::query(concat!(
                    "UPDATE orders SET state = $1, attempts = attempts + $2, never_sent = FALSE, ",
                    "http_status = NULL, response = NULL, vendor_order_id = NULL, vendor_status = NULL, note = NULL, updated_at = $3 ",
                    "WHERE id = $4 AND state = 'failed' AND never_sent = TRUE RETURNING ",
                    cols!()
                ))
                .bind(state.as_str())
                .bind(extra_attempts)
                .bind(now())
                .bind(id)
                .fetch_optional(self.writes())
                .await?;
                row.as_ref().map(to_record).transpose()
            }

            pub(crate) async fn mark_sending(&self, id: &str) -> Result<bool, LedgerError> {
                let n = sqlx::query(
                    "UPDATE orders SET state = 'sending', attempts = attempts + 1, updated_at = $1 WHERE id = $2 AND state = 'received'",
                )
                .bind(now())
                .bind(id)
                .execute(self.writes())
                .await?
                .rows_affected();
                Ok(n == 1)
            }

            /// Applies `f` to a record in one of the states `from` allows.
            async fn apply_finish(
                &self,
                sql: &'static str,
                id: &str,
                f: Finish,
            ) -> Result<bool, LedgerError> {
                let response = serde_json::to_string(&f.response)
                    .map_err(|e| LedgerError::Invalid(format!("response: {e}")))?;
                let never_sent = f.never_sent && f.state == RecordState::Failed;
                let n = sqlx::query(sql)
                    .bind(f.state.as_str())
                    .bind(i32::from(f.http_status))
                    .bind(response)
                    .bind(f.vendor_order_id)
                    .bind(f.vendor_status)
                    .bind(never_sent)
                    .bind(now())
                    .bind(id)
                    .execute(self.writes())
                    .await?
                    .rows_affected();
                Ok(n == 1)
            }

            pub(crate) async fn finish(&self, id: &str, f: Finish) -> Result<bool, LedgerError> {
                match f.state {
                    RecordState::Unknown => {
                        self.apply_finish(
                            "UPDATE orders SET state = $1, http_status = $2, response = $3, vendor_order_id = $4, vendor_status = $5, never_sent = $6, updated_at = $7 WHERE id = $8 AND state IN ('received', 'sending')",
                            id,
                            f,
                        )
                        .await
                    }
                    s if s.is_terminal() => {
                        // `unknown` too: the process that made the call may record the truth
                        // after another replica's recovery marked its record unknown.
                        self.apply_finish(
                            "UPDATE orders SET state = $1, http_status = $2, response = $3, vendor_order_id = $4, vendor_status = $5, never_sent = $6, updated_at = $7 WHERE id = $8 AND state IN ('received', 'sending', 'unknown')",
                            id,
                            f,
                        )
                        .await
                    }
                    s => Err(LedgerError::Invalid(format!(
                        "finish needs accepted, rejected, failed or unknown, not {s}"
                    ))),
                }
            }

            pub(crate) async fn resolve_unknown(
                &self,
                id: &str,
                f: Finish,
            ) -> Result<bool, LedgerError> {
                if !f.state.is_terminal() {
                    return Err(LedgerError::Invalid(format!(
                        "an unknown order resolves to accepted, rejected or failed, not {}",
                        f.state
                    )));
                }
                self.apply_finish(
                    "UPDATE orders SET state = $1, http_status = $2, response = $3, vendor_order_id = $4, vendor_status = $5, never_sent = $6, updated_at = $7 WHERE id = $8 AND state = 'unknown'",
                    id,
                    f,
                )
                .await
            }

            pub(crate) async fn set_unknown(
                &self,
                id: &str,
                reason: &str,
            ) -> Result<bool, LedgerError> {
                let n = sqlx::query(
                    "UPDATE orders SET state = 'unknown', note = $1, updated_at = $2 WHERE id = $3 AND state IN ('received', 'sending')",
                )
                .bind(reason)
                .bind(now())
                .bind(id)
                .execute(self.writes())
                .await?
                .rows_affected();
                Ok(n == 1)
            }

            pub(crate) async fn link_vendor_order(
                &self,
                id: &str,
                vendor_order_id: &str,
            ) -> Result<bool, LedgerError> {
                let n = sqlx::query(
                    "UPDATE orders SET vendor_order_id = $1, note = $2, updated_at = $3 WHERE id = $4 AND state = 'unknown'",
                )
                .bind(vendor_order_id)
                .bind(crate::LINKED_NOTE)
                .bind(now())
                .bind(id)
                .execute(self.writes())
                .await?
                .rows_affected();
                Ok(n == 1)
            }

            /// An operator's resolution of an `unknown` record, with its audit row, in one
            /// transaction. `NotPlaced` makes it `failed` + `never_sent`, so the caller's
            /// retry places it; `Placed` links the vendor's id (the retry looks it up).
            pub(crate) async fn resolve_by_operator(
                &self,
                id: &str,
                r: &Resolution,
            ) -> Result<bool, LedgerError> {
                let ts = now();
                let mut tx = self.writes().begin().await?;
                let n = match &r.outcome {
                    ResolvedAs::NotPlaced { response } => {
                        let response = serde_json::to_string(response)
                            .map_err(|e| LedgerError::Invalid(format!("response: {e}")))?;
                        sqlx::query(
                            "UPDATE orders SET state = 'failed', never_sent = TRUE, http_status = 503, response = $1, note = $2, updated_at = $3 WHERE id = $4 AND state = 'unknown'",
                        )
                        .bind(response)
                        .bind(crate::RESOLVED_NOTE)
                        .bind(ts.clone())
                        .bind(id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                    }
                    ResolvedAs::Placed { vendor_order_id } => sqlx::query(
                        "UPDATE orders SET vendor_order_id = $1, note = $2, updated_at = $3 WHERE id = $4 AND state = 'unknown'",
                    )
                    .bind(vendor_order_id)
                    .bind(crate::LINKED_NOTE)
                    .bind(ts.clone())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected(),
                };
                if n != 1 {
                    return Ok(false);
                }
                let vendor_order_id = match &r.outcome {
                    ResolvedAs::Placed { vendor_order_id } => Some(vendor_order_id.as_str()),
                    ResolvedAs::NotPlaced { .. } => None,
                };
                sqlx::query(
                    "INSERT INTO order_resolutions (order_id, resolution, vendor_order_id, operator, reason, resolved_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(r.outcome.as_str())
                .bind(vendor_order_id)
                .bind(&r.operator)
                .bind(&r.reason)
                .bind(crate::rfc3339(time::OffsetDateTime::now_utc()))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(true)
            }

            /// Another record that holds this vendor order id, if any.
            pub(crate) async fn holder_of_vendor_order(
                &self,
                connection: &str,
                vendor_order_id: &str,
            ) -> Result<Option<String>, LedgerError> {
                let row: Option<(String,)> = sqlx::query_as(
                    "SELECT id FROM orders WHERE connection = $1 AND vendor_order_id = $2 LIMIT 1",
                )
                .bind(connection)
                .bind(vendor_order_id)
                .fetch_optional(self.reads())
                .await?;
                Ok(row.map(|(id,)| id))
            }

            pub(crate) async fn set_reconcile_info(
                &self,
                id: &str,
                replay_token: Option<&str>,
                lookup: Option<&serde_json::Value>,
            ) -> Result<bool, LedgerError> {
                let lookup = lookup
                    .map(serde_json::to_string)
                    .transpose()
                    .map_err(|e| LedgerError::Invalid(format!("lookup: {e}")))?;
                let n = sqlx::query(
                    "UPDATE orders SET replay_token = $1, lookup = $2, updated_at = $3 WHERE id = $4",
                )
                .bind(replay_token)
                .bind(lookup)
                .bind(now())
                .bind(id)
                .execute(self.writes())
                .await?
                .rows_affected();
                Ok(n == 1)
            }

            /// Any client's record: for operators, who work by order id.
            pub(crate) async fn get_by_id(&self, id: &str) -> Result<Option<Record>, LedgerError> {
                let row = sqlx::query(concat!("SELECT ", cols!(), " FROM orders WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(self.reads())
                    .await?;
                row.as_ref().map(to_record).transpose()
            }

            pub(crate) async fn get(
                &self,
                client: &str,
                id: &str,
            ) -> Result<Option<Record>, LedgerError> {
                self.one(
                    concat!("SELECT ", cols!(), " FROM orders WHERE client = $1 AND id = $2"),
                    client,
                    id,
                )
                .await
            }

            pub(crate) async fn find_by_ref(
                &self,
                client: &str,
                order_ref: &str,
            ) -> Result<Option<Record>, LedgerError> {
                self.one(
                    concat!(
                        "SELECT ",
                        cols!(),
                        " FROM orders WHERE client = $1 AND order_ref = $2 ORDER BY created_at DESC, id DESC LIMIT 1"
                    ),
                    client,
                    order_ref,
                )
                .await
            }

            pub(crate) async fn find_by_key(
                &self,
                client: &str,
                key: &str,
            ) -> Result<Option<Record>, LedgerError> {
                self.one(
                    concat!("SELECT ", cols!(), " FROM orders WHERE client = $1 AND idem_key = $2"),
                    client,
                    key,
                )
                .await
            }

            /// One of a client's records by a second column.
            async fn one(
                &self,
                sql: &'static str,
                client: &str,
                value: &str,
            ) -> Result<Option<Record>, LedgerError> {
                let row = sqlx::query(sql)
                    .bind(client)
                    .bind(value)
                    .fetch_optional(self.reads())
                    .await?;
                row.as_ref().map(to_record).transpose()
            }

            /// Ids are UUIDv7 (time-ordered), so `id > after` pages in creation order.
            pub(crate) async fn list_by_state(
                &self,
                state: RecordState,
                after: &str,
                limit: u32,
            ) -> Result<Vec<Record>, LedgerError> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    cols!(),
                    " FROM orders WHERE state = $1 AND id > $2 ORDER BY id LIMIT $3"
                ))
                .bind(state.as_str())
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(self.reads())
                .await?;
                rows.iter().map(to_record).collect()
            }

            pub(crate) async fn count_by_state(
                &self,
            ) -> Result<Vec<(RecordState, u64)>, LedgerError> {
                let rows: Vec<(String, i64)> =
                    sqlx::query_as("SELECT state, COUNT(*) FROM orders GROUP BY state")
                        .fetch_all(self.reads())
                        .await?;
                let mut out: Vec<(RecordState, u64)> =
                    RecordState::ALL.iter().map(|s| (*s, 0)).collect();
                for (state, n) in rows {
                    let state = RecordState::parse(&state)
                        .ok_or_else(|| LedgerError::Db(format!("unknown state {state}")))?;
                    if let Some(slot) = out.iter_mut().find(|(s, _)| *s == state) {
                        slot.1 = u64::try_from(n).unwrap_or(0);
                    }
                }
                Ok(out)
            }

            /// Every in-flight record (`received`/`sending`) last touched before `cutoff`
            /// becomes `unknown`.
            pub(crate) async fn recover_before(
                &self,
                cutoff: time::OffsetDateTime,
                note: &str,
            ) -> Result<u64, LedgerError> {
                let n = sqlx::query(
                    "UPDATE orders SET state = 'unknown', note = $1, updated_at = $2 WHERE state IN ('received', 'sending') AND updated_at <= $3",
                )
                .bind(note)
                .bind(now())
                .bind(ts(cutoff))
                .execute(self.writes())
                .await?
                .rows_affected();
                Ok(n)
            }
        }

        fn to_record(r: &$row) -> Result<Record, LedgerError> {
            use sqlx::Row;
            let state: String = r.try_get("state")?;
            let response: Option<String> = r.try_get("response")?;
            let lookup: Option<String> = r.try_get("lookup")?;
            let http_status: Option<i32> = r.try_get("http_status")?;
            Ok(Record {
                id: r.try_get("id")?,
                client: r.try_get("client")?,
                order_ref: r.try_get("order_ref")?,
                idem_key: r.try_get("idem_key")?,
                body_hash: r.try_get("body_hash")?,
                route: r.try_get("route")?,
                connection: r.try_get("connection")?,
                vendor: r.try_get("vendor")?,
                state: RecordState::parse(&state)
                    .ok_or_else(|| LedgerError::Db(format!("unknown state {state}")))?,
                vendor_order_id: r.try_get("vendor_order_id")?,
                vendor_status: r.try_get("vendor_status")?,
                attempts: r.try_get("attempts")?,
                http_status: http_status.and_then(|s| u16::try_from(s).ok()),
                response: response
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()
                    .map_err(|e| LedgerError::Db(format!("stored response: {e}")))?,
                response_text: response,
                never_sent: r.try_get("never_sent")?,
                trace_id: r.try_get("trace_id")?,
                created_at: read_ts(r, "created_at")?,
                updated_at: read_ts(r, "updated_at")?,
                replay_token: r.try_get("replay_token")?,
                lookup: lookup
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()
                    .map_err(|e| LedgerError::Db(format!("stored lookup: {e}")))?,
                note: r.try_get("note")?,
            })
        }
    };
}
