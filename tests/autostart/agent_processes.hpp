// The trainscope-agent processes of one namespace, found the way a user would with ps: every
// live process whose argv[0] is a trainscope-agent and whose arguments hold
// "--namespace=<ns>". Autostarted agents are not our children (they run in a session of
// their own and outlive the trainer), so tests find and stop them by pid through /proc.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace trainscope::test {

using namespace std::chrono_literals;

/// Pids of live (not zombie) trainscope-agent processes serving namespace `ns`, sorted.
std::vector<pid_t> agent_processes(const std::string& ns);

/// True while `pid` names a live process that is not a zombie.
bool process_running(pid_t pid);

/// The process's arguments (argv[0] first) from /proc/<pid>/cmdline; empty if gone.
std::vector<std::string> process_args(pid_t pid);

/// SIGTERM to every agent of `ns`, up to `grace` for them to be gone (reaped), then SIGKILL.
/// Returns how many were running. Only processes whose arguments name `ns` are signalled.
int stop_agents(const std::string& ns, std::chrono::milliseconds grace = 5s);

}  // namespace trainscope::test
