//! Repeated requests: an `Idempotency-Key` replays only the request it was
//! first sent with.

use crate::orders::{library, order, pickup};
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
