// ctree.h: the compiled core of reasoner-kit's search trees (the notebook nbs/10_tree.ipynb is its guide).
//
// Many trees at once (B trees of at most N nodes each), stored mctx / LightZero style as a struct of
// arrays: every field is one flat vector of B*N entries, and node i of tree b lives at b*N + i.
// This file is bookkeeping only: batches in, batches out. It never calls Python or a model; the
// caller passes in seeds, priors, rewards and values. Every routine here has a pure-Python twin,
// `PyTrees` in reasoner_kit/tree.py, with the same semantics, the same tie-breaking and the same
// order of float operations, so the two agree bit for bit (tests/test_tree_parity.py checks it).
// pybind11 bindings live in ctree.cpp; nothing in this header knows about Python.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace rk {

// Allocator of the field arrays. On Linux, blocks of 2 MiB or more are 2 MiB aligned and marked for transparent
// huge pages, so that walking many large trees does not miss the TLB at every step; otherwise plain operator new.
template <class T>
struct HugeAlloc {
  using value_type = T;
  static constexpr size_t kHuge = size_t(2) << 20;
  HugeAlloc() = default;
  template <class U> HugeAlloc(const HugeAlloc<U>&) {}
  T* allocate(size_t n) {
#if defined(__linux__)
    if (n * sizeof(T) >= kHuge) {
      const size_t rounded = (n * sizeof(T) + kHuge - 1) / kHuge * kHuge;
      void* p = std::aligned_alloc(kHuge, rounded);
      if (!p) throw std::bad_alloc();
      madvise(p, rounded, MADV_HUGEPAGE);  // a hint; ignored where huge pages are off
      return static_cast<T*>(p);
    }
#endif
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) {
#if defined(__linux__)
    if (n * sizeof(T) >= kHuge) { std::free(p); return; }
#endif
    ::operator delete(p);
  }
  template <class U> bool operator==(const HugeAlloc<U>&) const { return true; }
  template <class U> bool operator!=(const HugeAlloc<U>&) const { return false; }
};
template <class T> using Field = std::vector<T, HugeAlloc<T>>;  // one [B, N] (or [B]) field

}  // namespace rk

// Keep `a + b * c` as two roundings (no fused multiply-add), as Python computes it.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

namespace rk {

constexpr int32_t ROOT_INDEX = 0;   // the root of every tree is node 0
constexpr int32_t UNVISITED = -1;   // "no node here": no child, no sibling, padding in outputs
constexpr int32_t NO_PARENT = -1;   // parent of the root (and of unused slots)
enum Rule : int32_t { UCT = 0, PUCT = 1 };

inline Rule parse_rule(const std::string& rule) {
  if (rule == "uct") return UCT;
  if (rule == "puct") return PUCT;
  throw std::invalid_argument("rule must be 'uct' or 'puct', got '" + rule + "'");
}

// splitmix64 finaliser (Steele et al.); the Python twin masks to 64 bits after each step.
inline uint64_t splitmix64(uint64_t x) {
  uint64_t z = x + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Tie-break key of `node` in `tree` for one select call: among children with exactly equal scores,
// the one with the largest key wins. Seeds are two's complement int64 (Python: seed & (2**64-1)).
inline uint64_t tie_key(int64_t seed, int64_t tree, int64_t node) {
  return splitmix64(splitmix64(splitmix64(static_cast<uint64_t>(seed)) ^ static_cast<uint64_t>(tree)) ^
                    static_cast<uint64_t>(node));
}

// UCT: an unvisited child (n_eff == 0) scores +inf; else Q + c*sqrt(ln(N_parent_eff)/n_eff).
// `log_parent` is ln(max(N_parent_eff, 1)), computed once per parent.
inline double uct_score(double value_sum, int64_t n_eff, double log_parent, double c) {
  if (n_eff <= 0) return std::numeric_limits<double>::infinity();
  const double n = static_cast<double>(n_eff);
  return value_sum / n + c * std::sqrt(log_parent / n);
}

// PUCT: Q + c*prior*sqrt(N_parent_eff)/(1+n_eff), with Q = fpu for an unvisited child.
// `sqrt_parent` is sqrt(max(N_parent_eff, 1)), computed once per parent.
inline double puct_score(double value_sum, int64_t n_eff, double prior, double sqrt_parent, double c, double fpu) {
  const double n = static_cast<double>(n_eff);
  const double q = n_eff > 0 ? value_sum / n : fpu;
  return q + c * prior * sqrt_parent / (1.0 + n);
}

// Rank for top_k: higher score first; NaN ranks below everything; std::stable_sort keeps position order on ties.
inline bool ranks_before(double a, double b) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return a > b;
}

struct Trees {
  int32_t B, N;  // batch size (trees), capacity (nodes per tree)
  Field<int32_t> parent, first_child, next_sibling, last_child, num_children;  // [B, N] links
  Field<int32_t> visit_count, depth, virtual_loss;                            // [B, N]
  Field<double> value_sum, prior, reward;                                     // [B, N]
  Field<uint8_t> terminal, pruned;                                            // [B, N] 0/1
  Field<int64_t> handle;                                                      // [B, N]
  Field<int32_t> num_nodes;                                                   // [B]

