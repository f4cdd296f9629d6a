// The dashboard's files, served from the agent's own origin (no CDN: works air-gapped).
//   /                 -> <web>/static/dashboard.html
//   /static/<path>    -> <web>/static/<path>
//   /vendor/<file>    -> an allow-listed file from <web>/node_modules
//   / without token   -> <web>/static/sign_in.html, status 401
#include <Poco/File.h>
#include <Poco/Path.h>

#include <fstream>
#include <map>
#include <sstream>

#include "http_server.hpp"
#include "http_util.hpp"

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

void send_file(const std::string& path, Poco::Net::HTTPServerRequest& request,
               Poco::Net::HTTPServerResponse& response, int status = 200) {
    Poco::File file(path);
    if (!file.exists() || !file.isFile()) throw HttpError{404, "no such file"};
    std::ifstream in(path, std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    std::string data = body.str();
    response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    response.setContentType(content_type(path));
    response.set("Cache-Control", "no-cache");
    response.setContentLength(static_cast<std::streamsize>(data.size()));
    if (request.getMethod() == "HEAD") response.send();
    else response.send() << data;
}

}  // namespace

void handle_static(const AgentContext& ctx, const std::vector<std::string>& seg,
                   Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
    if (seg.empty()) return send_file(ctx.web_dir + "/static/dashboard.html", request, response);
    if (seg[0] == "vendor") {
        auto it = seg.size() == 2 ? vendor_files().find(seg[1]) : vendor_files().end();
        if (it == vendor_files().end()) throw HttpError{404, "no such vendor file"};
        return send_file(ctx.web_dir + "/" + it->second, request, response);
    }
    // split_path already refused "." and ".."; refuse hidden files and backslashes too.
    std::string path = ctx.web_dir + "/static";
    for (std::size_t i = 1; i < seg.size(); ++i) {
        if (seg[i].empty() || seg[i][0] == '.' || seg[i].find('\\') != std::string::npos ||
            seg[i].find('/') != std::string::npos)
            throw HttpError{400, "bad path segment"};
        path += "/" + seg[i];
    }
    send_file(path, request, response);
}

void handle_sign_in(const AgentContext& ctx, Poco::Net::HTTPServerRequest& request,
                    Poco::Net::HTTPServerResponse& response) {
    send_file(ctx.web_dir + "/static/sign_in.html", request, response, 401);
}

}  // namespace trainscope::agent
