//! The solvers against anonlink 0.15.3's greedy solver, on the cases in
//! `tests/fixtures/anonlink-solver/greedy.jsonl` (written by anonlink itself through
//! `scripts/anonlink_solver_fixtures.py`): 60 two-party cases, 60 with three to five
//! parties, and 18 hand-made cases of the merge rule.

use nordlink::link::{Candidate, PairCandidate, Record, greedy, greedy_groups};

struct Case {
    parties: u32,
    candidates: Vec<PairCandidate>,
    groups: Vec<Vec<(u32, u32)>>,
}

fn cases() -> Vec<Case> {
    let path =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/anonlink-solver/greedy.jsonl");
    let text = std::fs::read_to_string(path).expect("fixture file");
    text.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
            let num =
                |v: &serde_json::Value| u32::try_from(v.as_u64().expect("index")).expect("u32");
            let candidates = v["candidates"]
                .as_array()
                .expect("candidates")
                .iter()
                .map(|c| PairCandidate {
                    a: Record { input: num(&c[1]), position: num(&c[2]) },
                    b: Record { input: num(&c[3]), position: num(&c[4]) },
                    score: c[0].as_f64().expect("score"),
                })
                .collect();
            let groups = v["groups"]
                .as_array()
                .expect("groups")
                .iter()
                .map(|g| {
                    g.as_array().expect("group").iter().map(|m| (num(&m[0]), num(&m[1]))).collect()
                })
                .collect();
            Case { parties: num(&v["parties"]), candidates, groups }
        })
        .collect()
}

#[test]
fn greedy_groups_equal_anonlinks_on_every_case() {
    let cases = cases();
    assert_eq!(cases.len(), 138);
    for (line, case) in cases.iter().enumerate() {
        let mut groups: Vec<Vec<(u32, u32)>> = greedy_groups(&case.candidates)
            .iter()
            .map(|g| g.iter().map(|m| (m.record.input, m.record.position)).collect())
            .collect();
        groups.sort();
        assert_eq!(groups, case.groups, "case on line {}", line + 1);
        // Our own order, not the file's, decides: shuffling the candidates changes nothing.
        let mut reversed = case.candidates.clone();
        reversed.reverse();
        assert_eq!(greedy_groups(&reversed), greedy_groups(&case.candidates), "line {}", line + 1);
    }
}

#[test]
fn two_party_greedy_equals_anonlinks() {
    let mut two_party = 0;
    for (line, case) in cases().iter().enumerate().filter(|(_, c)| c.parties == 2) {
        let pairs: Vec<Candidate> = case
            .candidates
            .iter()
            .map(|c| Candidate { left: c.a.position, right: c.b.position, score: c.score })
            .collect();
        let mut ours: Vec<Vec<(u32, u32)>> =
            greedy(&pairs).iter().map(|m| vec![(0, m.left), (1, m.right)]).collect();
        ours.sort();
        assert_eq!(ours, case.groups, "case on line {}", line + 1);
        two_party += 1;
    }
    assert!(two_party >= 60);
}