  Trees(int32_t batch_size, int32_t capacity) : B(batch_size), N(capacity) {
    if (B < 1 || N < 1) throw std::invalid_argument("batch_size and capacity must be >= 1");
    const size_t S = static_cast<size_t>(B) * N;
    for (auto* v : {&parent, &first_child, &next_sibling, &last_child, &num_children, &visit_count, &depth,
                    &virtual_loss})
      v->resize(S);
    value_sum.resize(S); prior.resize(S); reward.resize(S);
    terminal.resize(S); pruned.resize(S); handle.resize(S);
    num_nodes.resize(B);
    std::vector<int64_t> h(B, -1);
    reset_roots(h.data(), nullptr);
  }

  size_t at(int64_t b, int64_t i) const { return static_cast<size_t>(b) * N + static_cast<size_t>(i); }

  // ---- validation (throws before anything is changed; std::out_of_range becomes IndexError) ----
  void check_tree(int64_t b) const {
    if (b < 0 || b >= B)
      throw std::out_of_range("tree index " + std::to_string(b) + " out of range [0, " + std::to_string(B) + ")");
  }
  void check_node(int64_t b, int64_t i) const {
    check_tree(b);
    if (i < 0 || i >= num_nodes[b])
      throw std::out_of_range("node " + std::to_string(i) + " does not exist in tree " + std::to_string(b) +
                              " (it has " + std::to_string(num_nodes[b]) + " nodes)");
  }
  void check_nodes(int64_t M, const int32_t* tree, const int32_t* node) const {
    for (int64_t m = 0; m < M; ++m) check_node(tree[m], node[m]);
  }
  // add_children: parents may be nodes created earlier in the same call, so simulate the counts.
  void check_add(int64_t M, const int32_t* tree, const int32_t* par) const {
    std::vector<int32_t> count(num_nodes.begin(), num_nodes.end());
    for (int64_t m = 0; m < M; ++m) {
      const int32_t b = tree[m];
      check_tree(b);
      if (par[m] < 0 || par[m] >= count[b])
        throw std::out_of_range("parent " + std::to_string(par[m]) + " does not exist in tree " + std::to_string(b));
      if (count[b] >= N)
        throw std::length_error("tree " + std::to_string(b) + " is full (capacity " + std::to_string(N) + ")");
      ++count[b];
    }
  }

  // ---- reset_roots: wipe every tree, then give it a root with `handles[b]` (and a value if given) ----
  void reset_roots(const int64_t* handles, const double* values) {
    // 1. every slot back to its empty state
    std::fill(parent.begin(), parent.end(), NO_PARENT);
    std::fill(first_child.begin(), first_child.end(), UNVISITED);
    std::fill(next_sibling.begin(), next_sibling.end(), UNVISITED);
    std::fill(last_child.begin(), last_child.end(), UNVISITED);
    for (auto* v : {&num_children, &visit_count, &depth, &virtual_loss}) std::fill(v->begin(), v->end(), 0);
    for (auto* v : {&value_sum, &prior, &reward}) std::fill(v->begin(), v->end(), 0.0);
    std::fill(terminal.begin(), terminal.end(), 0);
    std::fill(pruned.begin(), pruned.end(), 0);
    std::fill(handle.begin(), handle.end(), -1);
    // 2. the root: node 0, depth 0, prior 1; a given value counts as the root's first visit
    for (int32_t b = 0; b < B; ++b) {
      const size_t r = at(b, ROOT_INDEX);
      num_nodes[b] = 1;
      handle[r] = handles[b];
      prior[r] = 1.0;
      if (values) { visit_count[r] = 1; value_sum[r] = values[b]; }
    }
  }

