// The host's NVIDIA GPUs through NVML, loaded at run time (dlopen): absent library, failed
// init or no device all mean "no GPU", said once by open()'s reason.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace trainscope::plugins::system {

/// One GPU at one moment. A figure the device does not report is nullopt.
struct GpuSample {
    std::optional<double> util_percent;
    std::optional<double> mem_used_bytes;
    std::optional<double> mem_total_bytes;
    std::optional<double> temperature_c;
    std::optional<double> power_w;
};

class GpuSampler {
public:
    /// Loads `library` (a name dlopen searches for, or a path), resolves the NVML functions
    /// used, initialises NVML and counts the devices. Null with *why set when any of that
    /// fails or there is no device.
    static std::unique_ptr<GpuSampler> open(const std::string& library, std::string* why);
    ~GpuSampler();  ///< nvmlShutdown, dlclose
    GpuSampler(const GpuSampler&) = delete;
    GpuSampler& operator=(const GpuSampler&) = delete;

    std::size_t count() const { return devices_.size(); }
    /// Reads every device now.
    std::vector<GpuSample> sample() const;

private:
    struct Api;
    GpuSampler() = default;
    void* handle_ = nullptr;
    std::unique_ptr<Api> api_;
    std::vector<void*> devices_;  ///< nvmlDevice_t, by index
};

}  // namespace trainscope::plugins::system
