# Every external dependency, found once. Targets link the imported targets named here, never a
# find result of their own:
#   OpenSSL::Crypto, Threads::Threads                  (util, trust, sign, fetch, activator, ...)
#   PkgConfig::LIBKMOD, PkgConfig::COMPRESSORS          the activator (libkmod; zstd, xz, zlib)
#   PkgConfig::LIBARCHIVE                              container, fetch
#   PkgConfig::LIBCURL                                 fetch
#   PkgConfig::LIBOSTREE                               container, publish
#   PkgConfig::LIBSQUASHFS                             image
#   yaml-cpp, nlohmann_json::nlohmann_json             manifest, plan; util (progress events), sign, fetch, publish, ignition, cli
#   CLI11::CLI11, fmt::fmt                             cli
#   doctest::doctest                                   tests (with KSX_BUILD_TESTS)
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 REQUIRED)
find_package(fmt REQUIRED)
pkg_check_modules(LIBKMOD REQUIRED IMPORTED_TARGET libkmod)
# What the activator's squashfs reader decompresses; libkmod links the first two already.
pkg_check_modules(COMPRESSORS REQUIRED IMPORTED_TARGET libzstd liblzma zlib)
pkg_check_modules(LIBARCHIVE REQUIRED IMPORTED_TARGET libarchive)
pkg_check_modules(LIBCURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(LIBOSTREE REQUIRED IMPORTED_TARGET ostree-1)
pkg_check_modules(LIBSQUASHFS REQUIRED IMPORTED_TARGET libsquashfs1)
if(KSX_BUILD_TESTS)
  find_package(doctest REQUIRED)
endif()
