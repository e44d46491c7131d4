// Convenience header: the whole codec layer (concepts, built-in codecs, UTF-8 validation).
#pragma once

#include "coronet/codec/codec_concepts.hpp"
#include "coronet/codec/datagram_codec.hpp"
#include "coronet/codec/decode_result.hpp"
#include "coronet/codec/http_error.hpp"
#include "coronet/codec/http_message.hpp"
#include "coronet/codec/http_request_codec.hpp"
#include "coronet/codec/length_prefixed_codec.hpp"
#include "coronet/codec/line_codec.hpp"
#include "coronet/codec/resp_codec.hpp"
#include "coronet/codec/resp_error.hpp"
#include "coronet/codec/resp_value.hpp"
#include "coronet/codec/utf8.hpp"
#include "coronet/codec/websocket_codec.hpp"
#include "coronet/codec/websocket_frame.hpp"
#include "coronet/codec/websocket_handshake.hpp"
#include "coronet/error.hpp"
