#!/usr/bin/env python3
"""Generate reference fixtures for greedy solving from anonlink.

Usage: pip install anonlink==0.15.3 && python3 scripts/anonlink_solver_fixtures.py \
           tests/fixtures/anonlink-solver/greedy.jsonl

Writes the file named on the command line, one JSON object per line:
  {"parties": P,
   "candidates": [[score, dataset_a, record_a, dataset_b, record_b], ...],
   "groups": [[[dataset, record], ...], ...]}

Candidates are listed in exactly the order they are passed to anonlink,
which is the canonical order that anonlink.candidate_generation produces:
score descending, then dataset_a, dataset_b, record_a, record_b ascending.
dataset_a < dataset_b always, and there are no duplicate pairs.

Every case is solved with anonlink's native greedy_solve and its pure
Python fallback; the script stops if the two disagree.
"""

import json
import random
import sys
from array import array

import anonlink
from anonlink.solving import greedy_solve, greedy_solve_native, greedy_solve_python

OUT = sys.argv[1] if len(sys.argv) > 1 else 'greedy.jsonl'
SEED = 20240611

# Dataset letters used in the hand-made cases.
A, B, C, D, E = range(5)


def canonical_order(cands):
    # The same key that anonlink.candidate_generation._merge_similarities uses.
    return sorted(cands, key=lambda c: (-c[0], c[1], c[3], c[2], c[4]))


def to_anonlink(cands):
    sims = array('d', (c[0] for c in cands))
    d0 = array('I', (c[1] for c in cands))
    d1 = array('I', (c[3] for c in cands))
    r0 = array('I', (c[2] for c in cands))
    r1 = array('I', (c[4] for c in cands))
    return sims, (d0, d1), (r0, r1)


def normalise(groups):
    return sorted(sorted([int(d), int(r)] for d, r in g) for g in groups)


def solve(cands):
    native = normalise(greedy_solve_native(to_anonlink(cands)))
    python = normalise(greedy_solve_python(to_anonlink(cands)))
    if native != python:
        sys.exit(f'native and python solvers disagree on {cands!r}')
    # greedy_solve is the public name; make sure it is the native one.
    assert normalise(greedy_solve(to_anonlink(cands))) == native
    return native


def check(cands):
    seen = set()
    for s, da, ra, db, rb in cands:
        assert da < db
        assert (da, ra, db, rb) not in seen
        seen.add((da, ra, db, rb))
        assert 0.0 <= s <= 1.0
    assert cands == canonical_order(cands)


def make_score_fn(rng, mode):
    """Returns draw(lo, hi) giving a score in [lo, hi] for this tie mode."""
    used = set()
    if mode == 'distinct':
        def draw(lo, hi):
            while True:
                s = round(rng.uniform(lo, hi), 6)
                if s not in used:
                    used.add(s)
                    return s
    else:
        steps = {'grid05': 20, 'grid10': 10, 'grid25': 4}[mode]
        def draw(lo, hi):
            lo_k = int(round(lo * steps))
            hi_k = int(round(hi * steps))
            return rng.randint(lo_k, hi_k) / steps  # exact k/steps double
    return draw


def random_case(rng, parties):
    sizes = [rng.randint(1, 60) for _ in range(parties)]
    mode = rng.choice(['distinct', 'grid05', 'grid05', 'grid10', 'grid25'])
    draw = make_score_fn(rng, mode)

    # Latent entities: each record belongs to one entity; some entities are
    # shared between parties (true matches), with at most one record per
    # party per entity.
    n_entities = max(sizes) + rng.randint(0, max(sizes))
    entity_of = []
    for p in range(parties):
        ents = rng.sample(range(n_entities), sizes[p])
        entity_of.append(ents)

    p_true = rng.choice([0.6, 0.85, 1.0])          # recall of true pairs
    false_rate = rng.choice([0.0, 0.01, 0.03, 0.08])  # density of false pairs
    true_lo = rng.choice([0.5, 0.6, 0.75])
    false_hi = rng.choice([0.7, 0.85, 0.95])

    cands = []
    for da in range(parties):
        for db in range(da + 1, parties):
            for ra in range(sizes[da]):
                for rb in range(sizes[db]):
                    if entity_of[da][ra] == entity_of[db][rb]:
                        if rng.random() < p_true:
                            cands.append((draw(true_lo, 1.0), da, ra, db, rb))
                    elif rng.random() < false_rate:
                        cands.append((draw(0.3, false_hi), da, ra, db, rb))
    return canonical_order(cands)


