// The plugins directory of a real agent: plugin files another user could have written
// (world-writable, a symlink to one, owned by someone else) are refused, each listed in
// GET /api/plugins with its reason and logged once; the safe ones load and the agent serves.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include "plugin_agent_fixture.hpp"
#include "support/http_client.hpp"
#include "support/json.hpp"

namespace trainscope::test {
namespace {

using PluginDirTest = PluginAgentTest;

TEST_F(PluginDirTest, UnsafePluginFilesAreListedAsRefusedWithTheirReasons) {
    TempDir plugins("tsplugins");
    const std::string built = std::string(TS_PLUGIN_DIR) + "/";
    auto copy = [&](const std::string& from, const std::string& to, mode_t mode) {
        std::filesystem::copy_file(built + from, plugins.path() + "/" + to);
        EXPECT_EQ(::chmod((plugins.path() + "/" + to).c_str(), mode), 0);
    };
    copy("velocity.so", "velocity.so", 0755);
    copy("statistics.so", "open.so", 0666);
    copy("trend.so", "group.so", 0775);
    std::filesystem::create_symlink(plugins.path() + "/open.so", plugins.path() + "/link.so");
    std::map<std::string, std::string> expected = {{"open.so", "world-writable (mode 0666)"},
                                                   {"group.so", "group-writable (mode 0775)"},
                                                   {"link.so", "a symbolic link"}};
    if (::geteuid() == 0) {
        copy("export.so", "foreign.so", 0644);
        EXPECT_EQ(::chown((plugins.path() + "/foreign.so").c_str(), 65534, 65534), 0);
        expected["foreign.so"] = "owned by uid 65534";
    }
    start_agent(plugins.path());

    HttpResponse r = http_get(port_, "/api/plugins");
    ASSERT_EQ(r.status, 200) << r.error;
    auto doc = parse_json(r.body);
    ASSERT_TRUE(doc.IsObject()) << r.body;
    std::map<std::string, std::pair<std::string, std::string>> listed;  // file -> state, reason
    for (const auto& p : doc["plugins"].GetArray())
        listed[std::filesystem::path(string_member(p, "path")).filename().string()] = {
            string_member(p, "state"), string_member(p, "reason")};
    EXPECT_EQ(listed["velocity.so"].first, "enabled");
    for (const auto& [file, reason] : expected) {
        EXPECT_EQ(listed[file].first, "refused") << file;
        EXPECT_NE(listed[file].second.find(reason), std::string::npos)
            << file << ": " << listed[file].second;
        // Logged once.
        std::string path = plugins.path() + "/" + file;
        auto names_it = [&](const std::string& line) {
            return line.find(path) != std::string::npos;
        };
        ASSERT_TRUE(agent_->wait_stderr(names_it)) << file << " not logged";
        int lines = 0;
        for (const std::string& line : agent_->stderr_lines()) lines += names_it(line);
        EXPECT_EQ(lines, 1) << file;
    }
    EXPECT_EQ(http_get(port_, "/healthz").status, 200);
    EXPECT_TRUE(agent_->running());
}

}  // namespace
}  // namespace trainscope::test
