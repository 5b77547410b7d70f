//! What `%written_by KEY` answers from: which committed `batch … end` or
//! `transaction … end` of this session's cells last wrote a key. sled keeps no such record;
//! the kernel does, so that an exercise's check can see that writes were
//! made together (the result alone cannot tell three single writes from
//! one batch).
//!
//! The record is kept per tree (`None` is the default tree) and forgets
//! conservatively: a single write of a key forgets that key; a command that
//! writes keys it does not name (`clear`, `pop_min`, `pop_max`, `%load`)
//! forgets its whole tree; anything that replaces the database or lets
//! other code write to it (`%reset`, `%open`, `%crash_copy`, `%crash`, a
//! Rust cell) forgets everything. So an answer is either true or `<none>`.
//! The command itself is in `expect`, next to the checks that use it.

use std::collections::HashMap;

use crate::interpreter::language::parser::{BatchOp, BlockKind, TxOp};
use crate::interpreter::showing::lines::blocks as said;

/// Keys remembered at most, over all trees; past this, new ones are not
/// recorded (their older records are still forgotten, so no answer is
/// stale).
const KEPT: usize = 100_000;

/// One committed block: what it was and how many reads and writes it made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Group {
    pub kind: BlockKind,
    pub reads: usize,
    pub writes: usize,
}

impl Group {
    /// The block a batch's lines make.
    pub(crate) fn batch(lines: usize) -> Group {
        Group {
            kind: BlockKind::Batch,
            reads: 0,
            writes: lines,
        }
    }

    /// The block a transaction's lines make: `get`, `expect get` and `incr`
    /// read; `insert`, `remove` and `incr` write.
    pub(crate) fn transaction<'a>(ops: impl Iterator<Item = &'a TxOp>) -> Group {
        let (mut reads, mut writes) = (0, 0);
        for op in ops {
            match op {
                TxOp::Get { .. } | TxOp::Expect { .. } => reads += 1,
                TxOp::Insert { .. } | TxOp::Remove { .. } => writes += 1,
                TxOp::Incr { .. } => {
                    reads += 1;
                    writes += 1;
                }
                TxOp::Abort { .. } => {}
            }
        }
        Group {
            kind: BlockKind::Transaction,
            reads,
            writes,
        }
    }

    /// `a batch of 3 writes`, `a transaction of 1 read and 2 writes`.
    pub(crate) fn describe(&self) -> String {
        let reads = match self.kind {
            BlockKind::Batch => None,
            BlockKind::Transaction => Some(self.reads),
        };
        said::block_group(reads, self.writes)
    }
}

/// The keys of a batch, in its order.
pub(crate) fn batch_keys<'a>(ops: impl Iterator<Item = &'a BatchOp>) -> Vec<Vec<u8>> {
    ops.map(|op| match op {
        BatchOp::Insert { key, .. } | BatchOp::Remove { key } => key.clone(),
    })
    .collect()
}

/// The keys a transaction's lines write.
pub(crate) fn transaction_keys<'a>(ops: impl Iterator<Item = &'a TxOp>) -> Vec<Vec<u8>> {
    ops.filter_map(|op| match op {
        TxOp::Insert { key, .. } | TxOp::Remove { key } | TxOp::Incr { key, .. } => {
            Some(key.clone())
        }
        TxOp::Get { .. } | TxOp::Expect { .. } | TxOp::Abort { .. } => None,
    })
    .collect()
}

/// Per tree, the block that last wrote each key.
#[derive(Debug, Default)]
pub(crate) struct WrittenBy {
    by_tree: HashMap<Option<Vec<u8>>, HashMap<Vec<u8>, Group>>,
    kept: usize,
}

impl WrittenBy {
    /// `keys` of `tree` were just written by `group`.
    pub(crate) fn record(&mut self, tree: Option<&[u8]>, keys: Vec<Vec<u8>>, group: Group) {
        let tree = tree.map(<[u8]>::to_vec);
        for key in keys {
            let keys = self.by_tree.entry(tree.clone()).or_default();
            if let Some(old) = keys.get_mut(&key) {
                *old = group;
            } else if self.kept < KEPT {
                keys.insert(key, group);
                self.kept += 1;
            }
        }
    }