  // ---- add_children: append M nodes; node m becomes the last child of par[m] in tree[m] ----
  void add_children(int64_t M, const int32_t* tree, const int32_t* par, const double* pri, const double* rew,
                    const uint8_t* term, const int64_t* hnd, int32_t* out) {
    for (int64_t m = 0; m < M; ++m) {
      const int32_t b = tree[m], p = par[m], i = num_nodes[b]++;
      const size_t k = at(b, i), kp = at(b, p);
      // 1. fill the new slot; a child of a pruned node is born pruned
      parent[k] = p; first_child[k] = UNVISITED; next_sibling[k] = UNVISITED; last_child[k] = UNVISITED;
      num_children[k] = 0; visit_count[k] = 0; value_sum[k] = 0.0; virtual_loss[k] = 0;
      prior[k] = pri[m]; reward[k] = rew[m]; terminal[k] = term[m] ? 1 : 0; handle[k] = hnd[m];
      depth[k] = depth[kp] + 1; pruned[k] = pruned[kp];
      // 2. link it at the end of the parent's child list (child order = insertion order)
      if (last_child[kp] == UNVISITED) first_child[kp] = i; else next_sibling[at(b, last_child[kp])] = i;
      last_child[kp] = i;
      ++num_children[kp];
      out[m] = i;
    }
  }

  // ---- select: one root-to-leaf descent per tree ----
  void select(double c, Rule rule, int32_t vl, int64_t seed, double fpu, int32_t* leaf, int32_t* leaf_depth) {
    for (int32_t b = 0; b < B; ++b) {
      int32_t node = ROOT_INDEX;
      // 1. descend until a terminal node or a node without live (non-pruned) children
      while (!terminal[at(b, node)]) {
        const size_t kn = at(b, node);
        // the parent term, once per node: ln N for UCT, sqrt N for PUCT (N = visits + virtual losses, at least 1)
        const int64_t np_eff = std::max<int64_t>(int64_t(visit_count[kn]) + virtual_loss[kn], 1);
        const double log_parent = rule == UCT ? std::log(static_cast<double>(np_eff)) : 0.0;
        const double sqrt_parent = rule == PUCT ? std::sqrt(static_cast<double>(np_eff)) : 0.0;
        int32_t best = UNVISITED;
        double best_score = -std::numeric_limits<double>::infinity();
        uint64_t best_key = 0;
        bool have_key = false;
        // 2. score each live child; strictly higher wins, exact ties go to the larger tie_key
        for (int32_t ch = first_child[kn]; ch != UNVISITED; ch = next_sibling[at(b, ch)]) {
          const size_t kc = at(b, ch);
          if (pruned[kc]) continue;
          const int64_t n_eff = int64_t(visit_count[kc]) + virtual_loss[kc];
          const double s = rule == UCT ? uct_score(value_sum[kc], n_eff, log_parent, c)
                                       : puct_score(value_sum[kc], n_eff, prior[kc], sqrt_parent, c, fpu);
          if (best == UNVISITED || s > best_score) {
            best = ch; best_score = s; have_key = false;
          } else if (s == best_score) {
            if (!have_key) { best_key = tie_key(seed, b, best); have_key = true; }
            const uint64_t key = tie_key(seed, b, ch);
            if (key > best_key) { best = ch; best_key = key; }
          }
        }
        if (best == UNVISITED) break;
        node = best;
      }
      leaf[b] = node;
      leaf_depth[b] = depth[at(b, node)];
      // 3. virtual loss on the whole path, leaf to root, so the next select in this batch diverges
      if (vl > 0)
        for (int32_t x = node; x != NO_PARENT; x = parent[at(b, x)]) virtual_loss[at(b, x)] += vl;
    }
  }

  // ---- backprop: M values, each walked from its node up to the root, in order ----
  void backprop(int64_t M, const int32_t* tree, const int32_t* node, const double* value, double discount) {
    for (int64_t m = 0; m < M; ++m) {
      const int32_t b = tree[m];
      double g = value[m];  // the return seen from the current node
      for (int32_t x = node[m]; x != NO_PARENT; x = parent[at(b, x)]) {
        const size_t k = at(b, x);
        // 1. one visit, the return, and one unit of virtual loss removed (never below 0)
        visit_count[k] += 1;
        value_sum[k] += g;
        if (virtual_loss[k] > 0) virtual_loss[k] -= 1;
        // 2. the return seen from the parent: the reward for stepping into x, plus the discounted return
        g = reward[k] + discount * g;
      }
    }
  }

