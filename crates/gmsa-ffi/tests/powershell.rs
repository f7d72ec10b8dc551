//! Checks of the PowerShell module that need no PowerShell: every `.ps1/.psm1/.psd1` under
//! `powershell/` parses with a PowerShell grammar (tree-sitter-powershell); the module's
//! P/Invoke declarations match `include/gmsa.h`; every exported cmdlet calls an entry point
//! that exists, and every operation of the header has a cmdlet. Deliberately broken copies
//! show that each check fails when it should.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn module_dir() -> PathBuf {
    workspace().join("powershell/KubeGmsa")
}

fn header() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("include/gmsa.h"))
        .expect("read include/gmsa.h")
}

fn parse(text: &str) -> tree_sitter::Tree {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("load the PowerShell grammar");
    parser.parse(text, None).expect("the parser returns a tree")
}

/// Syntax errors in PowerShell source, as "line:column: what".
fn syntax_errors(text: &str) -> Vec<String> {
    let tree = parse(text);
    let mut errors = vec![];
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            let p = node.start_position();
            let what = if node.is_missing() {
                format!("missing {}", node.kind())
            } else {
                "unexpected text".to_owned()
            };
            let snippet: String = text[node.byte_range()].chars().take(40).collect();
            errors.push(format!(
                "{}:{}: {what} {snippet:?}",
                p.row + 1,
                p.column + 1
            ));
        }
        if node.has_error() {
            let mut cursor = node.walk();
            stack.extend(node.children(&mut cursor));
        }
    }
    errors.sort();
    errors
}

/// The module's own scripts: KubeGmsa.psm1 first, then the .ps1 files beside it.
fn module_scripts(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.join("KubeGmsa.psm1")];
    let mut rest: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "ps1"))
        .collect();
    rest.sort();
    out.extend(rest);
    out
}

