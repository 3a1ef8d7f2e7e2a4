//! Monitored items on every backend: an item is stored once per origin and key (a repeat, in
//! the same write or a later one, is skipped with its flags); an item and its flags land
//! together or not at all; a feed's poll state is kept in the same write with its item count;
//! lists filter by origin, flag and clearance and page newest first.

use tocsin_domain::{
    time, Actor, AuditEvent, FeedState, FlagState, FlagTerm, ItemKind, MonitoredItem, PageRequest,
    SpeechFlag, Tlp,
};
use tocsin_store::{
    Done, ItemFilter, ItemWrite, LexiconRecord, Op, SpeechStep, Step, Store, StoreError,
};
use tocsin_store_tests::{story, Db};

story!(
    items_are_stored_once_with_their_flags,
    a_failing_flag_stores_nothing,
    feed_state_and_lists
);

fn sys() -> Actor {
    Actor::system("monitor-test")
}

async fn lexicon(s: &dyn Store) {
    let l = LexiconRecord {
        name: "words".into(),
        version: 1,
        terms: 1,
        languages: vec!["en".into()],
        provenance: None,
        licence: None,
        file_name: None,
        imported_by: "ana".into(),
        imported_at: time::now(),
        enabled: false,
        enabled_by: None,
        enabled_at: None,
    };
    s.write(
        &sys(),
        Op::All {
            steps: vec![Step::Speech(SpeechStep::PutLexicon {
                lexicon: Box::new(l),
                source: "term,language,country,category,severity\nvermin,en,,dehumanisation,2\n"
                    .into(),
            })],
            audit: Box::new(AuditEvent::new(&sys(), "lexicon.test", "lexicon", None)),
        },
    )
    .await
    .unwrap();
}

fn item(origin: &str, key: &str, text: &str, tlp: Tlp) -> MonitoredItem {
    MonitoredItem {
        id: tocsin_domain::random_id(),
        origin: origin.into(),
        kind: ItemKind::Feed,
        key: tocsin_domain::monitor::item_key(key),
        url: Some(format!("https://news.example/{key}")),
        title: Some("A title".into()),
        author: Some("A speaker".into()),
        text: text.into(),
        language: Some("en".into()),
        country: Some(tocsin_domain::Country::parse("CAF").unwrap()),
        published_at: Some(time::now()),
        fetched_at: time::now(),
        tlp,
    }
}

fn flag(i: &MonitoredItem, lexicon: &str) -> SpeechFlag {
    SpeechFlag {
        id: tocsin_domain::random_id(),
        report_id: None,
        item_id: Some(i.id),
        tlp: i.tlp,
        lexicon: lexicon.into(),
        lexicon_version: 1,
        terms: vec![FlagTerm {
            term: "vermin".into(),
            language: "en".into(),
            category: "dehumanisation".into(),
            severity: 2,
            start: 0,
            end: 6,
            char_start: 0,
            char_end: 6,
        }],
        created_at: time::now(),
        state: FlagState::Open,
        review: None,
        version: 1,
    }
}

fn with_flag(i: MonitoredItem) -> ItemWrite {
    let f = flag(&i, "words");
    ItemWrite {
        item: i,
        flags: vec![f],
    }
}

fn plain(i: MonitoredItem) -> ItemWrite {
    ItemWrite {
        item: i,
        flags: vec![],
    }
}

async fn store(
    s: &dyn Store,
    items: Vec<ItemWrite>,
    feed: Option<FeedState>,
) -> tocsin_store::Result<(u64, u64)> {
    match s
        .write(
            &sys(),
            Op::StoreItems {
                items,
                feed: feed.map(Box::new),
            },
        )
        .await?
    {
        Done::Items { stored, flagged } => Ok((stored, flagged)),
        d => panic!("unexpected {d:?}"),
    }
}

fn all() -> ItemFilter {
    ItemFilter {
        max_tlp: Tlp::Red,
        origin: None,
        flagged: None,
    }
}

