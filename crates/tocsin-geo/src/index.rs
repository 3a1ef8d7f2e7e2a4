//! A compact hash index from normalised names to places, areas and countries.
//!
//! Keys live in one string arena; a `hashbrown::HashTable` maps a key's hash
//! to its entry; each entry points at a run of postings. Multi-word keys also
//! register their word prefixes (flag [`KEY_PREFIX`]) so that scanning text
//! can stop extending a phrase as soon as no name starts with it.

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

/// The key is a word prefix of a longer key ("kaga" of "kaga bandoro").
pub(crate) const KEY_PREFIX: u8 = 1;

/// The name is the main or ASCII name (not an alternate name).
pub(crate) const P_EXACT: u8 = 1;
/// The name may be recognised in free text (see `Gazetteer::find_in_text`).
pub(crate) const P_TEXT: u8 = 2;
/// The name is an abbreviation (`CAR`): in text it must be written in capitals.
pub(crate) const P_ABBREV: u8 = 4;
/// The name is also a common word (`Man`, `Sale`, `Bo`): in text only when
/// capitalised inside a sentence of mixed-case text, in the hinted country.
pub(crate) const P_COMMON: u8 = 8;

/// What a posting points at: kind in the top two bits, index below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Target(pub u32);

impl Target {
    const SHIFT: u32 = 30;
    const MASK: u32 = (1 << Self::SHIFT) - 1;
    pub fn place(i: u32) -> Self {
        Target(i)
    }
    pub fn admin2(i: u32) -> Self {
        Target((1 << Self::SHIFT) | i)
    }
    pub fn admin1(i: u32) -> Self {
        Target((2 << Self::SHIFT) | i)
    }
    pub fn country(i: u16) -> Self {
        Target((3 << Self::SHIFT) | u32::from(i))
    }
    pub fn kind(self) -> crate::MatchKind {
        match self.0 >> Self::SHIFT {
            0 => crate::MatchKind::Place,
            1 => crate::MatchKind::Admin2,
            2 => crate::MatchKind::Admin1,
            _ => crate::MatchKind::Country,
        }
    }
    pub fn index(self) -> u32 {
        self.0 & Self::MASK
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Posting {
    pub target: Target,
    pub flags: u8,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyEntry {
    off: u32,
    len: u32,
    post_start: u32,
    post_len: u32,
    pub flags: u8,
}

pub(crate) struct NameIndex {
    keys: String,
    entries: Vec<KeyEntry>,
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
    postings: Vec<Posting>,
}

impl NameIndex {
    /// The entry for a normalised key.
    #[inline]
    pub fn get(&self, key: &str) -> Option<&KeyEntry> {
        let h = self.hasher.hash_one(key);
        self.table
            .find(h, |&id| {
                let e = &self.entries[id as usize];
                &self.keys[e.off as usize..(e.off + e.len) as usize] == key
            })
            .map(|&id| &self.entries[id as usize])
    }

    /// Postings of an entry, in rank order (exact before alternate, places
    /// before areas before countries, larger population first).
    #[inline]
    pub fn postings(&self, e: &KeyEntry) -> &[Posting] {
        &self.postings[e.post_start as usize..(e.post_start + e.post_len) as usize]
    }

    /// Number of distinct keys (including prefix-only keys).
    pub fn key_count(&self) -> usize {
        self.entries.len()
    }

    /// Approximate heap size in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.keys.capacity()
            + self.entries.capacity() * std::mem::size_of::<KeyEntry>()
            + self.table.capacity() * (std::mem::size_of::<u32>() + 1)
            + self.postings.capacity() * std::mem::size_of::<Posting>()
    }

    /// Every (key, posting) pair, for tests and diagnostics.
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Posting)> {
        self.entries.iter().flat_map(move |e| {
            let k = &self.keys[e.off as usize..(e.off + e.len) as usize];
            self.postings(e).iter().map(move |p| (k, p))
        })
    }
}

pub(crate) struct IndexBuilder {
    keys: String,
    entries: Vec<KeyEntry>,
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
    raw: Vec<(u32, Posting)>,
}

impl IndexBuilder {
    /// A builder with room for about `keys` keys and `postings` postings.
    pub fn with_capacity(keys: usize, postings: usize) -> Self {
        IndexBuilder {
            keys: String::with_capacity(keys * 12),
            entries: Vec::with_capacity(keys),
            table: HashTable::with_capacity(keys),
            hasher: DefaultHashBuilder::default(),
            raw: Vec::with_capacity(postings),
        }
    }

