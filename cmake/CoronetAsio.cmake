# Standalone Asio (Debian's libasio-dev) ships no CMake package: wrap it here, once.
# coronet_asio carries the include path and the definitions every Asio user of coronet needs;
# coronet compiles Asio's implementation once (src/asio_impl.cpp, ASIO_SEPARATE_COMPILATION)
# instead of in every translation unit.
find_package(Threads REQUIRED)
find_path(CORONET_ASIO_INCLUDE_DIR asio.hpp REQUIRED DOC "Directory holding standalone Asio's asio.hpp")

add_library(coronet_asio INTERFACE)
add_library(coronet::asio ALIAS coronet_asio)
set_target_properties(coronet_asio PROPERTIES EXPORT_NAME asio)
target_include_directories(coronet_asio SYSTEM INTERFACE $<BUILD_INTERFACE:${CORONET_ASIO_INCLUDE_DIR}>)
target_compile_definitions(coronet_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED
                                                  ASIO_SEPARATE_COMPILATION)
# Asio picks aligned_alloc or operator new for its handler memory by whether a libstdc++ header
# came before its own (_GLIBCXX_HAVE_ALIGNED_ALLOC): translation units that include Asio first
# and those that do not would allocate with one and free with the other once inlined (-O2; ASan:
# alloc-dealloc-mismatch). One choice for every translation unit, the library's and the user's.
target_compile_definitions(coronet_asio INTERFACE ASIO_DISABLE_STD_ALIGNED_ALLOC)
target_link_libraries(coronet_asio INTERFACE Threads::Threads)
# Asio 1.22 does not detect clang's coroutine support with libstdc++ on its own.
target_compile_definitions(coronet_asio INTERFACE $<$<CXX_COMPILER_ID:Clang>:ASIO_HAS_CO_AWAIT=1>)

# Asio's io_uring backend for sockets and timers instead of epoll (Asio 1.22 makes io_uring the
# default when epoll is disabled). Off by default: docs/performance.md ("io_uring") has the
# measurements behind that choice. Every translation unit must agree, so it is a usage
# requirement of coronet_asio, not a private definition.
option(CORONET_IO_URING "Use Asio's io_uring backend instead of epoll (needs Debian's liburing-dev)" OFF)
if(CORONET_IO_URING)
  find_library(CORONET_URING_LIBRARY uring REQUIRED DOC "liburing (Debian's liburing-dev)")
  target_compile_definitions(coronet_asio INTERFACE ASIO_HAS_IO_URING ASIO_DISABLE_EPOLL)
  target_link_libraries(coronet_asio INTERFACE $<BUILD_INTERFACE:${CORONET_URING_LIBRARY}>
                                               $<INSTALL_INTERFACE:uring>)
endif()
