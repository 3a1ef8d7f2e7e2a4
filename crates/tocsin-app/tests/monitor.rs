//! Archives of public posts through the import use case, on a real store (SQLite, and
//! PostgreSQL when configured), from files shaped like real exports: Telegram Desktop's
//! `result.json` (texts as strings and as arrays of entities, service messages), JSONL with
//! junk lines, a spreadsheet's CSV (BOM, `;`, quoted newlines), and the same gzip-compressed.
//! Each post is stored once per archive name (re-importing stores nothing new), scanned with
//! the enabled lexicons and flagged in the same write; malformed posts are counted with their
//! places; readers below an item's label see neither it nor its flags.

use flate2::write::GzEncoder;
use std::io::Write;
use tocsin_app::monitor::{ArchiveFormat, ImportOptions, ItemQuery};
use tocsin_app::speech::LexiconImport;
use tocsin_app::{Acting, App, AppError};
use tocsin_domain::{Actor, NewUser, PageRequest, Role, Tlp, User};
use tocsin_framework::Frameworks;
use tocsin_store::{DynStore, StoreExt};
use tocsin_store_tests::Db;

const LEXICON: &str = include_str!("../../tocsin-speech/data/lexicon-illustrative.csv");
const SAMPLE: &str = include_str!("../../tocsin-speech/data/sample-labelled.csv");

async fn user(store: &DynStore, name: &str, role: Role, clearance: Option<Tlp>) -> User {
    let mut u = NewUser::build(name, role, None).unwrap();
    if let Some(c) = clearance {
        u.clearance = c;
    }
    store.create_user(&Actor::system("test"), u).await.unwrap()
}

const TELEGRAM: &str = r#"{
 "name": "Radio Voice",
 "type": "public_channel",
 "id": 1234567890,
 "messages": [
  {"id": 1, "type": "service", "date": "2024-05-01T09:00:00", "date_unixtime": "1714554000",
   "actor": "Radio Voice", "actor_id": "channel1234567890", "action": "create_channel",
   "title": "Radio Voice", "text": "", "text_entities": []},
  {"id": 2, "type": "message", "date": "2024-05-01T09:05:00", "date_unixtime": "1714554300",
   "from": "Radio Voice", "from_id": "channel1234567890",
   "text": "Market prices today: maize up again.",
   "text_entities": [{"type": "plain", "text": "Market prices today: maize up again."}]},
  {"id": 3, "type": "message", "date": "2024-05-01T10:00:00", "date_unixtime": "1714557600",
   "from": "Radio Voice", "from_id": "channel1234567890",
   "text": ["They are ", {"type": "bold", "text": "cockroaches"}, " and must go. ",
            {"type": "link", "text": "https://example.org"}],
   "text_entities": []},
  {"id": 4, "type": "message", "date": "2024-05-01T10:30:00", "date_unixtime": "1714559400",
   "from": "Radio Voice", "photo": "(File not included.)", "text": "", "text_entities": []},
  {"id": 5, "type": "message", "date": "2024-05-01T11:00:00", "text": {"unexpected": true}},
  {"id": 6, "type": "message", "date": "2024-05-01T11:30:00", "date_unixtime": "1714563000",
   "from": null, "text": "Vermin, all of them.", "text_entities": []}
 ]
}"#;

const JSONL: &str = "{\"id\": \"p1\", \"text\": \"They are vermin\", \"created_at\": \"2024-05-02T08:00:00Z\", \"author\": {\"username\": \"speaker1\"}, \"url\": \"https://social.example/p1\"}\n\
not json at all\n\
\n\
[1, 2, 3]\n\
{\"id\": 2, \"message\": \"A calm day in town\", \"date\": 1714636800, \"username\": \"speaker2\"}\n\
{\"id\": \"p3\", \"likes\": 4}\n\
{\"content\": \"<p>No id here, <b>cockroaches</b></p>\", \"author\": \"speaker3\"}\n";

const CSV: &str = "\u{feff}id;date;author;text;url\r\n\
10;2024-05-03 12:00;speaker4;\"Two lines,\r\nthen cockroaches\";https://social.example/10\r\n\
11;2024-05-03 12:05;speaker4;Nothing to see\r\n\
12;2024-05-03 12:10;speaker5;Rain again;https://social.example/12\r\n";

fn gz(s: &str) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(s.as_bytes()).unwrap();
    e.finish().unwrap()
}

fn opts(name: &str, format: ArchiveFormat) -> ImportOptions {
    ImportOptions {
        name: name.into(),
        format,
        country: Some("CAF".into()),
        tlp: None,
    }
}

