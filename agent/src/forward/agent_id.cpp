#include "forward/agent_id.hpp"

#include <Poco/RandomStream.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

namespace trainscope::agent {

namespace {

bool well_formed(const std::string& id) {
    if (id.size() != 32) return false;
    for (char c : id)
        if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

}  // namespace

std::string load_or_create_agent_id(const std::string& data_dir) {
    std::string path = data_dir + "/agent_id";
    if (std::ifstream in(path); in) {
        std::string id;
        std::getline(in, id);
        if (!well_formed(id))
            throw std::runtime_error(path + " does not hold an agent id (32 hex digits); remove it to make a new one");
        return id;
    }
    unsigned char bytes[16];
    Poco::RandomInputStream().read(reinterpret_cast<char*>(bytes), sizeof bytes);
    std::string id;
    static const char* hex = "0123456789abcdef";
    for (unsigned char b : bytes) {
        id += hex[b >> 4];
        id += hex[b & 15];
    }
    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    std::string line = id + "\n";
    bool written = fd >= 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                   ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    // rename: a crash leaves either no file or a whole one, never half an id.
    if (!written || std::rename(tmp.c_str(), path.c_str()) != 0)
        throw std::runtime_error("cannot write " + path);
    return id;
}

}  // namespace trainscope::agent
