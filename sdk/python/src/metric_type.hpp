// trainscope._native.Metric: the hot path, `metric.log(step, value)`.
//
// A plain CPython type with a METH_FASTCALL method (no pybind11 dispatch: its ~0.2 µs per
// call would be most of the cost). It holds the C++ SDK's Metric handle, a strong reference
// to the NativeRun that owns the ring (so the ring outlives every handle), and a pointer to
// that run's last_step, which each log() updates (run.log(dict) without a step continues
// from it).
#pragma once

#include <Python.h>

#include <cstdint>

#include <trainscope/trainscope.hpp>

namespace trainscope::python {

/// Creates the Metric type; call once from the module's init. Returns a new reference.
PyObject* make_metric_type();

/// A new Metric object for `metric` named `name`, owned by run object `owner`.
PyObject* new_metric(PyObject* type, const trainscope::Metric& metric, PyObject* name, PyObject* owner,
                     std::int64_t* last_step);

}  // namespace trainscope::python
