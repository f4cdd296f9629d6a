// A PostgreSQL host that accepts TCP but never answers (a hung server, a half-open firewall)
// must not hold the shipper or the hub for ever: the connection attempt gives up with libpq's
// "timeout expired", by default and when the connection string sets its own connect_timeout.
#include <gtest/gtest.h>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "forward/pg_connection.hpp"

namespace trainscope::test {
namespace {

using agent::PgConnection;
using agent::PgError;
using namespace std::chrono_literals;

/// Listens on 127.0.0.1, accepts every connection and never sends a byte; closes them all
/// after `hold` (then a client without a timeout fails with "server closed the connection").
class SilentServer {
public:
    explicit SilentServer(std::chrono::seconds hold)
        : socket_(Poco::Net::SocketAddress("127.0.0.1", 0)), thread_([this, hold] { run(hold); }) {}
    ~SilentServer() {
        stop_ = true;
        thread_.join();
    }
    int port() const { return socket_.address().port(); }

private:
    void run(std::chrono::seconds hold) {
        auto until = std::chrono::steady_clock::now() + hold;
        std::vector<Poco::Net::StreamSocket> held;
        while (!stop_ && std::chrono::steady_clock::now() < until) {
            if (socket_.poll(Poco::Timespan(100'000), Poco::Net::Socket::SELECT_READ))
                held.push_back(socket_.acceptConnection());
        }
        for (auto& s : held) s.close();
    }
    Poco::Net::ServerSocket socket_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

std::string connect_error(const std::string& conninfo) {
    try {
        PgConnection pg(conninfo);
    } catch (const PgError& e) {
        return e.what();
    }
    return "connected";
}

TEST(PgConnectionTimeout, ASilentServerIsGivenUpOnByDefault) {
    SilentServer server(40s);  // longer than the default connect_timeout (10 s)
    std::string why = connect_error("host=127.0.0.1 port=" + std::to_string(server.port()) +
                                    " user=nobody dbname=none");
    EXPECT_NE(why.find("timeout expired"), std::string::npos) << why;
}

TEST(PgConnectionTimeout, TheConnectionStringsOwnTimeoutWins) {
    SilentServer server(40s);
    std::string why = connect_error("postgresql://nobody@127.0.0.1:" + std::to_string(server.port()) +
                                    "/none?connect_timeout=2");
    EXPECT_NE(why.find("timeout expired"), std::string::npos) << why;
}

TEST(PgConnectionTimeout, ABadConnectionStringIsAClearError) {
    std::string why = connect_error("host=127.0.0.1 nonsense_keyword=1");
    EXPECT_NE(why.find("bad connection string"), std::string::npos) << why;
    EXPECT_NE(why.find("nonsense_keyword"), std::string::npos) << why;
}

}  // namespace
}  // namespace trainscope::test
