//! Hostile inputs against every command that reads a table (issue 10): for each, the exit
//! code is 0 or 2, memory stays under a hard limit, the input, key and schema are
//! byte-identical afterwards, a failed run leaves nothing behind, and a successful one
//! accounts for every row (rows read = written + rejected, matching the files).

use std::process::Command;

use crate::reliability::pseudonymise;
use crate::util::{Dir, KAT_KEY, read_csv, stderr};

/// Address-space limit for each run (KiB): far above what these small inputs need, far
/// below what an unbounded reader would take.
const MEMORY_LIMIT_KIB: u64 = 3 << 20;

const SCHEMA: &str = "version = 3\n[filter]\ncontext = \"t\"\nsalt = false\n\
    [[fields]]\nname = \"name\"\nkind = \"given_name\"\n";

/// Valid Parquet bytes: the output of a pseudonymise run on two rows.
fn parquet_bytes() -> Vec<u8> {
    let d = Dir::new();
    d.private("k.key", KAT_KEY);
    d.write("in.csv", "cpr,name\n211062-5629,Jens\n111111-1118,Signe\n");
    let o = crate::util::nordlink(&d, &pseudonymise("in.csv", "out.parquet", &[]));
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::read(d.path("out.parquet")).unwrap()
}

/// (file name, content) of each hostile input.
fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    let mut garbage = Vec::new();
    let mut x = 0x9e37_79b9_u32;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        garbage.push(x.to_le_bytes()[0]);
    }
    let parquet = parquet_bytes();
    let wide: Vec<String> = (0..5000).map(|i| format!("c{i}")).collect();
    let mut long_cell = b"cpr,name\n211062-5629,".to_vec();
    long_cell.extend(vec![b'a'; 500_000]);
    long_cell.extend(b"\n111111-1118,b\n");
    vec![
        ("empty.csv", Vec::new()),
        ("header-only.csv", b"cpr,name\n".to_vec()),
        ("blank-lines.csv", b"cpr,name\n\n\n\r\n".to_vec()),
        ("garbage.csv", garbage.clone()),
        ("unbalanced.csv", b"cpr,name\n211062-5629,\"Jens\n111111-1118,Signe\n".to_vec()),
        ("bad-utf8.csv", b"cpr,name\n211062-5629,J\xffns\n\xfe\xfe,x\n".to_vec()),
        ("ragged.csv", b"cpr,name\n211062-5629\n111111-1118,a,b,c\n,\n".to_vec()),
        ("bom-crlf.csv", b"\xef\xbb\xbfcpr,name\r\n211062-5629,Jens\r\n".to_vec()),
        ("long-cell.csv", long_cell),
        ("wide.csv", format!("{}\n", wide.join(",")).into_bytes()),
        ("no-breaks.csv", vec![b'x'; 2 << 20]),
        ("nul.csv", b"cpr,name\n\0\0\0,\0\n".to_vec()),
        ("duplicate-header.csv", b"cpr,cpr\n211062-5629,x\n".to_vec()),
        ("truncated.parquet", parquet[..parquet.len() - 9].to_vec()),
        ("garbage.parquet", garbage),
        ("header-swapped.parquet", {
            let mut p = parquet.clone();
            p[..4].copy_from_slice(b"PAR2");
            p
        }),
    ]
}

/// The commands, each reading `IN` (replaced by the input's name).
fn commands() -> Vec<Vec<&'static str>> {
    vec![
        vec![
            "id", "check", "--scheme", "dk", "--column", "cpr", "--input", "IN", "--output",
            "out.csv",
        ],
        pseudonymise("IN", "out.csv", &["--rejects", "rejects.csv"]),
        vec![
            "encode",
            "--key",
            "e.key",
            "--schema",
            "schema.toml",
            "--input",
            "IN",
            "--output",
            "out.csv",
            "--rejects",
            "rejects.csv",
        ],
    ]
}

fn snapshot(d: &Dir) -> Vec<(String, Vec<u8>)> {
    d.listing().into_iter().map(|n| (n.clone(), std::fs::read(d.path(&n)).unwrap())).collect()
}

/// `N rows read = W written|encoded + R rejected` from a summary line.
fn accounting(err: &str) -> Option<(usize, usize, usize)> {
    let line = err.lines().find(|l| l.contains(" rows read = "))?;
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    Some((numbers[0], numbers[1], numbers[2]))
}

#[test]
fn every_command_survives_every_hostile_input() {
    let key = "format: nordlink-key/2\npurpose: encode\n";
    let mut outcomes = Vec::new();
    for (name, content) in inputs() {
        for command in commands() {
            let d = Dir::new();
            d.private("k.key", KAT_KEY);
            d.private("e.key", KAT_KEY.replace("format: nordlink-key/1\n", key));
            d.write("schema.toml", SCHEMA);
            d.write(name, &content);
            let before = snapshot(&d);
            let args: Vec<&str> =
                command.iter().map(|&a| if a == "IN" { name } else { a }).collect();
            let o = Command::new("sh")
                .arg("-c")
                .arg(format!("ulimit -v {MEMORY_LIMIT_KIB}; exec \"$0\" \"$@\""))
                .arg(env!("CARGO_BIN_EXE_nordlink"))
                .args(&args)
                .current_dir(d.path("."))
                .output()
                .unwrap();
            let err = stderr(&o);
            let code = o.status.code();
            assert!(matches!(code, Some(0 | 2)), "{name} {args:?}: exit {code:?}: {err}");
            assert!(!err.contains("panicked"), "{name} {args:?}: {err}");
            let after = snapshot(&d);
            // What was there is unchanged.
            for (file, bytes) in &before {
                let now = after.iter().find(|(f, _)| f == file);
                assert_eq!(now.map(|(_, b)| b), Some(bytes), "{name} {args:?}: {file} changed");
            }
            let new: Vec<&str> = after
                .iter()
                .map(|(f, _)| f.as_str())
                .filter(|f| !before.iter().any(|(b, _)| b == f))
                .collect();
            if code == Some(2) {
                assert!(new.is_empty(), "{name} {args:?}: a failed run left {new:?}");
                outcomes.push(format!("{name} {}: refused", args[0]));
                continue;
            }
            assert!(new.iter().all(|f| !f.contains(".partial")), "{name} {args:?}: {new:?}");
            let written = read_csv(&d.path("out.csv")).len() - 1;
            match accounting(&err) {
                Some((read, out, rejected)) => {
                    let rejects = match d.path("rejects.csv").exists() {
                        true => read_csv(&d.path("rejects.csv")).len() - 1,
                        false => 0,
                    };
                    assert_eq!(read, out + rejected, "{name} {args:?}: {err}");
                    assert_eq!((out, rejected), (written, rejects), "{name} {args:?}: {err}");
                }
                // `id check` reports every row, valid or not.
                None => assert!(err.contains(&format!("{written} rows")), "{name}: {err}"),
            }
            outcomes.push(format!("{name} {}: {written} rows", args[0]));
        }
    }
    // Both outcomes occur: the suite is not vacuous.
    assert!(outcomes.iter().any(|o| o.ends_with("refused")), "{outcomes:?}");
    assert!(
        outcomes.iter().any(|o| o.ends_with(" rows") && !o.ends_with(": 0 rows")),
        "{outcomes:?}"
    );
}
