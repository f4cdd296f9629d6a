// trainscope-agent: drains every trainer segment of its namespace into SQLite and serves the
// dashboard, REST API and WebSocket push. See README "Interfaces".
#include <Poco/AutoPtr.h>
#include <Poco/Environment.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/File.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/Path.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <set>

#include <trainscope/detail/namespace_dir.hpp>
#include <trainscope/detail/process.hpp>

#include "forward/agent_id.hpp"
#include "forward/pg_connection.hpp"
#include "forward/pg_schema.hpp"
#include "forward/shipper.hpp"
#include "hub/hub_plugins.hpp"
#include "hub/pg_listener.hpp"
#include "hub/pg_plugin_source.hpp"
#include "hub/pg_pool.hpp"
#include "hub/pg_reader.hpp"
#include "hub/pg_run_admin.hpp"
#include "serve/access_token.hpp"
#include "ingest/namespace_lock.hpp"
#include "ingest/collector.hpp"
#include "serve/http_server.hpp"
#include "serve/http_util.hpp"
#include "plugins/plugin_host.hpp"
#include "serve/request_gate.hpp"
#include "store/store.hpp"
#include "serve/ws_hub.hpp"

#ifndef TRAINSCOPE_WEB_DIR
#define TRAINSCOPE_WEB_DIR "web"
#endif
#ifndef TRAINSCOPE_PLUGIN_DIR
#define TRAINSCOPE_PLUGIN_DIR "plugins"
#endif

namespace trainscope::agent {

namespace {

constexpr const char* kVersion = "0.1.0";

/// "500M", "20G", "1048576": bytes (K, M, G, T are powers of 1024); nullopt if malformed.
std::optional<std::int64_t> parse_size(const std::string& text) {
    if (text.empty()) return std::nullopt;
    std::int64_t unit = 1;
    std::string digits = text;
    switch (std::toupper(static_cast<unsigned char>(text.back()))) {
        case 'K': unit = 1LL << 10; break;
        case 'M': unit = 1LL << 20; break;
        case 'G': unit = 1LL << 30; break;
        case 'T': unit = 1LL << 40; break;
        default: break;
    }
    if (unit != 1) digits.pop_back();
    auto n = parse_int(digits);
    if (!n || *n < 0 || *n > (INT64_MAX / unit)) return std::nullopt;
    return *n * unit;
}

}  // namespace

class AgentApp : public Poco::Util::ServerApplication {
protected:
    void defineOptions(Poco::Util::OptionSet& options) override {
        ServerApplication::defineOptions(options);
        auto add = [&](const char* name, const char* arg, const char* help) {
            options.addOption(Poco::Util::Option(name, "", help)
                                  .required(false).repeatable(false).argument(arg)
                                  .callback(Poco::Util::OptionCallback<AgentApp>(this, &AgentApp::set_option)));
        };
        add("port", "PORT", "HTTP port (default 7070; 0 picks a free one and prints it)");
        add("bind", "ADDRESS", "address to listen on (default 127.0.0.1)");
        add("data-dir", "DIR", "where trainscope.db lives (default $XDG_DATA_HOME/trainscope)");
        add("namespace", "NAME", "segment namespace (default $TRAINSCOPE_NAMESPACE or trainscope-<uid>)");
        add("web-dir", "DIR", "dashboard files (default: the source tree's web/)");
        add("token", "TOKEN", "the access token (default $TRAINSCOPE_TOKEN, else a new random one each start)");
        add("auth", "MODE", "'token' (default) or 'none': no token at all, loopback binds only");
        add("plugins-dir", "DIR", "load every plugin library here (default: the built plugins; '' for none)");
        add("retain-days", "N", "delete ended runs whose last activity is older than N days (checked at start and hourly)");
        add("postgres", "URI", "ship every committed point to this PostgreSQL (libpq URI; default $TRAINSCOPE_POSTGRES)");
        add("host-name", "NAME", "the host runs and series name as theirs (default: this machine's name)");
        add("hub-connections", "N", "--hub: PostgreSQL connections shared by requests and WebSocket clients (default 8)");
        add("metrics-keep-ended", "SECONDS", "how long /metrics keeps a run's series after it ended (default 900)");
        add("max-db-size", "SIZE", "delete the oldest ended runs while the database is larger, e.g. 20G, 500M (checked at start and hourly)");
        options.addOption(Poco::Util::Option("public-host", "", "a host name a proxy serves this agent under (repeatable)")
                              .required(false).repeatable(true).argument("NAME")
                              .callback(Poco::Util::OptionCallback<AgentApp>(this, &AgentApp::set_option)));
        options.addOption(Poco::Util::Option("allow-origin", "", "another origin whose pages may use the WebSocket, e.g. https://dash.example (repeatable)")
                              .required(false).repeatable(true).argument("ORIGIN")
                              .callback(Poco::Util::OptionCallback<AgentApp>(this, &AgentApp::set_option)));
        options.addOption(Poco::Util::Option("plugin-option", "", "PLUGIN.KEY=VALUE: set a plugin setting")
                              .required(false).repeatable(true).argument("SETTING")
                              .callback(Poco::Util::OptionCallback<AgentApp>(this, &AgentApp::set_option)));
        options.addOption(Poco::Util::Option("hub", "", "serve every node's runs from PostgreSQL (needs --postgres): no trainers, no local store")
                              .required(false).repeatable(false)
                              .callback(Poco::Util::OptionCallback<AgentApp>(this, &AgentApp::set_option)));
        options.addOption(Poco::Util::Option("print-url", "", "print the URL of the agent serving the namespace and exit (1: none)")
                              .required(false).repeatable(false)
                              .callback(Poco::Util::OptionCallback<AgentApp>(this, &AgentApp::set_option)));
        options.addOption(Poco::Util::Option("help", "h", "show this help").required(false)
                              .callback(Poco::Util::OptionCallback<AgentApp>(this, &AgentApp::show_help)));
    }

