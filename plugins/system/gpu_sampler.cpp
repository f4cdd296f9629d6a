#include "gpu_sampler.hpp"

#include <dlfcn.h>

#include "nvml_types.h"

namespace trainscope::plugins::system {

struct GpuSampler::Api {
    ts_nvmlInit_v2_fn init = nullptr;
    ts_nvmlShutdown_fn shutdown = nullptr;
    ts_nvmlDeviceGetCount_v2_fn count = nullptr;
    ts_nvmlDeviceGetHandleByIndex_v2_fn handle = nullptr;
    ts_nvmlDeviceGetUtilizationRates_fn utilization = nullptr;
    ts_nvmlDeviceGetMemoryInfo_fn memory = nullptr;
    ts_nvmlDeviceGetTemperature_fn temperature = nullptr;
    ts_nvmlDeviceGetPowerUsage_fn power = nullptr;
};

namespace {

template <typename Fn>
bool resolve(void* lib, const char* name, Fn& out, std::string* why) {
    out = reinterpret_cast<Fn>(::dlsym(lib, name));
    if (!out) *why = std::string("the library has no ") + name;
    return out != nullptr;
}

}  // namespace

std::unique_ptr<GpuSampler> GpuSampler::open(const std::string& library, std::string* why) {
    void* lib = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char* err = ::dlerror();
        *why = "cannot load " + library + (err ? std::string(" (") + err + ")" : std::string());
        return nullptr;
    }
    std::unique_ptr<GpuSampler> s(new GpuSampler());
    s->handle_ = lib;  // from here on the destructor closes it
    s->api_ = std::make_unique<Api>();
    Api& a = *s->api_;
    if (!resolve(lib, "nvmlInit_v2", a.init, why) ||
        !resolve(lib, "nvmlShutdown", a.shutdown, why) ||
        !resolve(lib, "nvmlDeviceGetCount_v2", a.count, why) ||
        !resolve(lib, "nvmlDeviceGetHandleByIndex_v2", a.handle, why) ||
        !resolve(lib, "nvmlDeviceGetUtilizationRates", a.utilization, why) ||
        !resolve(lib, "nvmlDeviceGetMemoryInfo", a.memory, why) ||
        !resolve(lib, "nvmlDeviceGetTemperature", a.temperature, why) ||
        !resolve(lib, "nvmlDeviceGetPowerUsage", a.power, why)) {
        a.shutdown = nullptr;  // never initialised: nothing to shut down
        *why = library + ": " + *why;
        return nullptr;
    }
    if (nvmlReturn_t rc = a.init(); rc != TS_NVML_SUCCESS) {
        a.shutdown = nullptr;
        *why = "nvmlInit_v2 failed (NVML error " + std::to_string(rc) + ")";
        return nullptr;
    }
    unsigned int n = 0;
    if (nvmlReturn_t rc = a.count(&n); rc != TS_NVML_SUCCESS) {
        *why = "nvmlDeviceGetCount_v2 failed (NVML error " + std::to_string(rc) + ")";
        return nullptr;
    }
    for (unsigned int i = 0; i < n; ++i) {
        nvmlDevice_t d = nullptr;
        if (a.handle(i, &d) == TS_NVML_SUCCESS) s->devices_.push_back(d);
    }
    if (s->devices_.empty()) {
        *why = "NVML reports no device";
        return nullptr;
    }
    return s;
}

GpuSampler::~GpuSampler() {
    if (api_ && api_->shutdown) api_->shutdown();
    if (handle_) ::dlclose(handle_);
}

std::vector<GpuSample> GpuSampler::sample() const {
    std::vector<GpuSample> out(devices_.size());
    for (std::size_t i = 0; i < devices_.size(); ++i) {
        auto d = static_cast<nvmlDevice_t>(devices_[i]);
        GpuSample& g = out[i];
        nvmlUtilization_t u{};
        if (api_->utilization(d, &u) == TS_NVML_SUCCESS) g.util_percent = u.gpu;
        nvmlMemory_t m{};
        if (api_->memory(d, &m) == TS_NVML_SUCCESS) {
            g.mem_used_bytes = static_cast<double>(m.used);
            g.mem_total_bytes = static_cast<double>(m.total);
        }
        unsigned int t = 0;
        if (api_->temperature(d, TS_NVML_TEMPERATURE_GPU, &t) == TS_NVML_SUCCESS)
            g.temperature_c = t;
        unsigned int mw = 0;
        if (api_->power(d, &mw) == TS_NVML_SUCCESS) g.power_w = mw / 1000.0;
    }
    return out;
}

}  // namespace trainscope::plugins::system
