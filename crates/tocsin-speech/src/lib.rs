//! Dangerous-speech monitoring: multilingual lexicons that flag text for analysts and never
//! decide.
//!
//! * [`lexicon`]: terms per language and country (category, severity, meanings, variants,
//!   transliterations, affix and proximity rules, provenance and licence), read from CSV.
//! * [`normalise`](mod@normalise): case folding, compatibility forms, Latin diacritics (Hausa's hooked
//!   letters kept), Arabic marks and letter variants, elongation, invisible characters,
//!   look-alikes and leetspeak, with every offset mapped back to the original text.
//! * [`scan`]: one Aho-Corasick automaton over the normalised text; word boundaries,
//!   prefixes and suffixes, elongated letters and proximity checked after matching; hits
//!   carry byte offsets into the original text.
//! * [`eval`]: precision and recall with Wilson intervals on a labelled sample; a lexicon is
//!   enabled only once measured.
//!
//! No I/O besides reading from a [`std::io::Read`]; storage, the CLI and the API are other
//! crates' business.

#![warn(missing_docs)]

pub mod eval;
pub mod lexicon;
pub mod normalise;
pub mod read;
pub mod scan;
pub mod write;

pub use eval::{evaluate, read_sample, wilson, Counts, Evaluation, Interval, Labelled};
pub use lexicon::{read_lexicon, Category, Lexicon, Severity, Term};
pub use normalise::{normalise, Normalised};
pub use read::ReadError;
pub use scan::{BuildError, Hit, ScanBuffer, Scanner};
pub use write::write_lexicon;
