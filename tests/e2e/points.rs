//! `GET /api/points`: the first vertical slice through a real component.

use wangjie_e2e::on_both_backends;

on_both_backends!(points_of_the_demo_library_are_listed_by_kind, |app| {
    app.load_demo(200, 20).await?.expect_ok()?;
    let all = app.get_points("").await?.expect_ok()?;
    // 103 service points of four kinds, plus the delivery centre.
    assert_eq!(all.json["total"], 104, "{}", all.json);
    let metro = app.get_points("?kind=metro").await?.expect_ok()?;
    assert_eq!(metro.json["total"], 8);
    let kinds: Vec<&str> = metro.json["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.iter().all(|k| *k == "metro"), "{kinds:?}");
    Ok(())
});

on_both_backends!(points_are_sorted_nearest_first, |app| {
    app.load_demo(200, 20).await?.expect_ok()?;
    let answer = app
        .get_points("?kind=self_service&lat=30.27&lon=120.16&limit=10")
        .await?
        .expect_ok()?;
    let points = answer.json["points"].as_array().unwrap();
    assert_eq!(points.len(), 10);
    let distances: Vec<u64> = points
        .iter()
        .map(|p| p["distance_m"].as_u64().unwrap())
        .collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    let first = points[0]["code"].as_str().unwrap();
    let one = app.get_points(&format!("/{first}")).await?.expect_ok()?;
    assert_eq!(one.json["code"], first);
    Ok(())
});

on_both_backends!(malformed_point_queries_are_clear_400s, |app| {
    let problem = app.get_points("?lat=north&lon=120").await?;
    assert!(problem.assert_problem(400)["detail"]
        .as_str()
        .unwrap()
        .contains("lat"));
    app.get_points("?lat=30.2").await?.assert_problem(400);
    app.get_points("?lat=95&lon=120").await?.assert_problem(400);
    app.get_points("?kind=castle").await?.assert_problem(400);
    app.get_points("?limit=0").await?.assert_problem(400);
    app.get_points("/NO-SUCH-POINT").await?.assert_problem(404);
    Ok(())
});
