//! Embeds the built web apps (web/dist/console and web/dist/m, made by
//! `scripts/build-web`, which the component's `spin build` command runs
//! first) as a table of `wangjie_shared::site::Asset`s. The front-end
//! build also wrote `.br` and `.gz` copies of what compresses well; they
//! are embedded beside each file.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// (the table's name, the folder under web/dist)
const APPS: [(&str, &str); 2] = [("CONSOLE", "console"), ("READER", "m")];

fn main() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/dist");
    let mut code = String::new();
    for (table, folder) in APPS {
        let root = dist.join(folder);
        println!("cargo:rerun-if-changed={}", root.display());
        if !root.join("index.html").is_file() {
            panic!(
                "{} has no index.html: build the web apps first (bash scripts/build-web; \
                 spin build runs it)",
                root.display()
            );
        }
        let mut files = Vec::new();
        walk(&root, &mut files);
        files.sort();
        writeln!(code, "pub static {table}: &[Asset] = &[").unwrap();
        for file in files {
            let inside = file
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if inside.ends_with(".br") || inside.ends_with(".gz") {
                continue;
            }
            let bytes = std::fs::read(&file).unwrap();
            let etag = format!("\"{:x}\"", Sha256::digest(&bytes));
            let copy = |suffix: &str| {
                let path = PathBuf::from(format!("{}.{suffix}", file.display()));
                if path.is_file() {
                    format!("Some(include_bytes!({:?}))", path.display().to_string())
                } else {
                    "None".into()
                }
            };
            writeln!(
                code,
                "    Asset {{ path: {inside:?}, content_type: {:?}, etag: {etag:?}, \
                 identity: include_bytes!({:?}), gzip: {}, brotli: {} }},",
                content_type(&inside),
                file.display().to_string(),
                copy("gz"),
                copy("br"),
            )
            .unwrap();
        }
        writeln!(code, "];").unwrap();
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("assets.rs");
    std::fs::write(out, code).unwrap();
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// The media types a Vite build emits.
fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
