//! `POST /admin/catalogue/import`: CSV, MARC (ISO 2709) and MARCXML
//! batches made here, idempotent re-imports, rejections with positions,
//! and the refusals (no token, unknown format, unusable header).

use reqwest::Method;
use serde_json::Value;
use std::collections::HashMap;
use wangjie_e2e::{
    on_both_backends, spawn_unmigrated, Answer, Backend, Options, TestApp, ADMIN_TOKEN,
};

/// Imports need service points for their copies' branches (B001.. are
/// branches of the demo library).
async fn with_points(app: &TestApp) -> anyhow::Result<()> {
    app.load_demo(1, 0).await?.expect_ok()?;
    Ok(())
}

async fn import(app: &TestApp, format: &str, body: &[u8]) -> anyhow::Result<Answer> {
    let path = format!("/admin/catalogue/import?format={format}");
    app.send(Method::POST, &path, Some(ADMIN_TOKEN), Some(body.to_vec()))
        .await
}

/// The counts of a summary, in a fixed order, for one-line assertions.
fn counts(answer: &Answer) -> [u64; 7] {
    [
        "imported",
        "updated",
        "unchanged",
        "rejected",
        "copies_imported",
        "copies_updated",
        "copies_unchanged",
    ]
    .map(|name| answer.json[name].as_u64().unwrap_or(u64::MAX))
}

fn first_rejection(answer: &Answer) -> &Value {
    &answer.json["rejections"][0]
}

const CSV: &str = "record_id,isbn,title,responsibility,publisher,year,subjects,call_number,barcode,branch,copy_call_number\n\
ILS-1,978-7-5366-9293-0,导入测试三体,刘慈欣著,重庆出版社,2008,科幻;小说,I247.5/1,IMP-0001,B001,\n\
ILS-1,,,,,,,,IMP-0002,B002,I247.5/1=2\n\
ILS-2,7-02-002851-9,导入测试红楼梦,曹雪芹著,人民文学出版社,1996,,I242.4/2,,,\n\
ILS-3,978-7-5366-9293-1,坏的ISBN,,,,,,,,\n\
ILS-4,,没有条码馆,,,,,I1/1,IMP-0004,NOWHERE,\n";

