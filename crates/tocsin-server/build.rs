//! Brings in the browser assets the server embeds that are not Tocsin's own code.
//!
//! * MapLibre GL JS, a declared npm dependency (`web/package.json`, pinned by
//!   `web/package-lock.json`): `npm ci` installs it from the lockfile into `OUT_DIR` (npm's cache
//!   makes later builds offline) and the CSP build's files are embedded. Set
//!   `TOCSIN_MAPLIBRE_DIST` to a directory holding `maplibre-gl-csp.js`,
//!   `maplibre-gl-csp-worker.js` and `maplibre-gl.css` to use those instead of running npm.
//!   The same install brings the devDependency axe-core, which only the browser tests read
//!   (from [`NODE_MODULES`](../src/basemap.rs)); it is never embedded.
//! * The basemap's glyph PBFs (`data/basemap/glyphs`, built by `scripts/build-basemap.sh`): a
//!   table of `include_bytes!` is generated so every committed range is served.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const MAPLIBRE_FILES: [&str; 3] = [
    "maplibre-gl-csp.js",
    "maplibre-gl-csp-worker.js",
    "maplibre-gl.css",
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let web = manifest.join("web");
    let glyphs = manifest.join("../../data/basemap/glyphs");
    println!(
        "cargo:rerun-if-changed={}",
        web.join("package.json").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        web.join("package-lock.json").display()
    );
    println!("cargo:rerun-if-changed={}", glyphs.display());
    println!("cargo:rerun-if-env-changed=TOCSIN_MAPLIBRE_DIST");

    let (dist, node_modules) = match std::env::var_os("TOCSIN_MAPLIBRE_DIST") {
        Some(d) => (PathBuf::from(d), None),
        None => (
            npm_ci(&web, &out.join("web")),
            Some(out.join("web/node_modules")),
        ),
    };
    let mut code = String::new();
    // Where `npm ci` put the packages, for the browser tests (axe-core, a devDependency); only
    // the MapLibre files below are embedded and served.
    writeln!(
        code,
        "/// The build's `node_modules` (`None` with `TOCSIN_MAPLIBRE_DIST`): the accessibility\n\
         /// tests read axe-core there. Nothing in it is served but MapLibre's files.\n\
         pub const NODE_MODULES: Option<&str> = {:?};",
        node_modules.map(|p| p.display().to_string())
    )
    .unwrap();
    for (name, file) in [
        ("MAPLIBRE_JS", MAPLIBRE_FILES[0]),
        ("MAPLIBRE_WORKER_JS", MAPLIBRE_FILES[1]),
        ("MAPLIBRE_CSS", MAPLIBRE_FILES[2]),
    ] {
        let path = dist.join(file);
        assert!(
            path.is_file(),
            "{} is missing: the MapLibre GL JS install is incomplete",
            path.display()
        );
        writeln!(
            code,
            "/// `{file}` of MapLibre GL JS (npm `maplibre-gl`).\npub const {name}: &[u8] = include_bytes!({:?});",
            path.display().to_string()
        )
        .unwrap();
    }
    code.push_str("/// The basemap's label glyphs: (font stack, range such as `0-255`, PBF bytes).\npub const GLYPHS: &[(&str, &str, &[u8])] = &[\n");
    let mut stacks: Vec<PathBuf> = std::fs::read_dir(&glyphs)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/build-basemap.sh)", glyphs.display()))
        .map(|e| e.expect("glyph dir entry").path())
        .filter(|p| p.is_dir())
        .collect();
    stacks.sort();
    for stack in stacks {
        let name = stack.file_name().unwrap().to_string_lossy().into_owned();
        let mut ranges: Vec<PathBuf> = std::fs::read_dir(&stack)
            .expect("glyph stack dir")
            .map(|e| e.expect("glyph file").path())
            .filter(|p| p.extension().is_some_and(|x| x == "pbf"))
            .collect();
        ranges.sort();
        for r in ranges {
            let range = r.file_stem().unwrap().to_string_lossy().into_owned();
            let abs = std::fs::canonicalize(&r).expect("glyph path");
            writeln!(
                code,
                "    ({name:?}, {range:?}, include_bytes!({:?})),",
                abs.display().to_string()
            )
            .unwrap();
        }
    }
    code.push_str("];\n");
    std::fs::write(out.join("web_assets.rs"), code).expect("write web_assets.rs");
}

/// `npm ci` of `web/`'s lockfile in `dir` (again only when the lockfile changed); the
/// directory of MapLibre's built files.
fn npm_ci(web: &Path, dir: &Path) -> PathBuf {
    let dist = dir.join("node_modules/maplibre-gl/dist");
    let lock = std::fs::read(web.join("package-lock.json")).expect("web/package-lock.json");
    let installed = dir.join("package-lock.json");
    let fresh = std::fs::read(&installed).ok().as_deref() == Some(&lock[..])
        && MAPLIBRE_FILES.iter().all(|f| dist.join(f).is_file());
    if fresh {
        return dist;
    }
    std::fs::create_dir_all(dir).expect("create OUT_DIR/web");
    for f in ["package.json", "package-lock.json"] {
        std::fs::copy(web.join(f), dir.join(f)).expect("copy web/ manifest");
    }
    let npm = std::env::var("NPM").unwrap_or_else(|_| "npm".into());
    let status = Command::new(&npm)
        .args([
            "ci",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--prefer-offline",
            "--loglevel=error",
        ])
        .current_dir(dir)
        .status();
    match status {
        Ok(s) if s.success() => dist,
        Ok(s) => panic!(
            "`npm ci` for MapLibre GL JS failed ({s}) in {}: the npm registry (or npm's cache) \
             must be reachable on the first build, or set TOCSIN_MAPLIBRE_DIST",
            dir.display()
        ),
        Err(e) => panic!(
            "cannot run `{npm}` ({e}): Node.js and npm are needed to build tocsin-server \
             (apt-get install -y nodejs npm), or set TOCSIN_MAPLIBRE_DIST to a directory \
             holding {MAPLIBRE_FILES:?}"
        ),
    }
}
