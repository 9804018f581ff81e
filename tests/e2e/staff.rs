//! Staff sessions: signing out revokes a staff token as it does a
//! reader's, and a token outlives no member of staff.

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

on_both_backends!(a_token_of_staff_no_longer_employed_is_refused, |app| {
    app.load_demo(1, 0).await?.expect_ok()?;
    let token = app.staff_token("B001").await?;
    // staff_token signs in the first member of staff at the point.
    app.sql("DELETE FROM staff WHERE id = (SELECT MIN(id) FROM staff WHERE home_point = 'B001')")
        .await?;
    app.send(Method::GET, "/api/staff/picklist", Some(&token), None)
        .await?
        .assert_problem(401);
    app.send(Method::POST, "/api/staff/orders/1/pack", Some(&token), None)
        .await?
        .assert_problem(401);
    Ok(())
});
