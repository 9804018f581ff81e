//! `POST /sesame-orders/sync[?batch=N]`: makes the Sesame credit-borrowing
//! calls that loans owe (create, modify, complete, report), through
//! Alipay's gateway, for the rows leased now; a failed call is counted and
//! retried later with back-off. The operator's scheduler reaches it through
//! `POST /admin/jobs/sync-sesame`.

use serde::Serialize;
use wangjie_shared::alipay::gateway::beijing_time;
use wangjie_shared::alipay::rent::{self, RentOrder};
use wangjie_shared::db::{in_transaction, Db};
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::sesame_orders::outbox::{self, Owed, Pending};
use wangjie_shared::spin::providers::Alipay;
use wangjie_shared::spin::{config, db};
use wangjie_shared::{now_ms, Error, Result};

/// How long one sender holds a row.
const LEASE_MS: i64 = 60_000;

/// What one sync did.
#[derive(Debug, Default, Serialize)]
struct Synced {
    created: u64,
    modified: u64,
    completed: u64,
    reported: u64,
    failed: u64,
}

/// Sends what is owed now, at most `batch` rows (100).
pub fn sync(request: &Request) -> Result<Reply> {
    let batch = i64::from(request.count_param::<u32>("batch", 100, 1, 100)?);
    let now = now_ms();
    let db = db::connect()?;
    let alipay = Alipay::from_variables()?;
    let terms = Terms {
        grace_ms: config::number("sesame_overdue_grace_ms", 3 * 86_400_000)? as i64,
        deposit_fen: config::number("deposit_fen", 10_000)? as i64,
    };
    let mut synced = Synced::default();
    for mut owed in outbox::claim(db.as_ref(), batch, LEASE_MS, now)? {
        if let Err(error) = send(db.as_ref(), &alipay, &mut owed, terms, &mut synced, now) {
            eprintln!("sesame order {} ({:?}): {error}", owed.id, owed.pending);
            outbox::failed(db.as_ref(), &owed, &error.to_string(), now)?;
            synced.failed += 1;
        }
    }
    Ok(Reply::json(200, &synced))
}

#[derive(Clone, Copy)]
struct Terms {
    grace_ms: i64,
    deposit_fen: i64,
}

fn send(
    db: &dyn Db,
    alipay: &Alipay,
    owed: &mut Owed,
    terms: Terms,
    synced: &mut Synced,
    now: i64,
) -> Result<()> {
    let expiry = beijing_time(owed.due_at_ms + terms.grace_ms)?;
    for step in outbox::plan(owed) {
        match step {
            Pending::Create => {
                let call = rent::create(&RentOrder {
                    out_order_no: owed.out_order_no.clone(),
                    goods_name: owed.title.clone(),
                    borrow_time: beijing_time(owed.started_at_ms)?,
                    expiry_time: expiry.clone(),
                    borrow_shop_name: owed.borrow_shop.clone(),
                    deposit_amount: wangjie_shared::alipay::yuan(terms.deposit_fen),
                });
                let member = alipay.rent(&call, now)?;
                let order_no = rent::read_order_no(&member).map_err(|f| f.into_error("sesame"))?;
                outbox::created(db, owed, &order_no, now)?;
                synced.created += 1;
            }
            Pending::Modify => {
                alipay.rent(&rent::modify(order_no(owed)?, &expiry), now)?;
                outbox::modified(db, owed, now)?;
                synced.modified += 1;
            }
            Pending::Complete => {
                let restored = beijing_time(owed.returned_at_ms.unwrap_or(now))?;
                alipay.rent(
                    &rent::complete(order_no(owed)?, &restored, &owed.return_shop),
                    now,
                )?;
                in_transaction(db, |db| outbox::completed(db, owed, now))?;
                synced.completed += 1;
            }
            Pending::Report => {
                let member = alipay.rent(&rent::query(&owed.out_order_no), now)?;
                let use_state =
                    rent::read_use_state(&member).map_err(|f| f.into_error("sesame"))?;
                if in_transaction(db, |db| outbox::reported(db, owed, &use_state, now))? {
                    synced.reported += 1;
                }
            }
        }
    }
    Ok(())
}

fn order_no(owed: &Owed) -> Result<&str> {
    owed.zm_order_no
        .as_deref()
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("sesame order {} not created", owed.id)))
}
