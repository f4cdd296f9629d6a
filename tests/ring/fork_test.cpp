// Proves: a child forked from a trainer (a data-loader worker, say) that logs through the
// Run it inherited writes to the shared lane 0, never to the lane its parent's thread owns,
// so no record of either process is lost or torn; and the child's exit (even through the
// Run's finish()) does not mark its parent's run finished.
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <set>

#include "ring/ring_fixture.hpp"

namespace trainscope::test {
namespace {

using ForkTest = RingTest;

TEST_F(ForkTest, ChildLogsToLaneZeroAndDoesNotFinishTheParentsRun) {
    trainscope::Run run("forked", options(4096));
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    Metric parent_metric = run.metric("parent");
    Metric child_metric = run.metric("child");
    for (int s = 0; s < 100; ++s) parent_metric.log(s, s);  // the parent's thread owns a lane

    std::fflush(nullptr);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        // In the child: the same Metric handle, the same thread-local state as the parent.
        for (int s = 0; s < 500; ++s) child_metric.log(s, -s);
        run.finish();
        std::_Exit(0);
    }
    for (int s = 100; s < 600; ++s) parent_metric.log(s, s);  // concurrently with the child
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    EXPECT_FALSE(reader->finished()) << "the child's finish() ended the parent's run";
    std::vector<agent::Record> all;
    RingConsumer(*reader).drain(all);
    std::map<std::string, std::set<std::int64_t>> steps;
    std::set<std::uint32_t> child_lanes, parent_lanes;
    for (const agent::Record& r : all) {
        std::string name = reader->metric_name(r.metric_id);
        EXPECT_TRUE(steps[name].insert(r.step).second) << name << " step " << r.step << " twice";
        EXPECT_EQ(r.value, name == "parent" ? r.step : -r.step) << name << " step " << r.step;
        (name == "parent" ? parent_lanes : child_lanes).insert(r.lane);
    }
    EXPECT_EQ(steps["parent"].size(), 600u);
    EXPECT_EQ(steps["child"].size(), 500u);
    EXPECT_EQ(child_lanes, std::set<std::uint32_t>{0});
    EXPECT_EQ(parent_lanes.count(0), 0u);
    run.finish();
    EXPECT_TRUE(reader->finished());
}

}  // namespace
}  // namespace trainscope::test
