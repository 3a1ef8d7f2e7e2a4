//! Test-only: the refusal reasons the domain, application, store and server layers write, found in
//! their sources the way `xgettext` finds a program's messages, so a test can check that the
//! reason catalogues (`locales/reasons/*.json`) have every one of them.
//!
//! The scanner reads Rust tokens (strings, comments and raw strings understood), skips
//! `#[cfg(test)]` items, and takes the message argument of every refusal constructor
//! (`DomainError::invalid`, `AppError::invalid`, `AppError::bad_field`, `refused`,
//! `AppError::Conflict`, `StoreError::Conflict`, the `Invalid`/`BadField`/`Forbidden` struct
//! forms) and every `#[error("…")]`: a string literal, a `format!` (its placeholders numbered
//! `{0}`, `{1}`… in order of first appearance), a `&str` constant. A message held in a variable
//! is followed one step: the parameter of a closure or function that wraps the constructor
//! (its callers' literals are the messages), or a `let` whose value holds the literals. What
//! it still cannot read is listed as unseen.

use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Ident,
    Str,
    Punct,
    Other,
}

#[derive(Debug, Clone)]
struct Tok {
    kind: Kind,
    text: String,
    line: usize,
}

impl Tok {
    fn is(&self, s: &str) -> bool {
        self.kind != Kind::Str && self.text == s
    }
}

/// Rust source as tokens; string literals unescaped, comments dropped.
fn tokenize(src: &str) -> Vec<Tok> {
    let c: Vec<char> = src.chars().collect();
    let mut toks = Vec::new();
    let (mut i, mut line) = (0, 1);
    let n = c.len();
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    while i < n {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
            continue;
        }
        if ch.is_whitespace() {
            i += 1;
            continue;
        }
        if ch == '/' && c.get(i + 1) == Some(&'/') {
            while i < n && c[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if ch == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < n {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
            continue;
        }
        let start_line = line;
        // Raw strings: r"…", r#"…"#, br"…".
        let after_prefix = if ch == 'b' && c.get(i + 1) == Some(&'r') {
            Some(i + 2)
        } else if ch == 'r' {
            Some(i + 1)
        } else {
            None
        };
        if let Some(mut j) = after_prefix.filter(|_| i == 0 || !ident(c[i - 1])) {
            let mut hashes = 0;
            while c.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if c.get(j) == Some(&'"') {
                j += 1;
                let mut text = String::new();
                loop {
                    if j >= n {
                        break;
                    }
                    if c[j] == '"' && (0..hashes).all(|h| c.get(j + 1 + h) == Some(&'#')) {
                        j += 1 + hashes;
                        break;
                    }
                    if c[j] == '\n' {
                        line += 1;
                    }
                    text.push(c[j]);
                    j += 1;
                }
                toks.push(Tok {
                    kind: Kind::Str,
                    text,
                    line: start_line,
                });
                i = j;
                continue;
            }
        }
        if ch == '"' || (ch == 'b' && c.get(i + 1) == Some(&'"')) {
            let mut j = if ch == 'b' { i + 2 } else { i + 1 };
            let mut text = String::new();
            while j < n && c[j] != '"' {
                if c[j] == '\\' {
                    let e = c.get(j + 1).copied().unwrap_or(' ');
                    match e {
                        '\n' => {
                            line += 1;
                            j += 2;
                            while j < n && c[j].is_whitespace() {
                                if c[j] == '\n' {
                                    line += 1;
                                }
                                j += 1;
                            }
                            continue;
                        }
                        'u' => {
                            let close = (j..n).find(|&k| c[k] == '}').unwrap_or(n - 1);
                            let hex: String = c[j + 3..close].iter().collect();
                            if let Some(v) =
                                u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
                            {
                                text.push(v);
                            }
                            j = close + 1;
                            continue;
                        }
                        'x' => {
                            let hex: String = c[j + 2..j + 4].iter().collect();
                            text.push(u8::from_str_radix(&hex, 16).unwrap_or(b'?') as char);
                            j += 4;
                            continue;
                        }
                        'n' => text.push('\n'),
                        't' => text.push('\t'),
                        'r' => text.push('\r'),
                        '0' => text.push('\0'),
                        other => text.push(other),
                    }
                    j += 2;
                    continue;
                }
                if c[j] == '\n' {
                    line += 1;
                }
                text.push(c[j]);
                j += 1;
            }
            toks.push(Tok {
                kind: Kind::Str,
                text,
                line: start_line,
            });
            i = j + 1;
            continue;
        }
        if ch == '\'' {
            // A char literal ('a', '\n', '\u{..}') or a lifetime ('a).
            if c.get(i + 1) == Some(&'\\') {
                let close = (i + 2..n).find(|&k| c[k] == '\'').unwrap_or(n - 1);
                toks.push(Tok {
                    kind: Kind::Other,
                    text: c[i..=close].iter().collect(),
                    line,
                });
                i = close + 1;
                continue;
            }
            if c.get(i + 2) == Some(&'\'') {
                toks.push(Tok {
                    kind: Kind::Other,
                    text: c[i..i + 3].iter().collect(),
                    line,
                });
                i += 3;
                continue;
            }
            let mut j = i + 1;
            while j < n && ident(c[j]) {
                j += 1;
            }
            toks.push(Tok {
                kind: Kind::Other,
                text: c[i..j].iter().collect(),
                line,
            });
            i = j;
            continue;
        }
        if ch.is_alphabetic() || ch == '_' {
            let mut j = i;
            while j < n && ident(c[j]) {
                j += 1;
            }
            toks.push(Tok {
                kind: Kind::Ident,
                text: c[i..j].iter().collect(),
                line,
            });
            i = j;
            continue;
        }
        if ch.is_ascii_digit() {
            let mut j = i;
            while j < n
                && (ident(c[j])
                    || (c[j] == '.' && c.get(j + 1).is_some_and(|d| d.is_ascii_digit())))
            {
                j += 1;
            }
            toks.push(Tok {
                kind: Kind::Other,
                text: c[i..j].iter().collect(),
                line,
            });
            i = j;
            continue;
        }
        if ch == ':' && c.get(i + 1) == Some(&':') {
            toks.push(Tok {
                kind: Kind::Punct,
                text: "::".into(),
                line,
            });
            i += 2;
            continue;
        }
        if ch == '=' && c.get(i + 1) == Some(&'>') {
            toks.push(Tok {
                kind: Kind::Punct,
                text: "=>".into(),
                line,
            });
            i += 2;
            continue;
        }
        toks.push(Tok {
            kind: Kind::Punct,
            text: ch.to_string(),
            line,
        });
        i += 1;
    }
    toks
}

/// The tokens without `#[cfg(test)]` items (a test module, a test-only function).
fn without_tests(toks: Vec<Tok>) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let is_cfg_test = toks[i].is("#")
            && toks.len() > i + 6
            && ["[", "cfg", "(", "test", ")", "]"]
                .iter()
                .enumerate()
                .all(|(k, s)| toks[i + 1 + k].is(s));
        if !is_cfg_test {
            out.push(toks[i].clone());
            i += 1;
            continue;
        }
        let mut j = i + 7;
        let mut depth = 0i32;
        while j < toks.len() {
            let t = &toks[j];
            if t.kind == Kind::Punct {
                match t.text.as_str() {
                    "{" | "(" | "[" => depth += 1,
                    "}" | ")" | "]" => {
                        depth -= 1;
                        if depth == 0 && t.text == "}" {
                            j += 1;
                            break;
                        }
                    }
                    ";" if depth == 0 => {
                        j += 1;
                        break;
                    }
                    _ => {}
                }
            }
            j += 1;
        }
        i = j;
    }
    out
}

