#include "support/shm_names.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>

#include <unistd.h>

#include <cerrno>

#include <trainscope/detail/namespace_dir.hpp>

namespace trainscope::test {

namespace {

std::string sanitized(std::string s) {
    for (char& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
    return s;
}

bool all_digits(const std::string& s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string unique_namespace() {
    static std::atomic<int> counter{0};
    std::string name = "tstest-" + std::to_string(::getpid());
    if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info())
        name += "-" + sanitized(info->test_suite_name()) + "-" + sanitized(info->name());
    int n = counter++;
    if (n > 0) name += "-" + std::to_string(n);
    return name;
}

std::string shm_path(const std::string& name) {
    return "/dev/shm/" + name;
}

std::vector<std::string> shm_files(const std::string& ns) {
    std::vector<std::string> out;
    std::string prefix = ns + ".";
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
        std::string name = entry.path().filename().string();
        if (name.compare(0, prefix.size(), prefix) == 0) out.push_back(name);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> trainer_segments(const std::string& ns) {
    std::vector<std::string> out;
    for (const std::string& name : shm_files(ns)) {
        std::string rest = name.substr(ns.size() + 1);
        std::size_t dot = rest.find('.');
        if (dot != std::string::npos && all_digits(rest.substr(0, dot)) &&
            all_digits(rest.substr(dot + 1)))
            out.push_back(name);
    }
    return out;
}

void remove_shm_files(const std::string& ns) {
    // rmdir: a test may plant a directory with the namespace's prefix.
    for (const std::string& name : shm_files(ns))
        if (::unlink(shm_path(name).c_str()) != 0 && errno == EISDIR)
            ::rmdir(shm_path(name).c_str());
    // An agent killed hard leaves its lock file in the user's namespace dir.
    for (const std::string& dir : detail::namespace_dirs())
        ::unlink(detail::agent_file_path(dir, ns).c_str());
}

ShmNamespace::ShmNamespace() : name_(unique_namespace()) {
    remove_shm_files(name_);
}

ShmNamespace::~ShmNamespace() {
    remove_shm_files(name_);
}

std::string ShmNamespace::only_segment() const {
    std::vector<std::string> segments = trainer_segments(name_);
    EXPECT_EQ(segments.size(), 1u) << "trainer segments of namespace " << name_;
    return segments.empty() ? std::string() : segments.front();
}

}  // namespace trainscope::test