async fn items_are_stored_once_with_their_flags(s: &dyn Store, _db: &Db) {
    lexicon(s).await;
    let a = item("radio", "guid-1", "vermin everywhere", Tlp::Green);
    let b = item("radio", "guid-2", "market day", Tlp::Green);
    // The same GUID twice in one write: the first stands.
    let a_again = item("radio", "guid-1", "vermin everywhere (edited)", Tlp::Green);
    let (stored, flagged) = store(
        s,
        vec![
            with_flag(a.clone()),
            plain(b.clone()),
            with_flag(a_again.clone()),
        ],
        None,
    )
    .await
    .unwrap();
    assert_eq!((stored, flagged), (2, 1));
    // A later edit of the same entry: nothing stored, its flag neither.
    let edit = item("radio", "guid-1", "vermin, edited again", Tlp::Green);
    assert_eq!(
        store(s, vec![with_flag(edit.clone())], None).await.unwrap(),
        (0, 0)
    );
    assert!(matches!(
        s.get_item(edit.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.get_item(a.id).await.unwrap(), a);
    // The same key under another origin is another item.
    let other = item("tv", "guid-1", "vermin", Tlp::Green);
    assert_eq!(
        store(s, vec![with_flag(other.clone())], None)
            .await
            .unwrap(),
        (1, 1)
    );
    let flags = s.flags_of_items(&[a.id, b.id, other.id]).await.unwrap();
    assert_eq!(flags.len(), 2);
    assert!(flags.iter().all(|f| f.report_id.is_none()));
    let mut on: Vec<_> = flags.iter().filter_map(|f| f.item_id).collect();
    on.sort();
    let mut want = vec![a.id, other.id];
    want.sort();
    assert_eq!(on, want);
    // The flag is a speech flag like any: the flags list shows it.
    let listed = s
        .list_flags(
            &tocsin_store::FlagFilter::up_to(Tlp::Red),
            PageRequest::first(50),
        )
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 2);
    assert_eq!(
        s.item_origins().await.unwrap(),
        [("radio".to_string(), 2), ("tv".to_string(), 1)]
    );
}

async fn a_failing_flag_stores_nothing(s: &dyn Store, _db: &Db) {
    // No lexicon "missing": the flag's step fails, and the item goes with it.
    let i = item("radio", "guid-9", "vermin", Tlp::Green);
    let f = flag(&i, "missing");
    let e = store(
        s,
        vec![ItemWrite {
            item: i.clone(),
            flags: vec![f],
        }],
        None,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, StoreError::NotFound), "{e:?}");
    assert!(matches!(s.get_item(i.id).await, Err(StoreError::NotFound)));
    // Stored later, it is new.
    assert_eq!(store(s, vec![plain(i)], None).await.unwrap(), (1, 0));
}

async fn feed_state_and_lists(s: &dyn Store, _db: &Db) {
    lexicon(s).await;
    assert_eq!(s.feed_state("radio").await.unwrap(), None);
    let state = FeedState {
        name: "radio".into(),
        url: "https://news.example/rss".into(),
        etag: Some("\"v1\"".into()),
        last_modified: Some("Mon, 07 Dec 2026 03:00:00 GMT".into()),
        last_status: Some("200".into()),
        last_error: None,
        last_poll: Some(time::now()),
        next_poll: Some(time::now()),
        polls: 1,
        not_modified: 0,
        failures: 0,
        items: 999,
    };
    let mut writes = Vec::new();
    for n in 0..7 {
        let tlp = if n == 6 { Tlp::Amber } else { Tlp::Green };
        let i = item("radio", &format!("g{n}"), "text", tlp);
        writes.push(if n % 2 == 0 { with_flag(i) } else { plain(i) });
    }
    assert_eq!(store(s, writes, Some(state.clone())).await.unwrap(), (7, 4));
    let kept = s.feed_state("radio").await.unwrap().unwrap();
    assert_eq!(kept.items, 7, "the store counts the feed's items");
    assert_eq!(kept.etag, state.etag);
    // A state alone (a 304): kept, no items, no audit needed.
    let mut again = kept.clone();
    again.last_status = Some("304".into());
    again.not_modified = 1;
    assert_eq!(store(s, vec![], Some(again)).await.unwrap(), (0, 0));
    let states = s.feed_states().await.unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].last_status.as_deref(), Some("304"));
    assert_eq!(states[0].items, 7);
    store(s, vec![plain(item("tv", "x", "text", Tlp::Green))], None)
        .await
        .unwrap();

    let page = |f: ItemFilter, limit| async move {
        let mut seen = Vec::new();
        let mut req = PageRequest::first(limit);
        loop {
            let p = s.list_items(&f, req).await.unwrap();
            seen.extend(p.items.iter().map(|i| i.id));
            match p.next_cursor {
                Some(c) => req = PageRequest::parse(Some(limit), Some(&c)).unwrap(),
                None => break,
            }
        }
        seen
    };
    let every = page(all(), 3).await;
    assert_eq!(every.len(), 8);
    let mut unique = every.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 8, "paging shows each item once");
    let green = page(
        ItemFilter {
            max_tlp: Tlp::Green,
            ..all()
        },
        50,
    )
    .await;
    assert_eq!(green.len(), 7);
    let radio_flagged = page(
        ItemFilter {
            origin: Some("radio".into()),
            flagged: Some(true),
            ..all()
        },
        50,
    )
    .await;
    assert_eq!(radio_flagged.len(), 4);
    let radio_plain = page(
        ItemFilter {
            origin: Some("radio".into()),
            flagged: Some(false),
            ..all()
        },
        50,
    )
    .await;
    assert_eq!(radio_plain.len(), 3);
}