/// Every PowerShell file under a folder.
fn powershell_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("ps1" | "psm1" | "psd1")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The functions a script defines, with their full text (tree-sitter `function_statement`).
fn functions(text: &str) -> BTreeMap<String, String> {
    let tree = parse(text);
    let mut out = BTreeMap::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.kind() == "function_statement" {
            let mut cursor = node.walk();
            let name = node
                .children(&mut cursor)
                .find(|c| c.kind() == "function_name");
            if let Some(name) = name {
                out.insert(
                    text[name.byte_range()].to_owned(),
                    text[node.byte_range()].to_owned(),
                );
            }
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    out
}

/// A C or C# signature: return type and parameter types, normalized.
#[derive(Debug, Clone, PartialEq)]
struct Signature {
    ret: String,
    params: Vec<String>,
}

/// Normalize a C type: no `const`/`struct`, no spaces, `*` kept.
fn c_type(t: &str) -> String {
    t.split_whitespace()
        .filter(|w| *w != "const" && *w != "struct")
        .collect::<String>()
}

/// Split a C parameter into its type (the name is the last identifier).
fn c_param_type(p: &str) -> String {
    let p = p.trim();
    let name_start = p
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    c_type(&p[..name_start])
}

/// The `gmsa_*` functions, `typedef`s of function pointers and `#define`s of the header.
struct Header {
    functions: BTreeMap<String, Signature>,
    progress_fn: Signature,
    abi_version: u32,
    status_is_int32: bool,
}

fn parse_header(h: &str) -> Header {
    let comments = Regex::new(r"(?s)/\*.*?\*/|//[^\n]*").unwrap();
    let text = comments.replace_all(h, " ");
    let abi_version = Regex::new(r"#define GMSA_ABI_VERSION (\d+)")
        .unwrap()
        .captures(&text)
        .expect("GMSA_ABI_VERSION in gmsa.h")[1]
        .parse()
        .unwrap();
    let status_is_int32 = text.contains("typedef int32_t GmsaStatus;");
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join(" ");
    let decl =
        Regex::new(r"((?:const\s+)?[A-Za-z_]\w*[\s\*]*?)\b(gmsa_\w+)\s*\(([^()]*)\)\s*$").unwrap();
    let mut functions = BTreeMap::new();
    for stmt in code.split(';') {
        if let Some(c) = decl.captures(stmt.trim()) {
            let params = c[3].trim();
            let params = if params == "void" || params.is_empty() {
                vec![]
            } else {
                params.split(',').map(c_param_type).collect()
            };
            functions.insert(
                c[2].to_owned(),
                Signature {
                    ret: c_type(&c[1]),
                    params,
                },
            );
        }
    }
    let pf = Regex::new(r"typedef\s+(\w+)\s*\(\s*\*\s*GmsaProgressFn\s*\)\s*\(([^()]*)\)").unwrap();
    let c = pf.captures(&code).expect("GmsaProgressFn in gmsa.h");
    let progress_fn = Signature {
        ret: c_type(&c[1]),
        params: c[2].split(',').map(c_param_type).collect(),
    };
    Header {
        functions,
        progress_fn,
        abi_version,
        status_is_int32,
    }
}

/// Whether a C# type marshals as a C type.
fn compatible(cs: &str, c: &str) -> bool {
    match cs {
        "IntPtr" => c.ends_with('*') && !c.ends_with("**"),
        "out IntPtr" | "ref IntPtr" => c.ends_with("**"),
        "byte[]" => c == "uint8_t*",
        "UIntPtr" => c == "size_t" || c == "uintptr_t",
        "out UIntPtr" | "ref UIntPtr" => c == "size_t*",
        "int" => c == "int32_t" || c == "GmsaStatus",
        "uint" => c == "uint32_t",
        "void" => c == "void",
        "ProgressFn" => c == "GmsaProgressFn",
        _ => false,
    }
}

fn cs_params(list: &str) -> Vec<String> {
    if list.trim().is_empty() {
        return vec![];
    }
    list.split(',')
        .map(|p| {
            let words: Vec<&str> = p.split_whitespace().collect();
            words[..words.len() - 1].join(" ")
        })
        .collect()
}

fn check_signature(what: &str, cs: &Signature, c: &Signature, problems: &mut Vec<String>) {
    let ok = compatible(&cs.ret, &c.ret)
        && cs.params.len() == c.params.len()
        && cs
            .params
            .iter()
            .zip(&c.params)
            .all(|(a, b)| compatible(a, b));
    if !ok {
        problems.push(format!(
            "{what}: the module declares ({}) -> {} but gmsa.h has ({}) -> {}",
            cs.params.join(", "),
            cs.ret,
            c.params.join(", "),
            c.ret
        ));
    }
}

/// Every disagreement between a module folder and a header; empty when they agree.
fn check_module(dir: &Path, header_text: &str) -> Vec<String> {
    let mut problems = vec![];
    let read =
        |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("read {f}: {e}"));
    let psd1 = read("KubeGmsa.psd1");
    // The module's PowerShell (KubeGmsa.psm1 and the .ps1 files it dot-sources), and its C#.
    let psm1 = module_scripts(dir)
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let cs = read("KubeGmsa.Native.cs");
    for f in powershell_files(dir) {
        for e in syntax_errors(&std::fs::read_to_string(&f).unwrap()) {
            problems.push(format!("{}: syntax error at {e}", f.display()));
        }
    }
    let header = parse_header(header_text);
    if !header.status_is_int32 {
        problems.push("gmsa.h: GmsaStatus is not an int32_t".into());
    }

    // Versions.
    let version = Regex::new(r"ModuleVersion\s*=\s*'([^']+)'")
        .unwrap()
        .captures(&psd1)
        .map(|c| c[1].to_owned());
    if version.as_deref() != Some(env!("CARGO_PKG_VERSION")) {
        problems.push(format!(
            "KubeGmsa.psd1: ModuleVersion {version:?} is not the workspace version {}",
            env!("CARGO_PKG_VERSION")
        ));
    }
    let abi = Regex::new(r"(?m)^\$script:AbiVersion = (\d+)")
        .unwrap()
        .captures(&psm1)
        .map(|c| c[1].parse::<u32>().unwrap());
    if abi != Some(header.abi_version) {
        problems.push(format!(
            "KubeGmsa.psm1: AbiVersion {abi:?} is not GMSA_ABI_VERSION {}",
            header.abi_version
        ));
    }
    for edition in ["Desktop", "Core"] {
        if !psd1.contains(&format!("'{edition}'")) {
            problems.push(format!(
                "KubeGmsa.psd1: CompatiblePSEditions lacks {edition}"
            ));
        }
    }

    // P/Invoke declarations against the header.
    let externs: BTreeMap<String, Signature> =
        Regex::new(r"public static extern (\w+) (gmsa_\w+)\(([^)]*)\);")
            .unwrap()
            .captures_iter(&cs)
            .map(|c| {
                (
                    c[2].to_owned(),
                    Signature {
                        ret: c[1].to_owned(),
                        params: cs_params(&c[3]),
                    },
                )
            })
            .collect();
    for (name, sig) in &externs {
        match header.functions.get(name) {
            None => problems.push(format!(
                "KubeGmsa.Native.cs declares {name}, which gmsa.h does not have"
            )),
            Some(c) => check_signature(name, sig, c, &mut problems),
        }
    }
    let delegate = |name: &str| {
        Regex::new(&format!(r"public delegate (\w+) {name}\(([^)]*)\);"))
            .unwrap()
            .captures(&cs)
            .map(|c| Signature {
                ret: c[1].to_owned(),
                params: cs_params(&c[2]),
            })
    };
    match delegate("ProgressFn") {
        Some(d) => check_signature("ProgressFn", &d, &header.progress_fn, &mut problems),
        None => problems.push("KubeGmsa.Native.cs has no ProgressFn delegate".into()),
    }
    let op_delegate =
        delegate("OperationFn").expect("an OperationFn delegate in KubeGmsa.Native.cs");
    // Operations: header functions with the operation calling convention.
    let op_sig = Signature {
        ret: "GmsaStatus".into(),
        params: ["GmsaContext*", "uint8_t*", "size_t", "uint8_t**", "size_t*"]
            .map(String::from)
            .to_vec(),
    };
    let operations: BTreeSet<&String> = header
        .functions
        .iter()
        .filter(|(_, s)| **s == op_sig)
        .map(|(n, _)| n)
        .collect();
    let dispatch: BTreeSet<String> = Regex::new(r#"case "(gmsa_\w+)": return (gmsa_\w+);"#)
        .unwrap()
        .captures_iter(&cs)
        .map(|c| {
            if c[1] != c[2] {
                problems.push(format!(
                    "KubeGmsa.Native.cs: case {} returns {}",
                    &c[1], &c[2]
                ));
            }
            c[1].to_owned()
        })
        .collect();
    for name in &dispatch {
        match (externs.get(name), header.functions.get(name)) {
            (Some(e), Some(h)) => {
                if *e != op_delegate {
                    problems.push(format!(
                        "KubeGmsa.Native.cs: {name} does not have the OperationFn signature"
                    ));
                }
                if *h != op_sig {
                    problems.push(format!("{name} is not an operation in gmsa.h"));
                }
            }
            _ => problems.push(format!(
                "KubeGmsa.Native.cs dispatches {name}, which is not declared or not in gmsa.h"
            )),
        }
    }

    // Cmdlets: exported, documented, and calling entry points that exist.
    let list = |re: &str, text: &str| -> BTreeSet<String> {
        let block = Regex::new(re)
            .unwrap()
            .captures(text)
            .map(|c| c[1].to_owned())
            .unwrap_or_default();
        Regex::new(r"'([\w-]+)'")
            .unwrap()
            .captures_iter(&block)
            .map(|c| c[1].to_owned())
            .collect()
    };
    let exported = list(r"(?s)FunctionsToExport\s*=\s*@\((.*?)\)", &psd1);
    let member = list(r"(?s)Export-ModuleMember -Function @\((.*?)\)", &psm1);
    let defined = functions(&psm1);
    let public: BTreeSet<String> = defined
        .keys()
        .filter(|n| n.contains("-KubeGmsa") && !is_private(n))
        .cloned()
        .collect();
    if exported != member || exported != public {
        problems.push(format!(
            "exported functions disagree: FunctionsToExport {exported:?}, Export-ModuleMember {member:?}, public functions defined {public:?}"
        ));
    }
    let call = Regex::new(r"Invoke-KubeGmsaNative\b[^\n]*?(?:-EntryPoint )?'(gmsa_\w+)'").unwrap();
    let mut called = BTreeSet::new();
    for name in &exported {
        let Some(body) = defined.get(name) else {
            problems.push(format!("{name} is exported but not defined"));
            continue;
        };
        for section in [".SYNOPSIS", ".EXAMPLE"] {
            if !body.contains(section) {
                problems.push(format!("{name} has no {section} in its comment-based help"));
            }
        }
        let entry_points: Vec<String> = call.captures_iter(body).map(|c| c[1].to_owned()).collect();
        if entry_points.is_empty() {
            problems.push(format!("{name} calls no entry point"));
        }
        for ep in entry_points {
            if !header.functions.contains_key(&ep) {
                problems.push(format!("{name} calls {ep}, which gmsa.h does not have"));
            } else if !dispatch.contains(&ep) {
                problems.push(format!(
                    "{name} calls {ep}, which KubeGmsa.Native.cs does not declare"
                ));
            }
            called.insert(ep);
        }
        if body.contains("dry_run") && !body.contains("SupportsShouldProcess = $true") {
            problems.push(format!(
                "{name} writes but does not support -WhatIf/-Confirm"
            ));
        }
    }
    for op in operations {
        if !called.contains(op) {
            problems.push(format!("gmsa.h exports {op}, but no cmdlet calls it"));
        }
    }

    // Packaging: FileList names every file of the module (and the LICENSE the package adds),
    // and no script grows past 800 lines.
    let listed: BTreeSet<String> = Regex::new(r"(?s)FileList\s*=\s*@\((.*?)\)")
        .unwrap()
        .captures(&psd1)
        .map(|c| {
            Regex::new(r"'([^']+)'")
                .unwrap()
                .captures_iter(&c[1])
                .map(|q| q[1].to_owned())
                .collect()
        })
        .unwrap_or_default();
    let mut present: BTreeSet<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "README.md")
        .collect();
    present.insert("LICENSE".into());
    if listed != present {
        problems.push(format!(
            "KubeGmsa.psd1: FileList {listed:?} is not the module's files {present:?}"
        ));
    }
    for f in module_scripts(dir) {
        let lines = std::fs::read_to_string(&f).unwrap().lines().count();
        if lines > 800 {
            problems.push(format!("{}: {lines} lines (at most 800)", f.display()));
        }
    }
    problems
}