/// The arguments of the call whose `(` is at `open`, split at its top-level commas, and the
/// index of its closing `)`.
fn arguments(toks: &[Tok], open: usize) -> (Vec<Vec<Tok>>, usize) {
    let mut args: Vec<Vec<Tok>> = vec![Vec::new()];
    let mut depth = 0;
    let mut j = open;
    while j < toks.len() {
        let t = &toks[j];
        if t.kind == Kind::Punct {
            match t.text.as_str() {
                "(" | "[" | "{" => {
                    depth += 1;
                    if depth == 1 {
                        j += 1;
                        continue;
                    }
                }
                ")" | "]" | "}" => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                "," if depth == 1 => {
                    args.push(Vec::new());
                    j += 1;
                    continue;
                }
                _ => {}
            }
        }
        args.last_mut().expect("one argument list").push(t.clone());
        j += 1;
    }
    if args.last().is_some_and(Vec::is_empty) {
        args.pop();
    }
    (args, j)
}

/// A `format!` string with its placeholders numbered `{0}`, `{1}`… in order of first
/// appearance (a name or number seen again keeps its number), `{{`/`}}` read as braces.
pub fn normalise(fmt: &str) -> String {
    let c: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut numbers: HashMap<String, usize> = HashMap::new();
    let mut next_positional = 0;
    let mut i = 0;
    while i < c.len() {
        if (c[i] == '{' || c[i] == '}') && c.get(i + 1) == Some(&c[i]) {
            out.push(c[i]);
            i += 2;
            continue;
        }
        if c[i] == '{' {
            let close = (i..c.len()).find(|&k| c[k] == '}').unwrap_or(c.len());
            let inner: String = c[i + 1..close].iter().collect();
            let name = inner.split(':').next().unwrap_or("").trim().to_string();
            let name = if name.is_empty() {
                next_positional += 1;
                format!("#{}", next_positional - 1)
            } else if name.bytes().all(|b| b.is_ascii_digit()) {
                format!("#{name}")
            } else {
                name
            };
            let k = numbers.len();
            let n = *numbers.entry(name).or_insert(k);
            out.push_str(&format!("{{{n}}}"));
            i = close + 1;
            continue;
        }
        out.push(c[i]);
        i += 1;
    }
    out
}

