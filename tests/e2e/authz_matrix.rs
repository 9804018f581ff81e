//! The authorisation matrix (issue 18, part 5): every operation of
//! `docs/openapi.yaml` asked by every kind of caller, with the answer each
//! must get, from one table ([`ROWS`]). The table is checked against the
//! spec's `paths` first, so a route cannot be added to the spec without a
//! row here, nor a row outlive its route.
//!
//! Bodies are minimal (empty, `{}` or a well-formed locker message), so an
//! answer is decided by authorisation, not validation: a caller who is
//! refused must get 401 (no usable credential), 403 (known but not allowed)
//! or 404 (somebody else's object); a caller who is admitted must get
//! anything but 401 and 403 (a 2xx, or a 400, 404 or 409 about the empty
//! body or the state of the object).
//!
//! It runs on SQLite only: authorisation is decided in the components
//! before any statement, the same code on both backends, and the objects
//! are found by the same SQL; a second run on PostgreSQL would double the
//! suite's time (~700 requests) for no new branch.

use crate::lockers::{library, place, MASTER};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use wangjie_e2e::with_providers::{spawn_with_providers, Providers, SignedIn};
use wangjie_e2e::{repo_root, Answer, Backend, TestApp, ADMIN_TOKEN};
use wangjie_shared::locker::signing::signed_headers;
use wangjie_shared::locker::store::derive_secret;

/// Who asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// No credential at all.
    Anonymous,
    /// A signed-in reader who owns the fixture's order, hold, loans and
    /// compensation.
    ReaderA,
    /// Another signed-in reader, who owns none of them.
    ReaderB,
    /// A librarian at B001, the point the fixture's order is picked at.
    StaffHere,
    /// A librarian at B002.
    StaffElsewhere,
    /// A member of staff with the operator role (the console's `/admin/*`).
    Operator,
    /// A locker signing with its own secret.
    LockerGood,
    /// The same locker's id signed with a secret from another master key.
    LockerBad,
    /// The deployment's `admin_token`.
    Admin,
}

const CALLERS: [Caller; 9] = [
    Caller::Anonymous,
    Caller::ReaderA,
    Caller::ReaderB,
    Caller::StaffHere,
    Caller::StaffElsewhere,
    Caller::Operator,
    Caller::LockerGood,
    Caller::LockerBad,
    Caller::Admin,
];

/// Who an operation admits.
#[derive(Debug, Clone, Copy)]
enum Access {
    /// Everyone, credential or not.
    Public,
    /// Any signed-in reader; the rest get 401.
    Reader,
    /// Reader A, whose object the path names; reader B gets 404, the rest 401.
    ReaderOwn,
    /// Reader A's own record; reader B gets 403 (docs/openapi.yaml), the
    /// rest 401.
    ReaderSelf,
    /// A reader or any member of staff (signing out).
    ReaderOrStaff,
    /// Any member of staff; the rest get 401.
    Staff,
    /// Staff at the point that holds the object; staff elsewhere (the
    /// operator, at the delivery centre DC01, included: the fulfilment line
    /// is per point whatever the role) get 404, because the object is
    /// looked for among their point's; the rest 401.
    StaffHereHidden,
    /// Moving an order as staff at the point that holds it; staff
    /// elsewhere get 403 naming the point they may act for (the order's
    /// number is on the parcel); the rest 401.
    StaffHereRefused,
    /// `/admin/*` reads and writes: the admin token or the operator's
    /// session; librarians get 403, the rest 401.
    Console,
    /// A locker's good signature. A bad one gets 401; a request with no
    /// locker headers at all is not a locker message and gets 400 naming
    /// the first missing header (docs/locker-protocol.md), whatever bearer
    /// token it carries.
    Locker,
    /// Nobody can sign as Alipay here: every caller gets this status (a
    /// staff sign-in with no credential, too).
    Everyone(u16),
}

/// What a request sends.
#[derive(Debug, Clone, Copy)]
enum Body {
    /// No body.
    None,
    /// `{}`.
    Empty,
    /// A locker's heartbeat, well formed.
    Beat,
    /// A locker's events, none of them.
    NoEvents,
    /// A locker's query for a pickup code that does not exist.
    Query,
}

/// One operation of the spec, the URL asked (fixture names in braces
/// replaced: `{order}`, `{line}`, `{loan}`, `{lost_loan}`,
/// `{compensation}`, `{hold}`, `{record}`, `{locker}`, `{staff_id}`), the
/// body, and who is admitted.
struct Row {
    method: &'static str,
    path: &'static str,
    url: &'static str,
    body: Body,
    access: Access,
}

