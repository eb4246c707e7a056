// ctree.cpp: pybind11 bindings of the tree core (ctree.h) as the extension module `reasoner_kit._ctree`.
//
// Python users go through `CTrees` in reasoner_kit/tree.py, which checks shapes and dtypes first; these
// bindings check again, so the class is also safe to use on its own. Each binding: (1) takes C-contiguous
// arrays (forcecast), (2) validates indices while holding the GIL, so a bad call raises before any
// change, (3) releases the GIL for the loop, (4) returns new numpy arrays. Field arrays are exposed as
// zero-copy numpy views whose base is the Trees object, so they stay valid as long as any view lives.
// C++ exceptions map to Python ones: out_of_range -> IndexError, invalid_argument/length_error -> ValueError.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "ctree.h"

namespace py = pybind11;
using rk::Trees;

template <class T>
using carray = py::array_t<T, py::array::c_style | py::array::forcecast>;

// Length of a 1-D input, or ValueError.
template <class T>
static int64_t len1(const carray<T>& a, const char* name, int64_t want = -1) {
  if (a.ndim() != 1) throw std::invalid_argument(std::string(name) + " must be 1-D");
  if (want >= 0 && a.shape(0) != want)
    throw std::invalid_argument(std::string(name) + " has length " + std::to_string(a.shape(0)) + ", expected " +
                                std::to_string(want));
  return a.shape(0);
}

// A zero-copy [B, N] (or [B]) view of one field; `owner` (the Trees object) is kept alive by the view.
template <class T>
static py::array view(py::handle owner, rk::Field<T>& v, std::vector<py::ssize_t> shape, py::dtype dt) {
  std::vector<py::ssize_t> strides(shape.size(), static_cast<py::ssize_t>(sizeof(T)));
  if (shape.size() == 2) strides[0] = shape[1] * static_cast<py::ssize_t>(sizeof(T));
  return py::array(dt, shape, strides, v.data(), owner);
}

// A new 2-D int32 array filled from a row-major vector.
static carray<int32_t> to_array2(const std::vector<int32_t>& v, int64_t rows, int64_t cols) {
  carray<int32_t> out({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)});
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

