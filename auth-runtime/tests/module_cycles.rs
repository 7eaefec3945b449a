//! Imports among auth-runtime's top-level modules flow one way, bottom to top:
//! this reads every `crate::<module>` path in `src/` and fails on any import cycle,
//! naming the modules it involves. The layers today, bottom up: `error`, `clock`,
//! `random`, `password`, `user`; `model`, `token`, `transport`, `audit`; `store`
//! (every persistence trait and its memory/SQLite/PostgreSQL implementations),
//! `backend`, `keyring`, `openapi`; `aead` (values sealed at rest); `two_factor`
//! (TOTP, recovery codes), `strategy`, `throttle`; `session`, `oauth`; `manager`;
//! `authn` (the request pipeline); `warden` (the state); `guard`, `signin`;
//! `routes`; `builder`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module and the top-level modules it names.
fn imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" {
            continue;
        }
        let mut files = Vec::new();
        collect(&path, &mut files);
        let mut names = BTreeSet::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for line in text.lines() {
                // Comments and doc links name modules without importing them.
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                for (at, _) in code.match_indices("crate::") {
                    let rest = &code[at + "crate::".len()..];
                    let module: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !module.is_empty() && module != name {
                        names.insert(module);
                    }
                }
            }
        }
        graph.insert(name, names);
    }
    graph
}

fn collect(path: &Path, files: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            collect(&entry.unwrap().path(), files);
        }
    } else if path.extension().is_some_and(|ext| ext == "rs") {
        files.push(path.to_owned());
    }
}

/// The strongly connected components with more than one module (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        next: usize,
        found: Vec<BTreeSet<String>>,
    }
    fn visit<'a>(state: &mut State<'a>, node: &'a str) {
        state.index.insert(node, state.next);
        state.low.insert(node, state.next);
        state.next += 1;
        state.stack.push(node);
        let graph = state.graph;
        for next in graph[node].iter().filter(|n| graph.contains_key(*n)) {
            let next = next.as_str();
            if !state.index.contains_key(next) {
                visit(state, next);
                let low = state.low[node].min(state.low[next]);
                state.low.insert(node, low);
            } else if state.stack.contains(&next) {
                let low = state.low[node].min(state.index[next]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut component = BTreeSet::new();
            while let Some(top) = state.stack.pop() {
                component.insert(top.to_owned());
                if top == node {
                    break;
                }
            }
            if component.len() > 1 {
                state.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        next: 0,
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !state.index.contains_key(node.as_str()) {
            visit(&mut state, node);
        }
    }
    state.found
}

#[test]
fn no_import_cycle_among_top_level_modules() {
    let graph = imports(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(graph.contains_key("error") && graph.contains_key("warden"));
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "import cycles among auth-runtime's modules: {found:?}; import only from layers \
         below (see this file's header)"
    );
}

#[test]
fn the_leaves_import_nothing_above_them() {
    let graph = imports(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    for leaf in ["error", "clock", "random"] {
        let above: Vec<&String> = graph[leaf]
            .iter()
            .filter(|module| !["error", "clock", "random"].contains(&module.as_str()))
            .collect();
        assert!(above.is_empty(), "`{leaf}` imports {above:?}");
    }
}

#[test]
fn the_check_sees_a_cycle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", &["b"][..]),
        ("b", &["c"][..]),
        ("c", &["a"][..]),
        ("d", &["a"][..]),
    ]
    .into_iter()
    .map(|(node, edges)| {
        (
            node.to_owned(),
            edges.iter().map(|e| (*e).to_owned()).collect(),
        )
    })
    .collect();
    let found = cycles(&graph);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].iter().map(String::as_str).collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
}