/// A message argument read: its template, or `None` when it is not written in place.
fn message_of(arg: &[Tok], consts: &HashMap<String, String>) -> Option<String> {
    let first = arg.first()?;
    if first.kind == Kind::Str {
        return Some(first.text.clone());
    }
    if first.is("format") && arg.get(1).is_some_and(|t| t.is("!")) {
        return arg
            .get(3)
            .filter(|t| t.kind == Kind::Str)
            .map(|t| normalise(&t.text));
    }
    if first.is("String") && arg.get(2).is_some_and(|t| t.is("from")) {
        return arg
            .get(4)
            .filter(|t| t.kind == Kind::Str)
            .map(|t| t.text.clone());
    }
    // A constant, by its last path segment (`whatsapp::WINDOW_CLOSED.into()`).
    let mut last = None;
    for t in arg {
        if t.kind == Kind::Ident {
            last = Some(t.text.clone());
        } else if !t.is("::") {
            break;
        }
    }
    last.and_then(|name| consts.get(&name).cloned())
}

/// A template found, where.
#[derive(Debug, Clone)]
pub struct Found {
    pub template: String,
    pub file: String,
    pub line: usize,
}

/// What the scan of a set of sources found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Every reason template, where it was seen.
    pub reasons: Vec<Found>,
    /// Every field name written as a literal.
    pub fields: Vec<Found>,
    /// Call sites whose message the scanner cannot read: `(file:line, expression)`.
    pub unseen: Vec<(String, String)>,
}

/// A constructor: its path's last two segments (or one for a bare function) and the position
/// of its message argument; field at 0 when it takes one.
const CONSTRUCTORS: &[(&str, &str, usize, bool)] = &[
    ("DomainError", "invalid", 1, true),
    ("AppError", "invalid", 1, true),
    ("AppError", "bad_field", 1, true),
    ("AppError", "refused", 0, false),
    ("AppError", "Conflict", 0, false),
    ("StoreError", "Conflict", 0, false),
    ("", "refused", 0, false),
    ("ApiError", "field", 1, true),
    ("ApiError", "new", 1, false),
    ("WebError", "new", 2, false),
];

/// The struct forms whose `message:` is a reason.
const STRUCT_FORMS: &[&str] = &["Invalid", "BadField", "Forbidden", "TooLarge"];

/// The closure (`let NAME = |a, b| …`) or function (`fn NAME(a: …, b: …)`) around token `at`
/// that has a parameter named `param`: its name and the parameter's position.
fn wrapper(toks: &[Tok], at: usize, param: &str, closures_only: bool) -> Option<(String, usize)> {
    for j in (at.saturating_sub(80)..at).rev() {
        if toks[j].is("let")
            && toks.get(j + 2).is_some_and(|t| t.is("="))
            && toks.get(j + 3).is_some_and(|t| t.is("|"))
        {
            let mut k = j + 4;
            let mut params: Vec<Vec<String>> = vec![Vec::new()];
            while k < at && !toks[k].is("|") {
                if toks[k].is(",") {
                    params.push(Vec::new());
                } else {
                    params.last_mut()?.push(toks[k].text.clone());
                }
                k += 1;
            }
            return params
                .iter()
                .position(|p| p.first().is_some_and(|n| n == param))
                .map(|i| (toks[j + 1].text.clone(), i));
        }
    }
    if closures_only {
        return None;
    }
    for j in (0..at).rev() {
        if toks[j].is("fn") {
            let open = (j..at).find(|&k| toks[k].is("("))?;
            let (params, _) = arguments(toks, open);
            return params
                .iter()
                .position(|p| p.first().is_some_and(|t| t.text == param))
                .map(|i| (toks[j + 1].text.clone(), i));
        }
    }
    None
}

