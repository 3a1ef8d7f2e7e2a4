//! Precision and recall of the illustrative lexicon on the labelled sample shipped beside it
//! (`data/README.md` says what both are and their licence), per language, with Wilson 95 %
//! intervals.
//!
//! ```sh
//! CARGO_TARGET_DIR=/var/tmp/tocsin-target cargo bench -p tocsin-speech --bench sample
//! ```

use tocsin_speech::{evaluate, read_lexicon, read_sample, Scanner};

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data");
    let lexicon = read_lexicon(
        "illustrative",
        std::fs::File::open(format!("{dir}/lexicon-illustrative.csv")).expect("the lexicon"),
    )
    .expect("the lexicon reads");
    let sample =
        read_sample(std::fs::File::open(format!("{dir}/sample-labelled.csv")).expect("the sample"))
            .expect("the sample reads");
    let terms = lexicon.terms.len();
    let scanner = Scanner::new(vec![lexicon]).expect("the scanner builds");
    println!(
        "illustrative lexicon ({terms} terms) on the hand-written sample ({} texts; data/README.md):",
        sample.len()
    );
    print!("{}", evaluate(&scanner, &sample));
}