fn is_private(name: &str) -> bool {
    // Helpers have KubeGmsa in their noun too; the public cmdlets are the others.
    const PRIVATE: [&str; 15] = [
        "Get-KubeGmsaRuntimeId",
        "Get-KubeGmsaLibraryPath",
        "Initialize-KubeGmsaNative",
        "ConvertTo-KubeGmsaWords",
        "Resolve-KubeGmsaPath",
        "New-KubeGmsaRequest",
        "Get-KubeGmsaDryRun",
        "Get-KubeGmsaNamespace",
        "ConvertTo-KubeGmsaPlainDate",
        "Invoke-KubeGmsaNative",
        "Add-KubeGmsaTypeName",
        "New-KubeGmsaDirectoryTarget",
        "Stop-KubeGmsaInvalidInput",
        "Get-KubeGmsaWebhookName",
        "New-KubeGmsaTarget",
    ];
    PRIVATE.contains(&name)
}

/// The `| cmdlet | entry point | ... |` rows of powershell/README.md's cmdlet table.
fn readme_rows(readme: &str) -> BTreeMap<String, String> {
    Regex::new(r"(?m)^\| `([A-Z][\w-]+)` \| `(gmsa_\w+)` \|")
        .unwrap()
        .captures_iter(readme)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect()
}

