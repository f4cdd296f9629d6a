// Proves: TRAINSCOPE_RUN_ID makes every rank of a job share one session id (RunOptions::run_id
// takes precedence), the id lands in the segment header, and values that could not travel
// safely in file names, URLs and SQL are replaced by a fresh id instead of being used.
#include <cstdlib>

#include "ring/ring_fixture.hpp"

namespace trainscope::test {
namespace {

class RunIdTest : public RingTest {
protected:
    ~RunIdTest() override { ::unsetenv("TRAINSCOPE_RUN_ID"); }

    /// The session id of a Run made with TRAINSCOPE_RUN_ID=value (and `option` as run_id),
    /// checked against the one in the segment header.
    std::string id_with_env(const std::string& value, const std::string& option = "") {
        ::setenv("TRAINSCOPE_RUN_ID", value.c_str(), 1);
        RunOptions o = options(64);
        o.run_id = option;
        std::string id;
        {
            trainscope::Run run("ids", o);
            auto reader = open_reader();
            id = run.session_id();
            EXPECT_TRUE(reader && reader->session_id() == id)
                << "header and Run disagree on " << id;
        }
        remove_shm_files(ns_.name());
        return id;
    }
};

bool is_generated(const std::string& id) {
    return id.size() == 26;
}

TEST_F(RunIdTest, EnvironmentOverridesTheGeneratedId) {
    EXPECT_EQ(id_with_env("job-42.rank_all"), "job-42.rank_all");
    EXPECT_EQ(id_with_env(std::string(31, 'x')), std::string(31, 'x'));
}

TEST_F(RunIdTest, ExplicitOptionBeatsTheEnvironment) {
    EXPECT_EQ(id_with_env("from-env", "from-option"), "from-option");
}

TEST_F(RunIdTest, EmptyEnvironmentMeansAFreshId) {
    EXPECT_TRUE(is_generated(id_with_env("")));
}

TEST_F(RunIdTest, InvalidValuesAreReplacedByAFreshId) {
    for (const std::string& bad :
         std::vector<std::string>{"has space", "a/b", "semi;colon", "quote'", "percent%2F",
                                  std::string(32, 'x'), std::string("caf\xc3\xa9")}) {
        std::string id = id_with_env(bad);
        EXPECT_TRUE(is_generated(id)) << "'" << bad << "' was used as '" << id << "'";
    }
}

TEST_F(RunIdTest, DotSegmentsAreRefusedLikeOtherPathTricks) {
    // "." and ".." pass the character check but are refused by the agent's URL router, so
    // such a run could never be opened from the dashboard or the API.
    for (const std::string& bad : std::vector<std::string>{".", ".."}) {
        std::string id = id_with_env(bad);
        EXPECT_TRUE(is_generated(id)) << "'" << bad << "' was used as the session id";
    }
}

}  // namespace
}  // namespace trainscope::test