on_both_backends!(
    a_csv_import_keeps_the_good_records_and_reimports_as_unchanged,
    |app| {
        with_points(app).await?;
        let first = import(app, "csv", CSV.as_bytes()).await?.expect_ok()?;
        assert_eq!(counts(&first), [2, 0, 0, 2, 2, 0, 0], "{}", first.json);
        let bad_isbn = first_rejection(&first);
        assert_eq!(bad_isbn["position"]["line"], 5, "{}", first.json);
        assert_eq!(bad_isbn["position"]["record"], 4);
        assert!(bad_isbn["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("ISBN"));
        let unknown_branch = &first.json["rejections"][1];
        assert!(
            unknown_branch["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("NOWHERE"),
            "{}",
            first.json
        );

        let again = import(app, "csv", CSV.as_bytes()).await?.expect_ok()?;
        assert_eq!(counts(&again), [0, 0, 2, 2, 0, 0, 2], "{}", again.json);

        // A changed title and a copy moved to another branch are updates.
        let changed = CSV
            .replace("导入测试红楼梦", "导入测试红楼梦（新版）")
            .replace("IMP-0002,B002", "IMP-0002,B003");
        let third = import(app, "csv", changed.as_bytes()).await?.expect_ok()?;
        assert_eq!(counts(&third), [0, 1, 1, 2, 0, 1, 1], "{}", third.json);
        Ok(())
    }
);

on_both_backends!(a_broken_marc_record_is_rejected_at_its_byte_offset, |app| {
    with_points(app).await?;
    let good = marc_record("CN-1", "导入测试活着", "9787506365437", "IMP-M1");
    let mut broken = marc_record("CN-2", "坏记录", "9787536692930", "IMP-M2");
    broken[0..5].copy_from_slice(b"99999");
    let last = marc_record("CN-3", "导入测试围城", "9787020090006", "IMP-M3");
    let body = [good.clone(), broken, last].concat();

    let first = import(app, "marc", &body).await?.expect_ok()?;
    assert_eq!(counts(&first), [2, 0, 0, 1, 2, 0, 0], "{}", first.json);
    let rejection = first_rejection(&first);
    assert_eq!(rejection["position"]["record"], 2);
    assert_eq!(rejection["position"]["byte"], good.len());

    let again = import(app, "marc", &body).await?.expect_ok()?;
    assert_eq!(counts(&again), [0, 0, 2, 1, 0, 0, 2], "{}", again.json);
    Ok(())
});

const MARCXML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<collection xmlns="http://www.loc.gov/MARC21/slim">
<record><leader>00000nam a2200000   4500</leader>
<controlfield tag="001">X-1</controlfield>
<datafield tag="010" ind1=" " ind2=" "><subfield code="a">7-5366-9293-5</subfield></datafield>
<datafield tag="200" ind1="1" ind2=" "><subfield code="a">导入测试球状闪电</subfield><subfield code="f">刘慈欣</subfield></datafield>
<datafield tag="905" ind1=" " ind2=" "><subfield code="b">IMP-X1</subfield><subfield code="c">B004</subfield><subfield code="d">I247.5</subfield><subfield code="e">9</subfield></datafield>
</record>
<record><controlfield tag="001">X-2</controlfield></record>
</collection>"#;

on_both_backends!(marcxml_imports_and_names_a_record_without_a_title, |app| {
    with_points(app).await?;
    let xml = MARCXML;
    let first = import(app, "marcxml", xml.as_bytes()).await?.expect_ok()?;
    assert_eq!(counts(&first), [1, 0, 0, 1, 1, 0, 0], "{}", first.json);
    let rejection = first_rejection(&first);
    assert_eq!(rejection["position"]["record"], 2);
    assert_eq!(rejection["key"], "X-2");
    assert_eq!(rejection["reason"], "no title");

    let again = import(app, "marcxml", xml.as_bytes()).await?.expect_ok()?;
    assert_eq!(counts(&again), [0, 0, 1, 1, 0, 0, 1], "{}", again.json);
    Ok(())
});

on_both_backends!(
    an_import_without_the_token_or_with_a_bad_batch_is_refused,
    |app| {
        let path = "/admin/catalogue/import?format=csv";
        let anonymous = app
            .send(Method::POST, path, None, Some(CSV.as_bytes().to_vec()))
            .await?;
        anonymous.assert_problem(401);
        let wrong_format = import(app, "pdf", CSV.as_bytes()).await?;
        assert!(wrong_format.assert_problem(400)["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("format"));
        let no_title = import(app, "csv", b"record_id,isbn\nR1,\n").await?;
        assert!(no_title.assert_problem(400)["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("title"));
        let wrong_method = app.send(Method::GET, path, Some(ADMIN_TOKEN), None).await?;
        wrong_method.assert_problem(405);
        let csv_as_xml = import(app, "marcxml", CSV.as_bytes()).await?;
        assert!(csv_as_xml.assert_problem(400)["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("not MARCXML"));
        Ok(())
    }
);

/// The body limit is `import_max_body_bytes` (16 MiB by default). The test
/// lowers it so the refused body fits in the socket buffers: a client still
/// writing a body the server has already refused can see a broken pipe
/// instead of the 413.
#[tokio::test]
async fn a_batch_over_the_import_body_limit_is_a_413() -> anyhow::Result<()> {
    let options = Options {
        variables: HashMap::from([("import_max_body_bytes".to_string(), "1024".to_string())]),
        ..Options::default()
    };
    let app = spawn_unmigrated(Backend::Sqlite, options).await?;
    let too_large = vec![b'a'; 4096];
    import(&app, "csv", &too_large).await?.assert_problem(413);
    app.stop().await
}

/// A CNMARC record in ISO 2709 (test-only writer): 001, 010$a, 200$a$f,
/// 210$c$d and one 905 holding at branch B001.
fn marc_record(id: &str, title: &str, isbn: &str, barcode: &str) -> Vec<u8> {
    let fields: Vec<(&str, Vec<u8>)> = vec![
        ("001", id.as_bytes().to_vec()),
        ("010", subfields(&[('a', isbn)])),
        ("200", subfields(&[('a', title), ('f', "某某著")])),
        ("210", subfields(&[('c', "测试出版社"), ('d', "2012")])),
        (
            "905",
            subfields(&[('b', barcode), ('c', "B001"), ('d', "I247"), ('e', "1")]),
        ),
    ];
    let mut directory = Vec::new();
    let mut data = Vec::new();
    for (tag, mut bytes) in fields {
        bytes.push(0x1E);
        directory.extend(format!("{tag}{:04}{:05}", bytes.len(), data.len()).bytes());
        data.extend(bytes);
    }
    directory.push(0x1E);
    data.push(0x1D);
    let base = 24 + directory.len();
    let mut record = format!("{:05}nam a22{base:05}   4500", base + data.len()).into_bytes();
    record.extend(directory);
    record.extend(data);
    record
}

fn subfields(subfields: &[(char, &str)]) -> Vec<u8> {
    let mut bytes = b"  ".to_vec();
    for (code, value) in subfields {
        bytes.push(0x1F);
        bytes.extend(code.to_string().bytes());
        bytes.extend(value.bytes());
    }
    bytes
}

/// Runs the `wangjie-import` client's code on a file, as the command would.
async fn import_with_client(
    app: &TestApp,
    file: &std::path::Path,
    format: wangjie_import::Format,
    batch_size: u64,
) -> anyhow::Result<wangjie_import::Totals> {
    let options = wangjie_import::Options {
        url: app.url.clone(),
        token: ADMIN_TOKEN.into(),
        format,
        batch_size,
        keep_rejections: 10,
        progress: false,
    };
    let file = file.to_path_buf();
    tokio::task::spawn_blocking(move || wangjie_import::import_file(&file, &options)).await?
}

on_both_backends!(
    the_client_cuts_files_into_batches_and_names_positions_in_the_file,
    |app| {
        with_points(app).await?;
        let dir = tempfile::tempdir()?;
        let csv = dir.path().join("catalogue.csv");
        std::fs::write(&csv, CSV)?;
        let totals = import_with_client(app, &csv, wangjie_import::Format::Csv, 2).await?;
        // Imported, updated, unchanged, rejected, then copies.
        assert_eq!(
            totals.counts,
            [2, 0, 0, 2, 2, 0, 0],
            "{:?}",
            totals.rejections
        );
        assert_eq!(totals.records, 5);
        assert_eq!(
            totals.rejections[0]["position"]["line"], 5,
            "{:?}",
            totals.rejections
        );
        assert_eq!(totals.rejections[1]["position"]["line"], 6);

        let marc = dir.path().join("catalogue.mrc");
        let good = marc_record("CN-1", "导入测试活着", "9787506365437", "IMP-M1");
        let mut broken = marc_record("CN-2", "坏记录", "9787536692930", "IMP-M2");
        broken[0..5].copy_from_slice(b"99999");
        std::fs::write(&marc, [good.clone(), good.clone(), broken].concat())?;
        let totals = import_with_client(app, &marc, wangjie_import::Format::Marc, 1).await?;
        // The second copy of the same record is the same record: unchanged.
        assert_eq!(
            totals.counts,
            [1, 0, 1, 1, 1, 0, 1],
            "{:?}",
            totals.rejections
        );
        assert_eq!(totals.rejections[0]["position"]["record"], 3);
        assert_eq!(totals.rejections[0]["position"]["byte"], 2 * good.len());

        let xml = dir.path().join("catalogue.xml");
        std::fs::write(&xml, MARCXML)?;
        let totals = import_with_client(app, &xml, wangjie_import::Format::Marcxml, 1).await?;
        assert_eq!(
            totals.counts,
            [1, 0, 0, 1, 1, 0, 0],
            "{:?}",
            totals.rejections
        );
        let second = MARCXML.find("<record><controlfield").unwrap_or_default();
        assert_eq!(totals.rejections[0]["position"]["byte"], second);

        let found = app.get("/api/search?q=导入测试活着").await?.expect_ok()?;
        assert_eq!(
            found.json["hits"][0]["title"], "导入测试活着",
            "{}",
            found.json
        );
        Ok(())
    }
);
