#include "values.hpp"

#include <cmath>

namespace trainscope::python {

Hooks& hooks() {
    static Hooks h;
    return h;
}

bool read_step(PyObject* obj, std::int64_t* step) {
    if (PyLong_CheckExact(obj)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
        if (overflow) {
            PyErr_SetString(PyExc_ValueError, "step is out of the range of a 64-bit integer");
            return false;
        }
        *step = v;
        return true;
    }
    if (PyFloat_Check(obj)) {  // __index__ would refuse it too, with a less helpful message
        PyErr_Format(PyExc_ValueError, "step must be an integer, not float (%R)", obj);
        return false;
    }
    PyObject* index = PyNumber_Index(obj);
    if (!index) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "step must be an integer, not %.100s", Py_TYPE(obj)->tp_name);
        return false;
    }
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(index, &overflow);
    Py_DECREF(index);
    if (overflow) {
        PyErr_SetString(PyExc_ValueError, "step is out of the range of a 64-bit integer");
        return false;
    }
    *step = v;
    return true;
}

ValueRead read_value(PyObject* metric, std::int64_t step, PyObject* value, double* out) {
    if (PyFloat_Check(value)) {  // float and its subclasses (numpy.float64)
        *out = PyFloat_AS_DOUBLE(value);
        return ValueRead::logged_value;
    }
    if (PyLong_Check(value)) {  // int, bool and their subclasses
        double v = PyLong_AsDouble(value);
        if (v == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();  // beyond a double's range: an honest infinity
            v = Py_SIZE(value) < 0 ? -INFINITY : INFINITY;
        }
        *out = v;
        return ValueRead::logged_value;
    }
    Hooks& h = hooks();
    if (!h.convert) {
        PyErr_Format(PyExc_ValueError, "cannot log a %.100s: expected int, float or bool",
                     Py_TYPE(value)->tp_name);
        return ValueRead::error;
    }
    PyObject* step_obj = PyLong_FromLongLong(step);
    if (!step_obj) return ValueRead::error;
    PyObject* args[] = {metric, step_obj, value};
    PyObject* result = PyObject_Vectorcall(h.convert, args, 3, nullptr);
    Py_DECREF(step_obj);
    if (!result) return ValueRead::error;
    ValueRead read = ValueRead::taken_over;
    if (result != Py_None) {
        *out = PyFloat_AsDouble(result);
        read = (*out == -1.0 && PyErr_Occurred()) ? ValueRead::error : ValueRead::logged_value;
    }
    Py_DECREF(result);
    return read;
}

bool poll_deferred() {
    Hooks& h = hooks();
    if (h.pending <= 0 || !h.poll) return true;
    PyObject* result = PyObject_CallNoArgs(h.poll);
    if (!result) return false;
    Py_DECREF(result);
    return true;
}

}  // namespace trainscope::python
