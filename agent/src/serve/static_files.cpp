// The dashboard's files, served from the agent's own origin (no CDN: works air-gapped).
//   /                 -> <web>/dist/dashboard.html (the built page, web/build_page.mjs), or
//                        <web>/static/dashboard.html (its unbundled source) when not built,
//                        with the run it shows first and that run's chart series inside
//                        (page_first_load.hpp)
//   /dist/<file>      -> <web>/dist/<file>: the page's bundles, named by content hash
//   /static/<path>    -> <web>/static/<path>
//   /vendor/<file>    -> an allow-listed file from <web>/node_modules
//   / without token   -> <web>/static/sign_in.html, status 401
#include <Poco/File.h>
#include <Poco/Path.h>

#include <Poco/FileStream.h>
#include <Poco/Logger.h>
#include <Poco/StreamCopier.h>

#include <cstdio>
#include <ostream>
#include <map>

#include "ingest/collector.hpp"
#include "serve/http_server.hpp"
#include "serve/http_util.hpp"
#include "serve/page_first_load.hpp"
#include "serve/route_table.hpp"
#include "serve/series_params.hpp"

namespace trainscope::agent {

namespace {

const std::map<std::string, std::string>& vendor_files() {
    static const std::map<std::string, std::string> files = {
        {"chart.umd.js", "node_modules/chart.js/dist/chart.umd.js"},
        {"hammer.min.js", "node_modules/hammerjs/hammer.min.js"},
        {"chartjs-plugin-zoom.min.js", "node_modules/chartjs-plugin-zoom/dist/chartjs-plugin-zoom.min.js"},
    };
    return files;
}

std::string content_type(const std::string& path) {
    static const std::map<std::string, std::string> types = {
        {"html", "text/html; charset=utf-8"}, {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"}, {"css", "text/css; charset=utf-8"},
        {"svg", "image/svg+xml"}, {"png", "image/png"}, {"json", "application/json"},
        {"ico", "image/x-icon"}, {"map", "application/json"}};
    auto it = types.find(Poco::Path(path).getExtension());
    return it == types.end() ? "application/octet-stream" : it->second;
}

/// A validator that changes whenever the file does: size and modification time.
std::string entity_tag(const Poco::File& file) {
    char tag[64];
    std::snprintf(tag, sizeof tag, "\"%llx-%llx\"", static_cast<unsigned long long>(file.getSize()),
                  static_cast<unsigned long long>(file.getLastModified().epochMicroseconds()));
    return tag;
}

/// Streams a file (Poco's sendFile: no copy of it in memory) with an ETag, so a reload
/// revalidates with If-None-Match and gets a bodiless 304 instead of the file again.
/// `cache_control`: "no-cache" (ask every time: the page changes with the agent) or a max-age.
void send_file(const std::string& path, Poco::Net::HTTPServerRequest& request,
               Poco::Net::HTTPServerResponse& response, const std::string& cache_control, int status = 200) {
    Poco::File file(path);
    if (!file.exists() || !file.isFile()) throw HttpError{404, "no such file"};
    std::string tag = entity_tag(file);
    response.set("ETag", tag);
    response.set("Cache-Control", cache_control);
    if (status == 200 && request.get("If-None-Match", "") == tag) {
        response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_NOT_MODIFIED);
        response.setContentLength(0);
        response.send();
        return;
    }
    response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    response.sendFile(path, content_type(path));  // sends no body for HEAD
}

constexpr const char* kRevalidate = "no-cache";
/// npm files change only when web/node_modules is reinstalled; the ETag covers that.
constexpr const char* kVendorCache = "public, max-age=3600";
/// A bundle's name changes with its content: a browser may keep it for good and never ask.
constexpr const char* kImmutable = "public, max-age=31536000, immutable";

/// The built page when there is one; else its source, which loads the modules one by one
/// (slower, the same page).
std::string dashboard_page(const std::string& web_dir) {
    std::string built = web_dir + "/dist/dashboard.html";
    return Poco::File(built).exists() ? built : web_dir + "/static/dashboard.html";
}

std::string read_file(const std::string& path) {
    Poco::FileInputStream in(path);
    std::string text;
    Poco::StreamCopier::copyToString(in, text);
    return text;
}

/// The dashboard with its first load inside (no-store: it changes with every point stored);
/// with nothing to carry (no run yet), the page file as it is, revalidated by its ETag.
/// A first load that cannot be read (a malformed query, the store failing) leaves the page
/// as it is: the page then asks for the run and its series itself, and says what fails.
void send_dashboard(const AgentContext& ctx, Poco::Net::HTTPServerRequest& request,
                    Poco::Net::HTTPServerResponse& response) {
    std::string path = dashboard_page(ctx.web_dir);
    std::optional<std::string> first_load;
    try {
        auto live = [&ctx](const std::string& id) -> std::uint64_t {
            if (!ctx.collector) return 0;
            auto dropped = ctx.collector->live_dropped();
            auto it = dropped.find(id);
            return it == dropped.end() ? 0 : it->second;
        };
        std::unique_ptr<RunReader> reader = open_reader(ctx);
        first_load = first_load_json(*reader, parse_query_params(request.getURI()), live);
    } catch (const HttpError&) {  // a malformed query string
    } catch (const std::exception& e) {
        Poco::Logger::get("agent").warning("the page goes without its first load: %s", std::string(e.what()));
    }
    if (!first_load) {
        send_file(path, request, response, kRevalidate);
        return;
    }
    std::string page;
    try {
        page = page_with_first_load(read_file(path), *first_load);
    } catch (const Poco::Exception&) {
        throw HttpError{404, "no such file"};
    }
    response.set("Cache-Control", "no-store");
    response.setContentType(content_type(path));
    response.setContentLength(static_cast<std::streamsize>(page.size()));
    std::ostream& out = response.send();
    if (request.getMethod() != Poco::Net::HTTPRequest::HTTP_HEAD) out.write(page.data(), static_cast<std::streamsize>(page.size()));
}

}  // namespace

void add_static_routes(RouteTable& routes, const AgentContext& ctx) {
    const AgentContext* c = &ctx;
    routes.add("GET", "/", [c](RouteRequest& r) {
        send_dashboard(*c, r.request, r.response);
        return true;
    });
    routes.add("GET", "/dist/{file}", [c](RouteRequest& r) {
        const std::string& file = r["{file}"];
        if (file.empty() || file[0] == '.' || file.find_first_of("/\\") != std::string::npos)
            throw HttpError{400, "bad file name"};
        // The page itself is asked for as "/" (it names the bundles, so it must be revalidated).
        bool page = file == "dashboard.html" || file == "inputs.json";
        send_file(c->web_dir + "/dist/" + file, r.request, r.response, page ? kRevalidate : kImmutable);
        return true;
    });
    routes.add("GET", "/vendor/{file}", [c](RouteRequest& r) {
        auto it = vendor_files().find(r["{file}"]);
        if (it == vendor_files().end()) throw HttpError{404, "no such vendor file"};
        send_file(c->web_dir + "/" + it->second, r.request, r.response, kVendorCache);
        return true;
    });
    routes.add("GET", "/static/**", [c](RouteRequest& r) {
        // split_path already refused "." and ".."; refuse hidden files and backslashes too.
        std::string path = c->web_dir + "/static";
        for (std::size_t i = 1; i < r.segments.size(); ++i) {
            const std::string& seg = r.segments[i];
            if (seg.empty() || seg[0] == '.' || seg.find('\\') != std::string::npos ||
                seg.find('/') != std::string::npos)
                throw HttpError{400, "bad path segment"};
            path += "/" + seg;
        }
        send_file(path, r.request, r.response, kRevalidate);
        return true;
    });
}

void handle_sign_in(const AgentContext& ctx, Poco::Net::HTTPServerRequest& request,
                    Poco::Net::HTTPServerResponse& response) {
    send_file(ctx.web_dir + "/static/sign_in.html", request, response, kRevalidate, 401);
}

}  // namespace trainscope::agent
