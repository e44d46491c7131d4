// Convenience header: all of coronet (codecs, framed connections, stream servers and clients,
// UDP and Unix datagram endpoints and servers).
#pragma once

#include "coronet/codec.hpp"
#include "coronet/endpoint/address.hpp"
#include "coronet/endpoint/callback_handler.hpp"
#include "coronet/endpoint/client.hpp"
#include "coronet/endpoint/server.hpp"
#include "coronet/endpoint/server_options.hpp"
#include "coronet/endpoint/socket_options.hpp"
#include "coronet/endpoint/websocket_client.hpp"
#include "coronet/endpoint/websocket_transport.hpp"
#include "coronet/error.hpp"
#include "coronet/log.hpp"
#include "coronet/read_result.hpp"
#include "coronet/stream/connection_options.hpp"
#include "coronet/stream/encoded_message.hpp"
#include "coronet/stream/framed_connection.hpp"
#include "coronet/udp/datagram_client.hpp"
#include "coronet/udp/datagram_endpoint.hpp"
#include "coronet/udp/datagram_server.hpp"
