#include "metric_type.hpp"

#include <new>

#include "values.hpp"

namespace trainscope::python {

namespace {

struct MetricObject {
    PyObject_HEAD
    trainscope::Metric metric;
    std::int64_t* last_step;  ///< inside the owner, which this object keeps alive
    PyObject* name;
    PyObject* owner;
};

void metric_dealloc(PyObject* self) {
    auto* m = reinterpret_cast<MetricObject*>(self);
    PyTypeObject* type = Py_TYPE(self);
    Py_XDECREF(m->name);
    Py_XDECREF(m->owner);
    m->metric.~Metric();
    type->tp_free(self);
    Py_DECREF(type);  // heap types are referenced by their instances
}

/// log(step, value): the value lands in the ring (or, for a CUDA tensor, later, under the
/// same step). ValueError for a step or value that cannot be logged.
PyObject* metric_log(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
    auto* m = reinterpret_cast<MetricObject*>(self);
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "Metric.log(step, value) takes 2 arguments (%zd given)", nargs);
        return nullptr;
    }
    std::int64_t step = 0;
    if (!read_step(args[0], &step)) return nullptr;
    double value = 0;
    switch (read_value(self, step, args[1], &value)) {
        case ValueRead::logged_value: m->metric.log(step, value); break;
        case ValueRead::taken_over: break;
        case ValueRead::error: return nullptr;
    }
    *m->last_step = step;
    if (hooks().pending > 0 && !poll_deferred()) return nullptr;
    Py_RETURN_NONE;
}

/// _log_float(step, value): a value already read (a deferred CUDA value coming back).
PyObject* metric_log_float(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
    auto* m = reinterpret_cast<MetricObject*>(self);
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "_log_float(step, value) takes 2 arguments");
        return nullptr;
    }
    std::int64_t step = 0;
    if (!read_step(args[0], &step)) return nullptr;
    double value = PyFloat_AsDouble(args[1]);
    if (value == -1.0 && PyErr_Occurred()) return nullptr;
    m->metric.log(step, value);
    Py_RETURN_NONE;
}

PyObject* metric_repr(PyObject* self) {
    auto* m = reinterpret_cast<MetricObject*>(self);
    return PyUnicode_FromFormat("<trainscope.Metric %R%s>", m->name, m->metric.valid() ? "" : " (disabled)");
}

PyObject* metric_get_name(PyObject* self, void*) {
    auto* m = reinterpret_cast<MetricObject*>(self);
    Py_INCREF(m->name);
    return m->name;
}

PyObject* metric_get_owner(PyObject* self, void*) {
    auto* m = reinterpret_cast<MetricObject*>(self);
    Py_INCREF(m->owner);
    return m->owner;
}

PyObject* metric_get_active(PyObject* self, void*) {
    return PyBool_FromLong(reinterpret_cast<MetricObject*>(self)->metric.valid());
}

PyMethodDef metric_methods[] = {
    {"log", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(metric_log)), METH_FASTCALL,
     "log(step, value): append one point (int/float/bool, numpy scalar, 0-d tensor)."},
    {"_log_float", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(metric_log_float)),
     METH_FASTCALL, "Log an already-read float without touching last_step (deferred values)."},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef metric_getset[] = {
    {"name", metric_get_name, nullptr, "The metric's name.", nullptr},
    {"active", metric_get_active, nullptr, "False when the run logs nothing.", nullptr},
    {"_owner", metric_get_owner, nullptr, "The NativeRun this metric logs into.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot metric_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(metric_dealloc)},
    {Py_tp_repr, reinterpret_cast<void*>(metric_repr)},
    {Py_tp_methods, metric_methods},
    {Py_tp_getset, metric_getset},
    {Py_tp_doc, const_cast<char*>("A metric of a run, interned once: keep it and call log(step, value).")},
    {0, nullptr},
};

PyType_Spec metric_spec = {
    "trainscope._native.Metric", sizeof(MetricObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION, metric_slots,
};

}  // namespace

PyObject* make_metric_type() { return PyType_FromSpec(&metric_spec); }

PyObject* new_metric(PyObject* type, const trainscope::Metric& metric, PyObject* name, PyObject* owner,
                     std::int64_t* last_step) {
    auto* tp = reinterpret_cast<PyTypeObject*>(type);
    PyObject* obj = tp->tp_alloc(tp, 0);
    if (!obj) return nullptr;
    auto* m = reinterpret_cast<MetricObject*>(obj);
    new (&m->metric) trainscope::Metric(metric);
    m->last_step = last_step;
    Py_INCREF(name);
    m->name = name;
    Py_INCREF(owner);
    m->owner = owner;
    return obj;
}

}  // namespace trainscope::python
