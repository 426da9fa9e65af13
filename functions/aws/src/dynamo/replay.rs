//! `DynamoReplayStore`: the position is item `pk = REPLAY#<topic>`,
//! `sk = POSITION` (`replay_id` as a `B` attribute); each gap is an item
//! `pk = REPLAY#<topic>`, `sk = GAP#<20-digit epoch ms>#<uuid>`, which the
//! reconciler marks swept (`swept_at`) through [`GapSweeps`]; the gap's id is
//! its `sk`. The reconciler's sweep cursor is item `pk = REPLAY#<topic>`,
//! `sk = SWEEP` (`after_order_id` S, absent at the start of a pass; `pass_started_at`
//! N, epoch ms), read with a Query and written with UpdateItem, the two
//! actions the reconciler has on `REPLAY#*`.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use chrono::{DateTime, Utc};
use portal_core::domain::{OrderId, ReplayId};
use portal_core::ports::{
    Gap, GapId, GapSweeps, ReplayStore, StoreError, SweepCursor, UnsweptGap, epoch_millis,
};

use super::{Item, b, millis_to_time, n, opt_b, opt_n, opt_s, req_n, req_s, s};
use crate::errors::store_error;

/// [`ReplayStore`] on DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoReplayStore {
    client: Client,
    table: String,
}

impl DynamoReplayStore {
    /// The replay items of `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn pk(topic: &str) -> String {
    format!("{}{topic}", super::prefix::REPLAY)
}

const POSITION: &str = "POSITION";
const GAP_PREFIX: &str = "GAP#";
const SWEEP: &str = "SWEEP";

fn replay_id(bytes: &[u8], name: &str) -> Result<ReplayId, StoreError> {
    ReplayId::new(bytes).ok_or_else(|| StoreError::corrupt(format!("attribute {name} is empty")))
}

fn gap_from_item(item: &Item) -> Result<Gap, StoreError> {
    let from = opt_b(item, "from_replay_id")?
        .map(|v| replay_id(v, "from_replay_id"))
        .transpose()?;
    let to = opt_b(item, "to_replay_id")?
        .map(|v| replay_id(v, "to_replay_id"))
        .transpose()?;
    Ok(Gap {
        from,
        to,
        reason: req_s(item, "reason")?.to_owned(),
        window_start: opt_n(item, "window_start")?
            .map(|ms| millis_to_time(ms, "window_start"))
            .transpose()?,
        detected_at: millis_to_time(req_n(item, "detected_at")?, "detected_at")?,
    })
}

impl ReplayStore for DynamoReplayStore {
    #[tracing::instrument(skip(self), fields(table = %self.table))]
    async fn load(&self, topic: &str) -> Result<Option<ReplayId>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk(topic)))
            .key("sk", s(POSITION))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        out.item()
            .map(|item| {
                let bytes = opt_b(item, "replay_id")?
                    .ok_or_else(|| StoreError::corrupt("attribute replay_id is missing"))?;
                replay_id(bytes, "replay_id")
            })
            .transpose()
    }

    #[tracing::instrument(skip(self, replay_id), fields(table = %self.table))]
    async fn save(&self, topic: &str, replay_id: &ReplayId) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(pk(topic)))
            .item("sk", s(POSITION))
            .item("replay_id", b(replay_id.as_bytes()))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    #[tracing::instrument(skip(self, gap), fields(table = %self.table))]
    async fn record_gap(&self, topic: &str, gap: &Gap) -> Result<(), StoreError> {
        let at: DateTime<Utc> = gap.detected_at;
        let sk = format!(
            "{GAP_PREFIX}{:020}#{}",
            epoch_millis(at).max(0),
            uuid::Uuid::new_v4()
        );
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(pk(topic)))
            .item("sk", s(sk))
            .item("reason", s(gap.reason.as_str()))
            .item("detected_at", n(epoch_millis(at)));
        if let Some(from) = &gap.from {
            request = request.item("from_replay_id", b(from.as_bytes()));
        }
        if let Some(to) = &gap.to {
            request = request.item("to_replay_id", b(to.as_bytes()));
        }
        if let Some(start) = gap.window_start {
            request = request.item("window_start", n(epoch_millis(start)));
        }
        request.send().await.map_err(store_error)?;
        Ok(())
    }

    #[tracing::instrument(skip(self), fields(table = %self.table))]
    async fn gaps(&self, topic: &str) -> Result<Vec<Gap>, StoreError> {
        self.gap_items(topic, false)
            .await?
            .iter()
            .map(gap_from_item)
            .collect()
    }
}

impl DynamoReplayStore {
    /// Every gap item of the topic, oldest first; only the unswept ones when `unswept`.
    async fn gap_items(&self, topic: &str, unswept: bool) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :gap)")
                .expression_attribute_values(":pk", s(pk(topic)))
                .expression_attribute_values(":gap", s(GAP_PREFIX))
                .consistent_read(true)
                .set_exclusive_start_key(start);
            if unswept {
                request = request.filter_expression("attribute_not_exists(swept_at)");
            }
            let out = request.send().await.map_err(store_error)?;
            items.extend(out.items().iter().cloned());
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(items),
            }
        }
    }
}

impl GapSweeps for DynamoReplayStore {
    #[tracing::instrument(skip(self), fields(table = %self.table))]
    async fn unswept_gaps(&self, topic: &str) -> Result<Vec<UnsweptGap>, StoreError> {
        self.gap_items(topic, true)
            .await?
            .iter()
            .map(|item| {
                Ok(UnsweptGap {
                    id: GapId::new(req_s(item, "sk")?),
                    gap: gap_from_item(item)?,
                })
            })
            .collect()
    }

    #[tracing::instrument(skip(self, id, swept_at), fields(table = %self.table))]
    async fn mark_gap_swept(
        &self,
        topic: &str,
        id: &GapId,
        swept_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if !id.as_str().starts_with(GAP_PREFIX) {
            return Ok(false);
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(topic)))
            .key("sk", s(id.as_str()))
            .update_expression("SET swept_at = :at")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":at", n(epoch_millis(swept_at)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err)
                if matches!(
                    err.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(false)
            }
            Err(err) => Err(store_error(err)),
        }
    }

    #[tracing::instrument(skip(self), fields(table = %self.table))]
    async fn sweep_cursor(&self, topic: &str) -> Result<Option<SweepCursor>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk = :sk")
            .expression_attribute_values(":pk", s(pk(topic)))
            .expression_attribute_values(":sk", s(SWEEP))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        let Some(item) = out.items().first() else {
            return Ok(None);
        };
        let after = opt_s(item, "after_order_id")?
            .map(|id| {
                OrderId::parse(id)
                    .map_err(|_| StoreError::corrupt("attribute after_order_id is not an Order id"))
            })
            .transpose()?;
        Ok(Some(SweepCursor {
            after,
            pass_started_at: millis_to_time(req_n(item, "pass_started_at")?, "pass_started_at")?,
        }))
    }

    #[tracing::instrument(skip(self, cursor), fields(table = %self.table))]
    async fn save_sweep_cursor(&self, topic: &str, cursor: &SweepCursor) -> Result<(), StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(topic)))
            .key("sk", s(SWEEP))
            .expression_attribute_values(":started", n(epoch_millis(cursor.pass_started_at)));
        let request = match &cursor.after {
            Some(after) => request
                .update_expression("SET pass_started_at = :started, after_order_id = :after")
                .expression_attribute_values(":after", s(after.as_str())),
            None => {
                request.update_expression("SET pass_started_at = :started REMOVE after_order_id")
            }
        };
        request.send().await.map_err(store_error)?;
        Ok(())
    }
}