/// Disagreements between the README's cmdlet table and the module: every exported cmdlet is
/// listed with the entry point it calls, nothing else is listed, and nothing is "planned".
fn check_readme(readme: &str, dir: &Path) -> Vec<String> {
    let psm1 = module_scripts(dir)
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let defined = functions(&psm1);
    let call = Regex::new(r"Invoke-KubeGmsaNative\b[^\n]*?(?:-EntryPoint )?'(gmsa_\w+)'").unwrap();
    let public: BTreeMap<String, String> = defined
        .iter()
        .filter(|(n, _)| n.contains("-KubeGmsa") && !is_private(n))
        .filter_map(|(n, body)| call.captures(body).map(|c| (n.clone(), c[1].to_owned())))
        .collect();
    let rows = readme_rows(readme);
    let mut problems = vec![];
    for (name, ep) in &public {
        match rows.get(name) {
            None => problems.push(format!("README.md does not list {name}")),
            Some(r) if r != ep => problems.push(format!(
                "README.md says {name} calls {r}, but it calls {ep}"
            )),
            Some(_) => {}
        }
    }
    for name in rows.keys() {
        if !public.contains_key(name) {
            problems.push(format!(
                "README.md lists {name}, which the module does not export"
            ));
        }
    }
    for word in ["pending", "(planned)", "What comes next"] {
        if readme.contains(word) {
            problems.push(format!("README.md still says {word:?}"));
        }
    }
    problems
}

#[test]
fn the_readme_lists_every_cmdlet_with_its_entry_point() {
    let readme = std::fs::read_to_string(workspace().join("powershell/README.md")).unwrap();
    let problems = check_readme(&readme, &module_dir());
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(readme_rows(&readme).len() >= 16);
    // And the check fails when it should.
    let stale = readme.replacen(
        "| `Get-KubeGmsaStatus` | `gmsa_status` |",
        "| `Get-KubeGmsaStatus` | `gmsa_webhook_status` |",
        1,
    );
    assert_ne!(stale, readme);
    assert_reports(
        &check_readme(&stale, &module_dir()),
        "README.md says Get-KubeGmsaStatus calls gmsa_webhook_status, but it calls gmsa_status",
    );
    let missing = readme.replacen(
        "| `New-KubeGmsaAccount` | `gmsa_create_account` |",
        "| x |",
        1,
    );
    assert_reports(
        &check_readme(&missing, &module_dir()),
        "README.md does not list New-KubeGmsaAccount",
    );
}

/// A copy of the module folder, to break on purpose: `edit` runs on each source file
/// (manifest, scripts, C#) and must change at least one.
fn broken_copy(mut edit: impl FnMut(&mut String)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut changed = false;
    for e in std::fs::read_dir(module_dir()).unwrap().flatten() {
        let path = e.path();
        if !path.is_file() || path.extension().is_some_and(|x| x == "md") {
            continue;
        }
        let mut text = std::fs::read_to_string(&path).unwrap();
        let before = text.clone();
        edit(&mut text);
        changed |= text != before;
        std::fs::write(dir.path().join(e.file_name()), text).unwrap();
    }
    assert!(changed, "the edit must change the module");
    dir
}