    fn key_id(&mut self, key: &str) -> u32 {
        let h = self.hasher.hash_one(key);
        let (keys, entries) = (&self.keys, &self.entries);
        if let Some(&id) = self.table.find(h, |&id| {
            let e = &entries[id as usize];
            &keys[e.off as usize..(e.off + e.len) as usize] == key
        }) {
            return id;
        }
        let id = self.entries.len() as u32;
        self.entries.push(KeyEntry {
            off: self.keys.len() as u32,
            len: key.len() as u32,
            post_start: 0,
            post_len: 0,
            flags: 0,
        });
        self.keys.push_str(key);
        let (keys, entries, hasher) = (&self.keys, &self.entries, &self.hasher);
        self.table.insert_unique(h, id, |&id| {
            let e = &entries[id as usize];
            hasher.hash_one(&keys[e.off as usize..(e.off + e.len) as usize])
        });
        id
    }

    /// Add a posting under a normalised key (ignored when the key is empty).
    pub fn add(&mut self, key: &str, target: Target, flags: u8) {
        if key.is_empty() {
            return;
        }
        let id = self.key_id(key);
        self.raw.push((id, Posting { target, flags }));
        // Register word prefixes of multi-word keys.
        let mut end = 0;
        while let Some(sp) = key[end..].find(' ') {
            end += sp;
            let pid = self.key_id(&key[..end]);
            self.entries[pid as usize].flags |= KEY_PREFIX;
            end += 1;
        }
    }

    /// Finish: merge duplicate postings (flags OR-ed) and order each key's
    /// postings by `rank` (smaller first).
    pub fn finish<R: Ord>(mut self, rank: impl Fn(&Posting) -> R) -> NameIndex {
        self.raw.sort_unstable_by_key(|(k, p)| (*k, p.target));
        let mut postings: Vec<Posting> = Vec::with_capacity(self.raw.len());
        let mut i = 0;
        while i < self.raw.len() {
            let key = self.raw[i].0;
            let start = postings.len();
            while i < self.raw.len() && self.raw[i].0 == key {
                let p = self.raw[i].1;
                match postings[start..].last_mut() {
                    Some(last) if last.target == p.target => last.flags |= p.flags,
                    _ => postings.push(p),
                }
                i += 1;
            }
            postings[start..].sort_by_key(|p| rank(p));
            let e = &mut self.entries[key as usize];
            e.post_start = start as u32;
            e.post_len = (postings.len() - start) as u32;
        }
        postings.shrink_to_fit();
        self.keys.shrink_to_fit();
        self.entries.shrink_to_fit();
        let (keys, entries, hasher) = (&self.keys, &self.entries, &self.hasher);
        self.table.shrink_to_fit(|&id| {
            let e = &entries[id as usize];
            hasher.hash_one(&keys[e.off as usize..(e.off + e.len) as usize])
        });
        NameIndex {
            keys: self.keys,
            entries: self.entries,
            table: self.table,
            hasher: self.hasher,
            postings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_merges_and_finds() {
        let mut b = IndexBuilder::with_capacity(8, 8);
        b.add("kaga bandoro", Target::place(7), P_EXACT);
        b.add("bria", Target::place(3), P_TEXT);
        b.add("bria", Target::place(3), P_EXACT);
        b.add("bria", Target::admin1(1), P_EXACT);
        let idx = b.finish(|p| p.target.kind());
        let e = idx.get("bria").unwrap();
        let ps = idx.postings(e);
        assert_eq!(ps.len(), 2);
        assert_eq!(ps[0].target, Target::place(3));
        assert_eq!(ps[0].flags, P_EXACT | P_TEXT);
        assert_eq!(ps[1].target.kind(), crate::MatchKind::Admin1);
        let k = idx.get("kaga").unwrap();
        assert_eq!(k.flags & KEY_PREFIX, KEY_PREFIX);
        assert!(idx.postings(k).is_empty());
        assert!(idx.get("kaga bandoro").is_some());
        assert!(idx.get("bangui").is_none());
    }
}
