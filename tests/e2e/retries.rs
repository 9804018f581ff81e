//! Repeated requests: an `Idempotency-Key` replays only the request it was
//! first sent with, and a repeated fulfilment step is recorded once.

use crate::orders::{library, order, pick_all, pickup, staff_post};
use serde_json::json;
use wangjie_e2e::with_providers;

with_providers!(
    an_idempotency_key_reused_for_another_order_is_a_conflict,
    |app, providers| {
        let ids = library(app).await?;
        let reader = app.borrower(providers, "reuse").await?;
        let first = order(app, &reader.token, "k-1", pickup(&[ids[0]], "B001")).await?;
        assert_eq!(first.status, 201, "{:?}", first.json);
        for other in [
            pickup(&[ids[1]], "B001"),
            pickup(&[ids[0], ids[1]], "B001"),
            pickup(&[ids[0]], "B002"),
        ] {
            let refused = order(app, &reader.token, "k-1", other).await?;
            let problem = refused.assert_problem(409);
            assert!(
                problem["detail"]
                    .as_str()
                    .unwrap()
                    .contains("Idempotency-Key"),
                "{problem}"
            );
        }
        // The same body again replays the first answer.
        let again = order(app, &reader.token, "k-1", pickup(&[ids[0]], "B001")).await?;
        assert_eq!(again.status, 201, "{:?}", again.json);
        assert_eq!(again.json["id"], first.json["id"]);
        assert_eq!(
            app.count(&format!("orders WHERE reader_id = {}", reader.id))
                .await?,
            1
        );
        Ok(())
    }
);

with_providers!(a_parcel_packed_twice_is_logged_once, |app, providers| {
    let ids = library(app).await?;
    let reader = app.borrower(providers, "pack").await?;
    // ORD-2 stands only at B002 and ORD-3 at B004 and B005: a set that
    // meets at the delivery centre.
    let placed = order(
        app,
        &reader.token,
        "pack-1",
        pickup(&[ids[1], ids[2]], "B003"),
    )
    .await?;
    assert_eq!(placed.json["consolidate"], true, "{:?}", placed.json);
    let id = placed.json["id"].as_i64().unwrap();
    pick_all(app, &placed.json).await?;
    let centre = app
        .staff_token(placed.json["parcel_point"].as_str().unwrap())
        .await?;
    for _ in 0..3 {
        let packed = staff_post(
            app,
            &centre,
            &format!("/api/staff/orders/{id}/pack"),
            json!({}),
        )
        .await?;
        assert_eq!(packed.status, 200, "{:?}", packed.json);
        assert_eq!(packed.json["state"], "picking");
    }
    assert_eq!(
        app.count(&format!(
            "events WHERE subject_kind = 'order' AND subject_id = '{id}' AND event = 'parcel_packed'"
        ))
        .await?,
        1
    );
    Ok(())
});