  // ---- prune: mark node m and its whole subtree pruned (iterative depth-first walk) ----
  void prune(int64_t M, const int32_t* tree, const int32_t* node) {
    std::vector<int32_t> stack;
    for (int64_t m = 0; m < M; ++m) {
      const int32_t b = tree[m];
      stack.assign(1, node[m]);
      while (!stack.empty()) {
        const int32_t x = stack.back();
        stack.pop_back();
        pruned[at(b, x)] = 1;
        for (int32_t ch = first_child[at(b, x)]; ch != UNVISITED; ch = next_sibling[at(b, ch)]) stack.push_back(ch);
      }
    }
  }

  // ---- frontier: per tree, the live leaves in index order; rows padded with UNVISITED to F = max count ----
  std::vector<int32_t> frontier(bool include_terminal, int64_t& F) const {
    std::vector<std::vector<int32_t>> rows(B);
    std::vector<uint8_t> live_child(N);
    F = 0;
    for (int32_t b = 0; b < B; ++b) {
      // 1. a node is internal when one of its children is not pruned
      std::fill(live_child.begin(), live_child.end(), 0);
      for (int32_t i = 1; i < num_nodes[b]; ++i)
        if (!pruned[at(b, i)]) live_child[parent[at(b, i)]] = 1;
      // 2. keep the live leaves (and skip terminal ones unless asked)
      for (int32_t i = 0; i < num_nodes[b]; ++i) {
        const size_t k = at(b, i);
        if (!pruned[k] && !live_child[i] && (include_terminal || !terminal[k])) rows[b].push_back(i);
      }
      F = std::max<int64_t>(F, static_cast<int64_t>(rows[b].size()));
    }
    // 3. pad to a [B, F] block
    std::vector<int32_t> out(static_cast<size_t>(B) * F, UNVISITED);
    for (int32_t b = 0; b < B; ++b) std::copy(rows[b].begin(), rows[b].end(), out.begin() + static_cast<size_t>(b) * F);
    return out;
  }

  // ---- path: root-to-node indices for M queries, [M, D] with D = max depth + 1, padded with UNVISITED ----
  std::vector<int32_t> path(int64_t M, const int32_t* tree, const int32_t* node, int64_t& D) const {
    D = 0;
    for (int64_t m = 0; m < M; ++m) D = std::max<int64_t>(D, int64_t(depth[at(tree[m], node[m])]) + 1);
    std::vector<int32_t> out(static_cast<size_t>(M) * D, UNVISITED);
    for (int64_t m = 0; m < M; ++m) {
      // walk up from the node, writing each ancestor at its own depth
      for (int32_t x = node[m]; x != NO_PARENT; x = parent[at(tree[m], x)])
        out[static_cast<size_t>(m) * D + depth[at(tree[m], x)]] = x;
    }
    return out;
  }
};

// ---- top_k: per row, the k entries of `nodes` with the highest score; UNVISITED entries skipped ----
// nodes, scores: [R, M]; out: [R, k], padded with UNVISITED. Ties keep position order (stable sort).
inline void top_k(int64_t R, int64_t M, const int32_t* nodes, const double* scores, int64_t k, int32_t* out) {
  std::vector<int64_t> idx;
  for (int64_t r = 0; r < R; ++r) {
    const int32_t* nr = nodes + r * M;
    const double* sr = scores + r * M;
    // 1. the positions that hold a node
    idx.clear();
    for (int64_t j = 0; j < M; ++j)
      if (nr[j] != UNVISITED) idx.push_back(j);
    // 2. stable sort by score, best first
    std::stable_sort(idx.begin(), idx.end(), [sr](int64_t a, int64_t b) { return ranks_before(sr[a], sr[b]); });
    // 3. the first k, then padding
    for (int64_t i = 0; i < k; ++i) out[r * k + i] = i < static_cast<int64_t>(idx.size()) ? nr[idx[i]] : UNVISITED;
  }
}

}  // namespace rk

#if !defined(__clang__) && defined(__GNUC__)
#pragma GCC pop_options
#endif