const fn row(
    method: &'static str,
    path: &'static str,
    url: &'static str,
    body: Body,
    access: Access,
) -> Row {
    Row {
        method,
        path,
        url,
        body,
        access,
    }
}

use Access as A;
use Body as B;

/// The matrix. Rows run in this order, each for every caller in
/// [`CALLERS`] order; rows that end a session get a fresh credential.
#[rustfmt::skip]
const ROWS: &[Row] = &[
    // admin
    row("GET", "/api/health", "/api/health", B::None, A::Public),
    row("HEAD", "/api/health", "/api/health", B::None, A::Public),
    row("GET", "/admin/schema", "/admin/schema", B::None, A::Console),
    row("POST", "/admin/migrate", "/admin/migrate", B::None, A::Console),
    row("POST", "/admin/demo", "/admin/demo?records=1&readers=0", B::None, A::Console),
    row("POST", "/admin/catalogue/import", "/admin/catalogue/import?format=csv", B::None, A::Console),
    row("POST", "/admin/catalogue/reindex", "/admin/catalogue/reindex", B::None, A::Console),
    row("GET", "/admin/staff", "/admin/staff?point=B001", B::None, A::Console),
    row("POST", "/admin/staff", "/admin/staff", B::Empty, A::Console),
    row("POST", "/admin/staff/{id}/session", "/admin/staff/{staff_id}/session", B::None, A::Console),
    row("PUT", "/admin/staff/{id}/password", "/admin/staff/{staff_id}/password", B::Empty, A::Console),
    row("POST", "/admin/staff/{id}/code", "/admin/staff/{staff_id}/code", B::None, A::Console),
    row("GET", "/admin/stats", "/admin/stats", B::None, A::Console),
    row("GET", "/admin/lockers", "/admin/lockers", B::None, A::Console),
    row("GET", "/admin/jobs", "/admin/jobs", B::None, A::Console),
    row("POST", "/admin/jobs/run", "/admin/jobs/run", B::None, A::Console),
    row("POST", "/admin/jobs/sync-sesame", "/admin/jobs/sync-sesame", B::None, A::Console),
    row("POST", "/admin/jobs/expire-payments", "/admin/jobs/expire-payments", B::None, A::Console),
    row("POST", "/admin/jobs/lockers-offline", "/admin/jobs/lockers-offline", B::None, A::Console),
    row("POST", "/admin/jobs/send-notices", "/admin/jobs/send-notices", B::None, A::Console),
    row("GET", "/admin/notices", "/admin/notices", B::None, A::Console),
    // points, search
    row("GET", "/api/points", "/api/points", B::None, A::Public),
    row("GET", "/api/points/{code}", "/api/points/B001", B::None, A::Public),
    row("GET", "/api/search", "/api/search?q=test", B::None, A::Public),
    row("GET", "/api/records/{id}", "/api/records/{record}", B::None, A::Public),
    // readers
    row("POST", "/api/session/alipay", "/api/session/alipay", B::Empty, A::Public),
    row("POST", "/api/session/wechat", "/api/session/wechat", B::Empty, A::Public),
    row("GET", "/api/session/providers", "/api/session/providers", B::None, A::Public),
    row("DELETE", "/api/session", "/api/session", B::None, A::ReaderOrStaff),
    row("GET", "/api/me", "/api/me", B::None, A::Reader),
    row("POST", "/api/me/links/alipay", "/api/me/links/alipay", B::Empty, A::Reader),
    row("POST", "/api/me/links/wechat", "/api/me/links/wechat", B::Empty, A::Reader),
    row("GET", "/api/me/credit", "/api/me/credit", B::None, A::Reader),
    row("POST", "/api/me/credit", "/api/me/credit", B::Empty, A::Reader),
    row("POST", "/api/me/card", "/api/me/card", B::None, A::Reader),
    row("GET", "/api/me/deposit", "/api/me/deposit", B::None, A::Reader),
    row("POST", "/api/me/deposit", "/api/me/deposit", B::None, A::Reader),
    row("GET", "/api/me/deposits/{id}", "/api/me/deposits/999999", B::None, A::Reader),
    row("GET", "/api/readers/{id}", "/api/readers/{reader_a}", B::None, A::ReaderSelf),
    row("GET", "/api/me/loans", "/api/me/loans", B::None, A::Reader),
    row("POST", "/api/me/loans/{id}/renew", "/api/me/loans/{loan}/renew", B::Empty, A::ReaderOwn),
    row("POST", "/api/me/loans/{id}/lost", "/api/me/loans/{lost_loan}/lost", B::Empty, A::ReaderOwn),
    row("GET", "/api/me/compensations", "/api/me/compensations", B::None, A::Reader),
    row("POST", "/api/me/compensations/{id}/pay", "/api/me/compensations/{compensation}/pay", B::None, A::ReaderOwn),
    row("POST", "/api/me/holds", "/api/me/holds", B::Empty, A::Reader),
    row("GET", "/api/me/holds", "/api/me/holds", B::None, A::Reader),
    row("GET", "/api/me/holds/{id}", "/api/me/holds/{hold}", B::None, A::ReaderOwn),
    row("DELETE", "/api/me/holds/{id}", "/api/me/holds/{hold}", B::None, A::ReaderOwn),
    row("POST", "/api/me/suggestions", "/api/me/suggestions", B::Empty, A::Reader),
    row("GET", "/api/me/suggestions", "/api/me/suggestions", B::None, A::Reader),
    row("GET", "/api/me/notices", "/api/me/notices", B::None, A::Reader),
    // orders
    row("POST", "/api/orders", "/api/orders", B::Empty, A::Reader),
    row("GET", "/api/orders", "/api/orders", B::None, A::Reader),
    row("GET", "/api/orders/{id}", "/api/orders/{order}", B::None, A::ReaderOwn),
    // staff's fulfilment line
    row("GET", "/api/staff/picklist", "/api/staff/picklist", B::None, A::Staff),
    row("POST", "/api/staff/picks", "/api/staff/picks", B::Empty, A::Staff),
    row("GET", "/api/staff/orders", "/api/staff/orders", B::None, A::Staff),
    row("GET", "/api/staff/orders/{id}", "/api/staff/orders/{order}", B::None, A::StaffHereHidden),
    row("POST", "/api/staff/orders/{id}/pack", "/api/staff/orders/{order}/pack", B::Empty, A::StaffHereRefused),
    row("POST", "/api/staff/orders/{id}/dispatch", "/api/staff/orders/{order}/dispatch", B::Empty, A::StaffHereRefused),
    row("POST", "/api/staff/orders/{id}/arrive", "/api/staff/orders/{order}/arrive", B::Empty, A::StaffHereRefused),
    row("POST", "/api/staff/orders/{id}/hand-over", "/api/staff/orders/{order}/hand-over", B::Empty, A::StaffHereRefused),
    row("POST", "/api/staff/orders/{id}/deliver", "/api/staff/orders/{order}/deliver", B::Empty, A::StaffHereRefused),
    row("POST", "/api/staff/lines/{id}/missing", "/api/staff/lines/{line}/missing", B::Empty, A::StaffHereHidden),
    row("POST", "/api/orders/{id}/cancel", "/api/orders/{order}/cancel", B::Empty, A::ReaderOwn),
    row("POST", "/api/staff/returns", "/api/staff/returns", B::Empty, A::Staff),
    row("POST", "/api/staff/copies/{barcode}/damaged", "/api/staff/copies/NO-SUCH-COPY/damaged", B::Empty, A::Staff),
    row("GET", "/api/staff/suggestions", "/api/staff/suggestions", B::None, A::Staff),
    row("POST", "/api/staff/suggestions/{id}/approve", "/api/staff/suggestions/999999/approve", B::Empty, A::Staff),
    row("POST", "/api/staff/suggestions/{id}/decline", "/api/staff/suggestions/999999/decline", B::Empty, A::Staff),
    row("POST", "/api/staff/session", "/api/staff/session", B::Empty, A::Everyone(401)),
    row("GET", "/api/staff/me", "/api/staff/me", B::None, A::Staff),
    row("DELETE", "/api/staff/session", "/api/staff/session", B::None, A::Staff),
    // lockers
    row("POST", "/api/lockers/{id}/heartbeat", "/api/lockers/{locker}/heartbeat", B::Beat, A::Locker),
    row("POST", "/api/lockers/{id}/events", "/api/lockers/{locker}/events", B::NoEvents, A::Locker),
    row("POST", "/api/lockers/{id}/query", "/api/lockers/{locker}/query", B::Query, A::Locker),
    row("POST", "/api/lockers/{id}/pickups", "/api/lockers/{locker}/pickups", B::None, A::Reader),
    // webhooks
    row("POST", "/webhooks/alipay", "/webhooks/alipay", B::None, A::Everyone(401)),
];

