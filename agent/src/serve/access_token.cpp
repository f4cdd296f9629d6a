#include "serve/access_token.hpp"

#include <sys/random.h>

#include <Poco/Net/HTTPCookie.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <stdexcept>

namespace trainscope::agent {

namespace {

constexpr std::size_t kMaxTokenLength = 256;

bool url_safe(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

/// The value of ?token= in `uri`, if there is one.
std::optional<std::string> query_token(const std::string& uri) {
    if (uri.find("token=") == std::string::npos) return std::nullopt;
    try {
        for (auto& [key, value] : Poco::URI(uri).getQueryParameters())
            if (key == "token") return value;
    } catch (const Poco::SyntaxException&) {
    }
    return std::nullopt;
}

}  // namespace

std::string generate_token() {
    unsigned char bytes[24];
    std::size_t got = 0;
    while (got < sizeof bytes) {
        ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
        if (n < 0 && errno != EINTR) throw std::runtime_error("getrandom failed: cannot make an access token");
        if (n > 0) got += static_cast<std::size_t>(n);
    }
    static const char digits[] = "0123456789abcdef";
    std::string token;
    for (unsigned char b : bytes) {
        token += digits[b >> 4];
        token += digits[b & 15];
    }
    return token;
}

std::optional<std::string> token_problem(const std::string& token) {
    if (token.empty()) return "the token is empty";
    if (token.size() > kMaxTokenLength)
        return "the token is longer than " + std::to_string(kMaxTokenLength) + " characters";
    for (char c : token)
        if (!url_safe(c)) return "the token may hold only letters, digits, '-', '.', '_' and '~'";
    return std::nullopt;
}

bool AccessCheck::open_path(const std::string& path) {
    return path == "/healthz" || path.rfind("/static/", 0) == 0 || path.rfind("/dist/", 0) == 0 ||
           path.rfind("/vendor/", 0) == 0;
}

std::string AccessCheck::cookie_name(const Poco::Net::HTTPServerRequest& request) {
    return "trainscope-token-" + std::to_string(request.serverAddress().port());
}

bool AccessCheck::matches(const std::string& candidate) const {
    // Compares every byte whatever the first difference: the time taken tells nothing.
    if (candidate.size() != token_.size()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < token_.size(); ++i)
        diff |= static_cast<unsigned char>(candidate[i] ^ token_[i]);
    return diff == 0;
}

AccessCheck::Grant AccessCheck::check(const Poco::Net::HTTPServerRequest& request) const {
    const std::string& uri = request.getURI();
    if (token_.empty() || open_path(uri.substr(0, uri.find('?')))) return Grant::open;
    if (auto token = query_token(uri); token && matches(*token)) return Grant::query;
    const std::string& authorization = request.get("Authorization", "");
    if (Poco::icompare(authorization.substr(0, 7), "bearer ") == 0 &&
        matches(Poco::trim(authorization.substr(7))))
        return Grant::bearer;
    Poco::Net::NameValueCollection cookies;
    request.getCookies(cookies);
    auto cookie = cookies.find(cookie_name(request));
    if (cookie != cookies.end() && matches(cookie->second)) return Grant::cookie;
    return Grant::refused;
}

void AccessCheck::set_cookie(const Poco::Net::HTTPServerRequest& request,
                             Poco::Net::HTTPServerResponse& response) const {
    Poco::Net::HTTPCookie cookie(cookie_name(request), token_);
    cookie.setPath("/");
    cookie.setHttpOnly(true);
    cookie.setSameSite(Poco::Net::HTTPCookie::SAME_SITE_STRICT);
    response.addCookie(cookie);
}

}  // namespace trainscope::agent
