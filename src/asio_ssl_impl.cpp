// Asio's TLS implementation (asio::ssl), compiled once like the rest of Asio (asio_impl.cpp):
// only when coronet is built with TLS, since it needs OpenSSL.
#include <asio/ssl/impl/src.hpp>