/// What an answer must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Anything but 401 and 403 (and no 5xx).
    Admitted,
    /// Exactly this status.
    Status(u16),
}

/// The expected answer of `access` to `caller`: the matrix's one rule.
fn expect(access: Access, caller: Caller) -> Expect {
    use Caller::*;
    use Expect::{Admitted, Status};
    match (access, caller) {
        (Access::Public, _) => Admitted,
        (Access::Everyone(status), _) => Status(status),
        (Access::Reader, ReaderA | ReaderB) => Admitted,
        (Access::ReaderOwn, ReaderA) => Admitted,
        (Access::ReaderOwn, ReaderB) => Status(404),
        (Access::ReaderOrStaff, ReaderA | ReaderB | StaffHere | StaffElsewhere | Operator) => {
            Admitted
        }
        (Access::Staff, StaffHere | StaffElsewhere | Operator) => Admitted,
        (Access::ReaderSelf, ReaderA) => Admitted,
        (Access::ReaderSelf, ReaderB) => Status(403),
        (Access::StaffHereHidden | Access::StaffHereRefused, StaffHere) => Admitted,
        (Access::StaffHereHidden, StaffElsewhere | Operator) => Status(404),
        (Access::StaffHereRefused, StaffElsewhere | Operator) => Status(403),
        (Access::Console, Admin | Operator) => Admitted,
        (Access::Console, StaffHere | StaffElsewhere) => Status(403),
        (Access::Locker, LockerGood) => Admitted,
        (Access::Locker, LockerBad) => Status(401),
        (Access::Locker, _) => Status(400),
        _ => Status(401),
    }
}

