// Turning Python steps and values into what the C++ SDK logs, on the hot path.
//
// float, int and bool (and their subclasses: numpy.float64 is a float) are read here in C.
// Anything else (numpy's other scalars, 0-d torch tensors, a CUDA tensor that must not be
// synchronised) goes to the converter the Python layer registered (trainscope/_values.py):
// it returns the value as a float, or None when it has taken the value over (a CUDA tensor
// resolved later under the same step). Values it cannot read raise ValueError there.
#pragma once

#include <Python.h>

#include <cstdint>

#include <trainscope/trainscope.hpp>

namespace trainscope::python {

/// The Python layer's hooks (module-global; set once by trainscope._values).
struct Hooks {
    PyObject* convert = nullptr;  ///< convert(metric, step, value) -> float | None
    PyObject* poll = nullptr;     ///< poll(): log deferred values whose device copy is done
    Py_ssize_t pending = 0;       ///< deferred values waiting; the hot path polls while > 0
};
Hooks& hooks();

/// Reads a step: any integer (int, numpy integer, an integer 0-d tensor: __index__).
/// False with ValueError set for anything else or out of int64's range.
bool read_step(PyObject* obj, std::int64_t* step);

enum class ValueRead { logged_value, taken_over, error };

/// Reads a value into *out (logged_value), or hands it to the converter, which may keep it
/// (taken_over). error: a Python exception is set (ValueError for an unloggable value).
/// `metric` is the Metric object the converter gets back, to log a deferred value later.
ValueRead read_value(PyObject* metric, std::int64_t step, PyObject* value, double* out);

/// Polls deferred values if any wait. False with an exception set if the poll failed.
bool poll_deferred();

}  // namespace trainscope::python
