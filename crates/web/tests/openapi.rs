//! The OpenAPI document served at `/openapi.json`: well-formed, OpenAPI 3.1, and in step
//! with the router. The routes are read from the router source (`src/lib.rs` and the
//! modules it nests or merges) with a small text scan, so a new route without its
//! documentation, or documentation of a route that no longer exists, fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Base paths of the JSON APIs (their query parameters are PascalCase where the reference
/// APIs are mirrored).
const API_BASES: [&str; 3] = ["/referral-api/", "/customer-api/", "/admin-api/v1/"];

async fn doc() -> Value {
    refshare_web::openapi::document().await.0
}

/// Every operation: (METHOD, path as documented, operation object, path item).
fn operations(doc: &Value) -> Vec<(String, String, &Value, &Value)> {
    let paths = doc["paths"].as_object().expect("`paths` is an object");
    let mut out = Vec::new();
    for (path, item) in paths {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                out.push((m.to_uppercase(), path.clone(), op, item));
            }
        }
    }
    out
}

/// `/clients/{external_tenant_id}` and `/clients/{externalTenantId}` are the same route.
fn normalise(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            c => out.push(c),
        }
    }
    out
}

fn param_names(path: &str) -> BTreeSet<String> {
    path.split('{').skip(1).filter_map(|s| s.split_once('}')).map(|(name, _)| name.to_string()).collect()
}

// ---------------------------------------------------------------------------------------
// A small scan of the router source
// ---------------------------------------------------------------------------------------

