//! The en/fr/sw/ar stop words, for callers that compare free texts (report matching).

use std::collections::HashSet;
use std::sync::OnceLock;

const STOPWORDS_TSV: &str = include_str!("../data/stopwords.tsv");

/// Whether `word`, already normalised with [`crate::normalize`], is an English, French,
/// Swahili or Arabic stop word (`data/stopwords.tsv`: "the", "dans", "na", "في"...). The
/// hand-written list of report vocabulary that the place finder also avoids ("man", "police")
/// is not included: those words carry meaning when comparing reports.
///
/// ```
/// assert!(tocsin_geo::is_stop_word("the"));
/// assert!(tocsin_geo::is_stop_word("dans"));
/// assert!(!tocsin_geo::is_stop_word("bunia"));
/// ```
pub fn is_stop_word(word: &str) -> bool {
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| {
        STOPWORDS_TSV
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once('\t'))
            .map(|(_, w)| crate::normalize(w))
            .filter(|k| !k.is_empty() && !k.contains(' '))
            .collect()
    })
    .contains(word)
}