PYBIND11_MODULE(_ctree, m) {
  m.doc() = "Compiled bookkeeping core for batches of search trees (see reasoner_kit.tree).";
  m.attr("ROOT_INDEX") = rk::ROOT_INDEX;
  m.attr("UNVISITED") = rk::UNVISITED;
  m.attr("NO_PARENT") = rk::NO_PARENT;
  m.def("splitmix64", &rk::splitmix64, py::arg("x"));
  m.def("tie_key", &rk::tie_key, py::arg("seed"), py::arg("tree"), py::arg("node"));

  m.def("top_k", [](carray<int32_t> nodes, carray<double> scores, int64_t k) {
    if (nodes.ndim() != 2 || scores.ndim() != 2 || nodes.shape(0) != scores.shape(0) ||
        nodes.shape(1) != scores.shape(1))
      throw std::invalid_argument("nodes and scores must be 2-D arrays of the same shape");
    if (k < 0) throw std::invalid_argument("k must be >= 0");
    const int64_t R = nodes.shape(0), M = nodes.shape(1);
    carray<int32_t> out({static_cast<py::ssize_t>(R), static_cast<py::ssize_t>(k)});
    const int32_t* pn = nodes.data();
    const double* ps = scores.data();
    int32_t* po = out.mutable_data();
    {
      py::gil_scoped_release nogil;
      rk::top_k(R, M, pn, ps, k, po);
    }
    return out;
  }, py::arg("nodes"), py::arg("scores"), py::arg("k"));

  py::class_<Trees>(m, "Trees")
      .def(py::init<int32_t, int32_t>(), py::arg("batch_size"), py::arg("capacity"))
      .def_readonly("batch_size", &Trees::B)
      .def_readonly("capacity", &Trees::N)

      // all fields as zero-copy numpy views, by name
      .def("arrays", [](py::object self) {
        Trees& t = self.cast<Trees&>();
        std::vector<py::ssize_t> bn{t.B, t.N}, b{t.B};
        const auto i32 = py::dtype::of<int32_t>(), f64 = py::dtype::of<double>();
        const auto i64 = py::dtype::of<int64_t>(), boolean = py::dtype("bool");
        py::dict d;
        d["parent"] = view(self, t.parent, bn, i32);
        d["first_child"] = view(self, t.first_child, bn, i32);
        d["next_sibling"] = view(self, t.next_sibling, bn, i32);
        d["last_child"] = view(self, t.last_child, bn, i32);
        d["num_children"] = view(self, t.num_children, bn, i32);
        d["visit_count"] = view(self, t.visit_count, bn, i32);
        d["value_sum"] = view(self, t.value_sum, bn, f64);
        d["prior"] = view(self, t.prior, bn, f64);
        d["reward"] = view(self, t.reward, bn, f64);
        d["depth"] = view(self, t.depth, bn, i32);
        d["terminal"] = view(self, t.terminal, bn, boolean);
        d["pruned"] = view(self, t.pruned, bn, boolean);
        d["virtual_loss"] = view(self, t.virtual_loss, bn, i32);
        d["handle"] = view(self, t.handle, bn, i64);
        d["num_nodes"] = view(self, t.num_nodes, b, i32);
        return d;
      })

      .def("reset_roots", [](Trees& t, carray<int64_t> handles, py::object values) {
        len1(handles, "handles", t.B);
        carray<double> vals;
        const double* pv = nullptr;
        if (!values.is_none()) {
          vals = values.cast<carray<double>>();
          len1(vals, "values", t.B);
          pv = vals.data();
        }
        const int64_t* ph = handles.data();
        py::gil_scoped_release nogil;
        t.reset_roots(ph, pv);
      }, py::arg("handles"), py::arg("values") = py::none())

      .def("add_children", [](Trees& t, carray<int32_t> tree, carray<int32_t> parent, carray<double> prior,
                              carray<double> reward, carray<bool> terminal, carray<int64_t> handle) {
        const int64_t M = len1(tree, "tree");
        len1(parent, "parent", M); len1(prior, "prior", M); len1(reward, "reward", M);
        len1(terminal, "terminal", M); len1(handle, "handle", M);
        t.check_add(M, tree.data(), parent.data());
        std::vector<uint8_t> term(M);
        for (int64_t i = 0; i < M; ++i) term[i] = terminal.data()[i] ? 1 : 0;
        carray<int32_t> out(M);
        const int32_t *pt = tree.data(), *pp = parent.data();
        const double *ppr = prior.data(), *prw = reward.data();
        const int64_t* ph = handle.data();
        int32_t* po = out.mutable_data();
        {
          py::gil_scoped_release nogil;
          t.add_children(M, pt, pp, ppr, prw, term.data(), ph, po);
        }
        return out;
      }, py::arg("tree"), py::arg("parent"), py::arg("prior"), py::arg("reward"), py::arg("terminal"),
         py::arg("handle"))

      .def("select", [](Trees& t, double c, const std::string& rule, int32_t virtual_loss, int64_t seed,
                        double fpu) {
        const rk::Rule r = rk::parse_rule(rule);
        if (virtual_loss < 0) throw std::invalid_argument("virtual_loss must be >= 0");
        carray<int32_t> leaf(t.B), depth(t.B);
        int32_t *pl = leaf.mutable_data(), *pd = depth.mutable_data();
        {
          py::gil_scoped_release nogil;
          t.select(c, r, virtual_loss, seed, fpu, pl, pd);
        }
        return py::make_tuple(leaf, depth);
      }, py::arg("c") = 1.0, py::arg("rule") = "uct", py::arg("virtual_loss") = 0, py::arg("seed") = 0,
         py::arg("fpu") = 0.0)

      .def("backprop", [](Trees& t, carray<int32_t> tree, carray<int32_t> node, carray<double> value,
                          double discount) {
        const int64_t M = len1(tree, "tree");
        len1(node, "node", M); len1(value, "value", M);
        t.check_nodes(M, tree.data(), node.data());
        const int32_t *pt = tree.data(), *pn = node.data();
        const double* pv = value.data();
        py::gil_scoped_release nogil;
        t.backprop(M, pt, pn, pv, discount);
      }, py::arg("tree"), py::arg("node"), py::arg("value"), py::arg("discount") = 1.0)

      .def("prune", [](Trees& t, carray<int32_t> tree, carray<int32_t> node) {
        const int64_t M = len1(tree, "tree");
        len1(node, "node", M);
        t.check_nodes(M, tree.data(), node.data());
        const int32_t *pt = tree.data(), *pn = node.data();
        py::gil_scoped_release nogil;
        t.prune(M, pt, pn);
      }, py::arg("tree"), py::arg("node"))

      .def("frontier", [](Trees& t, bool include_terminal) {
        int64_t F = 0;
        std::vector<int32_t> v;
        {
          py::gil_scoped_release nogil;
          v = t.frontier(include_terminal, F);
        }
        return to_array2(v, t.B, F);
      }, py::arg("include_terminal") = false)

      .def("path", [](Trees& t, carray<int32_t> tree, carray<int32_t> node) {
        const int64_t M = len1(tree, "tree");
        len1(node, "node", M);
        t.check_nodes(M, tree.data(), node.data());
        int64_t D = 0;
        std::vector<int32_t> v;
        const int32_t *pt = tree.data(), *pn = node.data();
        {
          py::gil_scoped_release nogil;
          v = t.path(M, pt, pn, D);
        }
        return to_array2(v, M, D);
      }, py::arg("tree"), py::arg("node"));
}