/// The source with comments blanked out; string and char literals are kept as they are.
fn strip_comments(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let n = b.len();
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < n {
        let c = b[i];
        if c == '/' && b.get(i + 1) == Some(&'/') {
            while i < n && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && b.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < n {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if b[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && matches!(b.get(i + 1), Some('"') | Some('#')) && (i == 0 || !is_ident(b[i - 1])) {
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= n {
                    break;
                }
                if b[j] == '"' && (1..=hashes).all(|k| b.get(j + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.extend(&b[i..j.min(n)]);
            i = j;
        } else if c == '"' {
            out.push(c);
            i += 1;
            while i < n {
                let d = b[i];
                out.push(d);
                i += 1;
                if d == '\\' {
                    if i < n {
                        out.push(b[i]);
                        i += 1;
                    }
                } else if d == '"' {
                    break;
                }
            }
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            if b.get(i + 1) == Some(&'\\') {
                let mut j = i + 2;
                while j < n && b[j] != '\'' {
                    j += 1;
                }
                out.extend(&b[i..(j + 1).min(n)]);
                i = j + 1;
            } else if b.get(i + 2) == Some(&'\'') {
                out.extend(&b[i..i + 3]);
                i += 3;
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Index of the `)` matching the `(` at `open` (string and char literals skipped).
fn matching_paren(s: &[char], open: usize) -> usize {
    assert_eq!(s[open], '(');
    let mut depth = 0;
    let mut i = open;
    while i < s.len() {
        match s[i] {
            '"' => {
                i += 1;
                while i < s.len() && s[i] != '"' {
                    if s[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            '\'' if s.get(i + 2) == Some(&'\'') => i += 2,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
        i += 1;
    }
    panic!("unbalanced parentheses in router source");
}

/// Splits an argument list at its top-level commas.
fn split_args(s: &[char]) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        match c {
            '"' => {
                cur.push(c);
                i += 1;
                while i < s.len() && s[i] != '"' {
                    if s[i] == '\\' {
                        cur.push(s[i]);
                        i += 1;
                    }
                    cur.push(s[i]);
                    i += 1;
                }
                if i < s.len() {
                    cur.push('"');
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                cur.push(c);
            }
            ')' | ']' | '}' => {
                depth -= 1;
                cur.push(c);
            }
            ',' if depth == 0 => out.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
        i += 1;
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

fn string_literal(arg: &str) -> String {
    let arg = arg.trim();
    assert!(arg.starts_with('"') && arg.ends_with('"') && arg.len() >= 2, "expected a string literal path, found `{arg}`");
    let inner = &arg[1..arg.len() - 1];
    assert!(!inner.contains('\\'), "escaped characters in route path `{arg}`");
    inner.to_string()
}

/// `.name(` calls in the source: (name, argument text).
fn method_calls(src: &str) -> Vec<(String, String)> {
    let s: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] == '"' {
            i += 1;
            while i < s.len() && s[i] != '"' {
                if s[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
        } else if s[i] == '\'' && s.get(i + 2) == Some(&'\'') {
            i += 2;
        } else if s[i] == '.' {
            let mut j = i + 1;
            while j < s.len() && s[j].is_whitespace() {
                j += 1;
            }
            let start = j;
            while j < s.len() && (s[j].is_alphanumeric() || s[j] == '_') {
                j += 1;
            }
            let name: String = s[start..j].iter().collect();
            let mut k = j;
            while k < s.len() && s[k].is_whitespace() {
                k += 1;
            }
            if !name.is_empty() && k < s.len() && s[k] == '(' {
                let close = matching_paren(&s, k);
                out.push((name, s[k + 1..close].iter().collect()));
                i = k + 1;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// The file of a module path used in `file` (`api::referral`, `onboarding`, `crate::x`).
fn module_file(src_dir: &Path, file: &Path, module: &str) -> PathBuf {
    let mut segments: Vec<&str> = module.split("::").map(str::trim).collect();
    let mut dir = if segments.first() == Some(&"crate") {
        segments.remove(0);
        src_dir.to_path_buf()
    } else {
        let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        let parent = file.parent().expect("file has a folder").to_path_buf();
        if stem == "lib" || stem == "mod" || stem == "main" {
            parent
        } else {
            parent.join(stem)
        }
    };
    let last = segments.pop().expect("a module path");
    for s in segments {
        dir = dir.join(s);
    }
    let flat = dir.join(format!("{last}.rs"));
    if flat.exists() {
        return flat;
    }
    let nested = dir.join(last).join("mod.rs");
    assert!(nested.exists(), "module `{module}` used in {} not found", file.display());
    nested
}

/// The extractor-borne credential of a handler: `Partner`, `Customer`, `Operator` or none.
fn handler_credential(src_dir: &Path, file: &Path, handler: &str) -> Option<&'static str> {
    let (file, name) = match handler.rsplit_once("::") {
        Some((module, name)) => (module_file(src_dir, file, module), name.trim().to_string()),
        None => (file.to_path_buf(), handler.trim().to_string()),
    };
    let src = strip_comments(&std::fs::read_to_string(&file).expect("readable source"));
    let s: Vec<char> = src.chars().collect();
    let needle: Vec<char> = format!("fn {name}").chars().collect();
    let at = (0..s.len().saturating_sub(needle.len()))
        .find(|&i| s[i..i + needle.len()] == needle[..] && matches!(s.get(i + needle.len()), Some('(') | Some('<') | Some(' ')))
        .unwrap_or_else(|| panic!("handler `{handler}` not found in {}", file.display()));
    let open = (at..s.len()).find(|&i| s[i] == '(').expect("parameter list");
    let params: String = s[open + 1..matching_paren(&s, open)].iter().collect();
    let idents: BTreeSet<&str> = params.split(|c: char| !(c.is_alphanumeric() || c == '_')).collect();
    // `PartnerKey` is the partner's credential with the key's id (token minting).
    let found: Vec<&'static str> = ["Partner", "Customer", "Operator", "Scraper"]
        .into_iter()
        .filter(|c| idents.contains(c) || (*c == "Partner" && idents.contains("PartnerKey")))
        .collect();
    assert!(found.len() <= 1, "handler `{handler}` takes several credentials: {found:?}");
    found.first().copied()
}

#[derive(Debug, Clone)]
struct Route {
    method: String,
    path: String,
    handler: String,
    credential: Option<&'static str>,
}

/// Walks `file` and the modules it nests or merges, collecting the routes under `base`.
fn collect_routes(src_dir: &Path, file: &Path, base: &str, routes: &mut Vec<Route>, visited: &mut BTreeSet<PathBuf>) {
    visited.insert(file.to_path_buf());
    let src = strip_comments(&std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display())));
    for (name, args) in method_calls(&src) {
        let args_chars: Vec<char> = args.chars().collect();
        match name.as_str() {
            "route" => {
                let args = split_args(&args_chars);
                assert_eq!(args.len(), 2, "unexpected `.route({})` in {}", args.join(", "), file.display());
                let path = string_literal(&args[0]);
                let full = if path == "/" && !base.is_empty() { base.to_string() } else { format!("{base}{path}") };
                // The method router: a chain `get(h).post(h)…`.
                let chain: Vec<char> = args[1].chars().collect();
                let mut i = 0;
                let mut any = false;
                loop {
                    while i < chain.len() && (chain[i].is_whitespace() || chain[i] == '.') {
                        i += 1;
                    }
                    if i >= chain.len() {
                        break;
                    }
                    let start = i;
                    while i < chain.len() && (chain[i].is_alphanumeric() || chain[i] == '_') {
                        i += 1;
                    }
                    let method: String = chain[start..i].iter().collect();
                    while i < chain.len() && chain[i].is_whitespace() {
                        i += 1;
                    }
                    assert!(
                        METHODS.contains(&method.as_str()) && chain.get(i) == Some(&'('),
                        "unsupported method router `{}` for {full} in {} (extend the scan in tests/openapi.rs)",
                        args[1],
                        file.display()
                    );
                    let close = matching_paren(&chain, i);
                    let handler: String = chain[i + 1..close].iter().collect::<String>().trim().to_string();
                    assert!(
                        handler.chars().all(|c| c.is_alphanumeric() || c == '_' || c == ':'),
                        "unsupported handler expression `{handler}` for {full}"
                    );
                    let credential = handler_credential(src_dir, file, &handler);
                    routes.push(Route { method: method.to_uppercase(), path: full.clone(), handler, credential });
                    any = true;
                    i = close + 1;
                }
                assert!(any, "no method in `.route(\"{path}\", …)` in {}", file.display());
            }
            "nest" | "merge" => {
                let args = split_args(&args_chars);
                let (nested_base, expr) = if name == "nest" {
                    assert_eq!(args.len(), 2, "unexpected `.nest(…)` in {}", file.display());
                    (format!("{base}{}", string_literal(&args[0])), args[1].clone())
                } else {
                    assert_eq!(args.len(), 1, "unexpected `.merge(…)` in {}", file.display());
                    (base.to_string(), args[0].clone())
                };
                let module = expr
                    .strip_suffix("::routes()")
                    .unwrap_or_else(|| panic!("unsupported router expression `{expr}` in {} (extend the scan)", file.display()));
                let target = module_file(src_dir, file, module);
                collect_routes(src_dir, &target, &nested_base, routes, visited);
            }
            "route_service" | "nest_service" | "merge_service" => {
                panic!("`.{name}(…)` in {} is not understood by the route scan in tests/openapi.rs", file.display())
            }
            _ => {}
        }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable folder") {
        let path = entry.expect("folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every route of the router, from the source.
fn router_routes() -> Vec<Route> {
    let src_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut routes = Vec::new();
    let mut visited = BTreeSet::new();
    collect_routes(&src_dir, &src_dir.join("lib.rs"), "", &mut routes, &mut visited);
    // A file that declares routes but is not reached from lib.rs would escape the scan.
    let mut files = Vec::new();
    rust_files(&src_dir, &mut files);
    for f in files {
        let src = strip_comments(&std::fs::read_to_string(&f).expect("readable source"));
        if method_calls(&src).iter().any(|(n, _)| n == "route") {
            assert!(visited.contains(&f), "{} declares routes but is not nested or merged from lib.rs as `module::routes()`", f.display());
        }
    }
    routes
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn document_is_openapi_3_1_json() {
    let d = doc().await;
    let text = serde_json::to_string(&d).expect("serialises");
    let back: Value = serde_json::from_str(&text).expect("the served text parses as JSON");
    assert_eq!(back, d);
    let version = d["openapi"].as_str().expect("`openapi` is a string");
    assert!(version.starts_with("3.1."), "openapi is {version}");
    assert_eq!(d["info"]["title"], "refshare");
    assert!(d["info"]["version"].as_str().is_some_and(|v| !v.is_empty()));
    assert!(!operations(&d).is_empty());
}

/// The casing the document promises for property names is the casing bodies get: only
/// the first letter of each name is folded (`extract::camel_keys`), so PascalCase binds
/// and other spellings do not.
#[tokio::test]
async fn the_documented_property_casing_is_the_folding_done() {
    let d = doc().await;
    let text = d["info"]["description"].as_str().expect("a description");
    let folded = refshare_web::extract::camel_keys(serde_json::json!({"ExternalTenantId": 1, "externaltenantid": 2}));
    let bound: BTreeSet<&str> = folded.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(bound, BTreeSet::from(["externalTenantId", "externaltenantid"]), "only the first letter is folded");
    assert!(!text.contains("accepted case-insensitively"), "property names are not case-insensitive: {text}");
    assert!(text.contains("`ExternalTenantId` binds but `externaltenantid` does not"), "{text}");
}

#[tokio::test]
async fn documented_operations_equal_router_routes() {
    let d = doc().await;
    let documented: BTreeSet<(String, String)> = operations(&d).into_iter().map(|(m, p, _, _)| (m, normalise(&p))).collect();
    let routed: BTreeSet<(String, String)> = router_routes().into_iter().map(|r| (r.method, normalise(&r.path))).collect();
    // Sanity: the scan found every surface.
    for prefix in
        ["/referral-api/", "/customer-api/", "/admin-api/v1/", "/onboarding/", "/link-requests/", "/dashboard", "/healthz", "/openapi.json"]
    {
        assert!(routed.iter().any(|(_, p)| p.starts_with(prefix)), "the route scan found nothing under {prefix}");
    }
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routes without documentation (add them to src/openapi): {undocumented:#?}\ndocumented operations without a route: {unrouted:#?}"
    );
}

#[tokio::test]
async fn path_parameters_match_the_path_template() {
    let d = doc().await;
    for (m, path, op, item) in operations(&d) {
        let mut declared = BTreeSet::new();
        for p in item["parameters"].as_array().into_iter().flatten().chain(op["parameters"].as_array().into_iter().flatten()) {
            if p["in"] == "path" {
                assert_eq!(p["required"], true, "{m} {path}: path parameter {} must be required", p["name"]);
                declared.insert(p["name"].as_str().expect("parameter name").to_string());
            }
        }
        assert_eq!(declared, param_names(&path), "{m} {path}: path parameters");
    }
}

#[tokio::test]
async fn every_operation_has_a_success_response() {
    let d = doc().await;
    for (m, path, op, _) in operations(&d) {
        let responses = op["responses"].as_object().unwrap_or_else(|| panic!("{m} {path}: no responses"));
        // A page form's success may be a 303 to the next page (post, redirect, get).
        assert!(responses.keys().any(|k| k.starts_with('2') || k == "303"), "{m} {path}: no 2xx (or 303) response");
        for (status, r) in responses {
            assert!(status.len() == 3 && status.chars().all(|c| c.is_ascii_digit()), "{m} {path}: status `{status}`");
            if r.get("$ref").is_none() {
                assert!(r["description"].as_str().is_some_and(|s| !s.is_empty()), "{m} {path} {status}: no description");
            }
        }
    }
}

#[tokio::test]
async fn credentials_are_documented_as_the_handlers_require_them() {
    let d = doc().await;
    let schemes = d["components"]["securitySchemes"].as_object().expect("security schemes");
    assert_eq!(schemes["XApiKey"]["type"], "apiKey");
    assert_eq!(schemes["XApiKey"]["in"], "header");
    assert_eq!(schemes["XApiKey"]["name"], "XApiKey");
    for bearer in ["ClientBearer", "OperatorBearer", "MetricsBearer"] {
        assert_eq!(schemes[bearer]["type"], "http");
        assert_eq!(schemes[bearer]["scheme"], "bearer");
    }
    assert!(d.get("security").is_none(), "no document-wide security: the pages and /healthz are public");

    let by_route: BTreeMap<(String, String), Route> =
        router_routes().into_iter().map(|r| ((r.method.clone(), normalise(&r.path)), r)).collect();
    let mut checked = 0;
    for (m, path, op, _) in operations(&d) {
        let route = &by_route[&(m.clone(), normalise(&path))];
        let used: BTreeSet<String> =
            op["security"].as_array().into_iter().flatten().flat_map(|req| req.as_object().expect("requirement").keys().cloned()).collect();
        for s in &used {
            assert!(schemes.contains_key(s), "{m} {path}: unknown security scheme {s}");
        }
        let expected: BTreeSet<String> = match route.credential {
            Some("Partner") => ["XApiKey"].into_iter().map(String::from).collect(),
            Some("Customer") => ["XApiKey", "ClientBearer"].into_iter().map(String::from).collect(),
            Some("Operator") => ["OperatorBearer", "OperatorSession"].into_iter().map(String::from).collect(),
            Some("Scraper") => ["MetricsBearer"].into_iter().map(String::from).collect(),
            _ => BTreeSet::new(),
        };
        assert_eq!(used, expected, "{m} {path} (handler `{}`, credential {:?}): security", route.handler, route.credential);
        let has_401 = op["responses"].get("401").is_some();
        assert_eq!(has_401, route.credential.is_some(), "{m} {path}: a 401 exactly when the handler requires credentials");
        if API_BASES.iter().any(|b| path.starts_with(b)) {
            assert!(route.credential.is_some(), "{m} {path}: an API route whose handler takes no credential");
        }
        checked += 1;
    }
    assert!(checked > 40);
}

#[tokio::test]
async fn json_errors_use_the_documented_error_bodies() {
    let d = doc().await;
    for (m, path, op, _) in operations(&d) {
        for (status, r) in op["responses"].as_object().expect("responses") {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            if let Some(r) = r.get("$ref") {
                let expected = if status == "413" { "PayloadTooLarge" } else { "InternalError" };
                assert_eq!(r, &format!("#/components/responses/{expected}"), "{m} {path} {status}");
                continue;
            }
            if let Some(json) = r["content"].get("application/json") {
                let schema = json["schema"]["$ref"].as_str().unwrap_or_default();
                let ok = schema == "#/components/schemas/ErrorBody"
                    || (schema == "#/components/schemas/ClientConflictBody" && status == "409" && path == "/referral-api/clients")
                    || (schema == "#/components/schemas/Health" && status == "503" && path == "/healthz");
                assert!(ok, "{m} {path} {status}: error schema {schema:?}");
            }
        }
        if API_BASES.iter().any(|b| path.starts_with(b)) {
            assert!(op["responses"].get("500").is_some(), "{m} {path}: no 500");
            // An oversized body answers the error body too (edge and extractors alike).
            if op.get("requestBody").is_some() {
                assert_eq!(op["responses"]["413"]["$ref"], "#/components/responses/PayloadTooLarge", "{m} {path}: 413");
            }
        }
    }
    let error = &d["components"]["schemas"]["ErrorBody"];
    let required: BTreeSet<&str> = error["required"].as_array().expect("required").iter().filter_map(Value::as_str).collect();
    assert_eq!(required, BTreeSet::from(["error", "message", "businessErrors"]));
    let item = &d["components"]["schemas"]["BusinessError"]["properties"];
    for field in ["type", "message", "solutionUrl"] {
        assert!(item.get(field).is_some(), "businessErrors[] lacks {field}");
    }
    let conflict = &d["components"]["schemas"]["ClientConflictBody"]["properties"];
    for field in ["type", "message", "data"] {
        assert!(conflict.get(field).is_some(), "the 409 body lacks {field}");
    }
}

#[tokio::test]
async fn every_reference_resolves() {
    fn walk(v: &Value, refs: &mut BTreeSet<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    refs.insert(r.clone());
                }
                map.values().for_each(|v| walk(v, refs));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
            _ => {}
        }
    }
    let d = doc().await;
    let mut refs = BTreeSet::new();
    walk(&d, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("external reference {r}"));
        assert!(d.pointer(pointer).is_some(), "unresolved reference {r}");
    }
}

#[tokio::test]
async fn operations_are_tagged_and_uniquely_named() {
    let d = doc().await;
    let tags: BTreeSet<&str> = d["tags"].as_array().expect("tags").iter().filter_map(|t| t["name"].as_str()).collect();
    let mut ids = BTreeSet::new();
    for (m, path, op, _) in operations(&d) {
        let op_tags: Vec<&str> = op["tags"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        assert_eq!(op_tags.len(), 1, "{m} {path}: tags {op_tags:?}");
        assert!(tags.contains(op_tags[0]), "{m} {path}: undeclared tag {}", op_tags[0]);
        let expected = match path.as_str() {
            p if p.starts_with("/referral-api/") => "Referral Partner API",
            p if p.starts_with("/customer-api/") => "Customer API",
            p if p.starts_with("/admin-api/v1/") => "Operator API",
            p if p.starts_with("/onboarding/") || p.starts_with("/link-requests/") || p.starts_with("/agreements/") => "Hosted pages",
            p if p.starts_with("/login") || p == "/account" || p.starts_with("/account/") || p == "/logout" => "Hosted pages",
            p if p == "/dashboard" || p.starts_with("/dashboard/") => "Partner Dashboard",
            _ => "Service",
        };
        assert_eq!(op_tags[0], expected, "{m} {path}: tag");
        let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{m} {path}: no operationId"));
        assert!(ids.insert(id.to_string()), "duplicate operationId {id}");
        assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{m} {path}: no summary");
    }
}

#[tokio::test]
async fn mirrored_apis_use_pascal_case_query_parameters() {
    let d = doc().await;
    for (m, path, op, _) in operations(&d) {
        if !(path.starts_with("/referral-api/") || path.starts_with("/customer-api/")) {
            continue;
        }
        for p in op["parameters"].as_array().into_iter().flatten() {
            if p["in"] == "query" {
                let name = p["name"].as_str().expect("name");
                assert!(name.starts_with(|c: char| c.is_ascii_uppercase()), "{m} {path}: query parameter {name} is not PascalCase");
            }
        }
    }
}

#[tokio::test]
async fn list_responses_carry_the_page_object() {
    let d = doc().await;
    let page = &d["components"]["schemas"]["Page"];
    let required: BTreeSet<&str> = page["required"].as_array().expect("required").iter().filter_map(Value::as_str).collect();
    assert_eq!(required, BTreeSet::from(["totalResults", "pageSize", "currentPage", "responseCount", "totalPages"]));
    for (path, schema) in [
        ("/referral-api/clients", "ClientList"),
        ("/referral-api/cases", "PartnerCaseList"),
        ("/referral-api/reporting/transactions", "TransactionsReport"),
        ("/customer-api/cases", "CustomerCaseList"),
    ] {
        let ok = &d["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"];
        assert_eq!(ok, &format!("#/components/schemas/{schema}"), "GET {path}");
        assert_eq!(d["components"]["schemas"][schema]["properties"]["page"]["$ref"], "#/components/schemas/Page", "{schema}.page");
    }
}

#[test]
fn the_route_scan_reads_method_chains_and_ignores_comments() {
    let src = strip_comments(
        "fn r() { Router::new()\n  // .route(\"/commented\", get(x))\n  .route(\"/a/{id}\", get(h).post(m::p))\n  /* .route(\"/b\", get(y)) */ .route( \"/c\" , delete(z) ) }",
    );
    let calls: Vec<_> = method_calls(&src).into_iter().filter(|(n, _)| n == "route").collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    let args = split_args(&calls[0].1.chars().collect::<Vec<_>>());
    assert_eq!(string_literal(&args[0]), "/a/{id}");
    assert_eq!(args[1], "get(h).post(m::p)");
    assert_eq!(normalise("/a/{external_tenant_id}/b/{x}"), "/a/{}/b/{}");
    assert_eq!(param_names("/a/{one}/b/{two}"), BTreeSet::from(["one".to_string(), "two".to_string()]));
}
