//! Writing a lexicon back to CSV, in the columns [`read_lexicon`](crate::read_lexicon) reads:
//! an analyst's edit of one term makes the next version's file from the terms as edited.

use crate::lexicon::{Lexicon, DEFAULT_WITHIN};

/// Every column, in the order written.
const COLUMNS: [&str; 17] = [
    "term",
    "language",
    "country",
    "category",
    "severity",
    "meaning_hateful",
    "meaning_other",
    "ambiguous",
    "variants",
    "transliterations",
    "alternative",
    "prefixes",
    "suffixes",
    "near",
    "within",
    "provenance",
    "licence",
];

/// The CSV text of `lexicon` (UTF-8, a header row, one row per term in order; lists joined
/// with `|`), which `read_lexicon` reads back to the same terms.
pub fn write_lexicon(lexicon: &Lexicon) -> String {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    // Writing to memory does not fail.
    let _ = w.write_record(COLUMNS);
    for t in &lexicon.terms {
        let within = if t.near.is_empty() && t.within == DEFAULT_WITHIN {
            String::new()
        } else {
            t.within.to_string()
        };
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let _ = w.write_record([
            t.term.clone(),
            t.language.clone(),
            opt(&t.country),
            t.category.as_str().to_string(),
            (t.severity as u8).to_string(),
            opt(&t.meaning_hateful),
            opt(&t.meaning_other),
            if t.ambiguous { "yes" } else { "no" }.to_string(),
            t.variants.join("|"),
            t.transliterations.join("|"),
            opt(&t.alternative),
            t.prefixes.join("|"),
            t.suffixes.join("|"),
            t.near.join("|"),
            within,
            opt(&t.provenance),
            opt(&t.licence),
        ]);
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_lexicon;

    #[test]
    fn a_written_lexicon_reads_back_the_same() {
        let src = "term,language,country,category,severity,meaning_hateful,meaning_other,\
                   ambiguous,variants,transliterations,alternative,prefixes,suffixes,near,\
                   within,provenance,license\n\
                   madoadoa,sw,KE,coded term,3,\"outsiders, \"\"stains\"\"\",spots,yes,madoa doa|madoa-doa,,neighbours,@sw-noun-classes,,,,field notes,CC-BY-4.0\n\
                   kill,en,,threat,high,,,,,,,,,tutsi|hutu,3,,\n\
                   صراصير,ar,SD,dehumanisation,2,cockroaches,,no,,sarasir,,@ar-particles,@ar-suffixes,,,,\n";
        let l = read_lexicon("t", src.as_bytes()).unwrap();
        let again = read_lexicon("t", write_lexicon(&l).as_bytes()).unwrap();
        assert_eq!(again, l);
        assert_eq!(
            l.terms[0].meaning_hateful.as_deref(),
            Some("outsiders, \"stains\"")
        );
    }
}
