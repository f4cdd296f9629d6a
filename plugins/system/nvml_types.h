// The few NVML declarations the system plugin uses, written from NVIDIA's NVML API reference
// (not copied from nvml.h, which we do not require at build time). The library is found at
// run time with dlopen, so a machine without an NVIDIA driver builds and runs the same binary.
// Shared by the plugin and the tests' stand-in library (tests/plugins/fixtures/nvml_stand_in.c),
// so it is C as well as C++.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

typedef int nvmlReturn_t;  /* an enum in NVML; 0 is NVML_SUCCESS */
#define TS_NVML_SUCCESS 0
#define TS_NVML_ERROR_UNINITIALIZED 1
#define TS_NVML_ERROR_INVALID_ARGUMENT 2

typedef struct nvmlDevice_st* nvmlDevice_t;  /* opaque handle */

/* nvmlDeviceGetUtilizationRates: percent of the last sample period busy. */
typedef struct {
    unsigned int gpu;
    unsigned int memory;
} nvmlUtilization_t;

/* nvmlDeviceGetMemoryInfo (v1 layout): bytes. */
typedef struct {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_t;

#define TS_NVML_TEMPERATURE_GPU 0  /* nvmlTemperatureSensors_t: the GPU die */

typedef nvmlReturn_t (*ts_nvmlInit_v2_fn)(void);
typedef nvmlReturn_t (*ts_nvmlShutdown_fn)(void);
typedef nvmlReturn_t (*ts_nvmlDeviceGetCount_v2_fn)(unsigned int* count);
typedef nvmlReturn_t (*ts_nvmlDeviceGetHandleByIndex_v2_fn)(unsigned int index, nvmlDevice_t* device);
typedef nvmlReturn_t (*ts_nvmlDeviceGetUtilizationRates_fn)(nvmlDevice_t device, nvmlUtilization_t* utilization);
typedef nvmlReturn_t (*ts_nvmlDeviceGetMemoryInfo_fn)(nvmlDevice_t device, nvmlMemory_t* memory);
/* sensor: an nvmlTemperatureSensors_t (an enum, passed as an int). */
typedef nvmlReturn_t (*ts_nvmlDeviceGetTemperature_fn)(nvmlDevice_t device, int sensor, unsigned int* celsius);
/* Milliwatts. */
typedef nvmlReturn_t (*ts_nvmlDeviceGetPowerUsage_fn)(nvmlDevice_t device, unsigned int* milliwatts);

#ifdef __cplusplus
}
#endif
