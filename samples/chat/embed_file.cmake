# Writes a C++ header holding a file's bytes, so that a program carries the file in its binary
# (chat_server's chat page: no file to install next to it, nothing to download).
#   cmake -DINPUT=chat_page.html -DOUTPUT=chat_page.hpp -DNAME=chat_page_html -P embed_file.cmake
# The header declares `std::string_view NAME()`: the file's bytes, exactly.
file(READ "${INPUT}" content HEX)
string(LENGTH "${content}" digits)
math(EXPR size "${digits} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
# 16 bytes a line keeps the generated header readable in a diff or an editor.
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n    " bytes "${bytes}")
get_filename_component(source_name "${INPUT}" NAME)
file(WRITE "${OUTPUT}.tmp"
"// Generated from ${source_name} by embed_file.cmake at build time: do not edit.
#pragma once

#include <string_view>

namespace samples {

/// The bytes of ${source_name} (${size} bytes).
inline std::string_view ${NAME}() {
  static constexpr unsigned char bytes[] = {
    ${bytes}0x00};
  return {reinterpret_cast<const char*>(bytes), ${size}};
}

}  // namespace samples
")
# Rewrites the header only when it changed, so that an unchanged page rebuilds nothing.
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
