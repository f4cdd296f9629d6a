// trainscope._native: the C++ SDK (sdk/include/trainscope/) as a Python extension.
//
// No second ring: NativeRun owns a trainscope::Run and every point goes through the SDK's
// own log(). The pure-Python layer (trainscope/run.py) adds configuration, ranks, tensors and
// the context manager on top.
//
// The GIL stays held in every call: they are short (nanoseconds on the hot path), and a
// Python thread can then never be inside the SDK's slow-path locks when another thread
// forks (PyTorch's DataLoader workers), so a forked child cannot deadlock on them.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include <trainscope/layout.hpp>
#include <trainscope/trainscope.hpp>

#include "metric_type.hpp"
#include "values.hpp"

namespace py = pybind11;

namespace trainscope::python {

namespace {

/// The Metric type, created at module init.
PyObject* g_metric_type = nullptr;

/// UTF-8 bytes of a str; ValueError for a str that cannot be encoded (lone surrogates).
std::string_view utf8(py::handle text, const char* what) {
    if (!PyUnicode_Check(text.ptr()))
        throw py::value_error(std::string(what) + " must be a str, not " + Py_TYPE(text.ptr())->tp_name);
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(text.ptr(), &size);
    if (!data) {
        PyErr_Clear();
        throw py::value_error(std::string(what) + " is not valid UTF-8 (it holds a lone surrogate)");
    }
    return {data, static_cast<std::size_t>(size)};
}

class NativeRun {
public:
    NativeRun(const std::string& name, const std::string& run_id, int rank, bool autostart,
              std::uint32_t capacity, bool block)
        : run_(name, options(run_id, rank, autostart, capacity, block)), ids_(py::dict()) {}

    /// The handle of metric `name` (interned on first use). ValueError if the SDK refuses
    /// the name. On a run without a segment, a handle that logs nothing.
    static py::object metric(py::object self, py::handle name) {
        NativeRun& run = self.cast<NativeRun&>();
        std::size_t index = run.intern(name);
        PyObject* m = new_metric(g_metric_type, run.metrics_[index], name.ptr(), self.ptr(), &run.last_step_);
        if (!m) throw py::error_already_set();
        return py::reinterpret_steal<py::object>(m);
    }

    /// One call for many metrics: {name: value}, all at `step` (None: last step + 1).
    static void log_dict(py::object self, py::handle values, py::handle step_obj) {
        NativeRun& run = self.cast<NativeRun&>();
        if (!PyDict_Check(values.ptr()))
            throw py::value_error(std::string("run.log() takes a dict of {name: value}, not ") +
                                  Py_TYPE(values.ptr())->tp_name);
        std::int64_t step = run.last_step_ + 1;
        if (!step_obj.is_none() && !read_step(step_obj.ptr(), &step)) throw py::error_already_set();
        PyObject* key = nullptr;
        PyObject* value = nullptr;
        Py_ssize_t pos = 0;
        while (PyDict_Next(values.ptr(), &pos, &key, &value)) {
            std::size_t index = run.intern(key);
            double v = 0;
            ValueRead read = ValueRead::error;
            if (PyFloat_Check(value) || PyLong_Check(value)) {
                read = read_value(nullptr, step, value, &v);  // never calls the converter
            } else {
                // Slow path: the converter needs a Metric to log a deferred value under.
                py::object handle = metric(self, key);
                read = read_value(handle.ptr(), step, value, &v);
            }
            if (read == ValueRead::error) {
                py::error_already_set e;
                throw py::value_error("run.log(): '" + std::string(utf8(key, "metric name")) + "': " +
                                      std::string(py::str(e.value())));
            }
            if (read == ValueRead::logged_value) run.metrics_[index].log(step, v);
        }
        run.last_step_ = step;
        if (hooks().pending > 0 && !poll_deferred()) throw py::error_already_set();
    }

    bool set_config(py::handle json) { return run_.set_config(utf8(json, "config")); }
    bool set_model_info(py::handle json) { return run_.set_model_info(utf8(json, "model info")); }
    bool event(py::handle kind, py::handle text) {
        return run_.event(utf8(kind, "event kind"), utf8(text, "event text"));
    }
    void finish(bool failed) { run_.finish(failed ? RunEnd::failed : RunEnd::finished); }

