# CPack's DEB generator, one package per install component (packaging/CMakeLists.txt). CPack
# rather than debhelper: the packages come from the same build and install rules as
# `cmake --install`, with no second build and no debian/ tree to keep in step with CMake;
# dpkg-shlibdeps still computes the shared-library dependencies.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME dune)
set(CPACK_PACKAGE_VENDOR "Dune on KVM")
set(CPACK_PACKAGE_CONTACT "Dune on KVM maintainers <maintainers@users.noreply.b-seed-78349f43.example>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL libdune dev tools dkms)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# dunestat links libdune.so.0 of the libdune package built here: dpkg-shlibdeps finds it in the
# build tree (the dependency on libdune itself is explicit below).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_BINARY_DIR}/libdune)
# Debug information stays in the build tree.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/project-dune/dune")
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)

set(CPACK_DEBIAN_LIBDUNE_PACKAGE_NAME libdune)
set(CPACK_DEBIAN_LIBDUNE_PACKAGE_SECTION libs)
# The library's shlibs file: packages built against it depend on libdune (>= this version).
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
# ldconfig through dpkg's trigger, as Debian policy 8.1.1 asks.
set(CPACK_DEBIAN_LIBDUNE_PACKAGE_CONTROL_EXTRA ${CMAKE_CURRENT_SOURCE_DIR}/debian/libdune/triggers)
set(CPACK_COMPONENT_LIBDUNE_DESCRIPTION "Dune mode for Linux processes on KVM (runtime library)
libdune runs a Linux process inside a KVM virtual machine that shares
its address space, giving it safe access to privileged CPU features
(exception handlers, its own page tables, sandboxes) while its memory,
threads, signals and system calls behave as on Linux. The preload shim
libdune_preload.so puts an unmodified program in Dune mode at start-up.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libdune-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libdune (= ${PROJECT_VERSION})")
set(CPACK_COMPONENT_DEV_DESCRIPTION "Dune mode for Linux processes on KVM (development files)
Headers, the static library, the CMake package (find_package(dune))
and the pkg-config file (dune.pc), to build programs that enter Dune
mode themselves with dune_init_and_enter(); see libdune(3).")

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME dune-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION utils)
# dunetrace runs the program through the preload shim of the same version.
set(CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS "libdune (= ${PROJECT_VERSION})")
set(CPACK_COMPONENT_TOOLS_DESCRIPTION "Dune mode for Linux processes on KVM (dunetrace, dunestat)
dunetrace runs a program in Dune mode and logs its VM exits, system
calls, memory faults, bad stack pointers, signals and processes, with
symbolized backtraces. dunestat measures system call, fault, trap,
thread, fork and signal costs natively and in Dune mode, side by side.")

set(CPACK_DEBIAN_DKMS_PACKAGE_NAME dune-dkms)
set(CPACK_DEBIAN_DKMS_PACKAGE_SECTION kernel)
set(CPACK_DEBIAN_DKMS_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_DKMS_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_DKMS_PACKAGE_DEPENDS "dkms (>= 2.1.0.0)")
set(CPACK_COMPONENT_DKMS_DESCRIPTION "Dune kernel module (dune.ko) sources for dkms
The Dune VT-x kernel module, a second backend of libdune beside
/dev/kvm (/dev/dune). dkms builds it for every installed kernel whose
headers are present; the package never loads it (modprobe dune does).")
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/dkms/postinst.in ${CMAKE_CURRENT_BINARY_DIR}/dkms-scripts/postinst @ONLY
               FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/dkms/prerm.in ${CMAKE_CURRENT_BINARY_DIR}/dkms-scripts/prerm @ONLY
               FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(CPACK_DEBIAN_DKMS_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_BINARY_DIR}/dkms-scripts/postinst ${CMAKE_CURRENT_BINARY_DIR}/dkms-scripts/prerm)
set(CPACK_DEBIAN_DKMS_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