/// The templates written in the `let NAME = …;` before token `at`.
fn let_value(toks: &[Tok], at: usize, name: &str) -> Vec<String> {
    for j in (at.saturating_sub(200)..at).rev() {
        if toks[j].is("let") && toks[j + 1].text == name && toks[j + 2].is("=") {
            let mut out = Vec::new();
            let mut k = j + 3;
            let mut depth = 0;
            while k < at && !(toks[k].is(";") && depth == 0) {
                let t = &toks[k];
                if t.kind == Kind::Punct && ["(", "[", "{"].contains(&t.text.as_str()) {
                    depth += 1;
                }
                if t.kind == Kind::Punct && [")", "]", "}"].contains(&t.text.as_str()) {
                    depth -= 1;
                }
                if t.is("format")
                    && toks.get(k + 1).is_some_and(|x| x.is("!"))
                    && toks.get(k + 3).is_some_and(|x| x.kind == Kind::Str)
                {
                    out.push(normalise(&toks[k + 3].text));
                    k += 4;
                    continue;
                }
                // A string that is a match arm's pattern is no message.
                if t.kind == Kind::Str && !toks.get(k + 1).is_some_and(|x| x.is("=>")) {
                    out.push(t.text.clone());
                }
                k += 1;
            }
            return out;
        }
    }
    Vec::new()
}

/// The calls `name(…)` in `toks` and their argument at `position`, read as messages.
fn calls_of(
    toks: &[Tok],
    name: &str,
    position: usize,
    consts: &HashMap<String, String>,
) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for j in 1..toks.len().saturating_sub(1) {
        if toks[j].text == name
            && toks[j].kind == Kind::Ident
            && toks[j + 1].is("(")
            && !["fn", "let", ".", "::"].iter().any(|p| toks[j - 1].is(p))
        {
            let (args, _) = arguments(toks, j + 1);
            if let Some(m) = args.get(position).and_then(|a| message_of(a, consts)) {
                out.push((m, toks[j].line));
            }
        }
    }
    out
}

/// Whether a template is only placeholders and punctuation (`{0}`, `{0}: {1}`): nothing to
/// translate.
pub fn is_bare(template: &str) -> bool {
    !normalise_holes_out(template)
        .chars()
        .any(char::is_alphabetic)
}