fn assert_reports(problems: &[String], needle: &str) {
    assert!(
        problems.iter().any(|p| p.contains(needle)),
        "expected a problem mentioning {needle:?}, got {problems:#?}"
    );
}

#[test]
fn every_powershell_file_parses() {
    let files = powershell_files(&workspace().join("powershell"));
    assert!(
        files.len() >= 3,
        "expected the manifest, the module and the Pester tests, found {files:?}"
    );
    let errors: Vec<String> = files
        .iter()
        .flat_map(|f| {
            syntax_errors(&std::fs::read_to_string(f).unwrap())
                .into_iter()
                .map(move |e| format!("{}: {e}", f.display()))
        })
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn the_module_agrees_with_the_header() {
    let problems = check_module(&module_dir(), &header());
    assert!(problems.is_empty(), "{problems:#?}");
    // And the check looked at something: every operation of the header is called.
    let ops = parse_header(&header()).functions.len();
    assert!(ops >= 21, "gmsa.h has {ops} functions");
}

#[test]
fn a_syntax_error_is_reported() {
    let dir = broken_copy(|t| {
        *t = t.replacen(
            "if ($null -eq $dryRun) { return }",
            "if ($null -eq $dryRun) { return ",
            1,
        )
    });
    let problems = check_module(dir.path(), &header());
    assert_reports(&problems, "syntax error");
}

#[test]
fn a_cmdlet_naming_a_missing_entry_point_is_reported() {
    let dir = broken_copy(|t| {
        *t = t.replacen(
            "$PSCmdlet 'gmsa_bind_role'",
            "$PSCmdlet 'gmsa_bind_roles'",
            1,
        )
    });
    let problems = check_module(dir.path(), &header());
    assert_reports(
        &problems,
        "Add-KubeGmsaRoleBinding calls gmsa_bind_roles, which gmsa.h does not have",
    );
    assert_reports(
        &problems,
        "gmsa.h exports gmsa_bind_role, but no cmdlet calls it",
    );
}

#[test]
fn a_webhook_or_directory_cmdlet_without_its_entry_point_is_reported() {
    // The dispatch case and the DllImport of a new export gone: the cmdlet calls an entry
    // point the module does not declare.
    let dir = broken_copy(|t| {
        *t = t.replacen(
            "                case \"gmsa_create_account\": return gmsa_create_account;\n",
            "",
            1,
        )
    });
    assert_reports(
        &check_module(dir.path(), &header()),
        "New-KubeGmsaAccount calls gmsa_create_account, which KubeGmsa.Native.cs does not declare",
    );
    // A write without -WhatIf/-Confirm.
    let dir = broken_copy(|t| {
        let Some(start) = t.find("function New-KubeGmsaAccount {") else {
            return;
        };
        let rel = t[start..]
            .find("[CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]")
            .unwrap();
        t.replace_range(
            start + rel
                ..start
                    + rel
                    + "[CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]"
                        .len(),
            "[CmdletBinding()]",
        );
    });
    assert_reports(
        &check_module(dir.path(), &header()),
        "New-KubeGmsaAccount writes but does not support -WhatIf/-Confirm",
    );
}

#[test]
fn a_declaration_missing_from_the_header_is_reported() {
    let dir = broken_copy(|t| *t = t.replace("gmsa_check_access", "gmsa_check_accesses"));
    let problems = check_module(dir.path(), &header());
    assert_reports(
        &problems,
        "KubeGmsa.Native.cs declares gmsa_check_accesses, which gmsa.h does not have",
    );
}

#[test]
fn a_signature_mismatch_is_reported() {
    let dir = broken_copy(|t| {
        *t = t.replacen(
            "public static extern int gmsa_get(IntPtr ctx, byte[] request, UIntPtr requestLen, out IntPtr outBuf, out UIntPtr outLen);",
            "public static extern int gmsa_get(IntPtr ctx, byte[] request, uint requestLen, out IntPtr outBuf, out UIntPtr outLen);",
            1,
        )
    });
    let problems = check_module(dir.path(), &header());
    assert_reports(&problems, "gmsa_get: the module declares");
    let dir = broken_copy(|t| {
        *t = t.replacen(
            "public static extern void gmsa_buffer_free(IntPtr buffer, UIntPtr len);",
            "public static extern void gmsa_buffer_free(IntPtr buffer);",
            1,
        )
    });
    assert_reports(
        &check_module(dir.path(), &header()),
        "gmsa_buffer_free: the module declares",
    );
}

#[test]
fn an_export_without_a_cmdlet_is_reported() {
    let h = header().replacen(
        "void gmsa_buffer_free(",
        "GmsaStatus gmsa_new_operation(const GmsaContext *ctx, const uint8_t *request, size_t request_len, uint8_t **out, size_t *out_len);\n\nvoid gmsa_buffer_free(",
        1,
    );
    assert_ne!(h, header());
    let problems = check_module(&module_dir(), &h);
    assert_eq!(
        problems,
        vec!["gmsa.h exports gmsa_new_operation, but no cmdlet calls it".to_owned()]
    );
}

#[test]
fn an_abi_version_mismatch_and_an_unexported_cmdlet_are_reported() {
    let dir =
        broken_copy(|t| *t = t.replacen("$script:AbiVersion = 1", "$script:AbiVersion = 2", 1));
    assert_reports(&check_module(dir.path(), &header()), "AbiVersion Some(2)");
    let dir = broken_copy(|t| {
        *t = t.replacen(
            "    'Set-KubeGmsaWorkload'\n)",
            "    'Set-KubeGmsaWorkload',\n    'Get-KubeGmsaDryRun'\n)",
            1,
        )
    });
    assert_reports(
        &check_module(dir.path(), &header()),
        "exported functions disagree",
    );
}

/// Release packaging (scripts/package.sh module): the zip holds the manifest, the module and
/// this host's native library in bin/<rid>/, and what it holds passes the same checks.
#[test]
fn the_packaged_module_holds_the_library_and_passes_the_checks() {
    let dist = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("bash")
        .arg(workspace().join("scripts/package.sh"))
        .args(["module", "--profile", "debug"])
        .env("DIST", dist.path())
        .status()
        .unwrap();
    assert!(status.success(), "scripts/package.sh module failed");
    let zip = std::fs::read_dir(dist.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "zip"))
        .expect("a module zip");
    let unpacked = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("python3")
        .args(["-m", "zipfile", "-e"])
        .arg(&zip)
        .arg(unpacked.path())
        .status()
        .unwrap();
    assert!(status.success());
    let module = unpacked.path().join("KubeGmsa");
    let rid = match std::env::consts::ARCH {
        "x86_64" => "linux-x64",
        "aarch64" => "linux-arm64",
        other => panic!("no rid for {other}"),
    };
    for f in [
        "KubeGmsa.psd1",
        "KubeGmsa.psm1",
        "KubeGmsa.Native.cs",
        "LICENSE",
    ] {
        assert!(module.join(f).is_file(), "{f} missing from the package");
    }
    let lib = module.join("bin").join(rid).join("libgmsa_ffi.so");
    let bytes = std::fs::read(&lib).expect("the native library for this host");
    assert_eq!(&bytes[..4], b"\x7fELF", "a shared library");
    let problems = check_module(&module, &header());
    assert!(problems.is_empty(), "{problems:#?}");
    let errors: Vec<String> = powershell_files(&module)
        .iter()
        .flat_map(|f| syntax_errors(&std::fs::read_to_string(f).unwrap()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

// ---------------------------------------------------------------- parameter binding

/// The parameters of a cmdlet (from its `param(...)` block): each name with its aliases,
/// plus PowerShell's common parameters (and -WhatIf/-Confirm with SupportsShouldProcess),
/// which take part in name matching as well.
fn parameters(function: &str) -> Vec<(String, Vec<String>)> {
    let start = function.find("param(").expect("a param block");
    let end = start
        + function[start..]
            .find("\n    )\n")
            .expect("the end of the param block");
    let block = &function[start..end];
    let var = Regex::new(r"\]\s*\$(\w+)").unwrap();
    let alias = Regex::new(r"Alias\(([^)]*)\)").unwrap();
    let quoted = Regex::new(r"'([^']+)'").unwrap();
    let mut out = vec![];
    let mut prev = 0;
    for m in var.captures_iter(block) {
        let whole = m.get(0).unwrap();
        let chunk = &block[prev..whole.start()];
        let aliases = alias
            .captures_iter(chunk)
            .flat_map(|a| {
                quoted
                    .captures_iter(&a[1])
                    .map(|q| q[1].to_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        out.push((m[1].to_owned(), aliases));
        prev = whole.end();
    }
    let mut common = vec![
        ("Verbose", "vb"),
        ("Debug", "db"),
        ("ErrorAction", "ea"),
        ("WarningAction", "wa"),
        ("InformationAction", "infa"),
        ("ProgressAction", "proga"),
        ("ErrorVariable", "ev"),
        ("WarningVariable", "wv"),
        ("InformationVariable", "iv"),
        ("OutVariable", "ov"),
        ("OutBuffer", "ob"),
        ("PipelineVariable", "pv"),
    ];
    if function.contains("SupportsShouldProcess = $true") {
        common.extend([("WhatIf", "wi"), ("Confirm", "cf")]);
    }
    out.extend(
        common
            .into_iter()
            .map(|(n, a)| (n.to_owned(), vec![a.to_owned()])),
    );
    out
}

/// The parameter `-typed` binds to, by PowerShell's rule for names
/// (MergedCommandParameterMetadata.GetMatchingParameter): case-insensitive; a parameter
/// whose name or alias equals what was typed wins; otherwise every parameter with a name or
/// alias starting with it matches, and more than one match is an ambiguity error, none a
/// "parameter cannot be found" error. (Positional binding and parameter sets are not
/// modelled: AksHci scripts name every parameter.)
fn bind(params: &[(String, Vec<String>)], typed: &str) -> Result<String, String> {
    let t = typed.to_lowercase();
    let names = |p: &(String, Vec<String>)| {
        std::iter::once(p.0.to_lowercase())
            .chain(p.1.iter().map(|a| a.to_lowercase()))
            .collect::<Vec<_>>()
    };
    if let Some(p) = params.iter().find(|p| names(p).contains(&t)) {
        return Ok(p.0.clone());
    }
    let matches: Vec<&String> = params
        .iter()
        .filter(|p| names(p).iter().any(|n| n.starts_with(&t)))
        .map(|p| &p.0)
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(format!("a parameter cannot be found that matches -{typed}")),
        many => Err(format!("-{typed} is ambiguous: {many:?}")),
    }
}

/// Each mirrored cmdlet with the AksHci spellings (as in the AksHci documentation) and the
/// parameter each must reach. -Name is AksHci's cluster name: the kubeconfig context here.
const AKSHCI: &[(&str, &[(&str, &str)])] = &[
    (
        "Add-KubeGmsaCredentialSpec",
        &[
            ("Name", "Context"),
            ("credSpecFilePath", "CredSpecFilePath"),
            ("credSpecName", "CredSpecName"),
            ("secretName", "SecretName"),
            ("secretNamespace", "SecretNamespace"),
            ("serviceAccount", "ServiceAccount"),
            ("clusterRoleName", "ClusterRoleName"),
            ("overwrite", "Overwrite"),
        ],
    ),
    (
        "Remove-KubeGmsaCredentialSpec",
        &[
            ("Name", "Context"),
            ("credSpecName", "CredSpecName"),
            ("secretNamespace", "SecretNamespace"),
            ("serviceAccount", "ServiceAccount"),
            ("clusterRoleName", "ClusterRoleName"),
        ],
    ),
    (
        "Add-KubeGmsaRoleBinding",
        &[
            ("Name", "Context"),
            ("clusterRoleName", "ClusterRoleName"),
            ("serviceAccount", "ServiceAccount"),
            ("secretNamespace", "SecretNamespace"),
            ("overwrite", "Overwrite"),
        ],
    ),
    (
        "Remove-KubeGmsaRoleBinding",
        &[
            ("Name", "Context"),
            ("clusterRoleName", "ClusterRoleName"),
            ("serviceAccount", "ServiceAccount"),
            ("secretNamespace", "SecretNamespace"),
        ],
    ),
    (
        "Test-KubeGmsaAccess",
        &[
            ("Name", "Context"),
            ("credSpecName", "CredSpecName"),
            ("serviceAccount", "ServiceAccount"),
            ("secretNamespace", "SecretNamespace"),
        ],
    ),
    ("Install-KubeGmsaWebhook", &[("Name", "Context")]),
    ("Uninstall-KubeGmsaWebhook", &[("Name", "Context")]),
    ("Get-KubeGmsaStatus", &[("Name", "Context")]),
    (
        "Get-KubeGmsaCredentialSpec",
        &[("Name", "Context"), ("credSpecName", "CredSpecName")],
    ),
];

/// Every AksHci spelling that does not reach its parameter, as "cmdlet -typed: what happens".
fn binding_problems(dir: &Path) -> Vec<String> {
    let text = module_scripts(dir)
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let defined = functions(&text);
    let mut problems = vec![];
    for (cmdlet, spellings) in AKSHCI {
        let params = parameters(&defined[*cmdlet]);
        for (typed, intended) in *spellings {
            match bind(&params, typed) {
                Ok(p) if p == *intended => {}
                Ok(p) => problems.push(format!("{cmdlet} -{typed} binds to -{p}, not -{intended}")),
                Err(e) => problems.push(format!("{cmdlet}: {e}")),
            }
        }
    }
    problems
}

#[test]
fn akshci_parameter_names_bind_to_the_intended_parameters() {
    let problems = binding_problems(&module_dir());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_binding_rule_follows_powershell() {
    let text = module_scripts(&module_dir())
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let add = parameters(&functions(&text)["Add-KubeGmsaCredentialSpec"]);
    assert_eq!(bind(&add, "credspecfilepath").unwrap(), "CredSpecFilePath");
    assert_eq!(bind(&add, "FullName").unwrap(), "CredSpecFilePath");
    assert_eq!(
        bind(&add, "Names").unwrap(),
        "Namespace",
        "a unique prefix binds"
    );
    assert_eq!(bind(&add, "wi").unwrap(), "WhatIf");
    assert!(bind(&add, "Se").unwrap_err().contains("ambiguous"));
    assert!(bind(&add, "Nothing")
        .unwrap_err()
        .contains("cannot be found"));
    // Without the alias, AksHci's -Name silently becomes -Namespace (issue 17, item 1).
    let dir = broken_copy(|t| {
        if let Some(start) = t.find("function Add-KubeGmsaCredentialSpec {") {
            let end = start + t[start..].find("\nfunction ").unwrap_or(t.len() - start);
            let fixed =
                t[start..end].replacen("[Alias('Name')][string]$Context", "[string]$Context", 1);
            t.replace_range(start..end, &fixed);
        }
    });
    assert_eq!(
        binding_problems(dir.path()),
        vec!["Add-KubeGmsaCredentialSpec -Name binds to -Namespace, not -Context".to_owned()]
    );
    // Get-'s old Alias('Name') on -CredSpecName took -Name away from the cluster.
    let dir = broken_copy(|t| {
        *t = t.replacen(
            "[Parameter(Position = 0, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)][string]$CredSpecName",
            "[Parameter(Position = 0, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)][Alias('Name')][string]$CredSpecName",
            1,
        )
    });
    assert_eq!(
        binding_problems(dir.path()),
        vec!["Get-KubeGmsaCredentialSpec -Name binds to -CredSpecName, not -Context".to_owned()]
    );
}

// ---------------------------------------------------------------- CLI words in errors

/// Every flag (`--x`, `--dry-run=server`) and `kubectl gmsa <command>` in the core's
/// sources, which its messages and hints name.
fn core_cli_words() -> BTreeSet<String> {
    let word = Regex::new(r"kubectl gmsa [a-z][a-z-]*|--[a-z][a-z0-9-]*(=[a-z]+)?").unwrap();
    let mut out = BTreeSet::new();
    let mut dirs = vec![workspace().join("crates/gmsa/src")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                out.extend(word.find_iter(&text).map(|m| m.as_str().to_owned()));
            }
        }
    }
    out
}

/// Problems of the module's `$script:CliWords` table against the core's words and the
/// module's own parameters and cmdlets.
fn cli_words_problems(dir: &Path, core: &BTreeSet<String>) -> Vec<String> {
    let text = module_scripts(dir)
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let block = Regex::new(r"(?s)\$script:CliWords = @\{(.*?)\n\}")
        .unwrap()
        .captures(&text)
        .map(|c| c[1].to_owned())
        .unwrap_or_default();
    let table: BTreeMap<String, String> = Regex::new(r"'([^']+)'\s*=\s*'([^']*)'")
        .unwrap()
        .captures_iter(&block)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect();
    let defined = functions(&text);
    let all_params: BTreeSet<String> = defined
        .iter()
        .filter(|(n, _)| n.contains("-KubeGmsa") && !is_private(n))
        .flat_map(|(_, f)| parameters(f).into_iter().map(|p| p.0))
        .collect();
    let mut problems = vec![];
    for w in core {
        if !table.contains_key(w) {
            problems.push(format!(
                "the core says {w:?}, which $script:CliWords does not translate"
            ));
        }
    }
    for (cli, ps) in &table {
        if let Some(param) = ps.strip_prefix('-') {
            if !all_params.contains(param) {
                problems.push(format!("{cli} becomes -{param}, which no cmdlet has"));
            }
        } else if !ps.is_empty() && !defined.contains_key(ps) {
            problems.push(format!("{cli} becomes {ps}, which is not a cmdlet"));
        }
    }
    problems
}

#[test]
fn every_cli_word_of_the_core_has_its_powershell_word() {
    let core = core_cli_words();
    assert!(
        core.contains("--context") && core.contains("kubectl gmsa create-account"),
        "{core:?}"
    );
    let problems = cli_words_problems(&module_dir(), &core);
    assert!(problems.is_empty(), "{problems:#?}");
    // A new flag in a hint fails until it is translated; a translation to a parameter
    // that does not exist fails too.
    let mut more = core.clone();
    more.insert("--brand-new-flag".into());
    assert_eq!(
        cli_words_problems(&module_dir(), &more),
        vec![
            "the core says \"--brand-new-flag\", which $script:CliWords does not translate"
                .to_owned()
        ]
    );
    let dir = broken_copy(|t| {
        *t = t.replacen(
            "'--context'                    = '-Context'",
            "'--context'                    = '-Contxt'",
            1,
        )
    });
    assert_eq!(
        cli_words_problems(dir.path(), &core),
        vec!["--context becomes -Contxt, which no cmdlet has".to_owned()]
    );
}
