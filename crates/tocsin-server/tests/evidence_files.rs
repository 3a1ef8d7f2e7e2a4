//! Evidence files end to end over real HTTP: a phone photo carrying GPS tags and a camera
//! serial is served to analysts without them (asserted on the bytes served); its original is
//! released byte for byte only to a user granted `evidence_original`, with a reason, each
//! release one custody entry; labels, sizes, kinds read from the bytes, duplicates; the public
//! form's files; the pages.

mod common;

use common::{browser_login, csrf_in, first_cookie, TestApp};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::io::Cursor;
use tocsin_app::files::EvidenceLimits;
use tocsin_domain::evidence_file::sha256_hex;
use tocsin_domain::{Actor, Permission, Role};
use tocsin_media::sample::{self, SERIAL, XMP_MARK};
use tocsin_store::{Op, StoreExt};

/// A real 16×16 JPEG from an encoder.
fn plain_jpeg() -> Vec<u8> {
    let mut pixels = Vec::new();
    for y in 0..16u8 {
        for x in 0..16u8 {
            pixels.extend_from_slice(&[x * 16, 255 - y * 16, 64]);
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(&pixels, 16, 16, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

/// The photo as a phone sends it: EXIF with GPS and the camera's serial, XMP, a comment.
fn phone_photo() -> Vec<u8> {
    sample::with_phone_metadata(&plain_jpeg())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Upload `files` (each with the name and declared type a client gave it) to a report.
async fn upload(
    app: &TestApp,
    token: &str,
    report: &str,
    files: Vec<(Vec<u8>, &str, &str)>,
) -> (StatusCode, Value) {
    let mut form = Form::new();
    for (bytes, name, ctype) in files {
        form = form.part(
            "file",
            Part::bytes(bytes)
                .file_name(name.to_string())
                .mime_str(ctype)
                .unwrap(),
        );
    }
    let resp = app
        .client
        .post(format!("{}/api/v1/reports/{report}/files", app.base))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let s = resp.status();
    (s, resp.json().await.unwrap_or(Value::Null))
}

async fn new_report(app: &TestApp, tlp: &str) -> String {
    let (s, r) = app
        .post(
            Role::Analyst,
            "/api/v1/reports",
            json!({"text": "they burnt the market", "tlp": tlp}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    r["id"].as_str().unwrap().to_string()
}

/// A second analyst, granted `evidence_original`; their token.
async fn curator(app: &TestApp) -> String {
    let token = app.add_user("curator", Role::Analyst).await;
    let u = app.store.get_user_by_name("curator").await.unwrap();
    app.store
        .write(
            &Actor::system("test"),
            Op::GrantPermission {
                user_id: u.id,
                permission: Permission::EvidenceOriginal,
                on: true,
            },
        )
        .await
        .unwrap();
    token
}

async fn get_bytes(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn release(app: &TestApp, token: &str, file: &str, body: Value) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/files/{file}/original", app.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn custody(app: &TestApp, file: &str) -> Vec<Value> {
    let (s, v) = app
        .get(Role::Analyst, &format!("/api/v1/files/{file}"))
        .await;
    assert_eq!(s, 200, "{v}");
    v["custody"].as_array().unwrap().clone()
}

fn count(entries: &[Value], action: &str) -> usize {
    entries.iter().filter(|e| e["action"] == action).count()
}

/// Every byte the store's files hold (the database, its WAL): what someone who took the disk
/// would read.
fn disk_bytes(app: &TestApp) -> Vec<u8> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(app._dir.path()).unwrap() {
        all.extend(std::fs::read(e.unwrap().path()).unwrap_or_default());
    }
    all
}

#[tokio::test]
async fn a_phone_photo_is_served_without_gps_or_serial_and_its_original_only_on_release() {
    let app = TestApp::start().await;
    let report = new_report(&app, "TLP:AMBER").await;
    let photo = phone_photo();
    // The photo really carries GPS tags and the serial.
    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(&photo))
        .unwrap();
    assert!(exif
        .get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY)
        .is_some());

    let (s, v) = upload(
        &app,
        &app.tokens[&Role::Analyst],
        &report,
        vec![(
            photo.clone(),
            "IMG_20261205_143012.jpg",
            "application/octet-stream",
        )],
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let f = &v["items"][0];
    assert_eq!(f["kind"], "jpeg");
    assert_eq!(f["sha256"], sha256_hex(&photo));
    assert_eq!(f["size"], photo.len());
    let id = f["id"].as_str().unwrap().to_string();
    // The id is random (v4): it says nothing of when the photo came.
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);

    // The working copy as served: right headers, no EXIF, no GPS, no serial, same pixels.
    let resp = get_bytes(
        &app,
        &app.tokens[&Role::Analyst],
        &format!("/api/v1/files/{id}/working"),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["content-type"], "image/jpeg");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["cache-control"].to_str().unwrap().contains("no-store"));
    assert!(h["cache-control"].to_str().unwrap().contains("private"));
    assert!(h["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline"));
    assert!(!h["content-disposition"].to_str().unwrap().contains("IMG_"));
    let served = resp.bytes().await.unwrap().to_vec();
    assert!(exif::Reader::new()
        .read_from_container(&mut Cursor::new(&served))
        .is_err());
    for needle in [
        SERIAL.as_bytes(),
        b"Exif\0\0",
        b"MM\x00\x2a",
        XMP_MARK.as_bytes(),
        b"TocsinPhone",
    ] {
        assert!(
            !contains(&served, needle),
            "{:?} served",
            String::from_utf8_lossy(needle)
        );
    }
    let decode = |b: &[u8]| {
        jpeg_decoder::Decoder::new(Cursor::new(b.to_vec()))
            .decode()
            .unwrap()
    };
    assert_eq!(decode(&served), decode(&plain_jpeg()));

    // The name the phone gave it is stored nowhere, and the original's serial is only sealed.
    let disk = disk_bytes(&app);
    assert!(!contains(&disk, b"IMG_20261205"));
    assert!(!contains(&disk, SERIAL.as_bytes()));

    // The original: not without the grant (403, nothing recorded), not without a reason (422).
    let before = custody(&app, &id).await;
    assert_eq!(count(&before, "evidence.upload"), 1);
    assert_eq!(before[0]["detail"]["working_sha256"], sha256_hex(&served));
    for role in [Role::Analyst, Role::Admin, Role::MonitorCoordinator] {
        let r = release(&app, &app.tokens[&role], &id, json!({"reason": "court"})).await;
        assert_eq!(r.status(), 403, "{role:?}");
    }
    let curator = curator(&app).await;
    for reason in ["", "   "] {
        let r = release(&app, &curator, &id, json!({"reason": reason})).await;
        assert_eq!(r.status(), 422);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["field"], "reason");
    }
    let r = release(&app, &curator, &id, json!({})).await;
    assert!(r.status().is_client_error());
    assert_eq!(custody(&app, &id).await.len(), before.len());

    // Released: byte for byte the upload, as a download; one custody entry per release.
    for n in 1..=2 {
        let r = release(
            &app,
            &curator,
            &id,
            json!({"reason": "ICC request 2026/17"}),
        )
        .await;
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"));
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(r.bytes().await.unwrap().to_vec(), photo);
        let log = custody(&app, &id).await;
        assert_eq!(count(&log, "evidence.original.release"), n);
        let last = log.last().unwrap();
        assert_eq!(last["actor"], "curator");
        assert_eq!(last["detail"]["reason"], "ICC request 2026/17");
        assert_eq!(last["detail"]["sha256"], sha256_hex(&photo));
    }
    assert!(app.store.verify_audit().await.unwrap().is_ok());
}

#[tokio::test]
async fn labels_sizes_kinds_and_duplicates() {
    let app = TestApp::start_with(|s| {
        s.with_evidence_limits(EvidenceLimits {
            max_file_bytes: 64 * 1024,
            max_report_bytes: 128 * 1024,
            max_files: 3,
        })
    })
    .await;
    let analyst = app.tokens[&Role::Analyst].clone();
    let photo = phone_photo();

    // A TLP:RED report's file does not exist for a desk officer (cleared to AMBER).
    let red = new_report(&app, "TLP:RED").await;
    let (s, v) = upload(
        &app,
        &analyst,
        &red,
        vec![(photo.clone(), "a.jpg", "image/jpeg")],
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let red_file = v["items"][0]["id"].as_str().unwrap().to_string();
    for path in [
        format!("/api/v1/files/{red_file}"),
        format!("/api/v1/files/{red_file}/working"),
        format!("/api/v1/reports/{red}/files"),
    ] {
        let (s, _) = app.get(Role::DeskOfficer, &path).await;
        assert_eq!(s, 404, "{path}");
    }
    let (s, _) = upload(
        &app,
        &app.tokens[&Role::MonitorCoordinator],
        &red,
        vec![(plain_jpeg(), "b.jpg", "image/jpeg")],
    )
    .await;
    assert_eq!(s, 404);
    let curator = curator(&app).await;
    let r = release(&app, &curator, &red_file, json!({"reason": "x"})).await;
    assert_eq!(r.status(), 200, "the curator is cleared to RED");
    // Who may attach: those who may submit reports.
    let report = new_report(&app, "TLP:GREEN").await;
    for (role, want) in [
        (Role::DeskOfficer, 403),
        (Role::Viewer, 403),
        (Role::Admin, 403),
        (Role::MonitorCoordinator, 201),
    ] {
        let (s, v) = upload(
            &app,
            &app.tokens[&role],
            &report,
            vec![(plain_jpeg(), "p.jpg", "image/jpeg")],
        )
        .await;
        assert_eq!(s.as_u16(), want, "{role:?}: {v}");
    }

    // Too large: the limit is named.
    let big = [plain_jpeg(), vec![0u8; 70 * 1024]].concat();
    let (s, v) = upload(
        &app,
        &analyst,
        &report,
        vec![(big, "big.jpg", "image/jpeg")],
    )
    .await;
    assert_eq!(s, 413, "{v}");
    assert_eq!(v["field"], "max_file_bytes");
    assert!(v["error"].as_str().unwrap().contains("64 KiB"), "{v}");
    let huge = vec![0xFFu8; 2 * 1024 * 1024];
    let (s, v) = upload(
        &app,
        &analyst,
        &report,
        vec![(huge, "huge.jpg", "image/jpeg")],
    )
    .await;
    assert_eq!(s, 413, "{v}");
    assert_eq!(v["field"], "max_report_bytes");
    let (s, v) = upload(
        &app,
        &analyst,
        &report,
        vec![
            (sample::pdf_with_metadata(), "1.pdf", "application/pdf"),
            (sample::plain_png(), "2.png", "image/png"),
            (
                sample::png_with_metadata(&sample::plain_png()),
                "3.png",
                "image/png",
            ),
        ],
    )
    .await;
    assert_eq!(s, 413, "one file held already, three more: {v}");
    assert_eq!(v["field"], "max_files");

    // Kinds come from the bytes: a GIF named .jpg is refused, a PDF named .jpg is a PDF.
    let (s, v) = upload(
        &app,
        &analyst,
        &report,
        vec![(b"GIF89a\x01\x00\x01\x00".to_vec(), "x.jpg", "image/jpeg")],
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["field"], "file");
    let (s, v) = upload(
        &app,
        &analyst,
        &report,
        vec![(
            b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic".to_vec(),
            "IMG_1.HEIC",
            "image/heic",
        )],
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert!(v["error"].as_str().unwrap().contains("HEIC"), "{v}");
    let (s, v) = upload(
        &app,
        &analyst,
        &report,
        vec![(
            b"\xFF\xD8\xFF\xE0 not really".to_vec(),
            "y.jpg",
            "image/jpeg",
        )],
    )
    .await;
    assert_eq!(s, 422, "{v}");
    let pdf = sample::pdf_with_metadata();
    let (s, v) = upload(
        &app,
        &analyst,
        &report,
        vec![(pdf.clone(), "scan.jpg", "image/jpeg")],
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["items"][0]["kind"], "pdf");
    let pdf_id = v["items"][0]["id"].as_str().unwrap().to_string();
    let resp = get_bytes(&app, &analyst, &format!("/api/v1/files/{pdf_id}/working")).await;
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    assert!(resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let served = resp.bytes().await.unwrap();
    assert!(!contains(&served, SERIAL.as_bytes()));
    assert!(!contains(&served, XMP_MARK.as_bytes()));
    // A body that is not multipart.
    let (s, _) = app
        .post(
            Role::Analyst,
            &format!("/api/v1/reports/{report}/files"),
            json!({"file": "x"}),
        )
        .await;
    assert_eq!(s, 415);

    // The same photo twice in one upload, then again: one file, its bytes stored once, even
    // when it is attached to another report too (which gets its own record).
    let blobs = app.store.blob_count().await.unwrap();
    let dup = new_report(&app, "TLP:GREEN").await;
    let (s, v) = upload(
        &app,
        &analyst,
        &dup,
        vec![
            (photo.clone(), "a.jpg", "image/jpeg"),
            (photo.clone(), "b.jpg", "image/jpeg"),
        ],
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["items"][0]["id"], v["items"][1]["id"]);
    let (s, again) = upload(
        &app,
        &analyst,
        &dup,
        vec![(photo.clone(), "c.jpg", "image/jpeg")],
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(again["items"][0]["id"], v["items"][0]["id"]);
    let (_, list) = app
        .get(Role::Analyst, &format!("/api/v1/reports/{dup}/files"))
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.store.blob_count().await.unwrap(),
        blobs,
        "the photo was stored before, on the RED report"
    );
    assert_eq!(
        count(
            &custody(&app, v["items"][0]["id"].as_str().unwrap()).await,
            "evidence.upload"
        ),
        1
    );
}

/// The public form, as a browser sends it: text, place and a photo, multipart.
async fn form_post(app: &TestApp, photo: Vec<u8>, name: &str) -> (StatusCode, String) {
    let resp = app
        .client
        .get(format!("{}/report", app.base))
        .send()
        .await
        .unwrap();
    let cookie = first_cookie(&resp);
    let html = resp.text().await.unwrap();
    assert!(html.contains("enctype=\"multipart/form-data\""));
    assert!(html.contains("type=\"file\""));
    assert!(
        html.contains("we remove what could say where"),
        "the form says metadata is removed"
    );
    let form = Form::new()
        .text("csrf", csrf_in(&html))
        .text("text", "Soldiers burnt the market at dawn")
        .text("place", "Bria")
        .part(
            "file",
            Part::bytes(photo)
                .file_name(name.to_string())
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let resp = app
        .client
        .post(format!("{}/report", app.base))
        .header("cookie", cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.text().await.unwrap())
}

#[tokio::test]
async fn the_public_form_takes_photos_as_protected_as_its_report() {
    let app = TestApp::start().await;
    let photo = phone_photo();
    let (s, html) = form_post(&app, photo.clone(), "IMG_20261205_143012.jpg").await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("Your reference is"));
    let (_, reports) = app.get(Role::Analyst, "/api/v1/reports?channel=web").await;
    let r = &reports["items"][0];
    assert_eq!(r["tlp"], "TLP:AMBER+STRICT");
    let rid = r["id"].as_str().unwrap();
    let (s, files) = app
        .get(Role::Analyst, &format!("/api/v1/reports/{rid}/files"))
        .await;
    assert_eq!(s, 200);
    let fid = files["items"][0]["id"].as_str().unwrap().to_string();
    // As protected as the report: a desk officer (AMBER) finds neither.
    let (s, _) = app
        .get(Role::DeskOfficer, &format!("/api/v1/files/{fid}"))
        .await;
    assert_eq!(s, 404);
    let served = get_bytes(
        &app,
        &app.tokens[&Role::Analyst],
        &format!("/api/v1/files/{fid}/working"),
    )
    .await
    .bytes()
    .await
    .unwrap();
    assert!(!contains(&served, SERIAL.as_bytes()));
    assert!(exif::Reader::new()
        .read_from_container(&mut Cursor::new(served.to_vec()))
        .is_err());
    let log = custody(&app, &fid).await;
    assert_eq!(log[0]["action"], "evidence.upload");
    assert_eq!(log[0]["actor"], "system:web-form");
    // Reading a restricted file's working copy is itself in its custody log.
    assert_eq!(count(&log, "record.read"), 1);
    assert!(!contains(&disk_bytes(&app), b"IMG_20261205"));

    // A HEIC photo: refused with a sentence, and no report is stored.
    let (s, html) = form_post(
        &app,
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic".to_vec(),
        "IMG_2.HEIC",
    )
    .await;
    assert_eq!(s, 422);
    assert!(html.contains("HEIC"), "{html}");
    let (_, reports) = app.get(Role::Analyst, "/api/v1/reports?channel=web").await;
    assert_eq!(reports["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_pages_list_files_show_custody_and_release_only_with_the_grant() {
    let app = TestApp::start().await;
    let curator_token = curator(&app).await;
    let report = new_report(&app, "TLP:AMBER").await;
    let photo = phone_photo();

    // An analyst attaches a photo through the page.
    let (cookie, csrf) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let page = app
        .client
        .get(format!("{}/reports", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(page
        .text()
        .await
        .unwrap()
        .contains(&format!("/reports/{report}/files")));
    let form = Form::new().text("csrf", csrf.clone()).part(
        "file",
        Part::bytes(photo.clone())
            .file_name("IMG_1.jpg")
            .mime_str("image/jpeg")
            .unwrap(),
    );
    let resp = app
        .client
        .post(format!("{}/reports/{report}/files", app.base))
        .header("cookie", &cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    // Without the session's token: refused.
    let form = Form::new()
        .text("csrf", "forged")
        .part("file", Part::bytes(plain_jpeg()));
    let resp = app
        .client
        .post(format!("{}/reports/{report}/files", app.base))
        .header("cookie", &cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);

    let html = app
        .client
        .get(format!("{}/reports/{report}/files", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sha = sha256_hex(&photo);
    assert!(html.contains(&sha), "the page shows the SHA-256");
    let fid = html
        .split("href=\"/files/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert!(html.contains(&format!(
        "<img class=\"thumb\" src=\"/files/{fid}/working\""
    )));
    // The thumbnail's bytes are the working copy's.
    let img = app
        .client
        .get(format!("{}/files/{fid}/working", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(img.headers()["content-type"], "image/jpeg");
    assert!(!contains(&img.bytes().await.unwrap(), SERIAL.as_bytes()));

    // The file page: the custody log; no release form for an analyst without the grant, and
    // posting it anyway is refused.
    let html = app
        .client
        .get(format!("{}/files/{fid}", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Custody log") && html.contains("evidence.upload"));
    assert!(html.contains("APP1 EXIF"));
    assert!(!html.contains("Release the original"));
    let resp = app
        .client
        .post(format!("{}/files/{fid}/original", app.base))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("reason", "curious")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);

    // The curator sees the form; no reason: 422; a reason: the original, then in the log.
    let _ = curator_token;
    let (cookie, csrf) = browser_login(&app, "curator", "password-123")
        .await
        .unwrap();
    let html = app
        .client
        .get(format!("{}/files/{fid}", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Release the original"));
    let post = |reason: &'static str| {
        app.client
            .post(format!("{}/files/{fid}/original", app.base))
            .header("cookie", &cookie)
            .form(&[("csrf", csrf.as_str()), ("reason", reason)])
            .send()
    };
    assert_eq!(post("").await.unwrap().status(), 422);
    let resp = post("Prosecutor's request").await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().to_vec(), photo);
    let html = app
        .client
        .get(format!("{}/files/{fid}", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("evidence.original.release") && html.contains("Prosecutor"));
    let _ = Method::GET;
}

#[tokio::test]
async fn a_pdf_is_served_without_embedded_files_scripts_author_xmp_gps_or_photo_exif() {
    let app = TestApp::start().await;
    let analyst = app.tokens[&Role::Analyst].clone();
    let report = new_report(&app, "TLP:GREEN").await;
    let pdf = sample::pdf_with_everything(&phone_photo());
    let (s, v) = upload(
        &app,
        &analyst,
        &report,
        vec![(pdf.clone(), "scan.pdf", "application/pdf")],
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let file = &v["items"][0];
    assert_eq!(file["kind"], "pdf");
    assert!(file.get("not_cleaned").is_none(), "{file}");
    let id = file["id"].as_str().unwrap();
    let served = get_bytes(&app, &analyst, &format!("/api/v1/files/{id}/working"))
        .await
        .bytes()
        .await
        .unwrap();
    for mark in [
        SERIAL.as_bytes(),
        XMP_MARK.as_bytes(),
        b"GPSLongitude",
        sample::EMBEDDED_MARK.as_bytes(),
        sample::SCRIPT_MARK.as_bytes(),
        b"/JavaScript",
        b"/EmbeddedFile",
        b"/FileAttachment",
        b"/OpenAction",
        b"Exif\0",
        b"TocsinPhone",
    ] {
        assert!(contains(&pdf, mark) || mark.starts_with(b"/"));
        assert!(
            !contains(&served, mark),
            "{} was served",
            String::from_utf8_lossy(mark)
        );
    }
    // The page's text is still there, in the bytes and as text.
    assert!(contains(&served, sample::PDF_TEXT.as_bytes()));
    // It still reads as a PDF, with nothing left that a second cleaning would remove.
    let again = tocsin_media::working_copy(&served).unwrap();
    assert!(again.removed.is_empty(), "{:?}", again.removed);
    // What it lost is on the record and in its custody log.
    let removed: Vec<&str> = file["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    for r in [
        "PDF Info dictionary",
        "PDF XMP metadata",
        "PDF embedded files",
        "PDF JavaScript",
        "PDF image APP1 EXIF",
    ] {
        assert!(removed.contains(&r), "{removed:?}");
    }
    let upload_entry = custody(&app, id)
        .await
        .into_iter()
        .find(|e| e["action"] == "evidence.upload")
        .unwrap();
    assert_eq!(upload_entry["detail"]["removed"], file["removed"]);
}

#[tokio::test]
async fn a_pdf_that_cannot_be_cleaned_keeps_only_its_sealed_original() {
    let app = TestApp::start().await;
    let analyst = app.tokens[&Role::Analyst].clone();
    let curator_token = curator(&app).await;
    let report = new_report(&app, "TLP:GREEN").await;
    // Reads as a PDF by its first bytes, but does not parse; the author's name is inside.
    let broken = format!("%PDF-1.7\n1 0 obj << /Author ({SERIAL}) /Type /Catalog").into_bytes();
    let (s, v) = upload(
        &app,
        &analyst,
        &report,
        vec![(broken.clone(), "scan.pdf", "application/pdf")],
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let file = &v["items"][0];
    assert_eq!(file["kind"], "pdf");
    assert!(file["not_cleaned"].as_str().unwrap().contains("PDF"));
    let id = file["id"].as_str().unwrap();
    // No working copy is served, in the API or the pages.
    let resp = get_bytes(&app, &analyst, &format!("/api/v1/files/{id}/working")).await;
    assert_eq!(resp.status(), 409);
    let body = resp.text().await.unwrap();
    assert!(body.contains("could not be cleaned"), "{body}");
    assert!(!body.contains(SERIAL));
    let (cookie, _) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let page = |path: String| {
        let (app, cookie) = (&app, cookie.clone());
        async move {
            let r = app
                .client
                .get(format!("{}{path}", app.base))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            (r.status(), r.bytes().await.unwrap())
        }
    };
    let (s, html) = page(format!("/files/{id}")).await;
    assert_eq!(s, 200);
    let html = String::from_utf8(html.to_vec()).unwrap();
    assert!(html.contains("could not be cleaned"), "{html}");
    assert!(!html.contains(&format!("/files/{id}/working")));
    let (s, html) = page(format!("/reports/{report}/files")).await;
    assert_eq!(s, 200);
    assert!(String::from_utf8_lossy(&html).contains("could not be cleaned"));
    let (s, bytes) = page(format!("/files/{id}/working")).await;
    assert_ne!(s, 200);
    assert!(!contains(&bytes, SERIAL.as_bytes()));
    // Its original is kept sealed and released as any other, with a reason.
    let resp = release(
        &app,
        &curator_token,
        id,
        json!({"reason": "court request 12"}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().to_vec(), broken);
    assert_eq!(
        count(&custody(&app, id).await, "evidence.original.release"),
        1
    );
    assert!(
        !contains(&disk_bytes(&app), SERIAL.as_bytes()),
        "the original is sealed at rest"
    );
}
