// Proves: when shared memory cannot be created (a namespace with '/', a name longer than
// the file system allows) a Run degrades to a no-op: active() is false, log() returns
// `disabled`, metrics are invalid, the slow paths return false, and nothing throws.
#include "ring/ring_fixture.hpp"

namespace trainscope::test {
namespace {

void expect_no_op(trainscope::Run& run) {
    EXPECT_FALSE(run.active());
    EXPECT_EQ(run.log("loss", 1, 1.0), LogStatus::disabled);
    Metric m = run.metric("loss");
    EXPECT_FALSE(m.valid());
    EXPECT_EQ(m.log(2, 2.0), LogStatus::disabled);
    EXPECT_FALSE(run.set_config("{\"lr\": 0.1}"));
    EXPECT_FALSE(run.set_model_info("{}"));
    EXPECT_FALSE(run.event("checkpoint", "saved"));
    EXPECT_EQ(run.dropped(), 0u);
    run.finish();
}

class RunDegradeTest : public RingTest {
protected:
    /// A Run in namespace `ns` degrades to a no-op and leaves nothing in /dev/shm.
    void expect_degrades_in(const std::string& ns) {
        RunOptions o = options(64);
        o.name_space = ns;
        EXPECT_NO_THROW({
            trainscope::Run run("degraded", o);
            expect_no_op(run);
        });
        EXPECT_TRUE(shm_files(ns_.name()).empty());
    }
};

TEST_F(RunDegradeTest, NamespaceWithSlash) {
    expect_degrades_in(ns_.name() + "/nested");
}

TEST_F(RunDegradeTest, OverLongName) {
    expect_degrades_in(ns_.name() + std::string(300, 'n'));
}

TEST_F(RunDegradeTest, MovedFromRunIsANoOpToo) {
    trainscope::Run run("moved", options(64));
    ASSERT_TRUE(run.active());
    trainscope::Run other = std::move(run);
    EXPECT_TRUE(other.active());
    EXPECT_EQ(other.log("loss", 1, 1.0), LogStatus::ok);
    expect_no_op(run);  // NOLINT(bugprone-use-after-move): that is the point
}

}  // namespace
}  // namespace trainscope::test
