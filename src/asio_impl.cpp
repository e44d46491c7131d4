// Asio's implementation, compiled once for the whole library (ASIO_SEPARATE_COMPILATION):
// every other translation unit that includes Asio only sees declarations.
#include <asio/impl/src.hpp>