    void set_option(const std::string& name, const std::string& value) {
        if (name == "port") {
            auto p = parse_int(value);
            if (!p || *p < 0 || *p > 65535) throw Poco::InvalidArgumentException("--port " + value);
            port_ = static_cast<unsigned short>(*p);
        } else if (name == "retain-days") {
            auto d = parse_int(value);
            if (!d || *d < 1 || *d > 100'000) throw Poco::InvalidArgumentException("--retain-days wants a number of days >= 1, got " + value);
            collector_options_.retain_days = static_cast<int>(*d);
        } else if (name == "hub-connections") {
            auto n = parse_int(value);
            if (!n || *n < 1 || *n > 1000)
                throw Poco::InvalidArgumentException("--hub-connections wants a number from 1 to 1000, got " + value);
            hub_connections_ = static_cast<std::size_t>(*n);
        } else if (name == "metrics-keep-ended") {
            auto s = parse_int(value);
            if (!s || *s < 0 || *s > 365LL * 86'400)
                throw Poco::InvalidArgumentException("--metrics-keep-ended wants seconds (0 to a year), got " + value);
            metrics_keep_ended_s_ = static_cast<double>(*s);
        } else if (name == "max-db-size") {
            auto bytes = parse_size(value);
            if (!bytes || *bytes < (1 << 20))
                throw Poco::InvalidArgumentException("--max-db-size wants a size of at least 1M (e.g. 500M, 20G), got " + value);
            collector_options_.max_db_bytes = *bytes;
        } else if (name == "bind") bind_ = value;
        else if (name == "data-dir") data_dir_ = value;
        else if (name == "namespace") name_space_ = value;
        else if (name == "web-dir") web_dir_ = value;
        else if (name == "plugins-dir") plugins_dir_ = value;
        else if (name == "postgres") postgres_ = value;
        else if (name == "host-name") {
            if (value.empty() || value.size() > 255)
                throw Poco::InvalidArgumentException("--host-name wants 1 to 255 characters, got '" + value + "'");
            collector_options_.host_name = value;
        }
        else if (name == "token") token_ = value;
        else if (name == "auth") {
            if (value != "token" && value != "none")
                throw Poco::InvalidArgumentException("--auth wants 'token' or 'none', got " + value);
            auth_none_ = value == "none";
        }
        else if (name == "public-host") gate_options_.public_hosts.push_back(value);
        else if (name == "allow-origin") gate_options_.allowed_origins.push_back(value);
        else if (name == "print-url") print_url_ = true;
        else if (name == "hub") hub_ = true;
        else if (name == "plugin-option") {
            std::size_t dot = value.find('.'), eq = value.find('=');
            if (dot == std::string::npos || eq == std::string::npos || eq < dot)
                throw Poco::InvalidArgumentException("--plugin-option wants PLUGIN.KEY=VALUE, got " + value);
            plugin_settings_[value.substr(0, dot)][value.substr(dot + 1, eq - dot - 1)] = value.substr(eq + 1);
        }
    }

    void show_help(const std::string&, const std::string&) {
        Poco::Util::HelpFormatter help(options());
        help.setUsage("[--port PORT] [--bind ADDRESS] [--data-dir DIR] [--namespace NAME] | --print-url [--namespace NAME]");
        help.setHeader("Collects Trainscope metrics from shared memory and serves the dashboard.");
        help.format(std::cout);
        help_ = true;
        stopOptionsProcessing();
    }

    /// --print-url: the URL of the agent serving the namespace, from its agent file.
    int print_url() {
        detail::AgentFound found = detail::find_agent(name_space_);
        for (const detail::Refusal& r : found.refusals)
            std::cerr << "trainscope-agent: not trusting " << r.text() << std::endl;
        if (found.pid == 0) {
            std::cerr << "trainscope-agent: no agent serves namespace " << name_space_ << std::endl;
            return 1;
        }
        if (found.url.empty()) {
            std::cerr << "trainscope-agent: the agent of namespace " << name_space_ << " (pid " << found.pid
                      << ") does not listen yet" << std::endl;
            return 1;
        }
        std::cout << found.url << std::endl;
        return EXIT_OK;
    }

    int main(const std::vector<std::string>&) override {
        if (help_) return EXIT_OK;
        if (name_space_.empty()) name_space_ = detail::default_namespace();
        if (print_url_) return print_url();
        Poco::AutoPtr<Poco::PatternFormatter> format(
            new Poco::PatternFormatter("%Y-%m-%d %H:%M:%S.%i %p: %t"));
        Poco::AutoPtr<Poco::Channel> channel(new Poco::FormattingChannel(format, new Poco::ConsoleChannel));
        Poco::Logger& log = Poco::Logger::create("agent", channel, Poco::Message::PRIO_INFORMATION);

        if (!choose_token(log)) return EXIT_USAGE;
        if (hub_) return run_hub(log);
        if (data_dir_.empty()) data_dir_ = detail::default_data_dir();
        NamespaceLock lock(name_space_, detail::namespace_dirs());
        for (const detail::Refusal& r : lock.refusals())
            log.warning("not using %s for namespace %s: %s (another user could write it)", r.path, name_space_,
                        r.reason);
        if (!lock.held()) {
            // Two trainers may start agents at the same moment: one wins, the other leaves.
            if (lock.holder())
                log.information("another trainscope-agent (pid %s) serves namespace %s; exiting",
                                std::to_string(lock.holder()), name_space_);
            else
                log.error("no place only this user can write holds the lock of namespace %s; exiting",
                          name_space_);
            return lock.holder() ? EXIT_OK : EXIT_CANTCREAT;
        }
        try {
            Poco::File(data_dir_).createDirectories();
            std::string db_path = data_dir_ + "/trainscope.db";
            // Opening an older database builds its rollups first (minutes for 100 M points).
            Store store(db_path, [&log](const std::string& line) { log.information(line); });
            collector_options_.name_space = name_space_;
            Collector collector(store, collector_options_, log);
            std::unique_ptr<Shipper> shipper = make_shipper(db_path, log);
            WebSocketHub hub(db_path, kVersion, log, HubOptions{},
                             [&collector] { return collector.live_dropped(); });
            collector.add_listener(&hub);

            PluginSinks sinks;
            sinks.point = [&collector](const std::string& session, const std::string& name,
                                       std::int64_t step, double value) {
                collector.inject_point(session, name, step, value);
            };
            sinks.broadcast = [&hub](const std::string& session, const std::string& json) {
                hub.broadcast(session, json);
            };
            sinks.event = [&collector](const std::string& session, const std::string& kind,
                                       const std::string& text) {
                collector.inject_event(session, kind, text);
            };
            sinks.processes = [&collector](const std::string& session) {
                std::vector<plugin::RunProcess> out;
                for (const LiveProducer& p : collector.live_producers(session))
                    out.push_back(plugin::RunProcess{p.pid, p.rank, p.start_time});
                return out;
            };
            PluginHostOptions plugin_options;
            plugin_options.db_path = db_path;
            plugin_options.settings = plugin_settings_;
            PluginHost plugins(sinks, plugin_options, log);
            // Before the HttpServer below starts its threads: they read the plugin list unlocked.
            if (!plugins_dir_.empty()) plugins.load_dir(plugins_dir_);
            collector.add_listener(&plugins);
            // The hub runs the plugins over every node's points: this node's own output stays here.
            if (shipper) {
                std::set<std::string> names;
                for (const PluginStatus& p : plugins.status())
                    if (p.state == "enabled") names.insert(p.name);
                shipper->keep_local(std::move(names));
            }
            // Declared after every listener, so destroyed before them: however this block is
            // left, the collector thread stops before the hub and the plugins it calls go away.
            struct StopCollector {
                Collector& collector;
                ~StopCollector() { collector.stop(); }
            } stop_collector{collector};

            AgentContext ctx;
            RequestGate gate(gate_options(), log);
            AccessCheck access(token_);
            wire_serving(ctx, hub, gate, access);
            ctx.db_path = db_path;
            ctx.collector = &collector;
            ctx.plugins = &plugins;
            ctx.forward = shipper.get();
            if (shipper)
                collector.set_forwarded_check([s = shipper.get()](const std::string& id, std::int64_t last_seq) {
                    return s->holds_ended_run(id, last_seq);
                });

            // Bind first: if the port is taken this throws before any thread runs, so the
            // agent exits with its reason instead of racing its own threads on the way out.
            HttpServer server(ctx, bind_, port_);
            plugins.start();
            collector.start();
            hub.start();
            if (shipper) shipper->start();
            log.information("namespace %s, database %s, agent file %s", name_space_, db_path, lock.path());
            if (!RequestGate::is_loopback(RequestGate::host_name(bind_))) say_reachable(log, gate, server.port());
            std::string url = page_url(local_host(), server.port());
            lock.publish_url(url);
            std::cout << "trainscope-agent listening on " << url << std::endl;
            waitForTerminationRequest();
            log.information("stopping");
            server.stop();
            if (shipper) shipper->stop();
            hub.stop();
            collector.stop();
            plugins.stop();
        } catch (const Poco::Exception& e) {
            // displayText(): what() alone is the class ("Net Exception"), not the reason.
            log.fatal("cannot run: %s", e.displayText());
            return EXIT_SOFTWARE;
        } catch (const std::exception& e) {
            log.fatal("cannot run: %s", std::string(e.what()));
            return EXIT_SOFTWARE;
        }
        return EXIT_OK;
    }

private:
    /// --hub: serves the runs of every node from PostgreSQL. Drains no rings and holds no
    /// namespace lock (a hub is no node's agent); several hubs may serve one database.
    int run_hub(Poco::Logger& log) {
        const char* from_env = std::getenv("TRAINSCOPE_POSTGRES");
        if (postgres_.empty() && from_env) postgres_ = from_env;
        if (postgres_.empty()) {
            log.error("--hub serves what node agents ship to PostgreSQL: give --postgres=URI (or $TRAINSCOPE_POSTGRES)");
            return EXIT_USAGE;
        }
        try {
            {
                // Fails early on a wrong URI; creates the tables if no node has shipped yet.
                PgConnection pg(postgres_);
                ensure_pg_schema(pg);
            }
            std::string conninfo = postgres_;
            // Requests and WebSocket clients share a few connections, leased call by call.
            PgPool pool(conninfo, PgPoolOptions{hub_connections_});
            auto open_reader = [&pool]() -> std::unique_ptr<RunReader> {
                return std::make_unique<PgReader>(pool);
            };
            WebSocketHub hub("", kVersion, log);
            hub.set_reader(open_reader);
            PgListener listener(conninfo, hub, log);
            PgRunAdmin run_admin(pool, &listener);

            // Plugins: loaded on every hub (their routes answer from PostgreSQL), run by the
            // one holding the lock (hub/hub_plugins.hpp).
            auto plugin_source = std::make_shared<PgPluginSource>(conninfo);
            HubPlugins hub_plugins(conninfo, *plugin_source, hub, log);
            PluginHostOptions plugin_options;
            plugin_options.source = plugin_source;
            plugin_options.settings = plugin_settings_;
            plugin_options.not_here["system"] =
                "it samples the machine it runs on: each node agent runs it for its own page";
            PluginHost plugins(hub_plugins.sinks(), plugin_options, log);
            if (!plugins_dir_.empty()) plugins.load_dir(plugins_dir_);
            // However this block is left, the thread feeding the plugins stops before they go.
            struct StopHubPlugins {
                HubPlugins& feed;
                ~StopHubPlugins() { feed.stop(); }
            } stop_hub_plugins{hub_plugins};

            AgentContext ctx;
            RequestGate gate(gate_options(), log);
            AccessCheck access(token_);
            wire_serving(ctx, hub, gate, access);
            // A request while PostgreSQL is away (or every pooled connection is busy) is
            // answered 503 saying so: the dispatcher turns a PgError into that (http_server.cpp);
            // a WebSocket session catches it itself and drops the client.
            ctx.reader = open_reader;
            ctx.hub_listener = &listener;
            ctx.run_admin = &run_admin;
            ctx.plugins = &plugins;

            HttpServer server(ctx, bind_, port_);
            hub.start();
            listener.start();
            hub_plugins.start(plugins);
            log.information("hub: serving the runs PostgreSQL holds (at most %s pooled connections)",
                            std::to_string(hub_connections_));
            if (!RequestGate::is_loopback(RequestGate::host_name(bind_))) say_reachable(log, gate, server.port());
            std::cout << "trainscope-agent listening on " << page_url(local_host(), server.port()) << std::endl;
            waitForTerminationRequest();
            log.information("stopping");
            server.stop();
            hub_plugins.stop();
            plugins.stop();
            listener.stop();
            hub.stop();
        } catch (const Poco::Exception& e) {
            log.fatal("cannot run: %s", e.displayText());
            return EXIT_SOFTWARE;
        } catch (const std::exception& e) {
            log.fatal("cannot run: %s", std::string(e.what()));
            return EXIT_SOFTWARE;
        }
        return EXIT_OK;
    }

    /// The request gate's options, for the address the agent binds.
    GateOptions gate_options() const {
        GateOptions options = gate_options_;
        options.bind = bind_;
        return options;
    }

    /// What a node agent and a hub serve alike: the page's files, the WebSocket hub, how long
    /// /metrics keeps ended runs, the request gate and the token check (the caller owns the
    /// last two: they live as long as its server).
    void wire_serving(AgentContext& ctx, WebSocketHub& hub, RequestGate& gate, AccessCheck& access) const {
        ctx.version = kVersion;
        ctx.web_dir = web_dir_.empty() ? TRAINSCOPE_WEB_DIR : web_dir_;
        ctx.websocket = [&hub] { return hub.make_handler(); };
        ctx.websocket_clients = [&hub] { return hub.client_count(); };
        ctx.metrics_keep_ended_s = metrics_keep_ended_s_;
        ctx.gate = &gate;
        ctx.access = &access;
    }

    /// The forwarding thread when --postgres or $TRAINSCOPE_POSTGRES names a database.
    std::unique_ptr<Shipper> make_shipper(const std::string& db_path, Poco::Logger& log) {
        const char* from_env = std::getenv("TRAINSCOPE_POSTGRES");
        if (postgres_.empty() && from_env) postgres_ = from_env;
        if (postgres_.empty()) return nullptr;
        ShipperOptions options;
        options.conninfo = postgres_;
        options.db_path = db_path;
        options.agent_id = load_or_create_agent_id(data_dir_);
        options.host = collector_options_.host_name.empty() ? Poco::Environment::nodeName()
                                                            : collector_options_.host_name;
        // The URI may carry a password: log where, never the whole string.
        log.information("forwarding to PostgreSQL as agent %s (host %s)", options.agent_id, options.host);
        return std::make_unique<Shipper>(options, log);
    }

    /// Settles the token: --token, else $TRAINSCOPE_TOKEN, else a new one; none with
    /// --auth=none, which only a loopback bind may have. False (logged) if it cannot be.
    bool choose_token(Poco::Logger& log) {
        bool loopback = RequestGate::is_loopback(RequestGate::host_name(bind_));
        if (auth_none_) {
            if (!loopback) {
                log.error("--auth=none is for loopback binds only: --bind=%s would publish every run to the "
                          "network without a token; drop --auth=none",
                          bind_);
                return false;
            }
            if (!token_.empty()) {
                log.error("--auth=none and --token contradict each other; give one");
                return false;
            }
            log.warning("--auth=none: every local user and process can read and change this agent's runs");
            return true;
        }
        const char* from_env = std::getenv("TRAINSCOPE_TOKEN");
        if (token_.empty() && from_env && *from_env) token_ = from_env;
        if (token_.empty()) token_ = generate_token();
        if (auto problem = token_problem(token_)) {
            log.error("cannot use that token: %s", *problem);
            return false;
        }
        return true;
    }

    /// The host the printed URL names: the bind address, or loopback for a wildcard bind.
    std::string local_host() const {
        if (bind_ == "0.0.0.0" || bind_.empty()) return "127.0.0.1";
        if (bind_ == "::") return "[::1]";
        return bind_.find(':') != std::string::npos ? "[" + bind_ + "]" : bind_;
    }

    /// The dashboard's address at `host`, with the token when there is one.
    std::string page_url(const std::string& host, unsigned short port) const {
        std::string url = "http://" + host + ":" + std::to_string(port) + "/";
        return token_.empty() ? url : url + "?token=" + token_;
    }

    /// A non-loopback bind: where other machines reach the page, and what guards it.
    void say_reachable(Poco::Logger& log, const RequestGate& gate, unsigned short port) const {
        for (const std::string& host : gate.hosts())
            if (!RequestGate::is_loopback(host) && host.find(':') == std::string::npos)
                log.information("other machines reach the dashboard at http://%s:%s/ (with the token)", host,
                                std::to_string(port));
        log.warning("listening beyond this machine: the token is all that guards the runs, and the agent has no "
                    "TLS, so the token crosses the network in clear; put a TLS reverse proxy in front (README, "
                    "'Serving beyond this machine')");
    }

    unsigned short port_ = 7070;
    std::string bind_ = "127.0.0.1";
    GateOptions gate_options_;
    CollectorOptions collector_options_;
    std::string data_dir_;
    std::string name_space_;
    std::string web_dir_;
    std::string plugins_dir_ = TRAINSCOPE_PLUGIN_DIR;
    std::string postgres_;
    std::map<std::string, plugin::Settings> plugin_settings_;
    bool help_ = false;
    bool print_url_ = false;
    bool hub_ = false;
    double metrics_keep_ended_s_ = 900;
    std::size_t hub_connections_ = 8;
    std::string token_;
    bool auth_none_ = false;
};

}  // namespace trainscope::agent

POCO_SERVER_MAIN(trainscope::agent::AgentApp)