async fn archives_are_imported_once_scanned_and_flagged(store: &DynStore) {
    let frameworks = Frameworks::shipped();
    let app = App::new(store, &frameworks);
    let ana = user(store, "ana", Role::Analyst, None).await;
    let viewer = user(store, "vic", Role::Viewer, None).await;
    app.import_lexicon(
        Acting::User(&ana),
        LexiconImport {
            name: "illustrative".into(),
            ..Default::default()
        },
        LEXICON.as_bytes(),
    )
    .await
    .unwrap();
    app.evaluate_lexicon(
        Acting::User(&ana),
        "illustrative",
        "sample",
        SAMPLE.as_bytes(),
    )
    .await
    .unwrap();
    app.set_lexicon_enabled(Acting::User(&ana), "illustrative", true)
        .await
        .unwrap();

    // Telegram: the service message and the photo without caption skipped, the message with
    // an unreadable text malformed, texts as arrays joined.
    let s = app
        .import_archive(
            Acting::User(&ana),
            std::io::Cursor::new(TELEGRAM.as_bytes().to_vec()),
            opts("radio-voice", ArchiveFormat::Telegram),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            s.read,
            s.stored,
            s.duplicates,
            s.malformed,
            s.skipped,
            s.flagged
        ),
        (4, 3, 0, 1, 2, 2),
        "{s:?}"
    );
    assert_eq!(s.problems, ["message 5 (id 5): unreadable text"]);
    // Again, gzip-compressed: nothing new.
    let again = app
        .import_archive(
            Acting::User(&ana),
            std::io::Cursor::new(gz(TELEGRAM)),
            opts("radio-voice", ArchiveFormat::Telegram),
        )
        .await
        .unwrap();
    assert_eq!((again.read, again.stored, again.duplicates), (4, 0, 3));

    // JSONL: junk lines counted with their numbers.
    let j = app
        .import_archive(
            Acting::User(&ana),
            std::io::Cursor::new(JSONL.as_bytes().to_vec()),
            opts("social-dump", ArchiveFormat::Jsonl),
        )
        .await
        .unwrap();
    assert_eq!(
        (j.read, j.stored, j.malformed, j.skipped, j.flagged),
        (6, 3, 3, 1, 2),
        "{j:?}"
    );
    assert!(
        j.problems[0].starts_with("line 2: not JSON"),
        "{:?}",
        j.problems
    );
    assert_eq!(j.problems[1], "line 4: not a JSON object");
    assert!(
        j.problems[2].starts_with("line 6: no text"),
        "{:?}",
        j.problems
    );

    // CSV from a spreadsheet, gzip-compressed: BOM, `;`, a quoted newline, a short row.
    let c = app
        .import_archive(
            Acting::User(&ana),
            std::io::Cursor::new(gz(CSV)),
            opts("sheet", ArchiveFormat::Csv),
        )
        .await
        .unwrap();
    assert_eq!(
        (c.read, c.stored, c.malformed, c.flagged),
        (3, 2, 1, 1),
        "{c:?}"
    );
    assert_eq!(c.problems, ["line 4: wrong number of fields"]);

    // What was stored: the items, their texts and flags pointing at the words.
    let page = app
        .list_items(
            &ana,
            ItemQuery {
                origin: Some("radio-voice".into()),
                flagged: Some("yes".into()),
            },
            PageRequest::first(50),
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    let arr = page
        .items
        .iter()
        .find(|i| i.text.starts_with("They are"))
        .unwrap();
    assert_eq!(
        arr.text,
        "They are cockroaches and must go. https://example.org"
    );
    assert_eq!(arr.author.as_deref(), Some("Radio Voice"));
    assert_eq!(arr.published_at.unwrap().timestamp(), 1714557600);
    assert_eq!(arr.tlp, Tlp::Green);
    assert_eq!(arr.country.as_ref().unwrap().code(), "CAF");
    let (item, flags) = app.get_item(&ana, arr.id).await.unwrap();
    assert_eq!(item, *arr);
    assert_eq!(flags.len(), 1);
    let t = &flags[0].terms[0];
    assert_eq!(&item.text[t.start..t.end], "cockroaches");
    assert_eq!(flags[0].item_id, Some(item.id));
    assert_eq!(flags[0].report_id, None);
    // The flag is in the flags list with the item's id.
    let all_flags = app
        .list_flags(&ana, Default::default(), PageRequest::first(50))
        .await
        .unwrap();
    assert_eq!(all_flags.items.len(), 5);
    assert!(all_flags.items.iter().all(|f| f.item_id.is_some()));
    let html = app
        .list_items(
            &ana,
            ItemQuery {
                origin: Some("social-dump".into()),
                flagged: None,
            },
            PageRequest::first(50),
        )
        .await
        .unwrap();
    assert!(html
        .items
        .iter()
        .any(|i| i.text == "No id here, cockroaches"));

    // Viewers may not import; an unknown format names its field.
    let e = app
        .import_archive(
            Acting::User(&viewer),
            std::io::Cursor::new(Vec::new()),
            opts("x", ArchiveFormat::Jsonl),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Forbidden { .. }), "{e:?}");
    assert!(ArchiveFormat::parse("xml")
        .unwrap_err()
        .to_string()
        .contains("format"));
    // Not a Telegram export at all.
    let e = app
        .import_archive(
            Acting::User(&ana),
            std::io::Cursor::new(b"[1,2]".to_vec()),
            opts("x", ArchiveFormat::Telegram),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not a Telegram export"), "{e}");

    // An archive labelled TLP:AMBER: a reader cleared for GREEN sees neither it nor its flag.
    let mut amber = opts("amber-dump", ArchiveFormat::Jsonl);
    amber.tlp = Some("TLP:AMBER".into());
    app.import_archive(
        Acting::User(&ana),
        std::io::Cursor::new(b"{\"id\": 1, \"text\": \"vermin\"}\n".to_vec()),
        amber,
    )
    .await
    .unwrap();
    let green = user(store, "gil", Role::Analyst, Some(Tlp::Green)).await;
    let seen = app
        .list_items(
            &green,
            ItemQuery {
                origin: Some("amber-dump".into()),
                flagged: None,
            },
            PageRequest::first(50),
        )
        .await
        .unwrap();
    assert!(seen.items.is_empty());
    let all = app
        .list_items(
            &ana,
            ItemQuery {
                origin: Some("amber-dump".into()),
                flagged: None,
            },
            PageRequest::first(50),
        )
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1);
    assert!(app.get_item(&green, all.items[0].id).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archives_on_sqlite() {
    let db = Db::sqlite().await;
    archives_are_imported_once_scanned_and_flagged(&db.store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archives_on_postgres() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    archives_are_imported_once_scanned_and_flagged(&db.store).await;
}
