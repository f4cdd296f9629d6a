// The handler of one upgraded /ws request (ws_session.cpp): it serves the client for as long as
// the connection lives, on its HTTP thread.
#pragma once

#include <Poco/Net/HTTPRequestHandler.h>

namespace trainscope::agent {

class WebSocketHub;

/// Takes one of the hub's client slots (reserved by WebSocketHub::make_handler) until destroyed.
Poco::Net::HTTPRequestHandler* new_websocket_session(WebSocketHub& hub);

}  // namespace trainscope::agent
