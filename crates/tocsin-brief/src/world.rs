//! The smallest Typst world a brief needs: the standard library, the embedded fonts, the
//! template as the main file and the brief's JSON as the one other file. No file system, no
//! packages, no clock (the content carries its date). Library, fonts and the parsed template
//! live for the process, so a second brief reuses Typst's caches (a warm render).

use std::sync::LazyLock;
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

use crate::BriefError;

const TEMPLATE: &str = include_str!("../templates/brief.typ");

const FONT_FILES: [&[u8]; 4] = [
    include_bytes!("../fonts/NotoSans-Regular.ttf"),
    include_bytes!("../fonts/NotoSans-Bold.ttf"),
    include_bytes!("../fonts/NotoSansArabic-Regular.ttf"),
    include_bytes!("../fonts/NotoSansArabic-Bold.ttf"),
];

fn file_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path).expect("a valid fixed path");
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

static FONTS: LazyLock<(LazyHash<FontBook>, Vec<Font>)> = LazyLock::new(|| {
    let fonts: Vec<Font> = FONT_FILES
        .iter()
        .flat_map(|b| Font::iter(Bytes::new(*b)))
        .collect();
    (LazyHash::new(FontBook::from_fonts(&fonts)), fonts)
});

static MAIN: LazyLock<Source> =
    LazyLock::new(|| Source::new(file_id("/brief.typ"), TEMPLATE.to_string()));

static DATA: LazyLock<FileId> = LazyLock::new(|| file_id("/brief.json"));

struct BriefWorld {
    main: Source,
    data: Bytes,
}

impl World for BriefWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.0
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::NotFound(
                id.vpath().get_with_slash().to_string().into(),
            ))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == *DATA {
            Ok(self.data.clone())
        } else if id == self.main.id() {
            Ok(Bytes::from_string(self.main.text().to_string()))
        } else {
            Err(FileError::NotFound(
                id.vpath().get_with_slash().to_string().into(),
            ))
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.1.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

fn messages(diags: &[SourceDiagnostic]) -> String {
    diags
        .iter()
        .map(|d| d.message.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

fn run(world: &BriefWorld) -> Result<Vec<u8>, BriefError> {
    let doc = typst::compile::<PagedDocument>(world)
        .output
        .map_err(|e| BriefError::Typeset(messages(&e)))?;
    let pdf = typst_pdf::pdf(&doc, &typst_pdf::PdfOptions::default())
        .map_err(|e| BriefError::Typeset(messages(&e)));
    // Keep Typst's caches from growing without bound in a long-running server.
    typst::comemo::evict(10);
    pdf
}

/// Typeset the brief template over `json`.
pub fn typeset(json: Vec<u8>) -> Result<Vec<u8>, BriefError> {
    run(&BriefWorld {
        main: MAIN.clone(),
        data: Bytes::new(json),
    })
}

/// Typeset a fixed document (the benchmark's baseline).
pub fn typeset_source(text: &str) -> Result<Vec<u8>, BriefError> {
    run(&BriefWorld {
        main: Source::new(file_id("/baseline.typ"), text.to_string()),
        data: Bytes::new(Vec::<u8>::new()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A document typeset here reads no file but its template and its data: a bibliography or
    /// a CSL style (the only way Typst reaches `quick-xml` 0.38, whose advisories
    /// RUSTSEC-2026-0194/0195 `.ci/audit` ignores for that reason) cannot be loaded.
    #[test]
    fn a_document_reads_no_file_but_its_data() {
        for text in [
            "#bibliography(\"refs.bib\", style: \"style.csl\")",
            "#bibliography(\"refs.yml\")",
            "#read(\"/etc/passwd\")",
            "#image(\"../fonts/NotoSans-Regular.ttf\")",
        ] {
            let e = typeset_source(text).expect_err(text);
            let BriefError::Typeset(m) = e else {
                panic!("{text}: {e}")
            };
            assert!(
                m.contains("not found") || m.contains("escape the project root"),
                "{text}: {m}"
            );
        }
        assert!(typeset_source("#let d = json(\"/brief.json\")").is_err());
        assert!(typeset_source("Plain text").is_ok());
    }
}
