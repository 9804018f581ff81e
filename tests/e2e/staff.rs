//! Staff sessions: signing out revokes a staff token as it does a
//! reader's.

use reqwest::Method;
use wangjie_e2e::on_both_backends;

on_both_backends!(signing_out_revokes_a_staff_token, |app| {
    app.load_demo(1, 0).await?.expect_ok()?;
    let token = app.staff_token("B001").await?;
    let other = app.staff_token("B001").await?;
    app.send(Method::GET, "/api/staff/picklist", Some(&token), None)
        .await?
        .expect_ok()?;
    let out = app
        .send(Method::DELETE, "/api/session", Some(&token), None)
        .await?;
    assert_eq!(out.status, 200, "{:?}", out.json);
    assert_eq!(out.json["signed_out"], true);
    app.send(Method::GET, "/api/staff/picklist", Some(&token), None)
        .await?
        .assert_problem(401);
    // Only the token presented.
    app.send(Method::GET, "/api/staff/picklist", Some(&other), None)
        .await?
        .expect_ok()?;
    Ok(())
});