fn normalise_holes_out(template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.find('}') {
            Some(j) if after[..j].bytes().all(|b| b.is_ascii_digit()) && j > 0 => {
                rest = &after[j + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Scan every `.rs` file under `dirs`.
pub fn scan(dirs: &[&Path]) -> Scan {
    let mut files = Vec::new();
    for d in dirs {
        collect(d, &mut files);
    }
    files.sort();
    let sources: Vec<(String, Vec<Tok>)> = files
        .iter()
        .map(|f| {
            let src = std::fs::read_to_string(f).expect("source readable");
            let name = f
                .to_string_lossy()
                .split("/crates/")
                .last()
                .unwrap_or_default()
                .rsplit("/../")
                .next()
                .unwrap_or_default()
                .to_string();
            (name, without_tests(tokenize(&src)))
        })
        .collect();
    let mut consts = HashMap::new();
    for (_, toks) in &sources {
        for j in 0..toks.len().saturating_sub(6) {
            if toks[j].is("const")
                && toks[j + 2].is(":")
                && toks[j + 3].is("&")
                && toks[j + 4].is("str")
                && toks[j + 5].is("=")
                && toks[j + 6].kind == Kind::Str
            {
                consts.insert(toks[j + 1].text.clone(), toks[j + 6].text.clone());
            }
        }
    }
    let mut out = Scan::default();
    for (file, toks) in &sources {
        let add = |out: &mut Scan, template: String, line: usize| {
            if !is_bare(&template) {
                out.reasons.push(Found {
                    template,
                    file: file.clone(),
                    line,
                });
            }
        };
        for i in 0..toks.len() {
            let t = &toks[i];
            // #[error("…")]
            if t.is("error")
                && i > 0
                && toks[i - 1].is("[")
                && toks.get(i + 1).is_some_and(|t| t.is("("))
            {
                if let Some(s) = toks.get(i + 2).filter(|t| t.kind == Kind::Str) {
                    add(&mut out, normalise(&s.text), s.line);
                }
                continue;
            }
            // Invalid { field: …, message: … } and the like.
            if t.kind == Kind::Ident
                && STRUCT_FORMS.contains(&t.text.as_str())
                && i > 0
                && (toks[i - 1].is("::") || t.text == "TooLarge")
                && toks.get(i + 1).is_some_and(|t| t.is("{"))
            {
                let (parts, _) = arguments(toks, i + 1);
                for p in parts {
                    if p.len() > 2 && p[0].is("message") && p[1].is(":") {
                        match message_of(&p[2..], &consts) {
                            Some(m) => add(&mut out, m, t.line),
                            None => out
                                .unseen
                                .push((format!("{file}:{}", t.line), expr_text(&p[2..]))),
                        }
                    }
                    if p.len() > 2 && p[0].is("field") && p[1].is(":") && p[2].kind == Kind::Str {
                        out.fields.push(Found {
                            template: p[2].text.clone(),
                            file: file.clone(),
                            line: t.line,
                        });
                    }
                }
                continue;
            }
            let Some(&(_, _, position, has_field)) = CONSTRUCTORS.iter().find(|(ty, f, _, _)| {
                if ty.is_empty() {
                    t.is(f) && i > 0 && !["::", "fn", "."].iter().any(|p| toks[i - 1].is(p))
                } else {
                    t.is(ty)
                        && toks.get(i + 1).is_some_and(|x| x.is("::"))
                        && toks.get(i + 2).is_some_and(|x| x.is(f))
                }
            }) else {
                continue;
            };
            let open = if toks.get(i + 1).is_some_and(|x| x.is("(")) {
                i + 1
            } else {
                i + 3
            };
            if !toks.get(open).is_some_and(|x| x.is("(")) {
                continue;
            }
            let (args, close) = arguments(toks, open);
            // A pattern (`AppError::Conflict(m) =>`), not a constructor.
            let mut k = close + 1;
            while toks.get(k).is_some_and(|x| x.is(")")) {
                k += 1;
            }
            if toks
                .get(k)
                .is_some_and(|x| x.is("=>") || x.is("|") || x.is("if"))
            {
                continue;
            }
            if has_field {
                if let Some(f) = args
                    .first()
                    .and_then(|a| a.first())
                    .filter(|a| a.kind == Kind::Str)
                {
                    out.fields.push(Found {
                        template: f.text.clone(),
                        file: file.clone(),
                        line: t.line,
                    });
                }
            }
            let Some(arg) = args.get(position) else {
                continue;
            };
            if let Some(m) = message_of(arg, &consts) {
                // A format! with a parameter of the closure or function around it: the
                // fragments its callers pass are reasons too (`bad("no known unit")`).
                if arg[0].is("format") {
                    let fmt = arg.get(3).map(|s| s.text.clone()).unwrap_or_default();
                    let names: Vec<String> = arg[4..]
                        .iter()
                        .filter(|x| x.kind == Kind::Ident)
                        .map(|x| x.text.clone())
                        .chain(
                            fmt.split('{')
                                .skip(1)
                                .filter_map(|p| p.split(['}', ':']).next())
                                .map(str::to_string),
                        )
                        .collect();
                    for name in names {
                        if let Some((w, pos)) = wrapper(toks, i, &name, true) {
                            for (frag, line) in calls_of(toks, &w, pos, &consts) {
                                add(&mut out, frag, line);
                            }
                        }
                    }
                }
                add(&mut out, m, t.line);
                continue;
            }
            let var = arg
                .first()
                .filter(|x| x.kind == Kind::Ident)
                .map(|x| x.text.clone())
                .unwrap_or_default();
            if let Some((w, pos)) = wrapper(toks, i, &var, false) {
                let found = calls_of(toks, &w, pos, &consts);
                if !found.is_empty() {
                    for (m, line) in found {
                        add(&mut out, m, line);
                    }
                    continue;
                }
            }
            if arg.len() == 1 {
                let found = let_value(toks, i, &var);
                if !found.is_empty() {
                    for m in found {
                        add(&mut out, m, t.line);
                    }
                    continue;
                }
            }
            // A page's own helper called `refused(&wu, …)`, or a text already from the
            // catalogues (`wu.t("key")`): no English reason.
            let expr = expr_text(arg);
            if expr.starts_with('&') || expr.starts_with("wu.t(") {
                continue;
            }
            out.unseen.push((format!("{file}:{}", t.line), expr));
        }
    }
    out
}

fn expr_text(arg: &[Tok]) -> String {
    arg.iter()
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join("")
}

fn collect(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("source directory") {
        let p = e.expect("directory entry").path();
        if p.is_dir() {
            collect(&p, files);
        } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("web/reason_scan.rs") {
            files.push(p);
        }
    }
}
