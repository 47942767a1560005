# Install rules: headers, the two static archives, the CMake package
# (nvme-coreConfig.cmake, nvme-coreConfigVersion.cmake, the exported
# targets nvme-core::core and nvme-core::nvmectl) and pkg-config files.
#
# pkg-config: one .pc per library, nvme-core.pc and nvmectl.pc, because
# they are two layers a kernel picks separately (a driver-only kernel links
# the core alone); nvmectl.pc says "Requires: nvme-core", so
# `pkg-config --libs nvmectl` lists -lnvmectl before -lnvme-core, the order
# static linking needs.
include(CMakePackageConfigHelpers)

set(NVME_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/nvme-core)

install(TARGETS nvme-core nvmectl-lib EXPORT nvme-coreTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES
          ${PROJECT_SOURCE_DIR}/libnvme-core/include/nvme/nvme.h
          ${PROJECT_SOURCE_DIR}/libnvme-core/include/nvme/nvme_osal.h
          ${PROJECT_SOURCE_DIR}/libnvme-core/include/nvme/nvme_spec.h
          ${PROJECT_SOURCE_DIR}/libnvme-core/include/nvme/nvme_fmt.h
          ${PROJECT_SOURCE_DIR}/libnvmectl/include/nvme/nvmectl.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nvme)
install(EXPORT nvme-coreTargets NAMESPACE nvme-core:: DESTINATION ${NVME_CMAKE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/nvme-coreConfig.cmake.in
  ${PROJECT_BINARY_DIR}/nvme-coreConfig.cmake INSTALL_DESTINATION ${NVME_CMAKE_DIR})
# 0.x: a minor version may change the API, so only the same minor matches.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/nvme-coreConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/nvme-coreConfig.cmake
              ${PROJECT_BINARY_DIR}/nvme-coreConfigVersion.cmake
        DESTINATION ${NVME_CMAKE_DIR})

# pkg-config: paths relative to ${prefix}, and ${prefix} relative to the
# .pc file itself (${pcfiledir}, which pkg-config and pkgconf define), so
# the files hold wherever the tree is installed: `cmake --install B
# --prefix P` (PORTING.md) puts it elsewhere than the CMAKE_INSTALL_PREFIX
# configured, and a relocated tree still works.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(NVME_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH NVME_PC_UP "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
  string(REGEX REPLACE "/$" "" NVME_PC_UP "${NVME_PC_UP}")
  set(NVME_PC_PREFIX "\${pcfiledir}/${NVME_PC_UP}")
endif()
# An absolute libdir or includedir (-DCMAKE_INSTALL_LIBDIR=/usr/lib64) is
# written as it is, not after ${prefix}.
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(NVME_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(NVME_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
foreach(pc nvme-core nvmectl)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