    std::string session_id() const { return run_.session_id(); }
    std::uint64_t dropped() const { return run_.dropped(); }
    bool active() const { return run_.active(); }
    std::int64_t last_step() const { return last_step_; }

private:
    static RunOptions options(const std::string& run_id, int rank, bool autostart, std::uint32_t capacity,
                              bool block) {
        RunOptions o;
        o.run_id = run_id;
        o.rank = rank;
        o.autostart = autostart;
        o.capacity = capacity;
        o.overflow = block ? OverflowPolicy::block : OverflowPolicy::drop;
        return o;
    }

    /// The index in metrics_ of metric `name`, interning it on first use.
    std::size_t intern(py::handle name) {
        PyObject* known = PyDict_GetItemWithError(ids_.ptr(), name.ptr());
        if (known) return PyLong_AsSize_t(known);
        if (PyErr_Occurred()) throw py::error_already_set();  // an unhashable key
        std::string_view text = utf8(name, "metric name");
        std::string why;
        Metric m = run_.metric(text, &why);
        if (!why.empty()) throw py::value_error(why);
        metrics_.push_back(m);
        ids_[name] = metrics_.size() - 1;
        return metrics_.size() - 1;
    }

    Run run_;
    std::int64_t last_step_ = -1;  ///< the step of the latest log through this run
    std::vector<Metric> metrics_;  ///< by the index ids_ gives a name
    py::dict ids_;                 ///< metric name (str) -> index in metrics_
};

}  // namespace

}  // namespace trainscope::python

PYBIND11_MODULE(_native, m) {
    using trainscope::python::NativeRun;
    namespace layout = trainscope::layout;
    m.doc() = "The Trainscope C++ SDK, wrapped: one shared-memory segment per NativeRun.";

    trainscope::python::g_metric_type = trainscope::python::make_metric_type();
    if (!trainscope::python::g_metric_type) throw py::error_already_set();
    m.attr("Metric") = py::reinterpret_borrow<py::object>(trainscope::python::g_metric_type);

    py::class_<NativeRun>(m, "NativeRun", py::dynamic_attr())
        .def(py::init<const std::string&, const std::string&, int, bool, std::uint32_t, bool>(),
             py::arg("name"), py::arg("run_id"), py::arg("rank"), py::arg("autostart"),
             py::arg("capacity"), py::arg("block"))
        .def("metric", &NativeRun::metric, py::arg("name"))
        .def("log_dict", &NativeRun::log_dict, py::arg("values"), py::arg("step"))
        .def("set_config", &NativeRun::set_config)
        .def("set_model_info", &NativeRun::set_model_info)
        .def("event", &NativeRun::event)
        .def("finish", &NativeRun::finish, py::arg("failed"))
        .def_property_readonly("session_id", &NativeRun::session_id)
        .def_property_readonly("dropped", &NativeRun::dropped)
        .def_property_readonly("active", &NativeRun::active)
        .def_property_readonly("last_step", &NativeRun::last_step);

    m.def("set_hooks", [](py::object convert, py::object poll) {
        auto& h = trainscope::python::hooks();
        Py_XDECREF(h.convert);
        Py_XDECREF(h.poll);
        h.convert = convert.release().ptr();  // held for the life of the interpreter
        h.poll = poll.release().ptr();
    });
    m.def("set_pending", [](Py_ssize_t n) { trainscope::python::hooks().pending = n; },
          "How many deferred values wait: while > 0, every log() polls them.");
    m.def("valid_session_id", [](const std::string& id) { return trainscope::detail::valid_session_id(id); });

    m.attr("METRIC_NAME_MAX_BYTES") = layout::kMetricNameSize - 1;
    m.attr("RUN_NAME_MAX_BYTES") = layout::kRunNameSize - 1;
    m.attr("MAX_METRICS") = layout::kMaxMetrics;
    m.attr("CONFIG_MAX_BYTES") = layout::kConfigBlobSize;
    m.attr("MODEL_INFO_MAX_BYTES") = layout::kModelInfoBlobSize;
    m.attr("EVENT_KIND_MAX_BYTES") = layout::kEventKindSize - 1;
    m.attr("EVENT_TEXT_MAX_BYTES") = layout::kEventTextSize - 1;
}