def hand_cases():
    cases = []

    def add(parties, cands):
        cases.append((parties, canonical_order(
            [(s, da, ra, db, rb) for s, (da, ra), (db, rb) in cands])))

    # 1. Chain a0-b0, b0-c0, a0-c1: only {a0,b0}; c0 and c1 stay single.
    add(3, [(0.9, (A, 0), (B, 0)), (0.8, (B, 0), (C, 0)), (0.7, (A, 0), (C, 1))])
    # 2. Triangle closed last: {a0,b0,c0}.
    add(3, [(0.9, (A, 0), (B, 0)), (0.8, (B, 0), (C, 0)), (0.7, (A, 0), (C, 0))])
    # 3. Triangle where a0-c0 comes first.
    add(3, [(0.9, (A, 0), (C, 0)), (0.8, (A, 0), (B, 0)), (0.7, (B, 0), (C, 0))])
    # 4. Transitive but open triangle: {a0,b0}; c0 single.
    add(3, [(0.9, (A, 0), (B, 0)), (0.9, (B, 0), (C, 0))])
    # 5. Two groups sharing dataset A: can never merge.
    add(3, [(0.9, (A, 0), (B, 0)), (0.9, (A, 1), (C, 0)),
            (0.8, (B, 0), (C, 0)), (0.8, (A, 0), (C, 0)), (0.7, (A, 1), (B, 0))])
    # 6. Two 2-groups joined by all 4 cross pairs -> one 4-group.
    add(4, [(0.9, (A, 0), (B, 0)), (0.9, (C, 0), (D, 0)),
            (0.8, (A, 0), (C, 0)), (0.8, (A, 0), (D, 0)),
            (0.7, (B, 0), (C, 0)), (0.7, (B, 0), (D, 0))])
    # 7. Same but one cross pair missing -> stays {a0,b0}, {c0,d0}.
    add(4, [(0.9, (A, 0), (B, 0)), (0.9, (C, 0), (D, 0)),
            (0.8, (A, 0), (C, 0)), (0.8, (A, 0), (D, 0)),
            (0.7, (B, 0), (C, 0))])
    # 8. Cross edge counted while c0 is a singleton, then c0 grows to
    #    {c0,d0}; count carries over; merge when the 4th cross pair arrives.
    add(4, [(0.95, (A, 0), (B, 0)), (0.9, (A, 0), (C, 0)),
            (0.85, (C, 0), (D, 0)), (0.8, (B, 0), (C, 0)),
            (0.75, (A, 0), (D, 0)), (0.7, (B, 0), (D, 0))])
    # 9. Counts from two groups are summed when those groups merge.
    add(4, [(0.95, (A, 0), (B, 0)), (0.9, (A, 0), (C, 0)),
            (0.88, (A, 0), (D, 0)), (0.85, (C, 0), (D, 0)),
            (0.8, (B, 0), (C, 0)), (0.75, (B, 0), (D, 0))])
    # 10. A rejected record (singleton) later pairs with another record.
    add(3, [(0.9, (A, 0), (B, 0)), (0.8, (A, 0), (C, 0)), (0.7, (B, 1), (C, 0))])
    # 11. Two-party ties resolved by index order.
    add(2, [(0.8, (A, 0), (B, 0)), (0.8, (A, 0), (B, 1)), (0.8, (A, 1), (B, 0)),
            (0.8, (A, 1), (B, 1))])
    # 12. Ties across dataset pairs: (0,2) sorts before (1,2).
    add(3, [(0.8, (B, 0), (C, 0)), (0.8, (A, 0), (C, 0)), (0.8, (A, 0), (B, 0))])
    # 13. Five-party complete clique with all-equal scores.
    add(5, [(1.0, (i, 0), (j, 0)) for i in range(5) for j in range(i + 1, 5)])
    # 14. Five-party clique with one pair missing, equal scores.
    add(5, [(1.0, (i, 0), (j, 0)) for i in range(5) for j in range(i + 1, 5)
            if (i, j) != (1, 3)])
    # 15. A pair inside an existing group is ignored (does not count).
    add(3, [(0.9, (A, 0), (B, 0)), (0.85, (B, 0), (C, 0)), (0.8, (A, 0), (C, 0)),
            (0.7, (A, 1), (B, 1)), (0.6, (A, 1), (C, 0)), (0.5, (B, 1), (C, 0))])
    # 16. Group of 3 vs group of 2: needs 6 cross pairs.
    add(5, [(0.99, (A, 0), (B, 0)), (0.98, (A, 0), (C, 0)), (0.97, (B, 0), (C, 0)),
            (0.96, (D, 0), (E, 0)),
            (0.9, (A, 0), (D, 0)), (0.89, (A, 0), (E, 0)), (0.88, (B, 0), (D, 0)),
            (0.87, (B, 0), (E, 0)), (0.86, (C, 0), (D, 0)), (0.85, (C, 0), (E, 0))])
    # 17. Same with only 5 of 6 cross pairs.
    add(5, [(0.99, (A, 0), (B, 0)), (0.98, (A, 0), (C, 0)), (0.97, (B, 0), (C, 0)),
            (0.96, (D, 0), (E, 0)),
            (0.9, (A, 0), (D, 0)), (0.89, (A, 0), (E, 0)), (0.88, (B, 0), (D, 0)),
            (0.87, (B, 0), (E, 0)), (0.86, (C, 0), (D, 0))])
    # 18. Lower-score pair completes a triangle before a competing one does.
    add(3, [(0.9, (A, 0), (B, 0)), (0.8, (A, 0), (C, 0)), (0.8, (A, 0), (C, 1)),
            (0.7, (B, 0), (C, 1)), (0.6, (B, 0), (C, 0))])
    return cases


def main():
    rng = random.Random(SEED)
    cases = []
    for _ in range(60):
        cases.append((2, random_case(rng, 2)))
    for i in range(60):
        parties = 3 + i % 3
        cases.append((parties, random_case(rng, parties)))
    cases.extend(hand_cases())

    with open(OUT, 'w') as f:
        for parties, cands in cases:
            check(cands)
            groups = solve(cands)
            f.write(json.dumps({
                'parties': parties,
                'candidates': [list(c) for c in cands],
                'groups': groups,
            }, separators=(',', ':')) + '\n')
    print(f'anonlink {anonlink.__version__}: wrote {len(cases)} cases to {OUT}')


if __name__ == '__main__':
    main()