/// The operations of `docs/openapi.yaml`, as `METHOD path`.
fn spec_operations() -> anyhow::Result<BTreeSet<String>> {
    let text = std::fs::read_to_string(repo_root().join("docs/openapi.yaml"))?;
    let spec: serde_norway::Value = serde_norway::from_str(&text)?;
    let paths = spec["paths"]
        .as_mapping()
        .ok_or_else(|| anyhow::anyhow!("docs/openapi.yaml has no paths"))?;
    let mut operations = BTreeSet::new();
    for (path, item) in paths {
        let path = path.as_str().unwrap_or_default();
        for (method, _) in item.as_mapping().into_iter().flatten() {
            let method = method.as_str().unwrap_or_default();
            if ["get", "head", "post", "put", "patch", "delete", "options"].contains(&method) {
                operations.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    Ok(operations)
}

#[test]
fn every_operation_of_the_spec_has_exactly_one_row() -> anyhow::Result<()> {
    let spec = spec_operations()?;
    let mut rows = BTreeSet::new();
    for row in ROWS {
        let operation = format!("{} {}", row.method, row.path);
        assert!(rows.insert(operation.clone()), "two rows for {operation}");
    }
    let missing: Vec<_> = spec.difference(&rows).collect();
    let extra: Vec<_> = rows.difference(&spec).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/openapi.yaml operations without a row in ROWS: {missing:?}; \
         rows for operations the spec lacks: {extra:?}"
    );
    Ok(())
}

/// Everything the rows name, made once.
struct Fixture {
    /// `{name}` in a row's URL, and its value.
    names: HashMap<&'static str, String>,
    reader_a: SignedIn,
    reader_b: SignedIn,
    staff_here: String,
    staff_elsewhere: String,
    operator: String,
}

/// A staff session of the first member at `point` with `role`; the id
/// and the token.
async fn staff_session(app: &TestApp, point: &str, role: &str) -> anyhow::Result<(i64, String)> {
    let id: i64 = app
        .sql(&format!(
            "SELECT id FROM staff WHERE role = '{role}' AND ('{point}' = '' OR home_point = '{point}') \
             ORDER BY id LIMIT 1"
        ))
        .await?
        .parse()
        .map_err(|e| anyhow::anyhow!("no {role} at {point:?}: {e}"))?;
    let token = fresh_staff_token(app, id).await?;
    Ok((id, token))
}

async fn fresh_staff_token(app: &TestApp, id: i64) -> anyhow::Result<String> {
    let session = app
        .admin(Method::POST, &format!("/admin/staff/{id}/session"))
        .await?
        .expect_ok()?;
    Ok(session.json["token"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

async fn fixture(app: &TestApp, providers: &Providers) -> anyhow::Result<Fixture> {
    let record = library(app).await?;
    let reader_a = app.borrower(providers, "matrix-a").await?;
    let reader_b = app.borrower(providers, "matrix-b").await?;
    // Reader A's order, picked at B001.
    let placed = place(app, &reader_a, record, "B001").await?.expect_ok()?;
    let order = placed.json["id"].as_i64().unwrap_or_default();
    let line = placed.json["lines"][0]["id"].as_i64().unwrap_or_default();
    let promised = placed.json["lines"][0]["copy_barcode"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        placed.json["lines"][0]["pick_point"], "B001",
        "{}",
        placed.json
    );
    // Two loans of reader A, straight in the database (lending is tested
    // elsewhere): one open, one lost with its compensation paid, so that
    // A owes nothing and may still order.
    let free: Vec<&str> = ["LK-1", "LK-2", "LK-3"]
        .into_iter()
        .filter(|b| *b != promised)
        .collect();
    let now = wangjie_shared::now_ms();
    let due = now + 86_400_000;
    let a = reader_a.id;
    app.sql(&format!(
        "UPDATE copies SET status = 'on_loan', current_point = NULL WHERE barcode IN ('{0}', '{1}');
         INSERT INTO loans (copy_barcode, reader_id, started_at_ms, due_at_ms) VALUES ('{0}', {a}, {now}, {due});
         INSERT INTO loans (copy_barcode, reader_id, started_at_ms, due_at_ms, lost_at_ms) VALUES ('{1}', {a}, {now}, {due}, {now});
         INSERT INTO compensations (reader_id, loan_id, copy_barcode, reason, amount_fen, out_trade_no, state, opened_by, created_at_ms, paid_at_ms, updated_at_ms)
           SELECT {a}, id, copy_barcode, 'lost', 5000, 'matrix-comp-1', 'paid', 'reader:{a}', {now}, {now}, {now} FROM loans WHERE copy_barcode = '{1}';
         INSERT INTO holds (reader_id, record_id, pickup_point, state, created_at_ms, updated_at_ms)
           VALUES ({a}, {record}, 'B001', 'waiting', {now}, {now});",
        free[0], free[1]
    ))
    .await?;
    let loan = app
        .sql(&format!(
            "SELECT id FROM loans WHERE copy_barcode = '{}'",
            free[0]
        ))
        .await?;
    let lost_loan = app
        .sql(&format!(
            "SELECT id FROM loans WHERE copy_barcode = '{}'",
            free[1]
        ))
        .await?;
    let compensation = app
        .sql("SELECT id FROM compensations WHERE out_trade_no = 'matrix-comp-1'")
        .await?;
    let hold = app
        .sql(&format!("SELECT id FROM holds WHERE reader_id = {a}"))
        .await?;
    let locker = app
        .get_points("?kind=self_service")
        .await?
        .expect_ok()?
        .json["points"][0]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (_, staff_here) = staff_session(app, "B001", "librarian").await?;
    let (elsewhere_id, staff_elsewhere) = staff_session(app, "B002", "librarian").await?;
    let (_, operator) = staff_session(app, "", "operator").await?;
    let names = HashMap::from([
        ("{order}", order.to_string()),
        ("{line}", line.to_string()),
        ("{loan}", loan),
        ("{lost_loan}", lost_loan),
        ("{compensation}", compensation),
        ("{hold}", hold),
        ("{record}", record.to_string()),
        ("{locker}", locker),
        ("{reader_a}", reader_a.id.to_string()),
        ("{staff_id}", elsewhere_id.to_string()),
    ]);
    Ok(Fixture {
        names,
        reader_a,
        reader_b,
        staff_here,
        staff_elsewhere,
        operator,
    })
}

/// A row's URL with the fixture's names filled in.
fn url(fixture: &Fixture, row: &Row) -> String {
    fixture
        .names
        .iter()
        .fold(row.url.to_string(), |url, (name, value)| {
            url.replace(name, value)
        })
}

fn body(kind: Body) -> Option<Value> {
    match kind {
        Body::None => None,
        Body::Empty => Some(json!({})),
        Body::Beat => Some(crate::lockers::beat(json!([]), crate::lockers::now())),
        Body::NoEvents => Some(json!({ "events": [] })),
        Body::Query => Some(json!({ "pickup_code": "00000000" })),
    }
}

/// Asks `row` as `caller`; the answer.
async fn ask(
    app: &TestApp,
    fixture: &Fixture,
    row: &Row,
    caller: Caller,
    token: Option<&str>,
) -> anyhow::Result<Answer> {
    let path = url(fixture, row);
    let method = Method::from_bytes(row.method.as_bytes())?;
    let bytes = match body(row.body) {
        Some(value) => serde_json::to_vec(&value)?,
        None => Vec::new(),
    };
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", app.url));
    if !bytes.is_empty() {
        request = request.header("content-type", "application/json");
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let locker = matches!(caller, Caller::LockerGood | Caller::LockerBad);
    if row.path.starts_with("/api/lockers/") && !locker {
        // The protocol's version is checked before the signature (400 when
        // missing, docs/locker-protocol.md): every caller speaks it, so
        // the signature decides.
        request = request.header("x-locker-protocol", "1");
    }
    if locker {
        let master = if caller == Caller::LockerGood {
            MASTER
        } else {
            "a-master-key-this-deployment-does-not-hold"
        };
        let id = &fixture.names["{locker}"];
        let secret = derive_secret(master, id)?;
        let signed_path = path.split('?').next().unwrap_or_default();
        let nonce = crate::lockers::nonce();
        for (name, value) in signed_headers(
            id,
            &secret,
            row.method,
            signed_path,
            crate::lockers::now(),
            &nonce,
            &bytes,
        ) {
            request = request.header(name, value);
        }
    }
    Answer::read(request.body(bytes).send().await?).await
}

/// The bearer token `caller` presents; rows that end a session are given
/// a fresh one, so later rows still have theirs.
async fn token(
    app: &TestApp,
    providers: &Providers,
    fixture: &Fixture,
    row: &Row,
    caller: Caller,
) -> anyhow::Result<Option<String>> {
    let ends_session = row.method == "DELETE" && row.path.ends_with("/session");
    let reader = |r: &SignedIn| Some(r.token.clone());
    Ok(match caller {
        Caller::Anonymous | Caller::LockerGood | Caller::LockerBad => None,
        Caller::Admin => Some(ADMIN_TOKEN.to_string()),
        Caller::ReaderA | Caller::ReaderB if ends_session => {
            let name = if caller == Caller::ReaderA {
                "openid-matrix-a"
            } else {
                "openid-matrix-b"
            };
            Some(app.sign_in_wechat(providers, name, None).await?.token)
        }
        Caller::ReaderA => reader(&fixture.reader_a),
        Caller::ReaderB => reader(&fixture.reader_b),
        Caller::StaffHere | Caller::StaffElsewhere | Caller::Operator if ends_session => {
            let (point, role) = match caller {
                Caller::StaffHere => ("B001", "librarian"),
                Caller::StaffElsewhere => ("B002", "librarian"),
                _ => ("", "operator"),
            };
            Some(staff_session(app, point, role).await?.1)
        }
        Caller::StaffHere => Some(fixture.staff_here.clone()),
        Caller::StaffElsewhere => Some(fixture.staff_elsewhere.clone()),
        Caller::Operator => Some(fixture.operator.clone()),
    })
}

async fn matrix(app: &TestApp, providers: &Providers) -> anyhow::Result<()> {
    let fixture = fixture(app, providers).await?;
    let mut wrong = Vec::new();
    for row in ROWS {
        for caller in CALLERS {
            let token = token(app, providers, &fixture, row, caller).await?;
            let answer = ask(app, &fixture, row, caller, token.as_deref()).await?;
            let status = answer.status.as_u16();
            let expected = expect(row.access, caller);
            let right = match expected {
                Expect::Admitted => status != 401 && status != 403 && status < 500,
                Expect::Status(s) => status == s,
            };
            if !right {
                wrong.push(format!(
                    "{} {} as {caller:?}: expected {expected:?}, got {status} {}",
                    row.method,
                    url(&fixture, row),
                    answer.json
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} answers wrong:\n{}",
        wrong.len(),
        ROWS.len() * CALLERS.len(),
        wrong.join("\n")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_caller_gets_what_the_matrix_says_on_every_route() -> anyhow::Result<()> {
    let (app, providers) =
        spawn_with_providers(Backend::Sqlite, &[("locker_master_key", MASTER)]).await?;
    let outcome = matrix(&app, &providers).await;
    app.stop().await?;
    outcome
}
