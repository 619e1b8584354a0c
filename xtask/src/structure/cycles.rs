//! Cycles of the import graph: its strongly connected sets of files (Tarjan), and one shortest
//! cycle through each to show.

use std::collections::{BTreeSet, VecDeque};

use super::modules::Edge;

/// The sets of two or more files that import each other, directly or through others; each set
/// sorted, the sets in order.
pub fn strongly_connected(nodes: usize, edges: &BTreeSet<Edge>) -> Vec<Vec<usize>> {
    let mut next = vec![Vec::new(); nodes];
    for edge in edges {
        next[edge.from].push(edge.to);
    }
    let mut state = Tarjan {
        next: &next,
        index: vec![None; nodes],
        low: vec![0; nodes],
        on_stack: vec![false; nodes],
        stack: Vec::new(),
        counter: 0,
        sets: Vec::new(),
    };
    for node in 0..nodes {
        if state.index[node].is_none() {
            state.connect(node);
        }
    }
    let mut sets: Vec<Vec<usize>> = state.sets.into_iter().filter(|s| s.len() > 1).collect();
    for set in &mut sets {
        set.sort_unstable();
    }
    sets.sort();
    sets
}

struct Tarjan<'g> {
    next: &'g [Vec<usize>],
    index: Vec<Option<usize>>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    counter: usize,
    sets: Vec<Vec<usize>>,
}

impl Tarjan<'_> {
    /// Iterative, so deep import chains cannot overflow the stack.
    fn connect(&mut self, root: usize) {
        let mut work = vec![(root, 0usize)];
        self.open(root);
        while let Some(&mut (node, ref mut child)) = work.last_mut() {
            if let Some(&to) = self.next[node].get(*child) {
                *child += 1;
                match self.index[to] {
                    None => {
                        self.open(to);
                        work.push((to, 0));
                    }
                    Some(index) if self.on_stack[to] => {
                        self.low[node] = self.low[node].min(index);
                    }
                    Some(_) => {}
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                self.low[parent] = self.low[parent].min(self.low[node]);
            }
            if Some(self.low[node]) == self.index[node] {
                let mut set = Vec::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack[member] = false;
                    set.push(member);
                    if member == node {
                        break;
                    }
                }
                self.sets.push(set);
            }
        }
    }

    fn open(&mut self, node: usize) {
        self.index[node] = Some(self.counter);
        self.low[node] = self.counter;
        self.counter += 1;
        self.stack.push(node);
        self.on_stack[node] = true;
    }
}

/// A shortest cycle through `start` inside `set`, as the edges taken (first import line of
/// each step).
pub fn shortest_cycle(start: usize, set: &[usize], edges: &BTreeSet<Edge>) -> Vec<Edge> {
    let inside = |n: usize| set.binary_search(&n).is_ok();
    let mut came_by: std::collections::HashMap<usize, Edge> = Default::default();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for edge in edges.range(
            Edge {
                from: node,
                to: 0,
                line: 0,
            }..Edge {
                from: node + 1,
                to: 0,
                line: 0,
            },
        ) {
            if !inside(edge.to) || came_by.contains_key(&edge.to) {
                continue;
            }
            came_by.insert(edge.to, edge.clone());
            if edge.to == start {
                let mut cycle = vec![edge.clone()];
                let mut at = node;
                while at != start {
                    let step = came_by[&at].clone();
                    at = step.from;
                    cycle.push(step);
                }
                cycle.reverse();
                return cycle;
            }
            queue.push_back(edge.to);
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edges(pairs: &[(usize, usize)]) -> BTreeSet<Edge> {
        pairs
            .iter()
            .map(|&(from, to)| Edge {
                from,
                to,
                line: from * 10 + to,
            })
            .collect()
    }

    #[test]
    fn sets_of_mutual_imports() {
        // 0 → 1 → 2 → 0 is a cycle; 3 ↔ 4 another; 5 only imports.
        let graph = edges(&[(0, 1), (1, 2), (2, 0), (3, 4), (4, 3), (5, 0), (2, 3)]);
        assert_eq!(
            strongly_connected(6, &graph),
            vec![vec![0, 1, 2], vec![3, 4]]
        );
        assert!(strongly_connected(3, &edges(&[(0, 1), (1, 2)])).is_empty());
    }

    #[test]
    fn shortest_cycle_follows_the_edges() {
        let graph = edges(&[(0, 1), (1, 2), (2, 0), (1, 0)]);
        let cycle = shortest_cycle(0, &[0, 1, 2], &graph);
        let steps: Vec<(usize, usize)> = cycle.iter().map(|e| (e.from, e.to)).collect();
        assert_eq!(steps, [(0, 1), (1, 0)]);
    }
}
