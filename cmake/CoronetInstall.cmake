# Installs headers, the library and a CMake package so that another project can write
#   find_package(coronet CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE coronet::coronet)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(CORONET_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/coronet")

install(TARGETS coronet coronet_asio EXPORT coronetTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/coronet DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT coronetTargets NAMESPACE coronet:: DESTINATION ${CORONET_INSTALL_CMAKEDIR})

configure_package_config_file(cmake/coronetConfig.cmake.in
                              "${PROJECT_BINARY_DIR}/coronetConfig.cmake"
                              INSTALL_DESTINATION ${CORONET_INSTALL_CMAKEDIR})
write_basic_package_version_file("${PROJECT_BINARY_DIR}/coronetConfigVersion.cmake"
                                 COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/coronetConfig.cmake"
              "${PROJECT_BINARY_DIR}/coronetConfigVersion.cmake"
        DESTINATION ${CORONET_INSTALL_CMAKEDIR})