    /// `key` of `tree` was written by something other than a block.
    pub(crate) fn forget_key(&mut self, tree: Option<&[u8]>, key: &[u8]) {
        if self.kept == 0 {
            return;
        }
        if let Some(keys) = self.by_tree.get_mut(&tree.map(<[u8]>::to_vec)) {
            if keys.remove(key).is_some() {
                self.kept -= 1;
            }
        }
    }

    /// Keys of `tree` were written that were not named.
    pub(crate) fn forget_tree(&mut self, tree: Option<&[u8]>) {
        if let Some(keys) = self.by_tree.remove(&tree.map(<[u8]>::to_vec)) {
            self.kept -= keys.len();
        }
    }

    /// The database was replaced, or other code could write to it.
    pub(crate) fn forget_all(&mut self) {
        self.by_tree.clear();
        self.kept = 0;
    }

    pub(crate) fn of(&self, tree: Option<&[u8]>, key: &[u8]) -> Option<Group> {
        self.by_tree
            .get(&tree.map(<[u8]>::to_vec))
            .and_then(|keys| keys.get(key))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    #[test]
    fn groups_describe_themselves_as_the_checks_spell_them() {
        assert_eq!(Group::batch(3).describe(), "a batch of 3 writes");
        assert_eq!(Group::batch(1).describe(), "a batch of 1 write");
        let tx = [
            TxOp::Expect {
                key: k("player:kim"),
                expected: crate::interpreter::language::parser::Expected {
                    op: crate::interpreter::language::parser::Comparison::Equal,
                    text: "<missing>".into(),
                    value: None,
                    pair: None,
                },
            },
            TxOp::Insert {
                key: k("player:kim"),
                value: k("001100"),
            },
            TxOp::Insert {
                key: k("rank:001100:kim"),
                value: Vec::new(),
            },
        ];
        assert_eq!(
            Group::transaction(tx.iter()).describe(),
            "a transaction of 1 read and 2 writes"
        );
        assert_eq!(
            Group::transaction(tx[1..].iter()).describe(),
            "a transaction of 2 writes"
        );
        let incr = [TxOp::Incr { key: k("c"), by: 1 }];
        assert_eq!(
            Group::transaction(incr.iter()).describe(),
            "a transaction of 1 read and 1 write"
        );
        assert_eq!(
            transaction_keys(tx.iter()),
            [k("player:kim"), k("rank:001100:kim")]
        );
    }

    #[test]
    fn a_record_is_per_tree_and_forgets_conservatively() {
        let mut w = WrittenBy::default();
        w.record(None, vec![k("a"), k("b")], Group::batch(2));
        w.record(Some(b"t"), vec![k("a")], Group::batch(1));
        assert_eq!(w.of(None, b"a"), Some(Group::batch(2)));
        assert_eq!(w.of(Some(b"t"), b"a"), Some(Group::batch(1)));
        assert_eq!(w.of(None, b"c"), None);
        // A later block replaces the record; a single write forgets it.
        w.record(None, vec![k("a")], Group::batch(5));
        assert_eq!(w.of(None, b"a"), Some(Group::batch(5)));
        w.forget_key(None, b"a");
        assert_eq!(w.of(None, b"a"), None);
        assert_eq!(w.of(None, b"b"), Some(Group::batch(2)));
        w.forget_tree(None);
        assert_eq!(w.of(None, b"b"), None);
        assert_eq!(w.of(Some(b"t"), b"a"), Some(Group::batch(1)));
        w.forget_all();
        assert_eq!(w.of(Some(b"t"), b"a"), None);
        assert_eq!(w.kept, 0);
    }

    #[test]
    fn past_the_limit_new_keys_are_not_recorded_and_old_ones_still_change() {
        let mut w = WrittenBy::default();
        let keys: Vec<Vec<u8>> = (0..KEPT).map(|i| i.to_string().into_bytes()).collect();
        w.record(None, keys, Group::batch(KEPT));
        w.record(None, vec![k("one more")], Group::batch(1));
        assert_eq!(w.of(None, b"one more"), None, "past the limit");
        w.record(None, vec![k("7")], Group::batch(1));
        assert_eq!(
            w.of(None, b"7"),
            Some(Group::batch(1)),
            "a known key is updated"
        );
        w.forget_key(None, b"7");
        w.record(None, vec![k("one more")], Group::batch(1));
        assert_eq!(w.of(None, b"one more"), Some(Group::batch(1)), "room again");
    }
}
